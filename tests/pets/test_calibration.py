"""Temperature scaling, expected calibration error and the reliability diagram."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from petnet.errors import PetnetError
from petnet.pets.calibration import (apply_temperature, cross_validated_temperature, draw_reliability,
                                     expected_calibration_error, fit_temperature, nll, probs_to_logits,
                                     reliability, softmax)


def synthetic(T0, n=20000, K=10, seed=0):
    """Labels drawn from softmax(z); the model reports z * T0, so temperature T0 undoes it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, size=(n, K))
    p = softmax(z)
    y = (p.cumsum(1) > rng.random((n, 1))).argmax(1)
    return z * T0, y


@pytest.mark.parametrize("T0", [0.5, 1.0, 2.5])
def test_fit_recovers_a_known_temperature_and_agrees_with_scipy(T0):
    logits, y = synthetic(T0)
    T = fit_temperature(logits, y)
    assert T == pytest.approx(T0, rel=0.05)
    ref = minimize_scalar(lambda t: -np.mean(log_softmax(logits / t, axis=1)[np.arange(len(y)), y]),
                          bounds=(0.05, 20.0), method="bounded", options={"xatol": 1e-7})
    assert T == pytest.approx(ref.x, rel=1e-3)
    assert nll(logits, y, T) <= nll(logits, y, 1.0) + 1e-12


def test_nll_matches_scipy():
    logits, y = synthetic(1.7, n=500)
    ref = -np.mean(log_softmax(logits / 1.3, axis=1)[np.arange(len(y)), y])
    assert nll(logits, y, 1.3) == pytest.approx(ref, rel=1e-12)


def test_fit_stops_on_a_bound_when_sharper_is_always_better():
    z = np.array([[3.0, 0.0, -1.0], [0.0, 2.0, 0.5]])
    assert fit_temperature(z, np.array([0, 1]), t_min=0.1, t_max=10) == pytest.approx(0.1, rel=1e-3)


@pytest.mark.parametrize("T", [0.05, 0.3, 1.0, 4.0, 20.0])
def test_temperature_never_changes_the_order(T):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, size=(300, 37))
    P = apply_temperature(z, T)
    assert (P.argmax(1) == z.argmax(1)).all()
    assert (np.argsort(-P[:, :], axis=1)[:, :5] == np.argsort(-z, axis=1)[:, :5]).all()
    assert np.allclose(P.sum(1), 1.0)
    # from probabilities (the head's output) through probs_to_logits: same top-1
    Q = softmax(rng.normal(0, 2, size=(300, 37)))
    assert (apply_temperature(probs_to_logits(Q), T).argmax(1) == Q.argmax(1)).all()


def test_ece_by_hand():
    # confidences 0.3 (right), 0.4 (wrong), 0.8 (right), 0.9 (right); 2 bins (0, .5], (.5, 1]
    P = np.array([[0.3, 0.25, 0.25, 0.2],
                  [0.2, 0.4, 0.2, 0.2],
                  [0.8, 0.1, 0.05, 0.05],
                  [0.05, 0.05, 0.9, 0.0]])
    y = np.array([0, 0, 0, 2])
    # bin 0: acc 1/2, conf 0.35 -> 2/4 * 0.15; bin 1: acc 1, conf 0.85 -> 2/4 * 0.15
    assert expected_calibration_error(P, y, n_bins=2) == pytest.approx(0.15)
    r = reliability(P, y, n_bins=2)
    assert r.count.tolist() == [2, 2]
    assert r.accuracy == pytest.approx([0.5, 1.0])
    assert r.confidence == pytest.approx([0.35, 0.85])
    # 10 bins: every photo alone in its bin (0.3 -> (0.2, 0.3], 0.4 -> (0.3, 0.4], ...)
    # ECE = (0.7 + 0.4 + 0.2 + 0.1) / 4
    assert expected_calibration_error(P, y, n_bins=10) == pytest.approx(1.4 / 4)
    r10 = reliability(P, y, n_bins=10)
    assert np.flatnonzero(r10.count).tolist() == [2, 3, 7, 8]
    assert np.isnan(r10.accuracy[0])


def test_a_confidence_on_a_bin_edge_goes_to_the_lower_bin():
    P = np.array([[0.5, 0.5], [1.0, 0.0]])
    r = reliability(P, np.array([1, 0]), n_bins=2)     # 0.5 in (0, 0.5], 1.0 in (0.5, 1]
    assert r.count.tolist() == [1, 1]
    assert r.ece == pytest.approx(0.5 * 0.5 + 0.5 * 0.0)


def test_temperature_scaling_lowers_the_ece_of_an_overconfident_model():
    logits, y = synthetic(3.0, n=5000)
    before = expected_calibration_error(softmax(logits), y)
    after = expected_calibration_error(apply_temperature(logits, fit_temperature(logits, y)), y)
    assert before > 0.1 and after < 0.02


def test_cross_validated_temperature_fits_out_of_fold_probabilities():
    logits, y = synthetic(2.0, n=3000)
    P = softmax(logits)
    folds = np.arange(len(y)) % 3
    seen = []

    def fit_predict(tr, te):
        assert not (tr & te).any() and (tr | te).all()
        seen.append(int(te.sum()))
        return P[te]

    T = cross_validated_temperature(fit_predict, y, folds)
    assert seen == [1000, 1000, 1000]
    assert T == pytest.approx(fit_temperature(probs_to_logits(P), y), rel=1e-6)


