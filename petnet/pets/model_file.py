"""The retrained model file (``retrain``'s ``output_graph``): a small, safe ``.npz``, no pickle.

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
``temperature``    float64: the logits are divided by it before the softmax (optional, 1)
``label_species``  unicode (K,): ``cat``/``dog``/``""`` per class (optional, for "unsure")
``settings``       unicode: JSON of the training settings (optional: learning rate, steps,
                   l2, optimizer, architecture, petnet version, seed ...)
=================  ==============================================================

The last three entries came later; a file without them (e.g. the embedded ``pets37.npz`` before
them) loads with ``T = 1``, no label species and no settings, and gives the same scores as before.

It is read with ``np.load(..., allow_pickle=False)``: opening a model file from someone
else can never execute code. Anything else (a pickle, a truncated file, a wrong layout) is
refused with a clear ``PetnetError``. For other runtimes use ``petnet export`` (ONNX).

The name must end in ``.npz``: ``output/graph.pb`` (the talk's command, for TensorFlow's frozen
graph) is refused rather than given a NumPy archive under a TensorFlow name. A model and its
labels file are replaced together (:func:`save_model_and_labels`).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet.atomic import _umask, check_output_path, write_atomically
from petnet.errors import ParamError, PetnetError

FORMAT = "petnet-pets-head"
VERSION = 1
MAX_CLASSES = 25_000        # a model file's arrays are checked against this before they are read
MAX_ENTRY_BYTES = 1280 * MAX_CLASSES * 8


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
    temperature: float = 1.0
    label_species: list[str | None] | None = None
    settings: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.labels)


def check_model_path(path, param: str = "path") -> Path:
    """An output name for a model file (:func:`check_model_name`) whose folder can be written
    (it is made). Returns the path."""
    return check_output_path(check_model_name(path, param), param, "pets.npz")


def check_model_name(path, param: str = "path") -> Path:
    """An output name for a model file: it ends in ``.npz`` and is not a folder, device or FIFO
    (a ``ParamError`` naming ``param`` otherwise). Creates nothing. Returns the path."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".npz":
        what = " (a TensorFlow graph)" if path.suffix.lower() in (".pb", ".pbtxt") else ""
        raise ParamError(param, f"{path}: petnet writes its model as a NumPy .npz archive, not a "
                         f"{path.suffix or 'suffix-less'} file{what}; give a name ending in .npz such as "
                         f"{path.with_suffix('.npz')} (for other runtimes, 'petnet export' writes ONNX)")
    _check_regular_output(path, param)
    return path


def _check_regular_output(path: Path, param: str) -> None:
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a device, FIFO or socket)"
        raise ParamError(param, f"{path} is {kind}; give the name of a file to write")


def check_output_names(model_path, labels_path, params: tuple[str, str] = ("output_graph", "output_labels")):
    """The names of a model and its labels file, checked before any work and creating nothing: the
    model's ends in ``.npz``, neither is a folder, device or FIFO, and they are not the same file
    (``ParamError`` naming ``params[0]`` / ``params[1]``). Returns both as paths."""
    model_path = check_model_name(model_path, params[0])
    labels_path = Path(labels_path).expanduser()
    _check_regular_output(labels_path, params[1])
    if os.path.abspath(model_path) == os.path.abspath(labels_path) or (
            labels_path.exists() and model_path.exists() and os.path.samefile(model_path, labels_path)):
        raise ParamError(params[1], f"{labels_path} is the same file as the model; give another name")
    return model_path, labels_path


def _model_arrays(model: PetModel) -> dict:
    arrays = {
        "format": np.array(FORMAT), "version": np.array(VERSION, np.int64),
        "W": np.asarray(model.W, np.float32), "b": np.asarray(model.b, np.float32),
        "labels": np.array(list(model.labels), dtype=str), "arch": np.array(model.arch),
        "preprocess_id": np.array(model.preprocess_id),
        "test_views": np.array(list(model.test_views), dtype=str),
    }
    if float(model.temperature) != 1.0:
        arrays["temperature"] = np.array(float(model.temperature), np.float64)
    if model.label_species is not None:
        arrays["label_species"] = np.array([s or "" for s in model.label_species], dtype=str)
    if model.settings:
        arrays["settings"] = np.array(json.dumps(model.settings, ensure_ascii=False, sort_keys=True,
                                                 default=json_default))
    return arrays


def json_default(obj):
    """``json.dumps``'s fallback for NumPy scalars and arrays (a setting given as ``np.int64``)."""
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def save_model(path, model: PetModel) -> Path:
    """Write ``model`` to ``path`` (``.npz``; written to a temporary file, then renamed)."""
    path = check_model_path(path)
    arrays = _model_arrays(model)
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays))
    return path


def save_model_and_labels(model_path, labels_path, model: PetModel,
                          params: tuple[str, str] = ("output_graph", "output_labels")) -> tuple[Path, Path]:
    """Write the model and its labels file as a pair: both are written to temporary files first,
    and only when both are complete are they renamed onto their names, so a failure (full disk,
    no permission) leaves the previous model *and* labels in place. ``params`` name the two paths
    in error messages."""
    model_path, labels_path = check_output_names(model_path, labels_path, params)
    check_output_path(model_path, params[0], "pets.npz")
    check_output_path(labels_path, params[1], "labels.txt")
    arrays = _model_arrays(model)
    text = "".join(f"{label}\n" for label in model.labels).encode("utf-8")
    temps = []
    try:
        for path, write in ((model_path, lambda f: np.savez_compressed(f, **arrays)),
                            (labels_path, lambda f: f.write(text))):
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append(tmp)
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(temps[0], model_path)
        os.replace(temps[1], labels_path)
    except OSError as exc:
        raise PetnetError(f"cannot write {exc.filename or model_path}: {exc.strerror or exc}; "
                          "the previous model and labels files are unchanged") from None
    finally:
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
    return model_path, labels_path




