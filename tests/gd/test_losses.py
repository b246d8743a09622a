"""Every loss of the catalogue: gradient vs central differences, values vs independent formulas."""

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.gd import losses

RNG = np.random.default_rng(0)


def numerical_gradient(fn, f, h=1e-6):
    g = np.zeros_like(f)
    for i in np.ndindex(f.shape):
        fp, fm = f.copy(), f.copy()
        fp[i] += h
        fm[i] -= h
        g[i] = (fn(fp) - fn(fm)) / (2 * h)
    return g


def away_from(values, kinks, gap=1e-3):
    """Nudge values so none lies within ``gap`` of a kink (where the gradient jumps)."""
    v = values.copy()
    for k in kinks:
        close = np.abs(v - k) < gap
        v[close] = k + 10 * gap
    return v


def labels_pm1(n):
    return RNG.choice([-1.0, 1.0], n)


def case(name):
    n = 9
    if name in ("zero_one", "log", "exponential", "hinge", "perceptron"):
        y = labels_pm1(n)
        m = away_from(RNG.normal(0, 1.5, n), [0.0, 1.0])       # margins y*f away from the kinks
        return y, m * y
    if name in ("absolute",):
        y = RNG.normal(size=n)
        return y, y + away_from(RNG.normal(size=n), [0.0])
    if name in ("squared", "mse", "half_mse"):
        return RNG.normal(size=n), RNG.normal(size=n)
    if name == "huber":                                          # residuals away from the kinks at +-1
        y = RNG.normal(size=n)
        return y, y + away_from(RNG.normal(0, 2, n), [-1.0, 1.0])
    if name == "binary_ce":
        return RNG.integers(0, 2, n).astype(float), RNG.uniform(0.05, 0.95, n)
    if name == "categorical_ce":
        Y = np.eye(4)[RNG.integers(0, 4, n)]
        P = RNG.uniform(0.05, 1.0, (n, 4))
        return Y, P / P.sum(1, keepdims=True)
    raise AssertionError(name)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_gradient_matches_central_differences(name):
    loss = losses.get(name)
    y, f = case(name)
    num = numerical_gradient(lambda ff: loss.value(y, ff), f)
    np.testing.assert_allclose(loss.gradient(y, f), num, rtol=1e-5, atol=1e-8)


def test_catalogue_is_the_talks():
    talks = {name for name in losses.LOSSES if losses.get(name).in_talk}
    assert talks == {"zero_one", "absolute", "log", "squared", "mse", "half_mse", "exponential",
                     "hinge", "perceptron", "binary_ce", "categorical_ce"}
    assert set(losses.LOSSES) - talks == {"huber"}                # the one addition: robust regression


def test_values_against_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    y, f = case("log")
    t = lambda a: torch.tensor(a, dtype=torch.float64)
    assert losses.get("log").value(y, f) == pytest.approx(F.soft_margin_loss(t(f), t(y)).item(), rel=1e-12)
    assert losses.get("hinge").value(y, f) == pytest.approx(
        torch.clamp(1 - t(y) * t(f), min=0).mean().item(), rel=1e-12)
    y, p = case("binary_ce")
    assert losses.get("binary_ce").value(y, p) == pytest.approx(
        F.binary_cross_entropy(t(p), t(y)).item(), rel=1e-12)
    Y, P = case("categorical_ce")
    assert losses.get("categorical_ce").value(Y, P) == pytest.approx(
        F.nll_loss(torch.log(t(P)), t(Y.argmax(1)).long()).item(), rel=1e-12)
    y, f = case("mse")
    assert losses.get("mse").value(y, f) == pytest.approx(F.mse_loss(t(f), t(y)).item(), rel=1e-12)
    assert losses.get("absolute").value(y, f) == pytest.approx(F.l1_loss(t(f), t(y)).item(), rel=1e-12)


def test_simple_values():
    y = np.array([1.0, -1.0, 1.0, -1.0])
    f = np.array([2.0, -0.5, -0.1, 3.0])           # two right, two wrong
    assert losses.get("zero_one").value(y, f) == 0.5
    assert losses.get("perceptron").value(y, f) == pytest.approx((0.1 + 3.0) / 4)
    assert losses.get("exponential").value(y, f) == pytest.approx(np.mean(np.exp([-2, -0.5, 0.1, 3])))
    assert losses.get("squared").value([1.0, 2.0], [0.0, 0.0]) == 5.0
    assert losses.get("half_mse").value([1.0, 2.0], [0.0, 0.0]) == 1.25


def test_errors():
    with pytest.raises(PetnetError, match="same shape"):
        losses.get("mse").value([1.0, 2.0], [1.0])
    with pytest.raises(PetnetError, match="unknown loss"):
        losses.get("l7")
    with pytest.raises(PetnetError, match="empty"):
        losses.get("mse").value([], [])


def test_huber_against_pytorch_and_its_closed_form():
    torch = pytest.importorskip("torch")
    y, f = RNG.normal(size=50), RNG.normal(0, 3, 50)
    for delta in (0.5, 1.0, 2.5):
        ref = torch.nn.functional.huber_loss(torch.tensor(f), torch.tensor(y), delta=delta).item()
        assert losses.Huber(delta).value(y, f) == pytest.approx(ref, rel=1e-12)
    r = np.array([0.5, 3.0])
    assert losses.Huber(1.0).value(np.zeros(2), r) == pytest.approx((0.125 + 2.5) / 2)


def test_pointwise_values_and_gradients():
    v, g = losses.pointwise("absolute", [-2.0, 0.5])
    np.testing.assert_array_equal(v, [2.0, 0.5]) and np.testing.assert_array_equal(g, [-1.0, 1.0])
    v, g = losses.pointwise("hinge", [-1.0, 0.5, 2.0])                  # margin y f, y = +1
    np.testing.assert_array_equal(v, [2.0, 0.5, 0.0]) and np.testing.assert_array_equal(g, [-1.0, -1.0, 0.0])
    v, g = losses.pointwise("categorical_ce", [0.25, 0.5])               # p of the true class
    np.testing.assert_allclose(v, -np.log([0.25, 0.5])) and np.testing.assert_allclose(g, [-4.0, -2.0])
    v, g = losses.pointwise("binary_ce", [0.25])
    np.testing.assert_allclose(v, [-np.log(0.25)]) and np.testing.assert_allclose(g, [-4.0])
