"""The talk's catalogue of loss functions (损失函数), each with its value and its gradient.

Notation: ``y`` is the true label/target, ``f`` the model output. For the classification losses
with a *margin* ``m = y * f`` the labels are ``y in {-1, +1}`` and ``f`` is a real-valued score;
for cross-entropy ``y`` is 0/1 (binary) or one-hot (categorical) and ``p`` a probability.
Every ``value`` averages over the N samples (except ``squared``, the plain sum), and
``gradient(y, f)`` is ``d value / d f`` -- same shape as ``f``.

=============  =====================================  ======================================
name           value                                  gradient d/df (per sample, then / N)
=============  =====================================  ======================================
zero_one       mean[ y f <= 0 ]                       0 (almost everywhere: it is a step)
absolute       mean |y - f|                           sign(f - y)
log            mean log(1 + exp(-y f))                -y / (1 + exp(y f))
squared        sum (y - f)^2                          2 (f - y)            (not divided by N)
mse            mean (y - f)^2                         2 (f - y)
half_mse       1/(2N) sum (f - y)^2  (the talk's)     (f - y)
exponential    mean exp(-y f)                         -y exp(-y f)
hinge          mean max(0, 1 - y f)                   -y [y f < 1]
perceptron     mean max(0, -y f)                      -y [y f < 0]
binary_ce      -mean[y log p + (1-y) log(1-p)]        (p - y) / (p (1 - p))
categorical_ce -1/N sum_i sum_k Y_ik log P_ik         -Y / P
huber          mean h(f - y), h(r) = r^2/2 (|r| <= d)  clip(f - y, -d, d)   (not the talk's;
                       or d (|r| - d/2)                                      robust regression)
=============  =====================================  ======================================

:data:`LOSSES` is the one registry of these names; ``LinearRegressionGD(loss=...)`` fits with any of
them that a linear score can feed (the regression losses on real targets, the margin losses on
labels -1/+1), and :func:`pointwise` gives the value and gradient of one sample, as
``petnet gd losses`` prints and plots them.

``half_mse`` is the loss of :class:`~petnet.gd.linear.LinearRegressionGD`: the 1/2 cancels the 2
of the derivative, so its gradient with respect to theta is simply ``X^T (X theta - y) / N``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import PetnetError
from petnet.registry import Registry

#: probabilities are clipped to [EPS, 1 - EPS] so that log(0) never happens
EPS = 1e-12


def _pair(y, f):
    y = np.asarray(y, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    if y.shape != f.shape:
        raise PetnetError(f"labels of shape {y.shape} and outputs of shape {f.shape} must have the same shape")
    if y.size == 0:
        raise PetnetError("no samples: the loss of an empty batch is undefined")
    return y, f


def _n(f):
    return f.shape[0] if f.ndim else 1


class Loss:
    """A loss function: ``value(y, f)`` (a number) and ``gradient(y, f)`` (d value / d f).

    ``kind`` says what it compares: ``'regression'`` (real targets, a function of the residual
    ``f - y``), ``'margin'`` (labels -1/+1 and a real score, a function of ``y f``) or
    ``'probability'`` (0/1 or one-hot labels and probabilities). ``degree`` is ``k`` in
    ``value(c y, c f) = c^k value(y, f)`` for the regression losses (how the loss scales with the
    unit of the target). ``smooth`` is False for a loss with a kink (absolute, hinge): its
    (sub)gradient need not shrink near the minimum."""

    name = "loss"
    formula = ""
    kind = "regression"
    degree = 2
    in_talk = True
    smooth = True

    def rescaled(self, c: float) -> "Loss":
        """The same loss for targets divided by ``c`` (only losses with a scale parameter change)."""
        return self

    def __call__(self, y, f) -> float:
        return self.value(y, f)

    def value(self, y, f) -> float:
        y, f = _pair(y, f)
        return float(self._value(y, f))

    def gradient(self, y, f) -> np.ndarray:
        y, f = _pair(y, f)
        return self._gradient(y, f)

    def __repr__(self):
        return f"<loss {self.name}: {self.formula}>"


class ZeroOne(Loss):
    name, formula = "zero_one", "mean[y f <= 0]"
    kind = "margin"
    smooth = False

    def _value(self, y, f):
        return np.mean(y * f <= 0)

    def _gradient(self, y, f):
        return np.zeros_like(f)


class Absolute(Loss):
    name, formula = "absolute", "mean |y - f|"
    kind = "regression"
    smooth = False
    degree = 1

    def _value(self, y, f):
        return np.mean(np.abs(y - f))

    def _gradient(self, y, f):
        return np.sign(f - y) / f.size


class Log(Loss):
    name, formula = "log", "mean log(1 + exp(-y f))"
    kind = "margin"

    def _value(self, y, f):
        return np.mean(np.logaddexp(0.0, -y * f))

    def _gradient(self, y, f):
        # d/df log(1 + e^{-yf}) = -y e^{-yf} / (1 + e^{-yf}) = -y * sigmoid(-y f)
        return -y * np.exp(-np.logaddexp(0.0, y * f)) / f.size


class Squared(Loss):
    name, formula = "squared", "sum (y - f)^2"

    def _value(self, y, f):
        return np.sum((y - f) ** 2)

    def _gradient(self, y, f):
        return 2.0 * (f - y)


class MSE(Loss):
    name, formula = "mse", "mean (y - f)^2"

    def _value(self, y, f):
        return np.mean((y - f) ** 2)

    def _gradient(self, y, f):
        return 2.0 * (f - y) / f.size


class HalfMSE(Loss):
    name, formula = "half_mse", "1/(2N) sum (f - y)^2"

    def _value(self, y, f):
        return 0.5 * np.mean((f - y) ** 2)

    def _gradient(self, y, f):
        return (f - y) / f.size


class Exponential(Loss):
    name, formula = "exponential", "mean exp(-y f)"
    kind = "margin"

    def _value(self, y, f):
        return np.mean(np.exp(-y * f))

    def _gradient(self, y, f):
        return -y * np.exp(-y * f) / f.size


class Hinge(Loss):
    name, formula = "hinge", "mean max(0, 1 - y f)"
    kind = "margin"
    smooth = False

    def _value(self, y, f):
        return np.mean(np.maximum(0.0, 1.0 - y * f))

    def _gradient(self, y, f):
        return -y * (y * f < 1.0) / f.size


class Perceptron(Loss):
    name, formula = "perceptron", "mean max(0, -y f)"
    kind = "margin"
    smooth = False

    def _value(self, y, f):
        return np.mean(np.maximum(0.0, -y * f))

    def _gradient(self, y, f):
        return -y * (y * f < 0.0) / f.size


class BinaryCrossEntropy(Loss):
    name, formula = "binary_ce", "-mean[y log p + (1 - y) log(1 - p)]"
    kind = "probability"

    def _value(self, y, p):
        p = np.clip(p, EPS, 1.0 - EPS)
        return -np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p))

    def _gradient(self, y, p):
        p = np.clip(p, EPS, 1.0 - EPS)
        return (p - y) / (p * (1.0 - p)) / p.size


class CategoricalCrossEntropy(Loss):
    name, formula = "categorical_ce", "-1/N sum_i sum_k Y_ik log P_ik"
    kind = "probability"

    def _value(self, Y, P):
        if P.ndim != 2:
            raise PetnetError(f"categorical cross-entropy needs (N, classes) arrays, got shape {P.shape}")
        return -np.sum(Y * np.log(np.clip(P, EPS, 1.0))) / _n(P)

    def _gradient(self, Y, P):
        if P.ndim != 2:
            raise PetnetError(f"categorical cross-entropy needs (N, classes) arrays, got shape {P.shape}")
        return -Y / np.clip(P, EPS, 1.0) / _n(P)


class Huber(Loss):
    """Huber's loss: squared near zero, absolute beyond ``delta`` (in the unit of the target), so one
    far-off sample pulls with a bounded force. Not in the talk; the robust counterpart of MSE/2."""

    name, formula = "huber", "mean h(f - y), h = r^2/2 if |r| <= d else d (|r| - d/2); d = delta"
    in_talk = False

    def __init__(self, delta: float = 1.0):
        from petnet.validate import check_number
        self.delta = check_number("delta", delta, min=0, min_exclusive=True)

    def rescaled(self, c):
        return Huber(self.delta / c)

    def _value(self, y, f):
        r = np.abs(f - y)
        return np.mean(np.where(r <= self.delta, 0.5 * r * r, self.delta * (r - 0.5 * self.delta)))

    def _gradient(self, y, f):
        return np.clip(f - y, -self.delta, self.delta) / f.size

    def __repr__(self):
        return f"<loss huber(delta={self.delta:g}): {self.formula}>"


#: the one registry of loss names (the talk's catalogue, plus Huber's robust loss)
LOSSES = Registry("loss")
for _cls in (ZeroOne, Absolute, Log, Squared, MSE, HalfMSE, Exponential, Hinge, Perceptron,
             BinaryCrossEntropy, CategoricalCrossEntropy, Huber):
    LOSSES.register(_cls.name, _cls())


def get(loss) -> Loss:
    """A loss of the catalogue by name (see :data:`LOSSES`); a :class:`Loss` instance is returned as is."""
    if isinstance(loss, Loss):
        return loss
    return LOSSES.get(loss, param="loss")


#: where :func:`pointwise` evaluates each kind of loss, and what the x axis means
AXES = {"regression": "residual f - y (y = 0)", "margin": "margin y f (y = +1)",
        "probability": "probability p of the true class (y = 1)"}


def pointwise(loss, x) -> tuple[np.ndarray, np.ndarray]:
    """Value and gradient d/df of ``loss`` for ONE sample at each point of ``x``: the residual for a
    regression loss (y = 0, f = x), the margin for a margin loss (y = +1, f = x), the probability of
    the true class for a probability loss (y = 1, p = x; two classes for categorical_ce)."""
    loss = get(loss)
    x = np.asarray(x, dtype=np.float64).ravel()
    values, grads = np.empty_like(x), np.empty_like(x)
    for i, v in enumerate(x):
        if loss.kind == "regression":
            y, f = np.zeros(1), np.array([v])
        elif loss.kind == "margin":
            y, f = np.ones(1), np.array([v])
        elif loss.name == "categorical_ce":
            y, f = np.array([[1.0, 0.0]]), np.array([[v, 1.0 - v]])
        else:
            y, f = np.ones(1), np.array([v])
        values[i] = loss.value(y, f)
        grads[i] = np.ravel(loss.gradient(y, f))[0] + 0.0   # no -0.0
    return values, grads


#: the points where :func:`catalogue` evaluates each kind of loss
POINTS = {"regression": (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0), "margin": (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0),
          "probability": (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)}


@dataclass
class LossPoints:
    """One loss of the catalogue evaluated at a few points (see :func:`pointwise`)."""

    name: str
    kind: str
    formula: str
    x: np.ndarray
    value: np.ndarray
    gradient: np.ndarray


def catalogue() -> list[LossPoints]:
    """Every loss of :data:`LOSSES`, grouped by kind (regression, margin, probability), with its value
    and gradient of one sample at :data:`POINTS` -- what ``petnet gd losses`` prints."""
    out = []
    for kind in AXES:
        for name in LOSSES.names():
            loss = LOSSES.get(name)
            if loss.kind == kind:
                x = np.array(POINTS[kind])
                out.append(LossPoints(name, kind, loss.formula, x, *pointwise(loss, x)))
    return out
