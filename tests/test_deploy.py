"""deploy/ (issue 26): Gradescope's ``tlkit check --format gradescope`` and autograder zip; the Kubernetes and SLURM
job files, on paper.

One end-to-end run on the tiny fixture lesson (seconds): ``make_zip.sh`` builds the zip (without the wheels: they are
downloaded only for Gradescope), ``setup.sh`` installs the course from it into a fresh environment with pip offline
(the dependencies come from this interpreter, where the zip's wheels would provide them), and ``run_autograder``
grades a submission in a redirected ``/autograder``. Its results.json is checked against Gradescope's documented
fields and against the points of a plain ``nbgrader autograde`` of the same notebook; it must show no hidden test.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import site
import stat
import subprocess
import sys
import venv
import zipfile

import jsonschema
import nbformat
import pytest
import yaml

from tlkit.course import check, cli, grading, hub
from tlkit.course.paths import CHECKOUT, FIXTURES

TINY = "tiny"
DEPLOY = CHECKOUT / "deploy" / "gradescope"
SOURCE = FIXTURES / TINY / f"{TINY}.ipynb"

# Gradescope's results.json, as documented at https://gradescope-autograders.readthedocs.io/en/latest/specs/
# ("Output format", "Controlling Test Case Visibility", "Test case status", "Output String Formatting"): every
# documented field, nothing else; a score at the top level or on every test.
_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "simple_format", "html", "md", "ansi"]}
_NUMBER = {"type": "number"}
_TEST = {"type": "object", "additionalProperties": False, "properties": {
    "score": _NUMBER, "max_score": _NUMBER, "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
    "name_format": _FORMAT, "number": {"type": "string"}, "output": {"type": "string"}, "output_format": _FORMAT,
    "tags": {"type": "array", "items": {"type": "string"}}, "visibility": _VISIBILITY,
    "extra_data": {"type": "object"}}}
RESULTS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "score": _NUMBER, "execution_time": {"type": "integer", "minimum": 0}, "output": {"type": "string"},
        "output_format": _FORMAT, "test_output_format": _FORMAT, "test_name_format": _FORMAT,
        "visibility": _VISIBILITY, "stdout_visibility": _VISIBILITY, "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": _TEST},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"], "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}}},
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
}


def _partial(release):
    """add right; mean right on the visible test, wrong on the hidden one (no ValueError for an empty list)."""
    nb = grading.fill_in(release, SOURCE)
    cell = next(c for c in nb.cells if grading.nbgrader_meta(c).get("grade_id") == "mean")
    cell.source = 'def mean(xs):\n    """Arithmetic mean."""\n    return math.fsum(xs) / len(xs)\n'
    return nb


def _extract(zip_path, folder):
    """Unzip keeping the files' modes, as Gradescope does."""
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            z.extract(info, folder)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(folder / info.filename, stat.S_IMODE(mode))


