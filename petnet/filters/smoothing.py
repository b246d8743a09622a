"""Smoothing filters: remove noise by averaging each pixel with its neighbours (talk, 3.1.1).

* mean (box) blur:   out = (1 / k^2) * sum of the k x k window             (``cv2.blur``)
* Gaussian blur:     weights g(i) g(j), g(i) = exp(-i^2 / (2 sigma^2)) / sum  (``cv2.GaussianBlur``)

Both kernels are separable (the 2-D kernel is the outer product of a 1-D kernel with itself),
so each runs as two 1-D passes of :func:`petnet.filters.convolve.sep_filter2d`.
"""

from __future__ import annotations

from petnet.conv import pair
from petnet.filters.convolve import sep_filter2d
from petnet.filters.kernels import box_kernel, gaussian_kernel, size_from_sigma


def mean_blur(image, size=3, border: str = "reflect"):
    """Box filter: every pixel becomes the mean of its ``size`` window (int or (height, width);
    note ``cv2.blur`` takes ``(width, height)``). Even sizes are anchored at ``size // 2``."""
    kh, kw = pair(size, "size")
    return sep_filter2d(image, box_kernel(kh), box_kernel(kw), border)


def gaussian_blur(image, size=None, sigma: float = 0.0, border: str = "reflect"):
    """Gaussian blur with an odd ``size`` (int or (height, width)) and standard deviation ``sigma``.

    Like ``cv2.GaussianBlur(image, (size, size), sigma)``: ``sigma <= 0`` derives it from the
    size (``0.3 * ((size - 1) / 2 - 1) + 0.8``); ``size=None`` derives the size from sigma
    (``round(8 sigma + 1)`` made odd, OpenCV's rule for float images).
    """
    if size is None:
        size = size_from_sigma(sigma)
    kh, kw = pair(size, "size")
    return sep_filter2d(image, gaussian_kernel(kh, sigma), gaussian_kernel(kw, sigma), border)
