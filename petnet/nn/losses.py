"""Losses: softmax cross-entropy (fused with the softmax) and mean squared error.

SoftmaxCrossEntropy, for logits z (N, K) and labels y (class ids, or one-hot / probability rows):
    log p = z - max z - log sum_j exp(z_j - max z)      (log-sum-exp: never overflows)
    L     = -(1/N) sum_n sum_k y[n, k] log p[n, k]
    dL/dz = (softmax(z) - y) / N                         (the famous "prediction minus target")

MeanSquaredError, for predictions a and targets t of the same shape:
    L = mean((a - t)^2),   dL/da = 2 (a - t) / a.size
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError


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
    raise PetnetError(f"labels must be class ids (N,) or one-hot rows (N, K), got shape {y.shape}")


class SoftmaxCrossEntropy:
    """``loss = SoftmaxCrossEntropy(); L = loss.forward(logits, y); dlogits = loss.backward()``."""

    name = "softmax_cross_entropy"

    def __call__(self, logits, y):
        return self.forward(logits, y)

    def forward(self, logits, y) -> float:
        z = np.asarray(logits)
        if z.ndim != 2:
            raise PetnetError(f"cross-entropy expects logits of shape (N, classes), got {z.shape}")
        n, k = z.shape
        self.t = _as_targets(y, n, k, z.dtype)
        shifted = z - z.max(axis=1, keepdims=True)
        logsum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        logp = shifted - logsum
        self.p = np.exp(logp)
        return float(-(self.t * logp).sum() / n)

    def backward(self) -> np.ndarray:
        return (self.p - self.t) / len(self.p)


class MeanSquaredError:
    """``L = mean((a - t)^2)``; ``backward()`` gives 2 (a - t) / size."""

    name = "mse"

    def __call__(self, pred, y):
        return self.forward(pred, y)

    def forward(self, pred, y) -> float:
        a = np.asarray(pred)
        t = np.asarray(y, dtype=a.dtype)
        if t.shape != a.shape:
            if t.size == a.size and len(t) == len(a):
                t = t.reshape(a.shape)
            else:
                raise PetnetError(f"targets of shape {t.shape} do not match predictions of shape {a.shape}")
        self.diff = a - t
        return float(np.mean(self.diff ** 2))

    def backward(self) -> np.ndarray:
        return 2 * self.diff / self.diff.size


LOSSES = {
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "cross_entropy": SoftmaxCrossEntropy,
    "categorical_crossentropy": SoftmaxCrossEntropy,
    "sparse_categorical_crossentropy": SoftmaxCrossEntropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
}


def get(loss):
    """A loss object from a name (``'softmax_cross_entropy'``, ``'categorical_crossentropy'``,
    ``'sparse_categorical_crossentropy'``, ``'mse'``) or an instance."""
    if hasattr(loss, "forward") and hasattr(loss, "backward"):
        return loss
    if isinstance(loss, type):
        return loss()
    key = str(loss).lower()
    if key not in LOSSES:
        raise PetnetError(f"unknown loss {loss!r}; choose one of: {', '.join(sorted(LOSSES))}")
    return LOSSES[key]()
