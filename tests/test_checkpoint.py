"""tlkit.checkpoint and fit's checkpoint= / resume=: atomic writes, and a run killed mid-way (SIGKILL) that resumes
to the very same weights and history as an uninterrupted one."""
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from tlkit import checkpoint, data, models, train
from tlkit.runtime import seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")

STEPS, EVERY, N = 60, 5, 320
STOP_AT = 23  # the step the killed run is SIGKILLed in (its last checkpoint: step 20)

# The run, as a script: a small DigitNet with dropout on the first N real MNIST digits; a flipped, shuffled loader;
# AdamW with an LR schedule. Shared by the subprocess that is killed and by the in-process runs.
RUN = textwrap.dedent(f"""
    import sys
    import torch
    from torch import nn
    from tlkit import data, models, train
    from tlkit.runtime import seed_everything

    def build():
        seed_everything(0)
        x, y = data.mnist("train")
        x, y = data.digit_inputs(x[:{N}]), torch.as_tensor(y[:{N}])
        model = models.DigitNet(num_classes=10)
        model.classifier = nn.Sequential(nn.Dropout(0.3), model.classifier)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        batches = data.loader(x, y, batch_size=32, shuffle=True, seed=1, flip=True)
        return model, opt, batches, data.loader(x[:64], y[:64], batch_size=64)

    def run(checkpoint=None, resume=None, stop_at=None):
        model, opt, batches, val = build()
        def step(model, batch, progress):
            step.n += 1
            if step.n == stop_at:  # the killed run: say so, then wait on stdin for the SIGKILL
                print("stopped", flush=True)
                sys.stdin.read()
            return train.supervised_step(model, batch, progress)
        step.n = 0
        hist = train.fit(model, batches, opt, steps={STEPS}, val=val, eval_every={EVERY}, step_fn=step,
                         lr_factor=lambda p: 1 - 0.9 * p, progress=False, checkpoint=checkpoint, resume=resume)
        return model, hist

    if __name__ == "__main__":
        torch.set_num_threads(1)
        run(checkpoint=sys.argv[1], stop_at=int(sys.argv[2]))
""")


def _module(tmp_path):
    path = tmp_path / "run_script.py"
    path.write_text(RUN)
    namespace = {"__name__": "run_script"}
    exec(compile(RUN, str(path), "exec"), namespace)
    return path, namespace


def _same_history(a, b):
    assert set(a) == set(b)
    for k in a:
        if k != "seconds":
            assert a[k] == b[k], f"history {k!r} differs: {a[k]} vs {b[k]}"


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), f"{k} differs (max abs diff {(sa[k].float() - sb[k].float()).abs().max()})"


