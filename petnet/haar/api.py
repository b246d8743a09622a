"""The chapter's file-level API, behind ``petnet haar``: photos in, result objects out.

    from petnet.haar import detect_files, integral_example
    for found in detect_files(["cat.jpg", "photos/"], "catface"):
        print(found.line())                        # the line `petnet haar detect` prints
    ex = integral_example(rect=(2, 1, 4, 3))
    assert ex.four_lookups == ex.direct

Nothing here prints; the command line prints what these return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.haar.cascade import BUILTIN, load_cascade
from petnet.haar.detect import detect_multiscale, to_gray
from petnet.haar.integral import integral_image

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
WHAT = {"catface": "cat face", "face": "face"}
MAX_PRINTED_SIDE = 40


def image_paths(items) -> list[Path]:
    """Files as given, folders as their image files (sorted); a folder without images is an error."""
    out = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(q for q in path.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise PetnetError(f"{path}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
            out.extend(found)
        else:
            out.append(path)
    return out


def read_rgb(path) -> np.ndarray:
    """8-bit RGB pixels of a photo, upright (EXIF); transparency composited on white."""
    from PIL import Image

    from petnet.image_file import open_image

    img = open_image(path)
    if img.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = img.convert("RGBA")
        img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img.alpha_composite(rgba)
    return np.asarray(img.convert("RGB"))


@dataclass
class Detections:
    """The boxes found in one photo: ``boxes`` ``(N, 4)`` x, y, w, h in its pixels."""

    path: Path
    width: int
    height: int
    cascade: str
    boxes: np.ndarray
    seconds: float
    image: np.ndarray | None = field(default=None, repr=False)   # the RGB pixels, if kept

    @property
    def what(self) -> str:
        return WHAT.get(self.cascade, "object")

    def title(self) -> str:
        n = len(self.boxes)
        return f"{self.path.name}: {n} {self.what}{'' if n == 1 else 's'}"

    def line(self) -> str:
        """``photo.jpg: 1 cat face [x=75 y=58 w=116 h=116] (256x322, 0.41 s)``."""
        n = len(self.boxes)
        text = f"{self.path}: {n} {self.what}{'' if n == 1 else 's'}"
        for x, y, w, h in self.boxes.tolist():
            text += f" [x={x} y={y} w={w} h={h}]"
        return f"{text} ({self.width}x{self.height}, {self.seconds:.2f} s)"

    def to_dict(self) -> dict:
        return {"path": str(self.path), "width": self.width, "height": self.height, "cascade": self.cascade,
                "boxes": self.boxes.tolist(), "seconds": round(self.seconds, 4)}


def detect_files(photos, cascade="catface", *, scale_factor: float = 1.1, min_neighbors: int = 3,
                 min_size=None, max_size=None, keep_image: bool = False):
    """Yield :class:`Detections` for every photo (files, or folders of images), one at a time.
    ``cascade``: ``"catface"``, ``"face"`` or an OpenCV cascade XML file; the other parameters
    are :func:`~petnet.haar.detect.detect_multiscale`'s; ``keep_image`` keeps the RGB pixels in
    ``Detections.image`` (for drawing)."""
    model = load_cascade(cascade)              # CascadeError (a PetnetError) names the file
    name = cascade if isinstance(cascade, str) and cascade in BUILTIN else str(Path(cascade))
    for path in image_paths(photos):
        rgb = read_rgb(path)
        t0 = time.perf_counter()
        boxes = detect_multiscale(rgb, model, scale_factor, min_neighbors, min_size, max_size)
        yield Detections(path, rgb.shape[1], rgb.shape[0], name, boxes, time.perf_counter() - t0,
                         rgb if keep_image else None)


@dataclass
class IntegralExample:
    """A rectangle sum by four lookups in the integral image, next to the direct sum."""

    image: np.ndarray        # the grey levels (int64)
    ii: np.ndarray           # its integral image, (H + 1, W + 1)
    rect: tuple              # x, y, w, h
    source: str | None       # the photo, or None for the random example

    @property
    def lookups(self) -> tuple[int, int, int, int]:
        """``ii[y+h, x+w], ii[y, x+w], ii[y+h, x], ii[y, x]``."""
        x, y, w, h = self.rect
        ii = self.ii
        return int(ii[y + h, x + w]), int(ii[y, x + w]), int(ii[y + h, x]), int(ii[y, x])

    @property
    def four_lookups(self) -> int:
        a, b, c, d = self.lookups
        return a - b - c + d

    @property
    def direct(self) -> int:
        x, y, w, h = self.rect
        return int(self.image[y:y + h, x:x + w].sum())

    def to_dict(self) -> dict:
        H, W = self.image.shape
        x, y, w, h = self.rect
        a, b, c, d = self.lookups
        return {"width": W, "height": H, "rect": [x, y, w, h],
                "lookups": {"ii[y+h, x+w]": a, "ii[y, x+w]": b, "ii[y+h, x]": c, "ii[y, x]": d},
                "four_lookups": self.four_lookups, "direct": self.direct, "pixels_added": w * h,
                "equal": self.four_lookups == self.direct}

    def report(self) -> str:
        """The worked example as text (image and table printed when small)."""
        H, W = self.image.shape
        x, y, w, h = self.rect
        lines = []
        if self.source is None:
            lines.append(f"image ({W}x{H}), the rectangle x={x} y={y} w={w} h={h} in [brackets]:")
            for r in range(H):
                cells = (f"[{v}]" if x <= q < x + w and y <= r < y + h else f" {v} "
                         for q, v in enumerate(self.image[r]))
                lines.append(("  " + " ".join(cells)).rstrip())
            width = len(str(int(self.ii.max())))
            lines.append(f"integral image ii ({W + 1}x{H + 1}, extra zero row and column): "
                         "ii[r, c] = sum of img[:r, :c]")
            for r in range(H + 1):
                lines.append("  " + " ".join(f"{int(v):>{width}}" for v in self.ii[r]))
        else:
            lines.append(f"{self.source}: {W}x{H} grey levels; rectangle x={x} y={y} w={w} h={h}")
        a, b, c, d = self.lookups
        lines.append("sum by four lookups: ii[y+h, x+w] - ii[y, x+w] - ii[y+h, x] + ii[y, x]")
        lines.append(f"  = ii[{y + h}, {x + w}] - ii[{y}, {x + w}] - ii[{y + h}, {x}] + ii[{y}, {x}]"
                     f" = {a} - {b} - {c} + {d} = {self.four_lookups}")
        same = "equal" if self.four_lookups == self.direct else "DIFFERENT"
        lines.append(f"direct sum of the {w}x{h} = {w * h} pixels: {self.direct}  ({same})")
        return "\n".join(lines)


def integral_example(*, image=None, size=(8, 6), seed: int = 0, rect=None) -> IntegralExample:
    """The worked example of ``petnet haar integral``: a random ``size = (width, height)`` image of
    digits 0-9 (or a photo's grey levels, ``image``) and the rectangle ``rect = (x, y, w, h)``
    (default: the middle half)."""
    if image is not None:
        img = to_gray(read_rgb(image)).astype(np.int64)
    else:
        w, h = (int(v) for v in size)
        if not (1 <= w <= MAX_PRINTED_SIDE and 1 <= h <= MAX_PRINTED_SIDE):
            raise ParamError("size", f"must be between 1x1 and {MAX_PRINTED_SIDE}x{MAX_PRINTED_SIDE} "
                                     f"to be printed, got {w}x{h} (give a photo for bigger images)")
        img = np.random.default_rng(seed).integers(0, 10, (h, w))
    H, W = img.shape
    x, y, rw, rh = (int(v) for v in (rect or (W // 4, H // 4, max(1, W // 2), max(1, H // 2))))
    if x < 0 or y < 0 or rw < 1 or rh < 1 or x + rw > W or y + rh > H:
        raise ParamError("rect", f"{x},{y},{rw},{rh} does not fit in the {W}x{H} image "
                                 f"(need x, y >= 0, w, h >= 1, x+w <= {W} and y+h <= {H})")
    return IntegralExample(img, integral_image(img), (x, y, rw, rh), None if image is None else str(image))
