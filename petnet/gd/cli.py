"""``petnet gd ...``: chapter 2 on the command line.

* ``petnet gd fit``      -- fit house prices by gradient descent (the issue's CLI)
* ``petnet gd compare``  -- every optimizer on the same data: table, loss curves, (a0, a1) paths
* ``petnet gd surface``  -- optimizers on a non-convex function with a local minimum
"""

from __future__ import annotations

import argparse
import json
import warnings

from petnet.cli import number, positive_int

OPTIMIZER_NAMES = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]

# learning rates for `compare --no-scale` on house prices (area in sqft, price in dollars), found by
# bench/gd_bench.py; raw features need wildly different rates per optimizer
# (RMSProp's constant-rate limit cycle would be +-500 $/sqft wide here, so its rate is halved every 200 steps)
UNSCALED_LR = {"gd": 1e-7, "momentum": 1e-8, "nesterov": 1e-8, "adagrad": 1e4, "rmsprop": ("step", 1e3), "adam": 1e3}

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
    gd = subparsers.add_parser(
        "gd", help="chapter 2: gradient descent fits house prices",
        description="Chapter 2 of the talk: linear regression of house prices by gradient descent, "
                    "the optimizers that fix its flaws, and pictures of what they do.",
        epilog="Run 'petnet gd fit --help', 'petnet gd compare --help' or 'petnet gd surface --help'.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = gd.add_subparsers(dest="gd_command", metavar="COMMAND")
    gd.set_defaults(func=lambda args: (gd.print_help(), 0)[1])

    fit = sub.add_parser(
        "fit", help="fit y = a0 + a1*x (+ ...) by gradient descent",
        description="Fit a linear (or, with --degree, polynomial) model of a CSV column by gradient "
                    "descent, starting from a0 = a1 = 1 like the talk, stopping when "
                    "|previous_loss - loss| < tol. Loss = MSE/2. Coefficients are printed in the "
                    "original units even when the features are scaled.",
        epilog=FIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_args(fit)
    fit.add_argument("--optimizer", default="gd", choices=OPTIMIZER_NAMES,
                     help="how each step is made (default: gd, plain gradient descent)")
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
    fit.add_argument("--seed", type=int, default=0, help="seed of the mini-batch order (default: 0)")
    fit.add_argument("--scale", action=argparse.BooleanOptionalAction, default=True,
                     help="standardise features and target for the optimizer (default: --scale)")
    fit.add_argument("--degree", type=positive_int, default=1,
                     help="polynomial degree of each feature: 2+ fits a curve (default: 1, a line)")
    fit.add_argument("--plot", metavar="OUT.png", help="save the data with the fitted line/curve")
    fit.add_argument("--show", action="store_true", help="open the plot in a window")
    fit.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    fit.set_defaults(func=cmd_fit)

    cmp_ = sub.add_parser(
        "compare", help="all optimizers on the same data: iterations, loss curves, (a0, a1) paths",
        description="Fit the same data with every optimizer (features scaled) and compare iterations, "
                    "final loss and the distance to the closed-form least-squares solution.",
        epilog="examples:\n  petnet gd compare --plot loss.png --contour path.png\n"
               "  petnet gd compare --no-scale --contour raw_path.png   # raw features: the narrow valley",
        formatter_class=argparse.RawDescriptionHelpFormatter)
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
    cmp_.set_defaults(func=cmd_compare)

    surf = sub.add_parser(
        "surface", help="optimizers on a non-convex function: who escapes the local minimum?",
        description="Run every optimizer from the same start on f(x,y) = x^4 - 2x^2 + 0.4x + y^2/2, "
                    "which has a local minimum near x = 0.95 and the global one near x = -1.05.",
        epilog="example:\n  petnet gd surface --plot surface.png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    surf.add_argument("--steps", type=positive_int, default=500, help="steps per optimizer (default: 500)")
    surf.add_argument("--plot", metavar="OUT.png", help="save the paths over the contour lines")
    surf.add_argument("--show", action="store_true", help="open the plot in a window")
    surf.set_defaults(func=cmd_surface)


def _load(args):
    from petnet.gd.data import example_path, load_xy
    path = args.data or example_path()
    X, y, names = load_xy(path, args.x, args.y)
    return X, y, names, (path if args.data else "bundled example of 16 Portland houses")


def _fit_quietly(model, X, y):
    from petnet.gd.linear import ConvergenceWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y)
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


def cmd_fit(args) -> int:
    from petnet import optim
    from petnet.gd.linear import LinearRegressionGD, DEFAULT_LR
    X, y, names, path = _load(args)
    lr = args.lr
    if args.lr_decay is not None:
        if not 0 < args.lr_decay <= 1:
            from petnet.errors import PetnetError
            raise PetnetError(f"--lr-decay must be in (0, 1], got {args.lr_decay}")
        lr = optim.ExponentialDecay(lr if lr is not None else DEFAULT_LR[args.optimizer], 100, args.lr_decay)
    model = LinearRegressionGD(optimizer=args.optimizer, lr=lr, max_iter=args.max_iter, tol=args.tol,
                               batch_size=args.batch_size, scale=args.scale, degree=args.degree,
                               random_state=args.seed, feature_names=names,
                               n_iter_no_change=args.n_iter_no_change, record_path=False)
    _fit_quietly(model, X, y)  # the report below says plainly whether it converged
    loss = float(model.loss_curve_[-1])
    if args.plot or args.show:
        from petnet.gd.plots import plot_fit
        plot_fit(X, y, model, out=args.plot, show=args.show, names=names, target=args.y)
    if args.json:
        print(json.dumps({"coef": [float(c) for c in model.coef_], "intercept": model.intercept_,
                          "n_iter": int(model.n_iter_), "converged": bool(model.converged_), "loss": loss,
                          "features": model.feature_names_out_, "optimizer": args.optimizer,
                          "lr": model.lr_ if isinstance(model.lr_, float) else repr(model.lr_),
                          "scale": bool(args.scale), "degree": int(args.degree), "n_samples": int(len(y))}))
        return 0
    print(f"data: {path} ({len(y)} samples), {args.y} ~ {', '.join(names)}"
          + (f", degree {args.degree}" if args.degree > 1 else ""))
    print(f"optimizer: {args.optimizer}, learning rate {model.lr_}, "
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


def _lstsq(X, y):
    import numpy as np
    A = np.column_stack([np.ones(len(y)), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    r = A @ theta - y
    return theta, 0.5 * float(r @ r) / len(y)


def cmd_compare(args) -> int:
    import numpy as np
    from petnet import optim
    from petnet.errors import PetnetError
    from petnet.gd.linear import LinearRegressionGD
    X, y, names, path = _load(args)
    ref, min_loss = _lstsq(X, y)
    curves, paths = {}, {}
    print(f"data: {path} ({len(y)} samples), {args.y} ~ {', '.join(names)}; "
          f"{'scaled' if args.scale else 'raw (unscaled)'}; tol {args.tol:g}")
    print(f"least squares (numpy lstsq): a = {np.array2string(ref, precision=6)}, loss {min_loss:.6g}")
    print(f"{'optimizer':<10} {'lr':>7} {'iterations':>10} {'converged':>9} {'final loss':>14} "
          f"{'max rel. error vs lstsq':>24}")
    from petnet.gd.linear import DEFAULT_LR
    notes = [f"{k}: lr = {v!r}" for k, v in DEFAULT_LR.items()
             if k in OPTIMIZER_NAMES and callable(v) and args.scale and args.lr is None]
    for name in OPTIMIZER_NAMES:
        lr = args.lr if args.lr is not None else (None if args.scale else UNSCALED_LR[name])
        if isinstance(lr, tuple):
            lr = optim.StepDecay(lr[1], every=200, factor=0.5)
        model = LinearRegressionGD(name, lr=lr, max_iter=args.max_iter, tol=args.tol, scale=args.scale,
                                   feature_names=names)
        try:
            _fit_quietly(model, X, y)
        except PetnetError as exc:
            print(f"{name:<10} {exc}")
            continue
        got = np.r_[model.intercept_, model.coef_]
        err = np.max(np.abs(got - ref) / np.abs(ref))
        lr = f"{model.lr_:g}" if isinstance(model.lr_, float) else "decay"
        print(f"{name:<10} {lr:>7} {model.n_iter_:>10} {str(model.converged_):>9} "
              f"{model.loss_curve_[-1]:>14.8g} {err:>24.2e}")
        curves[name], paths[name] = model.loss_curve_, model.path_
    for note in notes:
        print(f"  ({note})")
    if args.plot or (args.show and not args.contour):
        from petnet.gd.plots import plot_loss_curves
        plot_loss_curves(curves, out=args.plot, show=args.show, minimum=min_loss,
                         title=f"{args.y} ~ {', '.join(names)} ({'scaled' if args.scale else 'raw features'})")
        if args.plot:
            print(f"loss curves: {args.plot}")
    if args.contour:
        if X.shape[1] != 1:
            raise PetnetError("--contour draws the (a0, a1) plane, so it needs exactly one feature column "
                              f"(got {len(names)}: {', '.join(names)}); use e.g. --x size_sqft")
        from petnet.gd.plots import plot_contour_path
        plot_contour_path(X[:, 0], y, paths, out=args.contour, show=args.show, xname=names[0], solution=ref)
        print(f"(a0, a1) paths: {args.contour}")
    return 0


def cmd_surface(args) -> int:
    from petnet.gd.surfaces import DoubleWell, SURFACE_OPTIMIZERS, START, compare_on_surface
    surface = DoubleWell()
    paths = compare_on_surface(surface, START, args.steps)
    g, l = surface.global_minimum, surface.local_minimum
    print(f"f(x,y) = x^4 - 2x^2 + 0.4x + y^2/2 from {START}, {args.steps} steps; "
          f"global minimum ({g[0]:.4f}, 0) f={surface(*g):.4f}, local minimum ({l[0]:.4f}, 0) f={surface(*l):.4f}")
    print(f"{'optimizer':<10} {'settings':<26} {'end point':>20} {'f(end)':>8}  reached")
    for name, p in paths.items():
        kw = ", ".join(f"{k}={v:g}" for k, v in SURFACE_OPTIMIZERS[name].items())
        end = p[-1]
        print(f"{name:<10} {kw:<26} ({end[0]:>8.4f}, {end[1]:>8.4f}) {surface(*end):>8.4f}  "
              f"{surface.which_minimum(end)} minimum")
    if args.plot or args.show:
        from petnet.gd.plots import plot_surface_paths
        plot_surface_paths(surface, paths, out=args.plot, show=args.show)
        if args.plot:
            print(f"plot: {args.plot}")
    return 0