def test_killed_run_resumes_to_the_same_weights_and_history(tmp_path):
    script, ns = _module(tmp_path)
    ckpt_path = tmp_path / "run.ckpt"
    proc = subprocess.Popen([sys.executable, str(script), str(ckpt_path), str(STOP_AT)], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:  # killed inside step STOP_AT, mid-run: the checkpoints up to it are written
        said = proc.stdout.readline().decode()
        assert said == "stopped\n", f"the run did not stop at step {STOP_AT}: {proc.communicate()[1].decode()[-2000:]}"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    state = checkpoint.load(ckpt_path)
    assert state["step"] == STOP_AT - STOP_AT % EVERY and not state["done"], state["step"]
    assert state["history"]["step"][-1] == state["step"]

    resumed, hist_resumed = ns["run"](checkpoint=ckpt_path, resume=ckpt_path)
    reference, hist_reference = ns["run"]()
    _same_weights(resumed, reference)
    _same_history(hist_resumed, hist_reference)
    assert hist_resumed["step"] == list(range(EVERY, STEPS + 1, EVERY))
    assert hist_resumed["seconds"] == sorted(hist_resumed["seconds"]), "seconds continue from the checkpoint"
    assert checkpoint.load(ckpt_path)["done"], "the end of the run is checkpointed"
    # a finished checkpoint: resume returns its history and weights without training
    again, hist_again = ns["run"](resume=ckpt_path)
    _same_weights(again, reference)
    assert hist_again == hist_resumed


def test_resume_mid_epoch_in_process_with_early_stopping(tmp_path):
    """A checkpoint mid-epoch (eval_every does not divide the epoch), a crash raised by the step function, and
    early stopping whose state travels in the checkpoint."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(100, 3, 8, 8, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long()

    class Crash(Exception):
        pass

    def run(crash_at=None, resume=None):
        seed_everything(3)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.2), torch.nn.Linear(192, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(model, batch, progress):
            if crash_at is not None and step.n == crash_at:
                raise Crash
            step.n += 1
            return train.supervised_step(model, batch, progress)
        step.n = 0
        es = train.EarlyStopping(patience=1000, mode="min")
        hist = train.fit(model, data.loader(x, y, batch_size=16, shuffle=True, seed=2), opt, steps=40,
                         val=data.loader(x, y), eval_every=3, step_fn=step, progress=False, early_stopping=es,
                         monitor="val_loss", checkpoint=tmp_path / "c.pt", resume=resume)
        return model, hist, es

    with pytest.raises(Crash):
        run(crash_at=20)
    assert checkpoint.load(tmp_path / "c.pt")["step"] == 18
    resumed, hist, es = run(resume=tmp_path / "c.pt")
    reference, hist_ref, es_ref = run()
    _same_weights(resumed, reference)
    _same_history(hist, hist_ref)
    assert es.best == es_ref.best == min(hist_ref["val_loss"])


def test_a_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    checkpoint.atomic_save({"format": checkpoint.FORMAT, "value": torch.arange(3)}, path)
    real_save = torch.save

    def half_then_fail(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.atomic_save({"format": checkpoint.FORMAT, "value": torch.arange(5)}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.equal(checkpoint.load(path)["value"], torch.arange(3)), "the previous checkpoint is intact"
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"], "the temp file is removed"
    # a truncated temp file left by a kill mid-write does not matter either
    (tmp_path / ".model.ckpt.tmp-99999").write_bytes(b"PK\x03\x04 trunc")
    assert torch.equal(checkpoint.load(path)["value"], torch.arange(3))


def test_fit_in_process_checkpoint_written_atomically(tmp_path, monkeypatch):
    """fit's own checkpoint writes go through the atomic path: a failure while saving the second record leaves
    the first record's checkpoint."""
    x = torch.randn(32, 4)
    y = (x[:, 0] > 0).long()
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    real_save, calls = torch.save, []

    def flaky(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            f.write(b"garbage")
            raise RuntimeError("killed mid-write")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", flaky)
    with pytest.raises(RuntimeError, match="mid-write"):
        train.fit(model, data.loader(x, y, batch_size=8), opt, steps=12, eval_every=4, progress=False,
                  checkpoint=tmp_path / "c.pt")
    monkeypatch.setattr(torch, "save", real_save)
    state = checkpoint.load(tmp_path / "c.pt")
    assert state["step"] == 4 and len(state["history"]["step"]) == 1


def test_resume_refuses_another_model_or_run(tmp_path):
    x = torch.randn(32, 3, 28, 28)
    y = torch.randint(0, 10, (32,))
    model = models.DigitNet(num_classes=10)
    opt = torch.optim.Adam(model.parameters())
    batches = data.loader(x, y, batch_size=8)
    train.fit(model, batches, opt, steps=4, progress=False, checkpoint=tmp_path / "c.pt")
    other = models.DigitNet(num_classes=2)
    with pytest.raises(ValueError, match=r"different model.*classifier\.4\.weight: saved \(10, 100\) vs model \(2, 100\)"):
        train.fit(other, batches, torch.optim.Adam(other.parameters()), steps=4, progress=False,
                  resume=tmp_path / "c.pt")
    lin = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="different model.*missing"):
        train.fit(lin, batches, torch.optim.Adam(lin.parameters()), steps=4, progress=False, resume=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="4 steps.*asks for 8"):
        train.fit(model, batches, opt, steps=8, progress=False, resume=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="without early_stopping"):
        train.fit(model, batches, opt, steps=4, progress=False, resume=tmp_path / "c.pt",
                  early_stopping=train.EarlyStopping(2))
    with pytest.raises(FileNotFoundError):
        checkpoint.load(tmp_path / "nothing.pt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="not a tlkit checkpoint"):
        checkpoint.load(tmp_path / "plain.pt")


def _kill_and_resume(tmp_path, spoil=None):
    """A tiny run drawing from torch (dropout), NumPy and Python's random, with Adam and a LambdaLR schedule: 16 steps
    straight through, against 7 steps, a resume_state snapshot through a file, fresh objects (other global random
    states) restored with restore_state, 9 more steps. ``spoil(state, fresh)`` swaps a piece of the snapshot for what
    a freshly started run holds. True when the weights are bitwise the same."""
    import random

    import numpy as np
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(9))
    y = (x[:, 0] > x[:, 1]).long()

    def build():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                    torch.nn.Linear(16, 2))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.9 ** s)
        return model, optimizer, scheduler, torch.Generator().manual_seed(3)

    def train_on(model, optimizer, scheduler, g, skip, steps):
        order = (i for _ in range(100) for i in torch.randperm(30, generator=g).split(6))
        for _ in range(skip):
            next(order)
        for _ in range(steps):
            idx = next(order)
            noise = torch.from_numpy(np.random.normal(0, 0.3, (len(idx), 4))).float() * random.choice([0.5, 1, 2])
            loss = torch.nn.functional.cross_entropy(model(x[idx] + noise), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()

    np.random.seed(0)
    random.seed(0)
    model, optimizer, scheduler, g = build()
    fresh = checkpoint.resume_state(model, optimizer, scheduler, 0, g.get_state())
    train_on(model, optimizer, scheduler, g, 0, 7)
    checkpoint.atomic_save(checkpoint.resume_state(model, optimizer, scheduler, 7, fresh["data_start"]),
                           tmp_path / "s.ckpt")
    state = checkpoint.read(tmp_path / "s.ckpt")
    g.set_state(fresh["data_start"])
    train_on(model, optimizer, scheduler, g, 7, 9)
    if spoil is not None:
        spoil(state, fresh)
    np.random.seed(1)
    random.seed(1)
    again, optimizer, scheduler, g = build()
    step = checkpoint.restore_state(state, again, optimizer, scheduler)
    g.set_state(state["data_start"])
    train_on(again, optimizer, scheduler, g, step, 16 - step)
    return all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))


