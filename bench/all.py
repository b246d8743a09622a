"""``make bench``: the project's benchmarks in one run, one table, every figure beside its reference.

    .venv/bin/python bench/all.py            # about 5-10 minutes on 2 cores
    .venv/bin/python bench/all.py --quick    # smaller samples, about 2-3 minutes
    .venv/bin/python bench/all.py --only gd,filters --json figures.json

Each section runs in its own process (so thread settings and memory do not leak from one to the
next) and hands its key figures back as JSON (``--json`` of each ``bench/*.py``); the table shows,
per figure, petnet's number, the reference measured **in the same process at the same moments**
(interleaved where the bench does so) and their ratio, so a busy machine moves both alike. The
machine line says what it ran on: CPU model, usable cores, load average before and after, and the
versions that matter.

Sections (``--only``): ``predict`` (photos/s of ``Recognizer.predict`` at fp32 and int8, breed top-1
and open-world rates: ``bench/pets_int8.py``), ``retrain`` (warm ``petnet retrain``:
``bench/pets_retrain_timing.py``), ``serve`` (``petnet serve`` under load against offline
prediction: ``bench/serve_bench.py``), ``engine`` (a training step of the NumPy engine against
PyTorch: ``bench/nn_bench.py``), ``gd`` (vectorised gradient descent against the talk's loop:
``bench/gd_bench.py``), ``filters`` (petnet's filters against OpenCV: ``bench/filters_bench.py``).
A section whose data (``../shared``) or optional package is missing is listed as skipped, with why.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _child(cmd: list[str], what: str, env: dict | None, timeout: float) -> dict:
    """Run ``cmd`` (whose last argument is the JSON file it writes) in ``ROOT``; the figures it wrote,
    or ``{"skipped": why}`` with the last line it printed."""
    with tempfile.TemporaryDirectory(prefix="petnet-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        proc = subprocess.run([*cmd, str(out)], cwd=ROOT, env=dict(os.environ, **(env or {})),
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not out.exists():
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"skipped": f"{what} exited {proc.returncode}: {last[0][:160]}"}
        return json.loads(out.read_text())


def run_script(script: str, args: list[str], env: dict | None = None, timeout: float = 1800) -> dict:
    """Run ``bench/<script> <args> --json TMP`` in a child process; its figures, or ``{"skipped": why}``."""
    return _child([sys.executable, str(BENCH / script), *args, "--json"], script, env, timeout)


def run_function(module: str, function: str, quick: bool, env: dict | None = None, timeout: float = 1800) -> dict:
    """Call ``bench/<module>.py: <function>(quick=...)`` in a child process; its dict, or ``{"skipped": why}``."""
    code = ("import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
            f"from {module} import {function} as f; "
            "json.dump(f(quick=sys.argv[3] == '1'), open(sys.argv[4], 'w'), default=float)")
    return _child([sys.executable, "-c", code, str(ROOT), str(BENCH), "1" if quick else "0"],
                  f"{module}.{function}", env, timeout)


def shared_missing() -> str | None:
    from petnet.paths import shared_dir
    d = shared_dir()
    return None if (d / "data").is_dir() else f"no shared data at {d} (set PETNET_SHARED)"


# ---------------------------------------------------------------------------------------- sections
# each returns rows (section, figure, petnet, reference, ratio) or a skip reason

def _pct(x) -> str:
    return "" if x is None else f"{100 * float(x):.1f}%"


def section_predict(quick: bool):
    if (why := shared_missing()):
        return why
    f = run_function("pets_int8", "int8_figures", quick, env=ONE_THREAD)
    if "skipped" in f:
        return f["skipped"]
    rows = []
    for arch, a in f.items():
        if not isinstance(a, dict) or "fp32_photos_s" not in a:
            continue
        rows.append(("predict", f"{arch}: photos/s end to end (decoding included), int8 vs fp32",
                     f"{a['int8_photos_s']:.1f}", f"{a['fp32_photos_s']:.1f}",
                     f"{a['int8_photos_s'] / a['fp32_photos_s']:.2f}x"))
        for key, what in (("top1", "breed top-1"), ("species", "species right"), ("accept", "cats/dogs accepted"),
                          ("reject", "non-pets rejected")):
            if f"int8_{key}" in a and f"fp32_{key}" in a:
                n = a.get(f"n_{key}")
                rows.append(("predict", f"{arch}: {what}" + (f" (n={n})" if n else "") + ", int8 vs fp32",
                             _pct(a[f"int8_{key}"]), _pct(a[f"fp32_{key}"]),
                             f"{100 * (a[f'int8_{key}'] - a[f'fp32_{key}']):+.1f} pt"))
    return rows or "pets_int8.int8_figures returned no architecture"


def section_retrain(quick: bool):
    if (why := shared_missing()):
        return why
    f = run_function("pets_retrain_timing", "retrain_figures", quick, env=ONE_THREAD)
    if "skipped" in f:
        return f["skipped"]
    rows = []
    for key, what in (("warm_s", "warm retrain with calibration, s"),
                      ("warm_review_s", "warm retrain with the review, s")):
        if key in f:
            ref = f.get(f"before_{key}")
            rows.append(("retrain", what + (" (new vs the old per-fold code)" if ref else ""), f"{f[key]:.2f}",
                         f"{ref:.2f}" if ref else "", f"{ref / f[key]:.1f}x faster" if ref else ""))
    if "test_accuracy" in f:
        ref = f.get("before_test_accuracy")
        rows.append(("retrain", "test accuracy (new vs old code)", _pct(f["test_accuracy"]), _pct(ref),
                     "" if ref is None else f"{100 * (f['test_accuracy'] - ref):+.1f} pt"))
    if "temperature" in f:
        ref = f.get("before_temperature")
        rows.append(("retrain", "temperature (new vs old code)", f"{f['temperature']:.4f}",
                     "" if ref is None else f"{ref:.4f}", "" if ref is None else f"{f['temperature'] - ref:+.4f}"))
    return rows


def section_serve(quick: bool):
    if (why := shared_missing()):
        return why
    try:
        import fastapi  # noqa: F401
    except ImportError:
        return "petnet[serve] is not installed"
    args = (["--small", "8", "--stage", "64", "--rounds", "1", "--requests", "1", "--images", "16"] if quick
            else ["--small", "32", "--stage", "128", "--rounds", "3", "--requests", "1"])
    f = run_script("serve_bench.py", args)
    if "skipped" in f:
        return f["skipped"]
    rows = []
    for s in f["stages"]:
        rows.append(("serve", f"photos/s at concurrency {s['conc']} (p50 {s['p50']:.0f} ms, p99 {s['p99']:.0f} ms) "
                              f"vs offline predict", f"{s['per_s']:.1f}", f"{s['offline']:.1f}",
                     f"{s['per_s'] / s['offline']:.2f}x"))
    return rows


def section_engine(quick: bool):
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch is not installed"
    args = ["--threads", "1", "--steps", "5" if quick else "20", "--rounds", "1" if quick else "3"]
    f = run_script("nn_bench.py", args)
    if "skipped" in f:
        return f["skipped"]
    return [("engine", f"MNIST CNN training step, batch {f['batch']}, 1 thread, ms (NumPy engine vs PyTorch)",
             f"{f['petnet_ms']:.1f}", f"{f['torch_ms']:.1f}", f"{f['ratio_wall']:.2f}x the time")]


def section_gd(quick: bool):
    if (why := shared_missing()):
        return why
    f = run_script("gd_bench.py", ["--timing-only"], env=ONE_THREAD)
    if "skipped" in f:
        return f["skipped"]
    return [("gd", f"one iteration, {r['samples']} x {r['features']}, µs (vectorised vs the talk's loop)",
             f"{r['vectorised_us']:.1f}", f"{r['loop_us']:.1f}", f"{r['speedup']:.0f}x faster") for r in f["timing"]]


def section_filters(quick: bool):
    try:
        import cv2  # noqa: F401
    except ImportError:
        return "opencv-python-headless is not installed"
    f = run_script("filters_bench.py", ["--size", "512" if quick else "1024", "--repeat", "2" if quick else "5"],
                   env=ONE_THREAD)
    if "skipped" in f:
        return f["skipped"]
    return [("filters", f"{r['filter']}, ms/MP, {f['size']}² (petnet vs OpenCV; max diff {r['max_abs_diff']:.0e})",
             f"{r['petnet_ms_per_mp']:.1f}", f"{r['opencv_ms_per_mp']:.2f}", f"{r['ratio']:.1f}x the time")
            for r in f["filters"]]


SECTIONS = {"predict": section_predict, "retrain": section_retrain, "serve": section_serve,
            "engine": section_engine, "gd": section_gd, "filters": section_filters}


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("numpy", "torch", "onnxruntime", "cv2"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return {"cpu": model, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(), "versions": versions}


def table(results: dict) -> str:
    lines = ["| section | figure | petnet | reference | ratio |", "|---|---|---:|---:|---:|"]
    for name, rows in results.items():
        if isinstance(rows, str):
            lines.append(f"| {name} | skipped: {rows} | | | |")
            continue
        lines += [f"| {s} | {what} | {a} | {b} | {r} |" for s, what, a, b, r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller samples (a few minutes)")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections (default: all)")
    ap.add_argument("--json", metavar="PATH", help="also write every figure and the machine as JSON")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in names if s not in SECTIONS]
    if unknown or not names:
        ap.error(f"--only: unknown section {', '.join(unknown) or '(none)'}; choose from {', '.join(SECTIONS)}")
    m = machine()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = {}
    for name in names:
        print(f"[{len(results) + 1}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
        results[name] = SECTIONS[name](args.quick)
    m.update(load_average=[round(load0, 1), round(os.getloadavg()[0], 1)], seconds=round(time.perf_counter() - t0))
    print(f"machine: {m['cpu']}, {m['cores']} usable cores, load average {m['load_average'][0]} before, "
          f"{m['load_average'][1]} after; Python {m['python']}, "
          + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
          + f"; {m['seconds']} s{' (--quick)' if args.quick else ''}\n")
    print(table(results))
    if args.json:
        from _report import write_json
        write_json(args.json, {"machine": m, "quick": args.quick,
                               "results": {k: v if isinstance(v, str) else [list(r) for r in v]
                                           for k, v in results.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
