"""The one 2-D convolution kernel routine, shared by ``petnet.filters`` and ``petnet.nn.Conv2D``.

Like every deep-learning library (and the talk's section 4.3), "convolution" here is
cross-correlation: the kernel slides over the image without being flipped,

    out[n, y, x, f] = sum_{i, j, c} xpad[n, y*sh + i, x*sw + j, c] * kernel[i, j, c, f]

Layouts are channels-last, as in Keras: images ``(N, H, W, C)``, kernels ``(kh, kw, C, F)``.

Padding follows Keras/TensorFlow: ``'valid'`` adds none; ``'same'`` gives an output of
``ceil(in / stride)`` and puts the odd extra pixel on the bottom/right. Explicit padding is
``((top, bottom), (left, right))``. ``mode`` is the border mode of the padded pixels, as in
``numpy.pad``: ``'constant'`` (zeros), ``'reflect'`` (OpenCV's BORDER_REFLECT_101),
``'symmetric'`` (BORDER_REFLECT) or ``'edge'`` (BORDER_REPLICATE).

The work is vectorised: the padded input is viewed as a window array with stride tricks
(no copy) and contracted with the kernel by one matrix multiply (im2col + GEMM).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from petnet.errors import PetnetError

Pads = tuple[tuple[int, int], tuple[int, int]]


def pair(v, name: str = "value") -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays; anything else is an error."""
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    try:
        a, b = (int(t) for t in v)
    except (TypeError, ValueError):
        raise PetnetError(f"{name} must be an int or a pair of ints, got {v!r}") from None
    if a < 1 or b < 1:
        raise PetnetError(f"{name} must be positive, got {v!r}")
    return a, b


def same_padding(size: int, k: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'same': output ceil(size/stride), extra pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, in_hw: tuple[int, int], k_hw: tuple[int, int],
                    strides: tuple[int, int]) -> Pads:
    """Turn ``'valid'``, ``'same'`` or explicit pads into ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        p = padding.lower()
        if p == "valid":
            return (0, 0), (0, 0)
        if p == "same":
            return (same_padding(in_hw[0], k_hw[0], strides[0]),
                    same_padding(in_hw[1], k_hw[1], strides[1]))
        raise PetnetError(f"padding must be 'valid' or 'same', got {padding!r}")
    try:
        (t, b), (l, r) = padding
        return (int(t), int(b)), (int(l), int(r))
    except (TypeError, ValueError):
        raise PetnetError(f"padding must be 'valid', 'same' or ((top, bottom), (left, right)), got {padding!r}") from None


def output_size(size: int, k: int, stride: int, pad_before: int, pad_after: int) -> int:
    """The talk's formula: (W - K + 2P) / S + 1, floored (P split into before/after)."""
    return (size + pad_before + pad_after - k) // stride + 1


def pad(x: np.ndarray, pads: Pads, mode: str = "constant") -> np.ndarray:
    """Pad the H and W axes of an NHWC array (no copy when there is nothing to pad)."""
    if pads == ((0, 0), (0, 0)):
        return x
    try:
        return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), mode=mode)
    except ValueError as exc:
        raise PetnetError(f"cannot pad with border mode {mode!r}: {exc}") from None


def windows(xp: np.ndarray, k_hw: tuple[int, int], strides: tuple[int, int]) -> np.ndarray:
    """A read-only view ``(N, OH, OW, kh, kw, C)`` of every kernel window of a padded NHWC array."""
    n, h, w, c = xp.shape
    kh, kw = k_hw
    sh, sw = strides
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise PetnetError(f"a {kh}x{kw} window does not fit in a {h}x{w} (padded) input; "
                          "use a larger input, a smaller kernel or padding='same'")
    s = xp.strides
    return as_strided(xp, shape=(n, oh, ow, kh, kw, c),
                      strides=(s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]), writeable=False)


def correlate(x: np.ndarray, kernel: np.ndarray, strides=1, padding="valid",
              mode: str = "constant") -> np.ndarray:
    """Cross-correlate NHWC ``x`` with a ``(kh, kw, C, F)`` kernel; returns ``(N, OH, OW, F)``."""
    if x.ndim != 4 or kernel.ndim != 4:
        raise PetnetError(f"correlate expects x of shape (N, H, W, C) and kernel (kh, kw, C, F), "
                          f"got {x.shape} and {kernel.shape}")
    kh, kw, c, f = kernel.shape
    if x.shape[3] != c:
        raise PetnetError(f"input has {x.shape[3]} channels but the kernel expects {c}")
    strides = pair(strides, "strides")
    pads = resolve_padding(padding, x.shape[1:3], (kh, kw), strides)
    cols = windows(pad(x, pads, mode), (kh, kw), strides)
    n, oh, ow = cols.shape[:3]
    # im2col (the reshape copies the windows once) + one GEMM
    out = cols.reshape(n * oh * ow, kh * kw * c) @ kernel.reshape(kh * kw * c, f)
    return out.reshape(n, oh, ow, f)
