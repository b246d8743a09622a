"""``petnet gd ...``: chapter 2 on the command line.

* ``petnet gd fit``      -- fit house prices by gradient descent (the issue's CLI)
* ``petnet gd compare``  -- every optimizer on the same data: table, loss curves, (a0, a1) paths
* ``petnet gd surface``  -- optimizers on a non-convex function with a local minimum
* ``petnet gd losses``   -- the talk's loss catalogue, value and gradient, printed and plotted
"""

from __future__ import annotations

import argparse
import json
import warnings

from petnet import optim
from petnet.cli import add_command, add_group, check_outputs, nonneg_int, number, positive_int

#: flags whose names differ from the library's parameters (for the reworded ParamErrors)
PARAMS = {"learning_rate": "lr", "random_state": "seed", "path": "data"}

#: how the command line spells the settings that library advice names (see petnet.gd.errors)
SPELLING = {"scale": "--scale", "no_scale": "--no-scale"}

FIT_EPILOG = """\
examples:
  petnet gd fit                                   # the bundled 16 Portland houses, price vs area
  petnet gd fit --data ../shared/data/housing/portland_housing.csv --x size_sqft,bedrooms --y price_usd
  petnet gd fit --optimizer adam --plot fit.png   # the data with the fitted line
  petnet gd fit --degree 2 --plot curve.png       # the talk's curve fit
  petnet gd fit --no-scale --lr 1e-7              # raw features: see how slow plain GD is
  petnet gd fit --json                            # one JSON object: coef, intercept, n_iter, converged, loss
"""


def _add_data_args(p, x_default="size_sqft"):
    p.add_argument("--data", metavar="FILE.csv",
                   help="CSV file with a header line (default: the bundled 16-house example table)")
    p.add_argument("--x", default=x_default, metavar="COL[,COL...]",
                   help=f"feature column(s), comma-separated (default: {x_default})")
    p.add_argument("--y", default="price_usd", metavar="COL", help="target column (default: price_usd)")


