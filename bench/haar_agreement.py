"""petnet.haar's detector against OpenCV's CascadeClassifier on the shared pet photos.

    .venv/bin/python bench/haar_agreement.py [--every 1] [--cascades catface,face] [--photos DIR]

For every photo (every N-th with --every) and cascade (the face cascade also gets
scikit-image's astronaut photo), both detectors get the same grey image
(petnet decodes the JPEG; ``to_gray`` equals ``cv2.cvtColor(RGB2GRAY)``, checked on each photo)
and the defaults scaleFactor=1.1, minNeighbors=3. Prints how many runs give *identical* boxes,
raw (minNeighbors=0, every window the cascade accepts) and grouped, the worst per-box IoU
where they differ, and the time of each detector (best of 1, one thread each: OpenCV is
pinned with cv2.setNumThreads(1)). Needs opencv-python-headless 4.x (5.0 removed
CascadeClassifier).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from petnet.haar import BUILTIN, detect_candidates, group_rectangles, to_gray  # noqa: E402
from petnet.paths import shared_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = shared_data("pets", "train")


def as_set(boxes):
    return sorted(map(tuple, np.asarray(boxes).reshape(-1, 4).tolist()))


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=PHOTOS,
                    help="folder of breed sub-folders (default %(default)s)")
    ap.add_argument("--every", type=int, default=1, help="use every N-th photo (default 1: all)")
    ap.add_argument("--cascades", default="catface,face", help="comma-separated built-in cascades")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    paths = sorted(args.photos.glob("*/*.jpg"))[::args.every]
    if not paths:
        raise SystemExit(f"no photos under {args.photos}")
    print(f"OpenCV {cv2.__version__}, {len(paths)} photos from {args.photos}")
    for name in args.cascades.split(","):
        xml = str(BUILTIN[name])
        cc = cv2.CascadeClassifier(xml)
        same_raw = same = n = raw_total = boxes_total = 0
        worst, t_cv, t_pn = 1.0, 0.0, 0.0
        items = [(p, None) for p in paths]
        if name == "face":                       # and a real human face: scikit-image's astronaut
            from skimage import data
            items.insert(0, (Path("skimage/astronaut.png"), data.astronaut()))
        for p, rgb in items:
            if rgb is None:
                rgb = np.asarray(Image.open(p).convert("RGB"))
            gray = to_gray(rgb)
            if not np.array_equal(gray, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)):
                print(f"  {p.name}: grey conversion differs from cv2.cvtColor")
            ref_raw = cc.detectMultiScale(gray, 1.1, 0)
            t = time.perf_counter()
            ref = cc.detectMultiScale(gray, 1.1, 3)
            t_cv += time.perf_counter() - t
            t = time.perf_counter()
            raw = detect_candidates(gray, xml)
            got = group_rectangles(raw, 3, 0.2)
            t_pn += time.perf_counter() - t
            n += 1
            raw_total += len(raw)
            boxes_total += len(got)
            same_raw += as_set(ref_raw) == as_set(raw)
            if as_set(ref) == as_set(got):
                same += 1
            else:
                a, b = as_set(ref), as_set(got)
                best = [max((iou(r, g) for g in b), default=0.0) for r in a]
                worst = min([worst, *best]) if len(a) == len(b) else 0.0
                print(f"  {p.parent.name}/{p.name}: OpenCV {a}  petnet {b}")
        print(f"{name}: {n} photos, raw windows identical on {same_raw}/{n} ({raw_total} windows), "
              f"grouped boxes identical on {same}/{n} ({boxes_total} boxes); worst IoU where different: "
              f"{'-' if same == n else f'{worst:.3f}'}")
        print(f"  detectMultiScale time, all photos: OpenCV {t_cv:.1f} s, petnet {t_pn:.1f} s "
              f"({t_pn / t_cv:.1f}x OpenCV's time; one thread each)")


if __name__ == "__main__":
    main()
