"""Issue 23, item 2: the model-file schema (``petnet.pets.model_file.SCHEMA``) fuzzed with Hypothesis.

Model archives are built in memory from a valid model of K = 2..4 classes: a random subset of its
entries, each kept, or replaced by an array of a random type and shape (empty ones included), NaN
and infinities, a header announcing a huge array with no data behind it, a pickle payload (an object
array whose unpickling would create a file), the entry written twice, a list repeated x200 (the
``test_views`` that made one photo cost 2.4 GB), and unknown entries. Every archive must give either
a :class:`PetModel` that is usable as it is (one K everywhere, finite numbers, at most one of each
known view, a temperature in range) or a ``PetnetError`` of one line that names an entry --
never another exception, never more memory than the bound of ``tests/test_fuzz_readers.py``, and the
pickle never runs. The same for in-memory models given to ``check_model`` (``Recognizer``'s door for
a ``PetModel``: the web app's and Ray's workers').

Runs are reproducible (``derandomize=True``) and take a few seconds; ``PETNET_FUZZ_EXAMPLES``
multiplies them for a longer hunt (with a random seed).
"""

from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from petnet.errors import PetnetError
from petnet.pets.backbones import FEATURE_DIM
from petnet.pets.model_file import MAX_CLASSES, SCHEMA, PetModel, check_model, load_model
from petnet.pets.preprocess import VIEWS, preprocess_id
from tests import test_fuzz_readers as fuzz

pytestmark = fuzz.pytestmark

SCALE = int(os.environ.get("PETNET_FUZZ_EXAMPLES", "0")) // 100 or 1


def fuzz_settings(n: int):
    return settings(max_examples=n * SCALE, deadline=timedelta(seconds=5), derandomize=SCALE == 1, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ----------------------------------------------------------------------------- building archives
PAYLOAD_RAN = Path(fuzz._WORK) / "payload-ran"


class Payload:
    """Unpickling this creates ``PAYLOAD_RAN``: the proof that a pickle was executed."""

    def __reduce__(self):
        return (Path.touch, (PAYLOAD_RAN,))


def valid_arrays(k: int) -> dict:
    rng = np.random.default_rng(k)
    cf = rng.normal(size=(k, FEATURE_DIM))
    cf /= np.linalg.norm(cf, axis=1, keepdims=True)
    return {"format": np.array("petnet-pets-head"), "version": np.array(1, np.int64),
            "W": rng.normal(0, 0.05, (FEATURE_DIM, k)).astype(np.float32), "b": np.zeros(k, np.float32),
            "labels": np.array(["cat", "dog", "猫", "bird"][:k]), "arch": np.array("lite0"),
            "preprocess_id": np.array(preprocess_id("lite0")), "test_views": np.array(["center", "flip"]),
            "temperature": np.array(1.5), "label_species": np.array(["cat", "dog", "cat", ""][:k]),
            "settings": np.array('{"learning_rate": 0.01, "seed": 0}'),
            "class_features": cf.astype(np.float16), "names": np.array(["猫咪", "狗", "", "鸟"][:k])}


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=arr.dtype.hasobject)
    return buf.getvalue()


def huge_header(shape, dtype) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue() + bytes(64)


def archive(members) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "Duplicate name": written on purpose
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for name, data in members:
                z.writestr(f"{name}.npy", data)
    return buf.getvalue()


DTYPES = ["float16", "float32", "float64", "int8", "int64", "uint16", "bool", "complex64", "<U1", "<U7", "<U400",
          "S4", "datetime64[D]", "V8"]
STRINGS = ["", "center", "flip", "zoom", "sideways", "cat", "dog", "猫", " cat", "a\nb", "x" * 300, "{}", "[1]",
           '{"a": NaN}', "lite2", "lite9", "petnet-pets-head"]


