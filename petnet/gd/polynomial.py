"""Polynomial features: the talk's "curve fitting" (曲线拟合) of the same house prices.

A curve ``y = a0 + a1 x + a2 x^2 + ... + ad x^d`` is still *linear in its coefficients*, so the
same gradient descent fits it: just give the model the columns ``x, x^2, ..., x^d``.
Each feature column gets its own powers (no products between different columns).

Raw powers of a living area (2000, 4 000 000, 8 000 000 000) are hopeless for gradient descent,
so :class:`~petnet.gd.linear.LinearRegressionGD` takes powers of the *standardised* value
``z = (x - m) / s`` and converts the result back with :func:`to_original_units`.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import Polynomial

from petnet.validate import check_int


def power_features(X, degree: int) -> np.ndarray:
    """Columns ``[x1, x1^2, ..., x1^d, x2, x2^2, ..., x2^d, ...]`` of a table ``X`` (n, p) -> (n, p*d)."""
    degree = check_int("degree", degree, min=1)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    return np.concatenate([X[:, [j]] ** np.arange(1, degree + 1) for j in range(X.shape[1])], axis=1)


def power_names(names: list[str], degree: int) -> list[str]:
    """Readable names of the :func:`power_features` columns, e.g. ``size_sqft^2``."""
    return [n if k == 1 else f"{n}^{k}" for n in names for k in range(1, degree + 1)]


def to_original_units(c, mean: float, std: float) -> np.ndarray:
    """Coefficients of ``P(z) = c0 + c1 z + ... + cd z^d`` with ``z = (x - mean) / std`` rewritten
    as a polynomial in ``x``: returns ``[p0, p1, ..., pd]`` with ``P = p0 + p1 x + ... + pd x^d``."""
    c = np.asarray(c, dtype=np.float64)
    p = Polynomial(c)(Polynomial([-mean / std, 1.0 / std])).coef
    out = np.zeros(len(c))
    out[:len(p)] = p
    return out
