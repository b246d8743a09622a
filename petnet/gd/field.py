"""The gradient as a vector field (talk, section 2.1.1) over the house-price loss surface.

The talk pictures the gradient as an arrow at every point of a surface and says: to reach the
bottom, keep stepping a little against the arrow. Here the surface is the talk's loss of the
house-price line ``price = a0 + a1 * area`` on scaled data (area and price standardised,
``z = (x - mean) / std``), so the plane of (a0, a1) has the same scale in both directions:

    L(a0, a1) = 1/(2N) * sum_i (a0 + a1 * z_i - t_i)^2
    grad L    = [mean(r), mean(r * z)],  r = a0 + a1 * z - t

:func:`gradient_field` evaluates ``-grad L`` (the direction of steepest descent) on a grid of
(a0, a1) and runs plain gradient descent ``theta <- theta - lr * grad L`` from the talk's start
a0 = a1 = 1 (in dollars and square feet, mapped to the scaled plane). With one standardised
feature the Hessian ``A^T A / N`` is the identity: every arrow points straight at the minimum and
each step shrinks the distance to it by the factor ``1 - lr``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError
from petnet.gd.data import check_xy, example_path, load_xy
from petnet.gd.scaling import StandardScaler
from petnet.plotting import finish, pyplot
from petnet.validate import check_int, check_number

#: upper bounds of the parameters that set how much work is done
MAX_GRID = 101
MAX_STEPS = 10_000


class ScaledLoss:
    """The talk's loss ``MSE/2`` of ``t = a0 + a1 * z`` on one standardised feature, with its
    gradient; both accept arrays of (a0, a1) of any (equal) shape, e.g. a whole grid."""

    def __init__(self, x, y):
        x, y = check_xy(x, y)
        if x.shape[1] != 1:
            raise ParamError("X", f"must have exactly one feature column for the (a0, a1) plane, "
                                  f"got {x.shape[1]}")
        self.x_scaler = StandardScaler(["x"]).fit(x[:, 0])
        self.y_scaler = StandardScaler(["y"]).fit(y)
        self.z = self.x_scaler.transform(x[:, 0])
        self.t = self.y_scaler.transform(y)

    def residuals(self, a0, a1) -> np.ndarray:
        a0, a1 = np.asarray(a0, dtype=np.float64), np.asarray(a1, dtype=np.float64)
        return a0[..., None] + a1[..., None] * self.z - self.t

    def __call__(self, a0, a1) -> np.ndarray:
        r = self.residuals(a0, a1)
        return 0.5 * np.mean(r * r, axis=-1)

    def gradient(self, a0, a1) -> np.ndarray:
        """``[dL/da0, dL/da1]``, stacked on a new first axis."""
        r = self.residuals(a0, a1)
        return np.stack([r.mean(axis=-1), (r * self.z).mean(axis=-1)])

    def minimum(self) -> np.ndarray:
        """The least-squares (a0, a1) in the scaled plane (numpy ``lstsq``)."""
        A = np.column_stack([np.ones_like(self.z), self.z])
        return np.linalg.lstsq(A, self.t, rcond=None)[0]

    def from_original(self, intercept, slope) -> np.ndarray:
        """(a0, a1) of ``price = intercept + slope * area`` as a point of the scaled plane."""
        mx, sx = self.x_scaler.mean_, self.x_scaler.scale_
        my, sy = self.y_scaler.mean_, self.y_scaler.scale_
        return np.array([(intercept + slope * mx - my) / sy, slope * sx / sy])

    def to_original(self, theta) -> np.ndarray:
        """(intercept in dollars, slope in dollars per square foot) of a scaled-plane point(s)."""
        theta = np.asarray(theta, dtype=np.float64)
        mx, sx = self.x_scaler.mean_, self.x_scaler.scale_
        my, sy = self.y_scaler.mean_, self.y_scaler.scale_
        slope = theta[..., 1] * sy / sx
        return np.stack([my + sy * theta[..., 0] - slope * mx, slope], axis=-1)


@dataclass
class GradientField:
    """What :func:`gradient_field` computed; :func:`plot_gradient_field` draws it.

    ``a0``, ``a1``: the grid's axes; ``loss[i, j]`` and ``descent[:, i, j]`` (= ``-grad L``) at
    ``(a0[j], a1[i])``; ``path``: (a0, a1) before the first and after every step, shape
    (n_steps + 1, 2), with ``path_loss`` its loss; ``minimum``: least squares in the plane."""

    loss_function: ScaledLoss
    learning_rate: float
    a0: np.ndarray
    a1: np.ndarray
    loss: np.ndarray
    descent: np.ndarray
    path: np.ndarray
    path_loss: np.ndarray
    minimum: np.ndarray

    @property
    def contraction(self) -> float:
        """Measured factor by which one step shrinks the distance to the minimum (last step)."""
        d = np.linalg.norm(self.path - self.minimum, axis=1)
        return float(d[-1] / d[-2]) if len(d) > 1 and d[-2] > 0 else float("nan")


def gradient_field(X=None, y=None, *, learning_rate: float = 0.1, n_steps: int = 30, grid: int = 15,
                   start=(1.0, 1.0)) -> GradientField:
    """``-grad L`` on a ``grid x grid`` lattice of the scaled (a0, a1) plane, and the path of plain
    gradient descent with ``learning_rate`` for ``n_steps`` steps from ``start`` = (intercept in
    dollars, slope in dollars per square foot), the talk's a0 = a1 = 1 by default.

    ``X`` (one column) and ``y`` default to the bundled 16 Portland houses (area, price)."""
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True, max=2)
    n_steps = check_int("n_steps", n_steps, min=1, max=MAX_STEPS)
    grid = check_int("grid", grid, min=2, max=MAX_GRID)
    if isinstance(start, str) or np.ndim(start) != 1 or len(start) != 2:
        raise ParamError("start", f"must be a point (intercept, slope), got {start!r}")
    start = tuple(check_number("start", v) for v in start)
    if X is None and y is None:
        X, y, _ = load_xy(example_path(), "size_sqft", "price_usd")
    elif X is None or y is None:
        raise ParamError("X" if X is None else "y", "must be given together with the other (or neither)")
    f = ScaledLoss(X, y)
    theta = f.from_original(*start)
    path = [theta.copy()]
    for _ in range(n_steps):
        theta = theta - learning_rate * f.gradient(*theta)
        path.append(theta.copy())
    path = np.asarray(path)
    minimum = f.minimum()
    # a square frame (the plane has the same scale both ways) around the path and the minimum
    pts = np.vstack([path, minimum])
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    half = 0.6 * max(float(np.ptp(pts, axis=0).max()), 1.0)
    a0 = np.linspace(centre[0] - half, centre[0] + half, grid)
    a1 = np.linspace(centre[1] - half, centre[1] + half, grid)
    A0, A1 = np.meshgrid(a0, a1)
    return GradientField(f, float(learning_rate), a0, a1, f(A0, A1), -f.gradient(A0, A1), path,
                         f(path[:, 0], path[:, 1]), minimum)


def plot_gradient_field(field: GradientField, out=None, show: bool = False):
    """Arrows of ``-grad L`` over the loss contours, with the descent path and the minimum."""
    plt = pyplot(show)
    fig, ax = plt.subplots(figsize=(6.8, 5.4))
    A0, A1 = np.meshgrid(field.a0, field.a1)
    # the contours on a finer lattice than the arrows
    F0, F1 = np.meshgrid(np.linspace(field.a0[0], field.a0[-1], 200),
                         np.linspace(field.a1[0], field.a1[-1], 200))
    fine = field.loss_function(F0, F1)
    lmin = float(fine.min())
    levels = lmin + np.geomspace(max((fine.max() - lmin) * 1e-3, 1e-9), fine.max() - lmin, 16)
    cs = ax.contour(F0, F1, fine, levels=levels, cmap="viridis", linewidths=0.7)
    fig.colorbar(cs, ax=ax, label="loss L (MSE/2, scaled units)", format="%.2g", shrink=0.85)
    ax.quiver(A0, A1, field.descent[0], field.descent[1], color="0.35", angles="xy", width=0.003)
    p = field.path
    ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", ms=3, lw=1.3,
            label=f"gradient descent, lr = {field.learning_rate:g} ({len(p) - 1} steps)")
    ax.plot(*p[0], "ks", ms=6, label="start a0 = a1 = 1 (dollars, sqft)")
    ax.plot(*field.minimum, "*", color="gold", mec="k", ms=15, label="least squares")
    ax.set_xlabel("a0 (intercept, scaled)")
    ax.set_ylabel("a1 (slope, scaled)")
    ax.set_title("−∇L over the house-price loss: every arrow points downhill", fontsize=10)
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower right")
    return finish(fig, out, show)
