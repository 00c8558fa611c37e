"""Pre-grading audit of submissions: what an instructor should look at before ``nbgrader autograde``.

``audit(course, lesson)`` reads every ``submitted/<student>/<lesson>/`` folder and compares each notebook with the
release generated from ``solutions/<lesson>`` (never with a notebook students could edit). It never executes
student code: it reads the JSON and scans the code cells' syntax trees. It flags

* notebooks: missing, misnamed (``<id>-Copy1.ipynb``), malformed JSON, a changed kernel;
* graded cells: deleted, nbgrader metadata removed or changed, duplicated grade ids, locked cells edited;
* code (only cells the student wrote or changed): monkeypatching of modules or checking functions
  (``torch.allclose = ...``, ``np.testing...``, ``builtins``, ``sys.modules``), rebinding the lesson's imports,
  IPython shell access (``get_ipython().input_transformers_...``), ``exec``/``eval``/``compile``, killing the kernel
  (``os._exit``, ``os.kill``), processes, sockets, ``ctypes``, shell escapes and magics, and file access outside the
  notebook folder (absolute or ``..`` paths, ``gradebook``, ``solutions``, ``submitted``...);
* copies: an import or alias of a graded name from tlkit (``from tlkit.preprocessing import to_batch``,
  ``P.to_batch``), a graded function whose syntax tree equals tlkit's reference (names, docstrings and comments
  aside), and pairs of students whose graded cells are identical or near-identical after the same normalisation
  (:data:`SIMILAR`); functions of fewer than :data:`MIN_NODES` syntax nodes are too short to tell a copy from the
  obvious answer and are not compared. A reference solution (the instructor's own copy) is flagged as a copy of the
  reference: that is correct.

The CLI is ``tlkit audit <id>`` (tlkit.course.cli).
"""
from __future__ import annotations

import ast
import builtins
import difflib
import importlib
import inspect
import json
import pkgutil
import re
import tempfile
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat

from . import grading
from .grading import BadInput
from .paths import SOLUTIONS

# Names whose attributes student code must not assign (on top of every module the notebook imports).
GUARDED_ROOTS = {"builtins", "__builtins__", "sys", "os", "torch", "np", "numpy", "math", "unittest", "pytest",
                 "nbgrader", "IPython", "importlib", "warnings", "inspect", "gc"}
# Attribute names that are checking functions wherever they live.
CHECKERS = re.compile(r"^(allclose|isclose|array_equal|equal|assert_\w*|testing|isinstance|issubclass|"
                      r"__eq__|__ne__|__bool__|__float__|__instancecheck__)$")
SHELL_ATTRS = {"input_transformers_cleanup", "input_transformers_post", "input_transformer_manager",
               "ast_transformers", "events", "run_cell", "run_code", "user_ns", "user_global_ns", "displayhook",
               "set_custom_exc", "showtraceback", "register_magic_function", "prefilter_manager"}
DANGEROUS_CALLS = {
    "exec": "exec of code", "eval": "eval of code", "compile": "compile of code", "__import__": "dynamic import",
    "os._exit": "kills the kernel", "os.abort": "kills the kernel", "os.kill": "signals a process",
    "os.killpg": "signals a process", "sys.exit": "exits the kernel", "os.system": "runs a shell command",
    "os.popen": "runs a shell command", "os.fork": "forks the kernel", "os.execv": "replaces the kernel",
    "os.execvp": "replaces the kernel", "sys.settrace": "traces the interpreter", "sys.setprofile":
    "profiles the interpreter", "sys.addaudithook": "hooks the interpreter", "importlib.import_module":
    "dynamic import", "importlib.reload": "reloads a module", "setattr": "setattr on a module",
    "delattr": "delattr on a module", "globals": "rewrites globals", "signal.signal": "installs a signal handler",
    "atexit.register": "registers an exit hook",
}
DANGEROUS_MODULES = {"subprocess", "socket", "ctypes", "multiprocessing", "signal", "sqlite3", "urllib", "http",
                     "requests", "shutil", "pty", "resource", "threading", "_thread", "gc", "atexit"}
FILE_CALLS = {"open", "Path", "os.open", "os.listdir", "os.scandir", "os.walk", "os.remove", "os.unlink",
              "os.rename", "os.chmod", "os.stat", "glob.glob", "glob.iglob", "io.open", "np.load", "numpy.load",
              "torch.load", "torch.save", "np.save", "pathlib.Path", "os.chdir", "os.makedirs", "os.mkdir"}
