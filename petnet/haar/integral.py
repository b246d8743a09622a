"""The integral image (summed-area table): any rectangle sum in four lookups.

``ii[y, x]`` is the sum of every pixel above and to the left of ``(x, y)``, i.e. of
``img[:y, :x]``. The table has one extra zero row and column at the top and left, so
``ii`` has shape ``(H + 1, W + 1)`` and the sum of the ``w x h`` rectangle whose top-left
pixel is ``(x, y)`` is

    ii[y + h, x + w] - ii[y, x + w] - ii[y + h, x] + ii[y, x]

whatever its size: four lookups instead of ``w * h`` additions. This is what makes
Viola-Jones' Haar features cheap enough to evaluate thousands of times per window.
The squared integral (the same table of ``img ** 2``) gives a window's variance in four
more lookups, used to normalise the features against lighting (see :mod:`.cascade`).
"""

from __future__ import annotations

import numpy as np


def _table(values: np.ndarray) -> np.ndarray:
    h, w = values.shape
    out = np.zeros((h + 1, w + 1), dtype=values.dtype)
    np.cumsum(values, axis=0, out=out[1:, 1:])
    np.cumsum(out[1:, 1:], axis=1, out=out[1:, 1:])
    return out


def _as_2d(img) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim != 2:
        raise ValueError(f"img must be a 2-D (grayscale) array, got shape {a.shape}")
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.floating):
        return a.astype(np.float64)
    raise ValueError(f"img must hold numbers, got dtype {a.dtype}")


def integral_image(img) -> np.ndarray:
    """Summed-area table of a 2-D image, shape ``(H + 1, W + 1)`` with a zero first row and
    column: ``ii[y, x] = img[:y, :x].sum()``. Integer images give exact int64 sums, float
    images float64 sums (OpenCV's ``cv2.integral``)."""
    return _table(_as_2d(img))


def squared_integral(img) -> np.ndarray:
    """Summed-area table of ``img ** 2`` (OpenCV's ``sqsum``), for window variances."""
    a = _as_2d(img)
    return _table(a * a)


def rect_sum(ii: np.ndarray, x, y, w, h):
    """Sum of the ``w x h`` rectangle(s) with top-left pixel ``(x, y)``, by four lookups in the
    integral image ``ii``. Every argument may be an array (broadcast together)."""
    x, y, w, h = (np.asarray(v) for v in (x, y, w, h))
    if np.any(w < 0) or np.any(h < 0):
        raise ValueError("rectangle width and height must be >= 0")
    H, W = ii.shape[0] - 1, ii.shape[1] - 1
    if np.any(x < 0) or np.any(y < 0) or np.any(x + w > W) or np.any(y + h > H):
        raise ValueError(f"rectangle outside the {W}x{H} image")
    return ii[y + h, x + w] - ii[y, x + w] - ii[y + h, x] + ii[y, x]


def window_mean_std(ii: np.ndarray, sq: np.ndarray, x, y, w, h):
    """Mean and standard deviation of the pixels of the ``w x h`` window(s) at ``(x, y)`` from
    the integral and squared integral: ``var = E[p^2] - E[p]^2``, eight lookups."""
    n = np.asarray(w) * np.asarray(h)
    if np.any(n <= 0):
        raise ValueError("window width and height must be > 0")
    s = rect_sum(ii, x, y, w, h).astype(np.float64)
    s2 = rect_sum(sq, x, y, w, h).astype(np.float64)
    mean = s / n
    var = np.maximum(s2 / n - mean * mean, 0.0)
    return mean, np.sqrt(var)
