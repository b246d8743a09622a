"""Reading and writing images for the filters, with Pillow.

Every image becomes floats in [0, 1]: 8-bit pixels are divided by 255, 16-bit ones (16-bit
grayscale PNG) by 65535. Colour images are ``(H, W, 3)`` RGB, grayscale ones ``(H, W)``. An alpha
channel (PNG with transparency, palette images with a transparent colour) is kept apart, not
filtered, and written back unchanged. Unreadable files raise a ``PetnetError`` that says why.

Paths are checked before anything is opened or computed: an input that is a FIFO, a device or a
socket (or a symbolic link to one) is refused at once -- opening a FIFO would wait forever for a
writer. An output that is a folder, a special file, in a missing folder, of an unknown format or
the input itself (whatever the spelling: another name, a symbolic or hard link) is refused.
Outputs are written atomically (:mod:`petnet.atomic`): a full disk or an interrupted run leaves the
previous file, never a truncated one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from petnet.atomic import write_atomically
from petnet.errors import ParamError, PetnetError
from petnet.image_file import open_image
from petnet.safe_io import check_output_file, printable


@dataclass
class Picture:
    """An image as floats in [0, 1]: ``pixels`` (H, W) or (H, W, 3), ``alpha`` (H, W) or None,
    and the ``bits`` per sample of the file it came from (8 or 16)."""

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bits: int = 8


def load_image(path) -> Picture:
    """Read a JPEG, PNG (with alpha, grayscale, 16-bit), BMP, TIFF, WebP, GIF ... file."""
    path = Path(path)
    img = open_image(path)   # first frame, upright; missing, special or unreadable -> ImageError (a PetnetError)

    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(img).astype(np.float64)
        if a.min() < 0 or a.max() > 65535:
            raise PetnetError(f"{printable(path)}: 32-bit integer images are not supported; save it as 8- or 16-bit")
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


def check_output(path, param: str = "path") -> Path:
    """Refuse, before any work, an image output that cannot be written: a folder or a special
    file (:func:`petnet.safe_io.check_output_file`), a missing folder, an unknown image format.
    The ``ParamError`` names ``param``. Returns the path. (That it is not an input is
    :func:`petnet.output_guard.guard`'s job.)"""
    text = os.fspath(path)
    path, shown = Path(text), printable(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise ParamError(param, f"{shown} is a folder; give a file name such as {printable(path / 'filtered.png')}")
    check_output_file(path, "", error=lambda message: ParamError(param, message))
    if not path.parent.is_dir():
        raise ParamError(param, f"{shown}: folder {printable(path.parent)} does not exist; "
                                "create it or choose another path")
    if path.suffix.lower() not in Image.registered_extensions():
        raise ParamError(param, f"{shown}: unknown image format {printable(path.suffix)!r}; use .png or .jpg")
    return path


def save_image(path, pixels, alpha=None, bits: int = 8) -> Path:
    """Write floats in [0, 1] (values outside are clipped) as an image; the format follows the
    file extension. 16-bit output is kept for grayscale PNG/TIFF; JPEG cannot store alpha, so it
    is dropped there. Written atomically: the file is complete or not replaced."""
    path = check_output(path)
    fmt = Image.registered_extensions()[path.suffix.lower()]
    x = np.clip(np.nan_to_num(np.asarray(pixels, dtype=np.float64)), 0.0, 1.0)
    suffix = path.suffix.lower()
    if bits == 16 and x.ndim == 2 and alpha is None and suffix in (".png", ".tif", ".tiff"):
        img = Image.fromarray(np.round(x * 65535).astype(np.uint16))
    else:
        u8 = np.round(x * 255).astype(np.uint8)
        if alpha is not None and suffix not in (".jpg", ".jpeg"):
            a8 = np.round(np.clip(alpha, 0, 1) * 255).astype(np.uint8)
            u8 = np.dstack([u8, a8])
        img = Image.fromarray(u8)
    try:
        write_atomically(path, lambda f: img.save(f, format=fmt))
    except PetnetError:      # a full disk, a read-only folder: already worded (a PetnetError is a ValueError)
        raise
    except (ValueError, KeyError) as exc:
        raise PetnetError(f"cannot write {printable(path)} as {fmt}: {exc}; use .png or .jpg") from None
    except OSError as exc:
        raise PetnetError(f"cannot write {printable(path)}: {exc.strerror or exc}") from None
    return path
