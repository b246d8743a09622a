"""Edge filters: derivatives of the image (talk, 3.1.1 "Sobel 算子 -> 提取图像边缘").

* Sobel x:  Gx = [1, 2, 1]^T [-1, 0, 1] (*) I   -- horizontal change, responds to vertical edges
* Sobel y:  Gy = [-1, 0, 1]^T [1, 2, 1] (*) I   -- vertical change, responds to horizontal edges
* gradient magnitude:  |G| = sqrt(Gx^2 + Gy^2)  -- edge strength in every direction
* Laplacian:  d2I/dx2 + d2I/dy2, kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]] -- zero-crossings at edges
* sharpen:    I - Laplacian = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] (*) I -- boosts edges

Outputs are signed floats (a dark-to-bright step gives a positive Sobel x, the opposite step a
negative one), like ``cv2.Sobel(image, cv2.CV_32F, ...)``.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.filters.convolve import filter2d, sep_filter2d
from petnet.filters.kernels import deriv_kernels, laplacian_kernel, sharpen_kernel


def sobel(image, dx: int = 1, dy: int = 0, ksize: int = 3, border: str = "reflect"):
    """The ``(dx, dy)`` derivative by the separable Sobel kernel of size ``ksize``
    (same as ``cv2.Sobel(image, cv2.CV_32F, dx, dy, ksize=ksize, borderType=...)``)."""
    if dx < 0 or dy < 0 or dx + dy == 0:
        raise PetnetError(f"Sobel needs dx, dy >= 0 with dx + dy > 0, got dx={dx}, dy={dy}")
    kx = deriv_kernels(dx, ksize)
    ky = deriv_kernels(dy, ksize)
    return sep_filter2d(image, ky, kx, border)


def gradient_magnitude(image, ksize: int = 3, border: str = "reflect"):
    """Edge strength ``sqrt(Gx^2 + Gy^2)`` from the two Sobel derivatives."""
    gx = sobel(image, 1, 0, ksize, border)
    gy = sobel(image, 0, 1, ksize, border)
    return np.sqrt(gx * gx + gy * gy)


def laplacian(image, ksize: int = 1, border: str = "reflect"):
    """``d2I/dx2 + d2I/dy2`` (same as ``cv2.Laplacian(image, cv2.CV_32F, ksize=ksize)``).

    ``ksize=1`` is the 3x3 kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]]; larger odd sizes add the two
    second-order Sobel derivatives, as OpenCV does.
    """
    if ksize == 1:
        return filter2d(image, laplacian_kernel(), border)
    return sobel(image, 2, 0, ksize, border) + sobel(image, 0, 2, ksize, border)


def sharpen(image, amount: float = 1.0, border: str = "reflect"):
    """``I - amount * Laplacian(I)``: the 3x3 sharpening kernel (centre 5, neighbours -1 for amount 1)."""
    return filter2d(image, sharpen_kernel(amount), border)
