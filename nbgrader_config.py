"""nbgrader configuration: the repository root is the course root.

solutions/<id>/<id>.ipynb (instructor source) --nbgrader generate_assignment--> lessons/<id>/<id>.ipynb (release).
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "tlkit"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Lessons run in the 'grade' profile under nbgrader (tlkit.profile). Measured (2 CPU cores, solutions executed with
# NBGRADER_EXECUTION=autograde): whole lessons 5-12 s, slowest cell 3.9 s (01: 3.9 s, 02: 3.7, 03: 2.5, 04: 3.3),
# ~9 s under load. 60 s is several times that and bounds an infinite loop to 60 s per cell (it was 600 s, interrupted
# once per cell that calls the looping function: 1,226 s for one student). Tampering: README "Grading", issue 17.
c.Execute.timeout = 60
# The kernel is killed, not asked to stop, once a notebook is graded: its outputs are already in hand, and the polite
# shutdown waited 1.3-2.8 s per student for nothing (tlkit.course.grading_cost, issue 26).
c.Execute.shutdown_kernel = "immediate"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# --- exchange (classroom cycle: release -> fetch -> submit -> collect -> feedback; README "Classroom cycle") ---
# One machine: the course-local folder exchange/ (git-ignored, created here, no root needed).
# JupyterHub: a shared directory every user can write, e.g. TLKIT_EXCHANGE=/srv/nbgrader/exchange (create it once,
# chmod 777); students' own nbgrader config must name the same root and course id ("tlkit", set above).
c.Exchange.root = os.environ.get("TLKIT_EXCHANGE") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange")
if not os.environ.get("TLKIT_EXCHANGE"):
    os.makedirs(c.Exchange.root, exist_ok=True)

# --- grading hardening (issue 17, README "Grading"; tlkit/course/nbgrader_ext/ holds our preprocessors) ---
import sys  # noqa: E402

# nbgrader shells out to `alembic` when it creates a gradebook: find it next to this Python, whatever PATH is
# (the CLI and the JupyterLab formgrader both load this file in-process). Was: FileNotFoundError: 'alembic'.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearOutput, Execute, IgnorePattern, LimitOutput, OverwriteCells,
    OverwriteKernelspec, SaveAutoGrades)
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402

from tlkit.course import nbgrader_ext  # noqa: E402

# A deleted graded cell, or one whose nbgrader metadata was removed: put it back from the gradebook and grade it
# (was: "needs manual grade" for a cell that no longer exists, 12/16 instead of 16/16).
c.OverwriteCells.add_missing_cells = True
# A Python warning on stderr (e.g. a UserWarning from correct code) no longer fails a test cell: nbgrader grades any
# stderr output as a failure, so stderr streams holding a warning are dropped before grading (was 10/16).
c.IgnorePattern.pattern = r"(?m)^.*:\d+: \w*Warning: "
c.IgnorePattern.enabled = True  # off by default in nbgrader 0.9.6, even with a pattern set
# os._exit / os.abort in a solution raises SystemExit in that cell instead of killing the kernel, so only that
# exercise loses its points (was: every cell None, 0/10). A hard kill (os.kill, a segfault) still fails the notebook:
# `tlkit audit` flags it beforehand.
c.Execute.extra_arguments = nbgrader_ext.kernel_guard_arguments()
# Sanitizing, in order: duplicated grade ids keep their first cell (nbgrader's DeduplicateIds leaves `nbgrader: {}`
# that aborts the class run as an "old version of the nbgrader metadata format", nbgrader #1083); invalid metadata
# (e.g. schema_version removed) is repaired or dropped instead of aborting; then nbgrader's own steps.
c.Autograde.sanitize_preprocessors = [
    ClearOutput, nbgrader_ext.DropDuplicateGradeIds, nbgrader_ext.DropInvalidMetadata, OverwriteKernelspec,
    OverwriteCells, CheckCellMetadata]
# Output size capped per cell (LimitOutput only counts lines) so feedback stays readable and small.
c.LimitOutput.max_lines = 200
c.CapOutput.max_chars = 20000
# An exercise is the student's own: each test cell first checks that the function it grades is not tlkit's reference,
# an alias of it or a thin wrapper around it (was: `from tlkit.preprocessing import to_batch` scored 16/16). That
# exercise scores 0 with one line, "to_batch is tlkit.preprocessing.to_batch: write your own" (tlkit/course/own_work.py).
c.Autograde.autograde_preprocessors = [
    nbgrader_ext.RequireOwnWork, Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, nbgrader_ext.CapOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
# Autograded files read-only, for the grader only; nbgrader reads these digits as octal (int(str(x), 8)):
# 400, not 0o400 (0o400 == 256 would be read as 0o256).
c.Autograde.permissions = 400
# Optional sandbox (TLKIT_SANDBOX=1, needs bubblewrap): the grading kernel runs without the course root (gradebook,
# solutions/, other submissions), without network, as an unprivileged user. Default grading works without bwrap.
if os.environ.get("TLKIT_SANDBOX", "").strip() not in ("", "0"):
    _why = nbgrader_ext.sandbox_available()
    if _why:
        raise RuntimeError("TLKIT_SANDBOX is set but the sandbox cannot run: " + _why)
    c.Autograde.autograde_preprocessors = [nbgrader_ext.SandboxedExecute if p is Execute else p
                                           for p in c.Autograde.autograde_preprocessors]
    c.SandboxKernelManager.hidden_paths = [p for p in {c.CourseDirectory.root, c.Exchange.get("root")} if p]
# --- end grading hardening ---

# --- feedback (issue 23): what a student receives shows the visible tests, the points and the first line of each
# error, never a hidden test or a traceback line from one (nbgrader 0.9.6 shows them all: #917, #1363, #1156). The
# formgrader (instructors) still shows everything.
from nbgrader.converters import GenerateFeedback as _GenerateFeedback  # noqa: E402

c.GenerateFeedback.preprocessors = list(_GenerateFeedback.class_traits()["preprocessors"].default()) + [
    nbgrader_ext.HideHiddenTests]
# --- end feedback ---

# --- release (issue 18): generate_assignment names the function to write in each stub ---
# raise NotImplementedError("write freeze here, then run the tests below"), right after nbgrader's ClearSolutions.
# Changing this changes every release: run `nbgrader generate_assignment <id> --force` for each lesson.
from nbgrader.converters import GenerateAssignment as _GenerateAssignment  # noqa: E402
from nbgrader.preprocessors import ClearSolutions as _ClearSolutions  # noqa: E402

from tlkit.course.nbgrader_ext import NameTheStub as _NameTheStub  # noqa: E402

_steps = list(_GenerateAssignment.class_traits()["preprocessors"].default())
_at = _steps.index(_ClearSolutions) + 1
c.GenerateAssignment.preprocessors = _steps[:_at] + [_NameTheStub] + _steps[_at:]
# --- end release ---
