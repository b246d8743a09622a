"""Kernel taps as shifted slices of one flat array: a filter in a handful of long NumPy calls.

Rows of an ``(H, W, C)`` image are contiguous, one after the other, so a band of rows is one flat
run of numbers in which the pixel one row down is ``L = W * C`` numbers further on and the pixel
one to the right ``C`` numbers further on. Every tap ``(i, j)`` of a kernel is then the same flat
array shifted by ``i * L + j * C``, and a filter is a sum of shifted 1-D slices::

    out[p] = sum_{i, j} K[i, j] * src[p + i * L + j * C]

1-D slices are the cheapest thing NumPy loops over (one long inner loop, no strides). Positions
near the end of a row pick up the first pixels of the next row; those outputs (the last ``kw - 1``
columns of each row) are wrong, and the caller overwrites or discards them
(:mod:`petnet.filters.bands`).

Few operations per tap:

* a 1-D kernel is a sum of shifted slices, folding symmetric taps (``k (x[i-j] + x[i+j])``: one add
  for two taps) and antisymmetric ones (Sobel's ``x[i+1] - x[i-1]``: one subtract), skipping
  zeros and unit weights;
* a box (all weights equal) is summed by doubling: sums of 2, 4, ... taps, then 5 = 4 + 1;
* a kernel with several different weights (Gaussian) is one ``einsum`` over a strided view of its
  shifted slices (a fused sum of products instead of an add, a multiply and an accumulate per pair);
* a small 2-D kernel (Laplacian, sharpen) sums the taps of equal weight first and scales once.
"""

from __future__ import annotations

import functools

import numpy as np


class Scratch:
    """Work arrays reused from band to band. A fresh NumPy array of a band's size is memory the
    system has to map and zero again for every band (a page fault per 4 KB), which costs more than
    the arithmetic; ``get(name, size, dtype)`` hands out the same memory each time."""

    def __init__(self):
        self.bufs: dict = {}

    def get(self, name, size: int, dtype) -> np.ndarray:
        buf = self.bufs.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self.bufs[name] = np.empty(size, dtype=dtype)
        return buf[:size]


@functools.lru_cache(maxsize=256)
def weights(k: tuple[float, ...], dtype) -> np.ndarray:
    """The kernel ``k`` as an array of ``dtype`` (cached: it is used once per band)."""
    return np.asarray(k, dtype=dtype)


@functools.lru_cache(maxsize=256)
def several_weights(k: tuple[float, ...]) -> bool:
    """True when a 1-D kernel has more than one weight other than 0 and +-1 after folding its
    symmetric and antisymmetric pairs: a sum of products (``einsum``, a BLAS gemv) beats adds."""
    return sum(wt not in (1, -1) for wt, *_ in _plan(k)) > 1


def is_box(k: tuple[float, ...]) -> bool:
    """True for a kernel of three or more equal weights (summed by doubling)."""
    return len(k) > 2 and all(v == k[0] for v in k)


def correlate(src: np.ndarray, k: tuple[float, ...], step: int, out: np.ndarray, scratch: Scratch,
              name="") -> np.ndarray:
    """``out[p] = sum_j k[j] * src[p + j * step]`` for every ``p < len(out)`` (flat 1-D arrays;
    ``src`` holds at least ``len(out) + (len(k) - 1) * step`` numbers). Intermediate sums live in
    ``scratch`` under ``name``."""
    n = out.shape[0]

    def tap(j):
        return src[j * step:j * step + n]

    if is_box(k):
        return _box(src, len(k), k[0], step, out, scratch, name)
    if several_weights(k):
        s = src.strides[0]              # (len(k), n): row j is src shifted by j taps, no copy
        windows = np.ndarray((len(k), n), src.dtype, src, 0, (step * s, s))
        return np.einsum("j,jn->n", weights(k, src.dtype), windows, out=out)
    terms = _plan(k)
    if not terms:
        out[...] = 0
        return out
    def term(wt, a, sign, b, dst):
        """``dst = wt * (src[a] + sign * src[b])``: a multiply, or an add/subtract and a scale."""
        if sign == 0:
            np.multiply(tap(a), wt, out=dst)
        else:
            (np.add if sign > 0 else np.subtract)(tap(a), tap(b), out=dst)
            if wt != 1:
                dst *= wt

    for i, (wt, a, sign, b) in enumerate(terms):
        if i == 0:                                       # the first term is written into out
            term(wt, a, sign, b, out)
        elif sign == 0 and wt in (1, -1):                # a unit weight: add or subtract in place
            (np.add if wt > 0 else np.subtract)(out, tap(a), out=out)
        else:                                            # one weighted term (see several_weights)
            tmp = scratch.get(("tmp", name), n, out.dtype)
            term(wt, a, sign, b, tmp)
            out += tmp
    return out


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


