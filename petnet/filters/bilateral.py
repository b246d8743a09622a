"""The bilateral filter: smooth the textures, keep the strong edges (talk, 3.1.1 "双边滤波器").

A Gaussian blur weights a neighbour q of pixel p only by its distance; the bilateral filter also
weights it by how similar its colour is, so pixels across an edge (very different colour) hardly
count and the edge stays sharp:

    out(p) = sum_q w(p, q) I(q) / sum_q w(p, q)
    w(p, q) = exp(-|p - q|^2 / (2 sigma_space^2)) * exp(-D(p, q)^2 / (2 sigma_color^2))

This follows ``cv2.bilateralFilter`` on float images in every detail that changes the result:

* the window is a disc: offsets with ``|p - q| <= radius``, ``radius = d // 2``, or
  ``round(1.5 sigma_space)`` when ``d <= 0`` (at least 1);
* the colour distance is the **L1** distance summed over channels,
  ``D = |b - b0| + |g - g0| + |r - r0|``, and the same weight applies to every channel;
* ``exp(-D^2 / (2 sigma_color^2))`` is read from a lookup table of ``4096 * C + 2`` entries
  spanning ``0 .. (max - min) * C`` of the image, with linear interpolation between entries
  (``lut=False`` computes the exponential exactly instead; so do distances beyond the table,
  which only the zero border can produce);
* the image is padded by ``radius`` with the border mode; a constant image is returned unchanged;
  ``sigma <= 0`` is taken as 1.

Vectorised: for each band of rows (small enough to stay in the CPU cache), one pass per window
offset (about ``d^2 * pi / 4`` of them) over whole channel planes; never a Python loop over pixels.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.filters.convolve import BORDERS, as_float, check_border
from petnet.filters.kernels import MIN_SIGMA

BINS_PER_CHANNEL = 1 << 12   # OpenCV's kExpNumBinsPerChannel


def window_radius(d: int, sigma_space: float) -> int:
    """OpenCV's window radius: ``d // 2``, or ``round(1.5 * sigma_space)`` when ``d <= 0``; >= 1."""
    radius = int(np.floor(sigma_space * 1.5 + 0.5)) if d <= 0 else d // 2
    return max(radius, 1)


def bilateral(image, d: int = 0, sigma_color: float = 0.1, sigma_space: float = 3.0,
              border: str = "reflect", lut: bool = True) -> np.ndarray:
    """Bilateral filter of an (H, W) or (H, W, C) image (``sigma_color`` in the image's own units,
    e.g. 0.1 for images in [0, 1], 25 for 0..255); same as
    ``cv2.bilateralFilter(image, d, sigma_color, sigma_space, borderType=...)`` on float32."""
    x = as_float(image)
    if x.ndim not in (2, 3):
        raise PetnetError(f"an image must be (H, W) or (H, W, C), got shape {x.shape}")
    check_border(border)
    img = x if x.ndim == 3 else x[:, :, None]
    h, w, cn = img.shape
    sigma_color = sigma_color if sigma_color > 0 else 1.0
    sigma_space = sigma_space if sigma_space > 0 else 1.0
    # tinier sigmas give the same weights (exp(-huge) = 0 for any difference), but 1/sigma^2 overflows
    sigma_color, sigma_space = max(sigma_color, MIN_SIGMA), max(sigma_space, MIN_SIGMA)
    color_coeff = -0.5 / (sigma_color * sigma_color)
    space_coeff = -0.5 / (sigma_space * sigma_space)
    radius = window_radius(d, sigma_space)

    lo, hi = float(img.min()), float(img.max())
    if abs(hi - lo) < np.finfo(np.float32).eps:
        return x.copy()

    dt = img.dtype
    # the colour-weight lookup table: entry i holds exp(-v^2 / (2 sigma_color^2)), v = i / scale
    nbins = BINS_PER_CHANNEL * cn
    scale = dt.type(nbins) / dt.type((hi - lo) * cn)
    v = (np.arange(nbins + 2, dtype=dt) / scale).astype(np.float64)
    table = np.exp(v * v * color_coeff).astype(dt)

    # planar channels (C, H, W): the colour distance sums whole contiguous planes
    padded = np.ascontiguousarray(
        np.pad(img, ((radius, radius), (radius, radius), (0, 0)), mode=BORDERS[border]).transpose(2, 0, 1))
    planes = np.ascontiguousarray(img.transpose(2, 0, 1))
    slope = table[1:] - table[:-1]                      # table[i + 1] - table[i], as OpenCV interpolates
    offsets = [(i, j, dt.type(np.exp((i * i + j * j) * space_coeff)))
               for i in range(-radius, radius + 1) for j in range(-radius, radius + 1)
               if i * i + j * j <= radius * radius]   # the disc
    out = np.empty((cn, h, w), dtype=dt)
    rows = max(1, (1 << 15) // max(w, 1))              # a band of rows whose temporaries stay in cache
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        centre = planes[:, r0:r1]
        total = np.zeros_like(centre)
        weights = np.zeros(centre.shape[1:], dtype=dt)
        dist = np.empty_like(weights)
        tmp = np.empty_like(weights)
        for i, j, space_w in offsets:
            nb = padded[:, radius + i + r0:radius + i + r1, radius + j:radius + j + w]
            np.subtract(nb[0], centre[0], out=dist)
            np.abs(dist, out=dist)
            for c in range(1, cn):                      # L1 colour distance
                np.subtract(nb[c], centre[c], out=tmp)
                np.abs(tmp, out=tmp)
                dist += tmp
            if lut:
                a = dist * scale
                idx = a.astype(np.int32)                # a >= 0: truncation is floor
                a -= idx
                beyond = idx > nbins if border == "zero" else None   # a padded 0 outside [min, max]
                if beyond is not None and not beyond.any():
                    beyond = None
                if beyond is not None:
                    idx[beyond] = 0
                cw = table[idx]
                cw += a * slope[idx]
                if beyond is not None:
                    far = dist[beyond].astype(np.float64)
                    cw[beyond] = np.exp(far * far * color_coeff)
            else:
                cw = np.exp(dist.astype(np.float64) ** 2 * color_coeff).astype(dt)
            cw *= space_w                               # the weight w(p, q)
            for c in range(cn):
                total[c] += cw * nb[c]
            weights += cw
        out[:, r0:r1] = total / weights
    out = out.transpose(1, 2, 0)
    return out if x.ndim == 3 else out[:, :, 0]
