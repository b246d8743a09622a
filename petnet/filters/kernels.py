"""The classic filter kernels of the talk's section 3.1.1, built exactly as OpenCV builds them.

* box (mean) kernel of size k:   every weight 1/k          (``cv2.blur``)
* Gaussian kernel of size n:     g_i = exp(-(i - (n-1)/2)^2 / (2 sigma^2)), normalised to sum 1
  (``cv2.getGaussianKernel``). When ``sigma <= 0`` it is derived from the size,
  ``sigma = 0.3 * ((n - 1) / 2 - 1) + 0.8``, and for n = 1, 3, 5, 7 OpenCV uses fixed
  near-binomial tables instead (e.g. [1/4, 1/2, 1/4]; OpenCV 5.0 has one for n = 9 too); we do the same.
* Sobel kernels:                 smoothing [1, 2, 1] (binomial) times derivative [-1, 0, 1]
  (``cv2.getDerivKernels``): d/dx = [1, 2, 1]^T [-1, 0, 1].
* Laplacian (ksize 1):           [[0, 1, 0], [1, -4, 1], [0, 1, 0]]  = d2/dx2 + d2/dy2
* sharpen:                       [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] = identity - Laplacian

1-D kernels are returned as 1-D arrays, 2-D kernels as ``(kh, kw)`` arrays (float64).
A bad argument raises :class:`~petnet.errors.ParamError` naming the parameter (``size must be a
positive odd integer, got 4``). Sizes are bounded (``MAX_SIZE``, ``MAX_SIGMA``) so that a typo such
as ``sigma=1e6`` is an error, not an 8-million-tap kernel.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import ParamError
from petnet.validate import check_int, check_number

MAX_SIZE = 1001          # the largest kernel side (a 1001-tap pass is ~1500 NumPy operations)
MAX_SIGMA = 100.0        # the largest Gaussian sigma: its derived size round(8 sigma + 1) is 801
MIN_SIGMA = 1e-6         # a smaller sigma weighs neighbours by exp(-1/(2 sigma^2)) = 0 all the same
MAX_AMOUNT = 1e6         # sharpen strength: beyond, pixel values overflow towards inf
MAX_SOBEL_SIZE = 31      # OpenCV's limit for Sobel / Laplacian apertures

# OpenCV's fixed small Gaussian kernels (used when sigma <= 0 and n in 1, 3, 5, 7, 9)
_SMALL_GAUSSIAN = {
    1: [1.0],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
    9: [x / 256 for x in (4, 13, 30, 51, 60, 51, 30, 13, 4)],  # the table of OpenCV 5.0
}


def check_size(size, name: str = "size", odd: bool = True, max: int = MAX_SIZE) -> int:
    """A kernel size: a whole number in ``1 .. max``, odd when ``odd``; a ``ParamError`` naming
    ``name`` otherwise."""
    size = check_int(name, size, min=1, max=max)
    if odd and size % 2 == 0:
        raise ParamError(name, f"must be a positive odd integer, got {size}")
    return size


def box_kernel(size: int) -> np.ndarray:
    """1-D mean kernel ``[1/k, ..., 1/k]``; the 2-D box is its outer product with itself."""
    size = check_size(size, odd=False)
    return np.full(size, 1.0 / size)


def sigma_from_size(size: int) -> float:
    """OpenCV's rule when no sigma is given: ``sigma = 0.3 * ((size - 1) / 2 - 1) + 0.8``."""
    return 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def size_from_sigma(sigma: float) -> int:
    """OpenCV's rule (float images) when no size is given: ``round(8 sigma + 1)``, made odd."""
    sigma = check_number("sigma", sigma, min=0, max=MAX_SIGMA)
    if sigma <= 0:
        raise ParamError("sigma", "must be positive when no size is given, got 0; "
                                  "give a size or a positive sigma")
    return int(np.floor(sigma * 4 * 2 + 1 + 0.5)) | 1


def gaussian_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """1-D Gaussian ``g_i = exp(-x_i^2 / (2 sigma^2)) / sum``, ``x_i = i - (size-1)/2``
    (same as ``cv2.getGaussianKernel(size, sigma)``)."""
    size = check_size(size)
    sigma = check_number("sigma", sigma, min=0, max=MAX_SIGMA)
    if sigma <= 0 and size in _SMALL_GAUSSIAN:
        return np.array(_SMALL_GAUSSIAN[size])
    s = max(sigma, MIN_SIGMA) if sigma > 0 else sigma_from_size(size)   # 1e-320**2 would be 0
    x = np.arange(size) - (size - 1) * 0.5
    g = np.exp(-0.5 * x * x / (s * s))
    return g / g.sum()


def deriv_kernels(order: int, size: int = 3) -> np.ndarray:
    """1-D Sobel kernel of derivative ``order`` (0 = smoothing) and ``size`` (1, 3, 5, ... 31).

    Built like ``cv2.getDerivKernels``: start from [1], convolve ``size - order - 1`` times with
    [1, 1] (binomial smoothing) and ``order`` times with [-1, 1] (finite difference).
    ``size = 1`` means the 3-tap kernels [0, 1, 0] / [-1, 0, 1] / [1, -2, 1] without smoothing.
    """
    k = np.array([1.0])
    for f in deriv_factors(order, size) or [np.array([0.0, 1.0, 0.0])]:
        k = np.convolve(k, f)
    return k


def deriv_factors(order: int, size: int = 3) -> list[np.ndarray]:
    """The Sobel kernel ``deriv_kernels(order, size)`` as the short kernels it is the product of:
    ``[1, 1]`` (smoothing) and ``[-1, 1]`` (difference), one pair of them merged into
    ``[-1, 0, 1]``; applied one after the other they cost one NumPy operation each (the fast
    path multiplies more than two of them back into one kernel: one gemv beats many adds).
    ``size = 1``, order 0 is the identity: ``[]``."""
    order = check_int("order", order, min=0, max=2 if size == 1 else MAX_SOBEL_SIZE - 1)
    size = check_size(size, "size", max=MAX_SOBEL_SIZE)
    if size == 1:
        return [[], [np.array([-1.0, 0.0, 1.0])], [np.array([-1.0, 1.0])] * 2][order]
    if order >= size:
        raise ParamError("order", f"must be below the size {size} (a derivative of order {order} "
                                  f"needs a larger kernel), got {order}")
    smooth, diff = [np.array([1.0, 1.0])] * (size - order - 1), [np.array([-1.0, 1.0])] * order
    if smooth and diff:
        return smooth[1:] + diff[1:] + [np.array([-1.0, 0.0, 1.0])]
    return smooth + diff


def laplacian_kernel() -> np.ndarray:
    """The 3x3 Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` (``cv2.Laplacian``, ksize=1)."""
    return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def sharpen_kernel(amount: float = 1.0) -> np.ndarray:
    """``identity - amount * Laplacian``: amount 1 gives ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``."""
    amount = check_number("amount", amount, min=-MAX_AMOUNT, max=MAX_AMOUNT)
    k = -amount * laplacian_kernel()
    k[1, 1] += 1.0
    return k