def register(subparsers) -> None:
    sub = add_group(
        subparsers, "gd", help="chapter 2: gradient descent fits house prices",
        description="Chapter 2 of the talk: linear regression of house prices by gradient descent, "
                    "the optimizers that fix its flaws, and pictures of what they do.",
        epilog="Run 'petnet gd fit --help', 'petnet gd compare --help', 'petnet gd surface --help' or "
               "'petnet gd losses --help'.")

    fit = add_command(
        sub, "fit", cmd_fit, help="fit y = a0 + a1*x (+ ...) by gradient descent",
        description="Fit a linear (or, with --degree, polynomial) model of a CSV column by gradient "
                    "descent, starting from a0 = a1 = 1 like the talk, stopping when "
                    "|previous_loss - loss| < tol. Loss = MSE/2. Coefficients are printed in the "
                    "original units even when the features are scaled.",
        epilog=FIT_EPILOG, params=PARAMS)
    _add_data_args(fit)
    fit.add_argument("--optimizer", default="gd", choices=optim.OPTIMIZERS,
                     help="how each step is made (default: gd, plain gradient descent; sgd is another "
                          "name of gd)")
    fit.add_argument("--lr", type=number, default=None,
                     help="learning rate alpha (default: one that works with scaling, per optimizer)")
    fit.add_argument("--lr-decay", type=number, default=None, metavar="RATE",
                     help="exponential learning-rate schedule: lr * RATE**(t/100) (e.g. 0.9)")
    fit.add_argument("--max-iter", type=positive_int, default=10_000,
                     help="give up after this many iterations (default: 10000)")
    fit.add_argument("--tol", type=number, default=1e-4,
                     help="stop when |previous_loss - loss| < tol, loss in original units (default: 1e-4)")
    fit.add_argument("--n-iter-no-change", type=positive_int, default=1, metavar="N",
                     help="require N consecutive iterations below tol (default: 1, the talk's rule)")
    fit.add_argument("--batch-size", type=positive_int, default=None,
                     help="mini-batch size (1 = stochastic GD; default: full batch)")
    fit.add_argument("--seed", type=nonneg_int, default=0, help="seed of the mini-batch order (default: 0)")
    fit.add_argument("--scale", action=argparse.BooleanOptionalAction, default=True,
                     help="standardise features and target for the optimizer (default: --scale)")
    fit.add_argument("--degree", type=positive_int, default=1,
                     help="polynomial degree of each feature: 2+ fits a curve (default: 1, a line)")
    fit.add_argument("--plot", metavar="OUT.png", help="save the data with the fitted line/curve")
    fit.add_argument("--show", action="store_true", help="open the plot in a window")
    fit.add_argument("--json", action="store_true", help="print one JSON object instead of the report")

    cmp_ = add_command(
        sub, "compare", cmd_compare,
        help="all optimizers on the same data: iterations, loss curves, (a0, a1) paths",
        description="Fit the same data with every optimizer (features scaled) and compare iterations, "
                    "final loss and the distance to the closed-form least-squares solution.",
        epilog="examples:\n  petnet gd compare --plot loss.png --contour path.png\n"
               "  petnet gd compare --no-scale --contour raw_path.png   # raw features: the narrow valley",
        params=PARAMS)
    _add_data_args(cmp_)
    cmp_.add_argument("--tol", type=number, default=1e-4, help="tolerance of every fit (default: 1e-4)")
    cmp_.add_argument("--max-iter", type=positive_int, default=10_000, help="(default: 10000)")
    cmp_.add_argument("--scale", action=argparse.BooleanOptionalAction, default=True,
                      help="standardise features and target (default: --scale); --no-scale shows the slow crawl "
                           "along the raw loss valley")
    cmp_.add_argument("--lr", type=number, default=None,
                      help="one learning rate for every optimizer (default: a working one per optimizer)")
    cmp_.add_argument("--plot", metavar="OUT.png", help="save the loss curves of all optimizers (log scale)")
    cmp_.add_argument("--contour", metavar="OUT.png",
                      help="save the (a0, a1) paths over the loss contours (one feature only)")
    cmp_.add_argument("--show", action="store_true", help="open the plots in windows")

    surf = add_command(
        sub, "surface", cmd_surface,
        help="optimizers on a non-convex function: who escapes the local minimum?",
        description="Run every optimizer from the same start on f(x,y) = x^4 - 2x^2 + 0.4x + y^2/2, "
                    "which has a local minimum near x = 0.95 and the global one near x = -1.05.",
        epilog="example:\n  petnet gd surface --plot surface.png", params={"n_steps": "steps"})
    surf.add_argument("--steps", type=positive_int, default=500,
                      help="steps per optimizer (default: 500, at most 100000)")
    surf.add_argument("--plot", metavar="OUT.png", help="save the paths over the contour lines")
    surf.add_argument("--show", action="store_true", help="open the plot in a window")

    loss = add_command(
        sub, "losses", cmd_losses, help="the talk's loss catalogue: value and gradient, printed and plotted",
        description="Print every loss of petnet.gd.losses (the talk's catalogue plus Huber) with its value "
                    "and gradient for one sample at a few points, and plot them.",
        epilog="example:\n  petnet gd losses --plot losses.png")
    loss.add_argument("--plot", metavar="OUT.png", help="save the value and gradient curves")
    loss.add_argument("--show", action="store_true", help="open the plot in a window")


def _load(args, pictures=("plot",)):
    """The table, after the output paths were checked (no work before a bad ``--plot`` is refused)."""
    from petnet.gd.data import example_path, load_xy
    from petnet.safe_io import printable
    check_outputs(args, pictures=pictures, inputs=("data",))
    given = args.data is not None          # --data "" (an unset variable) is refused, not the example
    path = args.data if given else example_path()
    X, y, names = load_xy(path, args.x, args.y)
    return X, y, names, (printable(path) if given else "bundled example of 16 Portland houses")


