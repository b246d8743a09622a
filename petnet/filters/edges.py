"""Edge filters: derivatives of the image (talk, 3.1.1 "Sobel 算子 -> 提取图像边缘").

* Sobel x:  Gx = [1, 2, 1]^T [-1, 0, 1] (*) I   -- horizontal change, responds to vertical edges
* Sobel y:  Gy = [-1, 0, 1]^T [1, 2, 1] (*) I   -- vertical change, responds to horizontal edges
* gradient magnitude:  |G| = sqrt(Gx^2 + Gy^2)  -- edge strength in every direction
* Laplacian:  d2I/dx2 + d2I/dy2, kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]] -- zero-crossings at edges
* sharpen:    I - Laplacian = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] (*) I -- boosts edges

Outputs are signed floats (a dark-to-bright step gives a positive Sobel x, the opposite step a
negative one), like ``cv2.Sobel(image, cv2.CV_32F, ...)``.

Sobel kernels run as two 1-D passes of their factors ([1, 1] and [-1, 1], one add or subtract
each: :func:`~petnet.filters.kernels.deriv_factors`); the 3x3 Laplacian and sharpen kernels as
flat taps of the image rows (:func:`petnet.filters.bands.taps_filter`).
"""

from __future__ import annotations

import numpy as np

from petnet.filters.bands import sep_filter, taps_filter
from petnet.filters.convolve import BORDERS, as_hwc, check_border, like_input
from petnet.filters.kernels import MAX_SOBEL_SIZE, check_size, deriv_factors, laplacian_kernel, sharpen_kernel
from petnet.errors import ParamError
from petnet.validate import check_int


def _sobel(x, dx, dy, ksize, mode):
    return sep_filter(x, deriv_factors(dy, ksize), deriv_factors(dx, ksize), mode)


def sobel(image, dx: int = 1, dy: int = 0, ksize: int = 3, border: str = "reflect"):
    """The ``(dx, dy)`` derivative by the separable Sobel kernel of size ``ksize``
    (same as ``cv2.Sobel(image, cv2.CV_32F, dx, dy, ksize=ksize, borderType=...)``)."""
    ksize = check_size(ksize, "ksize", max=MAX_SOBEL_SIZE)
    top = 2 if ksize == 1 else ksize - 1          # the highest order the aperture allows
    dx, dy = check_int("dx", dx, min=0, max=top), check_int("dy", dy, min=0, max=top)
    if dx + dy == 0:
        raise ParamError("dx", "and dy are both 0; ask for a derivative (dx=1 or dy=1)")
    mode = BORDERS[check_border(border)]
    return like_input(_sobel(as_hwc(image), dx, dy, ksize, mode), image)


def gradient_magnitude(image, ksize: int = 3, border: str = "reflect"):
    """Edge strength ``sqrt(Gx^2 + Gy^2)`` from the two Sobel derivatives."""
    ksize = check_size(ksize, "ksize", max=MAX_SOBEL_SIZE)
    mode = BORDERS[check_border(border)]
    x = as_hwc(image)
    gx = _sobel(x, 1, 0, ksize, mode)
    gy = _sobel(x, 0, 1, ksize, mode)
    gx *= gx
    gy *= gy
    gx += gy
    return like_input(np.sqrt(gx, out=gx), image)


def laplacian(image, ksize: int = 1, border: str = "reflect"):
    """``d2I/dx2 + d2I/dy2`` (same as ``cv2.Laplacian(image, cv2.CV_32F, ksize=ksize)``).

    ``ksize=1`` is the 3x3 kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]]; larger odd sizes add the two
    second-order Sobel derivatives, as OpenCV does.
    """
    ksize = check_size(ksize, "ksize", max=MAX_SOBEL_SIZE)
    mode = BORDERS[check_border(border)]
    x = as_hwc(image)
    if ksize == 1:
        return like_input(taps_filter(x, laplacian_kernel(), mode), image)
    out = _sobel(x, 2, 0, ksize, mode)
    out += _sobel(x, 0, 2, ksize, mode)
    return like_input(out, image)


def sharpen(image, amount: float = 1.0, border: str = "reflect"):
    """``I - amount * Laplacian(I)``: the 3x3 sharpening kernel (centre 5, neighbours -1 for amount 1)."""
    kernel = sharpen_kernel(amount)
    mode = BORDERS[check_border(border)]
    return like_input(taps_filter(as_hwc(image), kernel, mode), image)