def test_errors_name_the_parameter(tmp_path):
    z, y = synthetic(1.0, n=20)
    with pytest.raises(PetnetError, match="temperature must be a positive number, got 0"):
        apply_temperature(z, 0)
    with pytest.raises(PetnetError, match="n_bins must be a positive whole number, got 0"):
        reliability(softmax(z), y, n_bins=0)
    with pytest.raises(PetnetError, match=r"y must hold class indices 0..9"):
        fit_temperature(z, y + 10)
    with pytest.raises(PetnetError, match="t_min and t_max"):
        fit_temperature(z, y, t_min=2, t_max=1)


def test_reliability_png(tmp_path):
    logits, y = synthetic(2.0, n=2000)
    out = draw_reliability({"raw": reliability(softmax(logits), y),
                            "scaled": reliability(apply_temperature(logits, 2.0), y)}, tmp_path / "r.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- honest calibration (#23.3)
def test_a_fit_on_the_floor_is_reported_and_not_used():
    """Every held-out prediction right: sharper always lowers the NLL, the search runs to T_MIN."""
    from petnet.pets.calibration import T_MIN, judge_temperature
    P = softmax(np.array([[3.0, 0.0, -1.0], [0.0, 2.0, 0.5], [0.1, 0.0, 1.0]]))
    assert fit_temperature(probs_to_logits(P), np.array([0, 1, 2])) == pytest.approx(T_MIN, rel=1e-3)
    status, fitted, note = judge_temperature(P, np.array([0, 1, 2]))
    assert status == "on_bound" and fitted == pytest.approx(T_MIN, rel=1e-3)
    assert "all 3 held-out photos are right" in note and "bound" in note


def test_a_fit_on_the_ceiling_is_reported_and_not_used():
    """Every held-out prediction confidently wrong: the flattest scores (T_MAX) look best."""
    from petnet.pets.calibration import T_MAX, judge_temperature
    P = softmax(np.array([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0], [4.0, 0.0, 0.0]]))
    status, fitted, note = judge_temperature(P, np.array([1, 2, 0, 2]))
    assert status == "on_bound" and fitted == pytest.approx(T_MAX, rel=1e-3)
    assert "0.0% of the 4 held-out photos are right" in note


@pytest.mark.parametrize("P", [np.full((6, 4), 0.25), np.array([[np.nan, 1.0], [0.5, 0.5]])])
def test_degenerate_held_out_predictions_give_no_temperature(P):
    from petnet.pets.calibration import judge_temperature
    status, fitted, note = judge_temperature(P, np.arange(len(P)) % P.shape[1])
    assert status == "degenerate" and fitted is None and note


def test_a_real_temperature_is_fitted():
    from petnet.pets.calibration import judge_temperature
    logits, y = synthetic(2.5, n=3000)
    status, fitted, note = judge_temperature(softmax(logits), y)
    assert status == "fitted" and fitted == pytest.approx(2.5, rel=0.05) and note == ""


def _tiny(n_per, k=3, d=16, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.eye(k, d)[c] * 3 + rng.normal(0, noise, (n_per, d)) for c in range(k)])
    y = np.repeat(np.arange(k), n_per)
    paths = [f"c{c}/photo_{i}.jpg" for c in range(k) for i in range(n_per)]
    return X.astype(np.float32)[:, None, :], y, paths


def test_calibrate_on_tiny_easy_photos_says_so_and_keeps_t_1():
    from petnet.pets.calibration import calibrate
    X, y, paths = _tiny(8)
    events = []
    cal = calibrate(X, y, paths, 3, [0], progress=events.append, max_iter=200, learning_rate=0.01,
                    batch_size=100)
    assert (cal.status, cal.temperature, cal.held_out_accuracy) == ("on_bound", 1.0, 1.0)
    assert cal.fitted == pytest.approx(0.05, rel=1e-3) and list(cal.reliability) == ["uncalibrated"]
    m = cal.metrics()
    assert m["status"] == "on_bound" and m["temperature"] == 1.0 and m["ece_after"] == m["ece_before"]
    assert m["note"] == cal.note and "sits on its bound" in m["note"]
    last = events[-1].message
    assert last.startswith(f"calibration ({m['folds']}-fold, held-out training photos): temperature 1, not fitted: the fitted "
                           "temperature 0.05 sits on its bound (all 24 held-out photos are right")
    assert "after" not in last    # no "ECE x% -> 0.0%" claim


def test_calibrate_below_the_minimum_is_skipped_and_fitted_when_it_can_be():
    from petnet.pets.calibration import MIN_CALIBRATION_PHOTOS, calibrate
    X, y, paths = _tiny(6)
    assert len(y) < MIN_CALIBRATION_PHOTOS
    cal = calibrate(X, y, paths, 3, [0], max_iter=50, learning_rate=0.01, batch_size=100)
    assert (cal.status, cal.temperature, cal.fitted) == ("skipped", 1.0, None)
    assert cal.metrics()["note"].startswith("skipped (18 training photos; it needs 20)")
    X, y, paths = _tiny(40, noise=2.5, seed=1)     # overlapping classes: some held-out photos wrong
    cal = calibrate(X, y, paths, 3, [0], max_iter=300, learning_rate=0.01, batch_size=50)
    assert cal.status == "fitted" and cal.temperature == cal.fitted and 0.05 < cal.temperature < 20
    assert 0.3 < cal.held_out_accuracy < 1 and set(cal.reliability) == {"uncalibrated", "temperature-scaled"}
