"""LinearRegressionGD against closed-form least squares (numpy lstsq) and its own contract."""


import numpy as np
import pytest

from petnet import optim
from petnet.errors import PetnetError
from petnet.gd import ConvergenceWarning, LinearRegressionGD, load_xy
from petnet.gd.linear import DEFAULT_LR
from tests.conftest import shared_path

OPTIMIZERS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def lstsq(X, y, degree=1):
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    cols = [X[:, [j]] ** k for j in range(X.shape[1]) for k in range(1, degree + 1)]
    A = np.column_stack([np.ones(len(y))] + cols)
    return np.linalg.lstsq(A, y, rcond=None)[0]


def half_mse(theta, X, y, degree=1):
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    cols = [X[:, [j]] ** k for j in range(X.shape[1]) for k in range(1, degree + 1)]
    A = np.column_stack([np.ones(len(y))] + cols)
    r = A @ theta - y
    return 0.5 * np.mean(r ** 2)


@pytest.fixture(scope="module")
def portland():
    X, y, names = load_xy(shared_path("data", "housing", "portland_housing.csv"),
                          "size_sqft,bedrooms", "price_usd")
    assert X.shape == (47, 2)
    return X, y


# The loss of the Portland fit is ~2e9 (dollars^2), so one unit in its last double-precision digit is
# ~2e-7. A coefficient error of 1e-6 (relative) in the small bedrooms coefficient moves the loss only
# by ~1e-5, so tol must sit near that rounding floor: tol=1e-7 means "the loss no longer changes in
# double precision". n_iter_no_change=5 stops the wiggling momentum/Adam curves from stopping at a
# chance flat point. RMSProp uses its default halving schedule (constant lr ends in a limit cycle).
@pytest.mark.parametrize("cols", [[0], [0, 1]], ids=["area", "area+bedrooms"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_portland_matches_lstsq(portland, name, cols):
    X, y = portland
    Xc = X[:, cols]
    model = LinearRegressionGD(name, tol=1e-7, n_iter_no_change=5, max_iter=50_000).fit(Xc, y)
    assert model.converged_
    ref = lstsq(Xc, y)
    np.testing.assert_allclose(np.r_[model.intercept_, model.coef_], ref, rtol=1e-6)
    # the reported loss is the loss of the reported coefficients, in original units
    assert model.loss_curve_[-1] == pytest.approx(half_mse(np.r_[model.intercept_, model.coef_], Xc, y),
                                                  rel=1e-9)


def test_rmsprop_constant_lr_is_a_limit_cycle(portland):
    """The documented pitfall: with a constant lr RMSProp's steps stay ~lr, the loss stops changing
    (it bounces between points of equal loss) and the tolerance rule is fooled."""
    X, y = portland
    model = LinearRegressionGD("rmsprop", learning_rate=0.01, tol=1e-7, max_iter=20_000).fit(X, y)
    err = np.max(np.abs(np.r_[model.intercept_, model.coef_] / lstsq(X, y) - 1))
    assert err > 1e-3


def test_polynomial_degree2_matches_lstsq(portland):
    X, y = portland
    model = LinearRegressionGD("gd", degree=2, tol=1e-7, n_iter_no_change=5, max_iter=50_000).fit(X[:, :1], y)
    assert model.converged_
    np.testing.assert_allclose(np.r_[model.intercept_, model.coef_], lstsq(X[:, :1], y, 2), rtol=1e-5)
    assert model.feature_names_out_ == ["x1", "x1^2"]


def synthetic(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(500, 3000, n), rng.integers(1, 6, n).astype(float)])
    y = 50_000 + 120 * X[:, 0] - 7000 * X[:, 1] + rng.normal(0, 20_000, n)
    return X, y


def test_path_starts_at_ones_and_loss_curve_is_the_loss_of_the_path():
    X, y = synthetic()
    model = LinearRegressionGD("momentum", max_iter=2000).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(model.path_[0], np.ones(3), atol=1e-6)     # a0 = a1 = a2 = 1
    assert len(model.loss_curve_) == model.n_iter_ + 1 == len(model.path_)
    for k in (0, 1, 5, model.n_iter_):
        assert model.loss_curve_[k] == pytest.approx(half_mse(model.path_[k], X, y), rel=1e-9)


def test_stops_at_first_loss_change_below_tol():
    X, y = synthetic()
    tol = 1.0
    model = LinearRegressionGD("gd", learning_rate=0.1, tol=tol).fit(X, y)
    changes = np.abs(np.diff(model.loss_curve_))
    assert model.converged_ and changes[-1] < tol and (changes[:-1] >= tol).all()


def test_scale_and_no_scale_agree():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 2, 30)
    y = 3 - 2 * x + rng.normal(0, 0.1, 30)
    # tol far below the loss's rounding level: run until the loss stops changing at all
    a = LinearRegressionGD("gd", learning_rate=0.3, scale=False, tol=1e-18, n_iter_no_change=5,
                           max_iter=100_000).fit(x, y)
    b = LinearRegressionGD("gd", tol=1e-18, n_iter_no_change=5, max_iter=100_000).fit(x, y)
    assert a.converged_ and b.converged_
    np.testing.assert_allclose([a.intercept_, *a.coef_], lstsq(x, y), rtol=1e-8)
    np.testing.assert_allclose([b.intercept_, *b.coef_], lstsq(x, y), rtol=1e-8)
    np.testing.assert_allclose(a.predict(x), b.predict(x), rtol=1e-8)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_minibatch_and_stochastic_get_close(batch_size):
    X, y = synthetic(n=64)
    lr = optim.ExponentialDecay(0.05, decay_steps=500, rate=0.5)  # step count t counts mini-batches
    model = LinearRegressionGD("gd", learning_rate=lr, batch_size=batch_size, tol=1e-6, max_iter=3000,
                               random_state=3).fit(X, y)
    ref = lstsq(X, y)
    pred, pred_ref = model.predict(X), np.column_stack([np.ones(len(y)), X]) @ ref
    assert np.max(np.abs(pred - pred_ref)) < 1e-3 * np.std(y)


