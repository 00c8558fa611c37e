"""Wrong versions of the graded functions must lose points.

``tests/mutants/<lesson>.py`` holds ``MUTANTS = {function: {what is wrong: mutant}}``: the plausible wrong versions a
student writes (a partial fix, a case the visible example hides, a wrong reduction, the bug left in one branch). A
mutant is the whole wrong definition (a string starting with ``def``/``class``), or edits of the reference solution
cell: one ``(old, new)`` pair or a list of them (each ``old`` must occur in the reference).

How it grades, in one kernel per lesson: the solution notebook runs in the grade profile (what autograde runs); then
for each mutant, the wrong definition replaces the reference in the kernel and every test cell of that function
(visible and hidden: the cells whose grade_id starts with ``test_<function>``) is run again, each under a time limit;
the reference is restored after each mutant. nbgrader gives a test cell its points iff it runs without an error, so a
mutant loses points iff one of its test cells raises. Lessons 05-10 need at least 3 mutants per graded function.

``python tests/test_mutants.py <lesson>`` prints each mutant's outcome (for writing mutants and hidden tests).
"""
import json
import os
import runpy
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tlkit.course.grading import exercises, nbgrader_meta
from tlkit.course.paths import SOLUTIONS

MUTANTS = Path(__file__).parent / "mutants"
REQUIRED = ["05_input_size_augmentation", "06_model_choice_distillation", "07_multitask_selfsupervised",
            "08_production_pipeline", "09_bug_hunts", "10_what_makes_a_good_source"]
MIN_MUTANTS = 3
CELL_SECONDS = 120

DRIVER = """
import json as _json, signal as _signal
from IPython.core.inputtransformer2 import TransformerManager as _TM

def _timeout(signum, frame):
    raise TimeoutError("test cell ran past its time limit")

def _run(name, source):
    _signal.signal(_signal.SIGALRM, _timeout)
    _signal.alarm(_SECONDS)
    try:
        exec(compile(_TM().transform_cell(source), name, "exec"), globals())
        return None
    except BaseException as error:  # what a failing test cell shows: its error's first line
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0][:160] if str(error).strip() else ''}"
    finally:
        _signal.alarm(0)

_plan = _json.loads(_PLAN)
_outcome = {"reference": {}, "mutants": {}}
for _fn, _spec in _plan.items():
    _outcome["reference"][_fn] = {gid: _run(gid, src) for gid, src in _spec["tests"]}
    for _what, _source in _spec["mutants"].items():
        _defined = _run(f"mutant {_what}", _source)
        _fails = {gid: _defined or _run(gid, src) for gid, src in _spec["tests"]}
        _outcome["mutants"][f"{_fn}: {_what}"] = _fails
        _run("restore", _spec["reference"])
with open(_OUT, "w") as _f:
    _json.dump(_outcome, _f, indent=1)
"""


def mutant_source(reference: str, mutant) -> str:
    """The wrong definition: given whole, or the reference solution cell with (old, new) edits applied."""
    if isinstance(mutant, str):
        return textwrap.dedent(mutant).strip() + "\n"
    edits = [mutant] if isinstance(mutant[0], str) else mutant
    source = reference
    for old, new in edits:
        assert old in source, f"mutant edit {old!r} does not occur in the reference solution"
        source = source.replace(old, new)
    assert source != reference, "a mutant must change the reference"
    return source


def load(lesson: str) -> dict:
    return runpy.run_path(str(MUTANTS / f"{lesson}.py"))["MUTANTS"]


def cells_by_function(source: Path) -> dict[str, list[tuple[str, str]]]:
    """{graded function: [(test grade_id, source)]}; a test cell belongs to the longest function name it starts with."""
    functions = sorted(exercises(source), key=len, reverse=True)
    tests = {f: [] for f in exercises(source)}
    for cell in nbformat.read(source, 4).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and cell.cell_type == "code":
            owner = next(f for f in functions if meta["grade_id"].startswith(f"test_{f}"))
            tests[owner].append((meta["grade_id"], cell.source))
    return tests


def run_mutants(lesson: str, workdir: Path) -> dict:
    """Execute the lesson in the grade profile with every mutant of tests/mutants/<lesson>.py; the outcome:
    {"reference": {fn: {test: error or None}}, "mutants": {"fn: what": {test: error or None}}}."""
    source = SOLUTIONS / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(source, 4)
    references = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
                  if nbgrader_meta(c).get("solution") and c.cell_type == "code"}
    tests = cells_by_function(source)
    plan = {fn: {"tests": tests[fn], "reference": references[fn],
                 "mutants": {what: mutant_source(references[fn], m) for what, m in wrong.items()}}
            for fn, wrong in load(lesson).items()}
    unknown = set(plan) - set(references)
    assert not unknown, f"mutants of functions the lesson does not grade: {unknown}"
    folder = workdir / lesson
    shutil.copytree(SOLUTIONS / lesson, folder, ignore=shutil.ignore_patterns(".*"))
    out = workdir / f"{lesson}.mutants.json"
    nb.cells.append(nbformat.v4.new_code_cell(
        f"_PLAN = {json.dumps(json.dumps(plan))}\n_OUT = {str(out)!r}\n_SECONDS = {CELL_SECONDS}\n{DRIVER}"))
    env = {"TLKIT_PROFILE": "grade", "NBGRADER_EXECUTION": "autograde"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return json.loads(out.read_text())


def survivors(outcome: dict) -> list[str]:
    return [name for name, fails in outcome["mutants"].items() if not any(fails.values())]


@pytest.mark.parametrize("lesson", REQUIRED)
def test_enough_mutants(lesson):
    """Lessons 05-10: at least 3 wrong versions of every graded function."""
    assert (MUTANTS / f"{lesson}.py").exists(), f"tests/mutants/{lesson}.py is missing"
    wrong = load(lesson)
    short = {f: len(wrong.get(f, {})) for f in exercises(SOLUTIONS / lesson / f"{lesson}.ipynb")
             if len(wrong.get(f, {})) < MIN_MUTANTS}
    assert not short, f"fewer than {MIN_MUTANTS} mutants: {short}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", sorted(p.stem for p in MUTANTS.glob("*.py")))
def test_every_mutant_loses_points(lesson, tmp_path):
    outcome = run_mutants(lesson, tmp_path)
    failing = {fn: {t: e for t, e in cells.items() if e} for fn, cells in outcome["reference"].items()}
    assert not any(failing.values()), f"the reference fails its own tests here: {failing}"
    alive = survivors(outcome)
    assert not alive, f"{len(alive)} wrong versions pass every test of their function: {alive}"


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = run_mutants(sys.argv[1], Path(tmp))
    for fn, cells in result["reference"].items():
        print(f"reference {fn}: " + ("passes" if not any(cells.values()) else f"FAILS {cells}"))
    for name, cells in result["mutants"].items():
        caught = {t: e for t, e in cells.items() if e}
        print(("caught   " if caught else "SURVIVES ") + name + (f"  <- {next(iter(caught.values()))}" if caught else ""))
