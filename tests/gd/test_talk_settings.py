"""The talk's settings (lr 0.01, 1000 iterations, tol 1e-4, k = 100): the claims of
``petnet gd talk`` against numpy (eigenvalues, lstsq), the closed form of gradient descent on a
quadratic, the talk's own loop (``loop_reference``) and ``LinearRegressionGD``."""

import math
import warnings

import numpy as np
import pytest

from petnet.errors import ParamError
from petnet.gd import ConvergenceWarning, LinearRegressionGD, example_path, load_xy
from petnet.gd.loop_reference import gradient_descent
from petnet.gd.talk_settings import TALK, plot_talk_settings, talk_settings


@pytest.fixture(scope="module")
def data():
    X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    return X, y


@pytest.fixture(scope="module")
def result():
    return talk_settings()


def test_the_talks_settings(result):
    assert (result.learning_rate, result.max_iter, result.tol, result.k) == (0.01, 1000, 1e-4, 100)
    assert TALK == {"learning_rate": 0.01, "max_iter": 1000, "tol": 1e-4, "k": 100}


def test_raw_data_diverges_by_the_factor_of_the_largest_eigenvalue(result, data):
    X, y = data
    x = X[:, 0]
    # eigenvalues of [[1, mean x], [mean x, mean x^2]] from its trace and determinant
    tr, det = 1 + np.mean(x ** 2), np.mean(x ** 2) - np.mean(x) ** 2
    lam = np.array([tr / 2 - math.sqrt(tr ** 2 / 4 - det), tr / 2 + math.sqrt(tr ** 2 / 4 - det)])
    run = result.raw
    np.testing.assert_allclose(run.eigenvalues, lam, rtol=1e-6)
    assert run.diverges and run.iterations_needed is None
    assert run.factor == pytest.approx(abs(1 - 0.01 * lam[1]), rel=1e-9)
    assert run.factor == pytest.approx(46564.0, rel=1e-4)
    assert 0.01 / run.stable_below == pytest.approx(23282, rel=1e-4)       # lr is 23282x the limit
    assert run.condition_number == pytest.approx(3.6e7, rel=0.01)
    # the loss grows by factor^2 per step once the steepest direction dominates
    ratios = run.loss_curve[5:30] / run.loss_curve[4:29]
    np.testing.assert_allclose(ratios, run.factor ** 2, rtol=1e-6)
    assert run.overflow_at == 32 and math.isinf(run.loss_curve[-1])
    assert run.theta_at == {100: None, 1000: None} and math.isinf(run.loss_at(1000))
    # the same losses as the talk's own per-sample loop (first four steps)
    data_rows = [[1.0, v] for v in x]
    _, losses, _ = gradient_descent(data_rows, list(y), learning_rate=0.01, max_iterations=4)
    np.testing.assert_allclose(run.loss_curve[:4], losses, rtol=1e-9)


def test_scaled_data_needs_more_iterations_than_both_budgets(result, data):
    X, y = data
    run = result.scaled
    np.testing.assert_allclose(run.eigenvalues, [1.0, 1.0], rtol=1e-12)   # standardised: H = I
    np.testing.assert_allclose(run.lstsq, np.linalg.lstsq(np.c_[np.ones(len(y)), X], y, rcond=None)[0])
    # closed form: the excess loss shrinks by (1 - lr)^2 per step; first step with a change < tol
    e0 = run.loss_curve[0] - run.min_loss
    k = np.arange(1, 100_000)
    excess = e0 * (1 - 0.01) ** (2 * k)
    change = excess / (1 - 0.01) ** 2 - excess
    predicted = int(k[np.argmax(change < 1e-4)])
    assert run.iterations_needed == predicted == 1503
    assert not run.converged_within(100) and not run.converged_within(1000)
    assert run.loss_at(100) / run.min_loss == pytest.approx(10.32, abs=0.01)  # 10x the minimum at k = 100
    # the same as LinearRegressionGD with the talk's settings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for budget in (100, 1000):
            m = LinearRegressionGD(learning_rate=0.01, max_iter=budget, tol=1e-4).fit(X, y)
            np.testing.assert_allclose(run.theta_at[budget], [m.intercept_, *m.coef_], rtol=1e-9)
            assert not m.converged_
    full = LinearRegressionGD(learning_rate=0.01, max_iter=100_000, tol=1e-4).fit(X, y)
    assert full.converged_ and full.n_iter_ == run.iterations_needed


def test_two_features_and_plot(tmp_path):
    X, y, names = load_xy(example_path(), "size_sqft,bedrooms", "price_usd")
    r = talk_settings(X, y, feature_names=names)
    corr = np.corrcoef(X.T)[0, 1]
    # standardised with two features: eigenvalues 1 - rho, 1 + rho (and 1 for the intercept)
    np.testing.assert_allclose(r.scaled.eigenvalues, sorted([1 - corr, 1.0, 1 + corr]), rtol=1e-9)
    assert r.raw.diverges and r.scaled.iterations_needed > 1000
    out = plot_talk_settings(r, out=tmp_path / "talk.png")
    assert out.stat().st_size > 10_000


def test_bad_parameters():
    with pytest.raises(ParamError, match="^learning_rate must be"):
        talk_settings(learning_rate=-1)
    with pytest.raises(ParamError, match="^k must be at least 1"):
        talk_settings(k=0)
    with pytest.raises(ParamError, match="^y must be given together"):
        talk_settings(X=[[1.0], [2.0]])


def test_cli_talk(capsys):
    from petnet.cli import main
    assert main(["gd", "talk"]) == 0
    out = capsys.readouterr().out
    assert "DIVERGES: lr 0.01 is 2.328e+04 times the limit; the loss grows x2.17e+09 per step" in out
    assert "is inf after 32 steps" in out
    assert "after 1000 iterations: NOT converged, loss 931622141.4" in out
    assert "converges after 1503 iterations" in out
    with pytest.raises(SystemExit) as exc:            # argparse's usage error
        main(["gd", "talk", "--k", "0"])
    assert exc.value.code == 2 and "--k: must be at least 1, got 0" in capsys.readouterr().err
