"""``BatchNormalization`` over the last (channel) axis, Keras defaults (momentum 0.99, epsilon 1e-3).

Training, with mean mu and (biased) variance var of each channel over the batch (and pixels):
    xhat = (x - mu) / sqrt(var + eps),    y = gamma * xhat + beta
    moving_mean     <- momentum * moving_mean     + (1 - momentum) * mu
    moving_variance <- momentum * moving_variance + (1 - momentum) * var * m / (m - 1)
    (the unbiased variance, as PyTorch keeps; m = values per channel)
Inference: the same with moving_mean / moving_variance instead of the batch statistics.

Backward in training (m values per channel; every xhat depends on the whole batch through mu, var):
    dxhat = dy * gamma
    dx    = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)
    dgamma = sum(dy * xhat),   dbeta = sum(dy)
Weights (Keras order): gamma, beta (trainable), moving_mean, moving_variance (not trainable).
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.nn.layer import Layer


class BatchNormalization(Layer):
    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, **kwargs):
        if not 0 <= momentum < 1:
            raise PetnetError(f"BatchNormalization momentum must be in [0, 1), got {momentum}")
        if epsilon <= 0:
            raise PetnetError(f"BatchNormalization epsilon must be positive, got {epsilon}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        super().__init__(**kwargs)

    def build(self, input_shape, dtype=None):
        super().build(input_shape, dtype)
        c = input_shape[-1]
        self.gamma = self.add_weight(np.ones(c))
        self.beta = self.add_weight(np.zeros(c))
        self.moving_mean = self.add_weight(np.zeros(c), trainable=False)
        self.moving_variance = self.add_weight(np.ones(c), trainable=False)

    def call(self, x, training=False):
        axes = tuple(range(x.ndim - 1))
        if training:
            m = x.size // x.shape[-1]
            if m < 2:
                raise PetnetError(f"BatchNormalization {self.name!r} needs more than one value per channel "
                                  "to train; use a batch size above 1")
            mu = x.mean(axis=axes)
            var = x.var(axis=axes)
            self.moving_mean *= self.momentum
            self.moving_mean += (1 - self.momentum) * mu
            self.moving_variance *= self.momentum
            self.moving_variance += (1 - self.momentum) * var * (m / (m - 1))
        else:
            mu, var = self.moving_mean, self.moving_variance
        inv_std = 1.0 / np.sqrt(var + self.epsilon)
        xhat = (x - mu) * inv_std
        return self.gamma * xhat + self.beta, (xhat, inv_std, training)

    def backprop(self, cache, dy, need_dx=True):
        xhat, inv_std, training = cache
        axes = tuple(range(dy.ndim - 1))
        grads = [(dy * xhat).sum(axis=axes), dy.sum(axis=axes)]
        dxhat = dy * self.gamma
        if not training:
            return dxhat * inv_std, grads
        return (dxhat - dxhat.mean(axis=axes) - xhat * (dxhat * xhat).mean(axis=axes)) * inv_std, grads

    def get_config(self):
        return {"name": self.name, "momentum": self.momentum, "epsilon": self.epsilon}
