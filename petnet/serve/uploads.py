"""Uploaded photos and model files: size limits, a pixel limit, and names that are only ever shown,
never used.

Limits (``Limits``, all per server): bytes per file, bytes per request (checked on the raw body
before it is parsed, see ``app.BodyLimit``), files per request, and pixels per photo, read from the
image header before anything is decoded, so a 500 KB PNG of 13000 x 13000 pixels (a decompression
bomb) costs nothing. A model file: bytes as sent, and bytes its entries unpack to, read from the
archive's directory before anything is unpacked (a zip bomb costs nothing). The upload's file name becomes the ``path`` of the answer, made safe to show:
the last component only, control characters escaped, at most 200 characters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from petnet.image_file import FORMATS
from petnet.serve.messages import UploadError

# what a photo is stored as (Pillow's format name -> extension petnet's training reads)
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "GIF": "gif",
              "TIFF": "tif"}


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 2**20
    max_request_bytes: int = 100 * 2**20
    max_files: int = 64
    max_pixels: int = 50_000_000
    max_model_bytes: int = 32 * 2**20            # an uploaded model file, as sent
    max_model_unpacked: int = 64 * 2**20         # its entries together, unpacked (a zip bomb)


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
    """Pillow's format name of a photo's bytes, from its header only; ``UploadError`` when it is no
    image Pillow reads or has more than ``max_pixels`` pixels."""
    if not data:
        raise UploadError("photo_empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height, fmt = img.width, img.height, img.format
    except Image.DecompressionBombError:
        raise UploadError("photo_too_many_pixels", size=f"> {max_pixels}", max=max_pixels) from None
    except Exception:  # noqa: BLE001 -- UnidentifiedImageError, a broken header (SyntaxError, ...)
        raise UploadError("photo_not_image", formats=FORMATS) from None
    if width * height > max_pixels:
        raise UploadError("photo_too_many_pixels", size=f"{width} x {height}", max=max_pixels)
    return fmt


async def read_uploads(files, limits: Limits) -> list[tuple[str, bytes]]:
    """``(shown name, bytes)`` of each uploaded file (FastAPI ``UploadFile``s), checking counts
    and sizes (``UploadError`` 413 / 422)."""
    if not files:
        raise UploadError("no_files")
    if len(files) > limits.max_files:
        raise UploadError("too_many_files", 413, count=len(files), max=limits.max_files)
    out = []
    for i, f in enumerate(files):
        name = safe_name(getattr(f, "filename", None), i)
        data = await f.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise UploadError("file_too_large", 413, name=name, limit=human_size(limits.max_file_bytes))
        out.append((name, data))
    return out


async def read_model_upload(file, limits: Limits) -> tuple[str, bytes]:
    """``(shown name, bytes)`` of an uploaded model file, at most ``max_model_bytes`` (413)."""
    if file is None:
        raise UploadError("no_files")
    name = safe_name(getattr(file, "filename", None), 0)
    data = await file.read(limits.max_model_bytes + 1)
    if len(data) > limits.max_model_bytes:
        raise UploadError("model_file_too_large", 413, limit=human_size(limits.max_model_bytes))
    return name, data


def check_model_archive(name: str, data: bytes, limits: Limits) -> None:
    """A model file is a zip archive (``.npz``) whose entries, unpacked, are at most
    ``max_model_unpacked`` bytes together, read from its directory before anything is unpacked
    (a zip bomb is refused here; what is inside is for ``load_model`` to judge)."""
    import zipfile
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(max(0, info.file_size) for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return       # not a zip archive: load_model says what it is
    if unpacked > limits.max_model_unpacked:
        raise UploadError("model_unpacks_too_large", name=name, size=human_size(unpacked),
                          limit=human_size(limits.max_model_unpacked))
