"""Losses: softmax cross-entropy (on logits, or on a model's softmax output) and mean squared error.

Every loss is ``value, cache = loss.forward(pred, y)`` and ``dL/dpred = loss.backward(cache)``
(``loss(pred, y)`` gives the value alone); the cache belongs to the call.

SoftmaxCrossEntropy, for logits z (N, K) and labels y (class ids, or one-hot / probability rows):
    log p = z - max z - log sum_j exp(z_j - max z)      (log-sum-exp: never overflows)
    L     = -(1/N) sum_n sum_k y[n, k] log p[n, k]
    dL/dz = (softmax(z) - y) / N                         (the famous "prediction minus target")

``from_logits=True`` (``'softmax_cross_entropy'``) takes logits. ``from_logits=False`` (Keras'
default, ``'categorical_crossentropy'`` / ``'sparse_categorical_crossentropy'``) takes
probabilities -- but when a model's output *is* a softmax, the model hands the loss that softmax's
input (the logits, kept in the forward cache) instead, as Keras does, so the loss and its gradient
above stay exact and stable. Only outputs that do not come from a softmax are used as
probabilities: L = -(1/N) sum y log p, dL/dp = -y / (N p) (p clipped to [1e-7, 1]).

MeanSquaredError, for predictions a and targets t of the same shape:
    L = mean((a - t)^2),   dL/da = 2 (a - t) / a.size
"""

from __future__ import annotations

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.registry import Registry

EPSILON = 1e-7   # Keras' clip for probabilities


def _as_targets(y, n: int, k: int, dtype) -> np.ndarray:
    """Class ids (N,) or one-hot/probability rows (N, K) -> (N, K) target rows, with clear errors."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and k > 1:
        y = y[:, 0]
    if y.ndim == 1:
        if len(y) != n:
            raise PetnetError(f"{len(y)} labels for {n} samples; give one label per sample")
        if not (np.issubdtype(y.dtype, np.integer) or np.all(np.mod(y, 1) == 0)):
            raise PetnetError("class labels must be whole numbers 0..K-1 (or one-hot rows)")
        ids = y.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= k):
            raise PetnetError(f"class labels must be in 0..{k - 1} for {k} outputs, got labels from "
                              f"{ids.min()} to {ids.max()}")
        t = np.zeros((n, k), dtype=dtype)
        t[np.arange(n), ids] = 1
        return t
    if y.ndim == 2:
        if y.shape != (n, k):
            raise PetnetError(f"one-hot labels of shape {y.shape} do not match the {n} x {k} outputs")
        return y.astype(dtype, copy=False)
    raise ParamError("labels", f"must be class ids (N,) or one-hot rows (N, K), got shape {y.shape}")


class Loss:
    name = "loss"
    from_logits = True

    def __call__(self, pred, y) -> float:
        return self.forward(pred, y)[0]

    def forward(self, pred, y):
        raise NotImplementedError

    def backward(self, cache) -> np.ndarray:
        raise NotImplementedError


class SoftmaxCrossEntropy(Loss):
    """``L, cache = SoftmaxCrossEntropy().forward(logits, y)``; ``dlogits = loss.backward(cache)``."""

    name = "softmax_cross_entropy"

    def __init__(self, from_logits: bool = True):
        self.from_logits = bool(from_logits)

    def forward(self, pred, y):
        z = np.asarray(pred)
        if z.ndim != 2:
            raise PetnetError(f"cross-entropy expects outputs of shape (N, classes), got {z.shape}")
        n, k = z.shape
        t = _as_targets(y, n, k, z.dtype)
        if not self.from_logits:   # probabilities that did not come from a softmax layer
            p = np.clip(z, EPSILON, 1.0)
            return float(-(t * np.log(p)).sum() / n), ("probs", p, t, z)
        shifted = z - z.max(axis=1, keepdims=True)
        logsum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        logp = shifted - logsum
        p = np.exp(logp)
        return float(-(t * logp).sum() / n), ("logits", p, t, None)

    def backward(self, cache) -> np.ndarray:
        kind, p, t, z = cache
        if kind == "probs":
            return np.where((z >= EPSILON) & (z <= 1.0), -t / p, 0).astype(z.dtype) / len(p)
        return (p - t) / len(p)

    def __repr__(self):
        return f"SoftmaxCrossEntropy(from_logits={self.from_logits})"


class MeanSquaredError(Loss):
    """``L = mean((a - t)^2)``; ``backward`` gives 2 (a - t) / size."""

    name = "mse"

    def forward(self, pred, y):
        a = np.asarray(pred)
        t = np.asarray(y, dtype=a.dtype)
        if t.shape != a.shape:
            if t.size == a.size and len(t) == len(a):
                t = t.reshape(a.shape)
            else:
                raise PetnetError(f"targets of shape {t.shape} do not match predictions of shape {a.shape}")
        diff = a - t
        return float(np.mean(diff ** 2)), diff

    def backward(self, diff) -> np.ndarray:
        return 2 * diff / diff.size


#: the one list of loss names (``model.compile(loss=NAME)``)
LOSSES = Registry("loss")
LOSSES.register("softmax_cross_entropy", lambda: SoftmaxCrossEntropy(from_logits=True),
                aliases=("cross_entropy",))
LOSSES.register("categorical_crossentropy", lambda: SoftmaxCrossEntropy(from_logits=False),
                aliases=("sparse_categorical_crossentropy",))
LOSSES.register("mse", MeanSquaredError, aliases=("mean_squared_error",))


def get(loss, param: str | None = None) -> Loss:
    """A loss object from a registered name (``'softmax_cross_entropy'`` on logits,
    ``'categorical_crossentropy'`` / ``'sparse_categorical_crossentropy'`` Keras-style, ``'mse'``),
    a ``Loss`` class or an instance (returned as is)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    return LOSSES.get(loss, param=param)()
