"""The column pass of a separable filter as BLAS matrix-vector products (one gemv per output row).

A column pass with a 1-D kernel ``k`` of ``K`` taps makes output row ``r`` from the input rows
``r .. r + K - 1``: ``out[r] = sum_i k[i] * src[r + i]``. Those ``K`` rows, each ``L = W * C``
numbers long, lie one after the other in memory, so they *are* a ``(K, L)`` matrix with leading
dimension ``L``, and the output row is the vector-matrix product ``k @ rows``: a BLAS gemv, which
streams the ``K`` rows once through SIMD registers instead of making ``K`` NumPy passes.

All output rows at once are one ``np.matmul`` over a strided view ``(R, K, L)`` whose entry
``r`` starts at input row ``r`` (the matrices overlap; nothing is copied): NumPy calls gemv once
per output row. Only the column direction works this way: a one-pixel shift along a row is ``C`` numbers,
and BLAS needs the rows of a matrix at least a row's length apart.
"""

from __future__ import annotations

import numpy as np

from petnet.filters.taps import weights


def column_gemv(src: np.ndarray, k, out: np.ndarray) -> np.ndarray:
    """``out[r] = sum_i k[i] * src[r + i]`` for the 2-D ``src`` (rows of ``L`` contiguous numbers)
    and ``out`` (``len(k) - 1`` rows fewer; its rows may lie further apart than ``L``)."""
    rows, length = out.shape
    s0, s1 = src.strides
    # a view on src's memory (the constructor checks it stays inside src; cheaper than as_strided)
    windows = np.ndarray((rows, len(k), length), src.dtype, src, 0, (s0, s0, s1))
    return np.matmul(weights(k, src.dtype), windows, out=out)