def _spelled(exc):
    """A library error whose advice names a setting, reworded with the flags (see petnet.gd.errors)."""
    from petnet.errors import PetnetError
    return PetnetError(exc.spell(**SPELLING))


def cmd_fit(args) -> int:
    from petnet.gd.errors import AdviceError
    from petnet.gd.linear import ConvergenceWarning, LinearRegressionGD, default_learning_rate
    if args.lr_decay is not None and not 0 < args.lr_decay <= 1:
        from petnet.errors import PetnetError
        raise PetnetError(f"--lr-decay must be in (0, 1], got {args.lr_decay}")
    X, y, names, path = _load(args)
    lr = args.lr
    if args.lr_decay is not None:
        lr = optim.ExponentialDecay(lr if lr is not None else default_learning_rate(args.optimizer),
                                    100, args.lr_decay)
    model = LinearRegressionGD(args.optimizer, learning_rate=lr, max_iter=args.max_iter, tol=args.tol,
                               batch_size=args.batch_size, scale=args.scale, degree=args.degree,
                               random_state=args.seed, feature_names=names,
                               n_iter_no_change=args.n_iter_no_change, record_path=False)
    try:
        with warnings.catch_warnings():  # the report below says plainly whether it converged
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    except AdviceError as exc:
        raise _spelled(exc) from None
    loss = float(model.loss_curve_[-1])
    if args.plot or args.show:
        from petnet.gd.plots import plot_fit
        plot_fit(X, y, model, out=args.plot, show=args.show, names=names, target=args.y)
    lr_used = model.learning_rate_
    if args.json:
        print(json.dumps({"coef": [float(c) for c in model.coef_], "intercept": model.intercept_,
                          "n_iter": int(model.n_iter_), "converged": bool(model.converged_), "loss": loss,
                          "features": model.feature_names_out_, "optimizer": args.optimizer,
                          "lr": lr_used if isinstance(lr_used, float) else repr(lr_used),
                          "scale": bool(args.scale), "degree": int(args.degree), "n_samples": int(len(y))}))
        return 0
    print(f"data: {path} ({len(y)} samples), {args.y} ~ {', '.join(names)}"
          + (f", degree {args.degree}" if args.degree > 1 else ""))
    print(f"optimizer: {args.optimizer}, learning rate {lr_used}, "
          f"{'scaled' if args.scale else 'raw (unscaled)'} features, "
          + ("full batch" if args.batch_size is None else f"batch size {args.batch_size}"))
    print(f"  intercept a0 = {model.intercept_:.6g}")
    for i, (name, c) in enumerate(zip(model.feature_names_out_, model.coef_), start=1):
        print(f"  a{i} ({name}) = {c:.6g}")
    unit = "iterations" if args.batch_size is None else "epochs"
    print(f"{unit}: {model.n_iter_}, final loss (MSE/2): {loss:.6g}")
    if model.converged_:
        print(f"converged: |previous_loss - loss| < {args.tol:g}")
    else:
        print(f"did not converge within {args.max_iter} iterations "
              f"(last loss change {abs(model.loss_curve_[-2] - model.loss_curve_[-1]):.3g} >= tol {args.tol:g}); "
              "try more --max-iter, another --lr, or --scale")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def cmd_compare(args) -> int:
    import numpy as np
    from petnet.cli import flag_for
    from petnet.errors import ParamError, PetnetError
    from petnet.gd.compare import compare
    from petnet.gd.errors import AdviceError
    X, y, names, path = _load(args, pictures=("plot", "contour"))
    if args.contour and X.shape[1] != 1:
        raise PetnetError("--contour draws the (a0, a1) plane, so it needs exactly one feature column "
                          f"(got {len(names)}: {', '.join(names)}); use e.g. --x size_sqft")
    result = compare(X, y, scale=args.scale, learning_rate=args.lr, tol=args.tol, max_iter=args.max_iter,
                     feature_names=names, target=args.y)
    print(f"data: {path} ({len(y)} samples), {args.y} ~ {', '.join(names)}; "
          f"{'scaled' if args.scale else 'raw (unscaled)'}; tol {args.tol:g}")
    print(f"least squares (numpy lstsq): a = {np.array2string(result.lstsq, precision=6)}, "
          f"loss {result.min_loss:.6g}")
    print(f"{'optimizer':<10} {'lr':>7} {'iterations':>10} {'converged':>9} {'final loss':>14} "
          f"{'max rel. error vs lstsq':>24}")
    for name, run in result.runs.items():
        if run.failure is not None:
            failure = run.failure
            if isinstance(failure, AdviceError):
                failure = failure.spell(**SPELLING)
            elif isinstance(failure, ParamError) and flag_for(args, failure.param):
                failure = failure.renamed(flag_for(args, failure.param))
            print(f"{name:<10} {failure}")
            continue
        lr = f"{run.learning_rate:g}" if isinstance(run.learning_rate, float) else "decay"
        print(f"{name:<10} {lr:>7} {run.n_iter:>10} {str(run.converged):>9} "
              f"{run.loss:>14.8g} {run.error:>24.2e}")
    if args.scale and args.lr is None:
        for name, run in result.runs.items():
            if callable(run.learning_rate):
                print(f"  ({name}: lr = {run.learning_rate!r})")
    if args.plot or (args.show and not args.contour):
        from petnet.gd.plots import plot_loss_curves
        plot_loss_curves(result, out=args.plot, show=args.show)
        if args.plot:
            print(f"loss curves: {args.plot}")
    if args.contour:
        from petnet.gd.plots import plot_contour_path
        plot_contour_path(result, out=args.contour, show=args.show)
        print(f"(a0, a1) paths: {args.contour}")
    return 0


