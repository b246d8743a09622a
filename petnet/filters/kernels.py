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
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError

# OpenCV's fixed small Gaussian kernels (used when sigma <= 0 and n in 1, 3, 5, 7, 9)
_SMALL_GAUSSIAN = {
    1: [1.0],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
    9: [x / 256 for x in (4, 13, 30, 51, 60, 51, 30, 13, 4)],  # the table of OpenCV 5.0
}


def _check_size(n, name="size", odd=True) -> int:
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise PetnetError(f"{name} must be an integer, got {n!r}") from None
    if n < 1 or (odd and n % 2 == 0):
        raise PetnetError(f"{name} must be a positive {'odd ' if odd else ''}integer, got {n}")
    return n


def box_kernel(size: int) -> np.ndarray:
    """1-D mean kernel ``[1/k, ..., 1/k]``; the 2-D box is its outer product with itself."""
    size = _check_size(size, odd=False)
    return np.full(size, 1.0 / size)


def sigma_from_size(size: int) -> float:
    """OpenCV's rule when no sigma is given: ``sigma = 0.3 * ((size - 1) / 2 - 1) + 0.8``."""
    return 0.3 * ((size - 1) * 0.5 - 1) + 0.8


def size_from_sigma(sigma: float) -> int:
    """OpenCV's rule (float images) when no size is given: ``round(8 sigma + 1)``, made odd."""
    if sigma <= 0:
        raise PetnetError("give a Gaussian --size or a positive --sigma")
    return int(np.floor(sigma * 4 * 2 + 1 + 0.5)) | 1


def gaussian_kernel(size: int, sigma: float = 0.0) -> np.ndarray:
    """1-D Gaussian ``g_i = exp(-x_i^2 / (2 sigma^2)) / sum``, ``x_i = i - (size-1)/2``
    (same as ``cv2.getGaussianKernel(size, sigma)``)."""
    size = _check_size(size, "Gaussian size")
    if sigma <= 0 and size in _SMALL_GAUSSIAN:
        return np.array(_SMALL_GAUSSIAN[size])
    s = sigma if sigma > 0 else sigma_from_size(size)
    x = np.arange(size) - (size - 1) * 0.5
    g = np.exp(-0.5 * x * x / (s * s))
    return g / g.sum()


def deriv_kernels(order: int, size: int = 3) -> np.ndarray:
    """1-D Sobel kernel of derivative ``order`` (0 = smoothing) and ``size`` (1, 3, 5 or 7).

    Built like ``cv2.getDerivKernels``: start from [1], convolve ``size - order - 1`` times with
    [1, 1] (binomial smoothing) and ``order`` times with [-1, 1] (finite difference).
    ``size = 1`` means the 3-tap kernels [0, 1, 0] / [-1, 0, 1] / [1, -2, 1] without smoothing.
    """
    size = _check_size(size, "Sobel ksize")
    if size > 31:
        raise PetnetError(f"Sobel ksize must be at most 31, got {size}")
    if size == 1:
        if order > 2:
            raise PetnetError("ksize 1 supports derivatives of order 0, 1 or 2 only")
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 1.0], [1.0, -2.0, 1.0]][order])
    if order >= size:
        raise PetnetError(f"a derivative of order {order} needs ksize > {order}, got {size}")
    k = np.array([1.0])
    for _ in range(size - order - 1):
        k = np.convolve(k, [1.0, 1.0])
    for _ in range(order):
        k = np.convolve(k, [-1.0, 1.0])
    return k


def laplacian_kernel() -> np.ndarray:
    """The 3x3 Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` (``cv2.Laplacian``, ksize=1)."""
    return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def sharpen_kernel(amount: float = 1.0) -> np.ndarray:
    """``identity - amount * Laplacian``: amount 1 gives ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``."""
    k = -amount * laplacian_kernel()
    k[1, 1] += 1.0
    return k
