"""The fast path of the linear filters: the image's own rows in bands, the border done apart.

:func:`petnet.conv.correlate` (via :func:`petnet.filters.convolve.filter2d`) is the reference: one
routine for every kernel, as the CNN uses it. It pads the whole image and makes one pass over
it per kernel tap. The filters of the talk have small or separable kernels, and four ideas make
them fast without leaving NumPy:

1. **No padded copy.** Only the pixels within half a kernel of the border need the border rule.
   The *interior* (every row with a full window of rows above and below) is computed straight
   from the image's memory, and its first and last ``kw // 2`` columns, which the flat taps get
   wrong (2.), are then overwritten, together with the top and bottom rows, by four thin
   *edge blocks*: each a small ``numpy.pad`` of the pixels it needs (so every border mode is
   exactly ``numpy.pad``'s) filtered by the same code. An image too small to have an interior is
   one such block.
2. **Flat taps** (:mod:`petnet.filters.taps`). In a band of contiguous rows a shift by one row is
   a shift of the flat array by ``W * C`` numbers, a shift by one pixel a shift by ``C``: every
   tap is a 1-D slice, the cheapest thing NumPy loops over, and every colour channel goes through
   the same call. A pixel shift at the end of a row reads the start of the next row; those
   outputs are the edge columns that the edge blocks overwrite.
3. **Column pass first, as BLAS** (:mod:`petnet.filters.gemv`). A separable kernel
   ``K = ky kx^T`` is a column pass with ``ky`` then a row pass with ``kx`` (``kh + kw``
   operations per pixel instead of ``kh * kw``). The column pass reads the image rows in place
   (needing no column padding, 1.), and when its kernel has several weights (Gaussian, or the
   mean's ``1 / k^2``) it is a gemv per output row, about twice as fast as ``einsum``. The
   row pass uses shifted adds (box, Sobel) or ``einsum`` (Gaussian) on the band the column pass
   left in the cache.
4. **Bands of rows.** The interior is made a band of rows at a time (about 1 MB per array), so
   the column pass's output is still in the CPU cache when the row pass reads it, and work arrays
   are reused from band to band.

Measured on one core (``bench/filters_bench.py``): 0.7-1.7x OpenCV's time, from 1.3-3.9x with a
padded copy of each band, and 4-19x with one pass over the whole padded image per tap. What is
left is NumPy itself: each operation is a pass over the band, where OpenCV's SIMD code applies
the whole kernel to a pixel in registers.

Border modes are ``numpy.pad``'s (``constant`` zeros, ``reflect``, ``edge``, ``symmetric``).
Everything here works on C-contiguous ``(H, W, C)`` arrays (a grey image is ``C = 1``) and returns
new arrays of the input's float type.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import numpy as np

from petnet.filters.gemv import column_gemv
from petnet.filters.taps import Scratch, correlate_flat, correlate_taps, is_box, several_weights

BAND_ELEMENTS = 1 << 18      # numbers per band: 1 MB of float32, stays in cache; few NumPy calls

#: ``apply(src, row, out, scratch)``: ``out[p] = sum_{i, j} K[i, j] src[p + i * row + j * C]``
#: over flat arrays, ``row`` the length of a row of ``src``
FlatFilter = Callable[[np.ndarray, int, np.ndarray, Scratch], np.ndarray]


def kernel_span(factors: Sequence[np.ndarray]) -> tuple[int, int]:
    """(before, after) reach of the kernel that is the product of ``factors`` (its length
    ``L = 1 + sum(len(f) - 1)``), anchored at ``L // 2`` as OpenCV anchors it."""
    length = 1 + sum(len(f) - 1 for f in factors)
    return length // 2, length - 1 - length // 2


