"""``Dense``: the talk's fully connected layer of neurons, a = f(x W + b).

Forward (x: (N, in), W: (in, units), b: (units,)):   z = x @ W + b,   a = f(z)
Backward, given dL/da:
    dz = dL/da * f'(z)
    dL/dW = x^T @ dz          (each weight's gradient = its input times the local gradient)
    dL/db = sum over the batch of dz
    dL/dx = dz @ W^T          (passed to the layer below)
"""

from __future__ import annotations

from petnet.errors import PetnetError
from petnet.nn import activations, initializers
from petnet.nn.layer import Layer


class Dense(Layer):
    """Fully connected layer: ``Dense(128, activation='relu')``. Weights: kernel (in, units), bias (units,).

    ``kernel_regularizer=regularizers.L2(l)`` adds l * ||kernel||^2 to the objective (its gradient
    2 l kernel is added to the kernel's gradient once per step, however often the layer is called)."""

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 **kwargs):
        if int(units) < 1:
            raise PetnetError(f"Dense needs at least one unit, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = kernel_regularizer
        super().__init__(**kwargs)

    def build(self, input_shape, dtype=None):
        if len(input_shape) != 1:
            raise PetnetError(f"Dense layer {self.name!r} expects flat inputs (batch, features), got "
                              f"samples of shape {tuple(input_shape)}; put a Flatten() layer before it")
        super().build(input_shape, dtype)
        self.kernel = self.add_weight(self.kernel_initializer((input_shape[0], self.units), self.dtype),
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(self.bias_initializer((self.units,), self.dtype))

    def compute_output_shape(self, input_shape):
        return (self.units,)

    def call(self, x, training=False):
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        return z, x

    def backprop(self, x, dz, need_dx=True):
        grads = [x.T @ dz] + ([dz.sum(axis=0)] if self.use_bias else [])
        return (dz @ self.kernel.T if need_dx else None), grads

    def get_config(self):
        return {"name": self.name, "units": self.units, "activation": self.activation.name}
