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
The *tilted* integral (Lienhart's rotated summed-area table) does the same for rectangles
turned by 45 degrees, which some of OpenCV's cascades use.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import ParamError


def _table(values: np.ndarray) -> np.ndarray:
    h, w = values.shape
    out = np.zeros((h + 1, w + 1), dtype=values.dtype)
    np.cumsum(values, axis=0, out=out[1:, 1:])
    np.cumsum(out[1:, 1:], axis=1, out=out[1:, 1:])
    return out


def _as_2d(img) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim != 2:
        raise ParamError("img", f"must be a 2-D (grayscale) array, got shape {a.shape}")
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.floating):
        return a.astype(np.float64)
    raise ParamError("img", f"must hold numbers, got dtype {a.dtype}")


def integral_image(img) -> np.ndarray:
    """Summed-area table of a 2-D image, shape ``(H + 1, W + 1)`` with a zero first row and
    column: ``ii[y, x] = img[:y, :x].sum()``. Integer images give exact int64 sums, float
    images float64 sums (OpenCV's ``cv2.integral``)."""
    return _table(_as_2d(img))


def squared_integral(img) -> np.ndarray:
    """Summed-area table of ``img ** 2`` (OpenCV's ``sqsum``), for window variances."""
    a = _as_2d(img)
    return _table(a * a)


def tilted_integral(img) -> np.ndarray:
    """Rotated summed-area table, OpenCV's ``tilted`` output of ``cv2.integral3``:
    ``t[Y, X]`` = sum of ``img[y, x]`` over ``y < Y`` and ``|x - X + 1| <= Y - y - 1``, the
    triangle that opens upwards from pixel ``(X - 1, Y - 1)``. Shape ``(H + 1, W + 1)``.

    Built row by row: ``t[Y, X] = t[Y-1, X-1] + t[Y-1, X+1] - t[Y-2, X] + img[Y-1, X-1] +
    img[Y-2, X-1]``, on zero margins wide enough that triangles leaving the image are right."""
    a = _as_2d(img)
    H, W = a.shape
    P = H + 1
    cols = W + 1 + 2 * P                 # columns X = -P .. W + P
    pix = np.zeros((H, cols), dtype=a.dtype)
    pix[:, P + 1:P + 1 + W] = a          # img[y, X - 1] sits in the column of X
    t = np.zeros((H + 1, cols), dtype=a.dtype)
    for Y in range(1, H + 1):
        row = t[Y]
        row[1:-1] = t[Y - 1, :-2] + t[Y - 1, 2:]
        row += pix[Y - 1]
        if Y >= 2:
            row -= t[Y - 2]
            row += pix[Y - 2]
    return np.ascontiguousarray(t[:, P:P + W + 1])


def tilted_rect_sum(t: np.ndarray, x, y, w, h):
    """Sum of OpenCV's tilted rectangle ``(x, y, w, h)``: the 45-degree rectangle whose top corner
    is pixel corner ``(x, y)``, with sides ``w`` going down-right and ``h`` going down-left, from
    the tilted integral ``t`` by four lookups (``t[p0] - t[p1] - t[p2] + t[p3]``, OpenCV's
    ``CV_TILTED_OFS``)."""
    x, y, w, h = (np.asarray(v) for v in (x, y, w, h))
    H, W = t.shape[0] - 1, t.shape[1] - 1
    if np.any(x - h < 0) or np.any(x + w > W) or np.any(y < 0) or np.any(y + w + h > H):
        raise ValueError(f"tilted rectangle outside the {W}x{H} image")
    return t[y, x] - t[y + h, x - h] - t[y + w, x + w] + t[y + w + h, x + w - h]


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
