"""tlkit audit: what it flags in code and notebooks (never running them), its CLI and exit codes, no false alarms."""
import subprocess
import sys

import nbformat
import pytest

from tlkit.course import audit, grading
from tlkit.course.grading import LESSON_IDS
from tlkit.course.paths import FIXTURES, LESSONS, SOLUTIONS

PROTECTED = {"torch", "np", "Image"}


@pytest.mark.parametrize("code, expected", [
    ("torch.allclose = lambda *a, **k: True", "monkeypatch: assigns torch.allclose"),
    ("np.testing.assert_allclose = print", "monkeypatch: assigns np.testing.assert_allclose"),
    ("import numpy\nnumpy.isclose = f", "monkeypatch: assigns numpy.isclose"),
    ("import builtins\nbuiltins.isinstance = f", "monkeypatch: assigns builtins.isinstance"),
    ("import sys\nsys.modules['torch'] = fake", "monkeypatch: assigns sys.modules"),
    ("setattr(torch, 'allclose', f)", "monkeypatch: setattr(torch, ...)"),
    ("torch = FakeTorch()", "rebinds the lesson's import 'torch'"),
    ("import fake as np", "rebinds the lesson's import 'np'"),
    ("get_ipython().input_transformers_post.append(f)", "IPython input transformers: .input_transformers_post"),
    ("ip = get_ipython()\nip.input_transformers_cleanup.clear()", "uses get_ipython"),
    ("exec('x = 1')", "exec(): exec of code"),
    ("eval(s)", "eval(): eval of code"),
    ("def f():\n    import os\n    os._exit(0)", "os._exit(): kills the kernel"),
    ("import os\nos.kill(os.getpid(), 9)", "os.kill(): signals a process"),
    ("import subprocess", "imports subprocess"),
    ("open('../../../solutions/01/01.ipynb').read()", "file access outside the notebook folder"),
    ("from pathlib import Path\nPath('/srv/course/x.txt').read_text()", "file access outside the notebook folder"),
    ("db = 'gradebook.db'", "file path outside the notebook folder"),
    ("!cat ../../gradebook.db", "IPython magic / shell escape: !cat ../../gradebook.db"),
    ("%%bash\nls", "IPython magic / shell escape: %%bash"),
])
def test_scan_code_flags(code, expected):
    found = audit.scan_code(code, PROTECTED)
    assert any(expected in f for f in found), found


@pytest.mark.parametrize("code", [
    "def to_batch(images):\n    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)\n    return x.float() / 255",
    "model.fc = torch.nn.Linear(3, 2)\nfor p in model.parameters():\n    p.requires_grad = False",
    "x.data[0] = 1\nresults['a'] = 2\nself_grad = None",
    "with open('notes.txt', 'w') as f:\n    f.write('ok')",
    "%matplotlib inline\nimport math\nprint(math.pi)",
    "def broken(:\n    pass",  # a syntax error fails at grading like any wrong answer
])
def test_scan_code_ordinary_solutions_are_clean(code):
    assert audit.scan_code(code, PROTECTED) == []


@pytest.mark.parametrize("lesson", LESSON_IDS)
def test_reference_solutions_are_clean(lesson):
    """No false alarms: every lesson's reference solutions, filled into its release, pass the audit, except that they
    are (correctly) tlkit's reference pasted."""
    release = nbformat.read(LESSONS / lesson / f"{lesson}.ipynb", 4)
    nb = grading.fill_in(LESSONS / lesson / f"{lesson}.ipynb", SOLUTIONS / lesson / f"{lesson}.ipynb")
    findings = audit.audit_notebook("ref", nb, release)
    assert all(f.kind == "copy" and f.what.endswith("(pasted)") for f in findings), findings


def _release():
    return nbformat.read(FIXTURES / "release" / "tiny" / "tiny.ipynb", 4)


def _whats(nb):
    return [f.what for f in audit.audit_notebook("s", nb, _release())]


def test_audit_notebook_cell_cases():
    nb = _release()
    assert _whats(nb) == []
    nb.metadata.kernelspec.name = "evil"
    assert any("kernel changed" in w for w in _whats(nb))

    nb = _release()
    i = next(i for i, c in enumerate(nb.cells) if grading.nbgrader_meta(c).get("grade_id") == "test_add")
    nb.cells[i].source = "pass"
    assert any("locked cell edited" in w for w in _whats(nb))
    nb.cells[i].metadata.nbgrader["points"] = 100
    assert any("points 1 -> 100" in w for w in _whats(nb))

    nb = _release()
    del nb.cells[i].metadata["nbgrader"]
    assert _whats(nb) == ["nbgrader metadata removed from 'test_add'"]
    del nb.cells[i]
    assert _whats(nb) == ["graded cell 'test_add' deleted"]

    nb = _release()
    nb.cells.insert(i, nbformat.from_dict(dict(nb.cells[i], id="copy")))
    assert any("'test_add' duplicated" in w for w in _whats(nb))

    nb = _release()
    fake = nbformat.v4.new_code_cell("x = 1")
    fake.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50, "locked": False,
                                 "solution": False, "schema_version": 3}
    nb.cells.append(fake)
    assert _whats(nb) == ["unknown graded cell 'bonus' added"]


@pytest.fixture
def tiny_course(tmp_path):
    """A tiny-fixture course with a clean submission, a cheat, a malformed and a misnamed notebook."""
    course = grading.new_course(tmp_path, "tiny", FIXTURES)
    release = FIXTURES / "release" / "tiny" / "tiny.ipynb"
    solved = grading.fill_in(release, FIXTURES / "tiny" / "tiny.ipynb")
    grading.submit(course, "tiny", "alice", solved)
    cheat = grading.fill_in(release, FIXTURES / "tiny" / "tiny.ipynb")
    cheat.cells[3].source += "\nimport math\nmath.fsum = sum"
    grading.submit(course, "tiny", "mallory", cheat)
    grading.submit(course, "tiny", "broken", '{"cells": [')
    grading.submit(course, "tiny", "copy", nbformat.writes(solved), name="tiny-Copy1")
    return course


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tlkit", *args], capture_output=True, text=True, timeout=300,
                          env=grading.nbgrader_env())


@pytest.mark.slow
def test_cli_audit_exit_codes(tiny_course):
    release = str(FIXTURES / "release" / "tiny" / "tiny.ipynb")
    flagged = _cli("audit", "tiny", "--course", str(tiny_course), "--release", release)
    assert flagged.returncode == 1, flagged.stderr
    out = flagged.stdout
    assert "alice: clean" in out
    assert "mallory: 1 finding(s)" in out and "math.fsum" in out
    assert "malformed notebook" in out and "rename to tiny.ipynb" in out
    clean = _cli("audit", "tiny", "--course", str(tiny_course), "--student", "alice")  # release generated here
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert _cli("audit", "tiny", "--course", str(tiny_course / "nowhere")).returncode == 2
    assert _cli("audit", "no_such_lesson", "--course", str(tiny_course)).returncode == 2
    assert _cli().returncode == 2
