"""Rebuild ``petnet/pets/data/openworld_lite2.npz``: the pet / species scorer of :mod:`petnet.pets.petness`.

Fitted on the *development* photos only (:mod:`petnet.pets.openworld_data`: about half of each of
``catdog``, ``pets/train``, ``nonpet`` and ``imagenet_nonpet`` under ``$PETNET_SHARED/data``,
default ``../shared`` beside the repository), every view of :data:`PET_VIEWS`; the evaluation
photos are never read. Features come from the normal bottleneck cache (computed once).
Deterministic: the same data give the same file (Newton's method, no random start).

    python tools/make_openworld_head.py [--arch lite2] [--bottleneck_dir DIR] [--out FILE]
    python tools/make_openworld_head.py --select     # the held-out NLL behind petness.LAYER_L2 (~10 min)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def development_arrays(arch: str = "lite2", bottleneck_dir=None):
    """``(photos, feats, probs)`` of the development photos: 8 views each."""
    from petnet.pets.openworld import PET_VIEWS, imagenet_view_probs
    from petnet.pets.openworld_data import load_openworld_photos, openworld_features
    photos = load_openworld_photos()
    photos = photos.subset(photos.dev)
    feats, cache = openworld_features(photos, PET_VIEWS, bottleneck_dir, arch)
    return photos, feats, imagenet_view_probs(cache.backbone.imagenet_logits, feats)


def build(arch: str = "lite2", bottleneck_dir=None, log=print):
    """Fit the head on the development photos: ``(head, held_out, photos)``."""
    from petnet.pets.petness import fit_openworld_head
    photos, feats, probs = development_arrays(arch, bottleneck_dir)
    log(f"{len(photos)} development photos ({int(photos.is_pet.sum())} cats and dogs), 8 views")
    head, held = fit_openworld_head(feats, probs, photos.is_pet, photos.species == "cat", photos.fold,
                                    arch, log=log)
    return head, held, photos


def main(argv=None):
    from petnet.pets.petness import DATA
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="lite2")
    ap.add_argument("--bottleneck_dir", default=None)
    ap.add_argument("--out", default=None, help="default: petnet/pets/data/openworld_<arch>.npz")
    ap.add_argument("--select", action="store_true",
                    help="print the held-out NLL of each layer penalty of petness.LAYER_L2_GRID, write nothing")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.select:
        from petnet.pets.petness import LAYER_L2, layer_l2_table
        photos, feats, _ = development_arrays(args.arch, args.bottleneck_dir)
        for (task, l2), v in layer_l2_table(feats, photos.is_pet, photos.species == "cat", photos.fold).items():
            print(f"{task} layer, l2 {l2:g}: held-out NLL {v:.4f}{'  (LAYER_L2)' if LAYER_L2[task] == l2 else ''}")
        print(f"({time.perf_counter() - t0:.0f} s)")
        return 0
    head, _, _ = build(args.arch, args.bottleneck_dir)
    out = head.save(Path(args.out) if args.out else DATA / f"openworld_{args.arch}.npz")
    for k, v in sorted(head.thresholds.items()):
        print(f"{k} = {v:.4f}")
    print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
