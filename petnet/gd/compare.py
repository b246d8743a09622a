"""Every optimizer on the same data: iterations, loss curves and (a0, a1) paths (``petnet gd compare``).

:func:`compare` fits the same table with each optimizer of :data:`petnet.optim.OPTIMIZERS` and
measures each against the closed-form least-squares solution (numpy ``lstsq``). It returns a
:class:`Comparison`; :func:`petnet.gd.plots.plot_loss_curves` and
:func:`petnet.gd.plots.plot_contour_path` draw it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from petnet import optim
from petnet.errors import PetnetError
from petnet.gd.data import check_xy
from petnet.gd.linear import (MAX_ITER, ConvergenceWarning, LinearRegressionGD, canonical_name,
                              default_learning_rate, talk_order)
from petnet.validate import check_int, check_number

# Learning rates for raw (unscaled) house prices (area in sqft, price in dollars), found by
# bench/gd_bench.py: raw features need wildly different rates per optimizer. RMSProp's constant-rate
# limit cycle would be +-500 $/sqft wide here, so its rate is halved every 200 steps.
UNSCALED_LR = {"gd": 1e-7, "momentum": 1e-8, "nesterov": 1e-8, "adagrad": 1e4,
               "rmsprop": optim.StepDecay(1e3, every=200, factor=0.5), "adam": 1e3}


@dataclass
class OptimizerRun:
    """One optimizer's fit. ``failure`` is the error when it diverged (then the numbers are None)."""

    optimizer: str
    learning_rate: float | Callable[[int], float]
    n_iter: int | None = None
    converged: bool | None = None
    loss: float | None = None
    loss_curve: np.ndarray | None = None
    path: np.ndarray | None = None
    theta: np.ndarray | None = None        #: [a0, a1, ...] in original units
    error: float | None = None             #: max relative error of theta vs lstsq
    failure: PetnetError | None = None


@dataclass
class Comparison:
    """What :func:`compare` found: the least-squares reference and one :class:`OptimizerRun` each."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target: str
    scale: bool
    tol: float
    max_iter: int
    lstsq: np.ndarray                      #: least-squares [a0, a1, ...] (numpy lstsq)
    min_loss: float                        #: its loss (MSE/2), the lowest possible
    runs: dict[str, OptimizerRun] = field(default_factory=dict)

    def table(self) -> list[dict]:
        """One row per optimizer: name, learning rate, iterations, converged, final loss, error."""
        return [{"optimizer": r.optimizer, "learning_rate": r.learning_rate, "n_iter": r.n_iter,
                 "converged": r.converged, "loss": r.loss, "error": r.error,
                 "failure": None if r.failure is None else str(r.failure)} for r in self.runs.values()]


def lstsq(X, y) -> tuple[np.ndarray, float]:
    """Closed-form least squares ``[a0, a1, ...]`` of ``y ~ a0 + X a`` and its loss MSE/2."""
    A = np.column_stack([np.ones(len(y)), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    r = A @ theta - y
    return theta, 0.5 * float(r @ r) / len(y)


def compare(X, y, *, optimizers=None, scale: bool = True, learning_rate=None, tol: float = 1e-4,
            max_iter: int = 10_000, feature_names=None, target: str = "y") -> Comparison:
    """Fit ``y ~ a0 + X a`` with every optimizer (default: all of :data:`petnet.optim.OPTIMIZERS`,
    in the talk's order), each from a0 = a1 = 1, each with its own working learning rate unless
    ``learning_rate`` is given (one for all). A diverging optimizer is recorded, not raised."""
    X, y = check_xy(X, y)
    if optimizers is None:
        names = talk_order(optim.OPTIMIZERS.names())
    else:
        names = [canonical_name(n) for n in ([optimizers] if isinstance(optimizers, str) else optimizers)]
    check_number("tol", tol, min=0)
    check_int("max_iter", max_iter, min=1, max=MAX_ITER)
    if learning_rate is not None and not callable(learning_rate):
        check_number("learning_rate", learning_rate, min=0, min_exclusive=True)
    feature_names = list(feature_names) if feature_names else [f"x{j + 1}" for j in range(X.shape[1])]
    ref, min_loss = lstsq(X, y)
    result = Comparison(X, y, feature_names, target, bool(scale), float(tol), int(max_iter), ref, min_loss)
    for name in names:
        lr = learning_rate
        if lr is None and not scale:
            lr = UNSCALED_LR.get(name)
        model = LinearRegressionGD(name, learning_rate=lr, max_iter=max_iter, tol=tol, scale=scale,
                                   feature_names=feature_names)
        try:
            with warnings.catch_warnings():  # converged is part of the result
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
        except PetnetError as exc:
            result.runs[name] = OptimizerRun(name, lr if lr is not None else default_learning_rate(name),
                                             failure=exc)
            continue
        theta = np.r_[model.intercept_, model.coef_]
        result.runs[name] = OptimizerRun(
            name, model.learning_rate_, int(model.n_iter_), bool(model.converged_), float(model.loss_curve_[-1]),
            model.loss_curve_, model.path_, theta, float(np.max(np.abs(theta - ref) / np.abs(ref))))
    return result
