"""The integral image (summed-area table): any rectangle's sum in four lookups -- the box filter
whose cost does not depend on the window size (the trick of Viola and Jones' Haar features).

    S[i, j] = sum of x[:i, :j]        (S has one more row and column than x, the first ones 0)
    sum of x[y0:y1, x0:x1] = S[y1, x1] - S[y0, x1] - S[y1, x0] + S[y0, x0]

The mean filter of a ``kh x kw`` window is that sum over every window of the padded image, divided
by ``kh * kw``: three subtractions per pixel whatever the window. The sums are kept in float64
(a float32 table of a megapixel image would lose about 1e-2 in its large entries), so for small
windows the shifted adds of :func:`petnet.filters.bands.sep_filter` are faster; the mean filter
switches to the table from a window area of ``INTEGRAL_FROM`` pixels.
"""

from __future__ import annotations

import numpy as np

INTEGRAL_FROM = 15 * 15      # window area from which the table beats ``kh + kw`` shifted adds


def integral_image(x: np.ndarray) -> np.ndarray:
    """The summed-area table of an ``(H, W, C)`` array: ``(H + 1, W + 1, C)`` float64,
    ``S[i, j] = x[:i, :j].sum(axis=(0, 1))``."""
    h, w, c = x.shape
    table = np.zeros((h + 1, w + 1, c), dtype=np.float64)
    rows = table[1:, 1:]
    rows[0] = x[0]
    for i in range(1, h):                       # running sum down the rows, one row at a time
        np.add(rows[i - 1], x[i], out=rows[i])
    np.cumsum(rows, axis=1, out=rows)           # then along each row
    return table


def window_sums(table: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """The sum of every ``kh x kw`` window of the image whose integral image is ``table``."""
    out = table[kh:, kw:] - table[:-kh, kw:]
    out -= table[kh:, :-kw]
    out += table[:-kh, :-kw]
    return out


def box_mean(x: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """The ``kh x kw`` mean filter of an ``(H, W, C)`` array (anchor ``k // 2``), border by the
    ``numpy.pad`` ``mode``; same as ``cv2.blur``."""
    kh, kw = size
    padded = np.pad(x, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2), (0, 0)), mode=mode)
    sums = window_sums(integral_image(padded), kh, kw)
    sums *= 1.0 / (kh * kw)
    return sums.astype(x.dtype)
