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


# ----------------------------------------------------------------------------- hardlim and gradients
def mse_of_hardlim(X, t, w, b):
    return float(np.mean(((X @ w + b >= 0).astype(float) - t) ** 2))


@pytest.mark.parametrize("data, name", [(AND, "AND"), (OR, "OR"), (XOR, "XOR")])
def test_backpropagation_cannot_train_hardlim(data, name):
    """The same neuron through the engine (Dense(1, hardlim), gradient descent on MSE) never moves,
    while the perceptron rule separates AND and OR: hardlim's derivative is 0 wherever it exists."""
    from petnet.nn.perceptron import gradient_descent
    X, t = data
    gd = gradient_descent(X, t, learning_rate=1.0, max_iter=50)
    w0, b0 = np.array(gd.start_coef), gd.start_intercept
    assert np.all(X @ w0 + b0 != 0)                     # no sample on the jump: the derivative exists
    assert gd.max_gradient == 0 and not gd.moved
    assert gd.coef == gd.start_coef and gd.intercept == b0
    # independent of the engine: central differences of the same loss are 0 in every direction
    E = mse_of_hardlim(X, t, w0, b0)
    assert gd.loss == [pytest.approx(E)] * 50
    for k in range(3):
        step = np.eye(3)[k] * 1e-6
        assert mse_of_hardlim(X, t, w0 + step[:2], b0 + step[2]) == mse_of_hardlim(X, t, w0 - step[:2], b0 - step[2])
    assert gd.accuracy < 1
    if name != "XOR":                                    # the rule that does train it
        assert Perceptron().fit(X, t).score(X, t) == 1.0
    assert f"{name}: the largest |dE/dw|, |dE/db| in 50 epochs is 0; " in gd.report(name)


def test_hardlim_is_refused_for_backpropagation_with_the_reason(capsys):
    from petnet.cli import main
    from petnet.errors import ParamError
    from petnet.nn.backprop import worked_example
    why = ("cannot be trained by backpropagation: its derivative is 0 wherever it exists (it jumps from 0 "
           "to 1 at n = 0), so every gradient that passes through it is 0 and gradient descent never moves "
           "the weights; the perceptron rule trains it instead (petnet nn perceptron, "
           "petnet.nn.perceptron.Perceptron)")
    with pytest.raises(ParamError) as err:
        worked_example(activation="hardlim")
    assert str(err.value).startswith(f"activation 'hardlim' {why}; choose one of: linear, logsig")
    with pytest.raises(SystemExit) as stop:
        main(["backprop", "--activation", "hardlim"])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith(f"petnet backprop: error: argument --activation: hardlim {why}\n")


def test_the_perceptron_command_shows_both_rules(capsys):
    import json

    from petnet.cli import main
    assert main(["nn", "perceptron", "--gate", "and"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "a = hardlim(w . p + b); perceptron rule: e = t - a, w <- w + lr*e*p, b <- b + lr*e"
    assert out[1].startswith("  AND: converged after ") and out[1].endswith("accuracy 100%")
    assert out[3].startswith("backpropagation instead: the engine's Dense(1, activation=\"hardlim\")")
    assert out[4].startswith("  AND: the largest |dE/dw|, |dE/db| in 100 epochs is 0; ") and "never moved" in out[4]
    assert main(["nn", "perceptron", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["AND"]["accuracy"] == 1.0 and r["gradient_descent"]["gate"] == "AND"
    assert r["gradient_descent"]["max_gradient"] == 0 and not r["gradient_descent"]["moved"]