def _environment(path):
    """A fresh virtual environment that sees this interpreter's packages (where the zip's wheels would be)."""
    venv.create(path, with_pip=False)
    python = path / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in site.getsitepackages() + [site.getusersitepackages()] if os.path.isdir(p)]
    with open(os.path.join(purelib, "zz_tlkit_test_parent.pth"), "w") as pth:  # after the environment's own .pth
        pth.write("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    return python


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """(zip path, results.json, exit code and output of run_autograder, nbgrader's scores of the same notebook)."""
    tmp = tmp_path_factory.mktemp("gradescope")
    course = tmp / "course"
    course.mkdir()
    grading.new_course(course, TINY, FIXTURES)
    release = grading.generate(course, TINY) / f"{TINY}.ipynb"
    submission = _partial(release)
    grading.submit(course, TINY, "partial", submission)
    expected = grading.autograde_scores(course, TINY, "partial")

    (tmp / "wheels").mkdir()
    zip_path = tmp / "autograder.zip"
    env = {**grading.nbgrader_env(), "SOLUTIONS": str(FIXTURES), "PYTHON": sys.executable}
    made = subprocess.run(["bash", DEPLOY / "make_zip.sh", "--wheels", tmp / "wheels", "--out", zip_path, TINY],
                          capture_output=True, text=True, env=env, timeout=300)
    assert made.returncode == 0, made.stderr

    root = tmp / "autograder"  # Gradescope: the zip into /autograder/source, run_autograder copied to /autograder
    _extract(zip_path, root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    python = _environment(tmp / "venv")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "TLKIT_VENV": str(tmp / "venv")}
    setup = subprocess.run(["bash", root / "source" / "setup.sh"], capture_output=True, text=True, env=env,
                           cwd=tmp, timeout=600)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    where = subprocess.run([python, "-c", "import tlkit; print(tlkit.__file__)"], capture_output=True, text=True,
                           cwd=tmp).stdout
    assert where.startswith(str(root / "source" / "course")), where

    (root / "submission" / "work").mkdir(parents=True)  # any name, any folder: Gradescope keeps the student's
    nbformat.write(submission, root / "submission" / "work" / "tiny (1).ipynb")
    env["TLKIT_PYTHON"] = str(python)
    run = subprocess.run([root / "run_autograder"], capture_output=True, text=True, env=env, cwd=root, timeout=600)
    results = json.loads((root / "results" / "results.json").read_text())
    return zip_path, results, run, expected


@pytest.mark.slow
def test_zip_holds_the_scripts_and_one_lesson(autograder):
    zip_path = autograder[0]
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
    assert {"setup.sh", "run_autograder", "course/pyproject.toml", "course/nbgrader_config.py",
            "course/tlkit/course/check.py", f"course/solutions/{TINY}/{TINY}.ipynb"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert {n.split("/")[2] for n in names if n.startswith("course/solutions/") and n.count("/") > 2} == {TINY}
    assert not [n for n in names if "gradebook.db" in n or "/submitted/" in n or "results/smoke" in n]


@pytest.mark.slow
def test_results_json_follows_gradescopes_documented_fields(autograder):
    _, results, run, _ = autograder
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert all(t["visibility"] == "visible" for t in results["tests"])


@pytest.mark.slow
def test_scores_are_nbgraders(autograder):
    _, results, _, expected = autograder
    assert expected == {"test_add": (1.0, 1.0), "test_mean": (0.0, 2.0)}
    by_test = {t["name"].split(": ")[-1]: (t["score"], t["max_score"]) for t in results["tests"]}
    assert by_test == expected
    assert results["score"] == sum(s for s, _ in expected.values()) == 1.0
    assert [t["name"] for t in results["tests"]] == ["add: test_add", "mean: test_mean"]
    mean = results["tests"][1]
    assert mean["status"] == "failed" and mean["output"] == "ZeroDivisionError: float division by zero", mean


@pytest.mark.slow
def test_results_show_no_hidden_test(autograder):
    text = json.dumps(autograder[1])
    hidden = grading.hidden_test_lines(SOURCE)
    assert hidden and not [line for line in hidden if line in text]
    assert "Traceback" not in text and "BEGIN HIDDEN" not in text


# --- without grading (fast) ---

def test_written_answers_are_listed_without_points():
    """Written answers are read by a person (a manually graded Gradescope question): listed, not scored."""
    died = check.TestCell("test_f", 0.0, 2.0, "kernel died", "in test_f (cell 7)")
    result = check.Result("01_x", CHECKOUT / "x.ipynb", [check.Exercise("f", [died])],
                          [("why", 3.0, "to be read by a person")], problem="the kernel died in test_f (cell 7): ...",
                          shortened=True, timeout=60, later_timeout=10)
    results = check.gradescope(result, 12.4)
    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["score"] == 0.0 and results["execution_time"] == 12
    assert results["tests"][0]["output"] == "kernel died in test_f (cell 7)"
    written = results["tests"][1]
    assert written["name"] == "written answer why (3 points)" and "score" not in written and "max_score" not in written
    assert written["output"] == "to be read by a person"
    assert "timed out: no answer within nbgrader's 60 s per cell" in results["output"]
    assert "--full-timeouts" not in results["output"]  # a tlkit option, not the student's
    assert "1 written answer (3 points) read by a person" in results["output"]


def test_bad_input_still_writes_results(tmp_path, capsys):
    out = tmp_path / "results" / "results.json"
    broken = tmp_path / f"{TINY}.ipynb"
    broken.write_text('{"cells": [')
    for argv in ([broken], [broken, broken], []):
        code = cli.main(["check", *map(str, argv), "--solutions", str(FIXTURES), "--format", "gradescope",
                         "--output", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        results = json.loads(out.read_text())
        jsonschema.validate(results, RESULTS_SCHEMA)
        assert results["score"] == 0 and results["tests"] == [] and err.split(": ", 1)[1].strip() in results["output"]


# --- Kubernetes and SLURM: they cannot run here; their command lines must be what `tlkit grade` accepts ---

def _grade_parser():
    if "grade" not in cli.SUBCOMMANDS:
        pytest.skip("tlkit grade is not built yet")
    parser = argparse.ArgumentParser(prog="tlkit grade", exit_on_error=False)
    cli.SUBCOMMANDS["grade"][1](parser)
    return parser


def _parses(parser, words):
    args = parser.parse_args(words)
    assert getattr(args, "shard", None), words
    return args


def test_kubernetes_job_shards_the_class():
    job = yaml.safe_load((CHECKOUT / "deploy" / "kubernetes" / "grade-job.yaml").read_text())
    assert (job["apiVersion"], job["kind"], job["spec"]["completionMode"]) == ("batch/v1", "Job", "Indexed")
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["SHARDS"]) == job["spec"]["completions"] == job["spec"]["parallelism"]
    assert container["command"][:2] == ["sh", "-c"]
    words = shlex.split(container["command"][2].replace("$JOB_COMPLETION_INDEX", "3"))
    words = [re.sub(r"\$(\w+)", lambda m: env[m.group(1)], w) for w in words]
    assert words[:3] == ["exec", "tlkit", "grade"] and "--shard" in words
    assert words[words.index("--shard") + 1] == f"3/{env['SHARDS']}"
    _parses(_grade_parser(), words[3:])


def test_slurm_array_shards_the_class():
    script = CHECKOUT / "deploy" / "slurm" / "grade.sbatch"
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    text = script.read_text()
    last = int(re.search(r"^#SBATCH --array=0-(\d+)$", text, re.M).group(1))
    assert f"SHARDS=${{SHARDS:-{last + 1}}}" in text
    command = re.search(r'^exec "\$TLKIT" grade (.*?)(?<!\\)$', text.replace("\\\n", " "), re.M).group(1)
    env = {"LESSON": "01_preprocessing", "COURSE": "/shared/course", "SLURM_CPUS_PER_TASK": "2",
           "SLURM_ARRAY_TASK_ID": "3", "SHARDS": "8"}
    words = [re.sub(r"\$\{?(\w+)(:-\w+)?\}?", lambda m: env[m.group(1)], w) for w in shlex.split(command)]
    assert words[words.index("--shard") + 1] == "3/8"
    _parses(_grade_parser(), words)


# --- Zero-to-JupyterHub (issue 27, on paper): the values load, the image installs the course as the README does ---

def test_zero_to_jupyterhub_values_and_image():
    folder = CHECKOUT / "deploy" / "zero-to-jupyterhub"
    values = yaml.safe_load((folder / "values.yaml").read_text())
    single = values["singleuser"]
    nbgrader_config = single["extraFiles"]["nbgrader-config"]
    assert nbgrader_config["mountPath"] == "/etc/jupyter/nbgrader_config.py"
    compile(nbgrader_config["stringData"], "nbgrader_config.py", "exec")
    assert "configureExchange(c)" in nbgrader_config["stringData"]  # ngshare: no shared folder across pods
    assert 'course_id = "tlkit"' in nbgrader_config["stringData"]
    assert "'ngshare'" in values["hub"]["extraConfig"]["ngshare.py"].replace('"', "'")
    compile(values["hub"]["extraConfig"]["ngshare.py"], "ngshare.py", "exec")
    assert values["cull"]["enabled"] and single["defaultUrl"] == "/lab"
    assert single["memory"]["limit"] == single["memory"]["guarantee"] == f"{hub.MEM_LIMIT / 2**30:g}G"  # measured need
    dockerfile = (folder / "Dockerfile").read_text()
    readme_install = re.search(r"## Install\n.*?```bash\n(.*?)\n", (CHECKOUT / "README.md").read_text(), re.S)[1]
    assert f"RUN {readme_install}" in dockerfile.splitlines(), f"the image does not run the README's {readme_install!r}"
    assert re.search(rf"-t {re.escape(single['image']['name'])}:{single['image']['tag']}\b", dockerfile)
    ignored = (folder / "Dockerfile.dockerignore").read_text().split()
    assert "solutions/" in ignored, "the student image must not hold the hidden tests"
    readme = (folder / "README.md").read_text()
    assert "values.yaml" in readme and "on paper" in readme.lower() and "helm upgrade --install" in readme
