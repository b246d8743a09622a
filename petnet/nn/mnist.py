"""MNIST: the idx file reader, and a small CNN trained on it with the NumPy engine.

The idx format (Y. LeCun, http://yann.lecun.com/exdb/mnist/), here gzip-compressed::

    bytes 0-1   0x00 0x00
    byte  2     data type, 0x08 = unsigned byte
    byte  3     number of dimensions (3 for images, 1 for labels)
    then        one big-endian uint32 per dimension (count, rows, cols)
    then        the data, row-major, one byte per value

So the 32-bit "magic number" is 0x00000803 = **2051** for an image file and 0x00000801 =
**2049** for a label file. :func:`read_idx` checks the magic number, the dimensions and that
the data holds exactly prod(dims) bytes; every problem (missing file, not gzip, truncated
gzip stream, wrong magic, short or overlong data) is a ``PetnetError`` naming the file.

:func:`train_and_evaluate` is ``petnet nn mnist``: Conv2D(32, 3, relu) - MaxPool(2) -
Conv2D(64, 3, relu) - MaxPool(2) - Flatten - Dropout(0.5) - Dense(10, softmax), Adam,
softmax cross-entropy; the classic Keras MNIST example, which reaches about 99% test accuracy.
"""

from __future__ import annotations

import gzip
import struct
import time
import zlib
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

WHERE = ("MNIST is the four idx .gz files from http://yann.lecun.com/exdb/mnist/ "
         "(a copy lives in ../shared/data/mnist beside the project)")


# --------------------------------------------------------------------------- reader
def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise PetnetError(f"{path}: file not found; {WHERE}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except gzip.BadGzipFile as exc:
        raise PetnetError(f"{path}: not a valid gzip file ({exc}); download it again") from None
    except EOFError:
        raise PetnetError(f"{path}: the gzip stream is truncated (the download stopped early); "
                          "download it again") from None
    except zlib.error as exc:
        raise PetnetError(f"{path}: corrupted gzip data ({exc}); download it again") from None
    except OSError as exc:
        raise PetnetError(f"{path}: cannot read it ({exc})") from None


def read_idx(path, magic: int | None = None) -> np.ndarray:
    """One idx (or idx.gz) file as a ``uint8`` array of shape ``dims`` from its header.

    ``magic`` (2051 images, 2049 labels) is checked when given.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise PetnetError(f"{path}: truncated: only {len(raw)} bytes, not even the 4-byte magic number")
    (found,) = struct.unpack(">I", raw[:4])
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
        raise PetnetError(f"{path}: bad magic number {found} (0x{found:08x}); an idx file of unsigned bytes "
                          f"starts with {IMAGES_MAGIC} (images) or {LABELS_MAGIC} (labels)")
    if magic is not None and found != magic:
        kind = {IMAGES_MAGIC: "an image", LABELS_MAGIC: "a label"}
        raise PetnetError(f"{path}: magic number {found} ({kind.get(found, 'unknown')} file) where "
                          f"{magic} ({kind.get(magic, '?')} file) was expected; are the files swapped?")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise PetnetError(f"{path}: truncated header: {len(raw)} bytes, the {ndim} dimensions need {header}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if any(d == 0 for d in dims[1:]):
        raise PetnetError(f"{path}: header has a zero dimension {dims}")
    expected = int(np.prod(dims, dtype=np.int64))
    got = len(raw) - header
    if got < expected:
        raise PetnetError(f"{path}: truncated: the header says {' x '.join(map(str, dims))} = {expected} bytes "
                          f"of data, the file has {got}")
    if got > expected:
        raise PetnetError(f"{path}: {got - expected} unexpected bytes after the {expected} bytes of data the "
                          f"header announces ({' x '.join(map(str, dims))}); the file is corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_split(folder, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (n, 28, 28), labels uint8 (n,))`` of the ``'train'`` or ``'test'`` split."""
    if split not in FILES:
        raise PetnetError(f"unknown MNIST split {split!r}; use 'train' or 'test'")
    folder = Path(folder)
    if not folder.is_dir():
        raise PetnetError(f"MNIST folder {folder} does not exist; {WHERE}")
    img_name, lab_name = FILES[split]
    images = read_idx(folder / img_name, IMAGES_MAGIC)
    labels = read_idx(folder / lab_name, LABELS_MAGIC)
    if images.ndim != 3:
        raise PetnetError(f"{folder / img_name}: images need 3 dimensions (count, rows, cols), "
                          f"the header has {images.ndim}")
    if labels.ndim != 1:
        raise PetnetError(f"{folder / lab_name}: labels need 1 dimension, the header has {labels.ndim}")
    if len(images) != len(labels):
        raise PetnetError(f"{folder}: {len(images)} images in {img_name} but {len(labels)} labels in {lab_name}")
    if labels.size and labels.max() > 9:
        raise PetnetError(f"{folder / lab_name}: label {int(labels.max())} is not a digit 0-9")
    return images, labels


def load(folder, split: str = "train", limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))``, the first ``limit`` items if ``limit > 0``."""
    images, labels = load_split(folder, split)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return (images.astype(np.float32) / np.float32(255.0))[..., None], labels.astype(np.int64)
