"""``petnet haar``: Haar features and the Viola-Jones detector (talk, section 3.1.2)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from petnet.cli import add_command, add_group, nonneg_int, positive_int, positive_number
from petnet.errors import PetnetError

DESCRIPTION = """\
Early face detection (talk, section 3.1.2): Viola-Jones' cascade of Haar-like features.

  detect     find cat faces (or human faces) in photos with OpenCV's cascade XML files,
             evaluated by petnet in NumPy: the same boxes as OpenCV's CascadeClassifier
  integral   a worked example of the integral image: a rectangle sum in four lookups
"""

DETECT_EPILOG = """\
examples:
  petnet haar detect cat.jpg                                cat faces (shipped catface cascade)
  petnet haar detect photos/ --out boxes.png --json         every photo of a folder, one figure
  petnet haar detect people.jpg --cascade face --min-neighbors 5
  petnet haar detect cat.jpg --cascade my_cascade.xml --scale-factor 1.05 --min-size 48

--cascade: catface = OpenCV's haarcascade_frontalcatface.xml, face = haarcascade_frontalface_default.xml
(both shipped with petnet), or any OpenCV cascade XML with upright Haar features.
Boxes are x, y, width, height in pixels of the photo as stored upright (EXIF orientation applied).
"""

INTEGRAL_EPILOG = """\
examples:
  petnet haar integral                          a 6 x 8 image of small numbers, one rectangle
  petnet haar integral --rect 2,1,4,3 --seed 7
  petnet haar integral --image cat.jpg --rect 100,80,50,40 --json
"""

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _size(text: str) -> tuple[int, int]:
    """``48`` or ``48x64`` (width x height) -> (w, h)."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be N or WxH in pixels, got {text!r}") from None
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"must be N or WxH with positive whole numbers, got {text!r}")
    return vals[0], vals[1]


def _rect(text: str) -> tuple[int, int, int, int]:
    try:
        vals = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be X,Y,W,H (whole numbers), got {text!r}") from None
    if len(vals) != 4 or min(vals) < 0 or vals[2] < 1 or vals[3] < 1:
        raise argparse.ArgumentTypeError(f"must be X,Y,W,H with X,Y >= 0 and W,H >= 1, got {text!r}")
    return tuple(vals)


def _scale_factor(text: str) -> float:
    v = positive_number(text)
    if v <= 1:
        raise argparse.ArgumentTypeError(f"must be greater than 1 (e.g. 1.1), got {text!r}")
    return v


def register(subparsers) -> None:
    sub = add_group(subparsers, "haar", help="Haar features, integral image, Viola-Jones cat/face detection",
                    description=DESCRIPTION)
    d = add_command(sub, "detect", run_detect,
                    help="find cat faces / faces with an OpenCV cascade (NumPy, no OpenCV)",
                    description="Slide a Viola-Jones cascade over each photo at every scale and print "
                                "the boxes, as OpenCV's CascadeClassifier.detectMultiScale.",
                    epilog=DETECT_EPILOG)
    d.add_argument("photos", nargs="+", metavar="PHOTO", help="image files or folders of images")
    d.add_argument("--cascade", "-c", default="catface", metavar="catface|face|FILE.xml",
                   help="which cascade (default catface)")
    d.add_argument("--scale-factor", type=_scale_factor, default=1.1,
                   help="shrink the photo by this factor per pyramid step (default 1.1)")
    d.add_argument("--min-neighbors", type=nonneg_int, default=3,
                   help="a box needs more than this many overlapping raw detections (default 3; 0 = raw)")
    d.add_argument("--min-size", type=_size, default=None, metavar="N|WxH", help="smallest box (default none)")
    d.add_argument("--max-size", type=_size, default=None, metavar="N|WxH", help="largest box (default: the photo)")
    d.add_argument("--out", "--plot", "-o", default=None, metavar="FIG.png",
                   help="write the photos with their boxes drawn (one panel per photo)")
    d.add_argument("--columns", type=positive_int, default=None, help="panels per row in --out (default up to 4)")
    d.add_argument("--json", action="store_true",
                   help="one JSON object per photo: {path, width, height, cascade, boxes: [[x, y, w, h]], seconds}")

    i = add_command(sub, "integral", run_integral, help="the integral image: a rectangle sum in four lookups",
                    description="Build the integral image (summed-area table) of a small image and "
                                "compute one rectangle sum from four of its entries, next to the direct sum.",
                    epilog=INTEGRAL_EPILOG)
    i.add_argument("--image", default=None, metavar="PHOTO",
                   help="use this photo's grey levels (default: a small random image of digits 0-9)")
    i.add_argument("--size", type=_size, default=(8, 6), metavar="WxH",
                   help="size of the random image (default 8x6)")
    i.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    i.add_argument("--rect", type=_rect, default=None, metavar="X,Y,W,H",
                   help="the rectangle: top-left pixel (X, Y), width W, height H (default: one in the middle)")
    i.add_argument("--json", action="store_true", help="print one JSON object instead of the report")


