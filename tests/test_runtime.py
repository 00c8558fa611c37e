"""tlkit.runtime (device moves, seeding) and tlkit.lesson.session (the lesson start, record)."""
import pytest
import torch
from torch import nn

from tlkit import runtime
from tlkit.lesson import session


def test_to_device_and_prepare_use_channels_last():
    x = runtime.to_device(torch.randn(2, 3, 5, 5))
    assert x.is_contiguous(memory_format=torch.channels_last) and x.device.type == runtime.device().type
    assert runtime.to_device(torch.randn(4, 3)).shape == (4, 3)
    model = runtime.prepare(nn.Conv2d(3, 4, 3))
    assert model.weight.is_contiguous(memory_format=torch.channels_last)
    assert runtime.model_device(model) == model.weight.device
    assert runtime.model_device(nn.ReLU()).type == "cpu"


def test_seed_everything_repeats():
    runtime.seed_everything(3)
    a = torch.rand(3)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.rand(3))


def test_start_lesson_threads_and_clock(monkeypatch):
    threads = torch.get_num_threads()
    try:
        monkeypatch.setenv("TLKIT_PROFILE", "grade")
        lesson = session.start_lesson()
        assert lesson.profile == "grade" and lesson.threads == 1 == torch.get_num_threads()
        monkeypatch.setenv("TLKIT_PROFILE", "quick")
        lesson = session.start_lesson()
        assert lesson.threads == runtime.cpu_count() == torch.get_num_threads()
        assert 0 <= lesson.elapsed() < 60 and "quick" in str(lesson)
    finally:
        torch.set_num_threads(threads)


def test_record_keeps_figures_and_writes_them_with_provenance(tmp_path, monkeypatch):
    import json

    folder = tmp_path / "02_freezing"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("TLKIT_RECORD", str(tmp_path / "out"))
    monkeypatch.setenv("TLKIT_PROFILE", "grade")
    lesson = session.start_lesson()
    assert lesson.lesson_id == "02_freezing"
    assert lesson.record("fine_tune_acc", torch.tensor(0.75)) == 0.75
    lesson.record("best_strategy", "fine-tune")
    saved = json.loads((tmp_path / "out" / "02_freezing.json").read_text())
    assert saved["figures"] == {"fine_tune_acc": 0.75, "best_strategy": "fine-tune"}
    assert saved["profile"] == "grade" and saved["lesson"] == "02_freezing"
    assert {"date", "device", "torch", "timm", "commit"} <= set(saved)
    with pytest.raises(ValueError):
        lesson.record("Bad Key", 1.0)
    with pytest.raises(TypeError):
        lesson.record("a_list", [1, 2])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="not a lesson folder"):
        session.start_lesson().record("x", 1.0)


def test_a_cell_calling_an_unwritten_exercise_names_it():
    from tlkit.lesson.stubs import StubAdvice

    def stub(x):
        raise NotImplementedError("write stub here, then run the tests below")

    advice, namespace = StubAdvice(), {"stub": stub}
    first = advice.advice(namespace, NotImplementedError, NotImplementedError("write stub here, then run the tests below"))
    assert "`stub` is not written yet" in first[0]
    later = advice.advice(namespace, NameError, NameError("name 'scores' is not defined"))   # a cell after it
    assert later[0] == "NameError: name 'scores' is not defined" and "write `stub`" in later[1]
    assert advice.advice(namespace, AssertionError, AssertionError("wrong")) is None   # a test's own message
    namespace["stub"] = lambda x: x                                                        # now written
    assert advice.advice(namespace, NameError, NameError("name 'scores' is not defined")) is None


@pytest.mark.parametrize("limit, expected", [("1", 1), ("0.5", 1), ("1000", None), ("", None), ("two", None)])
def test_cpu_count_honours_jupyterhubs_cpu_limit(monkeypatch, limit, expected):
    monkeypatch.delenv("CPU_LIMIT", raising=False)
    cores = runtime.cpu_count()
    monkeypatch.setenv("CPU_LIMIT", limit)
    assert runtime.cpu_count() == (expected or cores)


def test_kernel_hands_freed_memory_back_after_each_cell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    if session._release_after_cell in shell.events.callbacks["post_run_cell"]:   # registered by an earlier test
        shell.events.unregister("post_run_cell", session._release_after_cell)
    before = len(shell.events.callbacks["post_run_cell"])
    session.trim_memory_after_cells()
    session.trim_memory_after_cells()                      # start_lesson run twice: still one hook
    assert len(shell.events.callbacks["post_run_cell"]) == before + 1
    assert shell.run_cell("x = [0] * 10**6; del x").success
    runtime.release_freed_memory()                         # glibc's malloc_trim here; a no-op without it
