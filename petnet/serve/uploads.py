"""Uploaded photos: size limits, a pixel limit, and names that are only ever shown, never used.

Limits (``Limits``, all per server): bytes per file, bytes per request (checked on the raw body
before it is parsed, see ``app.BodyLimit``), files per request, and pixels per photo, read from the
image header before anything is decoded, so a 500 KB PNG of 13000 x 13000 pixels (a decompression
bomb) costs nothing. The upload's file name becomes the ``path`` of the answer, made safe to show:
the last component only, control characters escaped, at most 200 characters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from petnet.errors import PetnetError
from petnet.image_file import FORMATS

# what a photo is stored as (Pillow's format name -> extension petnet's training reads)
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "GIF": "gif",
              "TIFF": "tif"}


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 2**20
    max_request_bytes: int = 100 * 2**20
    max_files: int = 64
    max_pixels: int = 50_000_000


class UploadError(PetnetError):
    """A request whose uploads break a rule; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def human_size(n: int) -> str:
    """``104857600`` -> ``'100 MiB'``, ``50000`` -> ``'49 KiB'``."""
    for unit, size in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def safe_name(name, index: int) -> str:
    """The name to show for an upload: last path component, control characters escaped, capped."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)
    return shown[:200] or f"upload-{index + 1}"


def image_format(data: bytes, max_pixels: int) -> str:
    """Pillow's format name of a photo's bytes, from its header only; ``PetnetError`` when it is no
    image Pillow reads or has more than ``max_pixels`` pixels."""
    if not data:
        raise PetnetError("empty file")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height, fmt = img.width, img.height, img.format
    except Image.DecompressionBombError:
        raise PetnetError(f"image too large to decode safely (more than {max_pixels} pixels)") from None
    except Exception:  # noqa: BLE001 -- UnidentifiedImageError, a broken header (SyntaxError, ...)
        raise PetnetError(f"not an image, or not a format petnet reads ({FORMATS})") from None
    if width * height > max_pixels:
        raise PetnetError(f"image too large: {width} x {height} pixels, at most {max_pixels} "
                          "(a decompression bomb?)")
    return fmt


async def read_uploads(files, limits: Limits) -> list[tuple[str, bytes]]:
    """``(shown name, bytes)`` of each uploaded file (FastAPI ``UploadFile``s), checking counts
    and sizes (``UploadError`` 413 / 422)."""
    if not files:
        raise UploadError("no files: send one or more photos in the form field 'files'")
    if len(files) > limits.max_files:
        raise UploadError(f"{len(files)} files in one request; at most {limits.max_files}", 413)
    out = []
    for i, f in enumerate(files):
        name = safe_name(getattr(f, "filename", None), i)
        data = await f.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise UploadError(f"{name}: larger than {human_size(limits.max_file_bytes)} per photo", 413)
        out.append((name, data))
    return out