SECRET_WORDS = re.compile(r"gradebook|solutions|submitted|autograded|nbgrader_config|exchange|feedback|\.db\b",
                          re.I)
# copies (see the module docstring): a graded function is compared only from this many syntax nodes, and two
# students' graded cells count as shared at this similarity (difflib ratio of their normalised token streams)
MIN_NODES = 40
SIMILAR = 0.9
SAFE_MAGICS = {"matplotlib", "time", "timeit", "%time", "%timeit", "config", "load_ext", "autoreload"}


@dataclass(frozen=True)
class Finding:
    """One thing to review in a student's submission."""
    student: str
    kind: str      # notebook | cell | kernel | code | file
    where: str     # file name or "cell 12 (grade_id)"
    what: str

    def row(self) -> str:
        return f"  {self.kind:<9} {self.where:<34} {self.what}"


def _dotted(node: ast.AST) -> str:
    """'torch.testing.assert_close' for an Attribute/Name chain; '' for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call) and _dotted(node.func) == "get_ipython":
        parts.append("get_ipython()")
    else:
        return ""
    return ".".join(reversed(parts))


def _root(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and _dotted(node.func) == "get_ipython":
        return "get_ipython()"
    return ""


def _strip_magics(source: str) -> tuple[str, list[str]]:
    """Code without IPython magics / shell escapes (lines kept as ``pass``) and the ones that need review."""
    lines, flagged = [], []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("!", "%")) or re.match(r"^\w+\s*=\s*[!%]", stripped):
            word = re.sub(r"^\w+\s*=\s*", "", stripped)
            name = word.lstrip("%!").split()[0] if word.lstrip("%!").split() else ""
            if word.startswith("!") or name.lstrip("%") not in SAFE_MAGICS:
                flagged.append(stripped[:60])
            lines.append(line[:len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return "\n".join(lines), flagged


def imported_names(sources) -> set[str]:
    """Names bound by import statements in these code sources."""
    names = set()
    for src in sources:
        try:
            tree = ast.parse(_strip_magics(src)[0])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add((alias.asname or alias.name).split(".")[0])
    return names


def scan_code(source: str, protected: set[str]) -> list[str]:
    """What in one code cell needs review (never runs it). ``protected``: names the lesson's own cells import."""
    code, magics = _strip_magics(source)
    found = [f"IPython magic / shell escape: {m}" for m in magics]
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return found  # a syntax error fails at grading like any wrong answer; nothing of it can run
    scanner = _Scanner(protected, protected | imported_names([code]) | GUARDED_ROOTS)
    scanner.visit(tree)
    found += scanner.found
    return sorted(set(found), key=found.index)


