"""Activation (transfer) functions and their derivatives, and the ``Activation`` layer.

Each function is a small object: ``forward(z)`` returns ``(a, cache)``, a = f(z) and what the
derivative needs; ``backward(cache, da)`` returns dL/dz = da * f'(z) (softmax: a Jacobian-vector
product). ``f(z)`` alone is ``function(z)``. The names live in one registry, ``ACTIVATIONS``.

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

from typing import NamedTuple

import numpy as np

from petnet.nn.layer import Layer
from petnet.registry import Registry


class ActivationFunction:
    """``forward(z) -> (a, cache)`` and ``backward(cache, da) -> dz``: the cache (what f' needs)
    belongs to the call, not to the object, so one activation may serve any number of calls."""

    name = "activation"
    #: f' as a formula, for functions with a derivative a learner can write down (the worked
    #: example of ``petnet backprop`` takes those); None for the others
    derivative: str | None = None
    #: why gradients cannot train through it (hardlim), a sentence that follows the name; or None
    not_trainable: str | None = None

    def __call__(self, z):
        return self.forward(z)[0]

    def forward(self, z):
        raise NotImplementedError

    def backward(self, cache, da):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


#: the one list of activation names (``Dense(..., activation=NAME)``, ``Activation(NAME)``)
ACTIVATIONS = Registry("activation")


@ACTIVATIONS.register("linear")
class Linear(ActivationFunction):
    """f(z) = z (the talk's ``purelin``)."""
    name = "linear"
    derivative = "f'(z) = 1"

    def forward(self, z):
        return z, None

    def backward(self, cache, da):
        return da


@ACTIVATIONS.register("relu")
class ReLU(ActivationFunction):
    """f(z) = max(0, z)."""
    name = "relu"
    derivative = "f'(z) = 1 if z > 0 else 0"

    def forward(self, z):
        return np.maximum(z, 0, dtype=z.dtype), z > 0

    def backward(self, mask, da):
        return da * mask


@ACTIVATIONS.register("leaky_relu")
class LeakyReLU(ActivationFunction):
    """f(z) = z for z > 0, alpha * z otherwise (a small slope keeps 'dead' units learning)."""
    name = "leaky_relu"

    def __init__(self, alpha: float = 0.2):
        self.alpha = float(alpha)

    def forward(self, z):
        mask = z > 0
        return np.where(mask, z, self.alpha * z).astype(z.dtype, copy=False), mask

    def backward(self, mask, da):
        return np.where(mask, da, self.alpha * da).astype(da.dtype, copy=False)


@ACTIVATIONS.register("elu")
class ELU(ActivationFunction):
    """f(z) = z for z > 0, alpha * (exp(z) - 1) otherwise."""
    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, z):
        mask = z > 0
        a = np.where(mask, z, self.alpha * np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)
        return a, (mask, a)

    def backward(self, cache, da):
        mask, a = cache
        return np.where(mask, da, da * (a + self.alpha)).astype(da.dtype, copy=False)


@ACTIVATIONS.register("sigmoid")
class Sigmoid(ActivationFunction):
    """f(z) = 1 / (1 + exp(-z)) (the talk's ``logsig``); f' = a (1 - a)."""
    name = "sigmoid"
    derivative = "f'(z) = f(z) (1 - f(z))"

    def forward(self, z):
        # stable for large |z|: exp of a non-positive number only
        e = np.exp(-np.abs(z))
        a = np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)
        return a, a

    def backward(self, a, da):
        return da * a * (1 - a)


@ACTIVATIONS.register("tanh")
class Tanh(ActivationFunction):
    """f(z) = tanh(z) (the talk's ``tansig``); f' = 1 - a^2."""
    name = "tanh"
    derivative = "f'(z) = 1 - f(z)^2"

    def forward(self, z):
        a = np.tanh(z)
        return a, a

    def backward(self, a, da):
        return da * (1 - a * a)


@ACTIVATIONS.register("softmax")
class Softmax(ActivationFunction):
    """a_i = exp(z_i - max z) / sum_j exp(z_j - max z) over the last axis (shifting by max z avoids overflow).

    Backward is the Jacobian-vector product dz = a * (da - sum_j da_j a_j). The cache keeps the
    logits z too: a model whose output is a softmax hands them to a cross-entropy loss, which then
    gives dL/dz = (a - y)/N directly (see ``petnet.nn.losses``), as Keras does.
    """
    name = "softmax"

    def forward(self, z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        a = e / e.sum(axis=-1, keepdims=True)
        return a, SoftmaxCache(z, a)

    def backward(self, cache, da):
        a = cache.a
        return a * (da - (da * a).sum(axis=-1, keepdims=True))


class SoftmaxCache(NamedTuple):
    z: np.ndarray   # the logits
    a: np.ndarray   # the probabilities


#: why ``hardlim`` cannot be trained by backpropagation (said, after its name, wherever it is
#: refused for training)
HARDLIM_NOT_TRAINABLE = (
    "cannot be trained by backpropagation: its derivative is 0 wherever it exists (it jumps "
    "from 0 to 1 at n = 0), so every gradient that passes through it is 0 and gradient descent never "
    "moves the weights; the perceptron rule trains it instead (petnet nn perceptron, "
    "petnet.nn.perceptron.Perceptron)")


@ACTIVATIONS.register("hardlim")
class Hardlim(ActivationFunction):
    """The talk's hard limit: a = 1 if n >= 0 else 0. Its derivative is 0 wherever it exists, so
    ``backward`` passes back zeros: see :data:`HARDLIM_NOT_TRAINABLE`."""
    name = "hardlim"
    not_trainable = HARDLIM_NOT_TRAINABLE

    def forward(self, z):
        return (z >= 0).astype(z.dtype), None

    def backward(self, cache, da):
        return np.zeros_like(da)


@ACTIVATIONS.register("tansig")
class Tansig(Tanh):
    """The talk's ``tansig`` = tanh."""
    name = "tansig"


@ACTIVATIONS.register("logsig")
class Logsig(Sigmoid):
    """The talk's ``logsig`` = sigmoid."""
    name = "logsig"


@ACTIVATIONS.register("purelin")
class Purelin(Linear):
    """The talk's ``purelin`` = linear (identity)."""
    name = "purelin"


def get(activation, param: str | None = None) -> ActivationFunction:
    """A fresh activation object from a registered name (``'relu'``, ``'softmax'``, ``'hardlim'``, ...),
    None (linear), or an ``ActivationFunction`` instance (returned as is)."""
    if activation is None:
        return Linear()
    if isinstance(activation, ActivationFunction):
        return activation
    if isinstance(activation, type) and issubclass(activation, ActivationFunction):
        return activation()
    return ACTIVATIONS.get(activation, param=param)()


# plain functions for quick use: petnet.nn.activations.relu(z)
def relu(z):
    return ReLU()(np.asarray(z))


def leaky_relu(z, alpha: float = 0.2):
    return LeakyReLU(alpha)(np.asarray(z))


def elu(z, alpha: float = 1.0):
    return ELU(alpha)(np.asarray(z))


def sigmoid(z):
    return Sigmoid()(np.asarray(z, dtype=float))


def tanh(z):
    return np.tanh(z)


def softmax(z):
    return Softmax()(np.asarray(z, dtype=float))


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
        super().__init__(**kwargs)
        self.activation = get(activation)

    def call(self, x, training=False):
        return x, None

    def backprop(self, cache, dz, need_dx=True):
        return dz, []

    def get_config(self):
        return {"name": self.name, "activation": self.activation.name}
