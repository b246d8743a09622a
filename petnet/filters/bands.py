"""The fast path of the linear filters: the image's own rows, flat taps, a gemv column pass.

:func:`petnet.conv.correlate` (via :func:`petnet.filters.convolve.filter2d`) is the reference: one
routine for every kernel, as the CNN uses it. It pads the whole image and makes one pass over
it per kernel tap. The filters of the talk have small or separable kernels, and five ideas make
them fast without leaving NumPy:

1. **Flat taps** (:mod:`petnet.filters.taps`). The rows of an ``(H, W, C)`` image lie one after
   the other, so in a band of rows a shift by one row is a shift of the flat array by ``W * C``
   numbers and a shift by one pixel a shift by ``C``: every tap of a kernel is a 1-D slice, the
   cheapest thing NumPy loops over, and all colour channels go through the same call. Few
   operations per tap: symmetric pairs share an add, a box is summed by doubling, a Gaussian
   is one ``einsum``.
2. **No padded copy.** The taps read the image's own memory: a band of output rows reads its
   input rows in place, and only the first and last few rows (whose windows reach beyond the
   image) are gathered by the border rule into a small copy. A pixel shift at the end of a row
   reads the start of the next one, so the first and last ``kw // 2`` output columns come out
   wrong; they are redone at the end from a thin strip holding, side by side, the few columns
   their windows need, padded by the border rule.
3. **Column pass first, as BLAS** (:mod:`petnet.filters.gemv`). A separable kernel
   ``K = ky kx^T`` is a column pass with ``ky`` then a row pass with ``kx`` (``kh + kw``
   operations per pixel instead of ``kh * kw``). The column pass comes first because it needs no
   column padding at all, and when its kernel has several weights (Gaussian, the mean's
   ``1 / k^2``, long Sobel kernels) it is one BLAS gemv per output row, about twice as fast as
   ``einsum``. The row pass cannot be a gemv (its taps are ``C`` numbers apart).
4. **Bands of rows.** The output is made a band of rows at a time (about 1 MB per array), so the
   column pass's output is still in the cache when the row pass reads it; work arrays are reused
   from band to band.
5. **The border rule as indices.** Padded rows and columns are gathered by ``numpy.pad`` of the
   index range (:func:`border_index`), so every border mode is exactly ``numpy.pad``'s, also for
   images smaller than the kernel.

Measured on one core (``bench/filters_bench.py``, 1024x1024 RGB, six runs on a shared machine):
1.0-2.3x OpenCV's time (Gaussian 31x31 1.0-1.1x, Sobel 1.2-1.4x, 5x5 mean 1.6-2.0x, Laplacian and
sharpen 1.8-2.3x). With a padded copy of each band first it was 1.2-3.8x, with one pass over the
whole padded image per tap 4-19x. What is left is NumPy itself: each operation is a pass over the
band (about 0.14 ns per number even in the cache), where OpenCV's SIMD code applies the whole
kernel to a pixel in registers; the Laplacian is five such passes.

Border modes are ``numpy.pad``'s (``constant`` zeros, ``reflect``, ``edge``, ``symmetric``).
Everything here works on C-contiguous ``(H, W, C)`` arrays (a grey image is ``C = 1``) and returns
new arrays of the input's float type.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from petnet.filters.gemv import column_gemv
from petnet.filters.taps import Scratch, correlate, correlate_taps, is_box, several_weights, tap_groups

BAND_ELEMENTS = 1 << 18      # numbers per band: 1 MB of float32, stays in cache; few NumPy calls
MAX_FLOAT32_GAIN = 1024      # sum of |weights| above which a float32 image is filtered in float64


def kernel_span(factors: Sequence[Sequence[float]]) -> tuple[int, int]:
    """(before, after) reach of the kernel that is the product of ``factors`` (its length
    ``L = 1 + sum(len(f) - 1)``), anchored at ``L // 2`` as OpenCV anchors it."""
    length = 1 + sum(len(f) - 1 for f in factors)
    return length // 2, length - 1 - length // 2


