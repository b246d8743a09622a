"""Pictures of chapter 2 (PNG files; ``show=True`` opens a window instead of only saving).

* :func:`plot_fit`          -- the houses and the fitted line or curve
* :func:`plot_loss_curves`  -- loss per iteration of several optimizers on one chart (log scale)
* :func:`plot_contour_path` -- the path of (a0, a1) over the contour lines of the loss surface
* :func:`plot_surface_paths`-- optimizers on the non-convex function with a local minimum
* :func:`plot_losses`       -- the loss catalogue: value and gradient of one sample, per kind of loss
"""

from __future__ import annotations

import numpy as np

from petnet.errors import PetnetError
from petnet.plotting import finish, literal, pyplot


def plot_fit(X, y, model, out=None, show=False, names=None, target="y"):
    """Scatter of the samples with the fitted line/curve (one feature), or predicted vs actual (several)."""
    plt = pyplot(show)
    X = np.asarray(X, dtype=np.float64)
    X = X[:, None] if X.ndim == 1 else X
    names = [literal(n) for n in names] if names else [f"x{j + 1}" for j in range(X.shape[1])]
    target = literal(target)          # column names of the user's table are drawn as written
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    if X.shape[1] == 1:
        ax.scatter(X[:, 0], y, color="tab:red", s=22, label="houses (samples)", zorder=3)
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 300)
        label = "fitted line" if model.degree == 1 else f"fitted curve (degree {model.degree})"
        ax.plot(grid, model.predict(grid[:, None]), color="tab:blue", lw=2, label=label)
        ax.set_xlabel(names[0])
        ax.set_ylabel(target)
        terms = " ".join(f"{c:+.4g}·{literal(n)}" for c, n in zip(model.coef_, model.feature_names_out_))
        ax.set_title(f"{target} = {model.intercept_:.4g} {terms}", fontsize=9)
    else:
        pred = model.predict(X)
        ax.scatter(y, pred, color="tab:red", s=22, label="houses", zorder=3)
        lo, hi = min(y.min(), pred.min()), max(y.max(), pred.max())
        ax.plot([lo, hi], [lo, hi], color="gray", ls="--", label="perfect prediction")
        ax.set_xlabel(f"actual {target}")
        ax.set_ylabel(f"predicted {target}")
        ax.set_title(f"fit on {', '.join(names)}", fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    return finish(fig, out, show)


def plot_loss_curves(result, out=None, show=False):
    """Loss per iteration of every optimizer of a :class:`~petnet.gd.compare.Comparison`, log scale.

    A second panel shows ``loss - least-squares minimum``, where the speed of convergence is
    visible long after the raw curves look flat."""
    plt = pyplot(show)
    curves = {name: run.loss_curve for name, run in result.runs.items() if run.failure is None}
    minimum = result.min_loss
    title = literal(f"{result.target} ~ {', '.join(result.feature_names)} "
             f"({'scaled' if result.scale else 'raw features'})")
    ncols = 2
    fig, axes = plt.subplots(1, ncols, figsize=(6.0 * ncols, 4.4), squeeze=False)
    ax = axes[0, 0]
    for name, curve in curves.items():
        ax.plot(np.arange(len(curve)), curve, label=f"{name} ({len(curve) - 1} it.)", lw=1.6)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss = MSE/2 (log scale)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = axes[0, 1]
    for name, curve in curves.items():
        excess = np.asarray(curve) - minimum
        # values at or below rounding level of the loss cannot be drawn on a log scale
        excess = np.where(excess > 1e-13 * abs(minimum), excess, np.nan)
        ax.plot(np.arange(len(curve)), excess, label=name, lw=1.6)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss − least-squares minimum (log scale)")
    ax.set_title("distance to the minimum")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return finish(fig, out, show)


def plot_contour_path(result, out=None, show=False, margin=0.25):
    """Paths of (a0, a1) of a :class:`~petnet.gd.compare.Comparison` on one feature (original units)
    over the contours of Loss(a0, a1) of the model ``y = a0 + a1 x``."""
    if result.X.shape[1] != 1:
        raise PetnetError("the contour plot draws the (a0, a1) plane, so it needs a comparison on exactly "
                          f"one feature column (got {len(result.feature_names)}: "
                          f"{', '.join(result.feature_names)})")
    plt = pyplot(show)
    x, y = result.X[:, 0], result.y
    paths = {name: run.path for name, run in result.runs.items() if run.failure is None}
    xname, solution = literal(result.feature_names[0]), result.lstsq
    # frame the start, the end points and the solution (a path that wanders far is clipped)
    ends = np.array([np.asarray(p)[i, :2] for p in paths.values() for i in (0, -1)]
                    + ([np.asarray(solution)[:2]] if solution is not None else []))
    lo, hi = ends.min(axis=0), ends.max(axis=0)
    span = np.maximum(hi - lo, 1e-9 + 0.1 * np.abs(hi))
    allp = np.concatenate([np.asarray(p)[:, :2] for p in paths.values()])
    lo = np.maximum(allp.min(axis=0), lo - 1.5 * span)
    hi = np.minimum(allp.max(axis=0), hi + 1.5 * span)
    span = hi - lo
    lo, hi = lo - margin * span, hi + margin * span
    a0, a1 = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    # Loss(a0, a1) = 1/(2N) sum (a0 + a1 x_i - y_i)^2, expanded so the grid needs no loop over samples
    n = len(x)
    sx, sy, sxx, sxy, syy = x.sum(), y.sum(), x @ x, x @ y, y @ y
    L = (n * a0 ** 2 + sxx * a1 ** 2 + syy + 2 * a0 * a1 * sx - 2 * a0 * sy - 2 * a1 * sxy) / (2 * n)
    fig, ax = plt.subplots(figsize=(6.6, 5.0))
    # contour levels spaced geometrically above the minimum, so the bowl's bottom gets lines too
    lmin = float(L.min())
    levels = lmin + np.geomspace(max((L.max() - lmin) * 1e-4, 1e-12), L.max() - lmin, 25)
    cs = ax.contour(a0, a1, L, levels=levels, cmap="viridis", linewidths=0.8)
    fig.colorbar(cs, ax=ax, label="loss (MSE/2)", format="%.1e")
    for name, p in paths.items():
        p = np.asarray(p)
        ax.plot(p[:, 0], p[:, 1], marker=".", ms=3, lw=1.2, label=f"{name} ({len(p) - 1} it.)")
    ax.plot(*np.asarray(next(iter(paths.values())))[0, :2], "ko", label="start a0 = a1 = 1")
    if solution is not None:
        ax.plot(solution[0], solution[1], "r*", ms=14, label="least squares")
    ax.set_xlabel("a0 (intercept)")
    ax.set_ylabel(f"a1 (per unit of {xname})")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title("path of (a0, a1) over the loss contours")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    ax.legend(fontsize=8, loc="lower right")
    return finish(fig, out, show)


def plot_surface_paths(result, out=None, show=False):
    """The optimizer paths of a :class:`~petnet.gd.surfaces.SurfaceResult` over the contours of its function."""
    plt = pyplot(show)
    surface = result.function
    paths = {name: run.path for name, run in result.runs.items()}
    xs, ys = np.meshgrid(np.linspace(-1.8, 2.3, 400), np.linspace(-1.8, 1.9, 400))
    Z = surface(xs, ys)
    fig, ax = plt.subplots(figsize=(7.2, 5.2))
    cs = ax.contour(xs, ys, Z, levels=np.linspace(Z.min(), 6, 30), cmap="viridis", linewidths=0.7)
    fig.colorbar(cs, ax=ax, label="f(x, y)")
    for name, p in paths.items():
        end = surface.which_minimum(p[-1])
        ax.plot(p[:, 0], p[:, 1], lw=1.4, label=f"{name} → {end} minimum" if end != "none" else
                f"{name} → nowhere yet")
        ax.plot(p[-1, 0], p[-1, 1], "o", ms=5, color=ax.lines[-1].get_color())
    g, l = surface.global_minimum, surface.local_minimum
    ax.plot(*g, "r*", ms=15, label="global minimum")
    ax.plot(*l, "kX", ms=10, label="local minimum")
    ax.plot(*next(iter(paths.values()))[0], "ks", ms=6, label="start")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("f(x,y) = x⁴ − 2x² + 0.4x + y²/2: who escapes the local minimum?")
    ax.legend(fontsize=8, loc="lower right")
    return finish(fig, out, show)


def plot_losses(out=None, show=False, n_points: int = 401):
    """The loss catalogue of :mod:`petnet.gd.losses`: value (top) and gradient d/df (bottom) of one
    sample, one column per kind (residual, margin, probability of the true class)."""
    from petnet.gd import losses
    plt = pyplot(show)
    grids = {"regression": np.linspace(-3, 3, n_points), "margin": np.linspace(-3, 3, n_points),
             "probability": np.linspace(0.02, 0.98, n_points)}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex="col")
    for col, (kind, axis) in enumerate(losses.AXES.items()):
        for name in losses.LOSSES.names():
            loss = losses.LOSSES.get(name)
            if loss.kind != kind:
                continue
            x = grids[kind]
            value, grad = losses.pointwise(loss, x)
            axes[0, col].plot(x, value, lw=1.6, label=name)
            axes[1, col].plot(x, grad, lw=1.6, label=name)
        axes[0, col].set_title(f"{kind} losses")
        axes[1, col].set_xlabel(axis)
        if kind == "probability":
            axes[0, col].set_ylim(0, 4)
            axes[1, col].set_ylim(-20, 1)
        else:
            axes[0, col].set_ylim(-0.2, 5)
            axes[1, col].set_ylim(-5, 5)
        for row in (0, 1):
            axes[row, col].grid(alpha=0.3)
            axes[row, col].legend(fontsize=8)
    axes[0, 0].set_ylabel("value (one sample)")
    axes[1, 0].set_ylabel("gradient d value / d f")
    fig.suptitle("the talk's loss catalogue (+ Huber, delta = 1)")
    fig.tight_layout()
    return finish(fig, out, show)
