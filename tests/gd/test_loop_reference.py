"""The talk's per-sample loop and the vectorised fit walk the same path."""

import numpy as np
import pytest

from petnet.gd import LinearRegressionGD
from petnet.gd.loop_reference import calculate_loss_gradient, gradient_descent


def data():
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 3, (12, 2))
    y = 1.5 + X @ np.array([2.0, -1.0]) + rng.normal(0, 0.1, 12)
    return X, y


def test_loop_gradient_is_the_closed_form():
    X, y = data()
    A = np.column_stack([np.ones(len(y)), X])
    theta = np.array([0.3, -0.2, 0.7])
    grad, loss = calculate_loss_gradient(list(theta), A.tolist(), y.tolist())
    r = A @ theta - y
    np.testing.assert_allclose(grad, A.T @ r / len(y), rtol=1e-12)
    assert loss == pytest.approx(0.5 * np.mean(r ** 2), rel=1e-12)


def test_loop_and_vectorised_fit_take_the_same_steps():
    X, y = data()
    A = np.column_stack([np.ones(len(y)), X])
    theta, losses, n = gradient_descent(A.tolist(), y.tolist(), learning_rate=0.05, max_iterations=40,
                                        tolerance=0.0)
    model = LinearRegressionGD("gd", learning_rate=0.05, scale=False, max_iter=40, tol=0.0)
    with pytest.warns(UserWarning):
        model.fit(X, y)
    assert n == 40
    np.testing.assert_allclose(theta, model.path_[-1], rtol=1e-10)
    np.testing.assert_allclose(losses, model.loss_curve_[:-1], rtol=1e-10)


def test_previous_loss_bug_is_fixed():
    """The talk's loop reads previous_loss before setting it; here the first iteration cannot stop."""
    X, y = data()
    A = np.column_stack([np.ones(len(y)), X])
    _, losses, n = gradient_descent(A.tolist(), y.tolist(), learning_rate=0.05, tolerance=1e300)
    assert n == 2 and len(losses) == 2