class _Scanner(ast.NodeVisitor):
    """Walks one cell's syntax tree and collects what needs review in ``found``: assignments to checking
    functions or the lesson's imports, dangerous imports and calls, file access outside the notebook folder."""

    def __init__(self, protected: set[str], modules: set[str]):
        self.protected, self.modules = protected, modules
        self.found: list[str] = []
        self.path_args: set[int] = set()  # string arguments already reported with their file call

    def _targets(self, target):
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                yield from self._targets(t)
        elif isinstance(target, ast.Starred):
            yield from self._targets(target.value)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            root, name = _root(target), _dotted(target) or _dotted(getattr(target, "value", None)) or _root(target)
            attr = target.attr if isinstance(target, ast.Attribute) else ""
            if root in self.modules or root == "get_ipython()":
                yield f"monkeypatch: assigns {name or root}"
            elif CHECKERS.match(attr) or attr in SHELL_ATTRS:
                yield f"monkeypatch: assigns {name or attr}"
        elif isinstance(target, ast.Name) and target.id in self.protected:
            yield f"rebinds the lesson's import {target.id!r}"

    def visit_Assign(self, node):
        for t in node.targets:
            self.found.extend(self._targets(t))
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self.found.extend(self._targets(node.target))
        self.generic_visit(node)

    visit_AnnAssign = visit_AugAssign

    def visit_Delete(self, node):
        for t in node.targets:
            self.found.extend(f.replace("assigns", "deletes") for f in self._targets(t))
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in self.protected:
            self.found.append(f"rebinds the lesson's import {node.name!r}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Import(self, node):
        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for mod in mods:
            if mod.split(".")[0] in DANGEROUS_MODULES:
                self.found.append(f"imports {mod}")
        for alias in node.names:
            bound = (alias.asname or alias.name).split(".")[0]
            if bound in self.protected and bound != (alias.name.split(".")[0] if isinstance(node, ast.Import)
                                                     else alias.name):
                self.found.append(f"rebinds the lesson's import {bound!r}")
        self.generic_visit(node)

    visit_ImportFrom = visit_Import

    def visit_Call(self, node):
        name = _dotted(node.func)
        if name in DANGEROUS_CALLS:
            if name in ("setattr", "delattr"):
                if node.args and _root(node.args[0]) in self.modules:
                    self.found.append(f"monkeypatch: {name}({_dotted(node.args[0]) or _root(node.args[0])}, ...)")
            else:
                self.found.append(f"{name}(): {DANGEROUS_CALLS[name]}")
        if name in FILE_CALLS or name.endswith((".open", ".read_text", ".read_bytes", ".write_text")):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    path = arg.value
                    if path.startswith(("/", "~")) or ".." in Path(path).parts or SECRET_WORDS.search(path):
                        self.found.append(f"file access outside the notebook folder: {name}({path!r})")
                        self.path_args.add(id(arg))
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in ("get_ipython", "__builtins__"):
            self.found.append(f"uses {node.id}")

    def visit_Attribute(self, node):
        if node.attr in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            self.found.append(f"IPython input transformers: .{node.attr}")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and id(node) not in self.path_args and (
                re.search(r"(^|/)\.\.(/|$)", node.value) or re.search(r"gradebook|solutions/|submitted/|\.db\b",
                                                                     node.value)):
            self.found.append(f"file path outside the notebook folder: {node.value[:50]!r}")


def canonical(node: ast.AST, rename: bool = True) -> str:
    """A definition as ``ast.dump`` without docstrings and annotations; ``rename``: every local name (arguments,
    variables, the function's own name) replaced by its order of first appearance, so renaming changes nothing.
    Attributes (``x.requires_grad_``), builtins and globals the code reads but never binds keep their names."""
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
    if rename:
        bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound |= {n.arg for n in ast.walk(node) if isinstance(n, ast.arg)}
        bound |= {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                    ast.ClassDef))}
        bound -= set(dir(builtins))
        order: dict[str, str] = {}

        def new(name):
            return order.setdefault(name, f"v{len(order)}") if name in bound else name

        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                sub.id = new(sub.id)
            elif isinstance(sub, ast.arg):
                sub.arg = new(sub.arg)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                sub.name = new(sub.name)
    return ast.dump(node, annotate_fields=False)


