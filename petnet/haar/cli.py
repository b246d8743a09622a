"""``petnet haar``: Haar features and the Viola-Jones detector (talk, section 3.1.2)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from petnet.cliutil import add_command, add_group, nonneg_int, positive_int, positive_number
from petnet.output_guard import Input, Output


def _cascade_file(args):
    """The XML file ``--cascade`` reads (a built-in name stands for petnet's own copy)."""
    from petnet.haar.cascade import cascade_path
    return cascade_path(args.cascade)

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
                    inputs=(Input("photos", "folder"), Input("cascade", value=_cascade_file)),
                    outputs=(Output("out", "picture"),),
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
    d.add_argument("--min-size", type=_size, default=None, metavar="N|WxH",
                   help="smallest box (default none)")
    d.add_argument("--max-size", type=_size, default=None, metavar="N|WxH",
                   help="largest box (default: the photo)")
    d.add_argument("--out", "--plot", "-o", default=None, metavar="FIG.png",
                   help="write the photos with their boxes drawn (one panel per photo)")
    d.add_argument("--columns", type=positive_int, default=None,
                   help="panels per row in --out (default up to 4)")
    d.add_argument("--json", action="store_true",
                   help="one JSON object per photo: "
                        "{path, width, height, cascade, boxes: [[x, y, w, h]], seconds}")

    i = add_command(sub, "integral", run_integral, inputs=("image",), outputs=(), help="the integral image: a rectangle sum in four lookups",
                    description="Build the integral image (summed-area table) of a small image and "
                                "compute one rectangle sum from four of its entries, next to the direct sum.",
                    epilog=INTEGRAL_EPILOG)
    i.add_argument("--image", default=None, metavar="PHOTO",
                   help="use this photo's grey levels (default: a small random image of digits 0-9)")
    i.add_argument("--size", type=_size, default=(8, 6), metavar="WxH",
                   help="size of the random image (default 8x6)")
    i.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    i.add_argument("--rect", type=_rect, default=None, metavar="X,Y,W,H",
                   help="the rectangle: top-left pixel (X, Y), width W, height H "
                        "(default: one in the middle)")
    i.add_argument("--json", action="store_true", help="print one JSON object instead of the report")


def run_detect(args) -> int:
    from petnet.haar.api import detect_files
    from petnet.safe_io import printable

    out = Path(args.out) if args.out else None      # checked against the photos by the output guard
    panels = []
    for found in detect_files(args.photos, args.cascade, scale_factor=args.scale_factor,
                              min_neighbors=args.min_neighbors, min_size=args.min_size,
                              max_size=args.max_size, keep_image=out is not None):
        print(json.dumps(found.to_dict(), ensure_ascii=False) if args.json else found.line())
        if out:
            panels.append((found.image, found.boxes, found.title()))
    if out:
        from petnet.haar.figure import boxes_figure
        boxes_figure(panels, out, columns=args.columns)
        if not args.json:
            print(f"wrote {printable(out)}")
    return 0


def run_integral(args) -> int:
    from petnet.haar.api import integral_example

    ex = integral_example(image=args.image, size=args.size, seed=args.seed, rect=args.rect)
    print(json.dumps(ex.to_dict()) if args.json else ex.report())
    return 0 if ex.four_lookups == ex.direct else 1
