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
``class_features`` float32 or float16 (K, 1280): each class's mean training feature, unit
                   rows (optional, for "unsure": :func:`~petnet.pets.openworld.class_features`;
                   loaded as float32)
``names``          unicode (K,): each class's display name (optional: Chinese for a folder named
                   after one of the 37 breeds, the class name itself for your own classes)
=================  ==============================================================

The last five entries came later; a file without them (e.g. the embedded ``pets37.npz`` before
them) loads with ``T = 1``, no label species, no settings and no class features, and gives the same
scores and the same "unsure" answers as before.

It is read with :func:`petnet.safe_io.load_npz`, which never unpickles: opening a model file from
someone else can never execute code, and every entry's size is checked from its header before it
is unpacked (a few KB cannot ask for gigabytes). Anything else (a pickle, a truncated file, a wrong layout) is
refused with a clear ``PetnetError``. For other runtimes use ``petnet export`` (ONNX).

Model files are recognised by their content, never by their suffix: the talk's own command writes
``--output_graph output/graph.pb``, and petnet writes its ``.npz`` archive under that name (and says
so: TensorFlow cannot read it; ``petnet export`` makes ONNX). A model and its labels file are
replaced together (:func:`save_model_and_labels`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petnet.atomic import check_output_path, write_atomically, write_text, write_together
from petnet.errors import ParamError, PetnetError
from petnet.output_guard import same_file
from petnet.safe_io import check_output_file, load_npz, open_regular, printable

FORMAT = "petnet-pets-head"
VERSION = 1
MAX_CLASSES = 25_000        # a model file's arrays are checked against this before they are read
MAX_ENTRY_BYTES = 1280 * MAX_CLASSES * 8
MAX_FILE_BYTES = MAX_ENTRY_BYTES + (64 << 20)    # all entries together, once unpacked (W and the rest)


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
    class_features: np.ndarray | None = None
    names: list[str] | None = None

    @property
    def n_classes(self) -> int:
        return len(self.labels)


def check_model_path(path, param: str = "path") -> Path:
    """An output name for a model file (:func:`check_model_name`) whose folder can be written
    (it is made). Returns the path."""
    return check_output_path(check_model_name(path, param), param, "pets.npz")


def check_model_name(path, param: str = "path") -> Path:
    """An output name for a model file: not empty, not a folder, device or FIFO (a ``ParamError``
    naming ``param`` otherwise). Any suffix is accepted (``output/graph.pb`` as in the talk): the file
    is a NumPy ``.npz`` archive whatever its name (:func:`format_note`). Creates nothing."""
    if not os.fspath(path):
        raise ParamError(param, "is empty: no path was given (an unset shell variable?); give a file name "
                                "such as pets.npz")
    path = Path(path).expanduser()
    _check_regular_output(path, param)
    return path


def format_note(path) -> str:
    """One line saying what format a model file written at ``path`` has (for the command line)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return f"{printable(path)}: petnet model (a NumPy .npz archive, no pickle)"
    what = " (TensorFlow's frozen-graph suffix)" if path.suffix.lower() in (".pb", ".pbtxt") else ""
    return (f"{printable(path)}: petnet model written as a NumPy .npz archive under the name you gave"
            f"{what}; 'petnet predict --model {printable(path)}' reads it, TensorFlow cannot "
            "('petnet export' makes ONNX)")


def _check_regular_output(path, param: str) -> Path:
    return check_output_file(path, "", error=lambda message: ParamError(param, message))


def check_output_names(model_path, labels_path, params: tuple[str, str] = ("output_graph", "output_labels")):
    """The names of a model and its labels file, checked before any work and creating nothing:
    neither is a folder, device or FIFO, and they are not the same file
    whatever the spelling (another name, a hard or symbolic link) (``ParamError`` naming
    ``params[0]`` / ``params[1]``). Returns both as paths."""
    model_path = check_model_name(model_path, params[0])
    labels_path = _check_regular_output(labels_path, params[1])
    if same_file(model_path, labels_path):
        raise ParamError(params[1], f"{printable(labels_path)} is the same file as the model "
                                    f"({params[0]}); give another name")
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
    if model.class_features is not None:
        cf = np.asarray(model.class_features)
        arrays["class_features"] = cf if cf.dtype == np.float16 else cf.astype(np.float32)
    if model.names is not None:
        arrays["names"] = np.array([str(n) for n in model.names], dtype=str)
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
    text = _labels_text(model.labels).encode("utf-8")
    write_together({model_path: lambda f: np.savez_compressed(f, **arrays),
                    labels_path: lambda f: f.write(text)}, what="model or labels file")
    return model_path, labels_path


def _strings(data: dict, key: str, what: str) -> list[str]:
    """A 1-D text entry as a list of str (a single string or numbers are malformed, not split up)."""
    arr = data[key]
    if arr.ndim != 1 or arr.dtype.kind != "U":
        raise PetnetError(what + f"its {key!r} entry is not a list of names ({arr.dtype}, shape {arr.shape})")
    return [str(s) for s in arr.tolist()]


def load_model(path) -> PetModel:
    """Read a model file written by :func:`save_model`; ``PetnetError`` for anything else.

    A regular file only (a FIFO is refused, never waited on); every entry's size is checked from
    its header before it is unpacked (:func:`petnet.safe_io.load_npz`, at most ``MAX_FILE_BYTES``:
    a zip bomb is refused as one), pickles are never loaded, and each entry must have its type and
    shape."""
    if not os.fspath(path):
        raise PetnetError("model file is empty: no path was given (an unset shell variable?); give a path")
    path = Path(path).expanduser()
    if not path.exists() and not path.is_symlink():
        raise PetnetError(f"model file {printable(path)} not found; train one with petnet.pets.retrain(...) "
                          "or the 'petnet retrain' command")
    shown = printable(path)
    what = f"{shown} is not a petnet model file (expected the .npz written by retrain); "
    with open_regular(path, "model file") as f:          # a FIFO or a device is refused, not waited on
        head = f.read(64)
    if not head.startswith(b"PK"):                 # an .npz is a zip archive
        raise PetnetError(what + f"it is {_looks_like(head)}, not an .npz archive")
    def damaged(message: str) -> PetnetError:       # load_npz's message, without the path again
        return PetnetError(what + (message[len(shown):].lstrip() if message.startswith(shown) else message))
    data = load_npz(path, "", MAX_FILE_BYTES, error=damaged)
    if str(data.get("format", "")) != FORMAT:
        raise PetnetError(what + "its 'format' entry is missing or different")
    try:
        version = int(data["version"]) if "version" in data else -1
    except (TypeError, ValueError, OverflowError):   # not one whole number
        version = -1
    if version != VERSION:
        raise PetnetError(f"{shown} has model-file version {version}; this petnet reads version "
                          f"{VERSION}: retrain it with this petnet")
    try:
        if any(data[k].dtype.kind != "f" for k in ("W", "b")):
            raise TypeError(f"W and b must be floating-point numbers, not {data['W'].dtype} and {data['b'].dtype}")
        W, b = np.asarray(data["W"], np.float32), np.asarray(data["b"], np.float32)
        labels = _strings(data, "labels", what)
        arch, pid = str(data["arch"]), str(data["preprocess_id"])
        views = tuple(_strings(data, "test_views", what)) if "test_views" in data else ("center",)
        T = float(data["temperature"]) if "temperature" in data else 1.0
        species = ([s or None for s in _strings(data, "label_species", what)]
                   if "label_species" in data else None)
        settings = json.loads(str(data["settings"])) if "settings" in data else {}
        class_feats = None
        if "class_features" in data:
            if data["class_features"].dtype.kind != "f":
                raise TypeError(f"class_features must be floating-point numbers, not {data['class_features'].dtype}")
            class_feats = np.asarray(data["class_features"], np.float32)
        names = _strings(data, "names", what) if "names" in data else None
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise PetnetError(what + f"an entry is missing or malformed ({exc})") from None
    if W.ndim != 2 or b.shape != (W.shape[1],) or len(labels) != W.shape[1] or W.shape[1] < 2:
        raise PetnetError(what + f"inconsistent shapes (W {W.shape}, b {b.shape}, {len(labels)} labels)")
    from petnet.pets.backbones import BACKBONES, FEATURE_DIM
    from petnet.pets.preprocess import VIEWS, preprocess_id
    if arch not in BACKBONES:
        raise PetnetError(f"{shown} needs the backbone {printable(arch)!r}, which this petnet does not have "
                          f"({', '.join(BACKBONES.names())})")
    if W.shape[0] != FEATURE_DIM:
        raise PetnetError(what + f"W has {W.shape[0]} inputs, the backbone gives {FEATURE_DIM}")
    if not (np.isfinite(T) and T > 0):
        raise PetnetError(what + f"its temperature {T} is not a positive number")
    if species is not None and (len(species) != len(labels) or
                                any(x not in (None, "cat", "dog") for x in species)):
        raise PetnetError(what + f"label_species must hold cat, dog or '' for each of the {len(labels)} labels")
    if class_feats is not None and (class_feats.shape != (len(labels), FEATURE_DIM) or
                                    not np.isfinite(class_feats).all()):
        raise PetnetError(what + f"its class_features must be {len(labels)} x {FEATURE_DIM} finite numbers "
                          f"(one mean feature per label), got shape {class_feats.shape}"
                          f"{'' if np.isfinite(class_feats).all() else ' with NaN or infinite values'}; "
                          "retrain it, or remove the entry")
    if names is not None and len(names) != len(labels):
        raise PetnetError(what + f"its names entry holds {len(names)} names for {len(labels)} labels")
    if any(v not in VIEWS for v in views):
        raise PetnetError(what + f"unknown test views {printable(views)}")
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        raise PetnetError(what + "its weights hold NaN or infinite values (a diverged or damaged model); "
                          "retrain it")
    if pid != preprocess_id(arch):
        import warnings
        warnings.warn(f"{shown} was trained with preprocessing {printable(pid)}; this petnet uses "
                      f"{preprocess_id(arch)}: retrain for best accuracy", stacklevel=2)
    return PetModel(W, b, labels, arch, pid, views, temperature=T, label_species=species,
                    settings=settings if isinstance(settings, dict) else {}, class_features=class_feats,
                    names=names)


def _looks_like(head: bytes) -> str:
    """A guess at what a file is from its first bytes, for error messages."""
    kinds = [(b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
             (b"\x93NUMPY", "a single .npy array"),
             (b"\x80", "pickled Python objects (e.g. an old PyTorch .pth), which petnet never loads"),
             (b"\x89HDF", "an HDF5 (Keras .h5) file")]
    for magic, kind in kinds:
        if head.startswith(magic):
            return kind
    if not head:
        return "empty"
    # a protobuf: field 1 a small number (ONNX ir_version, a TensorFlow GraphDef's node list ...)
    if len(head) > 2 and head[0] == 0x08 and head[1] < 0x80 and head[2] in (0x12, 0x1a, 0x22, 0x2a, 0x3a, 0x42):
        return ("an ONNX model (run it with onnxruntime; 'petnet predict' reads the .npz model that "
                "retrain writes beside it)")
    if head[0] == 0x0a:
        return "probably a TensorFlow graph or another protobuf"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:                  # not just a character cut at the end
            return "an unknown binary file"
        text = head[:exc.start].decode("utf-8")
    if all(c.isprintable() or c in "\t\r\n" for c in text):
        return "a text file"
    return "an unknown binary file"


def _labels_text(labels) -> str:
    return "".join(f"{label}\n" for label in labels)


def write_labels(path, labels) -> Path:
    """The labels file: one label per line, in class-index order (like retrain.py); atomic."""
    return write_text(Path(path).expanduser(), _labels_text(labels), what="labels file")


def read_labels(path) -> list[str]:
    """Labels written by :func:`write_labels` (or retrain.py's ``labels.txt``)."""
    from petnet.pets.names import read_text_file
    text = read_text_file(path, "labels file", "one label per line")
    return [line.strip() for line in text.splitlines() if line.strip()]