@lru_cache(maxsize=None)
def tlkit_references() -> dict[str, object]:
    """Every function and class defined in a tlkit module (library, lesson runtime, course tools), by name."""
    import tlkit

    found = {}
    for info in pkgutil.walk_packages(tlkit.__path__, "tlkit."):
        if info.name.rsplit(".", 1)[-1] in ("__main__", "cli"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
                found.setdefault(name, obj)
    return found


def graded_names(release) -> set[str]:
    """Names the release's solution cells define (the graded functions and their helpers)."""
    names = set()
    for cell in release.cells:
        if cell.cell_type == "code" and grading.nbgrader_meta(cell).get("solution"):
            try:
                names |= {n.name for n in ast.parse(_strip_magics(cell.source)[0]).body
                          if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            except SyntaxError:
                continue
    return names


def _definitions(source: str) -> dict[str, ast.AST]:
    try:
        return {n.name: n for n in ast.parse(_strip_magics(source)[0]).body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    except SyntaxError:
        return {}


def _big_enough(node: ast.AST) -> bool:
    return sum(1 for _ in ast.walk(node)) >= MIN_NODES


def copied_from_tlkit(source: str, graded: set[str]) -> list[str]:
    """What in one student-written cell comes from tlkit: imports or aliases of graded names, and graded functions
    whose syntax tree is tlkit's reference."""
    found = []
    try:
        tree = ast.parse(_strip_magics(source)[0])
    except SyntaxError:
        return found
    tlkit_aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tlkit":
            for alias in node.names:
                if alias.name in graded:
                    found.append(f"copy: imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            tlkit_aliases |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] == "tlkit"}
    tlkit_aliases |= {"tlkit"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in graded and _root(node) in tlkit_aliases:
            found.append(f"copy: uses tlkit's {node.attr} ({_dotted(node) or node.attr})")
    for name, node in _definitions(source).items():
        if name in graded and _big_enough(node):
            reference = _reference_form(name)
            if reference is not None and canonical(node) == reference[1]:
                found.append(f"copy: {name} is tlkit's reference {reference[0]}.{name} (pasted)")
    return found


@lru_cache(maxsize=None)
def _reference_form(name: str) -> tuple[str, str] | None:
    """(module, :func:`canonical` form) of tlkit's reference ``name``, once per audit process; None if tlkit has none."""
    ref = tlkit_references().get(name)
    if ref is None:
        return None
    return ref.__module__, canonical(ast.parse(textwrap.dedent(inspect.getsource(ref))).body[0])


def graded_answers(nb, graded: set[str]) -> dict[str, str]:
    """{grade_id: normalised definitions} of a submission's answered solution cells (those big enough to compare)."""
    out = {}
    for cell in nb.cells:
        gid = grading.nbgrader_meta(cell).get("grade_id")
        if cell.cell_type != "code" or not grading.nbgrader_meta(cell).get("solution") or gid is None:
            continue
        defs = [n for n in _definitions(cell.source).values() if _big_enough(n)]
        if defs and "NotImplementedError" not in cell.source:
            out[gid] = " ".join(canonical(n) for n in defs)
    return out


def shared_cells(answers: dict[str, dict[str, str]]) -> list[Finding]:
    """Pairs of students whose answer to the same exercise is identical or near-identical after normalisation
    (difflib ratio >= :data:`SIMILAR` of the normalised token streams): a finding for each of the two."""
    out = []
    students = sorted(answers)
    tokens = {s: {g: re.findall(r"\w+|[^\w\s]", a) for g, a in answers[s].items()} for s in students}
    for i, a in enumerate(students):
        for b in students[i + 1:]:
            for gid in sorted(set(tokens[a]) & set(tokens[b])):
                ratio = difflib.SequenceMatcher(None, tokens[a][gid], tokens[b][gid], autojunk=False).ratio()
                if ratio >= SIMILAR:
                    what = "identical" if ratio == 1 else f"{ratio:.0%} similar"
                    out.append(Finding(a, "copy", gid, f"shared with {b}: {what} after normalisation"))
                    out.append(Finding(b, "copy", gid, f"shared with {a}: {what} after normalisation"))
    return out


def _cell_label(index: int, cell) -> str:
    gid = grading.nbgrader_meta(cell).get("grade_id")
    return f"cell {index}" + (f" ({gid})" if gid else "")


def audit_notebook(student: str, nb, release) -> list[Finding]:
    """Findings for one parsed submission against the release notebook."""
    out = []

    def flag(kind, where, what):
        out.append(Finding(student, kind, where, what))

    want_kernel = release.metadata.get("kernelspec", {}).get("name")
    got_kernel = nb.metadata.get("kernelspec", {}).get("name")
    if want_kernel and got_kernel != want_kernel:
        flag("kernel", "metadata.kernelspec", f"kernel changed: {got_kernel!r} (release: {want_kernel!r})")

    graded = {grading.nbgrader_meta(c)["grade_id"]: c for c in release.cells if grading.nbgrader_meta(c).get(
        "grade_id") and any(grading.nbgrader_meta(c).get(k) for k in ("grade", "solution", "locked"))}
    by_id: dict[str, list[int]] = {}
    for i, cell in enumerate(nb.cells):
        gid = grading.nbgrader_meta(cell).get("grade_id")
        if gid is not None:
            by_id.setdefault(gid, []).append(i)
    for gid, cell in graded.items():
        meta = grading.nbgrader_meta(cell)
        where = by_id.get(gid, [])
        if not where:
            same = [i for i, c in enumerate(nb.cells) if c.source.strip() == cell.source.strip()]
            if same and cell.source.strip():
                flag("cell", _cell_label(same[0], nb.cells[same[0]]), f"nbgrader metadata removed from {gid!r}")
            else:
                flag("cell", gid, f"graded cell {gid!r} deleted")
            continue
        if len(where) > 1:
            flag("cell", gid, f"grade_id {gid!r} duplicated (cells {', '.join(map(str, where))})")
        sub = nb.cells[where[0]]
        smeta = grading.nbgrader_meta(sub)
        changed = [k for k in ("grade", "solution", "locked", "points", "schema_version", "task")
                   if smeta.get(k) != meta.get(k)]
        if changed:
            flag("cell", _cell_label(where[0], sub), "nbgrader metadata changed: " + ", ".join(
                f"{k} {meta.get(k)!r} -> {smeta.get(k)!r}" for k in changed))
        if sub.cell_type != cell.cell_type:
            flag("cell", _cell_label(where[0], sub), f"cell type changed: {cell.cell_type} -> {sub.cell_type}")
        if meta.get("locked") and sub.source.strip() != cell.source.strip():
            flag("cell", _cell_label(where[0], sub), "locked cell edited")

    for gid, where in by_id.items():
        if gid not in graded and gid not in {grading.nbgrader_meta(c).get("grade_id") for c in release.cells}:
            flag("cell", _cell_label(where[0], nb.cells[where[0]]), f"unknown graded cell {gid!r} added")

    release_code = [c.source for c in release.cells if c.cell_type == "code"]
    known = {s.strip() for s in release_code}
    protected = imported_names(release_code)
    graded_here = graded_names(release)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source.strip() in known:
            continue
        for what in scan_code(cell.source, protected):
            flag("file" if "file" in what else "code", _cell_label(i, cell), what)
        for what in copied_from_tlkit(cell.source, graded_here):
            flag("copy", _cell_label(i, cell), what)
    return out


def release_notebook(lesson: str, source: Path = SOLUTIONS) -> nbformat.NotebookNode:
    """The release of ``lesson`` generated now from ``source`` (nbgrader generate_assignment in a temp course)."""
    if not (Path(source) / lesson / f"{lesson}.ipynb").is_file():
        raise BadInput(f"no source notebook {Path(source) / lesson / (lesson + '.ipynb')}")
    with tempfile.TemporaryDirectory(prefix="tlkit-audit-") as tmp:
        folder = grading.generate(grading.new_course(Path(tmp), lesson, source), lesson)
        return nbformat.read(folder / f"{lesson}.ipynb", 4)


def audit(course: Path, lesson: str, release=None, students=None) -> dict[str, list[Finding]]:
    """{student: findings} for every ``course/submitted/<student>/<lesson>/`` ([] = clean)."""
    course = Path(course)
    submitted = course / "submitted"
    if not submitted.is_dir():
        raise BadInput(f"{submitted} does not exist")
    if release is None:
        release = release_notebook(lesson, course / "solutions")
    elif not isinstance(release, nbformat.NotebookNode):
        release = nbformat.read(release, 4)
    result, answers, graded = {}, {}, graded_names(release)
    for folder in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        student = folder.name
        if students and student not in students:
            continue
        findings = result.setdefault(student, [])
        lesson_dir = folder / lesson
        expected = lesson_dir / f"{lesson}.ipynb"
        if not lesson_dir.is_dir():
            del result[student]  # this student submitted other lessons only
            continue
        others = sorted(p.name for p in lesson_dir.glob("*.ipynb") if p != expected)
        if not expected.is_file():
            hint = f"; found {', '.join(others)}: rename to {expected.name} or resubmit" if others else \
                "; resubmit"
            findings.append(Finding(student, "notebook", expected.name, "notebook missing" + hint))
            continue
        for name in others:
            findings.append(Finding(student, "notebook", name, "extra notebook, not graded"))
        try:
            raw = json.loads(expected.read_text(encoding="utf-8"))
            nb = nbformat.from_dict(raw)
            nbformat.validate(nb)
            nb = nbformat.reads(json.dumps(raw), 4)
        except Exception as err:  # JSONDecodeError, UnicodeDecodeError, ValidationError...
            findings.append(Finding(student, "notebook", expected.name,
                                    f"malformed notebook ({type(err).__name__}: {str(err)[:80]}): resubmit"))
            continue
        findings.extend(audit_notebook(student, nb, release))
        answers[student] = graded_answers(nb, graded)
    for finding in shared_cells(answers):
        result[finding.student].append(finding)
    return result


def format_flags(result: dict[str, list[Finding]], lesson: str) -> str:
    """A table per student; clean students on one line."""
    lines = [f"tlkit audit {lesson}: {len(result)} submission(s), "
             f"{sum(1 for f in result.values() if f)} to review before grading"]
    for student, findings in result.items():
        if not findings:
            lines.append(f"\n{student}: clean")
            continue
        lines.append(f"\n{student}: {len(findings)} finding(s) -> manual review")
        lines.append(f"  {'kind':<9} {'where':<34} what")
        lines.extend(f.row() for f in findings)
    return "\n".join(lines)
