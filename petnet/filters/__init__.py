"""Chapter 3.1 of the talk: convolution as image filtering.

A filter slides a small kernel over the image and replaces every pixel by the weighted sum of
its neighbourhood (the talk's discrete convolution ``out(p) = sum_i Conv(i) * P(p + i)``).
The public API::

    apply(image, kernel="gaussian", **params) -> ndarray     # one of FILTERS, e.g. size=9, sigma=2
    load_image(path) -> Picture; save_image(path, pixels, alpha=None, bits=8)
    filter_file(image, out, kernel, compare=None, **params) -> FilteredFile   # `petnet filter`

The modules, one concept each:

* :mod:`~petnet.filters.api`       -- the registry of filters (``FILTERS``), ``apply``, ``filter_file``
* :mod:`~petnet.filters.kernels`   -- the kernels themselves (box, Gaussian, Sobel, Laplacian, sharpen)
* :mod:`~petnet.filters.convolve`  -- any kernel on the shared routine :func:`petnet.conv.correlate`
  (the reference, also behind ``petnet.nn.Conv2D``); border modes
* :mod:`~petnet.filters.bands`     -- the fast path: the image's rows in bands, column then row pass
* :mod:`~petnet.filters.taps`      -- kernel taps as shifted slices of one flat array
* :mod:`~petnet.filters.gemv`      -- the column pass as a BLAS matrix-vector product per row
* :mod:`~petnet.filters.box`       -- the integral image (summed-area table) box filter
* :mod:`~petnet.filters.smoothing` -- mean (box) and Gaussian blur: remove noise
* :mod:`~petnet.filters.edges`     -- Sobel x/y, gradient magnitude, Laplacian, sharpen: find edges
* :mod:`~petnet.filters.bilateral` -- the bilateral filter: smooth textures, keep strong edges
* :mod:`~petnet.filters.image_io`  -- reading and writing images (JPEG, PNG with alpha, 16-bit)

Results agree with OpenCV (``cv2.blur``, ``cv2.GaussianBlur``, ``cv2.Sobel``, ``cv2.Laplacian``,
``cv2.filter2D``, ``cv2.bilateralFilter``) on the same border mode; see ``tests/filters``.
"""

from petnet.filters.api import FILTERS, FilteredFile, apply, filter_file, prepare, to_display
from petnet.filters.bilateral import bilateral
from petnet.filters.convolve import BORDERS, filter2d, sep_filter2d
from petnet.filters.edges import gradient_magnitude, laplacian, sharpen, sobel
from petnet.filters.image_io import Picture, load_image, save_image
from petnet.filters.kernels import (box_kernel, deriv_kernels, gaussian_kernel, laplacian_kernel,
                                    sharpen_kernel)
from petnet.filters.smoothing import gaussian_blur, mean_blur

__all__ = [
    "apply", "prepare", "to_display", "filter_file", "FilteredFile", "FILTERS",
    "load_image", "save_image", "Picture",
    "BORDERS", "filter2d", "sep_filter2d",
    "box_kernel", "gaussian_kernel", "deriv_kernels", "laplacian_kernel", "sharpen_kernel",
    "mean_blur", "gaussian_blur", "sobel", "gradient_magnitude", "laplacian", "sharpen",
    "bilateral",
]