def test_resume_state_and_restore_state_resume_bitwise(tmp_path):
    assert _kill_and_resume(tmp_path)


@pytest.mark.parametrize("piece", ["optimizer", "scheduler", "torch", "numpy", "python", "data_start"])
def test_a_resume_without_any_piece_of_the_state_differs(tmp_path, piece):
    def spoil(state, fresh):
        if piece in state["rng"]:
            state["rng"][piece] = fresh["rng"][piece]
        elif piece == "data_start":
            state["data_start"] = torch.Generator().manual_seed(4).get_state()
        else:
            state[piece] = fresh[piece]
    assert not _kill_and_resume(tmp_path, spoil)


def test_resume_state_is_a_snapshot_and_restore_state_skips_a_missing_scheduler():
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    state = checkpoint.resume_state(model, optimizer, None, 1, None)
    assert state["scheduler"] is None and state["step"] == 1
    saved = state["model"]["weight"].clone(), state["optimizer"]["state"][0]["momentum_buffer"].clone()
    optimizer.step()
    assert torch.equal(state["model"]["weight"], saved[0]), "copies, not the live weights"
    assert torch.equal(state["optimizer"]["state"][0]["momentum_buffer"], saved[1]), "copies of the optimizer state"
    other = torch.nn.Linear(3, 2)
    assert checkpoint.restore_state(state, other, torch.optim.SGD(other.parameters(), lr=0.1, momentum=0.9), None) == 1
    assert torch.equal(other.weight, saved[0])


def test_resume_with_the_loader_object_the_crashed_run_used(tmp_path):
    """In a notebook the crashed run's loader has already advanced its generator: resume restores the order."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(60, 3, 4, 4, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long()

    def run(batches, crash_at=None, resume=None):
        seed_everything(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 2))
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(model, batch, progress):
            step.n += 1
            if step.n == crash_at:
                raise RuntimeError("crash")
            return train.supervised_step(model, batch, progress)
        step.n = 0
        train.fit(model, batches, opt, steps=30, eval_every=4, step_fn=step, progress=False,
                  checkpoint=tmp_path / "c.pt", resume=resume)
        return model

    used = data.loader(x, y, batch_size=8, shuffle=True, seed=4, flip=True)
    with pytest.raises(RuntimeError):
        run(used, crash_at=19)
    resumed = run(used, resume=tmp_path / "c.pt")
    _same_weights(resumed, run(data.loader(x, y, batch_size=8, shuffle=True, seed=4, flip=True)))
