"""``petnet gd ...``: chapter 2 on the command line.

* ``petnet gd fit``      -- fit house prices by gradient descent (the issue's CLI)
* ``petnet gd compare``  -- every optimizer on the same data: table, loss curves, (a0, a1) paths
* ``petnet gd surface``  -- optimizers on a non-convex function with a local minimum
* ``petnet gd losses``   -- the talk's loss catalogue, value and gradient, printed and plotted
* ``petnet gd field``    -- the gradient as a vector field over the loss, with the descent path
* ``petnet gd talk``     -- the talk's own settings (lr 0.01, 1000 iterations, tol 1e-4, k = 100) run
"""

from __future__ import annotations

import argparse
import json
import warnings

from petnet import optim
from petnet.cliutil import add_command, add_group, nonneg_int, number, positive_int
from petnet.output_guard import Output

PLOT = Output("plot", "picture")

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
               "'petnet gd losses --help', 'petnet gd field --help' or 'petnet gd talk --help'.")

    fit = add_command(
        sub, "fit", cmd_fit, inputs=("data",), outputs=(PLOT,), help="fit y = a0 + a1*x (+ ...) by gradient descent",
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
        sub, "compare", cmd_compare, inputs=("data",), outputs=(PLOT, Output("contour", "picture")),
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
        sub, "surface", cmd_surface, inputs=(), outputs=(PLOT,),
        help="optimizers on a non-convex function: who escapes the local minimum?",
        description="Run every optimizer from the same start on f(x,y) = x^4 - 2x^2 + 0.4x + y^2/2, "
                    "which has a local minimum near x = 0.95 and the global one near x = -1.05.",
        epilog="example:\n  petnet gd surface --plot surface.png", params={"n_steps": "steps"})
    surf.add_argument("--steps", type=positive_int, default=500,
                      help="steps per optimizer (default: 500, at most 100000)")
    surf.add_argument("--plot", metavar="OUT.png", help="save the paths over the contour lines")
    surf.add_argument("--show", action="store_true", help="open the plot in a window")

    loss = add_command(
        sub, "losses", cmd_losses, inputs=(), outputs=(PLOT,), help="the talk's loss catalogue: value and gradient, printed and plotted",
        description="Print every loss of petnet.gd.losses (the talk's catalogue plus Huber) with its value "
                    "and gradient for one sample at a few points, and plot them.",
        epilog="example:\n  petnet gd losses --plot losses.png")
    loss.add_argument("--plot", metavar="OUT.png", help="save the value and gradient curves")
    loss.add_argument("--show", action="store_true", help="open the plot in a window")

    field = add_command(
        sub, "field", cmd_field, inputs=("data",), outputs=(PLOT,), help="the gradient as a vector field over the loss, with the descent path",
        description="Talk 2.1.1: arrows of -grad L over the (a0, a1) plane of the house-price loss (area and "
                    "price standardised), and plain gradient descent from the talk's a0 = a1 = 1 on top.",
        epilog="example:\n  petnet gd field --plot field.png", params={"learning_rate": "lr", "n_steps": "steps"})
    _add_data_args(field)
    field.add_argument("--lr", type=number, default=0.1, help="learning rate of the path (default: 0.1)")
    field.add_argument("--steps", type=positive_int, default=30, help="steps of the path (default: 30)")
    field.add_argument("--grid", type=positive_int, default=15,
                       help="arrows per side of the plotted lattice (default: 15, at most 101)")
    field.add_argument("--plot", metavar="OUT.png", help="save the arrows, contours and path")
    field.add_argument("--show", action="store_true", help="open the plot in a window")

    talk = add_command(
        sub, "talk", cmd_talk, inputs=("data",), outputs=(PLOT,),
        help="the talk's own settings run as given: lr 0.01, 1000 iterations, tol 1e-4, k = 100",
        description="Run the talk's gradient descent with its own settings (2.2.4: learning rate 0.01, "
                    "1000 iterations, tolerance 1e-4; 2.2.3: k = 100 iterations) on raw and on standardised "
                    "data, and explain what happens from the eigenvalues of A^T A / N.",
        epilog="example:\n  petnet gd talk --plot talk.png", params={"learning_rate": "lr"})
    _add_data_args(talk)
    talk.add_argument("--lr", type=number, default=0.01, help="learning rate (default: the talk's 0.01)")
    talk.add_argument("--max-iter", type=positive_int, default=1000, help="budget (default: the talk's 1000)")
    talk.add_argument("--tol", type=number, default=1e-4, help="tolerance (default: the talk's 1e-4)")
    talk.add_argument("--k", type=positive_int, default=100,
                      help="the other budget (default: the talk's k = 100)")
    talk.add_argument("--plot", metavar="OUT.png", help="save the loss curves of both runs")
    talk.add_argument("--show", action="store_true", help="open the plot in a window")


def _load(args):
    """The table (its outputs were checked by the output guard before the command ran)."""
    from petnet.gd.data import example_path, load_xy
    from petnet.safe_io import printable
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
    from petnet.cliutil import flag_for
    from petnet.errors import ParamError, PetnetError
    from petnet.gd.compare import compare
    from petnet.gd.errors import AdviceError
    X, y, names, path = _load(args)
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


