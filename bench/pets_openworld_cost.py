"""What the open-world decision costs: ``Recognizer().predict`` with the learned scorer of round 2
(issue 21, :mod:`petnet.pets.petness`) against the same recognizer with the ImageNet-mass rule of
issue 10 (the scorer switched off), in one process, interleaved, best of ``--reps``.

Prints photos per second (JPEG decoding included) and the backbone views computed per photo on
everyday cats and dogs (``catdog``), Oxford pets and non-pets, and the ratio new / old.

    OPENBLAS_NUM_THREADS=1 python bench/pets_openworld_cost.py --photos 60 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def photos_of(data, n):
    sets = {"catdog": sorted((data / "catdog").rglob("*.jpg")),
            "pets": sorted((data / "pets" / "train").rglob("*.jpg")),
            "non-pets": sorted((data / "nonpet").rglob("*.jpg")) + sorted((data / "imagenet_nonpet").glob("*.jpg"))}
    return {k: [str(p) for p in v[::max(1, len(v) // n)][:n]] for k, v in sets.items()}


class Counting:
    """A backbone wrapper counting the views it computes."""

    def __init__(self, bb):
        self.bb, self.views = bb, 0

    def __getattr__(self, name):
        return getattr(self.bb, name)

    def features(self, x):
        self.views += len(x)
        return self.bb.features(x)


def main(argv=None) -> int:
    import petnet.pets.petness as petness
    from petnet.pets import Recognizer
    from petnet.pets.backbone import Backbone
    from petnet.paths import shared_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=60, help="photos per data set (default %(default)s)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    sets = photos_of(shared_data(), args.photos)
    bb = Backbone("lite2", threads=args.threads)
    real_head = petness.openworld_head

    def run(rule, paths):
        petness.openworld_head = real_head if rule == "new" else (lambda arch="lite2": None)
        counting = Counting(bb)
        rec = Recognizer(backbone_factory=lambda: counting)
        t0 = time.perf_counter()
        preds = rec.predict(paths)
        dt = time.perf_counter() - t0
        petness.openworld_head = real_head
        return dt, counting.views / len(paths), sum(p.is_pet for p in preds)

    Recognizer(backbone_factory=lambda: bb).predict(sets["pets"][:4])      # warm up
    print(f"Recognizer().predict, lite2, {args.threads} thread(s), best of {args.reps}; views per photo "
          "(1 = the test view only)")
    print(f"{'photos':<10} {'n':>4} {'old: photos/s':>14} {'views':>6} {'pets':>5} {'new: photos/s':>14} "
          f"{'views':>6} {'pets':>5} {'new/old':>8}")
    for name, paths in sets.items():
        best = {"old": None, "new": None}
        for _ in range(args.reps):
            for rule in ("old", "new"):
                r = run(rule, paths)
                if best[rule] is None or r[0] < best[rule][0]:
                    best[rule] = r
        (to, vo, po), (tn, vn, pn) = best["old"], best["new"]
        n = len(paths)
        print(f"{name:<10} {n:>4} {n / to:>14.1f} {vo:>6.2f} {po:>5} {n / tn:>14.1f} {vn:>6.2f} {pn:>5} "
              f"{to / tn:>7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
