"""Scores that mean probabilities: temperature scaling, expected calibration error, reliability.

A softmax head trained to 100% training accuracy is over-confident: among the photos it gives
0.9, fewer than 90% are right. **Temperature scaling** (Guo et al. 2017) divides the logits by
one number ``T > 0`` before the softmax::

    p_T = softmax(z / T)          T > 1 softens, T < 1 sharpens

``T`` is fitted by minimising the negative log-likelihood of photos the head did **not** train
on (held-out folds). Dividing by a positive number keeps the order of the logits, so the top-1
(and every rank) is unchanged: only the scores move.

The NLL as a function of ``beta = 1/T``, ``mean(logsumexp(beta z) - beta z_y)``, is convex, so a
golden-section search over ``log T`` in ``[T_MIN, T_MAX]`` finds its minimum without gradients;
a minimum on a bound (e.g. all held-out photos right, so sharper is always better) stops there.

**Expected calibration error** (equal-width bins)::

    confidence_i = max_k p_ik,   correct_i = [argmax_k p_ik == y_i]
    bin b = (b/B, (b+1)/B] for b = 0..B-1 (confidence 0 goes to bin 0)
    ECE = sum_b (n_b / N) * |mean(correct in b) - mean(confidence in b)|

Measured on the 362 shared pet photos (5-fold CV, retrain's defaults, lite2, each outer fold's
``T`` fitted by a 4-fold CV inside its training folds; ``python bench/pets_openworld.py``): ECE
3.6% before, 2.8% after, ``T`` = 0.96-1.05, NLL 0.438 / 0.440, top-1 85.9% both: retrain's head
is already nearly calibrated (docs/pets_openworld.md).

:func:`calibrate` is how :func:`~petnet.pets.retrain.retrain` gets its head's temperature: the same
head settings trained ``K_FOLDS`` times on the other folds of the training photos, ``T`` fitted on
their held-out predictions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.pets.evaluation import K_FOLDS

T_MIN, T_MAX = 0.05, 20.0
MIN_CALIBRATION_PHOTOS = 20   # fewer training photos: no temperature for retrain's head (T = 1)
DEFAULT_BINS = 15
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def probs_to_logits(P) -> np.ndarray:
    """Logits whose softmax is ``P`` (``log P``, with probabilities floored at 1e-12)."""
    P = np.asarray(P, np.float64)
    return np.log(np.clip(P, 1e-12, None))


def softmax(z) -> np.ndarray:
    """Row-wise softmax of ``(n, K)`` logits in float64 (the engine's stable softmax)."""
    from petnet.nn.activations import softmax as engine_softmax
    return engine_softmax(np.asarray(z, np.float64))


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """``softmax(logits / temperature)``; the order of every row is kept."""
    _check_temperature(temperature)
    return softmax(np.asarray(logits, np.float64) / float(temperature))


def _check_temperature(temperature):
    if not np.isfinite(temperature) or temperature <= 0:
        raise ParamError("temperature", f"must be a positive number, got {temperature}")


def _check_labels(logits, y):
    z = np.asarray(logits, np.float64)
    y = np.asarray(y)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ParamError("logits", f"must have shape (n, K) with n >= 1, got {z.shape}")
    if y.shape != (z.shape[0],):
        raise ParamError("y", f"must hold one class index per row of logits ({z.shape[0]}), got shape {y.shape}")
    if not np.isfinite(z).all():
        raise ParamError("logits", "must be finite numbers")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ParamError("y", f"must hold class indices 0..{z.shape[1] - 1}, got {y.min()}..{y.max()}")
    return z, y


def nll(logits, y, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood ``mean(-log softmax(z / T)[y])``."""
    z, y = _check_labels(logits, y)
    _check_temperature(temperature)
    z = z / temperature
    m = z.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def fit_temperature(logits, y, t_min: float = T_MIN, t_max: float = T_MAX, tol: float = 1e-5) -> float:
    """The ``T`` in ``[t_min, t_max]`` minimising :func:`nll` of held-out ``logits`` (n, K) with
    true classes ``y``: golden-section search over ``log T`` (the NLL is convex in ``1/T``, so
    unimodal in ``log T``), to a relative precision ``tol``."""
    z, y = _check_labels(logits, y)
    if not (0 < t_min < t_max) or not np.isfinite(t_max):
        raise ParamError("t_min", f"and t_max must satisfy 0 < t_min < t_max, got {t_min} and {t_max}")
    f = lambda u: nll(z, y, float(np.exp(u)))   # noqa: E731
    a, b = np.log(t_min), np.log(t_max)
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)
    best = min((f(a), a), (f(b), b), (f((a + b) / 2), (a + b) / 2))[1]
    return float(np.exp(best))


def cross_validated_temperature(fit_predict, y, folds) -> float:
    """Fit ``T`` on out-of-fold predictions: for each fold ``f``, ``fit_predict(train_mask,
    test_mask)`` trains on ``folds != f`` and returns the probabilities ``(n_test, K)`` of the
    ``folds == f`` photos; ``T`` is then fitted on all of them together. This is how a head
    trained on every photo gets a temperature from photos it did not see."""
    y = np.asarray(y)
    folds = np.asarray(folds)
    if folds.shape != y.shape:
        raise ParamError("folds", f"must hold one fold per photo ({len(y)}), got shape {folds.shape}")
    P = None
    for f in np.unique(folds):
        te = folds == f
        tr = ~te
        if not tr.any():
            raise PetnetError("cross_validated_temperature needs at least 2 folds")
        Pf = np.asarray(fit_predict(tr, te), np.float64)
        if P is None:
            P = np.zeros((len(y), Pf.shape[1]))
        P[te] = Pf
    return fit_temperature(probs_to_logits(P), y)


@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram data over equal-width confidence bins.

    ``edges`` (B+1,), per bin ``count``, ``accuracy`` and ``confidence`` (NaN for empty bins),
    and ``ece`` (see the module docstring)."""

    edges: np.ndarray
    count: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    ece: float


def reliability(P, y, n_bins: int = DEFAULT_BINS) -> Reliability:
    """Bin the top-1 confidence of probabilities ``P`` (n, K) against correctness w.r.t. ``y``."""
    P = np.asarray(P, np.float64)
    _, y = _check_labels(P, y)
    if int(n_bins) != n_bins or n_bins < 1:
        raise ParamError("n_bins", f"must be a positive whole number, got {n_bins}")
    n_bins = int(n_bins)
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin b holds (edges[b], edges[b+1]]; ceil(conf * B) - 1, with conf = 0 in bin 0
    idx = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.bincount(idx, weights=correct, minlength=n_bins) / count
        cmean = np.bincount(idx, weights=conf, minlength=n_bins) / count
    filled = count > 0
    ece = float(np.sum(count[filled] / len(y) * np.abs(acc[filled] - cmean[filled])))
    return Reliability(edges, count, acc, cmean, ece)


def expected_calibration_error(P, y, n_bins: int = DEFAULT_BINS) -> float:
    """ECE of probabilities ``P`` (n, K) for true classes ``y``, equal-width bins (0..1)."""
    return reliability(P, y, n_bins).ece


def draw_reliability(curves: dict, out, title: str = "reliability diagram") -> object:
    """A reliability diagram PNG: for each ``name -> Reliability`` in ``curves``, accuracy over
    mean confidence per non-empty bin (marker size ~ photos in the bin), ECE in the legend, and
    the diagonal of perfect calibration. Returns ``out``."""
    from petnet.plotting import finish, literal, pyplot
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration")
    for name, r in curves.items():
        ok = r.count > 0
        ax.plot(r.confidence[ok], r.accuracy[ok], marker="o", linewidth=1.5,
                label=literal(f"{name} (ECE {100 * r.ece:.1f}%)"))
        ax.scatter(r.confidence[ok], r.accuracy[ok], s=8 + 200 * r.count[ok] / r.count.sum(),
                   alpha=0.3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-1 score)")
    ax.set_ylabel("accuracy")
    ax.set_title(literal(title))
    ax.legend(loc="upper left", fontsize=8)
    return finish(fig, out)


# ----------------------------------------------------------------------------- retrain's head
#: what became of the temperature: fitted and used, or T = 1 and why
STATUSES = ("fitted", "skipped", "on_bound", "degenerate")
BOUND_TOLERANCE = 1e-3   # a fitted log T this close to log T_MIN or log T_MAX sits on the bound


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` found. ``temperature``: the one the model uses (1.0 unless ``status``
    is ``"fitted"``); ``status``: ``"fitted"``, ``"skipped"`` (too few photos or folds to estimate
    one), ``"on_bound"`` (the best temperature sits on ``T_MIN`` or ``T_MAX``: the held-out photos
    cannot tell how sharp the scores should be -- typically every one of them is right, so sharper
    always looks better -- and the bound says nothing: not used) or ``"degenerate"`` (the held-out
    NLL does not depend on ``T``, or is not finite: not used); ``note``: one sentence saying so;
    ``fitted``: the temperature the search found (None when skipped); ``reliability``:
    ``{"uncalibrated": ..., "temperature-scaled": ...}`` of the held-out predictions (only the first
    when the fit is not used, empty when skipped)."""

    temperature: float
    status: str
    note: str
    fitted: float | None = None
    reliability: dict = field(default_factory=dict)
    photos: int = 0
    held_out_accuracy: float | None = None
    #: fold number -> the head trained on the other folds; their number is ``metrics()["folds"]``
    #: (4 of the 5 hash folds on the shared photos: the validation and test photos are fold 0)
    heads: dict = field(default_factory=dict, repr=False, compare=False)

    def metrics(self) -> dict:
        """The ``calibration`` entry of ``retrain``'s metrics (``metrics.json``)."""
        out = {"status": self.status, "temperature": self.temperature, "note": self.note,
               "folds": len(self.heads) if self.heads else K_FOLDS, "photos": self.photos}
        if self.fitted is not None:
            out["fitted_temperature"] = self.fitted
        if self.held_out_accuracy is not None:
            out["held_out_accuracy"] = self.held_out_accuracy
        if self.reliability:
            before = self.reliability["uncalibrated"].ece
            out["ece_before"] = before
            out["ece_after"] = self.reliability["temperature-scaled"].ece if self.status == "fitted" else before
        return out


def judge_temperature(held_out, y, t_min: float = T_MIN, t_max: float = T_MAX) -> tuple[str, float | None, str]:
    """``(status, fitted T or None, note)`` for held-out probabilities ``held_out`` (n, K): whether
    a temperature fitted on them can be used (``"fitted"``), sits on a bound (``"on_bound"``) or
    is meaningless (``"degenerate"``: the NLL is the same at both bounds -- e.g. every prediction
    uniform -- or not finite)."""
    P = np.asarray(held_out, np.float64)
    y = np.asarray(y)
    if not np.isfinite(P).all():
        return "degenerate", None, "the held-out predictions are not finite numbers"
    z = probs_to_logits(P)
    lo, hi = nll(z, y, t_min), nll(z, y, t_max)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "degenerate", None, "the held-out log-likelihood is not finite"
    if abs(lo - hi) <= 1e-9 * max(1.0, abs(lo)):
        return "degenerate", None, "the held-out log-likelihood does not depend on the temperature"
    T = fit_temperature(z, y, t_min, t_max)
    right = float((P.argmax(1) == y).mean())
    for bound in (t_min, t_max):
        if abs(np.log(T) - np.log(bound)) < BOUND_TOLERANCE:
            why = (f"all {len(y)} held-out photos are right, so ever sharper scores always look better"
                   if right == 1.0 else f"{100 * right:.1f}% of the {len(y)} held-out photos are right")
            return "on_bound", T, (f"the fitted temperature {T:.3g} sits on its bound ({why}): "
                                   f"too few photos to estimate one")
    return "fitted", T, ""


def calibrate(feats, y, paths, n_classes, test_view_index, progress=None, **head_kwargs) -> Calibration:
    """The temperature of a head trained on ``feats``/``y`` with ``head_kwargs``: fitted on the
    held-out predictions of a ``K_FOLDS``-fold cross-validation of the same photos (folds: the
    stable file-name hash, :func:`~petnet.pets.dataset.kfold_of`), so no photo's own prediction
    chooses it; the fold heads are trained together (:func:`~petnet.pets.head.train_heads`).
    Returns a :class:`Calibration`; its temperature is 1 unless one was fitted *and* is usable:
    with fewer than ``MIN_CALIBRATION_PHOTOS`` photos or fewer than 2 folds calibration is skipped,
    and a fit that sits on ``T_MIN``/``T_MAX`` or does not depend on ``T`` is reported and not used
    (:func:`judge_temperature`). ``progress`` (a callable) gets a
    :class:`~petnet.progress.ProgressEvent` of phase ``calibration`` per fold done, and one whose
    message says what happened (the temperature and the ECE before and after, or why T = 1)."""
    from petnet.pets.dataset import kfold_of
    from petnet.pets.head import train_heads
    from petnet.progress import ProgressEvent, reporter
    report = reporter(progress)
    folds = np.array([kfold_of(Path(p).name, K_FOLDS) for p in paths])
    if len(y) < MIN_CALIBRATION_PHOTOS or len(np.unique(folds)) < 2:
        note = (f"skipped ({len(y)} training photos; it needs {MIN_CALIBRATION_PHOTOS}"
                + ("" if len(y) < MIN_CALIBRATION_PHOTOS else " in at least 2 folds") + ")")
        report(ProgressEvent("calibration", 0, 0, f"calibration: {note}: temperature 1"))
        return Calibration(1.0, "skipped", note, photos=len(y))
    fold_ids = np.unique(folds)
    n_folds = len(fold_ids)
    report(ProgressEvent("calibration", 0, n_folds))
    heads = train_heads(feats, y, n_classes, [folds != f for f in fold_ids], **head_kwargs)
    held_out = np.zeros((len(y), n_classes))
    for done, (f, h) in enumerate(zip(fold_ids, heads), 1):
        te = folds == f
        held_out[te] = h.predict_proba(feats[te][:, test_view_index])
        report(ProgressEvent("calibration", done, n_folds))
    status, fitted, note = judge_temperature(held_out, y)
    before = reliability(held_out, y)
    right = float((held_out.argmax(1) == y).mean())
    if status != "fitted":
        report(ProgressEvent("calibration", n_folds, n_folds,
                             f"calibration ({n_folds}-fold, held-out training photos): temperature 1, not fitted: "
                             f"{note}; expected calibration error {100 * before.ece:.1f}%"))
        return Calibration(1.0, status, note, fitted, {"uncalibrated": before}, len(y), right,
                           dict(zip(fold_ids.tolist(), heads)))
    after = reliability(apply_temperature(probs_to_logits(held_out), fitted), y)
    report(ProgressEvent("calibration", n_folds, n_folds,
                         f"calibration ({n_folds}-fold, held-out training photos): temperature {fitted:.3f}, expected "
                         f"calibration error {100 * before.ece:.1f}% before, {100 * after.ece:.1f}% after"))
    return Calibration(fitted, "fitted", f"fitted on {len(y)} held-out training photos", fitted,
                       {"uncalibrated": before, "temperature-scaled": after}, len(y), right,
                       dict(zip(fold_ids.tolist(), heads)))
