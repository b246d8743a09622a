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

from petnet.errors import ParamError, PetnetError

Pads = tuple[tuple[int, int], tuple[int, int]]


def pair(v, name: str = "value") -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays; anything else is an error."""
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    try:
        a, b = (int(t) for t in v)
    except (TypeError, ValueError):
        raise ParamError(name, f"must be an int or a pair of ints, got {v!r}") from None
    if a < 1 or b < 1:
        raise ParamError(name, f"must be positive, got {v!r}")
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
        raise ParamError("padding", f"must be 'valid' or 'same', got {padding!r}")
    try:
        (t, b), (l, r) = padding
        return (int(t), int(b)), (int(l), int(r))
    except (TypeError, ValueError):
        raise ParamError("padding", f"must be 'valid', 'same' or ((top, bottom), (left, right)), got {padding!r}") from None


def output_size(size: int, k: int, stride: int, pad_before: int, pad_after: int) -> int:
    """The talk's formula: (W - K + 2P) / S + 1, floored (P split into before/after)."""
    return (size + pad_before + pad_after - k) // stride + 1


def output_hw(in_hw: tuple[int, int], k_hw: tuple[int, int], strides: tuple[int, int],
              padding) -> tuple[int, int]:
    """Output height and width of a ``k_hw`` window sliding over ``in_hw`` (``output_size`` per axis
    after ``resolve_padding``); below 1 when the window does not fit."""
    (t, b), (l, r) = resolve_padding(padding, in_hw, k_hw, strides)
    return (output_size(in_hw[0], k_hw[0], strides[0], t, b),
            output_size(in_hw[1], k_hw[1], strides[1], l, r))


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


def im2col(x: np.ndarray, k_hw: tuple[int, int], strides=1, padding="valid",
           mode: str = "constant") -> tuple[np.ndarray, tuple[int, int, int], Pads]:
    """The im2col matrix of an NHWC array: one row per output pixel, one column per (i, j, c).

    Returns ``(cols, (N, OH, OW), pads)`` with ``cols`` of shape ``(N*OH*OW, kh*kw*C)``,
    C-contiguous, ready for one GEMM with a kernel reshaped to ``(kh*kw*C, F)``.
    """
    if x.ndim != 4:
        raise PetnetError(f"expected images of shape (N, H, W, C), got shape {x.shape}")
    strides = pair(strides, "strides")
    k_hw = pair(k_hw, "kernel_size")
    pads = resolve_padding(padding, x.shape[1:3], k_hw, strides)
    xp = pad(x, pads, mode)
    win = windows(xp, k_hw, strides)
    n, oh, ow, kh, kw, c = win.shape
    if c >= 8 or kh * kw > 9:
        # the reshape copies the windows once into a contiguous matrix (also the faster copy
        # for long windows, e.g. a 1x31 Gaussian pass)
        return win.reshape(n * oh * ow, -1), (n, oh, ow), pads
    # few channels: kh*kw slice copies are faster than one element-wise strided copy
    cols = np.empty(win.shape, dtype=x.dtype)
    sh, sw = strides
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
    return cols.reshape(n * oh * ow, -1), (n, oh, ow), pads