def band_rows(row_elements: int) -> int:
    """Rows per band: about ``BAND_ELEMENTS`` numbers, at least one row."""
    return max(1, BAND_ELEMENTS // max(1, row_elements))


@functools.lru_cache(maxsize=64)
def border_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """Indices ``0 .. n-1`` padded by the ``numpy.pad`` ``mode`` (``-1``: a zero of ``constant``);
    cached, not to be written to."""
    if mode == "constant":
        return np.pad(np.arange(n), (before, after), mode="constant", constant_values=-1)
    return np.pad(np.arange(n), (before, after), mode=mode)


def sep_filter(x: np.ndarray, ky: Sequence[Sequence[float]], kx: Sequence[Sequence[float]],
               mode: str, scale: float = 1.0) -> np.ndarray:
    """Filter ``(H, W, C)`` ``x`` with ``scale * outer(ky, kx)``, each 1-D kernel given as a list
    of factors (applied one after the other; ``[]`` is the identity).

    A band of rows at a time: the column pass with ``ky`` reads the image rows in place (the
    first and last few rows are gathered by the border rule) into a work array, the row pass with
    ``kx`` reads that and writes the output; the work array's first and last columns are kept for
    the edge columns, filtered at the end. ``scale`` is folded into the column kernel; more than
    two factors are multiplied out into one kernel (one gemv or ``einsum`` instead of an add per
    factor, and rounding closer to OpenCV's)."""
    ky = [np.asarray(f, dtype=np.float64) for f in ky] or [np.ones(1)]
    kx = [np.asarray(f, dtype=np.float64) for f in kx]
    ky[-1] = ky[-1] * scale
    ky = [functools.reduce(np.convolve, ky)] if len(ky) > 2 else ky
    kx = [functools.reduce(np.convolve, kx)] if len(kx) > 2 else kx
    if x.dtype == np.float32 and np.prod([np.abs(f).sum() for f in ky + kx]) > MAX_FLOAT32_GAIN:
        # large Sobel apertures: sums hundreds of times the pixel values would lose the last
        # digits in float32, so they are made in float64 and rounded once
        return sep_filter(x.astype(np.float64), ky, kx, mode).astype(np.float32)
    ky = [tuple(map(float, f)) for f in ky]
    kx = [tuple(map(float, f)) for f in kx]
    (top, bottom), (left, right) = kernel_span(ky), kernel_span(kx)
    h, w, c = x.shape
    row = w * c
    edge = _EdgeColumns(w, c, left, right, mode)
    strip = np.empty((h, edge.width, c), dtype=x.dtype)   # the row pass's input at the edges
    out = np.empty_like(x)
    dst, scratch = out.reshape(-1), Scratch()
    for r0, r1, rows in _row_bands(x, top, bottom, mode):
        mid = scratch.get("mid", (r1 - r0) * row, x.dtype)
        _passes(rows, ky, row, mid, scratch, column=True)
        edge.gather(mid.reshape(r1 - r0, w, c), strip[r0:r1])
        lo, hi = r0 * row + left * c, r1 * row - right * c   # the first and last columns: wrong
        if lo < hi:
            _passes(mid, kx, c, dst[lo:hi], scratch, column=False)
    res = np.empty(strip.size, dtype=x.dtype)
    _passes(strip.reshape(-1), kx, c, res[:strip.size - (left + right) * c], scratch, column=False)
    edge.put(res.reshape(strip.shape), out)
    return out


def taps_filter(x: np.ndarray, kernel: np.ndarray, mode: str) -> np.ndarray:
    """Filter ``(H, W, C)`` ``x`` with a small 2-D kernel as grouped flat taps
    (:func:`petnet.filters.taps.correlate_taps`) over the image rows, a band at a time; the edge
    columns at the end, from a thin padded copy of the image's first and last columns."""
    kh, kw = kernel.shape
    (top, bottom), (left, right) = (kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)
    h, w, c = x.shape
    row = w * c
    out = np.empty_like(x)
    dst, scratch = out.reshape(-1), Scratch()
    groups = tap_groups(kernel, row, c)
    for r0, r1, rows in _row_bands(x, top, bottom, mode):
        lo, hi = r0 * row + left * c, r1 * row - right * c   # the first and last columns: wrong
        if lo < hi:
            correlate_taps(rows, groups, dst[lo:hi], scratch)
    edge = _EdgeColumns(w, c, left, right, mode)
    strip = np.empty((h, edge.width, c), dtype=x.dtype)
    edge.gather(x, strip)
    strip = _pad_rows(strip, top, bottom, mode).reshape(-1)
    res = np.empty(h * edge.width * c, dtype=x.dtype)
    correlate_taps(strip, tap_groups(kernel, edge.width * c, c), res[:res.size - (left + right) * c], scratch)
    edge.put(res.reshape(h, edge.width, c), out)
    return out


def _row_bands(x: np.ndarray, top: int, bottom: int, mode: str):
    """``(r0, r1, rows)`` for bands of output rows: ``rows`` is the flat run of the input rows
    their windows need, read in place from ``x``, or gathered by the border rule for the ``top``
    first and ``bottom`` last output rows (kept to bands of their own, so that copy stays small)."""
    h, w, c = x.shape
    src = x.reshape(h, w * c)
    rows_pad = border_index(h, top, bottom, mode)
    step = band_rows(w * c)
    first = min(top, h)
    starts = [0, first] + list(range(first + step, h - bottom, step)) + [max(first, h - bottom), h]
    for r0, r1 in zip(starts, starts[1:]):
        if r0 >= r1:
            continue
        if top <= r0 and r1 <= h - bottom:                # every window inside the image
            rows = src[r0 - top:r1 + bottom]
        else:
            idx = rows_pad[r0:r1 + top + bottom]         # the input rows, in padded row numbers
            rows = src.take(np.maximum(idx, 0), axis=0)
            rows[idx < 0] = 0
        yield r0, r1, rows.reshape(-1)


def _pad_rows(a: np.ndarray, top: int, bottom: int, mode: str) -> np.ndarray:
    """``a`` with ``top`` and ``bottom`` rows added by the border rule."""
    idx = border_index(a.shape[0], top, bottom, mode)
    padded = a.take(np.maximum(idx, 0), axis=0)
    padded[idx < 0] = 0
    return padded


class _EdgeColumns:
    """The output columns that flat taps get wrong, ``0 .. left-1`` and ``W-right .. W-1`` (all of
    them when the image is narrower than the kernel), and the padded input columns their windows
    need, side by side in a thin strip: ``gather`` copies them out of a band (the border rule
    gives the padded ones), ``put`` writes the strip's filtered outputs back. Between the two
    sides the windows straddle both, and those outputs are dropped."""

    def __init__(self, w: int, c: int, left: int, right: int, mode: str):
        self.ranges = [(0, left), (w - right, w)] if w > left + right else [(0, w)]
        self.ranges = [(a, b) for a, b in self.ranges if a < b]
        self.span = left + right
        cols_pad = border_index(w, left, right, mode)
        idx = np.concatenate([cols_pad[a:b + self.span] for a, b in self.ranges] or [cols_pad[:0]])
        self.width = len(idx)
        # the numbers to copy, as indices into a row of W * C numbers (-1: a zero of constant)
        self.take = (np.maximum(idx, 0)[:, None] * c + np.arange(c)).ravel()
        self.zeros = np.flatnonzero(np.repeat(idx, c) < 0)

    def gather(self, band: np.ndarray, strip: np.ndarray) -> None:
        """Copy the strip's columns out of the ``(R, W, C)`` ``band`` into ``(R, width, C)``."""
        rows = strip.reshape(strip.shape[0], -1)
        np.take(band.reshape(band.shape[0], -1), self.take, axis=1, out=rows)
        if self.zeros.size:
            rows[:, self.zeros] = 0

    def put(self, res: np.ndarray, out: np.ndarray) -> None:
        """Write the filtered strip ``res`` (the output at each strip column whose window starts
        there) to the edge columns of ``out``."""
        p = 0
        for a, b in self.ranges:
            out[:, a:b] = res[:, p:p + b - a]
            p += b - a + self.span


def _passes(src, factors, step, out, scratch, column: bool):
    """Apply the 1-D ``factors`` one after the other to the flat ``src``, a tap ``step`` numbers
    apart (the column pass: a row, and a gemv for kernels with several weights; the row pass:
    ``C``), the last one into ``out``."""
    if not factors:
        out[...] = src[:out.size]
        return out
    for i, k in enumerate(factors):
        if i == len(factors) - 1:
            dst = out
        else:
            rest = sum(len(f) - 1 for f in factors[i + 1:]) * step
            dst = scratch.get((column, i), out.size + rest, src.dtype)
        if column and _by_gemv(k):
            column_gemv(src.reshape(-1, step), k, dst.reshape(-1, step))
        else:
            correlate(src, k, step, dst, scratch, (column, i))
        src = dst
    return out


@functools.lru_cache(maxsize=256)
def _by_gemv(k: tuple[float, ...]) -> bool:
    """A column kernel worth a gemv: several weights, a scaled box, or longer than 3 taps."""
    return several_weights(k) or (is_box(k) and k[0] != 1) or len(k) > 3
