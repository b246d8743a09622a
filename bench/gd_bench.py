"""Chapter 2 benchmark: why scaling and better optimizers matter, and why vectorise.

Prints, in one run, on the Portland housing data (../shared/data/housing/portland_housing.csv):

1. iterations until |previous_loss - loss| < tol for every optimizer, with and without feature
   scaling (unscaled: of the learning rates 1e6, 1e5, ..., 1e-12 the one that converges in the fewest
   iterations, or else the largest that does not diverge);
2. time per iteration of the vectorised fit vs the talk's per-sample loop (same process, ratio).

    .venv/bin/python bench/gd_bench.py [--tol 1e-4] [--max-iter 20000]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from petnet.paths import shared_data  # noqa: E402  (after the sys.path line)

from petnet.errors import PetnetError  # noqa: E402
from petnet.gd import LinearRegressionGD, load_xy  # noqa: E402
from petnet import optim  # noqa: E402
from petnet.gd.linear import DEFAULT_LR, talk_order  # noqa: E402
from petnet.gd.loop_reference import gradient_descent  # noqa: E402
from _report import add_json_flag, write_json  # noqa: E402  (bench/ is on sys.path when run)

OPTIMIZERS = talk_order(optim.OPTIMIZERS.names())
DATA = shared_data("housing", "portland_housing.csv")


def fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LinearRegressionGD(record_path=False, **kw).fit(X, y)


def rel_error(model, ref):
    return np.max(np.abs(np.r_[model.intercept_, model.coef_] - ref) / np.abs(ref))


def iterations_table(X, y, names, tol, max_iter):
    ref = np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0]
    print(f"\n## iterations to |previous_loss - loss| < {tol:g}   ({' + '.join(names)}, {len(y)} houses, "
          f"max {max_iter} iterations)\n")
    print("| optimizer | scaled: lr | iterations | rel. error vs lstsq | unscaled: lr | iterations | "
          "rel. error vs lstsq |")
    print("|---|---|---:|---:|---|---:|---:|")
    for name in OPTIMIZERS:
        lr = DEFAULT_LR[name]
        m = fit(X, y, optimizer=name, tol=tol, max_iter=max_iter)
        scaled = (f"{lr:g}" if isinstance(lr, float) else "0.01, halved every 200",
                  f"{m.n_iter_}" if m.converged_ else f"not converged ({m.n_iter_})", f"{rel_error(m, ref):.1e}")
        # unscaled: every learning rate 1e6 ... 1e-12; keep the one that converges in the fewest
        # iterations, or else the largest one that does not diverge
        best = None
        for k in range(6, -13, -1):
            try:
                m = fit(X, y, optimizer=name, learning_rate=10.0 ** k, scale=False, tol=tol, max_iter=max_iter)
            except PetnetError:
                continue
            key = (not m.converged_, m.n_iter_ if m.converged_ else 0)
            if best is None or key < best[0]:
                best = (key, k, m)
            if not m.converged_ and best[2].converged_ is False:
                break  # smaller rates only get slower
        unscaled = ("all diverge", "-", "-")
        if best is not None:
            _, k, m = best
            unscaled = (f"1e{k}", f"{m.n_iter_}" if m.converged_ else f"not converged ({m.n_iter_})",
                        f"{rel_error(m, ref):.1e}")
        print(f"| {name} | {' | '.join(scaled)} | {' | '.join(unscaled)} |")


def best_time(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def timing_table(X, y):
    rows = []
    print("\n## time per iteration: vectorised NumPy fit vs the talk's per-sample Python loop\n")
    print("| samples x features | loop (talk) | vectorised | speed-up |")
    print("|---|---:|---:|---:|")
    for copies in (1, 100):
        Xr, yr = np.tile(X, (copies, 1)), np.tile(y, copies)
        A = np.column_stack([np.ones(len(yr)), Xr]).tolist()
        labels = yr.tolist()
        it_loop = max(20, 2000 // copies)
        it_vec = 2000
        t_loop = best_time(lambda: gradient_descent(A, labels, learning_rate=1e-9,
                                                    max_iterations=it_loop, tolerance=0.0)) / it_loop
        t_vec = best_time(lambda: fit(Xr, yr, optimizer="gd", learning_rate=1e-9, scale=False, tol=0.0,
                                      max_iter=it_vec)) / it_vec
        print(f"| {len(yr)} x {X.shape[1]} | {t_loop * 1e6:.1f} µs | {t_vec * 1e6:.1f} µs | "
              f"{t_loop / t_vec:.0f}x |")
        rows.append({"samples": len(yr), "features": X.shape[1], "loop_us": t_loop * 1e6,
                     "vectorised_us": t_vec * 1e6, "speedup": t_loop / t_vec})
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tol", type=float, default=1e-4, help="tolerance on the loss change (default 1e-4)")
    p.add_argument("--max-iter", type=int, default=20_000, help="iteration limit (default 20000)")
    p.add_argument("--timing-only", action="store_true", help="only the time per iteration table")
    add_json_flag(p)
    args = p.parse_args(argv)
    if not DATA.exists():
        raise SystemExit(f"real data {DATA} is missing (it lives in ../shared/data beside the project)")
    X, y, names = load_xy(DATA, "size_sqft,bedrooms", "price_usd")
    print(f"numpy {np.__version__}, data {DATA.name}")
    if not args.timing_only:
        iterations_table(X[:, :1], y, names[:1], args.tol, args.max_iter)
        iterations_table(X, y, names, args.tol, args.max_iter)
    write_json(args.json, {"timing": timing_table(X, y)})


if __name__ == "__main__":
    main()