def band_rows(row_elements: int) -> int:
    """Rows per band: about ``BAND_ELEMENTS`` numbers, at least one row."""
    return max(1, BAND_ELEMENTS // max(1, row_elements))


def filter_image(x: np.ndarray, spans, apply: FlatFilter, mode: str) -> np.ndarray:
    """Run the flat filter ``apply`` (a kernel reaching ``spans = ((top, bottom), (left, right))``
    around its anchor) over the ``(H, W, C)`` image ``x`` with the ``numpy.pad`` border ``mode``:
    the interior straight from ``x`` a band at a time, then the edge blocks."""
    (top, bottom), (left, right) = spans
    h, w, c = x.shape
    out = np.empty_like(x)
    scratch = Scratch()
    if h <= top + bottom or w <= left + right:             # no interior: one block
        _edge_block(x, out, [(0, h)], [(0, w)], spans, apply, mode, scratch)
        return out
    row = w * c
    src, dst = x.reshape(-1), out.reshape(-1)
    step = band_rows(row)
    for r0 in range(top, h - bottom, step):
        r1 = min(h - bottom, r0 + step)
        # output pixel (r0, left) is the first whose window starts at src[(r0 - top) * row]
        apply(src[(r0 - top) * row:(r1 + bottom) * row], row,
              dst[r0 * row + left * c:r1 * row - right * c], scratch)
    # the top and bottom rows, then the first and last columns (which the interior got wrong)
    _edge_block(x, out, [(0, top), (h - bottom, h)], [(0, w)], spans, apply, mode, scratch)
    _edge_block(x, out, [(top, h - bottom)], [(0, left), (w - right, w)], spans, apply, mode, scratch)
    return out


@functools.lru_cache(maxsize=64)
def border_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """Indices ``0 .. n-1`` padded by the ``numpy.pad`` ``mode`` (``-1``: a zero of ``constant``);
    cached, not to be written to."""
    if mode == "constant":
        return np.pad(np.arange(n), (before, after), mode="constant", constant_values=-1)
    return np.pad(np.arange(n), (before, after), mode=mode)


def _region(a: int, b: int, n: int, before: int, after: int) -> tuple[int, int, int, int]:
    """The image range ``lo:hi`` (of ``n``) that outputs ``a:b`` need, and the padding
    ``(pad_lo, pad_hi)`` beyond the image. The border rule copies pixels from within the range,
    so a range at a border is made long enough to hold every pixel that it copies."""
    lo, hi = max(0, a - before), min(n, b + after)
    need = max(before, after) + 1
    if lo == 0:
        hi = max(hi, min(n, need))
    if hi == n:
        lo = min(lo, max(0, n - need))
    return lo, hi, max(0, before - a), max(0, b + after - n)


def _edge_block(x, out, row_ranges, col_ranges, spans, apply: FlatFilter, mode, scratch):
    """The outputs ``out[r0:r1, c0:c1]`` for every row range and column range given, from one
    small padded copy that holds, side by side, the pixels each range's windows need (the windows
    that straddle two ranges give outputs that are dropped). The padding is filled by the
    ``numpy.pad`` rule of the padded index range (:func:`border_index`)."""
    (top, bottom), (left, right) = spans
    row_ranges = [(a, b) for a, b in row_ranges if a < b]
    col_ranges = [(a, b) for a, b in col_ranges if a < b]
    if not row_ranges or not col_ranges:
        return
    h, w, c = x.shape
    rparts = [_region(a, b, h, top, bottom) for a, b in row_ranges]
    cparts = [_region(a, b, w, left, right) for a, b in col_ranges]
    heights = [hi - lo + p0 + p1 for lo, hi, p0, p1 in rparts]
    widths = [hi - lo + p0 + p1 for lo, hi, p0, p1 in cparts]
    block = np.empty((sum(heights), sum(widths), c), dtype=x.dtype)
    y = 0
    for (rlo, rhi, pt, pb), hgt in zip(rparts, heights):
        z = 0
        for (clo, chi, pl, pr), wid in zip(cparts, widths):
            part = block[y:y + hgt, z:z + wid]
            part[pt:hgt - pb, pl:wid - pr] = x[rlo:rhi, clo:chi]
            _fill_border(part, 0, pt, pb, mode)
            _fill_border(part, 1, pl, pr, mode)
            z += wid
        y += hgt
    hb, wb, _ = block.shape
    rows, row = hb - top - bottom, wb * c
    res = np.empty((rows, wb, c), dtype=x.dtype)           # the last left + right columns: not filled
    apply(block.reshape(-1), row, res.reshape(-1)[:rows * row - (left + right) * c], scratch)
    # result pixel (q, p) is the one whose window starts at block pixel (q, p)
    q = 0
    for (a, b), (rlo, _, pt, _), hgt in zip(row_ranges, rparts, heights):
        p = 0
        for (c0, c1), (clo, _, pl, _), wid in zip(col_ranges, cparts, widths):
            dq, dp = q + a - rlo + pt - top, p + c0 - clo + pl - left
            out[a:b, c0:c1] = res[dq:dq + b - a, dp:dp + c1 - c0]
            p += wid
        q += hgt


def _fill_border(part: np.ndarray, axis: int, before: int, after: int, mode: str) -> None:
    """Fill the first ``before`` and last ``after`` entries of ``part`` along ``axis`` from the
    entries between them, by the ``numpy.pad`` ``mode``."""
    if not before and not after:
        return
    n = part.shape[axis] - before - after
    idx = border_index(n, before, after, mode)
    a = part if axis == 0 else part.swapaxes(0, 1)
    for dst in (slice(0, before), slice(before + n, before + n + after)):
        src = idx[dst]
        if src.size:
            a[dst] = 0 if mode == "constant" else a[src + before]


def sep_filter(x: np.ndarray, ky: Sequence[np.ndarray], kx: Sequence[np.ndarray],
               mode: str, scale: float = 1.0) -> np.ndarray:
    """Filter ``(H, W, C)`` ``x`` with ``scale * outer(ky, kx)``, each 1-D kernel given as a list
    of factors (applied one after the other; ``[]`` is the identity).

    Per band: the column pass with ``ky`` reads the image rows and writes whole rows to a work
    array, the row pass with ``kx`` reads them and writes the output. ``scale`` is folded into the
    column kernel; more than two factors are multiplied out into one kernel (one gemv or
    ``einsum`` instead of an add per factor, and rounding closer to OpenCV's)."""
    ky = [np.asarray(f, dtype=np.float64) for f in ky] or [np.ones(1)]
    kx = [np.asarray(f, dtype=np.float64) for f in kx]
    ky[-1] = ky[-1] * scale
    ky = [functools.reduce(np.convolve, ky)] if len(ky) > 2 else ky
    kx = [functools.reduce(np.convolve, kx)] if len(kx) > 2 else kx
    c = x.shape[2]
    return filter_image(x, (kernel_span(ky), kernel_span(kx)), _separable(ky, kx, c), mode)


def _separable(ky: list[np.ndarray], kx: list[np.ndarray], c: int) -> FlatFilter:
    """The flat filter of ``outer(ky, kx)``: the column pass into a work array (whole rows), then
    the row pass into ``out``."""
    width = 1 + sum(len(f) - 1 for f in kx)

    def passes(src, k_list, step, last_out, scratch, name):
        """Apply the factors ``k_list`` one after the other, the last one into ``last_out``."""
        for i, k in enumerate(k_list):
            rest = sum(len(f) - 1 for f in k_list[i + 1:]) * step
            dst = last_out if i == len(k_list) - 1 else scratch.get((name, i), last_out.shape[0] + rest, src.dtype)
            if name == "col" and _by_gemv(k):
                column_gemv(src, k, step, dst)
            else:
                correlate_flat(src, k, step, dst, scratch, (name, i))
            src = dst
        return src

    def apply(src, row, out, scratch):
        if not kx:
            return passes(src, ky, row, out, scratch, "col")
        mid = passes(src, ky, row, scratch.get("mid", out.shape[0] + (width - 1) * c, src.dtype), scratch, "col")
        return passes(mid, kx, c, out, scratch, "row")

    return apply


def _by_gemv(k: np.ndarray) -> bool:
    """A column kernel worth a gemv: several weights, a scaled box, or longer than 3 taps."""
    return several_weights(k) or (is_box(k) and k[0] != 1) or len(k) > 3


def taps_filter(x: np.ndarray, kernel: np.ndarray, mode: str) -> np.ndarray:
    """Filter ``(H, W, C)`` ``x`` with a small 2-D kernel as grouped flat taps
    (:func:`petnet.filters.taps.correlate_taps`)."""
    kh, kw = kernel.shape
    c = x.shape[2]

    def apply(src, row, out, scratch):
        return correlate_taps(src, kernel, row, c, out, scratch)

    return filter_image(x, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), apply, mode)
