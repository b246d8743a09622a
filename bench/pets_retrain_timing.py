"""Cold- and warm-cache ``petnet retrain`` on the shared pet photos (362 photos, 37 breeds), now and before.

    python bench/pets_retrain_timing.py [--rounds 5] [--before REV] [--quick] [--architecture lite2]

cold: empty bottleneck folder (every photo through the backbone, then training); warm: the same
again (features read from the cache: the head, its temperature and the review are trained).
``warm`` is retrain with its calibration (``review=False``, what ``petnet retrain`` runs: the head
and the fold heads of the temperature -- 4 on the shared photos, whose validation and test photos
make up hash fold 0), ``warm + review`` adds the review's 5-fold cross-validation over all photos
(``retrain``'s default, what ``petnet retrain --summaries_dir`` and the web app run; its fold 0 is
trained on exactly the training photos, so it is the returned head and is not trained again).

**Before and after in one run.** Each code version runs in its own worker process: *after* is this
checkout, *before* is the commit ``--before`` (default :data:`BEFORE`, the last one before
``train_heads``) unpacked with ``git archive`` into a temporary folder. Both read the same feature
cache; the workers take turns, run after run (the machine is a busy 2-core box: alternating spreads
the load over both), and the table gives the medians and the ratios of those medians. Each worker
also reports its test accuracy, temperature and review accuracy: the two versions agree to the
last digit (``head.train_heads`` trains each head bit for bit as ``train_head`` did).

``retrain_figures(quick)`` is what ``make bench``'s table calls (quick: < 60 s, this checkout only);
``retrain_timings()`` is the older cold/warm pair (``bench/pets_bench.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))          # this checkout's petnet, whatever is installed

from petnet.paths import shared_data  # noqa: E402

PETS = shared_data("pets", "train")
BEFORE = "6b8680e"     # main before train_heads (fold heads one by one through Model.fit)

WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import petnet
from petnet.pets.retrain import retrain
image_dir, bn, arch, out = sys.argv[2:6]
print(json.dumps({"petnet": petnet.__file__}), flush=True)
for line in sys.stdin:
    review = line.strip() == "review"
    t0 = time.perf_counter()
    r = retrain(image_dir, architecture=arch, bottleneck_dir=bn, review=review)
    r.save(f"{out}/m.npz", f"{out}/labels.txt")
    m = r.metrics
    print(json.dumps({"seconds": time.perf_counter() - t0, "test_accuracy": m.get("test_accuracy"),
                      "test_n": m.get("test_n"), "temperature": float(r.model.temperature),
                      "cv_accuracy": m.get("cv_accuracy")}), flush=True)
"""


