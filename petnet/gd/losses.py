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
=============  =====================================  ======================================

``half_mse`` is the loss of :class:`~petnet.gd.linear.LinearRegressionGD`: the 1/2 cancels the 2
of the derivative, so its gradient with respect to theta is simply ``X^T (X theta - y) / N``.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError

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
    """A loss function: ``value(y, f)`` (a number) and ``gradient(y, f)`` (d value / d f)."""

    name = "loss"
    formula = ""

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

    def _value(self, y, f):
        return np.mean(y * f <= 0)

    def _gradient(self, y, f):
        return np.zeros_like(f)


class Absolute(Loss):
    name, formula = "absolute", "mean |y - f|"

    def _value(self, y, f):
        return np.mean(np.abs(y - f))

    def _gradient(self, y, f):
        return np.sign(f - y) / f.size


class Log(Loss):
    name, formula = "log", "mean log(1 + exp(-y f))"

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

    def _value(self, y, f):
        return np.mean(np.exp(-y * f))

    def _gradient(self, y, f):
        return -y * np.exp(-y * f) / f.size


class Hinge(Loss):
    name, formula = "hinge", "mean max(0, 1 - y f)"

    def _value(self, y, f):
        return np.mean(np.maximum(0.0, 1.0 - y * f))

    def _gradient(self, y, f):
        return -y * (y * f < 1.0) / f.size


class Perceptron(Loss):
    name, formula = "perceptron", "mean max(0, -y f)"

    def _value(self, y, f):
        return np.mean(np.maximum(0.0, -y * f))

    def _gradient(self, y, f):
        return -y * (y * f < 0.0) / f.size


class BinaryCrossEntropy(Loss):
    name, formula = "binary_ce", "-mean[y log p + (1 - y) log(1 - p)]"

    def _value(self, y, p):
        p = np.clip(p, EPS, 1.0 - EPS)
        return -np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p))

    def _gradient(self, y, p):
        p = np.clip(p, EPS, 1.0 - EPS)
        return (p - y) / (p * (1.0 - p)) / p.size


class CategoricalCrossEntropy(Loss):
    name, formula = "categorical_ce", "-1/N sum_i sum_k Y_ik log P_ik"

    def _value(self, Y, P):
        if P.ndim != 2:
            raise PetnetError(f"categorical cross-entropy needs (N, classes) arrays, got shape {P.shape}")
        return -np.sum(Y * np.log(np.clip(P, EPS, 1.0))) / _n(P)

    def _gradient(self, Y, P):
        if P.ndim != 2:
            raise PetnetError(f"categorical cross-entropy needs (N, classes) arrays, got shape {P.shape}")
        return -Y / np.clip(P, EPS, 1.0) / _n(P)


LOSSES = {cls.name: cls() for cls in (ZeroOne, Absolute, Log, Squared, MSE, HalfMSE, Exponential,
                                      Hinge, Perceptron, BinaryCrossEntropy, CategoricalCrossEntropy)}


def get(name: str) -> Loss:
    """A loss of the catalogue by name (see :data:`LOSSES`)."""
    key = str(name).lower()
    if key not in LOSSES:
        raise PetnetError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[key]