@st.composite
def odd_array(draw, k: int):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    dims = draw(st.lists(st.sampled_from([0, 1, 2, 3, k, k + 1, 10, 11, FEATURE_DIM]), max_size=3))
    if np.prod(dims, dtype=np.int64) > FEATURE_DIM * 12:
        dims = dims[:1]
    arr = np.zeros(dims, dtype)
    if arr.size and dtype.kind == "U":
        arr[...] = draw(st.sampled_from(STRINGS))[: dtype.itemsize // 4]
    elif arr.size and dtype.kind in "fc":
        fill = draw(st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e30, 1e-30, 0.05, 1000.0]))
        with np.errstate(all="ignore"):
            arr[...] = fill
    elif arr.size and dtype.kind in "iu":
        arr[...] = draw(st.sampled_from([0, 1, 2, 7, -1, 100]) if dtype.kind == "i" else st.sampled_from([0, 1, 2]))
    return arr


@st.composite
def member(draw, name: str, valid: np.ndarray, k: int):
    how = draw(st.sampled_from(["keep"] * 6 + ["odd", "nan", "empty", "huge", "pickle", "twice", "x200"]))
    if how == "keep":
        return [(name, npy(valid))]
    if how == "odd":
        return [(name, npy(draw(odd_array(k))))]
    if how == "nan":
        arr = valid.astype(np.float64) if valid.dtype.kind in "fiu" else np.full(valid.shape, np.nan)
        with np.errstate(all="ignore"):
            arr = arr * np.nan if arr.ndim == 0 else np.where(np.arange(arr.size).reshape(arr.shape) % 7 == 0,
                                                               np.inf, arr)
        return [(name, npy(arr))]
    if how == "empty":
        return [(name, npy(np.zeros((0,) + valid.shape[1:], valid.dtype)))]
    if how == "huge":
        shape = draw(st.sampled_from([(10**9,), (FEATURE_DIM, 10**7), (10**5, FEATURE_DIM), (2**40,), (200,), ()]))
        return [(name, huge_header(shape, valid.dtype))]
    if how == "pickle":
        return [(name, npy(np.array([Payload(), "x"], dtype=object)))]
    if how == "twice":
        return [(name, npy(valid)), (name, npy(draw(odd_array(k))))]
    # x200: a list entry repeated (test_views x200 took 2.4 GB for one photo), a value 200 times
    return [(name, npy(np.full(200, valid) if valid.ndim == 0 else np.tile(valid, (200,) + (1,) * (valid.ndim - 1))))]


@st.composite
def model_archives(draw):
    k = draw(st.integers(2, 4))
    arrays = valid_arrays(k)
    members = []
    for name, valid in arrays.items():
        if draw(st.integers(0, 9)) == 0:          # dropped (required or optional)
            continue
        members += draw(member(name, valid, k))
    for i in range(draw(st.integers(0, 2))):     # unknown entries: ignored, never unpacked
        members.append((f"extra{i}", draw(st.one_of(odd_array(k).map(npy),
                                                     st.just(huge_header((10**9,), "float64"))))))
    order = draw(st.permutations(range(len(members))))
    return archive([members[i] for i in order])


def valid_archive(**changes) -> bytes:
    arrays = valid_arrays(3)
    arrays.update(changes)
    return archive([(n, a if isinstance(a, bytes) else npy(a)) for n, a in arrays.items()])


# ----------------------------------------------------------------------------- the properties
ENTRY = re.compile(r"'([^']+)'")


def check_refusal(exc: PetnetError, data: bytes | None = None) -> None:
    text = str(exc)
    assert "\n" not in text, text
    assert "Traceback" not in text and "MemoryError" not in text, text
    named = set(ENTRY.findall(text))
    known = set(SCHEMA)
    if data is not None:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            known |= {n[:-4] for n in z.namelist()}
    assert named & known, f"the message names no entry: {text}"


