"""The retrained model file (``--output_graph``): a small, safe ``.npz``, no pickle.

``retrain.py`` wrote a frozen TensorFlow graph. petnet writes only what was learned plus
what is needed to use it again, as plain arrays in a NumPy ``.npz`` archive:

=================  ==============================================================
``format``         ``"petnet-pets-head"``  (what this file is)
``version``        ``1``                   (the layout of this file)
``W``              float32 (1280, K): the new last layer, acting on raw features
``b``              float32 (K,)
``labels``         unicode (K,): class names, in class-index order
``arch``           ``"lite0"`` / ``"lite1"`` / ``"lite2"``: the backbone to run first
``preprocess_id``  how photos were preprocessed (checked against this petnet)
``test_views``     unicode (V,): views whose softmax is averaged at prediction time
=================  ==============================================================

It is read with ``np.load(..., allow_pickle=False)``: opening a model file from someone
else can never execute code. Anything else (a pickle, a truncated file, a wrong layout) is
refused with a clear ``PetnetError``. For other runtimes use ``petnet export`` (ONNX).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet.atomic import check_output_path, write_atomically
from petnet.errors import PetnetError

FORMAT = "petnet-pets-head"
VERSION = 1


@dataclass
class PetModel:
    """A retrained head and how to use it."""

    W: np.ndarray
    b: np.ndarray
    labels: list[str]
    arch: str
    preprocess_id: str
    test_views: tuple[str, ...] = ("center",)
    extra: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.labels)


def save_model(path, model: PetModel) -> Path:
    """Write ``model`` to ``path`` (``.npz``; written to a temporary file, then renamed)."""
    path = check_output_path(path, "--output_graph", "pets.npz")
    arrays = {
        "format": np.array(FORMAT), "version": np.array(VERSION, np.int64),
        "W": np.asarray(model.W, np.float32), "b": np.asarray(model.b, np.float32),
        "labels": np.array(list(model.labels), dtype=str), "arch": np.array(model.arch),
        "preprocess_id": np.array(model.preprocess_id),
        "test_views": np.array(list(model.test_views), dtype=str),
    }
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays))
    return path




def load_model(path) -> PetModel:
    """Read a model file written by :func:`save_model`; ``PetnetError`` for anything else."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PetnetError(f"model file {path} not found; train one with "
                          "'petnet retrain --image_dir PHOTOS --output_graph model.npz'")
    what = (f"{path} is not a petnet model file (expected the .npz written by 'petnet retrain "
            "--output_graph'); ")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith(b"PK"):                 # an .npz is a zip archive
        raise PetnetError(what + f"it is {_looks_like(head)}, not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as exc:   # pickled objects inside, or a pickle file itself
        raise PetnetError(what + f"it holds pickled Python objects, which petnet never loads ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise PetnetError(what + f"it cannot be read ({exc})") from None
    if not isinstance(data, dict) or str(data.get("format", "")) != FORMAT:
        raise PetnetError(what + "its 'format' entry is missing or different")
    version = int(data["version"]) if "version" in data else -1
    if version != VERSION:
        raise PetnetError(f"{path} has model-file version {version}; this petnet reads version "
                          f"{VERSION}: retrain it with this petnet")
    try:
        W, b = np.asarray(data["W"], np.float32), np.asarray(data["b"], np.float32)
        labels = [str(s) for s in data["labels"].tolist()]
        arch, pid = str(data["arch"]), str(data["preprocess_id"])
        views = tuple(str(s) for s in data.get("test_views", np.array(["center"])).tolist())
    except (KeyError, TypeError, ValueError) as exc:
        raise PetnetError(what + f"an entry is missing or malformed ({exc})") from None
    if W.ndim != 2 or b.shape != (W.shape[1],) or len(labels) != W.shape[1] or W.shape[1] < 2:
        raise PetnetError(what + f"inconsistent shapes (W {W.shape}, b {b.shape}, {len(labels)} labels)")
    from petnet.pets.preprocess import ARCHS, VIEWS, preprocess_id
    if arch not in ARCHS:
        raise PetnetError(f"{path} needs the backbone {arch!r}, which this petnet does not have "
                          f"({', '.join(ARCHS)})")
    if W.shape[0] != 1280:
        raise PetnetError(what + f"W has {W.shape[0]} inputs, the backbone gives 1280")
    if any(v not in VIEWS for v in views):
        raise PetnetError(what + f"unknown test views {views}")
    if pid != preprocess_id(arch):
        import warnings
        warnings.warn(f"{path} was trained with preprocessing {pid}; this petnet uses "
                      f"{preprocess_id(arch)}: retrain for best accuracy", stacklevel=2)
    return PetModel(W, b, labels, arch, pid, views)


def _looks_like(head: bytes) -> str:
    """A guess at what a file is from its first bytes, for error messages."""
    kinds = [(b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
             (b"\x93NUMPY", "a single .npy array"), (b"\x80", "pickled Python objects (e.g. an old PyTorch .pth), which petnet never loads"),
             (b"\x08\x01\x12", "probably an ONNX or TensorFlow protobuf"), (b"\x89HDF", "an HDF5 (Keras .h5) file")]
    for magic, kind in kinds:
        if head.startswith(magic):
            return kind
    if not head:
        return "empty"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "an unknown binary file"


def write_labels(path, labels) -> Path:
    """``--output_labels``: one label per line, in class-index order (like retrain.py)."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    return path


def read_labels(path) -> list[str]:
    """Labels written by :func:`write_labels` (or retrain.py's ``labels.txt``)."""
    from petnet.pets.names import read_text_file
    text = read_text_file(path, "labels file", "one label per line")
    return [line.strip() for line in text.splitlines() if line.strip()]
