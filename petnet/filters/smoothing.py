"""Smoothing filters: remove noise by averaging each pixel with its neighbours (talk, 3.1.1).

* mean (box) blur:   out = (1 / k^2) * sum of the k x k window             (``cv2.blur``)
* Gaussian blur:     weights g(i) g(j), g(i) = exp(-i^2 / (2 sigma^2)) / sum  (``cv2.GaussianBlur``)

Both kernels are separable (the 2-D kernel is the outer product of a 1-D kernel with itself),
so each runs as two 1-D passes (:func:`petnet.filters.bands.sep_filter`): ``kh + kw`` operations
per pixel instead of ``kh * kw``. The box sums its window with weights 1 and scales once at the end;
a large box uses the integral image instead (:mod:`petnet.filters.box`), whose cost does not
depend on the window size.
"""

from __future__ import annotations

import numpy as np

from petnet.conv import pair
from petnet.filters.bands import sep_filter
from petnet.filters.box import INTEGRAL_FROM, box_mean
from petnet.filters.convolve import BORDERS, as_hwc, check_border, like_input
from petnet.filters.kernels import check_size, gaussian_kernel, size_from_sigma


def _sizes(size) -> tuple[int, int]:
    kh, kw = pair(size, "size")
    return check_size(kh, odd=False), check_size(kw, odd=False)


def mean_blur(image, size=3, border: str = "reflect"):
    """Box filter: every pixel becomes the mean of its ``size`` window (int or (height, width);
    note ``cv2.blur`` takes ``(width, height)``). Even sizes are anchored at ``size // 2``."""
    kh, kw = _sizes(size)
    mode = BORDERS[check_border(border)]
    x = as_hwc(image)
    if kh * kw >= INTEGRAL_FROM:
        return like_input(box_mean(x, (kh, kw), mode), image)
    out = sep_filter(x, [np.ones(kh)], [np.ones(kw)], mode, scale=1.0 / (kh * kw))
    return like_input(out, image)


def gaussian_blur(image, size=None, sigma: float = 0.0, border: str = "reflect"):
    """Gaussian blur with an odd ``size`` (int or (height, width)) and standard deviation ``sigma``.

    Like ``cv2.GaussianBlur(image, (size, size), sigma)``: ``sigma <= 0`` derives it from the
    size (``0.3 * ((size - 1) / 2 - 1) + 0.8``); ``size=None`` derives the size from sigma
    (``round(8 sigma + 1)`` made odd, OpenCV's rule for float images).
    """
    if size is None:
        size = size_from_sigma(sigma)
    kh, kw = pair(size, "size")
    ky, kx = gaussian_kernel(kh, sigma), gaussian_kernel(kw, sigma)
    mode = BORDERS[check_border(border)]
    return like_input(sep_filter(as_hwc(image), [ky], [kx], mode), image)