def check_usable(model: PetModel) -> None:
    k = len(model.labels)
    assert 2 <= k <= MAX_CLASSES and model.W.shape == (FEATURE_DIM, k) and model.b.shape == (k,)
    assert model.W.dtype == np.float32 and np.isfinite(model.W).all() and np.isfinite(model.b).all()
    assert all(isinstance(label, str) and label for label in model.labels) and len(set(model.labels)) == k
    assert 1 <= len(model.test_views) <= len(VIEWS) and len(set(model.test_views)) == len(model.test_views)
    assert set(model.test_views) <= set(VIEWS)
    assert np.isfinite(model.temperature) and 0.01 <= model.temperature <= 100
    assert model.label_species is None or (len(model.label_species) == k
                                           and set(model.label_species) <= {"cat", "dog", None})
    assert model.names is None or len(model.names) == k
    if model.class_features is not None:
        assert model.class_features.shape == (k, FEATURE_DIM) and np.isfinite(model.class_features).all()
    assert isinstance(model.settings, dict)


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "trained with another preprocessing": a usable model
        return load_model(path)


def read(data: bytes):
    """The model of ``data`` or the PetnetError, within the memory bound of test_fuzz_readers."""
    path = fuzz._file(data, "model.npz")
    with fuzz.bounded_memory():
        try:
            return _load(path)
        except PetnetError as exc:
            return exc


@fuzz_settings(1500)
@given(model_archives())
@example(valid_archive(test_views=np.array(["center", "flip"] * 100)))       # the x200 of issue 23
@example(valid_archive(test_views=np.array([], dtype="<U1")))                  # an empty entry
@example(valid_archive(W=np.zeros((FEATURE_DIM, 0), np.float32)))
@example(valid_archive(labels=np.array(["cat", "cat", "dog"])))
@example(valid_archive(temperature=np.array(1e-300)))
@example(valid_archive(W=huge_header((FEATURE_DIM, 10**7), "float32")))
@example(valid_archive(b=npy(np.array([Payload()], dtype=object))))
def test_a_model_archive_is_usable_or_refused_by_one_line_naming_the_entry(data):
    PAYLOAD_RAN.unlink(missing_ok=True)
    result = read(data)
    assert not PAYLOAD_RAN.exists(), "a pickle was executed"
    if isinstance(result, PetnetError):
        check_refusal(result, data)
    else:
        check_usable(result)


def test_the_fuzzer_makes_both_kinds_and_the_issue_cases_are_refused():
    """The property is not vacuous: valid archives load, and each case of issue 23 is refused."""
    assert isinstance(read(valid_archive()), PetModel)
    cases = {"test_views x200": (valid_archive(test_views=np.array(["center", "flip"] * 100)),
                                 "its entry 'test_views' has 200 test views; a model file has from 1 to 10"),
             "duplicated view": (valid_archive(test_views=np.array(["center", "center"])),
                                 "its entry 'test_views' names a view twice"),
             "empty": (valid_archive(test_views=np.array([], dtype="<U1")), "'test_views' has 0 test views"),
             "no classes": (valid_archive(W=np.zeros((FEATURE_DIM, 0), np.float32)), "'W' has 0 classes"),
             "NaN": (valid_archive(b=np.full(3, np.nan, np.float32)), "'b' holds NaN or infinite values"),
             "wrong type": (valid_archive(W=np.zeros((FEATURE_DIM, 3), np.int64)), "'W' must be float16, float32"),
             "huge": (valid_archive(W=huge_header((FEATURE_DIM, 10**7), "float32")), "'W' has 10,000,000 classes"),
             "long strings": (valid_archive(names=np.array(["x" * 1000] * 3)), "'names' holds strings of up to 1,000"),
             "label species": (valid_archive(label_species=np.array(["cat", "fox", ""])), "'label_species' holds 'fox'"),
             "class features": (valid_archive(class_features=np.ones((3, FEATURE_DIM), np.float32)),
                                "'class_features' row 0 (cat) has length 35.78"),
             "temperature": (valid_archive(temperature=np.array(0.0)), "'temperature' is 0.0"),
             "settings": (valid_archive(settings=np.array("[1, 2]")), "'settings' must be a JSON object, not list"),
             "version": (valid_archive(version=np.array(2)), "has model-file version 2"),
             "pickle": (valid_archive(b=npy(np.array([Payload()], dtype=object))),
                        "(entry 'b') holds pickled Python objects, which petnet never loads")}
    for case, (data, said) in cases.items():
        result = read(data)
        assert isinstance(result, PetnetError) and said in str(result), (case, result)
    assert not PAYLOAD_RAN.exists()
    twice = archive([("labels", npy(np.array(["a", "b", "c"])))] + [(n, npy(a)) for n, a in valid_arrays(3).items()])
    assert "holds the entry 'labels' twice" in str(read(twice))
    unknown = valid_archive(future=np.zeros(4), other=huge_header((10**9,), "float64"))
    assert isinstance(read(unknown), PetModel)                      # unknown entries: ignored, unread


