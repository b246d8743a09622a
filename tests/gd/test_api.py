"""The Python API of chapter 2: parameters named in errors, the deprecated ``lr=``, the optimizer
registry, compare() and surface() results against independent references."""

import warnings

import numpy as np
import pytest

from petnet import optim
from petnet.errors import ParamError
from petnet.gd import (Comparison, DivergenceError, LinearRegressionGD, SurfaceResult, compare,
                       example_path, load_xy, surface)
from petnet.gd.linear import MAX_DEGREE, MAX_ITER


@pytest.fixture(scope="module")
def houses():
    X, y, names = load_xy(example_path(), "size_sqft", "price_usd")
    return X, y, names


def lstsq(X, y):
    A = np.column_stack([np.ones(len(y)), X])
    return np.linalg.lstsq(A, y, rcond=None)[0]


def test_fit_returns_self_and_learns_the_least_squares_line(houses):
    X, y, _ = houses
    model = LinearRegressionGD(learning_rate=0.5, tol=1e-9, n_iter_no_change=5)
    assert model.fit(X, y) is model
    np.testing.assert_allclose([model.intercept_, *model.coef_], lstsq(X, y), rtol=1e-6)
    assert model.learning_rate_ == 0.5 and model.converged_


def test_lr_is_a_deprecated_alias_of_learning_rate(houses):
    X, y, _ = houses
    with pytest.warns(DeprecationWarning, match="lr= is deprecated, use learning_rate="):
        old = LinearRegressionGD(lr=0.3)
    new = LinearRegressionGD(learning_rate=0.3)
    assert old.learning_rate == 0.3
    np.testing.assert_array_equal(old.fit(X, y).coef_, new.fit(X, y).coef_)
    with pytest.raises(ParamError, match="lr is the old name of learning_rate"):
        LinearRegressionGD(lr=0.3, learning_rate=0.3)


def test_sgd_is_plain_gradient_descent_from_the_registry(houses):
    X, y, _ = houses
    a = LinearRegressionGD("sgd").fit(X, y)
    b = LinearRegressionGD("gd").fit(X, y)
    assert a.optimizer_.name == "gd" and a.learning_rate_ == 0.5
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("kw, param, problem", [
    (dict(max_iter=0), "max_iter", "at least 1"),
    (dict(max_iter=MAX_ITER + 1), "max_iter", "at most"),
    (dict(tol=-1.0), "tol", "0 or more"),
    (dict(learning_rate=0.0), "learning_rate", "greater than 0"),
    (dict(learning_rate=float("nan")), "learning_rate", "finite"),
    (dict(batch_size=0), "batch_size", "at least 1"),
    (dict(degree=0), "degree", "at least 1"),
    (dict(degree=MAX_DEGREE + 1), "degree", "at most"),
    (dict(random_state=-1), "random_state", "0 or more"),
    (dict(n_iter_no_change=0), "n_iter_no_change", "at least 1"),
    (dict(optimizer="adamw"), "optimizer", "must be one of"),
    (dict(scale="yes"), "scale", "True or False"),
    (dict(feature_names=["a", "b"]), "feature_names", "2 names for 1"),
    (dict(optimizer_options={"momentum": 0.5}), "optimizer_options", "do not fit"),
])
def test_every_bad_parameter_is_a_param_error_naming_it(houses, kw, param, problem):
    X, y, _ = houses
    model = LinearRegressionGD(**kw)              # nothing is checked before fit (scikit-learn)
    with pytest.raises(ParamError, match=problem) as exc:
        model.fit(X, y)
    assert exc.value.param == param and str(exc.value).startswith(param)
    assert "--" not in str(exc.value)


def test_library_messages_name_parameters_not_flags(houses):
    X, y, _ = houses
    with pytest.raises(DivergenceError) as exc:
        LinearRegressionGD(learning_rate=0.5, scale=False).fit(X, y)
    assert "scale=True" in str(exc.value) and "--" not in str(exc.value)
    assert "--scale" in exc.value.spell(scale="--scale")
    with pytest.raises(Exception) as exc:
        LinearRegressionGD().fit(np.c_[X, np.ones(len(y))], y)
    assert "scale=False" in str(exc.value) and "--" not in str(exc.value)


def test_compare_matches_lstsq_and_records_every_optimizer(houses):
    X, y, names = houses
    result = compare(X, y, feature_names=names, target="price_usd", tol=1e-7)
    assert isinstance(result, Comparison)
    ref = lstsq(X, y)
    np.testing.assert_allclose(result.lstsq, ref)
    r = np.column_stack([np.ones(len(y)), X]) @ ref - y
    assert result.min_loss == pytest.approx(0.5 * np.mean(r ** 2), rel=1e-12)
    assert list(result.runs) == ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    assert set(result.runs) == set(optim.OPTIMIZERS.names())
    for run in result.runs.values():
        assert run.failure is None and run.converged
        assert len(run.loss_curve) == run.n_iter + 1 == len(run.path)
        assert run.error == pytest.approx(np.max(np.abs(run.theta - ref) / np.abs(ref)))
        assert run.error < 1e-4
        np.testing.assert_allclose(run.path[0], [1.0, 1.0], atol=1e-6)
    rows = result.table()
    assert [row["optimizer"] for row in rows] == list(result.runs) and rows[0]["learning_rate"] == 0.5


def test_compare_records_a_divergence_instead_of_raising(houses):
    X, y, _ = houses
    result = compare(X, y, optimizers=["gd", "adam"], learning_rate=5.0)
    assert isinstance(result.runs["gd"].failure, DivergenceError)
    assert result.runs["adam"].failure is None
    with pytest.raises(ParamError, match="max_iter"):
        compare(X, y, max_iter=0)


def test_surface_returns_the_paths_that_the_cli_prints():
    result = surface(n_steps=500)
    assert isinstance(result, SurfaceResult)
    f = result.function
    for name, run in result.runs.items():
        assert run.path.shape == (501, 2) and np.array_equal(run.path[0], [2.0, 1.5])
        assert run.value == pytest.approx(float(f(*run.end)))
    assert result.runs["momentum"].reached == "global" and result.runs["gd"].reached == "local"
    # one optimizer by hand: plain gradient descent, x <- x - lr * grad, for 3 steps
    p = np.array([2.0, 1.5])
    for _ in range(3):
        p = p - 0.01 * np.array([4 * p[0] ** 3 - 4 * p[0] + 0.4, p[1]])
    np.testing.assert_allclose(surface(n_steps=3, optimizers=["gd"]).runs["gd"].end, p, rtol=1e-12)


@pytest.mark.parametrize("kw, param", [(dict(n_steps=0), "n_steps"), (dict(n_steps=10 ** 9), "n_steps"),
                                       (dict(start=(1.0,)), "start"), (dict(start=(np.inf, 0)), "start"),
                                       (dict(tilt=3.0), "tilt"), (dict(optimizers=["nope"]), "optimizer")])
def test_surface_parameters_are_checked(kw, param):
    with pytest.raises(ParamError) as exc:
        surface(**kw)
    assert exc.value.param == param


def test_no_deprecation_warning_on_the_new_names(houses):
    X, y, _ = houses
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        LinearRegressionGD(learning_rate=0.5).fit(X, y)
