"""Vanishing gradients (talk 3.2.2): petnet's per-layer gradient norms against PyTorch autograd on
the same float64 weights, and the claim itself (sigmoid: first layer orders of magnitude below the
last; residual: not)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from petnet.errors import ParamError
from petnet.nn import vanishing
from tests.conftest import shared_path


def batch(n=32, dim=784, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, dim)), rng.integers(0, 10, n)     # pixel-like inputs in [0, 1), digit labels


def torch_norms(model, kind, x, y):
    """The same network written directly in PyTorch with petnet's weights; autograd's kernel-gradient norms."""
    layers = vanishing.dense_layers(model)
    ws = [(torch.tensor(l.kernel, requires_grad=True), torch.tensor(l.bias, requires_grad=True)) for l in layers]
    h = torch.tensor(x)
    if kind == "residual":
        h = torch.sigmoid(h @ ws[0][0] + ws[0][1])
        for (w1, b1), (w2, b2) in zip(ws[1:-1:2], ws[2:-1:2]):
            h = h + (torch.sigmoid(h @ w1 + b1) @ w2 + b2)
    else:
        act = torch.sigmoid if kind == "sigmoid" else torch.relu
        for w, b in ws[:-1]:
            h = act(h @ w + b)
    logits = h @ ws[-1][0] + ws[-1][1]
    F.cross_entropy(logits, torch.tensor(y)).backward()
    return np.array([w.grad.norm().item() for w, _ in ws])


@pytest.mark.parametrize("kind", vanishing.KINDS)
@pytest.mark.parametrize("depth", [4, 20])
def test_gradient_norms_match_pytorch(kind, depth):
    model = vanishing.build_net(kind, depth=depth, width=16, random_state=depth, dtype=np.float64)
    assert len(vanishing.dense_layers(model)) == depth
    x, y = batch()
    ours = vanishing.gradient_norms(model, x, y)
    ref = torch_norms(model, kind, x, y)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=0)


def test_sigmoid_vanishes_residual_does_not():
    x, y = batch(64)
    r = {k: vanishing.gradient_norms(vanishing.build_net(k, depth=20, random_state=0, dtype=np.float64), x, y)
         for k in vanishing.KINDS}
    assert r["sigmoid"][0] / r["sigmoid"][-1] < 1e-6          # measured 3e-12 on MNIST, ~1e-11 here
    assert r["residual"][0] / r["residual"][-1] > 1e-2         # measured 0.28
    assert r["residual"].min() > 1e3 * r["sigmoid"][:5].max()   # every residual layer gets a real gradient
    # the decay is geometric: each sigmoid layer passes on at most 1/4 of the slope (measured: a factor
    # 3.5-5.2 per hidden layer; layer 1 sees the 784 pixels, not 32 units, so it starts from layer 2)
    assert np.all(np.diff(np.log10(r["sigmoid"][1:-1])) > np.log10(2.5))


def test_residual_net_is_the_sigmoid_net_plus_skips():
    plain = vanishing.build_net("sigmoid", depth=6, width=8)
    res = vanishing.build_net("residual", depth=6, width=8)
    assert plain.count_params() == res.count_params()
    assert sum(type(l).__name__ == "Add" for l in res.layers) == 2


def test_bad_parameters_are_named():
    with pytest.raises(ParamError, match="depth must be even"):
        vanishing.build_net("residual", depth=7)
    with pytest.raises(ParamError, match="kind must be one of sigmoid, relu, residual"):
        vanishing.build_net("tanh")
    with pytest.raises(ParamError, match="depth must be at most 200"):
        vanishing.vanishing(depth=10_000)


def test_on_mnist_only_the_residual_net_learns_quickly():
    folder = shared_path("data", "mnist")
    r = vanishing.vanishing(folder, depth=20, n_train=2000, n_test=500, epochs=5)   # residual: 0.60
    assert r.ratio("sigmoid") < 1e-9 and r.ratio("residual") > 1e-2
    acc = {k: h["val_accuracy"][-1] for k, h in r.history.items()}
    assert acc["sigmoid"] < 0.2                   # chance is 0.1: it does not learn
    assert acc["residual"] > acc["sigmoid"] + 0.2
    assert "first/last" in vanishing.format_result(r)


def test_parameters_are_checked_before_any_work(monkeypatch):
    monkeypatch.setattr(vanishing, "load_digits", lambda *a: pytest.fail("data read before the checks"))
    with pytest.raises(ParamError, match="depth must be even"):
        vanishing.vanishing(depth=7)
    with pytest.raises(ParamError, match=r"n_train must be at least batch_size \(64\)"):
        vanishing.vanishing(n_train=10)
    with pytest.raises(ParamError, match="learning_rate must be greater than 0"):
        vanishing.vanishing(learning_rate=0)


def test_command_line(capsys, tmp_path):
    from petnet.cli import main

    folder = shared_path("data", "mnist")
    out = tmp_path / "v.png"
    assert main(["nn", "vanishing", "--data", str(folder), "--depth", "6", "--epochs", "1", "--limit", "128",
                 "--test-limit", "50", "--quiet", "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    assert "first/last" in text and "test accuracy after each epoch" in text and out.stat().st_size > 1000
    assert main(["nn", "vanishing", "--depth", "7"]) == 2
    assert "error: --depth must be even" in capsys.readouterr().err
