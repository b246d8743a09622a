"""The hardlim perceptron: learns AND, OR and a separable cloud; cannot learn XOR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.nn.perceptron import AND, OR, XOR, Perceptron


@pytest.mark.parametrize("data, name", [(AND, "AND"), (OR, "OR")])
def test_learns_and_or(data, name):
    X, t = data
    p = Perceptron().fit(X, t)
    assert p.converged_ and p.errors_[-1] == 0
    np.testing.assert_array_equal(p.predict(X), t)
    # the learned line really separates: n >= 0 exactly for the 1s (independent of predict)
    n = X @ p.coef_ + p.intercept_
    assert np.all((n >= 0) == (t == 1))
    assert "converged after" in p.report(X, t, name)


def test_first_epoch_follows_the_rule_by_hand():
    # AND from w = 0, b = 0, lr = 1: (0,0) -> a = 1, t = 0: w = (0,0), b = -1;
    # (0,1) -> n = -1, a = 0 ok; (1,0) ok; (1,1) -> n = -1, a = 0, t = 1: w = (1,1), b = 0
    p = Perceptron(max_iter=1).fit(*AND)
    np.testing.assert_array_equal(p.coef_, [1.0, 1.0])
    assert p.intercept_ == 0.0 and p.errors_ == [2] and not p.converged_


def test_separable_cloud_converges():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    w_true, b_true = np.array([1.5, -2.0, 0.5]), 0.3
    n = X @ w_true + b_true
    keep = np.abs(n) > 0.3          # a margin, so convergence is quick
    X, t = X[keep], (n[keep] > 0).astype(int)
    p = Perceptron(max_iter=500, shuffle=True).fit(X, t)
    assert p.converged_
    assert p.score(X, t) == 1.0
    # direction close to the true normal
    cos = p.coef_ @ w_true / np.linalg.norm(p.coef_) / np.linalg.norm(w_true)
    assert cos > 0.9


def test_xor_cannot_be_separated():
    X, t = XOR
    p = Perceptron(max_iter=200).fit(X, t)
    assert not p.converged_
    assert p.n_iter_ == 200 and min(p.errors_) > 0
    assert p.score(X, t) < 1.0
    assert "NOT separable" in p.report(X, t, "XOR")
    # and no line at all does it: brute force over a grid of (w1, w2, b)
    grid = np.linspace(-3, 3, 25)
    for w1, w2, b in itertools.product(grid, grid, grid):
        assert not np.all(((X @ [w1, w2] + b) >= 0) == (t == 1))


def test_bad_input():
    with pytest.raises(PetnetError, match="0 or 1"):
        Perceptron().fit(AND[0], [0, 2, 1, 1])
    with pytest.raises(PetnetError, match="4 samples"):
        Perceptron().fit(AND[0], [0, 1])
    with pytest.raises(PetnetError, match="2-D"):
        Perceptron().fit([1, 2, 3], [0, 1, 1])
    with pytest.raises(PetnetError, match="learning_rate must be greater than 0"):
        Perceptron(learning_rate=0).fit(*AND)        # scikit-learn: validated in fit
    with pytest.raises(PetnetError, match="max_iter must be at least 1"):
        Perceptron(max_iter=0).fit(*AND)


def test_old_parameter_names_still_work_with_a_warning():
    with pytest.warns(DeprecationWarning) as record:
        p = Perceptron(lr=0.5, max_epochs=1, seed=3)
    assert sorted(str(w.message) for w in record) == ["lr= is deprecated, use learning_rate=",
                                                      "max_epochs= is deprecated, use max_iter=",
                                                      "seed= is deprecated, use random_state="]
    assert (p.learning_rate, p.max_iter, p.random_state) == (0.5, 1, 3)
    assert p.fit(*AND) is p and p.n_iter_ == 1