def cmd_surface(args) -> int:
    from petnet.gd.surfaces import surface
    check_outputs(args, pictures=("plot",))
    result = surface(n_steps=args.steps)
    f, start = result.function, result.start
    g, l = f.global_minimum, f.local_minimum
    print(f"f(x,y) = x^4 - 2x^2 + 0.4x + y^2/2 from {start}, {result.n_steps} steps; "
          f"global minimum ({g[0]:.4f}, 0) f={f(*g):.4f}, local minimum ({l[0]:.4f}, 0) f={f(*l):.4f}")
    print(f"{'optimizer':<10} {'settings':<26} {'end point':>20} {'f(end)':>8}  reached")
    for name, run in result.runs.items():
        kw = ", ".join(f"{k}={v:g}" for k, v in run.settings.items())
        end = run.end
        print(f"{name:<10} {kw:<26} ({end[0]:>8.4f}, {end[1]:>8.4f}) {run.value:>8.4f}  "
              f"{run.reached} minimum")
    if args.plot or args.show:
        from petnet.gd.plots import plot_surface_paths
        plot_surface_paths(result, out=args.plot, show=args.show)
        if args.plot:
            print(f"plot: {args.plot}")
    return 0


def cmd_losses(args) -> int:
    from petnet.gd.losses import AXES, catalogue
    check_outputs(args, pictures=("plot",))
    rows = catalogue()
    print("the loss catalogue of petnet.gd.losses: value and gradient d/df of ONE sample")
    kind = None
    for row in rows:
        if row.kind != kind:
            kind = row.kind
            print(f"\n{kind} losses, x = {AXES[kind]}")
            print(f"{'loss':<15} {'x =':>8}" + "".join(f"{v:>9g}" for v in row.x))
        print(f"{row.name:<15} {'value':>8}" + "".join(f"{v:>9.4g}" for v in row.value) + f"   {row.formula}")
        print(f"{'':<15} {'gradient':>8}" + "".join(f"{v:>9.4g}" for v in row.gradient))
    if args.plot or args.show:
        from petnet.gd.plots import plot_losses
        plot_losses(out=args.plot, show=args.show)
        if args.plot:
            print(f"\nplot: {args.plot}")
    return 0