def test_max_iter_reports_not_converged():
    X, y = synthetic()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        model = LinearRegressionGD("gd", learning_rate=1e-3, max_iter=5).fit(X, y)
    assert not model.converged_ and model.n_iter_ == 5


@pytest.mark.parametrize("kw", [dict(optimizer="gd", learning_rate=5.0),
                                dict(optimizer="gd", learning_rate=0.01, scale=False),
                                dict(optimizer="momentum", learning_rate=3.0),
                                dict(optimizer="adam", learning_rate=1e9, scale=False)])
def test_divergence_is_an_error_naming_the_learning_rate(kw):
    X, y = synthetic()
    with pytest.raises(PetnetError, match="diverged.*learning rate") as exc:
        LinearRegressionGD(max_iter=500, **kw).fit(X, y)
    assert str(kw["learning_rate"]) in str(exc.value) and "smaller" in str(exc.value)


def test_divergence_message_gives_the_stability_bound_of_plain_gd():
    X, y = synthetic()
    with pytest.raises(PetnetError) as exc:
        LinearRegressionGD("gd", learning_rate=3.0).fit(X, y)
    # for standardised features the Hessian of MSE/2 is the correlation matrix (plus the intercept)
    Z = (X - X.mean(0)) / X.std(0)
    H = np.column_stack([np.ones(len(y)), Z])
    bound = 2 / np.linalg.eigvalsh(H.T @ H / len(y))[-1]
    assert f"{bound:.3g}" in str(exc.value)


@pytest.mark.parametrize("X, y, match", [
    ([[1.0], [np.nan], [3.0]], [1, 2, 3], "NaN or inf"),
    ([[1.0], [2.0], [3.0]], [1, np.inf, 3], "NaN or inf"),
    ([["a"], ["b"]], [1, 2], "numbers only"),
    ([[1.0], [2.0], [3.0]], [1, 2], "3 rows but y has 2"),
    (np.empty((0, 1)), [], "no samples"),
    ([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], [1, 2, 3], "constant"),
])
def test_bad_input_is_a_clear_error(X, y, match):
    with pytest.raises(PetnetError, match=match):
        LinearRegressionGD().fit(X, y)


def test_polynomial_needs_enough_distinct_values():
    with pytest.raises(PetnetError, match="distinct"):
        LinearRegressionGD(degree=2).fit([[1.0], [2.0], [1.0]], [1, 2, 3])


def test_bad_parameters():
    X, y = synthetic()
    for kw in (dict(max_iter=0), dict(tol=-1), dict(batch_size=0), dict(degree=0), dict(optimizer="sgdx")):
        with pytest.raises(PetnetError):
            LinearRegressionGD(**kw).fit(X, y)
    with pytest.raises(PetnetError, match="not fitted"):
        LinearRegressionGD().predict(X)
    model = LinearRegressionGD().fit(X, y)
    with pytest.raises(PetnetError, match="2 feature"):
        model.predict(X[:, :1])


def test_default_learning_rates_cover_every_optimizer():
    assert set(OPTIMIZERS) <= set(DEFAULT_LR)
    assert set(optim.OPTIMIZERS.names()) <= set(DEFAULT_LR)    # the registry is the list of names


def test_curve_fit_starts_from_the_talks_line():
    X, y = synthetic()
    model = LinearRegressionGD("gd", degree=2, max_iter=20_000).fit(X[:, :1], y)
    np.testing.assert_allclose(model.path_[0], [1.0, 1.0, 0.0], atol=1e-6)
