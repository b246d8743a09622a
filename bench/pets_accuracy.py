"""Accuracy of ``petnet retrain``'s defaults on the shared pet photos, lite0/lite1/lite2 side by side.

Two estimates per backbone (both from the stable file-name hash, so they are reproducible):
* ``5-fold CV``: every photo is predicted once by a head trained on the other ~80% (362 photos,
  37 breeds, 7-18 photos per breed: a less noisy estimate than one split);
* ``hash split``: retrain.py's 10% validation / 10% testing split, accuracy on the test photos.

Columns: top-1 and top-3 over the 37 breeds, and cat-vs-dog (is the top-1 breed of the right
species? cat breeds start with an upper-case letter). ``--flip`` also reports the cached
``flip`` view (``--flip_left_right``: trained on both views, softmax averaged at test time).

    python bench/pets_accuracy.py [--image_dir ../shared/data/pets/train] [--flip] [--json]

Features are cached in the normal bottleneck folder, so a second run takes seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from petnet.paths import shared_data  # noqa: E402  (after the sys.path line)


def evaluate(image_dir, arch, flip=False, bottleneck_dir=None, k=5):
    from petnet.pets.dataset import scan_image_dir, split
    from petnet.pets.evaluation import cross_validate, topk_hits
    from petnet.pets.head import default_head_kwargs, train_head
    from petnet.pets.retrain import DEFAULTS, load_features
    image_set = scan_image_dir(image_dir)
    views = ("center", "flip") if flip else ("center",)
    t0 = time.perf_counter()
    feats, paths, y, *_ = load_features(image_set, arch, views, bottleneck_dir)
    t_feat = time.perf_counter() - t0
    kw = default_head_kwargs()
    K = len(image_set.labels)
    ti = list(range(len(views)))
    cat = np.array([label[0].isupper() for label in image_set.labels])

    def scores(P, yy):
        return {"top1": float(topk_hits(P, yy, 1).mean()), "top3": float(topk_hits(P, yy, 3).mean()),
                "cat_vs_dog": float((cat[P.argmax(1)] == cat[yy]).mean()), "n": int(len(yy))}

    t0 = time.perf_counter()
    P = cross_validate(feats, y, k, paths, K, ti, **kw)
    cv = scores(P, y)
    sets = split([p.name for p in paths], DEFAULTS["validation_percentage"], DEFAULTS["testing_percentage"])
    tr, te = np.array(sets["training"]), np.array(sets["testing"])
    head = train_head(feats[tr], y[tr], K, **kw)
    hs = scores(head.predict_proba(feats[te][:, ti]), y[te])
    return {"arch": arch, "views": list(views), "cv": cv, "hash_split": hs,
            "feature_seconds": round(t_feat, 1), "train_seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image_dir", default=str(shared_data("pets", "train")))
    ap.add_argument("--bottleneck_dir", default=None)
    ap.add_argument("--archs", default="lite0,lite1,lite2")
    ap.add_argument("--flip", action="store_true", help="also evaluate --flip_left_right")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for arch in args.archs.split(","):
        for flip in ((False, True) if args.flip else (False,)):
            rows.append(evaluate(args.image_dir, arch, flip, args.bottleneck_dir))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"petnet retrain defaults on {args.image_dir} (37 breeds)")
    print("| backbone | views | 5-fold CV top-1 | top-3 | cat-vs-dog | hash-split test top-1 | top-3 | cat-vs-dog |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cv, hs = r["cv"], r["hash_split"]
        print(f"| {r['arch']} | {'+'.join(r['views'])} | {100 * cv['top1']:.1f}% | {100 * cv['top3']:.1f}% | "
              f"{100 * cv['cat_vs_dog']:.1f}% (N={cv['n']}) | {100 * hs['top1']:.1f}% | {100 * hs['top3']:.1f}% | "
              f"{100 * hs['cat_vs_dog']:.1f}% (N={hs['n']}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
