"""pytest configuration for tests/ (the course helpers live in tlkit.course.grading, importable without a path hack)."""
import os
import shutil
from pathlib import Path

import pytest
import torch
from filelock import FileLock

from tlkit import runtime
from tlkit.course.grading import LESSON_IDS, new_course, run_nbgrader

# pytest-xdist workers share the machine's cores: each worker, and every kernel or subprocess it starts (through
# CPU_LIMIT, which tlkit.runtime.cpu_count honours), uses its share (at least one) instead of every core. More workers
# than cores (pyproject.toml): while one waits on a server, a browser or a timeout, the others keep the cores busy.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1 and "CPU_LIMIT" not in os.environ:
    os.environ["CPU_LIMIT"] = str(max(1, runtime.cpu_count() // _WORKERS))
    torch.set_num_threads(runtime.cpu_count())

# tests/fixtures/ holds notebooks the tests grade (a tiny lesson and its release): nbval must not execute them.
collect_ignore = ["fixtures"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items):
    """nbval's cells of the solution notebooks (every lesson in the quick profile: minutes) are ``slow``.

    For pytest-xdist's ``--dist loadgroup`` (pyproject.toml): a notebook's cells, and the tests of a module that share a
    module-scoped fixture, run on one worker; every other test goes to whichever worker is free. The notebooks (the
    longest units) are sent first, then the other slow tests, then the short ones, which fill the end of the run
    instead of one long unit running alone."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
        fixtures = item._fixtureinfo.name2fixturedefs.values() if hasattr(item, "_fixtureinfo") else []
        if item.path.suffix == ".ipynb" or any(d.scope in ("module", "package") for ds in fixtures for d in ds):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=lambda item: (item.path.suffix != ".ipynb", item.get_closest_marker("slow") is None))


@pytest.fixture
def one_thread():
    """Tiny tensors: one torch thread is faster (and immune to a busy machine); restored afterwards.
    Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def releases(tmp_path_factory, worker_id) -> Path:
    """A course holding every lesson's source and the release ``nbgrader generate_assignment`` makes from it now: one
    generation for the whole session, shared by the xdist workers. Read it; write only into a :func:`copy_course`."""
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if worker_id != "master" else shared
    course, done = shared / "releases", shared / "releases.done"
    with FileLock(str(shared / "releases.lock")):
        if not done.exists():
            shutil.rmtree(course, ignore_errors=True)
            course.mkdir()
            for lesson in LESSON_IDS:
                new_course(course, lesson)
            run_nbgrader(course, "generate_assignment", "*", "--force")
            done.touch()
    return course


@pytest.fixture(scope="session")
def copy_course(releases):
    """``copy_course(dest, lessons=None)``: a private copy of :func:`releases` at ``dest`` (its gradebook knows every
    lesson) with only ``lessons``' sources and releases (default: all), to autograde, serve or change."""
    def copy(dest, lessons=None) -> Path:
        keep = set(lessons or LESSON_IDS)
        shutil.copytree(releases, dest, ignore=lambda folder, names: [
            n for n in names if Path(folder).name in ("solutions", "lessons") and n not in keep])
        return Path(dest)
    return copy