@st.composite
def pet_models(draw):
    k = draw(st.integers(2, 4))
    a = valid_arrays(k)
    kw = dict(W=a["W"], b=a["b"], labels=list(a["labels"]), arch="lite0", preprocess_id=str(a["preprocess_id"]),
              test_views=("center",), temperature=1.0, label_species=None, settings={}, class_features=None,
              names=None)
    field = draw(st.sampled_from(sorted(kw)))
    kw[field] = draw(st.sampled_from({
        "W": [a["W"][:, :1], a["W"] * np.nan, a["W"].T, np.zeros((FEATURE_DIM, k), np.int32), a["W"]],
        "b": [a["b"][:1], np.full(k, np.inf), a["b"]],
        "labels": [[], ["a"] * k, ["x"] * (k - 1), ["a\nb"] + ["c"] * (k - 1), [f"l{i}" for i in range(k)]],
        "arch": ["lite9", "", "lite0"],
        "preprocess_id": ["other", "x" * 500],
        "test_views": [(), ("center",) * 200, ("center", "flip"), ("sideways",), tuple(VIEWS)],
        "temperature": [0.0, -1.0, np.nan, 1e9, 0.5],
        "label_species": [["cat"] * (k + 1), ["fox"] * k, ["dog"] * k],
        "settings": [{"a": 1}, {"b": [1, 2]}],
        "class_features": [np.ones((k, FEATURE_DIM)), a["class_features"], np.zeros((k, 10))],
        "names": [["n"] * (k + 1), ["a\nb"] * k, ["名"] * k, ["x" * 300] * k],
    }[field]))
    return PetModel(**kw)


@fuzz_settings(500)
@given(pet_models())
def test_an_in_memory_model_is_checked_as_a_file_is(model):
    try:
        checked = check_model(model)
    except PetnetError as exc:
        check_refusal(exc)
        return
    assert checked is model
    check_usable(model)


def test_the_embedded_model_passes_the_schema():
    from petnet.pets.predict import DEFAULT_MODEL
    model = load_model(DEFAULT_MODEL)            # it lacks the optional entries but names, settings ...
    assert model.n_classes == 37 and model.test_views == ("center",) and model.class_features.shape == (37, 1280)
    assert check_model(model) is model


@pytest.mark.parametrize("doc", ["docs/pets.md", "docs/zh-CN/pets.md"])
def test_the_docs_table_is_the_schema(doc):
    """docs/pets.md's model-file table (and its Chinese twin) lists SCHEMA's entries, in order, with
    their shapes, whether they are required and their longest strings: the page cannot drift."""
    from tests.conftest import ROOT
    text = (ROOT / doc).read_text(encoding="utf-8")
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if re.match(r"^\| `(\w+)` \|", line) and line.count("|") == 7]
    assert [r[0].strip("`") for r in rows] == list(SCHEMA), doc
    for row, entry in zip(rows, SCHEMA.values()):
        shape = "(" + ", ".join(entry.shape) + ("," if len(entry.shape) == 1 else "") + ")"
        assert row[2] in ((shape,) if entry.shape else ("one value", "一个值")), (doc, row)
        assert row[3].startswith(("yes", "是") if entry.required else ("no", "否")), (doc, row)
        assert row[5].replace(",", "") == (str(entry.max_chars) if entry.max_chars else ""), (doc, row)
