"""The image pyramid of ``detectMultiScale``: which scales, and the bit-exact shrinking.

The detector keeps its window at the cascade's training size (24 x 24 pixels) and shrinks the
*photo* instead, by ``scale_factor`` each step (1, 1.1, 1.21, ...), until the window no longer
fits. OpenCV shrinks with ``cv2.resize(..., interpolation=INTER_LINEAR_EXACT)``, a bilinear
resize in fixed-point arithmetic (8-bit weights) whose result is the same on every machine;
:func:`resize_linear_exact` reproduces it bit for bit, so the windows see the same pixels.
"""

from __future__ import annotations

import math

import numpy as np

from petnet.errors import ParamError


def round_half_even(v: float) -> int:
    """C's ``cvRound``: nearest integer, ties to even (Python's ``round``)."""
    return int(round(float(v)))


def pyramid_scales(image_size, window, scale_factor: float, min_size=(0, 0), max_size=(0, 0)):
    """The scales ``detectMultiScale`` visits, as float32 values like OpenCV's.

    ``image_size`` and ``window`` are ``(width, height)``. A scale is kept while the scaled window
    fits in the image and lies within ``[min_size, max_size]`` (``(0, 0)`` = no limit)."""
    if not scale_factor > 1:
        raise ParamError("scale_factor", f"must be > 1, got {scale_factor}")
    iw, ih = (int(v) for v in image_size)
    ww, wh = (int(v) for v in window)
    max_w, max_h = (int(v) for v in max_size)
    min_w, min_h = (int(v) for v in min_size)
    if max_w == 0 or max_h == 0:
        max_w, max_h = iw, ih
    if ih < wh or iw < ww:
        return []
    all_scales = []
    factor = 1.0
    while True:
        if round_half_even(ww * factor) > iw or round_half_even(wh * factor) > ih:
            break
        all_scales.append(np.float32(factor))
        factor *= scale_factor
    scales = []
    for s in all_scales:
        sw = round_half_even(np.float32(ww) * s)
        sh = round_half_even(np.float32(wh) * s)
        if sw > max_w or sh > max_h:
            break
        if sw < min_w or sh < min_h:
            continue
        scales.append(s)
    return scales


def layer_size(image_size, scale) -> tuple[int, int]:
    """``(width, height)`` of the photo shrunk by ``scale`` (float32 division, as OpenCV)."""
    s = np.float32(scale)
    return (round_half_even(np.float32(image_size[0]) / s), round_half_even(np.float32(image_size[1]) / s))


def _axis_coeffs(src: int, dst: int):
    """Source index and 8-bit fixed-point weights (w0 + w1 = 256) of every output position."""
    scale = 1.0 / (dst / src)
    off = np.zeros(dst, dtype=np.int64)
    w1 = np.zeros(dst, dtype=np.int64)
    for d in range(dst):
        f = scale * (d + 0.5) - 0.5
        i = math.floor(f)
        if i >= 0 and src > 1:
            if i < src - 1:
                off[d] = i
                w1[d] = round_half_even((f - i) * 256)
            else:
                off[d] = src - 1
        # i < 0: the first source pixel, weights (256, 0)
    nxt = np.minimum(off + 1, src - 1)
    return off, nxt, 256 - w1, w1


def resize_linear_exact(img: np.ndarray, size) -> np.ndarray:
    """Bilinear resize of a uint8 grayscale image to ``size = (width, height)``, bit-exact with
    OpenCV's ``cv2.resize(img, size, interpolation=cv2.INTER_LINEAR_EXACT)``."""
    a = np.asarray(img)
    if a.ndim != 2 or a.dtype != np.uint8:
        raise ParamError("img", f"must be a 2-D uint8 array, got {a.dtype} of shape {a.shape}")
    dw, dh = (int(v) for v in size)
    if dw < 1 or dh < 1:
        raise ParamError("size", f"must be at least 1 x 1, got {dw} x {dh}")
    sh, sw = a.shape
    if (dw, dh) == (sw, sh):
        return a.copy()
    x0, x1, cx0, cx1 = _axis_coeffs(sw, dw)
    y0, y1, cy0, cy1 = _axis_coeffs(sh, dh)
    rows = a.astype(np.int64)
    horiz = rows[:, x0] * cx0 + rows[:, x1] * cx1          # 8 fractional bits
    out = horiz[y0] * cy0[:, None] + horiz[y1] * cy1[:, None]  # 16 fractional bits
    return ((out + (1 << 15)) >> 16).clip(0, 255).astype(np.uint8)
