"""Opening an image file, shared by the filters (``petnet.filters.image_io``) and the pet photos
(``petnet.pets.images``): decode it now, take the first frame, stand it upright, and turn every
way a file can be unreadable into one ``ImageError`` that names the file.

What the pixels then become differs: the filters keep floats, alpha and 16-bit depth; the pet
photos become 8-bit RGB with alpha composited on white.

Bounded memory: an image is refused *before its pixels are decoded* when it has more than
``MAX_PIXELS`` = 64 megapixels (an 8192 x 7812 picture; the largest ordinary phone photos are
48-50 MP, e.g. 8064 x 6048). The size comes from the file's header, so a 520 KB PNG that claims
13000 x 13000 is refused without allocating anything. Decoding an accepted image takes at most
4 bytes per pixel in Pillow (256 MB at the limit; twice that while an EXIF rotation is applied);
what a caller then does costs more: ``petnet filter --kernel gaussian`` peaked at 1.17 GB for a
12 MP photo (about 100 bytes per pixel, so about 6 GB at the limit), ``petnet predict`` shrinks
large JPEGs while decoding (``min_side``). For larger pictures set ``$PETNET_MAX_IMAGE_PIXELS``
(e.g. ``150000000``) or pass ``max_pixels=``, up to Pillow's own decompression-bomb limit (179 MP).
A JPEG decoded at a reduced scale (``min_side``) is measured at that scale.

Only regular files are opened (:func:`petnet.safe_io.open_regular`): a FIFO named ``x.jpg``, a
device or a folder is refused at once, never waited on. EPS files are never opened (Pillow would
run Ghostscript on their PostScript).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from petnet.errors import ParamError, PetnetError
from petnet.safe_io import open_regular, printable

FORMATS = "JPEG, PNG, WebP, BMP, TIFF, GIF"
MAX_PIXELS = 64_000_000


class ImageError(PetnetError):
    """A file that is not a readable image (the message names the file and the reason)."""


def max_pixels_default() -> int:
    """``$PETNET_MAX_IMAGE_PIXELS`` if set (a positive whole number), else ``MAX_PIXELS``."""
    value = os.environ.get("PETNET_MAX_IMAGE_PIXELS", "").strip()
    if not value:
        return MAX_PIXELS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ParamError("PETNET_MAX_IMAGE_PIXELS", f"must be a positive whole number of pixels, got {value!r}")
    return limit


def _formats() -> list[str]:
    """Every format Pillow reads except EPS, whose decoding runs Ghostscript on the file's
    PostScript: opening a photo must never run a program on it."""
    from PIL import Image
    Image.init()
    return [fmt for fmt in Image.ID if fmt != "EPS"]


def _open(path: Path, name: str):
    """``open_regular``, its message worded like the others here: ``"<name>: <what is wrong>"``."""
    try:
        return open_regular(path, "")
    except PetnetError as exc:
        text = str(exc)
        raise ImageError(f"{name}: {text[len(name):].lstrip() if text.startswith(name) else text}") from None


def open_image(path, min_side: int | None = None, name: str | None = None,
               max_pixels: int | None = None):
    """Decode ``path`` into an upright ``PIL.Image`` in its own mode (first frame of an animation).

    ``path``: a file path, or a binary file object (``io.BytesIO``) named ``name`` in messages.

    ``min_side``: a JPEG at least twice that size may be decoded at 1/2, 1/4 or 1/8 scale
    (libjpeg's DCT scaling), keeping both sides >= ``min_side``. ``max_pixels`` (default
    :func:`max_pixels_default`, 64 MP): larger images are refused before decoding. Raises
    ``ImageError`` naming the file when it is missing, not a regular file (a folder, a FIFO, a
    device), not an image, truncated, or too large."""
    from PIL import Image, ImageOps

    limit = max_pixels_default() if max_pixels is None else max_pixels
    name = printable(name or path)
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
        f = _open(path, name)   # ours to close
    else:
        f = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # our limit is lower
            img = Image.open(f or path, formats=_formats())
        with img:
            if min_side and img.format == "JPEG":
                img.draft(None, (int(min_side), int(min_side)))
            width, height = img.size
            if width * height > limit:
                raise ImageError(f"{name}: the image is {width} x {height} = {width * height / 1e6:.1f} "
                                 f"megapixels, more than the limit of {limit / 1e6:g} megapixels; "
                                 "shrink it, or raise the limit with PETNET_MAX_IMAGE_PIXELS")
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)  # animated GIF/WebP/TIFF: the first frame
            img.load()  # decode now, inside the try: truncated files fail here
            try:
                return ImageOps.exif_transpose(img)   # a new image, independent of the file
            except Exception:  # noqa: BLE001 -- a corrupt EXIF block: keep the pixels as stored
                return img.copy()
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: image too large to decode safely ({exc})") from None
    except Image.UnidentifiedImageError:
        raise ImageError(f"{name}: not an image, or not a format Pillow can read ({FORMATS})") from None
    except MemoryError:
        raise ImageError(f"{name}: out of memory while decoding") from None
    except Exception as exc:  # noqa: BLE001 -- OSError (truncated), SyntaxError, ValueError, ...
        raise ImageError(f"{name}: cannot read image ({type(exc).__name__}: {exc}); "
                         "truncated or corrupt file?") from None
    finally:
        if f is not None:
            f.close()
