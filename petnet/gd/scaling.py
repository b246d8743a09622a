"""Feature scaling (standardisation): why gradient descent on raw house prices is so slow.

With raw features the loss surface is a long, thin valley: the living area (~2000 sqft) and
the constant 1 of the intercept differ by three orders of magnitude, so one learning rate is
far too large along one axis and far too small along the other. Standardising every column,

    z = (x - mean) / std,

makes the valley round, and gradient descent then needs a handful of iterations instead of
millions. The fitted coefficients are mapped back to the original units afterwards:
a model ``y = b + w * z`` is ``y = (b - w * mean / std) + (w / std) * x``.
"""

from __future__ import annotations

import numpy as np

from petnet.gd.errors import AdviceError


class StandardScaler:
    """Standardise each column to mean 0 and standard deviation 1: ``z = (x - mean_) / scale_``."""

    def __init__(self, names: list[str] | None = None):
        self.names = names

    def fit(self, X) -> "StandardScaler":
        X = np.asarray(X, dtype=np.float64)
        X2 = X[:, None] if X.ndim == 1 else X
        if X2.shape[0] < 2:
            raise AdviceError("feature scaling needs at least two samples (a standard deviation of one "
                              "value is meaningless)", "; add samples or use {no_scale}")
        self.mean_ = X2.mean(axis=0)
        self.scale_ = X2.std(axis=0)
        for j, s in enumerate(self.scale_):
            # a column is constant when its spread is at rounding level of its values
            if not s > 1e-12 * max(1.0, abs(self.mean_[j])):
                name = self.names[j] if self.names and j < len(self.names) else f"column {j}"
                raise AdviceError(f"feature {name!r} is constant (every value is {X2[0, j]:g}): it carries no "
                                  "information and cannot be standardised", "; drop that column or use {no_scale}")
        if X.ndim == 1:
            self.mean_, self.scale_ = self.mean_[0], self.scale_[0]
        return self

    def transform(self, X) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        return np.asarray(Z, dtype=np.float64) * self.scale_ + self.mean_
