"""One reference implementation per graded function: every solution cell's function (and any helper it defines)
is the tlkit function of the same name, statement for statement (docstrings and annotations aside). With the
autograde round trip (the solutions earn full marks on the hidden tests) this means the hidden tests pass on tlkit's
reference, and solution cells and library cannot drift apart silently."""
import ast
import importlib
import inspect
import pkgutil
import textwrap
from pathlib import Path

import nbformat
import pytest

import tlkit

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
LESSONS = sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.parent.name == p.stem)


def _library() -> dict[str, object]:
    """Every function and class defined in a tlkit module, subpackages included, by name."""
    found = {}
    for info in pkgutil.walk_packages(tlkit.__path__, "tlkit."):
        if info.name.rsplit(".", 1)[-1] in ("__main__", "cli"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
                found.setdefault(name, obj)
    return found


def _normalised(node: ast.AST) -> str:
    """The definition without docstrings and annotations."""
    node = ast.parse(ast.unparse(node)).body[0]  # a fresh copy
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = sub.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                sub.body = body[1:] or [ast.Pass()]
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sub.returns = None
            for a in [*sub.args.posonlyargs, *sub.args.args, *sub.args.kwonlyargs, sub.args.vararg, sub.args.kwarg]:
                if a is not None:
                    a.annotation = None
        if isinstance(sub, ast.AnnAssign) and sub.simple:
            sub.annotation = ast.Name("_", ast.Load())
    return ast.dump(node)


def _graded_definitions(lesson):
    for cell in nbformat.read(SOLUTIONS / lesson / f"{lesson}.ipynb", 4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    yield meta["grade_id"], node


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_cells_are_the_tlkit_reference(lesson):
    library = _library()
    problems = []
    for grade_id, node in _graded_definitions(lesson):
        ref = library.get(node.name)
        if ref is None:
            problems.append(f"{grade_id}: no tlkit reference named {node.name!r}")
            continue
        theirs = ast.parse(textwrap.dedent(inspect.getsource(ref))).body[0]
        if _normalised(node) != _normalised(theirs):
            problems.append(f"{grade_id}: solution's {node.name} differs from {ref.__module__}.{node.name}")
    assert not problems, "\n".join(problems)
