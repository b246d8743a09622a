"""From an RGB photo to the network's input: crop (aspect kept), resize, scale.

EfficientNet-Lite was trained on square inputs of side ``S`` (224, 240 or 260 pixels: each
backbone's ``image_size`` in :data:`petnet.pets.backbones.BACKBONES`).
``retrain.py`` squashed every photo to a square, so a long dog became a fat dog. Here the
photo is *cropped*, never stretched, exactly as in EfficientNet's own evaluation:

1. take the centred square of side ``c = f * min(width, height)`` with
   ``f = S / (S + 32)`` (e.g. 260/292 = 0.890 for Lite2),
2. resize it to ``S x S`` with bicubic interpolation,
3. scale each 8-bit value ``x`` to ``(x - 127) / 128``, which lies in [-0.99, 1.0].

Augmentation ("distortions") uses a fixed set of **views** instead of random ones, so the
features of every view can be computed once and cached (``retrain.py`` had to switch its
cache off for distortions, which made training unusably slow):

============  ============================================================
``center``    the evaluation crop above
``flip``      ``center`` mirrored left-right                 (--flip_left_right)
``crop_tl``   square of side 0.8 c in the top-left corner of the centre square (--random_crop)
``crop_tr``   ... top-right, ``crop_bl`` bottom-left, ``crop_br`` bottom-right
``zoom``      centred square of side 0.75 c: objects look 1.33x larger  (--random_scale)
``wide``      centred square of the whole shorter side: objects smaller (--random_scale)
``brighter``  ``center`` with pixel values x 1.2 (clipped at 255)       (--random_brightness)
``darker``    ``center`` with pixel values x 0.8
============  ============================================================
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.backbones import arch_spec

MEAN = 127.0   # input scaling of the TF EfficientNet-Lite checkpoints: (x - MEAN) / STD
STD = 128.0
_VERSION = 2   # bump whenever the pixels produced here change (it invalidates feature caches)

VIEWS: tuple[str, ...] = ("center", "flip", "crop_tl", "crop_tr", "crop_bl", "crop_br",
                          "zoom", "wide", "brighter", "darker")

#: the views the open-world answer looks at (petnet.pets.openworld): centre, mirrored, four corner
#: crops, zoomed in, the whole shorter side
PET_VIEWS: tuple[str, ...] = ("center", "flip", "crop_tl", "crop_tr", "crop_bl", "crop_br", "zoom", "wide")

_CORNER = 0.8    # side of the corner crops, relative to the centre square
_ZOOM = 0.75     # side of the zoom crop, relative to the centre square
_BRIGHT = {"brighter": 1.2, "darker": 0.8}


def view_box(width: int, height: int, arch: str, view: str = "center") -> tuple[float, ...]:
    """The crop box ``(left, top, right, bottom)`` in pixels of ``view`` for a photo of that size."""
    spec = arch_spec(arch)
    if view not in VIEWS:
        raise PetnetError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
    short = min(width, height)
    c = spec.crop_fraction * short
    cx, cy = width / 2.0, height / 2.0
    left, top = cx - c / 2, cy - c / 2
    if view.startswith("crop_"):
        side = _CORNER * c
        x0 = left if view[-1] == "l" else left + c - side
        y0 = top if view[-2] == "t" else top + c - side
        return (x0, y0, x0 + side, y0 + side)
    if view == "zoom":
        side = _ZOOM * c
    elif view == "wide":
        side = float(short)
    else:  # center, flip, brighter, darker
        side = c
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def crop_resize(img: Image.Image, arch: str, view: str = "center") -> Image.Image:
    """Steps 1-2: the view's square crop resized (bicubic) to ``S x S``; still 8-bit RGB."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    size = arch_spec(arch).image_size
    out = img.resize((size, size), Image.Resampling.BICUBIC, box=view_box(*img.size, arch, view))
    if view == "flip":
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return out


def preprocess(img: Image.Image, arch: str, view: str = "center") -> np.ndarray:
    """An RGB image -> float32 array ``(S, S, 3)`` holding ``(x - 127) / 128`` of the view."""
    x = np.asarray(crop_resize(img, arch, view), dtype=np.float32)
    if view in _BRIGHT:
        x = np.minimum(x * _BRIGHT[view], 255.0)
    return (x - MEAN) / STD


def decode_min_side(arch: str) -> int:
    """Smallest photo side worth decoding for ``arch``: ``2 (S + 32)``.

    Big JPEGs are decoded at a reduced scale (see ``images.load_image(min_side=...)``) as
    long as their shorter side stays >= this, i.e. the crop is still shrunk >= 2x by the
    bicubic resize. Photos below twice this size (such as the 500x375 Oxford pets) are
    decoded at full size, unchanged."""
    return 2 * (arch_spec(arch).image_size + 32)


def preprocess_id(arch: str) -> str:
    """A short string that changes whenever the preprocessing of ``arch`` changes.

    Part of feature-cache keys, e.g. ``'lite2-260-f0.8904-bicubic-d584-v2'``."""
    spec = arch_spec(arch)
    return (f"{spec.name}-{spec.image_size}-f{spec.crop_fraction:.4f}-bicubic"
            f"-d{decode_min_side(arch)}-v{_VERSION}")
