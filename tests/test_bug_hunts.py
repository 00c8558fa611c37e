"""tlkit.bug_hunts: the fixed functions of lesson 09's drills (the references of its graded exercises)."""
import copy
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from tlkit import train
from tlkit.bug_hunts import (accuracy_of, classification_loss, domain_loss, fine_tune_groups, fisher_per_sample,
                             folder_labels, freeze_trunk, head_optimizer, holdout_split, model_input)
from tlkit.forgetting import TwoHeads, fisher_diagonal
from tlkit.freezing import freeze
from tlkit.models import DigitNet

pytestmark = pytest.mark.usefixtures("one_thread")
TF = SimpleNamespace(pretrained_cfg={"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)})
TORCH = SimpleNamespace(pretrained_cfg={"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)})


def test_head_optimizer_holds_exactly_the_new_head():
    net = DigitNet()
    opt = head_optimizer(net, 4, lr=0.1)
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    assert held == {id(p) for p in net.get_classifier().parameters()}
    assert net.get_classifier()[-1].out_features == 4
    assert not any(p.requires_grad for p in net.conv.parameters())
    assert opt.param_groups[0]["momentum"] == 0.9


def test_freeze_trunk_keeps_batchnorm_statistics_through_train():
    net = freeze_trunk(TwoHeads(DigitNet(), 3))
    bn = net.backbone.conv[1]
    before = bn.running_mean.clone()
    net.train()
    net(torch.randn(8, 3, 28, 28) + 3)
    assert torch.equal(bn.running_mean, before)
    assert all(p.requires_grad for p in net.new_head.parameters())
    assert not any(p.requires_grad for p in net.backbone.parameters())


def test_model_input_reads_the_checkpoint_preset():
    img = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    unit = torch.from_numpy(img).permute(2, 0, 1).float()[None] / 255
    assert torch.allclose(model_input([img], TF), unit * 2 - 1, atol=1e-6)
    mean, std = torch.tensor(TORCH.pretrained_cfg["mean"]).view(1, 3, 1, 1), torch.tensor(TORCH.pretrained_cfg["std"]).view(1, 3, 1, 1)
    assert torch.allclose(model_input([img], TORCH), (unit - mean) / std, atol=1e-5)


def test_model_input_bgr_reverses_the_channels_only():
    rgb = np.random.default_rng(1).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    bgr = rgb[..., ::-1]                                  # a view, as a loader may return
    saved = bgr.copy()
    for ckpt in (TF, TORCH):
        assert torch.allclose(model_input([bgr], ckpt, channels="BGR"), model_input([rgb], ckpt))
    assert np.array_equal(bgr, saved)


def test_accuracy_of_eval_no_grad_mode_restored():
    torch.manual_seed(0)
    net, x, y = DigitNet().train(), torch.randn(30, 3, 28, 28), torch.randint(0, 10, (30,))
    state = {k: v.clone() for k, v in net.state_dict().items()}
    seen = []
    net.register_forward_hook(lambda m, i, o: seen.append((torch.is_grad_enabled(), m.training)))
    acc = accuracy_of(net, x, y, batch_size=7)
    assert abs(acc - train.top1_accuracy(train.predict(net, x), y)) < 1e-6
    assert net.training and all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())
    assert seen and not any(g or t for g, t in seen[:5])


def test_classification_loss_is_cross_entropy_of_logits():
    logits = torch.zeros(2, 4)
    logits[:, 0] = 300.0
    assert abs(classification_loss(logits, torch.tensor([1, 2])).item() - 300.0) < 1e-3
    assert abs(classification_loss(torch.zeros(3, 10), torch.tensor([0, 1, 2])).item() - math.log(10)) < 1e-6


def test_fine_tune_groups_rates_and_frozen():
    net = DigitNet()
    freeze(net.conv[0])
    groups = fine_tune_groups(net, 0.2, trunk_factor=0.5)
    rates = {id(p): g["lr"] for g in groups for p in g["params"]}
    assert sum(len(g["params"]) for g in groups) == len(rates)
    assert all(rates[id(p)] == 0.2 for p in net.classifier.parameters())
    assert all(abs(rates[id(p)] - 0.1) < 1e-12 for p in net.conv[1].parameters())
    assert not any(id(p) in rates for p in net.conv[0].parameters())


def test_domain_loss_reverses_the_features_gradient_over_all_samples():
    torch.manual_seed(0)
    head = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    twin = copy.deepcopy(head)
    raw = torch.randn(5, 4, requires_grad=True)
    h = raw * 1.0
    w = torch.randn(4)
    loss = domain_loss(head, h[:2], h[2:], lambd=0.25)
    plain_f = h.detach().clone().requires_grad_(True)
    plain = F.binary_cross_entropy_with_logits(twin(plain_f), torch.tensor([[0.0], [0.0], [1.0], [1.0], [1.0]]))
    assert abs(loss.item() - plain.item()) < 1e-6
    (loss + (h @ w).sum()).backward()
    plain.backward()
    assert torch.allclose(raw.grad, w.expand(5, 4) - 0.25 * plain_f.grad, atol=1e-6)
    assert all(torch.allclose(p.grad, q.grad) for p, q in zip(head.parameters(), twin.parameters()))
    assert domain_loss(head, torch.randn(2, 4), torch.randn(1, 4)).ndim == 0     # no gradient wanted: no error


def test_folder_labels_sorted_and_order_free():
    paths = ["r/bees/1.jpg", "r/ants/2.jpg", Path("r/wasps/3.jpg"), "r/ants/4.jpg"]
    labels, classes = folder_labels(paths)
    assert classes == ["ants", "bees", "wasps"] and labels.dtype == np.int64
    assert labels.tolist() == [1, 0, 2, 0]
    again, _ = folder_labels(paths[::-1])
    assert again.tolist() == labels.tolist()[::-1]


def test_fisher_per_sample_matches_the_vmap_fisher():
    torch.manual_seed(0)
    net, x, y = DigitNet(num_classes=4).train(), torch.randn(5, 3, 28, 28), torch.randint(0, 4, (5,))
    ours, theirs = fisher_per_sample(net, x, y), fisher_diagonal(net, x, y)
    assert set(ours) == set(theirs)
    assert all(torch.allclose(ours[n], theirs[n], rtol=1e-3, atol=1e-9) for n in ours)
    assert net.training and all(p.grad is None for p in net.parameters())


def test_fisher_per_sample_with_an_unused_parameter():
    net = TwoHeads(DigitNet(num_classes=3), 2)       # model(x) uses the new head: the old one gets zeros
    fisher = fisher_per_sample(net, torch.randn(2, 3, 28, 28), torch.tensor([0, 1]))
    assert torch.count_nonzero(fisher["backbone.classifier.4.weight"]) == 0
    assert torch.count_nonzero(fisher["new_head.weight"]) > 0


def test_holdout_split_disjoint_stratified_seeded():
    labels = np.random.default_rng(0).integers(0, 3, 60)
    tr, va = holdout_split(labels, 4, seed=1)
    assert np.array_equal(np.bincount(labels[va], minlength=3), [4, 4, 4])
    assert not set(tr.tolist()) & set(va.tolist()) and len(tr) + len(va) == 60
    assert tr.dtype == va.dtype == np.int64 and np.all(np.diff(tr) > 0)
    assert np.array_equal(va, holdout_split(labels, 4, seed=1)[1])
