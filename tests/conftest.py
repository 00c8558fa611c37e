"""pytest configuration for tests/ (the course helpers live in tlkit.course.grading, importable without a path hack)."""
import pytest
import torch

# tests/fixtures/ holds notebooks the tests grade (a tiny lesson and its release): nbval must not execute them.
collect_ignore = ["fixtures"]


@pytest.fixture
def one_thread():
    """Tiny tensors: one torch thread is faster (and immune to a busy machine); restored afterwards.
    Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
