"""The talk's own gradient-descent settings, run as given (sections 2.2.3 and 2.2.4).

The talk fixes ``learning_rate = 0.01``, ``max_iterations = 1000``, ``tolerance = 0.0001``
(its pseudo-code, 2.2.4) and, in 2.2.3, "start from a0 = a1 = 1 and run the computation k = 100
times until the convergence condition holds, otherwise count it as a failure": k is the budget
of iterations of the same loop, 100 there and 1000 in the pseudo-code. It never runs them.
:func:`talk_settings` does, with the talk's loop vectorised (plain gradient descent on MSE/2, stop
when ``|previous_loss - loss| < tol``, the loss in dollars² either way), on the raw house table and on
standardised features and price, and explains the outcome from the eigenvalues of ``H = A^T A / N``
(``A = [1, x]``), the Hessian of the loss:

* the error along the eigenvector of eigenvalue ``lam`` is multiplied by ``1 - lr * lam`` at every
  step, so plain gradient descent converges only when ``lr < 2 / lam_max``;
* raw prices: ``lam_max`` ~ mean(area²) ~ 4.7e6, so 0.01 is ~23000 times above the limit
  2 / lam_max ~ 4.3e-7; the error is multiplied by ~46500 per step, the loss by its square
  (~2.2e9), and the talk's loop overflows to ``inf`` after ~33 iterations;
* standardised data: ``H`` is the identity (one feature), the error shrinks by 0.99 per step, the
  excess loss by 0.99² = 0.9801: from ~5e10 dollars² it needs ~1500 iterations to change by less
  than 1e-4 dollars² per step -- more than both budgets (100 and 1000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError
from petnet.gd.data import check_xy, example_path, load_xy
from petnet.gd.scaling import StandardScaler
from petnet.validate import check_int, check_number

#: the talk's settings: 2.2.4's pseudo-code, and 2.2.3's k = 100 iterations
TALK = {"learning_rate": 0.01, "max_iter": 1000, "tol": 1e-4, "k": 100}

#: the run continues past the budgets to find how many iterations convergence needs: by default up to
#: ``DEFAULT_RUN`` iterations, at most ``MAX_RUN``
DEFAULT_RUN = 100_000
MAX_RUN = 1_000_000


@dataclass
class TalkRun:
    """The talk's loop on one version of the data (``scaled`` or raw).

    ``loss_curve[i]``: the loss (MSE/2 in dollars²) after ``i`` steps, up to convergence, overflow
    or ``max_run`` steps; ``theta_at[budget]``: (a0, a1, ...) in original units after ``budget`` steps
    (``None`` when the run had overflowed before). Eigenvalues are those of the Hessian
    ``A^T A / N`` of the loss in the units the optimizer works in."""

    scaled: bool
    learning_rate: float
    eigenvalues: np.ndarray
    loss_curve: np.ndarray
    iterations_needed: int | None     #: first step with |Δloss| < tol; None if not within max_run
    overflow_at: int | None           #: first step whose loss is inf/NaN (the talk's loop, diverging)
    theta_at: dict
    lstsq: np.ndarray                 #: numpy lstsq (a0, a1, ...) in original units
    min_loss: float

    @property
    def lam_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def condition_number(self) -> float:
        return float(self.eigenvalues[-1] / self.eigenvalues[0])

    @property
    def stable_below(self) -> float:
        """Plain gradient descent converges only for learning rates below ``2 / lam_max``."""
        return 2.0 / self.lam_max

    @property
    def factor(self) -> float:
        """``|1 - lr * lam_max|``: the factor of the error along the steepest direction per step
        (above 1: it grows, the fit diverges)."""
        return abs(1.0 - self.learning_rate * self.lam_max)

    @property
    def slowest_factor(self) -> float:
        """``max |1 - lr * lam|``: the worst factor of the error per step over all directions."""
        return float(np.max(np.abs(1.0 - self.learning_rate * self.eigenvalues)))

    @property
    def diverges(self) -> bool:
        return self.factor > 1.0

    def converged_within(self, budget: int) -> bool:
        return self.iterations_needed is not None and self.iterations_needed <= budget

    def loss_at(self, budget: int) -> float:
        """The loss after ``budget`` steps (inf once the run overflowed, the final loss once converged)."""
        if budget < len(self.loss_curve):
            return float(self.loss_curve[budget])
        return math.inf if self.overflow_at is not None else float(self.loss_curve[-1])


@dataclass
class TalkSettings:
    """What :func:`talk_settings` found: the settings and one :class:`TalkRun` per data version."""

    learning_rate: float
    max_iter: int
    tol: float
    k: int
    feature_names: list
    raw: TalkRun
    scaled: TalkRun

    @property
    def budgets(self) -> tuple[int, int]:
        return (self.k, self.max_iter)


def _run(X, y, *, scaled: bool, learning_rate: float, tol: float, budgets, max_run: int) -> TalkRun:
    n = len(y)
    if scaled:
        xs, ys = StandardScaler().fit(X), StandardScaler().fit(y)
        Z, t = xs.transform(X), ys.transform(y)
        unit = float(ys.scale_) ** 2           # dollars² per squared standardised price

        def to_original(theta):
            w = ys.scale_ * theta[1:] / xs.scale_
            return np.r_[ys.mean_ + ys.scale_ * theta[0] - w @ xs.mean_, w]

        def from_original(theta):
            return np.r_[(theta[0] + theta[1:] @ xs.mean_ - ys.mean_) / ys.scale_,
                         theta[1:] * xs.scale_ / ys.scale_]
    else:
        Z, t, unit = X, y, 1.0

        def to_original(theta):
            return theta.copy()

        from_original = to_original
    A = np.column_stack([np.ones(n), Z])
    eig = np.linalg.eigvalsh(A.T @ A / n)
    lstsq = np.linalg.lstsq(np.column_stack([np.ones(n), X]), y, rcond=None)[0]
    r_min = np.column_stack([np.ones(n), X]) @ lstsq - y
    theta = from_original(np.ones(A.shape[1]))       # the talk's start: a0 = a1 = ... = 1
    theta_at = {}
    losses = []
    needed = overflow = None
    with np.errstate(over="ignore", invalid="ignore"):
        r = A @ theta - t
        losses.append(unit * 0.5 * float(r @ r) / n)
        for it in range(1, max_run + 1):
            theta = theta - learning_rate * (A.T @ r / n)
            r = A @ theta - t
            losses.append(unit * 0.5 * float(r @ r) / n)
            if it in budgets:
                theta_at[it] = to_original(theta)
            if not math.isfinite(losses[-1]):
                overflow = it
                break
            if abs(losses[-2] - losses[-1]) < tol:
                needed = it
                break
    for b in budgets:
        if b not in theta_at and overflow is None:
            theta_at[b] = to_original(theta)          # converged before the budget: it stays there
        theta_at.setdefault(b, None)
    return TalkRun(scaled, learning_rate, eig, np.asarray(losses), needed, overflow, theta_at, lstsq,
                   0.5 * float(r_min @ r_min) / n)


def talk_settings(X=None, y=None, *, learning_rate: float = TALK["learning_rate"],
                  max_iter: int = TALK["max_iter"], tol: float = TALK["tol"], k: int = TALK["k"],
                  feature_names=None, max_run: int = DEFAULT_RUN) -> TalkSettings:
    """Run the talk's gradient descent (defaults: its settings, :data:`TALK`) on raw and on
    standardised data; ``X``, ``y`` default to the bundled 16 Portland houses (area -> price).
    Each run goes on past the budgets ``k`` and ``max_iter``, up to ``max_run`` iterations, to
    find how many iterations it needs."""
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True, max=10)
    max_iter = check_int("max_iter", max_iter, min=1, max=MAX_RUN)
    k = check_int("k", k, min=1, max=MAX_RUN)
    max_run = check_int("max_run", max_run, min=max(k, max_iter), max=MAX_RUN)
    tol = check_number("tol", tol, min=0, min_exclusive=True)
    if X is None and y is None:
        X, y, feature_names = load_xy(example_path(), "size_sqft", "price_usd")
    elif X is None or y is None:
        raise ParamError("X" if X is None else "y", "must be given together with the other (or neither)")
    X, y = check_xy(X, y)
    names = list(feature_names) if feature_names else [f"x{j + 1}" for j in range(X.shape[1])]
    budgets = (k, max_iter)
    kw = dict(learning_rate=learning_rate, tol=tol, budgets=budgets, max_run=max_run)
    return TalkSettings(learning_rate, max_iter, tol, k, names, _run(X, y, scaled=False, **kw),
                        _run(X, y, scaled=True, **kw))


def plot_talk_settings(result: TalkSettings, out=None, show: bool = False):
    """Left: log10 of the loss on raw data, growing until it overflows. Right: on standardised
    data, the loss above the least-squares minimum and the change per step against ``tol``, with
    the budgets k and max_iter marked."""
    from petnet.plotting import finish, pyplot
    plt = pyplot(show)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
    raw = result.raw
    finite = np.isfinite(raw.loss_curve)
    left.plot(np.flatnonzero(finite), np.log10(raw.loss_curve[finite]), "o-", ms=3, color="tab:red",
              label="log10 loss (MSE/2, dollars²)")
    if raw.overflow_at is not None:
        left.axvline(raw.overflow_at, color="k", ls=":", label=f"loss = inf at step {raw.overflow_at}")
    left.set_xlabel("iteration")
    left.set_ylabel("log10 of the loss")
    left.set_title(f"raw data, lr = {raw.learning_rate:g} > 2/λmax = {raw.stable_below:.2g}: "
                   f"error ×{raw.factor:.3g} per step", fontsize=10)
    scaled = result.scaled
    curve = scaled.loss_curve
    it = np.arange(len(curve))
    right.plot(it, curve - scaled.min_loss, color="tab:blue", label="loss − least-squares minimum")
    right.plot(it[1:], np.abs(np.diff(curve)), color="tab:green", label="|previous_loss − loss|")
    right.axhline(result.tol, color="tab:green", ls=":", label=f"tol = {result.tol:g}")
    for b, ls in zip(result.budgets, ("--", "-.")):
        right.axvline(b, color="k", ls=ls, lw=0.9, label=f"budget: {b} iterations")
    right.set_yscale("log")
    right.set_xlabel("iteration")
    verdict = (f"converged after {scaled.iterations_needed} iterations"
               if scaled.iterations_needed is not None else "not converged")
    right.set_title(f"standardised data, lr = {scaled.learning_rate:g}: {verdict}", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return finish(fig, out, show)