class Worker:
    """A process running ``retrain`` of the petnet found in ``code`` on request (stdin: ``cal`` or
    ``review``; stdout: one JSON line per run)."""

    def __init__(self, code: Path, image_dir, bn, arch: str, out: Path):
        out.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, PYTHONPATH=str(code))
        self.p = subprocess.Popen([sys.executable, "-c", WORKER, str(code), str(image_dir), str(bn), arch, str(out)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(code))
        self.petnet = json.loads(self.p.stdout.readline())["petnet"]
        if not Path(self.petnet).resolve().is_relative_to(Path(code).resolve()):
            raise RuntimeError(f"the worker for {code} imported {self.petnet}")

    def run(self, what: str) -> dict:
        self.p.stdin.write(what + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker ({self.petnet}) stopped")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)


def unpack(rev: str, into: Path) -> Path:
    """The tree of commit ``rev`` of this repository, unpacked into ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(image_dir=PETS, architecture: str = "lite2", rounds: int = 5, before: str | None = BEFORE,
            cold: bool = True, warmup: bool = True, bottleneck_dir=None, log=print) -> dict:
    """Medians of warm runs with calibration only (``cal``) and with the review (``review``) for
    this checkout (``after``) and, unless ``before`` is None, commit ``before``; ``cold_s``: the
    first run of this checkout on an empty cache (``cold=False``, e.g. with a ``bottleneck_dir``
    that may already hold the features: None). Returns ``{"after": {...}, "before": {...}, ...}``."""
    with tempfile.TemporaryDirectory(prefix="petnet-retrain-timing-") as tmp:
        tmp = Path(tmp)
        bn = Path(bottleneck_dir).expanduser() if bottleneck_dir else tmp / "bn"
        workers = {"after": Worker(ROOT, image_dir, bn, architecture, tmp / "out-after")}
        out = {"rounds": rounds, "architecture": architecture, "machine": machine()}
        try:
            t0 = time.perf_counter()
            first = workers["after"].run("cal")          # fills the feature cache
            out["cold_s"] = round(time.perf_counter() - t0, 2) if cold else None
            if cold:
                log(f"cold (features + training, calibration): {first['seconds']:.1f} s")
            if before:
                workers["before"] = Worker(unpack(before, tmp / "before"), image_dir, bn, architecture,
                                           tmp / "out-before")
            if warmup:                                   # one more untimed warm run each (imports, caches)
                for w in workers.values():
                    w.run("cal")
            elif "before" in workers:
                workers["before"].run("cal")
            runs = {(name, what): [] for name in workers for what in ("cal", "review")}
            for k in range(rounds):
                order = list(workers) if k % 2 == 0 else list(workers)[::-1]
                for what in ("cal", "review"):
                    for name in order:
                        r = workers[name].run(what)
                        runs[name, what].append(r)
                        log(f"round {k + 1}: {name:6s} {what:6s} {r['seconds']:.2f} s  test accuracy "
                            f"{r['test_accuracy']:.4f}  T {r['temperature']:.4f}")
        finally:
            for w in workers.values():
                w.close()
    for name in workers:
        cal, rev = runs[name, "cal"], runs[name, "review"]
        out[name] = {"warm_s": round(statistics.median(r["seconds"] for r in cal), 2),
                     "warm_review_s": round(statistics.median(r["seconds"] for r in rev), 2),
                     "test_accuracy": cal[-1]["test_accuracy"], "test_n": cal[-1]["test_n"],
                     "temperature": cal[-1]["temperature"], "cv_accuracy": rev[-1]["cv_accuracy"],
                     "same_every_run": len({(r["test_accuracy"], r["temperature"]) for r in cal + rev}) == 1}
    if "before" in out:
        out["speedup_warm"] = round(out["before"]["warm_s"] / out["after"]["warm_s"], 2)
        out["speedup_warm_review"] = round(out["before"]["warm_review_s"] / out["after"]["warm_review_s"], 2)
    return out


def machine() -> str:
    import platform
    try:
        load = ", load %.1f" % os.getloadavg()[0]
    except OSError:
        load = ""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores{load}"


def retrain_figures(quick: bool = True) -> dict:
    """The retrain row of ``make bench``: ``{"warm_s", "warm_review_s", "cold_s", "test_accuracy",
    "temperature", ...}`` of this checkout (medians). ``quick`` (about 30 s where the features are
    cached, under a minute on a busy 2-core machine): 2 rounds, no *before*, the features from
    petnet's usual cache (``~/.cache/petnet/bottlenecks``, computed once if missing) and
    ``cold_s`` None; otherwise an empty cache (``cold_s``), 5 rounds and the *before* commit, with
    ``before_warm_s``, ``before_warm_review_s``, the speedups and ``same_results``."""
    if quick:
        from petnet.pets.bottleneck import default_bottleneck_dir
        m = measure(rounds=2, before=None, cold=False, warmup=False, bottleneck_dir=default_bottleneck_dir(),
                    log=lambda line: None)
    else:
        m = measure(rounds=5, before=BEFORE, log=lambda line: None)
    fig = {"cold_s": m["cold_s"], **{k: m["after"][k] for k in ("warm_s", "warm_review_s", "test_accuracy",
                                                                  "test_n", "temperature", "cv_accuracy")},
           "machine": m["machine"], "rounds": m["rounds"]}
    if "before" in m:
        fig.update(before_warm_s=m["before"]["warm_s"], before_warm_review_s=m["before"]["warm_review_s"],
                   speedup_warm=m["speedup_warm"], speedup_warm_review=m["speedup_warm_review"],
                   same_results=(m["before"]["test_accuracy"], m["before"]["temperature"])
                   == (m["after"]["test_accuracy"], m["after"]["temperature"]))
        fig.update(before_test_accuracy=m["before"]["test_accuracy"], before_temperature=m["before"]["temperature"])
    return fig


def retrain_timings(image_dir=PETS, architecture: str = "lite2", steps: int | None = None) -> dict:
    """Seconds of a cold-cache and a warm-cache retrain + save (defaults of ``retrain``)."""
    from petnet.pets.retrain import retrain
    with tempfile.TemporaryDirectory(prefix="petnet-timing-") as tmp:
        kw = dict(architecture=architecture, bottleneck_dir=f"{tmp}/bn")
        if steps:
            kw["max_iter"] = steps
        out = {}
        for name in ("cold", "warm"):
            t0 = time.perf_counter()
            r = retrain(image_dir, **kw)
            r.save(f"{tmp}/m.npz", f"{tmp}/labels.txt")
            out[f"{name}_s"] = round(time.perf_counter() - t0, 2)
            m = r.metrics
            out[f"{name}_test_line"] = (f"Final test accuracy = {100 * m['test_accuracy']:.1f}% (N={m['test_n']})"
                                        if "test_accuracy" in m else "no test photos")
        out.update(architecture=architecture, images=362 if Path(image_dir) == PETS else None,
                   speedup_warm=round(out["cold_s"] / out["warm_s"], 1))
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image_dir", default=str(PETS))
    ap.add_argument("--architecture", default="lite2")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs of each kind and version (medians)")
    ap.add_argument("--before", default=BEFORE, help="the commit to compare with ('' for none)")
    ap.add_argument("--quick", action="store_true", help="retrain_figures(quick=True): this checkout, 2 rounds")
    args = ap.parse_args(argv)
    if args.quick:
        print(json.dumps(retrain_figures(quick=True), indent=1))
        return
    m = measure(args.image_dir, args.architecture, args.rounds, args.before or None)
    a, b = m["after"], m.get("before")
    print(f"\nretrain ({m['architecture']}, {args.image_dir}), medians of {m['rounds']} alternating runs; "
          f"machine: {m['machine']}")
    print("| warm retrain | " + (f"before ({args.before}) | " if b else "") + "now | " + ("ratio |" if b else ""))
    print("|---|" + ("---:|" * (3 if b else 1)))
    for key, what in (("warm_s", "with calibration (`petnet retrain`), s"),
                      ("warm_review_s", "with the review (`--summaries_dir`, the web app), s")):
        print(f"| {what} | " + (f"{b[key]:.2f} | " if b else "") + f"{a[key]:.2f} |"
              + (f" {b[key] / a[key]:.2f}x |" if b else ""))
    for key, fmt in (("test_accuracy", "{:.4f}"), ("temperature", "{:.4f}"), ("cv_accuracy", "{:.4f}")):
        print(f"| {key} | " + (fmt.format(b[key]) + " | " if b else "") + fmt.format(a[key]) + " |" + (" |" if b else ""))
    print(f"cold cache (features + training, calibration): {m['cold_s']:.1f} s")
    if b:
        print("same test accuracy and temperature before and after: "
              f"{(a['test_accuracy'], a['temperature']) == (b['test_accuracy'], b['temperature'])}")


if __name__ == "__main__":
    main()
