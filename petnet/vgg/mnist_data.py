"""MNIST for the VGG chapter: ``petnet.nn.mnist``'s reader when it exists, else this tiny one.

The idx format (LeCun): a big-endian header -- magic number (0x0803 images, 0x0801 labels), the
item count, then rows and columns for images -- followed by the raw unsigned bytes.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError

FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def default_dir() -> Path:
    """``../shared/data/mnist`` beside the project (the same place the tests use)."""
    import os
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("PETNET_SHARED", root.parent / "shared")) / "data" / "mnist"


def read_idx(path: Path) -> np.ndarray:
    """One idx(.gz) file as a uint8 array of shape (n,) or (n, rows, cols)."""
    try:
        with gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise PetnetError(f"cannot read MNIST file {path}: {exc}") from None
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8 or raw[3] not in (1, 3):
        raise PetnetError(f"{path} is not an idx file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise PetnetError(f"{path} is truncated: expected {int(np.prod(dims))} bytes of data, got {data.size}")
    return data.reshape(dims)


def load_split(folder=None, split: str = "train", limit: int = 0):
    """``(images float32 (n, 28, 28, 1) in [0, 1], labels int64 (n,))`` of the first ``limit`` items."""
    folder = Path(folder) if folder else default_dir()
    img_name, lab_name = FILES[split]
    if not (folder / img_name).exists():
        raise PetnetError(f"MNIST not found in {folder} (expected {img_name}); pass --data FOLDER")
    images, labels = read_idx(folder / img_name), read_idx(folder / lab_name)
    if len(images) != len(labels):
        raise PetnetError(f"{folder}: {len(images)} images but {len(labels)} labels")
    if limit:
        images, labels = images[:limit], labels[:limit]
    return (images.astype(np.float32) / 255.0)[..., None], labels.astype(np.int64)
