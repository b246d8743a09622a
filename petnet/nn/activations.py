"""Activation (transfer) functions and their derivatives, and the ``Activation`` layer.

Each function is a small object: ``forward(z)`` returns a = f(z) and remembers what the derivative
needs; ``backward(da)`` returns dL/dz = da * f'(z) (softmax: a Jacobian-vector product).

=============  =====================================  =====================================
name           f(z)                                    f'(z)
=============  =====================================  =====================================
relu           max(0, z)                               1 if z > 0 else 0
leaky_relu     z if z > 0 else alpha*z (alpha=0.2)     1 if z > 0 else alpha
elu            z if z > 0 else alpha*(e^z - 1)         1 if z > 0 else f(z) + alpha
sigmoid        1 / (1 + e^-z)                          a * (1 - a)
tanh           tanh(z)                                 1 - a^2
softmax        e^z_i / sum_j e^z_j                     dz = a * (da - sum(da * a))
linear         z                                       1
=============  =====================================  =====================================

The talk's neuron transfer functions (MATLAB names) are the same family:
``hardlim`` (a = 1 if n >= 0 else 0; derivative 0 almost everywhere -- the perceptron learns with
its own rule, not by gradients), ``purelin`` (= linear), ``logsig`` (= sigmoid), ``tansig`` (= tanh).
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.nn.layer import Layer


class ActivationFunction:
    name = "activation"

    def __call__(self, z):
        return self.forward(z)

    def forward(self, z):
        raise NotImplementedError

    def backward(self, da):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(ActivationFunction):
    """f(z) = z (the talk's ``purelin``)."""
    name = "linear"

    def forward(self, z):
        return z

    def backward(self, da):
        return da


class ReLU(ActivationFunction):
    """f(z) = max(0, z)."""
    name = "relu"

    def forward(self, z):
        self.mask = z > 0
        return np.maximum(z, 0, dtype=z.dtype)

    def backward(self, da):
        return da * self.mask


class LeakyReLU(ActivationFunction):
    """f(z) = z for z > 0, alpha * z otherwise (a small slope keeps 'dead' units learning)."""
    name = "leaky_relu"

    def __init__(self, alpha: float = 0.2):
        self.alpha = float(alpha)

    def forward(self, z):
        self.mask = z > 0
        return np.where(self.mask, z, self.alpha * z).astype(z.dtype, copy=False)

    def backward(self, da):
        return np.where(self.mask, da, self.alpha * da).astype(da.dtype, copy=False)


class ELU(ActivationFunction):
    """f(z) = z for z > 0, alpha * (exp(z) - 1) otherwise."""
    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, z):
        self.mask = z > 0
        neg = self.alpha * np.expm1(np.minimum(z, 0))
        self.a = np.where(self.mask, z, neg).astype(z.dtype, copy=False)
        return self.a

    def backward(self, da):
        return np.where(self.mask, da, da * (self.a + self.alpha)).astype(da.dtype, copy=False)


class Sigmoid(ActivationFunction):
    """f(z) = 1 / (1 + exp(-z)) (the talk's ``logsig``); f' = a (1 - a)."""
    name = "sigmoid"

    def forward(self, z):
        # stable for large |z|: exp of a non-positive number only
        e = np.exp(-np.abs(z))
        self.a = np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)
        return self.a

    def backward(self, da):
        return da * self.a * (1 - self.a)


class Tanh(ActivationFunction):
    """f(z) = tanh(z) (the talk's ``tansig``); f' = 1 - a^2."""
    name = "tanh"

    def forward(self, z):
        self.a = np.tanh(z)
        return self.a

    def backward(self, da):
        return da * (1 - self.a * self.a)


class Softmax(ActivationFunction):
    """a_i = exp(z_i - max z) / sum_j exp(z_j - max z) over the last axis (shifting by max z avoids overflow).

    Backward is the Jacobian-vector product dz = a * (da - sum_j da_j a_j).
    When a model pairs a final softmax with cross-entropy, the model sets ``fused = True`` for
    the backward pass: the loss then already gives dL/dz = (a - y)/N, which passes through unchanged.
    """
    name = "softmax"
    fused = False

    def forward(self, z):
        self.z = z
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        self.a = e / e.sum(axis=-1, keepdims=True)
        return self.a

    def backward(self, da):
        if self.fused:
            return da
        return self.a * (da - (da * self.a).sum(axis=-1, keepdims=True))


class Hardlim(ActivationFunction):
    """The talk's hard limit: a = 1 if n >= 0 else 0. Its derivative is 0 wherever it exists."""
    name = "hardlim"

    def forward(self, z):
        return (z >= 0).astype(z.dtype)

    def backward(self, da):
        return np.zeros_like(da)


class Tansig(Tanh):
    """The talk's ``tansig`` = tanh."""
    name = "tansig"


class Logsig(Sigmoid):
    """The talk's ``logsig`` = sigmoid."""
    name = "logsig"


class Purelin(Linear):
    """The talk's ``purelin`` = linear (identity)."""
    name = "purelin"


ACTIVATIONS = {cls.name: cls for cls in (Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softmax,
                                         Hardlim, Tansig, Logsig, Purelin)}


def get(activation) -> ActivationFunction:
    """A fresh activation object from a name (``'relu'``, ``'softmax'``, ``'hardlim'``, ...), None
    (linear), or an ``ActivationFunction`` instance (returned as is)."""
    if activation is None:
        return Linear()
    if isinstance(activation, ActivationFunction):
        return activation
    if isinstance(activation, type) and issubclass(activation, ActivationFunction):
        return activation()
    key = str(activation).lower()
    if key not in ACTIVATIONS:
        raise PetnetError(f"unknown activation {activation!r}; choose one of: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[key]()


# plain functions for quick use: petnet.nn.activations.relu(z)
def relu(z):
    return ReLU().forward(np.asarray(z))


def leaky_relu(z, alpha: float = 0.2):
    return LeakyReLU(alpha).forward(np.asarray(z))


def elu(z, alpha: float = 1.0):
    return ELU(alpha).forward(np.asarray(z))


def sigmoid(z):
    return Sigmoid().forward(np.asarray(z, dtype=float))


def tanh(z):
    return np.tanh(z)


def softmax(z):
    return Softmax().forward(np.asarray(z, dtype=float))


def hardlim(n):
    """a = 1 if n >= 0 else 0."""
    return (np.asarray(n) >= 0).astype(float)


def purelin(n):
    return np.asarray(n)


logsig = sigmoid
tansig = tanh


class Activation(Layer):
    """A layer that only applies an activation: ``Activation('relu')``."""

    def __init__(self, activation, **kwargs):
        self.activation = get(activation)
        super().__init__(**kwargs)

    def forward(self, x, training=False):
        self.check_input(x)
        return self.activation.forward(x)

    def backward(self, dy):
        return self.activation.backward(dy)

    def get_config(self):
        return {"name": self.name, "activation": self.activation.name}