def col2im(dwin: np.ndarray, x_shape: tuple[int, int, int, int], strides, pads: Pads) -> np.ndarray:
    """The adjoint of im2col: scatter-add window gradients back onto the input.

    ``dwin`` has shape ``(N, OH, OW, kh, kw, C)``; every window position (i, j) adds its slice
    to the pixels it was read from, so one pixel seen by several windows gets the sum:

        dx[n, y*sh + i, x*sw + j, c] += dwin[n, y, x, i, j, c]

    The loop runs over the kh*kw kernel offsets only (each step adds a whole (N, OH, OW, C)
    slice), never over pixels. Padding pixels are cropped away at the end.
    """
    n, h, w, c = x_shape
    _, oh, ow, kh, kw, _ = dwin.shape
    sh, sw = pair(strides, "strides")
    (t, b), (l, r) = pads
    dxp = np.zeros((n, h + t + b, w + l + r, c), dtype=dwin.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += dwin[:, :, :, i, j, :]
    return dxp[:, t:t + h, l:l + w, :]


def correlate(x: np.ndarray, kernel: np.ndarray, strides=1, padding="valid",
              mode: str = "constant") -> np.ndarray:
    """Cross-correlate NHWC ``x`` with a ``(kh, kw, C, F)`` kernel; returns ``(N, OH, OW, F)``."""
    if x.ndim != 4 or kernel.ndim != 4:
        raise PetnetError(f"correlate expects x of shape (N, H, W, C) and kernel (kh, kw, C, F), "
                          f"got {x.shape} and {kernel.shape}")
    kh, kw, c, f = kernel.shape
    if x.shape[3] != c:
        raise PetnetError(f"input has {x.shape[3]} channels but the kernel expects {c}")
    if c * f <= 4:
        return _correlate_by_taps(x, kernel, strides, padding, mode)
    cols, (n, oh, ow), _ = im2col(x, (kh, kw), strides, padding, mode)
    # im2col (the reshape copies the windows once) + one GEMM
    out = cols @ kernel.reshape(kh * kw * c, f)
    return out.reshape(n, oh, ow, f)


def _correlate_by_taps(x, kernel, strides, padding, mode):
    """The same sum, accumulated one kernel tap (i, j) at a time:

        out += xpad[:, i::sh, j::sw, :] @ kernel[i, j]        (a (C, F) matrix per tap)

    With very few channels (image filtering: one channel in, one out) the im2col matrix would be
    kh*kw times the image for a GEMM with a single column; adding kh*kw shifted slices reads the
    image kh*kw times but writes no matrix, and is 10-20x faster. Loops over taps, never pixels.
    """
    kh, kw, c, f = kernel.shape
    sh, sw = pair(strides, "strides")
    pads = resolve_padding(padding, x.shape[1:3], (kh, kw), (sh, sw))
    xp = pad(x, pads, mode)
    n, oh, ow = windows(xp, (kh, kw), (sh, sw)).shape[:3]  # also checks that the window fits
    out = np.zeros((n, oh, ow, f), dtype=np.result_type(x, kernel))
    for i in range(kh):
        for j in range(kw):
            tap = xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]
            if c == 1:  # a broadcast multiply-add; a GEMM with an inner size of 1 is slower
                out += tap * kernel[i, j, 0]
            else:
                out += tap @ kernel[i, j]
    return out


def correlate_backward(dout: np.ndarray, x_shape: tuple[int, int, int, int], kernel: np.ndarray,
                       cols: np.ndarray | None = None, x: np.ndarray | None = None,
                       strides=1, padding="valid", need_dx: bool = True):
    """Gradients of ``out = correlate(x, kernel)`` (zero padding) given ``dout = dL/dout``.

    With ``cols`` the im2col matrix of x (rows = output pixels) and G = dout as a
    ``(N*OH*OW, F)`` matrix, the forward pass was ``out = cols @ K``, so by the chain rule

        dL/dK    = cols^T @ G                  (one GEMM; reshaped to (kh, kw, C, F))
        dL/dcols = G @ K^T                     (one GEMM)
        dL/dx    = col2im(dL/dcols)            (scatter-add of the windows)

    Pass ``cols`` cached from the forward pass (or ``x`` to recompute it).
    Returns ``(dx, dkernel)``; ``dx`` is None when ``need_dx`` is False.
    """
    kh, kw, c, f = kernel.shape
    strides = pair(strides, "strides")
    pads = resolve_padding(padding, x_shape[1:3], (kh, kw), strides)
    if cols is None:
        if x is None:
            raise PetnetError("correlate_backward needs the forward input x or its im2col matrix cols")
        cols, _, _ = im2col(x, (kh, kw), strides, pads)
    n, oh, ow, _ = dout.shape
    g = dout.reshape(n * oh * ow, f)
    dkernel = (cols.T @ g).reshape(kh, kw, c, f)
    dx = None
    if need_dx:
        dcols = g @ kernel.reshape(kh * kw * c, f).T
        dx = col2im(dcols.reshape(n, oh, ow, kh, kw, c), x_shape, strides, pads)
    return dx, dkernel
