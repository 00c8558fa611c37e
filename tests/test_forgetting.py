"""tlkit.forgetting: per-sample Fisher, EWC / L2-SP penalties, the distillation loss and the two-headed model."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tlkit.forgetting import TwoHeads, distillation_loss, ewc_penalty, fisher_diagonal, l2sp_penalty, snapshot


def tiny_net(seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Dropout(0.5), nn.Linear(4, 5))
    with torch.no_grad():  # non-trivial running statistics, so eval and train mode differ
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
    return net


def batch(n=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 6, 6, generator=g), torch.randint(0, 5, (n,), generator=g)


def loop_fisher(net, x, y):
    net.eval()
    out = {n: torch.zeros_like(p) for n, p in net.named_parameters() if p.requires_grad}
    for i in range(len(x)):
        net.zero_grad()
        F.cross_entropy(net(x[i : i + 1]), y[i : i + 1]).backward()
        for n in out:
            out[n] += dict(net.named_parameters())[n].grad ** 2 / len(x)
    net.zero_grad()
    return out


@pytest.mark.parametrize("batch_size", [1, 4, 32])
def test_fisher_is_mean_of_squared_per_sample_gradients(batch_size):
    net, (x, y) = tiny_net(), batch()
    fisher = fisher_diagonal(net, x, y, batch_size=batch_size)
    expected = loop_fisher(tiny_net(), x, y)
    assert set(fisher) == set(expected)
    for n in expected:
        torch.testing.assert_close(fisher[n], expected[n], rtol=1e-4, atol=1e-7)


def test_fisher_is_not_the_squared_batch_gradient():
    net, (x, y) = tiny_net(), batch()
    fisher = fisher_diagonal(net, x, y)
    net.eval()
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    batch_sq = sum((p.grad**2).sum() for p in net.parameters())
    assert sum(f.sum() for f in fisher.values()) > 1.5 * batch_sq


def test_fisher_leaves_model_untouched_and_skips_frozen():
    net, (x, y) = tiny_net(), batch()
    net[0].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for mode in (True, False):
        net.train(mode)
        fisher = fisher_diagonal(net, x, y)
        assert net.training is mode and all(m.training is mode for m in net.modules())
    assert "0.weight" not in fisher and "0.bias" in fisher
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
    assert all((f >= 0).all() for f in fisher.values())


def test_ewc_penalty():
    net = tiny_net()
    anchor = snapshot(net)
    fisher = {"6.weight": torch.rand(5, 4), "0.bias": torch.rand(4)}
    assert ewc_penalty(net, fisher, anchor, 3.0).item() == 0.0
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    params = dict(net.named_parameters())
    expected = 3.0 / 2 * sum((fisher[n] * (params[n] - anchor[n]) ** 2).sum() for n in fisher)
    pen = ewc_penalty(net, fisher, anchor, 3.0)
    assert pen.ndim == 0
    torch.testing.assert_close(pen, expected)
    pen.backward()
    torch.testing.assert_close(net[6].weight.grad, 3.0 * fisher["6.weight"] * (params["6.weight"] - anchor["6.weight"]))
    assert net[0].weight.grad is None  # only the parameters named in fisher


def test_l2sp_penalty():
    net = tiny_net()
    anchor = {"6.weight": net[6].weight.detach().clone(), "0.weight": net[0].weight.detach().clone()}
    assert l2sp_penalty(net, anchor, 0.5).item() == 0.0  # anchored at the start, not at zero
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    expected = 0.5 / 2 * sum(((dict(net.named_parameters())[n] - a) ** 2).sum() for n, a in anchor.items())
    pen = l2sp_penalty(net, anchor, 0.5)
    torch.testing.assert_close(pen, expected)
    pen.backward()
    torch.testing.assert_close(net[6].weight.grad, 0.5 * (net[6].weight - anchor["6.weight"]).detach())
    assert net[6].bias.grad is None


def test_distillation_loss():
    torch.manual_seed(0)
    s, t = torch.randn(4, 7, requires_grad=True), torch.randn(4, 7, requires_grad=True)
    T = 3.0
    p_t = F.softmax(t / T, 1)
    expected = T**2 * (p_t * (F.log_softmax(t / T, 1) - F.log_softmax(s / T, 1))).sum(1).mean()
    loss = distillation_loss(s, t, T)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(distillation_loss(s.repeat(3, 1), t.repeat(3, 1), T), expected)  # batch mean
    assert distillation_loss(t, t, T).item() == pytest.approx(0.0, abs=1e-6)
    loss.backward()
    assert s.grad is not None and t.grad is None  # the teacher is a fixed target


class FakeTimm(nn.Module):
    """The timm interface TwoHeads relies on, in miniature."""

    num_features = 4

    def __init__(self):
        super().__init__()
        self.body, self.classifier = nn.Conv2d(3, 4, 3), nn.Linear(4, 10)

    def forward_features(self, x):
        return self.body(x)

    def forward_head(self, f, pre_logits=False):
        f = f.mean((2, 3))
        return f if pre_logits else self.classifier(f)

    def get_classifier(self):
        return self.classifier

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def test_two_heads():
    torch.manual_seed(0)
    backbone = FakeTimm()
    model = TwoHeads(backbone, 3)
    x = torch.randn(2, 3, 8, 8)
    old, new = model.both(x)
    assert old.shape == (2, 10) and new.shape == (2, 3)
    torch.testing.assert_close(model(x), new)
    torch.testing.assert_close(backbone(x), old)


def test_penalties_with_nothing_to_penalise_are_zero_tensors():
    net = tiny_net()
    for pen in (ewc_penalty(net, {}, snapshot(net), 2.0), l2sp_penalty(net, {}, 2.0)):
        assert torch.is_tensor(pen) and pen.ndim == 0 and pen.item() == 0.0


def test_fit_passes_extra_batch_tensors_to_the_step_function():
    """tlkit.train.fit: tensors after (x, y) in a batch reach the step function (LwF's cached teacher logits)."""
    from tlkit.data import loader
    from tlkit.train import fit

    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    x, y, extra = torch.randn(8, 3), torch.randint(0, 2, (8,)), torch.arange(8.0)
    seen = []

    def step(model, batch, progress):
        xb, yb, eb = batch
        seen.append(eb.tolist())
        logits = model(xb)
        return F.cross_entropy(logits, yb), logits, yb, {"extra": eb.mean()}

    history = fit(net, loader(x, y, extra, batch_size=4), torch.optim.SGD(net.parameters(), lr=0.1), 1,
                  step_fn=step, progress=False)
    assert seen == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    assert history["extra"] == [pytest.approx(3.5)] and len(history["train_loss"]) == 1
