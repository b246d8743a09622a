"""The fast path of the linear filters: the image in cache-sized bands of rows, kernels as shifted adds.

:func:`petnet.conv.correlate` (via :func:`petnet.filters.convolve.filter2d`) is the reference: one
routine for every kernel, as the CNN uses it. It pads the whole image and makes one pass over
it per kernel tap. The filters of the talk have small or separable kernels, and three ideas make
them fast without leaving NumPy:

1. **Bands of rows.** The output is made a band of rows at a time (about 1 MB per array), so the
   padded input rows, the intermediate row pass and the output stay in the CPU cache while the
   dozen NumPy operations of a filter run over them (smaller bands would fit a smaller cache, but
   then NumPy's cost per call outweighs the gain). Each band is padded on its own: the rows and
   columns beyond the image come from the border rule (``numpy.pad`` of the index range, so every
   border mode is exactly ``numpy.pad``'s), no padded copy of the whole image is made. Work
   arrays are reused from band to band.
2. **Colour stays interleaved.** A band is ``(rows, W + pad, C)``; a shift by one pixel is a
   slice, and every channel is filtered by the same NumPy call (no per-channel loop, no transpose).
3. **Few operations per tap.** A 1-D kernel is applied as a sum of shifted slices, folding
   symmetric taps (``k (x[i-j] + x[i+j])``: one add for two taps) and antisymmetric ones
   (Sobel's ``x[i+1] - x[i-1]``: one subtract), skipping zeros and unit weights. A kernel may be
   given as a product of short factors applied one after the other: Sobel's binomial
   ``[1, 2, 1] = [1, 1] * [1, 1]`` is two adds instead of two adds and a multiply. A box (all
   weights equal) is summed by doubling. A kernel with several different weights (Gaussian) is one
   ``einsum`` over a strided view of its shifted windows: a fused sum of products, where shifted
   adds would cost an add, a multiply and an accumulate per pair of taps. The first weight of each
   pass is multiplied into the band while it is copied.

Measured on one core (``bench/filters_bench.py``): 1.3-3.9x OpenCV's time, from 4-19x with one
pass over the whole padded image per tap. What is left is NumPy itself: each operation is a pass
over the band, where OpenCV's SIMD code applies the whole kernel to a pixel in registers.

Border modes are ``numpy.pad``'s (``constant`` zeros, ``reflect``, ``edge``, ``symmetric``).
Everything here works on ``(H, W, C)`` arrays (a grey image is ``C = 1``) and returns new arrays
of the input's float type.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

BAND_ELEMENTS = 1 << 18      # numbers per band: 1 MB of float32, stays in cache; few NumPy calls


def kernel_span(factors: Sequence[np.ndarray]) -> tuple[int, int]:
    """(before, after) reach of the kernel that is the product of ``factors`` (its length
    ``L = 1 + sum(len(f) - 1)``), anchored at ``L // 2`` as OpenCV anchors it."""
    length = 1 + sum(len(f) - 1 for f in factors)
    return length // 2, length - 1 - length // 2


def border_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """Indices ``0 .. n-1`` padded by the ``numpy.pad`` ``mode`` (``-1``: a zero of ``constant``)."""
    if mode == "constant":
        return np.pad(np.arange(n), (before, after), mode="constant", constant_values=-1)
    return np.pad(np.arange(n), (before, after), mode=mode)


