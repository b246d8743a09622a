"""``Flatten``: (N, H, W, C) -> (N, H*W*C), row-major (channels fastest, as in Keras). Backward reshapes back."""

from __future__ import annotations

import numpy as np

from petnet.nn.layer import Layer


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def call(self, x, training=False):
        return x.reshape(x.shape[0], -1), x.shape

    def backprop(self, x_shape, dy, need_dx=True):
        return dy.reshape(x_shape), []
