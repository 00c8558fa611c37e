"""Freezing tools: which parameters train, BatchNorm kept in inference mode, stage-wise unfreezing and
discriminative (layer-wise) learning rates."""
from __future__ import annotations

from typing import Sequence

from torch import nn


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients for every parameter of ``module`` (train/eval mode untouched); returns ``module``."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Let every parameter of ``module`` train (train/eval mode untouched); returns ``module``."""
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters (only those with ``requires_grad`` unless ``trainable_only=False``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class _StayInEval:
    """A BatchNorm layer's ``train`` replacement that keeps it in eval mode (picklable, unlike a bound method)."""

    def __init__(self, module):
        self.module = module

    def __call__(self, mode=True):
        return nn.Module.train(self.module, False)


def freeze_batchnorm(model: nn.Module) -> nn.Module:
    """Every BatchNorm layer (1d/2d/3d and subclasses such as timm's ``BatchNormAct2d``): running statistics
    fixed (eval mode, kept through later ``model.train()`` calls) and affine parameters frozen; returns ``model``.

    ``unfreeze``/``freeze_stages`` afterwards make the affine parameters trainable again (the statistics stay
    fixed): call this again after them. ``copy.deepcopy``, ``pickle``, ``state_dict`` and ``torch.save`` work as usual
    (the replacement ``train`` is an instance of a module-level class, not a bound method or closure).
    """
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            freeze(m)
            m.train = _StayInEval(m)
            m.eval()
    return model


def freeze_stages(stages: Sequence[nn.Module], n_frozen: int) -> Sequence[nn.Module]:
    """Freeze the first ``n_frozen`` stages (input side first) and make the rest trainable."""
    if not 0 <= n_frozen <= len(stages):
        raise ValueError(f"n_frozen must be in 0..{len(stages)}, got {n_frozen}")
    for i, stage in enumerate(stages):
        (freeze if i < n_frozen else unfreeze)(stage)
    return stages


def discriminative_param_groups(stages: Sequence[nn.Module], head: nn.Module, base_lr: float, decay: float) -> list[dict]:
    """Optimizer groups: ``head`` at ``base_lr``, the last stage at ``base_lr*decay``, the one before at
    ``base_lr*decay**2``, ...; frozen parameters left out, none in two groups, empty groups dropped."""
    seen, groups = set(), []
    for depth, module in enumerate([head, *reversed(list(stages))]):
        params = [p for p in module.parameters() if p.requires_grad and id(p) not in seen]
        seen.update(id(p) for p in params)
        if params:
            groups.append({"params": params, "lr": base_lr * decay**depth})
    return groups
