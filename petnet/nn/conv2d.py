"""``Conv2D``: the talk's convolution layer (section 4.3), channels-last like Keras.

Forward, with the im2col matrix ``cols`` of the (padded) input -- one row per output pixel,
one column per kernel tap (i, j, c) -- and K the kernel reshaped to (kh*kw*C, F):

    z = cols @ K + b          (N*OH*OW, F) -> (N, OH, OW, F),    a = f(z)

Backward, given dL/da (G = dz as an (N*OH*OW, F) matrix):

    dL/dK = cols^T @ G        dL/db = sum of G over all pixels and the batch
    dL/dx = col2im(G @ K^T)   (every input pixel collects the gradient of every window it was in)

Output size per axis: 'valid' -> (W - K)/S + 1 (floored); 'same' -> ceil(W/S) with TensorFlow's
padding (the odd extra pixel goes to the bottom/right). The kernel routines live in ``petnet.conv``.
"""

from __future__ import annotations

from petnet import conv
from petnet.errors import ParamError, PetnetError
from petnet.nn import activations, initializers
from petnet.nn.layer import Layer


class Conv2D(Layer):
    """``Conv2D(64, (3, 3), strides=1, padding='same', activation='relu', name='block1_conv1')``.

    Weights: kernel (kh, kw, in_channels, filters), bias (filters,).
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid", activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        if int(filters) < 1:
            raise PetnetError(f"Conv2D needs at least one filter, got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = conv.pair(kernel_size, "kernel_size")
        self.strides = conv.pair(strides, "strides")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ParamError("padding", f"must be 'valid' or 'same', got {padding!r}")
        self.padding = padding.lower()
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        super().__init__(**kwargs)

    def build(self, input_shape, dtype=None):
        if len(input_shape) != 3:
            raise PetnetError(f"Conv2D layer {self.name!r} expects images (batch, height, width, channels), "
                              f"got samples of shape {tuple(input_shape)}"
                              + ("; add a channel axis with x[..., None]" if len(input_shape) == 2 else ""))
        h, w, c = input_shape
        self.pads = conv.resolve_padding(self.padding, (h, w), self.kernel_size, self.strides)
        super().build(input_shape, dtype)
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(self.kernel_initializer((kh, kw, c, self.filters), self.dtype))
        if self.use_bias:
            self.bias = self.add_weight(self.bias_initializer((self.filters,), self.dtype))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise PetnetError(f"Conv2D expects samples of shape (height, width, channels), got {tuple(input_shape)}")
        h, w, _ = input_shape
        oh, ow = conv.output_hw((h, w), self.kernel_size, self.strides, self.padding)
        if oh < 1 or ow < 1:
            raise PetnetError(f"Conv2D {self.name!r}: a {self.kernel_size[0]}x{self.kernel_size[1]} kernel does "
                              f"not fit in a {h}x{w} input; use padding='same' or a smaller kernel")
        return (oh, ow, self.filters)

    def call(self, x, training=False):
        cols, (n, oh, ow), _ = conv.im2col(x, self.kernel_size, self.strides, self.pads)
        z = cols @ self.kernel.reshape(-1, self.filters)
        if self.use_bias:
            z += self.bias
        return z.reshape(n, oh, ow, self.filters), (cols, x.shape)

    def backprop(self, cache, dz, need_dx=True):
        cols, x_shape = cache
        dx, dk = conv.correlate_backward(dz, x_shape, self.kernel, cols=cols, strides=self.strides,
                                         padding=self.pads, need_dx=need_dx)
        grads = [dk] + ([dz.reshape(-1, self.filters).sum(axis=0)] if self.use_bias else [])
        return dx, grads

    def get_config(self):
        return {"name": self.name, "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "activation": self.activation.name}
