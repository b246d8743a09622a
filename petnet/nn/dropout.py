"""``Dropout``: randomly silence a fraction ``rate`` of the units while training (inverted dropout).

Training:  mask_i ~ Bernoulli(1 - rate),  y = x * mask / (1 - rate)   (expected value of y = x)
Inference: y = x (nothing to rescale, thanks to the division above).
Backward:  dL/dx = dL/dy * mask / (1 - rate)
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.nn.layer import Layer, rng


class Dropout(Layer):
    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        rate = float(rate)
        if not 0 <= rate < 1:
            raise PetnetError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        super().__init__(**kwargs)

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x, None
        gen = self._rng if self._rng is not None else rng()
        keep = gen.random(x.shape, dtype=np.float32) >= self.rate
        scale = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * scale, scale

    def backprop(self, scale, dy, need_dx=True):
        return (dy if scale is None else dy * scale), []

    def get_config(self):
        return {"name": self.name, "rate": self.rate}