def _photos(items) -> list[Path]:
    out = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(q for q in path.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise PetnetError(f"{path}: folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            out.extend(found)
        else:
            out.append(path)
    return out


def _read_rgb(path: Path):
    """8-bit RGB pixels of a photo, upright; transparency composited on white."""
    import numpy as np
    from PIL import Image

    from petnet.image_file import open_image

    img = open_image(path)
    if img.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = img.convert("RGBA")
        img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img.alpha_composite(rgba)
    return np.asarray(img.convert("RGB"))


def run_detect(args) -> int:
    from petnet.haar.cascade import BUILTIN, load_cascade
    from petnet.haar.detect import detect_multiscale

    cascade = load_cascade(args.cascade)       # CascadeError (a PetnetError) names the file
    what = {"catface": "cat face", "face": "face"}.get(args.cascade, "object")
    panels = []
    for path in _photos(args.photos):
        rgb = _read_rgb(path)
        t0 = time.perf_counter()
        boxes = detect_multiscale(rgb, cascade, args.scale_factor, args.min_neighbors,
                                  args.min_size, args.max_size)
        seconds = time.perf_counter() - t0
        h, w = rgb.shape[:2]
        if args.json:
            print(json.dumps({"path": str(path), "width": w, "height": h,
                              "cascade": args.cascade if args.cascade in BUILTIN else str(Path(args.cascade)),
                              "boxes": boxes.tolist(), "seconds": round(seconds, 4)}, ensure_ascii=False))
        else:
            line = f"{path}: {len(boxes)} {what}{'' if len(boxes) == 1 else 's'}"
            for x, y, bw, bh in boxes.tolist():
                line += f" [x={x} y={y} w={bw} h={bh}]"
            print(f"{line} ({w}x{h}, {seconds:.2f} s)")
        if args.out:
            panels.append((rgb, boxes, f"{path.name}: {len(boxes)} {what}{'' if len(boxes) == 1 else 's'}"))
    if args.out:
        from petnet.haar.figure import boxes_figure
        out = Path(args.out)
        if any(out.exists() and out.resolve() == Path(q).resolve() for q in _photos(args.photos)):
            raise PetnetError("--out is one of the input photos; choose another file")
        boxes_figure(panels, out, columns=args.columns)
        if not args.json:
            print(f"wrote {out}")
    return 0


def run_integral(args) -> int:
    import numpy as np

    from petnet.haar.integral import integral_image

    if args.image:
        from petnet.haar.detect import to_gray
        img = to_gray(_read_rgb(Path(args.image))).astype(np.int64)
    else:
        w, h = args.size
        if w > 40 or h > 40:
            raise PetnetError(f"--size {w}x{h} is too big to print; use at most 40x40 (or --image PHOTO)")
        img = np.random.default_rng(args.seed).integers(0, 10, (h, w))
    H, W = img.shape
    x, y, rw, rh = args.rect or (W // 4, H // 4, max(1, W // 2), max(1, H // 2))
    if x + rw > W or y + rh > H:
        raise PetnetError(f"--rect {x},{y},{rw},{rh} does not fit in the {W}x{H} image "
                          f"(need X+W <= {W} and Y+H <= {H})")
    ii = integral_image(img)
    a, b, c, d = (int(ii[y + rh, x + rw]), int(ii[y, x + rw]), int(ii[y + rh, x]), int(ii[y, x]))
    four = a - b - c + d
    direct = int(img[y:y + rh, x:x + rw].sum())
    if args.json:
        print(json.dumps({"width": W, "height": H, "rect": [x, y, rw, rh],
                          "lookups": {"ii[y+h, x+w]": a, "ii[y, x+w]": b, "ii[y+h, x]": c, "ii[y, x]": d},
                          "four_lookups": four, "direct": direct, "pixels_added": rw * rh,
                          "equal": four == direct}))
        return 0 if four == direct else 1
    small = not args.image
    if small:
        print(f"image ({W}x{H}), the rectangle x={x} y={y} w={rw} h={rh} in [brackets]:")
        for r in range(H):
            print(("  " + " ".join((f"[{v}]" if x <= q < x + rw and y <= r < y + rh else f" {v} ")
                                   for q, v in enumerate(img[r]))).rstrip())
        width = len(str(int(ii.max())))
        print(f"integral image ii ({W + 1}x{H + 1}, extra zero row and column): ii[r, c] = sum of img[:r, :c]")
        for r in range(H + 1):
            print("  " + " ".join(f"{int(v):>{width}}" for v in ii[r]))
    else:
        print(f"{args.image}: {W}x{H} grey levels; rectangle x={x} y={y} w={rw} h={rh}")
    print("sum by four lookups: ii[y+h, x+w] - ii[y, x+w] - ii[y+h, x] + ii[y, x]")
    print(f"  = ii[{y + rh}, {x + rw}] - ii[{y}, {x + rw}] - ii[{y + rh}, {x}] + ii[{y}, {x}]"
          f" = {a} - {b} - {c} + {d} = {four}")
    print(f"direct sum of the {rw}x{rh} = {rw * rh} pixels: {direct}  ({'equal' if four == direct else 'DIFFERENT'})")
    return 0 if four == direct else 1
