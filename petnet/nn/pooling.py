"""Pooling layers (the talk's "down-sampling"): max and average over windows, and global versions.

MaxPooling2D:  y[n, r, c, ch] = max over the window of x.
    Backward: the whole gradient of a window goes to the ONE input that was the maximum (the first
    one in row-major window order on ties, exactly as PyTorch does); the other inputs get 0.
AveragePooling2D:  y = mean over the window.   Backward: each input gets dy / (window size).
GlobalAveragePooling2D / GlobalMaxPooling2D: the same over the whole height x width -> (N, C).

Windows are a strided view of the input (no copy, no loops over pixels); the backward pass
scatter-adds window gradients with ``petnet.conv.col2im``. Padding 'same' follows TensorFlow:
max-pooling ignores the padded pixels (they are -inf), average-pooling divides by the number
of real pixels in each window.
"""

from __future__ import annotations

import numpy as np

from petnet import conv
from petnet.errors import ParamError, PetnetError
from petnet.nn.layer import Layer


class _Pooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", **kwargs):
        self.pool_size = conv.pair(pool_size, "pool_size")
        self.strides = conv.pair(strides if strides is not None else self.pool_size, "strides")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ParamError("padding", f"must be 'valid' or 'same', got {padding!r}")
        self.padding = padding.lower()
        super().__init__(**kwargs)

    def build(self, input_shape, dtype=None):
        if len(input_shape) != 3:
            raise PetnetError(f"{type(self).__name__} layer {self.name!r} expects images (batch, height, width, "
                              f"channels), got samples of shape {tuple(input_shape)}")
        self.pads = conv.resolve_padding(self.padding, input_shape[:2], self.pool_size, self.strides)
        super().build(input_shape, dtype)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise PetnetError(f"{type(self).__name__} expects samples of shape (height, width, channels), "
                              f"got {tuple(input_shape)}")
        h, w, c = input_shape
        oh, ow = conv.output_hw((h, w), self.pool_size, self.strides, self.padding)
        if oh < 1 or ow < 1:
            raise PetnetError(f"{type(self).__name__} {self.name!r}: a {self.pool_size} window does not fit in "
                              f"a {h}x{w} input; use padding='same' or a smaller pool_size")
        return (oh, ow, c)

    def _windows(self, x, fill):
        xp = x
        if self.pads != ((0, 0), (0, 0)):
            xp = np.pad(x, ((0, 0), self.pads[0], self.pads[1], (0, 0)), constant_values=fill)
        return conv.windows(xp, self.pool_size, self.strides)   # (N, OH, OW, ph, pw, C) view

    def get_config(self):
        return {"name": self.name, "pool_size": self.pool_size, "strides": self.strides, "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """``MaxPooling2D((2, 2))``: the largest value of each window (strides default to pool_size).

    Vectorised over pixels by looping over the ph*pw window offsets only. Forward keeps a running
    maximum; backward hands each window's gradient to the first offset (row-major) whose value
    equals that maximum and to no other -- the same choice as PyTorch on ties.
    """

    def _slices(self, oh, ow):
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        for i in range(ph):
            for j in range(pw):
                yield (slice(None), slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))

    def call(self, x, training=False):
        xp = x
        if self.pads != ((0, 0), (0, 0)):
            xp = np.pad(x, ((0, 0), self.pads[0], self.pads[1], (0, 0)), constant_values=-np.inf)
        oh, ow = self.output_shape[:2]
        best = None
        for sl in self._slices(oh, ow):
            if best is None:
                best = xp[sl].copy()
            else:
                np.maximum(best, xp[sl], out=best)
        return best, (xp, best, x.shape)

    def backprop(self, cache, dy, need_dx=True):
        xp, best, (n, h, w, c) = cache
        (t, b), (l, r) = self.pads
        oh, ow = dy.shape[1:3]
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        overlap = sh < ph or sw < pw
        dxp = np.zeros(xp.shape, dtype=dy.dtype)
        free = np.ones(dy.shape, dtype=bool)     # windows whose maximum has not been found yet
        slices = list(self._slices(oh, ow))
        for k, sl in enumerate(slices):
            hit = xp[sl] == best
            hit &= free                           # only the first maximum of a window
            if k < len(slices) - 1:
                free ^= hit
            if overlap:
                dxp[sl] += dy * hit
            else:
                np.multiply(dy, hit, out=dxp[sl])
        return dxp[:, t:t + h, l:l + w, :], []


class AveragePooling2D(_Pooling2D):
    """``AveragePooling2D((2, 2))``: the mean of each window (padding excluded from the count)."""

    def build(self, input_shape, dtype=None):
        super().build(input_shape, dtype)
        ones = np.ones((1,) + tuple(input_shape[:2]) + (1,), dtype=self.dtype)
        self.counts = self._windows(ones, 0).sum(axis=(3, 4))   # (1, OH, OW, 1) real pixels per window

    def call(self, x, training=False):
        return self._windows(x, 0).sum(axis=(3, 4)) / self.counts, x.shape

    def backprop(self, x_shape, dy, need_dx=True):
        n, oh, ow, c = dy.shape
        ph, pw = self.pool_size
        g = (dy / self.counts)[:, :, :, None, None, :]
        dwin = np.broadcast_to(g, (n, oh, ow, ph, pw, c))
        return conv.col2im(dwin, x_shape, self.strides, self.pads), []


class _GlobalPooling2D(Layer):
    def build(self, input_shape, dtype=None):
        if len(input_shape) != 3:
            raise PetnetError(f"{type(self).__name__} layer {self.name!r} expects images (batch, height, width, "
                              f"channels), got samples of shape {tuple(input_shape)}")
        super().build(input_shape, dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[-1],)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width: (N, H, W, C) -> (N, C). Backward: dy / (H*W) to every pixel."""

    def call(self, x, training=False):
        return x.mean(axis=(1, 2)), x.shape

    def backprop(self, x_shape, dy, need_dx=True):
        n, h, w, c = x_shape
        return np.broadcast_to((dy / (h * w))[:, None, None, :], x_shape).copy(), []


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over height and width: (N, H, W, C) -> (N, C). Backward: dy to the (first) maximal pixel."""

    def call(self, x, training=False):
        n, h, w, c = x.shape
        flat = x.reshape(n, h * w, c)
        argmax = flat.argmax(axis=1)
        return np.take_along_axis(flat, argmax[:, None, :], axis=1)[:, 0, :], (argmax, x.shape)

    def backprop(self, cache, dy, need_dx=True):
        argmax, (n, h, w, c) = cache
        dx = np.zeros((n, h * w, c), dtype=dy.dtype)
        np.put_along_axis(dx, argmax[:, None, :], dy[:, None, :], axis=1)
        return dx.reshape(n, h, w, c), []
