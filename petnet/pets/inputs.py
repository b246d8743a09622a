"""Whatever a caller holds as a photo -> an upright 8-bit RGB ``PIL.Image`` and a name for it.

``Recognizer.predict`` takes, mixed in one list (``source`` is what its ``Prediction`` shows):

* a path (``str`` or ``pathlib.Path``): read with :func:`petnet.pets.images.load_image`; source: the path
* ``bytes`` / ``bytearray`` / ``memoryview`` of an encoded file: decoded the same way; ``"<bytes>"``
* a binary file object (anything with ``.read()``): what it reads, decoded the same way; its
  ``.name``, else ``"<file>"``
* a ``PIL.Image.Image``: turned upright (EXIF) and into RGB like a file; ``"<PIL.Image>"``
* a ``numpy`` uint8 array ``(H, W, 3)`` RGB, ``(H, W)`` gray or ``(H, W, 4)`` RGBA (composited on
  white, like a file with transparency); ``"<array>"``

Encoded inputs (paths, bytes, files) go through the same opener as ``petnet predict``, so they give
the same pixels (big JPEGs decoded at reduced scale, see ``decode_min_side``); an in-memory image is
used at the resolution given. Anything unreadable raises :class:`~petnet.pets.images.ImageError`
naming the input.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from petnet.pets.images import ImageError, load_image, to_rgb

MAX_BYTES = 256 * 2 ** 20   # an encoded photo read from a file object: at most 256 MiB
_PIL_LOCK = threading.Lock()  # a lazily opened PIL image given twice must not be decoded by two threads


def source_of(item) -> str:
    """The name a :class:`~petnet.pets.predict.Prediction` shows for ``item``."""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    if isinstance(item, Image.Image):
        return "<PIL.Image>"
    if isinstance(item, np.ndarray):
        return "<array>"
    if isinstance(item, (bytes, bytearray, memoryview)):
        return "<bytes>"
    name = getattr(item, "name", None)
    if hasattr(item, "read"):
        return os.fspath(name) if isinstance(name, (str, os.PathLike)) else "<file>"
    return f"<{type(item).__name__}>"


def open_input(item, min_side: int | None = None) -> Image.Image:
    """Decode one input (see the table above) into an upright RGB ``PIL.Image``."""
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        if path.exists() and not (path.is_file() or path.is_dir()):   # reading a FIFO would block
            raise ImageError(f"{path}: not a regular file (a FIFO, device or socket)")
        return load_image(path, min_side=min_side)
    if isinstance(item, Image.Image):
        try:
            with _PIL_LOCK:
                upright = ImageOps.exif_transpose(item)     # a new image (or a copy)
            return to_rgb(upright)
        except Exception as exc:  # noqa: BLE001 -- a lazily opened, truncated file decodes here
            raise ImageError(f"<PIL.Image>: cannot read image ({type(exc).__name__}: {exc})") from None
    if isinstance(item, np.ndarray):
        return Image.fromarray(_rgb_array(item))
    if isinstance(item, (bytes, bytearray, memoryview)):
        return _decode(io.BytesIO(bytes(item)), "<bytes>", min_side)
    if hasattr(item, "read"):
        data = item.read(MAX_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise ImageError(f"{source_of(item)}: a file opened in text mode; open it with 'rb'")
        if len(data) > MAX_BYTES:
            raise ImageError(f"{source_of(item)}: more than {MAX_BYTES >> 20} MiB, too large for a photo")
        return _decode(io.BytesIO(data), source_of(item), min_side)
    raise ImageError(f"{source_of(item)}: not a photo; give a path, bytes, a binary file, a PIL image "
                     "or a uint8 (H, W, 3) array")


def _decode(buffer: io.BytesIO, name: str, min_side: int | None) -> Image.Image:
    """Decode an in-memory encoded file with petnet's opener; errors name ``name``."""
    return load_image(buffer, min_side=min_side, name=name)


def _rgb_array(a: np.ndarray) -> np.ndarray:
    """A uint8 ``(H, W, 3)`` array from ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` (alpha on white)."""
    if a.dtype != np.uint8:
        raise ImageError(f"<array>: dtype {a.dtype}; give uint8 RGB values 0..255 "
                         "(e.g. np.asarray(pil_image) or (x * 255).round().astype(np.uint8))")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or 0 in a.shape:
        raise ImageError(f"<array>: shape {a.shape}; give (H, W, 3) RGB, (H, W) gray or (H, W, 4) RGBA")
    if a.shape[2] == 4:
        return np.asarray(to_rgb(Image.fromarray(np.ascontiguousarray(a), "RGBA")))
    return np.ascontiguousarray(a)
