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
``precision``      ``"fp32"`` / ``"int8"``: the backbone arithmetic of the features the head was
                   trained on, used again under ``precision='auto'`` (optional: ``fp32``)
=================  ==============================================================

The last six entries came later; a file without them (e.g. the embedded ``pets37.npz`` before
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
    precision: str = "fp32"

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
    if model.precision != "fp32":
        arrays["precision"] = np.array(str(model.precision))
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
    arrays = _checked_arrays(model)
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
    arrays = _checked_arrays(model)
    text = _labels_text(model.labels).encode("utf-8")
    write_together({model_path: lambda f: np.savez_compressed(f, **arrays),
                    labels_path: lambda f: f.write(text)}, what="model or labels file")
    return model_path, labels_path


# --------------------------------------------------------------------------- the schema
FLOATS = ("float16", "float32", "float64")
MAX_ENTRIES = 64            # entries in one archive, unknown ones included
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0
UNIT_TOLERANCE = 0.01       # a class_features row's length may differ from 1 by this (float16 rounding)
SPECIES = ("cat", "dog", "")
MODEL_PRECISIONS = ("fp32", "int8")


@dataclass(frozen=True)
class Entry:
    """One entry of a model file, as :func:`load_model` checks it.

    ``kind``: ``text`` (one string), ``texts`` (a list of strings), ``float`` or ``int`` numbers;
    ``shape`` in symbols: ``K`` the number of classes, ``D`` the feature size
    (:data:`~petnet.pets.backbones.FEATURE_DIM`), ``V`` the number of test views, ``()`` one value;
    ``dtypes``: the NumPy types allowed (``unicode``: ``<U``); ``required``, and ``since`` which
    file version; ``values``: what is allowed, in words; ``max_chars``: the longest string."""

    name: str
    kind: str
    shape: tuple
    dtypes: tuple
    required: bool
    since: int
    values: str
    max_chars: int = 0


SCHEMA: dict[str, Entry] = {e.name: e for e in (
    Entry("format", "text", (), ("unicode",), True, 1, f"{FORMAT!r}", 32),
    Entry("version", "int", (), ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"),
          True, 1, f"a whole number from 1 to {VERSION}"),
    Entry("W", "float", ("D", "K"), FLOATS, True, 1, "finite numbers; 2 <= K <= " + f"{MAX_CLASSES:,}"),
    Entry("b", "float", ("K",), FLOATS, True, 1, "finite numbers"),
    Entry("labels", "texts", ("K",), ("unicode",), True, 1,
          "distinct, not empty, no line break, no spaces at either end", 255),
    Entry("arch", "text", (), ("unicode",), True, 1, "a backbone of this petnet (lite0, lite1, lite2)", 32),
    Entry("preprocess_id", "text", (), ("unicode",), True, 1, "any; another than this petnet's gives a warning", 200),
    Entry("test_views", "texts", ("V",), ("unicode",), False, 1,
          "known views, each at most once (1 <= V <= 10); default center", 16),
    Entry("temperature", "float", (), FLOATS, False, 1,
          f"a finite number from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}; default 1"),
    Entry("label_species", "texts", ("K",), ("unicode",), False, 1, "cat, dog or '' for each class", 3),
    Entry("settings", "text", (), ("unicode",), False, 1, "a JSON object", 65_536),
    Entry("class_features", "float", ("K", "D"), ("float16", "float32"), False, 1,
          f"finite; each row of length 1 (within {UNIT_TOLERANCE:g}), or 0 for a class without photos"),
    Entry("names", "texts", ("K",), ("unicode",), False, 1, "no line break (empty: the default name)", 255),
    Entry("precision", "text", (), ("unicode",), False, 1, "fp32 or int8; default fp32", 8),
)}


def _bounds() -> dict[str, tuple[int, int]]:
    from petnet.pets.backbones import FEATURE_DIM
    from petnet.pets.preprocess import VIEWS
    return {"K": (2, MAX_CLASSES), "D": (FEATURE_DIM, FEATURE_DIM), "V": (1, len(VIEWS))}


def _dtype_ok(entry: Entry, dtype) -> bool:
    if entry.dtypes == ("unicode",):
        return dtype.kind == "U"
    return dtype.name in entry.dtypes


def _check_header(name: str, shape: tuple, dtype, fail, bounds: dict) -> bool:
    """An entry's type and shape from its header, before its data is read: True to read it, False
    for an unknown entry (ignored); ``fail(name, problem)`` raises otherwise."""
    entry = SCHEMA.get(name)
    if entry is None:
        return False
    if not _dtype_ok(entry, dtype):
        kinds = ("text (unicode)" if entry.dtypes == ("unicode",) else
                 "whole numbers" if entry.kind == "int" else
                 ", ".join(entry.dtypes[:-1]) + f" or {entry.dtypes[-1]} floating-point numbers")
        fail(name, f"must be {kinds}, not {dtype}")
    if len(shape) != len(entry.shape):
        want = "one value" if not entry.shape else f"an array of shape {_shape(entry.shape)}"
        fail(name, f"must be {want}, got shape {shape}")
    for n, symbol in zip(shape, entry.shape):
        low, high = bounds[symbol]
        if not low <= n <= high:
            what = {"K": "classes", "D": "features (the backbone's feature size)", "V": "test views"}[symbol]
            limit = f"exactly {low}" if low == high else f"from {low} to {high:,}"
            if symbol == "V":
                limit += " (each known view at most once)"
            fail(name, f"has {n:,} {what}; a model file has {limit}")
    if entry.max_chars and dtype.itemsize // 4 > entry.max_chars:
        fail(name, f"holds strings of up to {dtype.itemsize // 4:,} characters; at most {entry.max_chars:,}")
    return True


def _shape(dims) -> str:
    """``("K",)`` -> ``(K,)``, ``("D", 3)`` -> ``(D, 3)``: a shape as Python prints it."""
    return str(tuple(dims)).replace("'", "")


def _texts(arr) -> list[str]:
    return [str(t) for t in arr.tolist()]


def _check_values(data: dict, fail) -> PetModel:
    """The model of the entries ``data`` (their headers already checked), every value checked."""
    from petnet.pets.backbones import BACKBONES
    from petnet.pets.preprocess import VIEWS
    for name, entry in SCHEMA.items():
        if entry.required and name not in data:
            fail(name, "is missing")
    W, b = data["W"], data["b"]
    K = W.shape[1]
    for name, entry in SCHEMA.items():
        if name in data and "K" in entry.shape and data[name].shape[entry.shape.index("K")] != K:
            fail(name, f"has shape {data[name].shape}, inconsistent with the {K} classes of W "
                       f"(expected {_shape(K if d == 'K' else d for d in entry.shape)})")
    for name in ("W", "b", "class_features"):
        if name in data and not np.isfinite(data[name]).all():
            fail(name, "holds NaN or infinite values (a diverged or damaged model); retrain it")
    labels = _texts(data["labels"])
    for label in labels:
        if not label or label.splitlines() != [label] or label.strip() != label:
            fail("labels", f"holds {printable(label)!r}: a label is not empty, has no line break and no spaces "
                           "at either end (the labels file holds one per line)")
    if len(set(labels)) != len(labels):
        twice = next(lab for lab in labels if labels.count(lab) > 1)
        fail("labels", f"names the class {printable(twice)!r} twice")
    arch = str(data["arch"])
    if arch not in BACKBONES:
        fail("arch", f"needs the backbone {printable(arch)!r}, which this petnet does not have "
                     f"({', '.join(BACKBONES.names())})")
    views = tuple(_texts(data["test_views"])) if "test_views" in data else ("center",)
    unknown = [v for v in views if v not in VIEWS]
    if unknown:
        fail("test_views", f"names unknown views {printable(', '.join(unknown))} (known: {', '.join(VIEWS)})")
    if len(set(views)) != len(views):
        fail("test_views", f"names a view twice ({', '.join(views)}): each view is computed once per photo")
    T = float(data["temperature"]) if "temperature" in data else 1.0
    if not (np.isfinite(T) and MIN_TEMPERATURE <= T <= MAX_TEMPERATURE):
        fail("temperature", f"is {T}; it must be a finite number from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}")
    species = None
    if "label_species" in data:
        species = _texts(data["label_species"])
        odd = [x for x in species if x not in SPECIES]
        if odd:
            fail("label_species", f"holds {printable(odd[0])!r}; each class's species is cat, dog or ''")
        species = [x or None for x in species]
    settings = {}
    if "settings" in data:
        try:
            settings = json.loads(str(data["settings"]))
        except (ValueError, RecursionError) as exc:
            fail("settings", f"is malformed JSON ({type(exc).__name__})")
        if not isinstance(settings, dict):
            fail("settings", f"must be a JSON object, not {type(settings).__name__}")
    class_feats = None
    if "class_features" in data:
        class_feats = np.asarray(data["class_features"], np.float32)
        norms = np.linalg.norm(class_feats.astype(np.float64), axis=1)
        bad = ~((np.abs(norms - 1) <= UNIT_TOLERANCE) | (norms == 0))
        if bad.any():
            i = int(np.argmax(bad))
            fail("class_features", f"row {i} ({printable(labels[i])}) has length {norms[i]:.4g}; each row is a "
                                   "class's mean feature of length 1 (0 for a class without photos)")
    names = None
    if "names" in data:
        names = _texts(data["names"])
        for n in names:
            if n and n.splitlines() != [n]:
                fail("names", f"holds {printable(n)!r}, a name with a line break")
    precision = str(data["precision"]) if "precision" in data else "fp32"
    if precision not in MODEL_PRECISIONS:
        fail("precision", f"is {printable(precision)!r}; it is fp32 or int8")
    return PetModel(np.asarray(W, np.float32), np.asarray(b, np.float32), labels, arch, str(data["preprocess_id"]),
                    views, temperature=T, label_species=species, settings=settings, class_features=class_feats,
                    names=names, precision=precision)


def _failing(shown: str):
    def fail(name: str, problem: str):
        raise PetnetError(f"{shown} is not a usable petnet model file: its entry {name!r} {problem}")
    return fail


def check_model(model: PetModel, what: str = "the model") -> PetModel:
    """Check an in-memory :class:`PetModel` against :data:`SCHEMA`, as :func:`load_model` checks a
    file (a ``PetnetError`` naming the entry otherwise); returns ``model``. ``Recognizer`` and
    :func:`save_model` call it, so a model that a file could not hold is never used or written."""
    _checked_arrays(model, what)
    return model


def _checked_arrays(model: PetModel, what: str = "the model") -> dict:
    """:func:`check_model`, returning the arrays a model file of ``model`` holds (what the save
    functions write)."""
    if not isinstance(model, PetModel):
        raise ParamError("model", f"must be a PetModel, got {type(model).__name__}")
    fail = _failing(what)
    for name in ("W", "b", "class_features"):        # before _model_arrays turns them into float32
        value = getattr(model, name)
        if value is not None and np.asarray(value).dtype.kind != "f":
            fail(name, f"must be floating-point numbers, not {np.asarray(value).dtype}")
    try:
        arrays = _model_arrays(model)
    except (TypeError, ValueError, OverflowError) as exc:
        raise PetnetError(f"{what} is not a usable petnet model: {type(exc).__name__}: {exc}") from None
    bounds = _bounds()
    for name, arr in arrays.items():
        _check_header(name, arr.shape, arr.dtype, fail, bounds)
    _check_values(arrays, fail)
    return arrays


def load_model(path) -> PetModel:
    """Read a model file written by :func:`save_model`; ``PetnetError`` for anything else.

    A regular file only (a FIFO is refused, never waited on); every entry's header is checked
    against :data:`SCHEMA` before its data is unpacked (type, shape in classes K, features D and
    views V, longest string; :func:`petnet.safe_io.load_npz`, at most ``MAX_FILE_BYTES`` in all: a
    zip bomb is refused as one), an entry given twice is refused, unknown entries are ignored
    unread, pickles are never loaded, and then every value is checked (finite, allowed, the same K
    everywhere). A malformed file is one ``PetnetError`` line naming the entry."""
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
    fail = _failing(shown)
    bounds, count = _bounds(), [0]

    def header(name, shape, dtype) -> bool:
        count[0] += 1
        if count[0] > MAX_ENTRIES:
            raise PetnetError(what + f"it holds more than {MAX_ENTRIES} entries")
        return _check_header(name, shape, dtype, fail, bounds)
    data = load_npz(path, "", MAX_FILE_BYTES, error=damaged, check=header)
    if "format" not in data or str(data["format"]) != FORMAT:
        raise PetnetError(what + "its 'format' entry is missing or different")
    if "version" not in data:
        fail("version", "is missing")
    version = int(data["version"])
    if not SCHEMA["version"].since <= version <= VERSION:
        raise PetnetError(f"{shown} has model-file version {version} (its entry 'version'); this petnet reads "
                          f"version {VERSION}: retrain it with this petnet")
    model = _check_values(data, fail)
    from petnet.pets.preprocess import preprocess_id
    if model.preprocess_id != preprocess_id(model.arch):
        import warnings
        warnings.warn(f"{shown} was trained with preprocessing {printable(model.preprocess_id)}; this petnet uses "
                      f"{preprocess_id(model.arch)}: retrain for best accuracy", stacklevel=2)
    return model


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
