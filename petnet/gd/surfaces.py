"""A non-convex 2-D function with a local minimum: the talk's second flaw of gradient descent.

    f(x, y) = x^4 - 2 x^2 + 0.4 x + y^2 / 2

Along x it is a tilted double well: a global minimum near x = -1.05, a local (worse) minimum
near x = +0.95 and a ridge between them near x = 0.1. Started on the right-hand slope, plain
gradient descent rolls into the nearer, local minimum and stays there; an optimizer that builds
up speed (momentum, Nesterov) can carry over the ridge into the global minimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet import optim
from petnet.errors import ParamError
from petnet.gd.linear import canonical_name, talk_order
from petnet.validate import check_int, check_number


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

#: keyword arguments of each optimizer in the surface demo (an optimizer of the registry that is
#: missing here runs with its own defaults)
SURFACE_SETTINGS = {
    "gd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.3},
    "rmsprop": {"lr": 0.01},
    "adam": {"lr": 0.1},
}

#: upper bound of ``n_steps`` (each optimizer keeps its whole path)
MAX_STEPS = 100_000


@dataclass
class SurfaceRun:
    """One optimizer on the surface: its settings, its path (n_steps + 1, 2), where it ended."""

    optimizer: str
    settings: dict
    path: np.ndarray
    end: np.ndarray
    value: float            #: f at the end point
    reached: str            #: 'global', 'local' or 'none'


@dataclass
class SurfaceResult:
    """What :func:`surface` computed; :func:`petnet.gd.plots.plot_surface_paths` draws it."""

    function: DoubleWell
    start: tuple[float, float]
    n_steps: int
    runs: dict[str, SurfaceRun]


def descend(surface, optimizer, start=START, n_steps: int = 500) -> np.ndarray:
    """Run ``optimizer`` (name or instance) on ``surface`` from ``start``; the path, shape (n_steps+1, 2)."""
    n_steps = check_int("n_steps", n_steps, min=1, max=MAX_STEPS)
    opt = optim.get(optimizer)
    p = np.array(start, dtype=np.float64)
    path = [p.copy()]
    for _ in range(n_steps):
        opt.step([p], [surface.gradient(p)])
        path.append(p.copy())
    return np.asarray(path)


def surface(*, n_steps: int = 500, start=START, optimizers=None, tilt: float = 0.4) -> SurfaceResult:
    """Every optimizer (default: all of :data:`petnet.optim.OPTIMIZERS`, with the demo's
    :data:`SURFACE_SETTINGS`) for ``n_steps`` steps from ``start`` on the tilted double well."""
    n_steps = check_int("n_steps", n_steps, min=1, max=MAX_STEPS)
    tilt = check_number("tilt", tilt, min=-1.5, max=1.5)   # beyond +-1.54 one of the two minima vanishes
    if isinstance(start, str) or np.ndim(start) != 1 or len(start) != 2:
        raise ParamError("start", f"must be a point (x, y), got {start!r}")
    start = tuple(check_number("start", v, min=-10, max=10) for v in start)
    if optimizers is None:
        names = talk_order(optim.OPTIMIZERS.names())
    else:
        names = [canonical_name(n) for n in ([optimizers] if isinstance(optimizers, str) else optimizers)]
    f = DoubleWell(tilt)
    runs = {}
    for name in names:
        settings = dict(SURFACE_SETTINGS.get(name, {}))
        path = descend(f, optim.get(name, **settings), start, n_steps)
        end = path[-1]
        runs[name] = SurfaceRun(name, settings, path, end, float(f(*end)), f.which_minimum(end))
    return SurfaceResult(f, start, n_steps, runs)
