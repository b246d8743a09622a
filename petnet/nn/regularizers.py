"""Weight penalties (Keras' ``regularizers``): ``Dense(..., kernel_regularizer=L2(0.01))``.

L2(l):   penalty l * sum(w^2),   gradient 2 l w      (weight decay)

The model adds the gradient to the weight's gradient once per training step (not once per call
of a shared layer). The reported ``loss`` is the data loss alone, without the penalty.
"""

from __future__ import annotations

import numpy as np

from petnet.validate import check_number


class L2:
    """``L2(l2)``: penalty ``l2 * ||w||^2``; ``L2(l / 2)`` is the textbook ``(l/2) ||w||^2``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = check_number("l2", l2, min=0)

    def __call__(self, w: np.ndarray) -> float:
        return float(self.l2 * np.sum(np.square(w, dtype=np.float64)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return (2 * self.l2) * w

    def __repr__(self):
        return f"L2(l2={self.l2:g})"
