"""Reading and writing images for the filters, with Pillow.

Every image becomes floats in [0, 1]: 8-bit pixels are divided by 255, 16-bit ones (16-bit
grayscale PNG) by 65535. Colour images are ``(H, W, 3)`` RGB, grayscale ones ``(H, W)``. An alpha
channel (PNG with transparency, palette images with a transparent colour) is kept apart, not
filtered, and written back unchanged. Unreadable files raise a ``PetnetError`` that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError


@dataclass
class Picture:
    """An image as floats in [0, 1]: ``pixels`` (H, W) or (H, W, 3), ``alpha`` (H, W) or None,
    and the ``bits`` per sample of the file it came from (8 or 16)."""

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bits: int = 8


def read_image(path) -> Picture:
    """Read a JPEG, PNG (with alpha, grayscale, 16-bit), BMP, TIFF, WebP, GIF ... file."""
    from petnet.image_file import open_image

    path = Path(path)
    img = open_image(path)   # first frame, upright; missing or unreadable -> ImageError (a PetnetError)

    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(img).astype(np.float64)
        if a.min() < 0 or a.max() > 65535:
            raise PetnetError(f"{path}: 32-bit integer images are not supported; save it as 8- or 16-bit")
        return Picture((a / 65535.0).astype(np.float32), None, 16)
    if mode == "F":
        a = np.asarray(img, dtype=np.float32)
        return Picture(np.clip(a, 0.0, 1.0) if a.max() <= 1.0 else a / max(float(a.max()), 1e-12), None, 16)
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "L", "LA", "RGB", "RGBA"):
        pass
    elif mode in ("La", "PA"):
        img = img.convert("LA" if mode == "La" else "RGBA")
    else:                      # CMYK, YCbCr, LAB, HSV, RGBa, ...
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    a = np.asarray(img.convert("L") if img.mode == "1" else img, dtype=np.float32) / 255.0
    if img.mode in ("LA", "RGBA"):
        return Picture(np.ascontiguousarray(a[..., :-1] if img.mode == "RGBA" else a[..., 0]), a[..., -1], 8)
    return Picture(a, None, 8)


def write_image(path, pixels, alpha=None, bits: int = 8) -> Path:
    """Write floats in [0, 1] (values outside are clipped) as an image; the format follows the
    file extension. 16-bit output is kept for grayscale PNG/TIFF; JPEG cannot store alpha, so it
    is dropped there."""
    from PIL import Image

    path = Path(path)
    if not path.parent.exists():
        raise PetnetError(f"folder {path.parent} does not exist; create it or choose another --out")
    x = np.clip(np.nan_to_num(np.asarray(pixels, dtype=np.float64)), 0.0, 1.0)
    suffix = path.suffix.lower()
    if bits == 16 and x.ndim == 2 and alpha is None and suffix in (".png", ".tif", ".tiff"):
        img = Image.fromarray(np.round(x * 65535).astype(np.uint16))
    else:
        u8 = np.round(x * 255).astype(np.uint8)
        if alpha is not None and suffix not in (".jpg", ".jpeg"):
            a8 = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
            u8 = np.dstack([u8, a8]) if u8.ndim == 3 else np.dstack([u8, a8])
        img = Image.fromarray(u8)
    try:
        img.save(path)
    except (ValueError, KeyError):
        raise PetnetError(f"cannot write {path}: unknown image format {suffix!r}; use .png or .jpg") from None
    except OSError as exc:
        raise PetnetError(f"cannot write {path}: {exc}") from None
    return path
