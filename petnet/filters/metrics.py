"""How close a cleaned image is to the clean one: PSNR and SSIM.

* **PSNR** (peak signal-to-noise ratio), in decibels: ``10 * log10(R^2 / MSE)`` with ``R`` the
  range of the pixel values (1 for floats in [0, 1]). +6 dB = half the root-mean-square error.
* **SSIM** (structural similarity, Wang, Bovik, Sheikh & Simoncelli 2004): compares local means,
  variances and the covariance of the two images in a Gaussian window (sigma = 1.5 pixels),

      SSIM = (2 mu_x mu_y + C1)(2 cov_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(var_x + var_y + C2)),
      C1 = (0.01 R)^2,  C2 = (0.03 R)^2,

  averaged over the image (1 = identical). Like scikit-image's
  ``structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``:
  the window is truncated at 3.5 sigma (11 x 11), the image is padded symmetrically and the 5 pixels
  next to the border are left out of the mean; a colour image's SSIM is the mean over its channels.
  The tests check both against scikit-image.
"""

from __future__ import annotations

import math

import numpy as np

from petnet.errors import PetnetError
from petnet.filters.convolve import as_hwc, sep_filter2d
from petnet.filters.kernels import gaussian_kernel
from petnet.validate import check_number

#: SSIM's Gaussian window (Wang et al. 2004) and its truncation (scikit-image's)
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
K1, K2 = 0.01, 0.03


def _pair(reference, image) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(image, dtype=np.float64)
    if x.shape != y.shape:
        raise PetnetError(f"the two images must have the same shape, got {x.shape} and {y.shape}")
    if x.ndim not in (2, 3) or x.size == 0:
        raise PetnetError(f"an image must be (H, W) or (H, W, C), got shape {x.shape}")
    return x, y


def psnr(reference, image, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio of ``image`` against ``reference`` in dB (``inf`` if identical)."""
    data_range = check_number("data_range", data_range, min=0, min_exclusive=True)
    x, y = _pair(reference, image)
    mse = float(np.mean((x - y) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(data_range ** 2 / mse)


def ssim(reference, image, *, data_range: float = 1.0) -> float:
    """Mean structural similarity of ``image`` and ``reference`` ((H, W) or (H, W, C), H and W at
    least 11), Gaussian window sigma = 1.5 (see the module's docstring)."""
    data_range = check_number("data_range", data_range, min=0, min_exclusive=True)
    x, y = _pair(reference, image)
    radius = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    size = 2 * radius + 1
    if min(x.shape[:2]) < size:
        raise PetnetError(f"SSIM needs images of at least {size}x{size} pixels, "
                          f"got {x.shape[1]}x{x.shape[0]}")
    g = gaussian_kernel(size, SSIM_SIGMA).astype(np.float64)
    x, y = as_hwc(x), as_hwc(y)

    def blur(a):
        return sep_filter2d(a, g, g, border="symmetric")

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[radius:-radius, radius:-radius].mean())