def band_rows(row_elements: int, halo: int = 0) -> int:
    """Rows per band: about ``BAND_ELEMENTS`` numbers, at least 4 and at least the halo."""
    return max(4, halo, BAND_ELEMENTS // max(1, row_elements))


class PaddedRows:
    """Rows of the ``(H, W, C)`` image ``x`` padded by ``pads = ((top, bottom), (left, right))``
    with the border rule (a ``numpy.pad`` mode), read a band at a time: ``read(p0, p1, scale)``
    returns padded rows ``p0:p1`` (padded row ``p`` is image row ``p - top``), columns
    ``-left .. W + right``, times ``scale``, in a buffer that is reused by the next call. No
    padded copy of the whole image is made."""

    def __init__(self, x: np.ndarray, pads, mode: str, max_rows: int):
        (top, bottom), (left, right) = pads
        h, w, c = x.shape
        self.x, self.left, self.w = x, left, w
        self.row_idx = border_index(h, top, bottom, mode)
        col_idx = border_index(w, left, right, mode)
        self.zero = mode == "constant"
        # padded columns: (where, which image columns) -- zeros are written once, here
        self.sides = [(dst, left + src) for dst, src in ((slice(0, left), col_idx[:left]),
                                                        (slice(left + w, None), col_idx[left + w:]))
                      if src.size]
        self.buf = np.zeros((max_rows, w + left + right, c), dtype=x.dtype)

    def read(self, p0: int, p1: int, scale: float = 1.0) -> np.ndarray:
        left, w = self.left, self.w
        band = self.buf[:p1 - p0]
        idx = self.row_idx[p0:p1]
        core = band[:, left:left + w]
        if idx[0] >= 0 and idx[-1] - idx[0] == len(idx) - 1:
            rows = self.x[idx[0]:idx[-1] + 1]           # rows inside the image: one slice copy
        else:
            rows = self.x[np.maximum(idx, 0)]
        if scale == 1:
            core[...] = rows
        else:                                           # a scale costs nothing on top of the copy
            np.multiply(rows, scale, out=core)
        if idx[0] < 0 or idx[-1] < 0:                   # zero border rows
            core[idx < 0] = 0
        if not self.zero:
            for dst, src in self.sides:
                band[:, dst] = band[:, src]
        return band


class Scratch:
    """Work arrays reused from band to band. A fresh NumPy array of a band's size is memory the
    system has to map and zero again for every band (a page fault per 4 KB), which costs more than
    the arithmetic; ``get(name, shape, dtype)`` hands out the same memory each time."""

    def __init__(self):
        self.bufs: dict = {}

    def get(self, name, shape, dtype) -> np.ndarray:
        size = int(np.prod(shape))
        buf = self.bufs.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self.bufs[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)


def correlate_valid(src: np.ndarray, factors: Sequence[np.ndarray], axis: int,
                    out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """The 'valid' correlation of ``src`` along ``axis`` with the product of the 1-D ``factors``
    (each applied in turn; the result is ``sum(len(f) - 1)`` shorter). An empty list copies."""
    if not factors:
        if out is None:
            return src.copy()
        out[...] = src
        return out
    scratch = scratch or Scratch()
    for i, k in enumerate(factors):
        src = _correlate1(src, k, axis, out if i == len(factors) - 1 else None, scratch, (axis, i))
    return src


@functools.lru_cache(maxsize=256)
def _plan(k: tuple[float, ...]) -> tuple[tuple[float, int, int, int], ...]:
    """The terms ``(weight, a, sign, b)`` of a 1-D kernel: ``weight * (x[a] + sign * x[b])``
    (``sign = 0``: the single tap ``x[a]``). Symmetric pairs share one add, antisymmetric ones
    one subtract; zero taps are left out; the first term is a pair when there is one."""
    terms = []
    n = len(k)
    for j in range(n // 2):
        lo, hi = k[j], k[n - 1 - j]
        if lo == hi and lo != 0:
            terms.append((lo, j, 1, n - 1 - j))
        elif lo == -hi and lo != 0:
            terms.append((hi, n - 1 - j, -1, j))
        else:
            terms += [(wt, i, 0, 0) for wt, i in ((lo, j), (hi, n - 1 - j)) if wt != 0]
    if n % 2 and k[n // 2] != 0:
        terms.append((k[n // 2], n // 2, 0, 0))
    return tuple(terms)


def _correlate1(src, k, axis, out, scratch, name):
    """``out[i] = sum_j k[j] src[i + j]`` along ``axis`` (0 or 1), in as few NumPy calls as the
    taps allow; intermediate results live in ``scratch`` under ``name``."""
    n = src.shape[axis] - len(k) + 1
    tap = (lambda j: src[j:j + n]) if axis == 0 else (lambda j: src[:, j:j + n])
    if out is None:
        shape = list(src.shape)
        shape[axis] = n
        out = scratch.get(("out", name), shape, src.dtype)
    if len(k) > 2 and all(v == k[0] for v in k):
        return _box_valid(src, len(k), float(k[0]), axis, out, scratch)
    terms = _plan(tuple(float(v) for v in k))
    view, rows = _windows(src, len(k), axis), _rows_of(out)
    if sum(wt not in (1, -1) for wt, *_ in terms) > 1 and view is not None and rows is not None:
        # several weights: one fused multiply-add pass over the window view (einsum's sum of
        # products) beats an add, a multiply and an accumulate per pair of taps
        np.einsum("j,jnm->nm", np.asarray(k, dtype=src.dtype), view, out=rows)
        return out
    if not terms:
        out[...] = 0
        return out
    tmp = None
    for i, (wt, a, sign, b) in enumerate(terms):
        if i == 0:                                       # the first term is written into out
            if sign == 0:
                np.multiply(tap(a), wt, out=out)
            else:
                (np.add if sign > 0 else np.subtract)(tap(a), tap(b), out=out)
                if wt != 1:
                    out *= wt
        elif sign == 0 and wt in (1, -1):                # a unit weight: add or subtract in place
            (np.add if wt > 0 else np.subtract)(out, tap(a), out=out)
        else:
            if tmp is None:
                tmp = scratch.get("tmp", out.shape, out.dtype)
            if sign == 0:
                np.multiply(tap(a), wt, out=tmp)
            else:
                (np.add if sign > 0 else np.subtract)(tap(a), tap(b), out=tmp)
                if wt != 1:
                    tmp *= wt
            out += tmp
    return out


def _windows(src: np.ndarray, length: int, axis: int) -> np.ndarray | None:
    """A read-only view ``(length, rows, columns * C)`` of the ``(R, W, C)`` array ``src``: entry
    ``j`` is ``src`` shifted by ``j`` along ``axis`` and cut to the 'valid' length (no copy).
    Pixels and channels are merged into one axis so that NumPy's inner loops run long; None when
    they cannot be (``src`` not contiguous within a row)."""
    s0, s1, s2 = src.strides
    if s1 != src.shape[2] * s2:
        return None
    r, w, c = src.shape
    if axis == 0:
        return as_strided(src, (length, r - length + 1, w * c), (s0, s0, s2), writeable=False)
    return as_strided(src, (length, r, (w - length + 1) * c), (s1, s0, s2), writeable=False)


def _rows_of(a: np.ndarray) -> np.ndarray | None:
    """The ``(R, W, C)`` array ``a`` as a writable ``(R, W * C)`` view, or None."""
    s0, s1, s2 = a.strides
    if s1 != a.shape[2] * s2:
        return None
    return as_strided(a, (a.shape[0], a.shape[1] * a.shape[2]), (s0, s2))


def _box_valid(src, size, weight, axis, out, scratch):
    """``out = weight * (sum of size consecutive entries)`` along ``axis``, by doubling: sums of 2,
    4, 8, ... entries (one add each), then the window as a sum of those (5 = 4 + 1): about
    ``log2(size)`` adds instead of ``size - 1``."""
    def part(a, start, length):
        return a[start:start + length] if axis == 0 else a[:, start:start + length]

    n = out.shape[axis]
    parts = [1 << i for i in range(size.bit_length() - 1, -1, -1) if size >> i & 1]   # 5 -> [4, 1]
    top = parts[0] if len(parts) > 1 else parts[0] // 2
    sums = {1: src}                      # sums[m][i] = sum of entries i .. i + m - 1
    m = 1
    while m < top:
        a = sums[m]
        la = a.shape[axis]
        shape = list(a.shape)
        shape[axis] = la - m
        sums[2 * m] = np.add(part(a, 0, la - m), part(a, m, la - m),
                             out=scratch.get(("box", m), shape, a.dtype))
        m *= 2
    if len(parts) == 1:                  # a power of two: the last doubling is the window
        np.add(part(sums[top], 0, n), part(sums[top], top, n), out=out)
    else:
        np.add(part(sums[parts[0]], 0, n), part(sums[parts[1]], parts[0], n), out=out)
        offset = parts[0] + parts[1]
        for b in parts[2:]:
            out += part(sums[b], offset, n)
            offset += b
    if weight != 1:
        out *= weight
    return out


def sep_filter(x: np.ndarray, ky: Sequence[np.ndarray], kx: Sequence[np.ndarray],
               mode: str, scale: float = 1.0) -> np.ndarray:
    """Filter ``(H, W, C)`` ``x`` with ``scale * outer(ky, kx)``, each 1-D kernel given as a list of factors.

    A band at a time: the row pass with ``kx`` on the padded rows not yet seen, then the column
    pass with ``ky`` over the band and its halo, into the output. The halo rows of the row pass
    are kept for the next band (moved to the front of the band buffer), not filtered twice."""
    (top, bottom), pads_x = kernel_span(ky), kernel_span(kx)
    # the first term of each pass gets weight 1 (one operation fewer each), the weights taken
    # out are multiplied into the band as it is copied in
    kx, wx = _unit_first(kx)
    ky, wy = _unit_first(ky)
    scale *= wx * wy
    halo = top + bottom
    h, w, c = x.shape
    rows = band_rows(w * c, halo)
    reader = PaddedRows(x, ((top, bottom), pads_x), mode, rows + halo)
    inter = np.empty((rows + halo, w, c), dtype=x.dtype)    # a band of rows after the row pass
    out = np.empty_like(x)
    scratch = Scratch()
    done, kept = 0, 0                                      # padded rows filtered; kept in inter
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        need = r1 + halo
        if kept:
            inter[:kept] = inter[rows:rows + kept]         # the previous band's last rows
        correlate_valid(reader.read(done, need, scale), kx, axis=1, out=inter[kept:kept + need - done],
                        scratch=scratch)
        done = need
        correlate_valid(inter[:need - r0], ky, axis=0, out=out[r0:r1], scratch=scratch)
        kept = halo
    return out


def _unit_first(factors: Sequence[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """``factors`` with the last one divided by the weight of its first term, and that weight."""
    factors = list(factors)
    if not factors:
        return factors, 1.0
    terms = _plan(tuple(float(v) for v in factors[-1]))
    weight = terms[0][0] if terms else 1.0
    if weight in (0, 1):
        return factors, 1.0
    return factors[:-1] + [np.asarray(factors[-1], dtype=np.float64) / weight], weight


def taps_filter(x: np.ndarray, kernel: np.ndarray, mode: str) -> np.ndarray:
    """Filter ``(H, W, C)`` ``x`` with a small 2-D kernel as shifted adds on each padded band:
    the taps with the same weight are summed first, then scaled once (the Laplacian
    ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` is three adds, a multiply and a subtract)."""
    kh, kw = kernel.shape
    pads = ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2))
    h, w, _ = x.shape
    groups: dict[float, list[tuple[int, int]]] = {}
    for i in range(kh):
        for j in range(kw):
            if kernel[i, j] != 0:
                groups.setdefault(float(kernel[i, j]), []).append((i, j))
    # first a group whose weight is not -1 (no negation needed), the largest such
    order = sorted(groups.items(), key=lambda g: (g[0] == -1, -len(g[1])))
    out = np.empty_like(x)
    if not order:
        out[...] = 0
        return out
    rows = band_rows(w * x.shape[2], kh)
    reader = PaddedRows(x, pads, mode, rows + kh - 1)
    scratch = Scratch()
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        n = r1 - r0
        band = reader.read(r0, r1 + kh - 1)
        o = out[r0:r1]
        tmp = scratch.get("tmp", o.shape, o.dtype) if len(order) > 1 else None

        def tap(i, j):
            return band[i:i + n, j:j + w]

        for g, (wt, taps) in enumerate(order):
            if g and len(taps) == 1 and wt in (1, -1):   # o +-= one tap
                (np.add if wt > 0 else np.subtract)(o, tap(*taps[0]), out=o)
                continue
            acc = o if g == 0 else tmp
            if len(taps) == 1:
                np.multiply(tap(*taps[0]), wt, out=acc)
            else:
                np.add(tap(*taps[0]), tap(*taps[1]), out=acc)
                for t in taps[2:]:
                    acc += tap(*t)
                if wt not in (1, -1) or (g == 0 and wt == -1):
                    acc *= wt
            if g:
                (np.subtract if wt == -1 and len(taps) > 1 else np.add)(o, acc, out=o)
    return out