def _box(src, size, weight, step, out, scratch, name):
    """``out = weight * (sum of size consecutive taps)``, by doubling: sums of 2, 4, 8, ... taps
    (one add each), then the window as a sum of those (5 = 4 + 1): about ``log2(size)`` adds
    instead of ``size - 1``."""
    n = out.shape[0]
    parts = [1 << i for i in range(size.bit_length() - 1, -1, -1) if size >> i & 1]   # 5 -> [4, 1]
    top = parts[0] if len(parts) > 1 else parts[0] // 2
    sums = {1: src}                      # sums[m][p] = sum of the m taps from p on
    m = 1
    while m < top:
        a = sums[m]
        length = a.shape[0] - m * step
        sums[2 * m] = np.add(a[:length], a[m * step:m * step + length],
                             out=scratch.get(("box", m, name), length, a.dtype))
        m *= 2
    if len(parts) == 1:                  # a power of two: the last doubling is the window
        np.add(sums[top][:n], sums[top][top * step:top * step + n], out=out)
    else:
        first, second = parts[0], parts[1]
        np.add(sums[first][:n], sums[second][first * step:first * step + n], out=out)
        offset = first + second
        for b in parts[2:]:
            out += sums[b][offset * step:offset * step + n]
            offset += b
    if weight != 1:
        out *= weight
    return out


def tap_groups(kernel: np.ndarray, row: int, pixel: int) -> list[tuple[float, list[int]]]:
    """The taps of a small 2-D kernel grouped by weight, as flat offsets ``i * row + j * pixel``,
    in the order :func:`correlate_taps` sums them: the weights other than +-1 first, the most
    taps first (the first group is summed straight into the output, the others in a work
    array), then the unit weights (an add or subtract per tap)."""
    groups: dict[float, list[int]] = {}
    for (i, j), wt in np.ndenumerate(kernel):
        if wt != 0:
            groups.setdefault(float(wt), []).append(i * row + j * pixel)
    return sorted(groups.items(), key=lambda g: (g[0] in (1, -1), -len(g[1])))


def correlate_taps(src: np.ndarray, groups: list[tuple[float, list[int]]], out: np.ndarray,
                   scratch: Scratch) -> np.ndarray:
    """``out[p] = sum_{i, j} kernel[i, j] * src[p + i * row + j * pixel]`` for a small 2-D kernel
    given as its :func:`tap_groups`: the taps with the same weight are summed first, then scaled
    once (the Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` is a multiply and four adds)."""
    n = out.shape[0]
    if not groups:
        out[...] = 0
        return out

    def tap(offset):
        return src[offset:offset + n]

    for g, (wt, offsets) in enumerate(groups):
        if g and wt in (1, -1):
            for off in offsets:
                (np.add if wt > 0 else np.subtract)(out, tap(off), out=out)
            continue
        acc = out if g == 0 else scratch.get("taps", n, out.dtype)
        if len(offsets) == 1:
            np.multiply(tap(offsets[0]), wt, out=acc)
        else:
            np.add(tap(offsets[0]), tap(offsets[1]), out=acc)
            for off in offsets[2:]:
                acc += tap(off)
            if wt != 1:
                acc *= wt
        if g:
            out += acc
    return out
