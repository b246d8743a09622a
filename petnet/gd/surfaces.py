"""A non-convex 2-D function with a local minimum: the talk's second flaw of gradient descent.

    f(x, y) = x^4 - 2 x^2 + 0.4 x + y^2 / 2

Along x it is a tilted double well: a global minimum near x = -1.05, a local (worse) minimum
near x = +0.95 and a ridge between them near x = 0.1. Started on the right-hand slope, plain
gradient descent rolls into the nearer, local minimum and stays there; an optimizer that builds
up speed (momentum, Nesterov) can carry over the ridge into the global minimum.
"""

from __future__ import annotations

import numpy as np

from petnet import optim


class DoubleWell:
    """``f(x, y) = x^4 - 2 x^2 + tilt * x + y^2 / 2`` with its gradient."""

    def __init__(self, tilt: float = 0.4):
        self.tilt = float(tilt)

    def __call__(self, x, y):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        return x ** 4 - 2 * x ** 2 + self.tilt * x + 0.5 * y ** 2

    def gradient(self, p) -> np.ndarray:
        """``[df/dx, df/dy] = [4 x^3 - 4 x + tilt, y]`` at the point ``p = (x, y)``."""
        x, y = p
        return np.array([4 * x ** 3 - 4 * x + self.tilt, y])

    def critical_x(self) -> np.ndarray:
        """The x of the critical points on y = 0 (roots of 4x^3 - 4x + tilt), sorted."""
        return np.sort(np.roots([4.0, 0.0, -4.0, self.tilt]).real)

    @property
    def global_minimum(self) -> np.ndarray:
        return np.array([self.critical_x()[0], 0.0])

    @property
    def local_minimum(self) -> np.ndarray:
        return np.array([self.critical_x()[2], 0.0])

    def which_minimum(self, p, atol: float = 0.05) -> str:
        """'global', 'local' or 'none' for an end point ``p``."""
        for name, m in (("global", self.global_minimum), ("local", self.local_minimum)):
            if np.linalg.norm(np.asarray(p) - m) < atol:
                return name
        return "none"


#: start on the right-hand slope, above the local minimum
START = (2.0, 1.5)

#: (optimizer, keyword arguments) of the surface demo
SURFACE_OPTIMIZERS = {
    "gd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.3},
    "rmsprop": {"lr": 0.01},
    "adam": {"lr": 0.1},
}


def descend(surface, optimizer, start=START, n_steps: int = 500) -> np.ndarray:
    """Run ``optimizer`` (name or instance) on ``surface`` from ``start``; the path, shape (n_steps+1, 2)."""
    opt = optimizer if isinstance(optimizer, optim.Optimizer) else optim.get(optimizer)
    p = np.array(start, dtype=np.float64)
    path = [p.copy()]
    for _ in range(n_steps):
        opt.step([p], [surface.gradient(p)])
        path.append(p.copy())
    return np.asarray(path)


def compare_on_surface(surface=None, start=START, n_steps: int = 500, settings=None) -> dict:
    """Paths of every optimizer of :data:`SURFACE_OPTIMIZERS` (name -> path)."""
    surface = surface or DoubleWell()
    settings = settings or SURFACE_OPTIMIZERS
    return {name: descend(surface, optim.get(name, **kw), start, n_steps) for name, kw in settings.items()}
