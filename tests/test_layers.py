"""The three layers (README "How the code is organised"): the library imports neither the lesson runtime nor the
course tools, no library module imports nbgrader or nbformat, the lesson runtime never imports the course tools,
and the one ``tlkit`` command lists every subcommand."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tlkit"
LIBRARY = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__main__.py")  # __main__ is `python -m tlkit` = the CLI
LESSON = sorted((PACKAGE / "lesson").rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
    return found


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_library_imports_no_upper_layer(path):
    bad = {m for m in _imports(path) if m.split(".")[:2] in (["tlkit", "lesson"], ["tlkit", "course"])
           or m.split(".")[0] in ("nbgrader", "nbformat", "nbclient", "nbconvert")}
    assert not bad, f"{path.name} (library) imports {sorted(bad)}"


@pytest.mark.parametrize("path", LESSON, ids=lambda p: p.name)
def test_lesson_runtime_imports_no_course_tool(path):
    bad = {m for m in _imports(path) if m.split(".")[:2] == ["tlkit", "course"] or m.split(".")[0] == "nbgrader"}
    assert not bad, f"tlkit/lesson/{path.name} imports {sorted(bad)}"


def test_one_command_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "tlkit", "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("check", "audit", "interview", "record", "reproduce", "bench"):
        assert f"    {name}" in out, f"tlkit --help does not list {name}:\n{out}"
    assert "torch" not in subprocess.run(
        [sys.executable, "-c", "import sys, tlkit.course.cli; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split(), "the CLI should load torch only when needed"
