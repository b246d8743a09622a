"""Add ``class_features`` to a model file (the embedded ``petnet/pets/data/pets37.npz`` by default).

The class features (each class's mean training feature, :func:`petnet.pets.openworld.class_features`)
drive the class-similarity rule of "unsure". ``retrain`` stores them in every model it writes; a
model trained before them has none. This tool computes them from the photos the model was trained
on (default: the 362 shared photos, ``$PETNET_SHARED/data/pets/train``, all of which trained the
embedded model), from the bottleneck cache and the model's test views, and writes the model back
with :func:`petnet.pets.model_file.save_model` (atomically) with the one entry added: ``W``, ``b``,
the labels and the views come back bit for bit (checked after writing), so the scores stay exactly
as they were. They are stored as float16, half the size (the similarity changes by less than 1e-3;
the loader reads them as float32); ``--float32`` keeps float32.

    python tools/add_class_features.py [--model petnet/pets/data/pets37.npz] [--image_dir DIR]
        [--bottleneck_dir DIR] [--float32]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None):
    from dataclasses import replace

    from petnet.paths import shared_data
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.dataset import scan_image_dir
    from petnet.pets.model_file import load_model, save_model
    from petnet.pets.openworld import class_features
    from petnet.pets.predict import DEFAULT_MODEL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="model file to update in place")
    ap.add_argument("--image_dir", default=None, help="the photos it was trained on (one folder per class)")
    ap.add_argument("--bottleneck_dir", default=None)
    ap.add_argument("--float32", action="store_true", help="store float32 instead of float16")
    args = ap.parse_args(argv)
    model = load_model(args.model)
    image_set = scan_image_dir(args.image_dir or shared_data("pets", "train"))
    if sorted(image_set.labels) != sorted(model.labels):
        raise SystemExit(f"error: the folders of {image_set.root} ({len(image_set.labels)} classes) are not "
                         f"the model's {len(model.labels)} labels")
    paths, ys = image_set.samples()
    feats, ok, failures = BottleneckCache(args.bottleneck_dir, model.arch).get(paths, model.test_views)
    if failures:
        raise SystemExit(f"error: unreadable photos: {failures}")
    index = {label: i for i, label in enumerate(model.labels)}
    label_of = dict(zip(paths, ys))
    y = np.array([index[image_set.labels[label_of[p]]] for p in ok], np.int64)
    cf = class_features(feats, y, model.n_classes)
    cf = cf if args.float32 else cf.astype(np.float16)
    save_model(args.model, replace(model, class_features=cf))
    again = load_model(args.model)
    for name in ("W", "b"):
        if getattr(again, name).tobytes() != getattr(model, name).tobytes():
            raise SystemExit(f"error: {name} changed on writing")
    assert again.labels == model.labels and again.test_views == model.test_views
    print(f"{len(ok)} photos, {model.n_classes} classes, views {', '.join(model.test_views)}: wrote "
          f"class_features ({cf.dtype}) to {args.model} "
          f"({Path(args.model).stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
