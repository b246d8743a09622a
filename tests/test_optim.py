"""petnet.optim against torch.optim, step by step, and the batching helper."""

import numpy as np
import pytest
import torch

from petnet import optim
from petnet.errors import PetnetError

CASES = [
    (optim.GD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (optim.Momentum(lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (optim.Nesterov(lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    (optim.AdaGrad(lr=0.3), lambda p: torch.optim.Adagrad(p, lr=0.3, eps=1e-10)),
    (optim.RMSProp(lr=0.01, rho=0.9), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    (optim.Adam(lr=0.02), lambda p: torch.optim.Adam(p, lr=0.02)),
]


@pytest.mark.parametrize("ours,theirs", CASES, ids=[c[0].name for c in CASES])
def test_matches_torch_optim_on_a_quadratic(ours, theirs):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    target = rng.normal(size=(3, 4))
    p = a.copy()
    pt = torch.tensor(a.copy(), requires_grad=True)
    topt = theirs([pt])
    for _ in range(25):
        # loss = sum((p - target)^2 * w) with a non-uniform weight so the steps differ per element
        w = np.arange(1, 13).reshape(3, 4) / 6.0
        ours.step([p], [2 * (p - target) * w])
        topt.zero_grad()
        loss = ((pt - torch.tensor(target)) ** 2 * torch.tensor(w)).sum()
        loss.backward()
        topt.step()
        np.testing.assert_allclose(p, pt.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert not np.allclose(p, a)  # it moved


def test_schedules():
    s = optim.StepDecay(0.1, every=10, factor=0.5)
    assert s(1) == 0.1 and s(10) == 0.1 and s(11) == 0.05
    e = optim.ExponentialDecay(1.0, decay_steps=10, rate=0.5)
    assert e(10) == pytest.approx(0.5) and e(20) == pytest.approx(0.25)
    o = optim.GD(lr=s)
    p = np.zeros(1)
    for _ in range(11):
        o.step([p], [np.ones(1)])
    assert p[0] == pytest.approx(-(10 * 0.1 + 0.05))


def test_batches_cover_every_sample_once():
    idx = list(optim.batches(10, 3, rng=0))
    assert [len(b) for b in idx] == [3, 3, 3, 1]
    assert sorted(np.concatenate(idx).tolist()) == list(range(10))
    assert [len(b) for b in optim.batches(10, None)] == [10]


def test_bad_input():
    with pytest.raises(PetnetError, match="learning rate"):
        optim.GD(lr=-1)
    with pytest.raises(PetnetError, match="unknown optimizer"):
        optim.get("lbfgs")
    with pytest.raises(PetnetError, match="shape"):
        optim.GD().step([np.zeros(2)], [np.zeros(3)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_in_place_is_the_textbook_formula_to_the_last_bit(dtype):
    """``Adam._update`` works in place (no new arrays per step): the same digits as the formula
    ``p -= lr * m_hat / (sqrt(v_hat) + eps)`` written with temporaries."""
    rng = np.random.default_rng(4)
    p = rng.normal(size=(50, 7)).astype(dtype)
    q, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
    opt = optim.Adam(lr=0.003)
    for t in range(1, 40):
        g = (rng.normal(size=p.shape) * 10.0 ** rng.integers(-6, 2)).astype(dtype)
        opt.step([p], [g])
        m *= 0.9
        m += (1.0 - 0.9) * g
        v *= 0.999
        v += (1.0 - 0.999) * g * g
        q -= 0.003 * (m / (1.0 - 0.9 ** t)) / (np.sqrt(v / (1.0 - 0.999 ** t)) + 1e-8)
        np.testing.assert_array_equal(p, q)
    assert p.dtype == dtype
