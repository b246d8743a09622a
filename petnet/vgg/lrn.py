"""Local Response Normalisation (LRN), the extra layer of VGG's configuration A-LRN.

From AlexNet (Krizhevsky et al. 2012): each activation is divided by the energy of the same pixel
in the ``n`` neighbouring channels,

    y_c = x_c / d_c^beta,     d_c = k + (alpha / n) * sum_{c' = c - n//2}^{c + (n-1)//2} x_{c'}^2

(channels beyond the edges count as zero). The defaults k = 2, n = 5, alpha = 1e-4, beta = 0.75
are AlexNet's, used by VGG; alpha is divided by n as in PyTorch's ``nn.LocalResponseNorm`` and
Caffe. LRN has **no parameters**. The VGG paper found it does not help (A-LRN is no better than A),
which is why later configurations drop it.

Backward, with g = dL/dy:

    dL/dx_m = g_m d_m^-beta - (2 alpha beta / n) x_m * sum_{c: m in window(c)} g_c x_c d_c^(-beta-1)

Functions work on channels-last arrays ``(..., C)``.
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.nn.layer import Layer


def window_sum(a: np.ndarray, n: int, reverse: bool = False) -> np.ndarray:
    """Sum over the channel window [c - n//2, c + (n-1)//2] (mirrored when ``reverse``), zeros outside."""
    lo, hi = n // 2, (n - 1) // 2
    if reverse:
        lo, hi = hi, lo
    c = a.shape[-1]
    pad = [(0, 0)] * (a.ndim - 1) + [(lo + 1, hi)]
    cs = np.cumsum(np.pad(a, pad), axis=-1)
    return cs[..., lo + 1 + hi:lo + 1 + hi + c] - cs[..., :c]


def lrn_forward(x: np.ndarray, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
    """``y = x / (k + alpha/n * windowed sum of x^2)^beta``; returns ``(y, d)`` (d is kept for backward)."""
    d = k + (alpha / size) * window_sum(x * x, size)
    return x * d ** -beta, d


def lrn_backward(grad: np.ndarray, x: np.ndarray, d: np.ndarray, size: int = 5, alpha: float = 1e-4,
                 beta: float = 0.75) -> np.ndarray:
    """dL/dx from dL/dy (see the module docstring)."""
    inner = window_sum(grad * x * d ** (-beta - 1), size, reverse=True)
    return grad * d ** -beta - (2 * alpha * beta / size) * x * inner


class LocalResponseNormalization(Layer):
    """Keras-style layer for :func:`lrn_forward` / :func:`lrn_backward` (no weights, shape kept).

    ``LocalResponseNormalization(size=5, alpha=1e-4, beta=0.75, k=2.0, name='block1_lrn')``
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0, **kwargs):
        if int(size) < 1:
            raise PetnetError(f"LRN size must be a positive number of channels, got {size!r}")
        self.size, self.alpha, self.beta, self.k = int(size), float(alpha), float(beta), float(k)
        super().__init__(**kwargs)

    def call(self, x, training=False):
        y, d = lrn_forward(x, self.size, self.alpha, self.beta, self.k)
        return y.astype(x.dtype, copy=False), (x, d)

    def backprop(self, cache, dy, need_dx=True):
        x, d = cache
        return lrn_backward(dy, x, d, self.size, self.alpha, self.beta).astype(dy.dtype, copy=False), []

    def get_config(self):
        return {"name": self.name, "size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}