def load_model(path) -> PetModel:
    """Read a model file written by :func:`save_model`; ``PetnetError`` for anything else."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise PetnetError(f"model file {path} not found; train one with petnet.pets.retrain(...) "
                          "or the 'petnet retrain' command")
    what = f"{path} is not a petnet model file (expected the .npz written by retrain); "
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith(b"PK"):                 # an .npz is a zip archive
        raise PetnetError(what + f"it is {_looks_like(head)}, not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                _check_entry_size(z.zip, k, what)
            data = {k: z[k] for k in z.files}
    except PetnetError:         # an entry too large (a PetnetError is a ValueError, not a pickle)
        raise
    except ValueError as exc:   # pickled objects inside, or a pickle file itself
        if "pickle" not in str(exc):   # a damaged .npy header
            raise PetnetError(what + f"it is damaged ({exc})") from None
        raise PetnetError(what + f"it holds pickled Python objects, which petnet never loads ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise PetnetError(what + f"it cannot be read ({exc})") from None
    except Exception as exc:  # noqa: BLE001 -- zlib.error (a damaged stream), tokenize.TokenError (header) ...
        raise PetnetError(what + f"it is damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or str(data.get("format", "")) != FORMAT:
        raise PetnetError(what + "its 'format' entry is missing or different")
    try:
        version = int(data["version"]) if "version" in data else -1
    except (TypeError, ValueError, OverflowError):   # not one whole number
        version = -1
    if version != VERSION:
        raise PetnetError(f"{path} has model-file version {version}; this petnet reads version "
                          f"{VERSION}: retrain it with this petnet")
    try:
        W, b = np.asarray(data["W"], np.float32), np.asarray(data["b"], np.float32)
        labels = [str(s) for s in data["labels"].tolist()]
        arch, pid = str(data["arch"]), str(data["preprocess_id"])
        views = tuple(str(s) for s in data.get("test_views", np.array(["center"])).tolist())
        T = float(data["temperature"]) if "temperature" in data else 1.0
        species = ([str(s) or None for s in data["label_species"].tolist()]
                   if "label_species" in data else None)
        settings = json.loads(str(data["settings"])) if "settings" in data else {}
    except (KeyError, TypeError, ValueError) as exc:
        raise PetnetError(what + f"an entry is missing or malformed ({exc})") from None
    if W.ndim != 2 or b.shape != (W.shape[1],) or len(labels) != W.shape[1] or W.shape[1] < 2:
        raise PetnetError(what + f"inconsistent shapes (W {W.shape}, b {b.shape}, {len(labels)} labels)")
    from petnet.pets.backbones import BACKBONES, FEATURE_DIM
    from petnet.pets.preprocess import VIEWS, preprocess_id
    if arch not in BACKBONES:
        raise PetnetError(f"{path} needs the backbone {arch!r}, which this petnet does not have "
                          f"({', '.join(BACKBONES.names())})")
    if W.shape[0] != FEATURE_DIM:
        raise PetnetError(what + f"W has {W.shape[0]} inputs, the backbone gives {FEATURE_DIM}")
    if not (np.isfinite(T) and T > 0):
        raise PetnetError(what + f"its temperature {T} is not a positive number")
    if species is not None and (len(species) != len(labels) or
                                any(x not in (None, "cat", "dog") for x in species)):
        raise PetnetError(what + f"label_species must hold cat, dog or '' for each of the {len(labels)} labels")
    if any(v not in VIEWS for v in views):
        raise PetnetError(what + f"unknown test views {views}")
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        raise PetnetError(what + "its weights hold NaN or infinite values (a diverged or damaged model); "
                          "retrain it")
    if pid != preprocess_id(arch):
        import warnings
        warnings.warn(f"{path} was trained with preprocessing {pid}; this petnet uses "
                      f"{preprocess_id(arch)}: retrain for best accuracy", stacklevel=2)
    return PetModel(W, b, labels, arch, pid, views, temperature=T, label_species=species,
                    settings=settings if isinstance(settings, dict) else {})


def _check_entry_size(archive: zipfile.ZipFile, key: str, what: str) -> None:
    """Refuse an entry whose array would take more than ``MAX_ENTRY_BYTES`` once read, from its
    ``.npy`` header alone (a few KB of zeros can declare gigabytes)."""
    with archive.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                           else np.lib.format.read_array_header_2_0(f))
    n = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if n > MAX_ENTRY_BYTES:
        raise PetnetError(what + f"its entry {key!r} declares {n / 2 ** 20:.0f} MiB (shape {shape}), more "
                          f"than a model of {MAX_CLASSES} classes needs")


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
    """The labels file: one label per line, in class-index order (like retrain.py); atomic."""
    text = "".join(f"{label}\n" for label in labels).encode("utf-8")
    return write_atomically(Path(path).expanduser(), lambda f: f.write(text))


def read_labels(path) -> list[str]:
    """Labels written by :func:`write_labels` (or retrain.py's ``labels.txt``)."""
    from petnet.pets.names import read_text_file
    text = read_text_file(path, "labels file", "one label per line")
    return [line.strip() for line in text.splitlines() if line.strip()]
