"""Checkpoints that survive a crash: written atomically (a temp file in the same folder, fsync, ``os.replace``: a
kill or an error mid-write leaves the previous checkpoint as it was), holding everything needed to continue a run
exactly. :func:`resume_state` is that snapshot (model, optimizer and scheduler states, the step, the data order's
start, the Python/NumPy/torch random states) and :func:`restore_state` puts one back (lesson 08's exercises);
``tlkit.train.fit(..., checkpoint=path)`` writes them with its own run state (base learning rates, history,
early-stopping state and best weights), ``fit(..., resume=path)`` continues from one; :func:`read` and :func:`load`
read one, :func:`check_compatible` says clearly why a checkpoint does not fit a model.
"""
from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .files import atomic_write

FORMAT = "tlkit-checkpoint-2"
# what np.random.get_state() pickles to, allowed by read() besides tensors and plain Python values
NUMPY_RANDOM_STATE = [np.ndarray, np.dtype, type(np.dtype(np.uint32)),
                      (getattr(np, "_core", None) or np.core).multiarray._reconstruct]


def atomic_save(obj, path) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (:func:`tlkit.files.atomic_write`)."""
    return atomic_write(path, lambda f: torch.save(obj, f))


def read(path) -> dict:
    """What :func:`atomic_save` wrote to ``path``, on the CPU: tensors, plain Python values and NumPy's random state
    only (``torch.load(weights_only=True)``: nothing else is unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with torch.serialization.safe_globals(NUMPY_RANDOM_STATE):
        return torch.load(path, map_location="cpu", weights_only=True)


def load(path) -> dict:
    """A checkpoint written by ``fit(..., checkpoint=path)`` (:func:`read`, and checked to be one)."""
    state = read(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tlkit checkpoint (format {FORMAT!r})")
    return state


def resume_state(model, optimizer, scheduler, step, data_start):
    """A snapshot of a run after ``step`` optimizer steps, everything needed to continue it exactly: copies of the
    model's, optimizer's and scheduler's (None: none) states, the step, ``data_start`` (the loader generator's state
    at the run's start: with ``step`` it fixes the next batch) and the global random states (torch, CUDA when
    available, NumPy, Python)."""
    state = {"model": copy.deepcopy(model.state_dict()), "optimizer": copy.deepcopy(optimizer.state_dict()),
             "scheduler": None if scheduler is None else copy.deepcopy(scheduler.state_dict()),
             "step": step, "data_start": data_start,
             "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}}
    if torch.cuda.is_available():
        state["rng"]["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_state(state, model, optimizer, scheduler):
    """Put a :func:`resume_state` snapshot back into freshly built ``model``, ``optimizer`` and ``scheduler`` (None:
    none) and the global random generators; return its step (the caller restores the data order: the loader's
    generator to ``state["data_start"]``, then ``step`` batches skipped)."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return state["step"]


def generators(batches) -> list[torch.Generator]:
    """The torch generators that decide the order of ``batches``: a ``tlkit.data.Batches``' own generator, and a
    ``Paired``'s first stream's (its second stream cycles independently: build the ``Paired`` afresh to resume)."""
    found = []
    for obj in (batches, getattr(batches, "first", None)):
        g = getattr(obj, "generator", None)
        if isinstance(g, torch.Generator):
            found.append(g)
    return found


def check_compatible(model: nn.Module, state_dict: dict, source: str = "checkpoint") -> None:
    """ValueError naming the first differences when ``state_dict`` was not saved from a model like ``model``
    (missing or unexpected parameters, or different shapes)."""
    mine = model.state_dict()
    missing = [k for k in mine if k not in state_dict]
    unexpected = [k for k in state_dict if k not in mine]
    shapes = [f"{k}: saved {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}" for k, v in mine.items()
              if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = []
        if shapes:
            parts.append("shape mismatch for " + "; ".join(shapes[:3]) + (" ..." if len(shapes) > 3 else ""))
        if missing:
            parts.append(f"missing in the {source}: {missing[:3]}" + (" ..." if len(missing) > 3 else ""))
        if unexpected:
            parts.append(f"not in the model: {unexpected[:3]}" + (" ..." if len(unexpected) > 3 else ""))
        raise ValueError(f"the {source} was saved from a different model ({type(model).__name__}): "
                         + "; ".join(parts))


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model.state_dict()`` on the CPU (detached clones: later training does not change it)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


@dataclass
class RunState:
    """What ``tlkit.train.fit`` carries from step to step and writes into a checkpoint besides :func:`resume_state`:
    the base learning rates, the history, the seconds trained, the data order at run start, the best weights so far
    (early stopping) and the step to continue from. :meth:`start` begins a run, :meth:`resume` continues one from a checkpoint, :meth:`save`
    writes one."""

    base_lrs: list
    data_start: list
    history: dict = field(default_factory=lambda: {"step": [], "epoch": [], "seconds": []})
    seconds: float = 0.0
    best_weights: dict | None = None
    first: int = 1                # the first step still to train
    done: bool = False

    @classmethod
    def start(cls, optimizer, batches) -> "RunState":
        return cls([g["lr"] for g in optimizer.param_groups], [g.get_state() for g in generators(batches)])

    @classmethod
    def resume(cls, path, model: nn.Module, optimizer, steps: int, per_epoch: int, early_stopping) -> "RunState":
        """Load ``path`` into ``model``, ``optimizer``, ``early_stopping`` and the global random generators
        (:func:`restore_state`) after checking that it is a checkpoint of the same run (model, steps, batches per
        epoch, early stopping or not)."""
        state = load(path)
        check_compatible(model, state["model"], f"checkpoint {path}")
        if (state["steps"], state["per_epoch"]) != (steps, per_epoch):
            raise ValueError(f"checkpoint {path} is from a run of {state['steps']} steps of {state['per_epoch']} "
                             f"batches per epoch; this fit asks for {steps} steps of {per_epoch}")
        if (state["early_stopping"] is None) != (early_stopping is None):
            raise ValueError(f"checkpoint {path} was written " + ("with" if early_stopping is None else "without")
                             + " early_stopping: resume with the same arguments")
        first = restore_state(state, model, optimizer, None) + 1
        if early_stopping is not None:
            vars(early_stopping).update(state["early_stopping"])
        return cls(state["base_lrs"], state["data_start"], state["history"], state["seconds"], state["best_model"],
                   first, state["done"])

    def save(self, path, model: nn.Module, optimizer, step: int, steps: int, per_epoch: int, early_stopping) -> None:
        """The whole run state after ``step`` (:func:`resume_state`, and fit's own), written atomically to ``path``."""
        atomic_save({
            **resume_state(model, optimizer, None, step, self.data_start), "format": FORMAT, "base_lrs": self.base_lrs,
            "steps": steps, "per_epoch": per_epoch, "history": self.history, "seconds": self.history["seconds"][-1],
            "early_stopping": None if early_stopping is None else dict(vars(early_stopping)),
            "best_model": self.best_weights, "done": self.done}, path)
