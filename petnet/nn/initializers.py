"""Weight initialisation (Keras defaults): Glorot/Xavier uniform kernels, zero biases.

glorot_uniform draws from U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)), which keeps
the variance of activations and gradients roughly equal from layer to layer.
For a conv kernel (kh, kw, C, F): fan_in = kh*kw*C, fan_out = kh*kw*F.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.nn.layer import rng


def fans(shape) -> tuple[int, int]:
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return receptive * shape[-2], receptive * shape[-1]


def glorot_uniform(shape, dtype=np.float32):
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng().uniform(-limit, limit, size=shape).astype(dtype)


def he_normal(shape, dtype=np.float32):
    fan_in, _ = fans(shape)
    return (rng().standard_normal(size=shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def zeros(shape, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def ones(shape, dtype=np.float32):
    return np.ones(shape, dtype=dtype)


INITIALIZERS = {"glorot_uniform": glorot_uniform, "he_normal": he_normal, "zeros": zeros, "ones": ones}


def get(init):
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise PetnetError(f"unknown initializer {init!r}; choose one of: {', '.join(INITIALIZERS)}")
    return INITIALIZERS[init]
