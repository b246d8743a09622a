"""Rebuild ``petnet/pets/data/species_lite2.npz``: the cat-vs-dog head of :mod:`petnet.pets.species`.

Trained on every view of :data:`petnet.pets.openworld.PET_VIEWS` of the 362 shared pet photos
(``$PETNET_SHARED/data/pets/train``, default ``../shared`` beside the repository), species from
the data set's ``train_manifest.csv``. Features come from the normal bottleneck cache.

    python tools/make_species_head.py [--arch lite2] [--bottleneck_dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None):
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.dataset import scan_image_dir
    from petnet.pets.openworld import PET_VIEWS
    from petnet.pets.species import DATA, fit_species_head
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="lite2")
    ap.add_argument("--bottleneck_dir", default=None)
    args = ap.parse_args(argv)
    data = Path(os.environ.get("PETNET_SHARED", ROOT.parent / "shared")) / "data" / "pets"
    with open(data / "train_manifest.csv", encoding="utf-8") as f:
        species = {Path(r["file"]).name: r["species"] for r in csv.DictReader(f)}
    paths, _ = scan_image_dir(data / "train").samples()
    feats, ok, failures = BottleneckCache(args.bottleneck_dir, args.arch).get(paths, PET_VIEWS)
    if failures:
        raise SystemExit(f"error: unreadable photos: {failures}")
    is_cat = np.array([species[p.name] == "cat" for p in ok])
    head = fit_species_head(feats, is_cat, args.arch)
    out = head.save(DATA / f"species_{args.arch}.npz")
    right = ((head.logodds(feats).mean(1) > 0) == is_cat).mean()
    print(f"{len(ok)} photos ({is_cat.sum()} cats), {len(PET_VIEWS)} views: training accuracy "
          f"{100 * right:.1f}%; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