def cmd_field(args) -> int:
    import numpy as np
    from petnet.gd.field import gradient_field, plot_gradient_field
    X, y, names, path = _load(args)
    f = gradient_field(X, y, learning_rate=args.lr, n_steps=args.steps, grid=args.grid)
    lf = f.loss_function
    print(f"data: {path} ({len(y)} samples), {args.y} ~ {names[0]}, both standardised")
    print("loss L(a0, a1) = mean((a0 + a1*z - t)^2)/2; Hessian A^T A/N = identity, so -grad L points "
          "straight at the minimum")
    a0_min, a1_min = (round(float(v), 10) + 0.0 for v in f.minimum)     # no "-0.0000"
    print(f"least squares: (a0, a1) = ({a0_min:.4f}, {a1_min:.4f}), L = {lf(*f.minimum):.6f}")
    print(f"gradient descent, lr {f.learning_rate:g}, from the talk's a0 = a1 = 1 (dollars, sqft):")
    print(f"{'step':>5} {'a0':>9} {'a1':>9} {'L':>10} {'|grad L|':>10}   {'intercept $':>12} {'$/sqft':>9}")
    n = len(f.path) - 1
    for k in sorted({0, 1, 2, 5, 10, 20, n} & set(range(n + 1))):
        a0, a1 = f.path[k]
        g = float(np.hypot(*lf.gradient(a0, a1)))
        orig = lf.to_original(f.path[k])
        print(f"{k:>5} {a0:>9.4f} {a1:>9.4f} {f.path_loss[k]:>10.6f} {g:>10.6f}   "
              f"{orig[0]:>12.1f} {orig[1]:>9.3f}")
    print(f"each step multiplies the distance to the minimum by {f.contraction:.6f} (= 1 - lr)")
    if args.plot or args.show:
        plot_gradient_field(f, out=args.plot, show=args.show)
        if args.plot:
            print(f"plot: {args.plot}")
    return 0


def cmd_talk(args) -> int:
    from petnet.gd.talk_settings import plot_talk_settings, talk_settings
    X, y, names, path = _load(args)
    r = talk_settings(X, y, learning_rate=args.lr, max_iter=args.max_iter, tol=args.tol, k=args.k,
                      feature_names=names)
    print(f"data: {path} ({len(y)} samples), {args.y} ~ {', '.join(names)}")
    print(f"the talk's settings: learning rate {r.learning_rate:g}, max_iterations {r.max_iter}, "
          f"tolerance {r.tol:g}, k = {r.k} (2.2.3: \"run k = 100 iterations until it converges, otherwise "
          "it failed\"); start a0 = a1 = 1; loss MSE/2 in dollars^2")
    for run in (r.raw, r.scaled):
        print()
        print(f"{'standardised' if run.scaled else 'raw'} data: eigenvalues of A^T A/N "
              + ", ".join(f"{v:.4g}" for v in run.eigenvalues)
              + f"; condition number {run.condition_number:.3g}; stable only for lr < 2/lambda_max = "
              f"{run.stable_below:.3g}")
        print(f"  per step the error is multiplied by |1 - lr*lambda| <= {run.slowest_factor:.6g}")
        if run.diverges:
            times = run.learning_rate / run.stable_below
            print(f"  DIVERGES: lr {run.learning_rate:g} is {times:.4g} times the "
                  f"limit; the loss grows x{run.factor ** 2:.3g} per step "
                  f"({run.loss_curve[0]:.4g} -> {run.loss_curve[1]:.4g} -> {run.loss_curve[2]:.4g} ...)"
                  + (f" and is inf after {run.overflow_at} steps" if run.overflow_at else ""))
        for b in r.budgets:
            if run.theta_at[b] is None:
                print(f"  after {b:>4} iterations: overflowed (inf), not converged")
                continue
            coef = ", ".join(f"{c:.6g}" for c in run.theta_at[b])
            state = "converged" if run.converged_within(b) else "NOT converged"
            print(f"  after {b:>4} iterations: {state}, loss {run.loss_at(b):.10g} "
                  f"({run.loss_at(b) - run.min_loss:.3g} above the minimum), (a0, a1, ...) = ({coef})")
        if run.iterations_needed is not None:
            print(f"  converges after {run.iterations_needed} iterations")
        else:
            print("  never converges with this learning rate" if run.diverges else
                  f"  not converged within {len(run.loss_curve) - 1} iterations")
    lst = ", ".join(f"{c:.6g}" for c in r.scaled.lstsq)
    print(f"\nleast squares (numpy lstsq): (a0, a1, ...) = ({lst}), loss {r.scaled.min_loss:.6g}")
    print("why: each step multiplies the error along each eigenvector of A^T A/N by 1 - lr*lambda:")
    for run in (r.raw, r.scaled):
        what = "standardised" if run.scaled else "raw"
        if run.diverges:
            print(f"  {what}: lr*lambda_max = {run.learning_rate * run.lam_max:.4g} > 2, so every step "
                  "multiplies "
                  f"the error by {run.factor:.4g} instead of shrinking it")
        else:
            print(f"  {what}: the error shrinks by at most x{run.slowest_factor:.6g} per step, "
                  "the loss change "
                  f"falls below {r.tol:g} only after {run.iterations_needed} steps")
    if args.plot or args.show:
        plot_talk_settings(r, out=args.plot, show=args.show)
        if args.plot:
            print(f"plot: {args.plot}")
    return 0
