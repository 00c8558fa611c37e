"""tlkit.freezing: which parameters train, BatchNorm kept frozen through model.train(), stages, LR groups."""
import copy
import io
import math
import pickle

import pytest
import torch
from timm.layers import BatchNormAct2d
from torch import nn

from tlkit.freezing import (count_parameters, discriminative_param_groups, freeze, freeze_batchnorm,
                            freeze_stages, unfreeze)


def _net():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))


def _stages(n=4):
    return [nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3)) for _ in range(n)]


def test_freeze_unfreeze_nested_and_return_module():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
    assert freeze(net[1]) is net[1]
    assert all(p.requires_grad for p in net[0].parameters())
    assert not any(p.requires_grad for p in net[1].parameters())
    assert unfreeze(net) is net
    assert all(p.requires_grad for p in net.parameters())


def test_count_parameters_trainable_shared_and_buffers():
    a = nn.Linear(3, 4)  # 16
    net = nn.Sequential(a, nn.BatchNorm1d(4), a)  # shared layer counted once; BN has 8 params + buffers
    assert count_parameters(net) == 24
    freeze(net[1])
    assert count_parameters(net) == 16
    assert count_parameters(net, trainable_only=False) == 24
    assert type(count_parameters(net)) is int


def test_freeze_batchnorm_survives_train_and_uses_running_stats():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Unflatten(1, (4, 1, 1)),
                        nn.BatchNorm2d(4), nn.Unflatten(2, (1, 1)), nn.BatchNorm3d(4))
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    before = [copy.deepcopy(bn.state_dict()) for bn in bns]
    assert freeze_batchnorm(net) is net
    net.train()
    net(torch.randn(8, 3))
    for bn, old in zip(bns, before):
        assert not bn.training and not any(p.requires_grad for p in bn.parameters())
        for k, v in bn.state_dict().items():
            assert torch.equal(v, old[k]), k
    assert net[0].weight.requires_grad and net[2].training  # the rest still trains
    x = torch.randn(5, 4)
    ref = nn.functional.batch_norm(x, bns[0].running_mean, bns[0].running_var, bns[0].weight, bns[0].bias, False)
    assert torch.allclose(bns[0](x), ref)


def test_freeze_batchnorm_timm_subclass_deepcopy_pickle_and_save():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), BatchNormAct2d(4))
    freeze_batchnorm(net)
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    for model in (net, copy.deepcopy(net), torch.load(buffer, weights_only=False), pickle.loads(pickle.dumps(net))):
        model.train()
        mean = model[1].running_mean.clone()
        model(torch.randn(2, 3, 5, 5))
        assert not model[1].training and torch.equal(model[1].running_mean, mean)
        assert model[1].train.module is model[1]  # a copy's BatchNorm keeps itself in eval mode, not the original


@pytest.mark.parametrize("n", [0, 1, 3, 4])
def test_freeze_stages(n):
    stages = _stages()
    freeze(stages[3])  # must come back when it is past the frozen prefix
    freeze_stages(stages, n)
    for i, s in enumerate(stages):
        assert all(p.requires_grad == (i >= n) for p in s.parameters())


@pytest.mark.parametrize("n", [-1, 5])
def test_freeze_stages_out_of_range(n):
    with pytest.raises(ValueError):
        freeze_stages(_stages(), n)


def test_discriminative_param_groups():
    stages, head = _stages(3), nn.Linear(3, 2)
    freeze_stages(stages, 1)
    stages[2][0].bias.requires_grad_(False)
    groups = discriminative_param_groups(stages, head, base_lr=1e-2, decay=0.5)
    assert [g["lr"] for g in groups] == pytest.approx([1e-2, 5e-3, 2.5e-3])
    assert [len(g["params"]) for g in groups] == [2, 3, 4]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for m in [head, *stages] for p in m.parameters() if p.requires_grad}
    opt = torch.optim.AdamW(groups)
    head(stages[2](stages[1](torch.randn(4, 3)))).sum().backward()
    opt.step()


def test_discriminative_param_groups_shared_and_empty():
    shared = nn.Linear(3, 3)
    stages, head = [nn.Linear(3, 3), freeze(nn.Linear(3, 3)), shared], nn.Sequential(shared, nn.Linear(3, 2))
    groups = discriminative_param_groups(stages, head, base_lr=1.0, decay=0.1)
    assert [g["lr"] for g in groups] == pytest.approx([1.0, 1e-3])  # the shared stage is all in the head group
    assert all(g["params"] for g in groups)
    assert math.isclose(sum(p.numel() for g in groups for p in g["params"]), 12 + 8 + 12)
