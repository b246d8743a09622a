"""LinearRegressionGD(loss=...) against scipy.optimize.minimize on the same loss, the robustness of
absolute and Huber loss to an outlier house, and ``petnet gd losses``."""

import warnings

import numpy as np
import pytest
from PIL import Image
from scipy.optimize import minimize

from petnet import optim
from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.gd import ConvergenceWarning, LinearRegressionGD, example_path, load_xy, losses


@pytest.fixture(scope="module")
def houses():
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    return X, y


@pytest.fixture(scope="module")
def with_outlier(houses):
    X, y = houses
    return np.r_[X, [[1500.0]]], np.r_[y, 5_000_000.0]     # a 1500 sqft house sold for 5 million


def scipy_fit(loss, X, y, start):
    """The reference: minimise the same loss of a0 + a1 x with scipy (Nelder-Mead, run to the end)."""
    fn = lambda th: loss.value(y, th[0] + X[:, 0] * th[1])
    x = np.asarray(start, dtype=float)
    for _ in range(3):
        x = minimize(fn, x, method="Nelder-Mead",
                     options=dict(xatol=1e-10, fatol=1e-10, maxiter=20000, maxfev=40000)).x
    return x, fn(x)


@pytest.mark.parametrize("loss, lr", [("mse", None), ("squared", 0.01), (losses.Huber(50_000), None),
                                      ("half_mse", None)])
def test_regression_losses_match_scipy(with_outlier, loss, lr):
    X, y = with_outlier
    model = LinearRegressionGD(loss=loss, learning_rate=lr, tol=1e-9, n_iter_no_change=5,
                               max_iter=100_000).fit(X, y)
    assert model.converged_
    ref, ref_loss = scipy_fit(losses.get(loss), X, y, [1.0, 1.0])
    np.testing.assert_allclose([model.intercept_, *model.coef_], ref, rtol=1e-6)
    assert model.loss_curve_[-1] == pytest.approx(ref_loss, rel=1e-9)      # in the loss's own units
    assert model.loss_on(X, y) == pytest.approx(model.loss_curve_[-1], rel=1e-12)


def test_absolute_loss_matches_scipy_with_a_decaying_rate(with_outlier):
    X, y = with_outlier
    lr = optim.ExponentialDecay(0.05, 2000, 0.1)   # a subgradient method needs a shrinking step
    model = LinearRegressionGD("adam", loss="absolute", learning_rate=lr, tol=1e-9, max_iter=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    ref, ref_loss = scipy_fit(losses.get("absolute"), X, y, [1.0, 1.0])
    assert model.loss_curve_[-1] == pytest.approx(ref_loss, rel=1e-8)
    np.testing.assert_allclose([model.intercept_, *model.coef_], ref, rtol=1e-6)


def test_absolute_and_huber_are_robust_to_an_outlier_house(houses, with_outlier):
    X, y = houses
    clean = np.linalg.lstsq(np.c_[np.ones(len(y)), X], y, rcond=None)[0][1]          # 155 $/sqft
    Xo, yo = with_outlier
    mse = LinearRegressionGD().fit(Xo, yo).coef_[0]
    huber = LinearRegressionGD(loss=losses.Huber(50_000), max_iter=50_000).fit(Xo, yo).coef_[0]
    absolute = LinearRegressionGD("adam", loss="absolute", max_iter=20_000, tol=1e-9,
                                  learning_rate=optim.ExponentialDecay(0.05, 2000, 0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        absolute = absolute.fit(Xo, yo).coef_[0]
    assert mse < 0                                    # one house turns the least-squares slope around
    assert abs(huber - clean) < 0.05 * clean and abs(absolute - clean) < 0.1 * clean


@pytest.mark.parametrize("name", ["log", "exponential"])
def test_margin_losses_fit_a_linear_classifier_like_scipy(houses, name):
    X, y = houses
    labels = np.where(y > np.median(y), 1.0, -1.0)
    model = LinearRegressionGD(loss=name, tol=1e-12, n_iter_no_change=5, max_iter=20_000).fit(X, labels)
    assert model.converged_
    loss = losses.get(name)
    z = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()    # same minimum over a0 + a1 x as over b0 + b1 z
    ref = minimize(lambda th: loss.value(labels, th[0] + z * th[1]), [0.0, 0.0], method="BFGS",
                   options=dict(gtol=1e-12)).fun
    assert model.loss_curve_[-1] == pytest.approx(ref, rel=1e-6)
    np.testing.assert_array_equal(model.path_[0], [0.0, 0.0])                # a classifier starts at 0
    assert np.mean(np.sign(model.predict(X)) == labels) > 0.75


def test_default_loss_is_the_talks_mse_half(houses):
    X, y = houses
    a = LinearRegressionGD().fit(X, y)
    b = LinearRegressionGD(loss="half_mse").fit(X, y)
    assert type(a.loss_) is losses.HalfMSE
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    assert a.n_iter_ == 26 and f"{a.coef_[0]:.6g}" == "155.318"              # the README's numbers


@pytest.mark.parametrize("loss, match", [("zero_one", "cannot be fitted"), ("binary_ce", "probabilities"),
                                         ("categorical_ce", "probabilities"), ("l2", "must be one of")])
def test_losses_a_linear_score_cannot_fit(houses, loss, match):
    X, y = houses
    with pytest.raises(ParamError, match=match) as exc:
        LinearRegressionGD(loss=loss).fit(X, y)
    assert exc.value.param == "loss"


def test_margin_losses_need_labels_of_minus_one_or_one(houses):
    X, y = houses
    with pytest.raises(PetnetError, match="needs labels y of -1 or \\+1"):
        LinearRegressionGD(loss="hinge").fit(X, y)


def test_gd_losses_command(capsys, tmp_path):
    png = tmp_path / "losses.png"
    assert main(["gd", "losses", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in losses.LOSSES.names():
        assert any(line.startswith(f"{name} ") for line in lines)
    half = next(line for line in lines if line.startswith("half_mse "))
    assert half.split()[2:9] == ["2", "0.5", "0.125", "0", "0.125", "0.5", "2"]     # r^2 / 2
    with Image.open(png) as im:
        assert im.size[0] > 1000
