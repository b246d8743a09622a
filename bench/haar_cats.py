"""How often the Viola-Jones cat-face cascade fires on the shared cat and dog photos.

    .venv/bin/python bench/haar_cats.py [--photos ../shared/data/pets/train]
                                        [--figure docs/img/haar_cats.png] [--no-table]

Runs ``petnet.haar.detect_multiscale`` with OpenCV's haarcascade_frontalcatface.xml and
detectMultiScale's defaults (scaleFactor 1.1, minNeighbors 3) on every photo. Cat breeds are the
folders whose name starts with an upper-case letter (Oxford-IIIT Pet convention), dogs the rest.
Prints a Markdown table: per cat breed, the photos with at least one cat-face box; the dog
photos with a box are false positives. With ``--figure`` it also draws the first photo of a few
cat breeds and one dog photo (a false positive), each titled with the CNN's answer
(``python -m petnet predict --json``, the embedded 37-breed model, which was trained on these
very photos -- so its answers here illustrate, they do not test).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from petnet.haar import detect_multiscale, load_cascade  # noqa: E402
from petnet.paths import shared_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = shared_data("pets", "train")
FIGURE_BREEDS = "Abyssinian,Bengal,British_Shorthair,Maine_Coon,Persian,Ragdoll,Siamese"
FIGURE_DOG = "american_bulldog/american_bulldog_86.jpg"


def cnn_answers(paths):
    """The CNN's top answer for each photo, from ``python -m petnet predict --json``."""
    out = subprocess.run([sys.executable, "-m", "petnet", "predict", *map(str, paths), "--json"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    answers = {}
    for line in out.splitlines():
        rec = json.loads(line)
        answers[Path(rec["path"]).name] = rec["top"][0]
    return answers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=PHOTOS,
                    help="folder of breed sub-folders (default %(default)s)")
    ap.add_argument("--figure", type=Path, default=None, help="also write this figure (PNG)")
    ap.add_argument("--figure-breeds", default=FIGURE_BREEDS, help="cat breeds whose first photo is drawn")
    ap.add_argument("--figure-dog", default=FIGURE_DOG, help="dog photo drawn last (default %(default)s)")
    ap.add_argument("--no-table", action="store_true", help="only the figure")
    args = ap.parse_args()
    cascade = load_cascade("catface")
    breeds = sorted(d for d in args.photos.iterdir() if d.is_dir())
    if not breeds:
        raise SystemExit(f"no breed folders under {args.photos}")
    if not args.no_table:
        table(args, breeds, cascade)
    if args.figure:
        figure(args, breeds, cascade)


def table(args, breeds, cascade):
    rows, t_total, n_total = [], 0.0, 0
    for d in breeds:
        photos = sorted(p for p in d.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        hits = 0
        for p in photos:
            rgb = np.asarray(Image.open(p).convert("RGB"))
            t = time.process_time()
            boxes = detect_multiscale(rgb, cascade)
            t_total += time.process_time() - t
            n_total += 1
            hits += len(boxes) > 0
        rows.append((d.name, d.name[0].isupper(), len(photos), hits))
    cats = [r for r in rows if r[1]]
    dogs = [r for r in rows if not r[1]]
    print("cat-face cascade (haarcascade_frontalcatface.xml, scaleFactor 1.1, minNeighbors 3) "
          f"on {args.photos}")
    print("\n| cat breed | photos | with a cat-face box |\n|---|---:|---:|")
    for name, _, n, h in cats:
        print(f"| {name} | {n} | {h} ({100 * h / n:.0f}%) |")
    nc, hc = sum(r[2] for r in cats), sum(r[3] for r in cats)
    nd, hd = sum(r[2] for r in dogs), sum(r[3] for r in dogs)
    print(f"| **all {len(cats)} cat breeds** | {nc} | **{hc} ({100 * hc / nc:.1f}%)** |")
    print(f"| all {len(dogs)} dog breeds (false positives) | {nd} | {hd} ({100 * hd / nd:.1f}%) |")
    fp = [f"{name} {h}/{n}" for name, _, n, h in dogs if h]
    print(f"\ndog breeds with a false positive: {', '.join(fp) or 'none'}")
    print(f"detection CPU time: {t_total:.1f} s for {n_total} photos "
          f"({t_total / n_total:.2f} s per photo, one thread)")


def figure(args, breeds, cascade):
    from petnet.haar.figure import boxes_figure
    from petnet.pets.sheet import chinese_font, drawable

    chosen = []
    for b in args.figure_breeds.split(","):
        photos = sorted((args.photos / b).glob("*.jpg"))
        if photos:
            chosen.append(photos[0])
    if args.figure_dog:
        chosen.append(args.photos / args.figure_dog)
    answers = cnn_answers(chosen)
    font, charmap = chinese_font()
    panels = []
    for p in chosen:
        rgb = np.asarray(Image.open(p).convert("RGB"))
        boxes = detect_multiscale(rgb, cascade)
        top = answers[p.name]
        name = top["name"] if drawable(top["name"], charmap) else top["label"]
        title = (f"{p.stem}: {len(boxes)} cat-face box{'es' if len(boxes) != 1 else ''}\n"
                 f"CNN: {name} {top['score']:.3f}")
        panels.append((rgb, boxes, title))
    boxes_figure(panels, args.figure, columns=4, title_font=font, panel_inches=2.9, dpi=80)
    # a palette PNG with dithering: a quarter of the size, for the repository
    palette = Image.open(args.figure).convert("RGB").quantize(256, dither=Image.Dither.FLOYDSTEINBERG)
    palette.save(args.figure, optimize=True)
    print(f"wrote {args.figure} ({len(panels)} photos)")

if __name__ == "__main__":
    main()
