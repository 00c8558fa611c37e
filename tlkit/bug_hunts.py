"""Bug hunts (lesson 09): the fixed version of each drill's function, one realistic transfer-learning bug each.

Every function here is the reference of one graded exercise of ``solutions/09_bug_hunts`` (``model_input`` fixes
drills 3 and 4, ``domain_loss`` drills 8 and 9); the buggy versions live in the lesson only (they are what the learner
hunts). Each reuses the tlkit piece that does the work where there is one (``freeze``, ``freeze_batchnorm``,
``apply_preset``, ``grad_reverse``, ``discriminative_param_groups``, ``per_class``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data
from .dann import grad_reverse
from .freezing import discriminative_param_groups, freeze, freeze_batchnorm, unfreeze
from .preprocessing import apply_preset, preset_of, to_batch
from .runtime import model_device, to_device


def head_optimizer(model, num_classes, lr):
    """Freeze ``model``, give it a fresh classifier for ``num_classes`` (``reset_classifier``), and return SGD
    (momentum 0.9) over exactly the trainable parameters: the new head's, no frozen weight."""
    freeze(model)
    model.reset_classifier(num_classes)
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=0.9)


def freeze_trunk(model):
    """Everything but ``model.get_classifier()`` frozen, BatchNorm running statistics included (they stay fixed
    through later ``model.train()`` calls); the classifier trainable. Returns ``model``."""
    freeze_batchnorm(freeze(model))
    unfreeze(model.get_classifier())
    return model


def model_input(images, model, channels="RGB"):
    """uint8 images (H x W x 3 arrays of one size) whose channels are in the order ``channels`` names (``'RGB'`` as
    PIL loads them, ``'BGR'`` as OpenCV does) -> the float32 N x 3 x H x W batch ``model``'s checkpoint was trained
    on: channels R, G, B (the pixels where they are), its preset read from ``pretrained_cfg``."""
    if channels == "BGR":
        images = [img[..., ::-1] for img in images]
    return apply_preset(to_batch(images), preset_of(model))


def accuracy_of(model, x, y, batch_size=50):
    """Top-1 accuracy of ``model`` on (x, y), batch by batch: eval mode (BatchNorm running statistics, no
    dropout), no autograd graph; the model's train/eval mode is restored afterwards."""
    was_training, dev = model.training, model_device(model)
    model.eval()
    try:
        with torch.no_grad():
            logits = torch.cat([model(to_device(x[i : i + batch_size], dev)).float().cpu()
                                for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)
    return (logits.argmax(1) == torch.as_tensor(y)).float().mean().item()


def classification_loss(logits, labels):
    """Mean cross-entropy of raw ``logits`` (N x C, no softmax applied: ``cross_entropy`` applies log-softmax)."""
    return F.cross_entropy(logits.float(), labels)


def fine_tune_groups(model, lr, trunk_factor=0.01):
    """Optimizer groups for fine-tuning a pretrained ``model``: its classifier at ``lr``, every other trainable
    parameter at ``lr * trunk_factor``; frozen parameters left out, none twice."""
    return discriminative_param_groups([model], model.get_classifier(), lr, trunk_factor)


def domain_loss(domain_head, features_s, features_t, lambd=1.0):
    """DANN's domain loss: the features of both domains through a gradient reversal layer (values unchanged; the
    gradient reaching them through it times ``-lambd``), then ``domain_head`` ((N, 1) logits for 'target'); the mean
    binary cross-entropy with logits over ALL source (label 0) and target (label 1) samples."""
    logits = domain_head(grad_reverse(torch.cat([features_s, features_t]), lambd)).float()
    labels = torch.cat([torch.zeros(len(features_s), 1), torch.ones(len(features_t), 1)]).to(logits.device)
    return F.binary_cross_entropy_with_logits(logits, labels)


def folder_labels(paths):
    """Class index of each image from its parent folder's name, the classes in sorted order (torchvision's
    ImageFolder convention), whatever the order of ``paths``: (int64 labels, list of class names)."""
    classes = sorted({Path(p).parent.name for p in paths})
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[Path(p).parent.name] for p in paths], dtype=np.int64), classes


def fisher_per_sample(model, x, y):
    """Diagonal empirical Fisher: for every trainable parameter, the mean over the samples of the squared
    gradient of that sample's OWN cross-entropy at its label. Eval mode; the model's mode and ``.grad`` untouched."""
    was_training, dev = model.training, model_device(model)
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    model.eval()
    try:
        for i in range(len(x)):
            logits = model(to_device(x[i : i + 1], dev)).float()
            loss = F.cross_entropy(logits, torch.as_tensor(y[i : i + 1]).to(dev))
            grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True, materialize_grads=True)
            for n, g in zip(params, grads):
                fisher[n] += g.pow(2)
    finally:
        model.train(was_training)
    return {n: f / len(x) for n, f in fisher.items()}


def holdout_split(labels, k, seed=0):
    """Early stopping's validation set carved out of the training set: ``k`` random examples of each class
    (``seed``) for validation, all the others for training; two disjoint sorted int64 index arrays (train, val)."""
    val = data.per_class(labels, k, seed)
    return np.setdiff1d(np.arange(len(labels)), val), val
