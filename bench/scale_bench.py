"""Bulk recognition: the local path against Ray with 1 and 2 workers, in one run, on this machine.

    python bench/scale_bench.py [--images 96] [--arch lite2]

Prints images/s of each, the ratios, and the per-image cost (CPU core-seconds per photo, decode +
preprocess + backbone + head) that docs/scale.md uses for its 10-million-photo estimate. Photos
come from ../shared/data/pets/train (``$PETNET_SHARED``), repeated if fewer than ``--images``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from petnet.paths import shared_data  # noqa: E402


def photos(n: int, folder: Path) -> list[str]:
    src = sorted(shared_data("pets", "train").glob("*/*.jpg"))
    if not src:
        sys.exit(f"no photos under {shared_data('pets', 'train')} (set PETNET_SHARED)")
    out = []
    for i in range(n):   # distinct file names, so resumable runs do not mistake copies for done
        p = folder / f"{i:05d}_{src[i % len(src)].name}"
        shutil.copyfile(src[i % len(src)], p)
        out.append(str(p))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--arch", default="lite2")
    args = ap.parse_args()
    import ray

    from petnet.pets import Recognizer
    from petnet.scale.bulk import bulk_predict
    from petnet.scale.cluster import local_runtime_env

    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        paths = photos(args.images, tmp / "in")
        model = "imagenet" if args.arch != "lite2" else None
        rec = Recognizer(model, architecture=args.arch)
        rec.predict(paths[:8])                       # warm-up: ONNX session and its cache
        t = time.perf_counter()
        local = rec.predict(paths)
        local_s = time.perf_counter() - t
        rows = [("local: Recognizer.predict, one process, " f"{cores} threads", args.images / local_s)]
        starts = []
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 runtime_env=local_runtime_env())
        try:
            for w in (1, 2):
                bulk_predict(paths[:8], tmp / f"warm{w}.jsonl", workers=w, model=model,
                             architecture=args.arch)         # warm-up (actor start, ONNX cache)
                res = bulk_predict(paths, tmp / f"r{w}.jsonl", workers=w, model=model,
                                   architecture=args.arch, batch_size=16)
                rows.append((f"Ray Data, {w} worker(s), 1 thread each", res.steady_images_per_second))
                starts.append(res.startup_seconds)
        finally:
            ray.shutdown()
    assert all(p.error is None for p in local)
    base = rows[1][1]
    print(f"{args.images} photos, EfficientNet-{args.arch}, {cores} cores (times include JPEG decoding)\n")
    print("| path | img/s | vs Ray 1 worker |")
    print("|---|---:|---:|")
    for name, ips in rows:
        print(f"| {name} | {ips:.1f} | {ips / base:.2f}x |")
    per_image = 1.0 / base            # one worker = one core
    print(f"\nRay rows: steady state, after the first batch came back (start-up: "
          f"{', '.join(f'{t:.1f}' for t in starts)} s for 1 and 2 workers: cluster, actors, models)")
    print(f"\nper-image cost: {per_image * 1000:.1f} ms of one core (decode + preprocess + backbone + head)")
    print(f"10 million photos: {1e7 * per_image / 3600:,.0f} core-hours")


if __name__ == "__main__":
    main()
