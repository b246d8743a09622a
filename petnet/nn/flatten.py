"""``Flatten``: (N, H, W, C) -> (N, H*W*C), row-major (channels fastest, as in Keras). Backward reshapes back."""

from __future__ import annotations

import numpy as np

from petnet.nn.layer import Layer


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        self.check_input(x)
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.x_shape)
