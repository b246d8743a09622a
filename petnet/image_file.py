"""Opening an image file, shared by the filters (``petnet.filters.image_io``) and the pet photos
(``petnet.pets.images``): decode it now, take the first frame, stand it upright, and turn every
way a file can be unreadable into one ``ImageError`` that names the file.

What the pixels then become differs: the filters keep floats, alpha and 16-bit depth; the pet
photos become 8-bit RGB with alpha composited on white.
"""

from __future__ import annotations

import os
from pathlib import Path

from petnet.errors import PetnetError

FORMATS = "JPEG, PNG, WebP, BMP, TIFF, GIF"


class ImageError(PetnetError):
    """A file that is not a readable image (the message names the file and the reason)."""


def open_image(path, min_side: int | None = None, name: str | None = None):
    """Decode ``path`` into an upright ``PIL.Image`` in its own mode (first frame of an animation).

    ``path``: a file path, or a binary file object (``io.BytesIO``) named ``name`` in messages.

    ``min_side``: a JPEG at least twice that size may be decoded at 1/2, 1/4 or 1/8 scale
    (libjpeg's DCT scaling), keeping both sides >= ``min_side``. Raises ``ImageError`` naming the
    file when it is missing, a folder, not an image, truncated, or a decompression bomb."""
    from PIL import Image, ImageOps

    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
    label = name or path
    try:
        with Image.open(path) as img:
            if min_side and img.format == "JPEG":
                img.draft(None, (int(min_side), int(min_side)))
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)  # animated GIF/WebP/TIFF: the first frame
            img.load()  # decode now, inside the try: truncated files fail here
            try:
                return ImageOps.exif_transpose(img)   # a new image, independent of the file
            except Exception:  # noqa: BLE001 -- a corrupt EXIF block: keep the pixels as stored
                return img.copy()
    except FileNotFoundError:
        raise ImageError(f"{label}: does not exist (no such file); check the path") from None
    except IsADirectoryError:
        raise ImageError(f"{label}: is a folder, not an image file") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label}: image too large to decode safely ({exc})") from None
    except Image.UnidentifiedImageError:
        raise ImageError(f"{label}: not an image, or not a format Pillow can read ({FORMATS})") from None
    except MemoryError:
        raise ImageError(f"{label}: out of memory while decoding") from None
    except Exception as exc:  # noqa: BLE001 -- OSError (truncated), SyntaxError, ValueError, ...
        raise ImageError(f"{label}: cannot read image ({type(exc).__name__}: {exc}); "
                         "truncated or corrupt file?") from None
