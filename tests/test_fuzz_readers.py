"""Property-based fuzzing (Hypothesis) of every petnet reader of outside data.

For each reader -- the image opener (``open_image``, ``load_image``), the CSV reader
(``petnet.gd.data.load_xy``), the model loader (``load_model``), the labels and names readers,
the bottleneck cache entries and MNIST's ``read_idx`` -- random bytes and mutations of a valid
file (bit flips, truncation, inserted junk, 4-byte fields overwritten with huge values, and
header fields rewritten with consistent checksums) must only ever give

* a ``PetnetError`` (petnet's own error: the command line prints one ``error:`` line), or
* a correct result (checked: shapes agree, values finite, sizes within the limits),

within a time bound (``deadline``) and a memory bound: each read runs with the address space
limited (``RLIMIT_AS``) to what the process already uses plus ``MEMORY_BUDGET``; a reader that
tries to allocate more fails the property (a ``MemoryError`` is not a ``PetnetError``, and a
``PetnetError`` that only reports running out of memory is refused too).

Runs are reproducible (``derandomize=True``, no example database) and fast (a few seconds).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import struct
import tempfile
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from petnet.errors import PetnetError

try:
    import resource
except ImportError:        # Windows: no address-space limit, the time bound still holds
    resource = None

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning:PIL.*"),      # Pillow on corrupt metadata
              pytest.mark.filterwarnings("ignore::UserWarning:numpy.*")]    # NumPy on odd .npy headers

MEMORY_BUDGET = 1536 << 20        # bytes of address space one read may add
FUZZ = settings(max_examples=int(os.environ.get("PETNET_FUZZ_EXAMPLES", "100")), deadline=timedelta(seconds=5), derandomize=not os.environ.get("PETNET_FUZZ_EXAMPLES"), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@contextlib.contextmanager
def bounded_memory(budget: int = MEMORY_BUDGET):
    """Limit the address space to what is in use now plus ``budget`` (Linux), then restore it."""
    if resource is None or not os.path.exists("/proc/self/statm"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = used + budget
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.skipif(resource is None or not os.path.exists("/proc/self/statm"), reason="Linux only")
def test_the_memory_bound_is_real():
    """What the properties rely on: inside ``bounded_memory`` a large allocation fails."""
    with pytest.raises(MemoryError):
        with bounded_memory(256 << 20):
            np.ones(1 << 28)                     # 2 GB
    assert np.ones(1 << 25).sum() == 1 << 25      # and the limit is lifted afterwards


_WORK = Path(tempfile.mkdtemp(prefix="petnet-fuzz-"))


def _file(data: bytes, name: str) -> Path:
    _WORK.mkdir(parents=True, exist_ok=True)      # again if pytest-xdist tore the module down in between
    path = _WORK / name
    path.write_bytes(data)
    return path


def read_outside_data(read, data: bytes, name: str):
    """``read(path)`` of a file holding ``data`` within the bounds: its result, or None when it
    raised a ``PetnetError``. Any other exception fails the property."""
    path = _file(data, name)
    with bounded_memory():
        try:
            return read(path)
        except PetnetError as exc:
            text = str(exc)
            assert "MemoryError" not in text and "out of memory" not in text, text
            return None


# --------------------------------------------------------------------------- mutations
HUGE = [b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\x00\x00",
        b"\x00\x01\x00\x00", b"\x00\x00\x01\x00"]


def mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Bit flips, truncation, inserted junk and 4-byte fields set to huge values, of ``valid``."""
    n = len(valid)

    def flip(bits):
        b = bytearray(valid)
        for i in bits:
            b[i // 8] ^= 1 << (i % 8)
        return bytes(b)

    def overwrite(args):
        at, field = args
        return valid[:at] + field + valid[at + len(field):]

    def insert(args):
        at, junk = args
        return valid[:at] + junk + valid[at:]

    return st.one_of(
        st.lists(st.integers(0, 8 * n - 1), min_size=1, max_size=8).map(flip),
        st.integers(0, n - 1).map(lambda k: valid[:k]),
        st.tuples(st.integers(0, n - 4), st.sampled_from(HUGE)).map(overwrite),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=64)).map(insert),
    )


def outside_bytes(valid: bytes, magic: bytes = b"") -> st.SearchStrategy[bytes]:
    """Random bytes, random bytes after the format's magic number, and mutations of ``valid``."""
    return st.one_of(st.binary(max_size=2048), st.binary(max_size=2048).map(lambda b: magic + b),
                     mutations(valid))


# --------------------------------------------------------------------------- images
def _image_bytes(fmt: str, **kw) -> bytes:
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    buf = io.BytesIO()
    if fmt == "GIF":
        img.save(buf, "GIF", save_all=True, append_images=[img.rotate(180)])
    else:
        img.save(buf, fmt, **kw)
    return buf.getvalue()


PNG, JPEG, GIF = _image_bytes("PNG"), _image_bytes("JPEG", quality=90), _image_bytes("GIF")
BMP, TIFF, WEBP = _image_bytes("BMP"), _image_bytes("TIFF"), _image_bytes("WEBP")
IMAGE_MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*",
                b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"8BPS", b"\x00\x00\x01\x00", b"P6\n", b"%!PS-Adobe-3.0 EPSF"]


def _png_with_size(args) -> bytes:
    """The valid PNG with its IHDR width and height rewritten (and its checksum fixed)."""
    w, h = args
    ihdr = b"IHDR" + struct.pack(">II", w, h) + PNG[24:29]
    return PNG[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + PNG[33:]


image_bytes = st.one_of(
    st.binary(max_size=2048),
    st.tuples(st.sampled_from(IMAGE_MAGICS), st.binary(max_size=1024)).map(lambda t: t[0] + t[1]),
    st.sampled_from([PNG, JPEG, GIF, BMP, TIFF, WEBP]).flatmap(mutations),
    st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1)).map(_png_with_size),
    st.tuples(st.integers(1, 20000), st.integers(1, 20000)).map(_png_with_size),
)


def _check_image(img, rgb: bool):
    from petnet.image_file import MAX_PIXELS
    assert img.width >= 1 and img.height >= 1 and img.width * img.height <= MAX_PIXELS
    if rgb:
        assert img.mode == "RGB"
        assert np.asarray(img).shape == (img.height, img.width, 3)


@FUZZ
@given(image_bytes)
def test_open_image(data):
    from petnet.image_file import open_image
    img = read_outside_data(open_image, data, "photo.png")
    if img is not None:
        _check_image(img, rgb=False)


@FUZZ
@given(image_bytes)
def test_load_image(data):
    from petnet.pets.images import load_image
    img = read_outside_data(lambda p: load_image(p, min_side=4), data, "photo.jpg")
    if img is not None:
        _check_image(img, rgb=True)


def test_image_properties_see_real_images():
    """The strategies start from files the readers accept (so mutations are near-misses)."""
    from petnet.image_file import open_image
    for data in (PNG, JPEG, GIF, BMP, TIFF, WEBP, _png_with_size((8, 6))):
        assert read_outside_data(open_image, data, "ok.img").size == (8, 6)
    assert read_outside_data(open_image, _png_with_size((13000, 13000)), "big.png") is None


# --------------------------------------------------------------------------- CSV
CSV = b"size_sqft,bedrooms,price_usd\n2104,3,399900\n1600,3,329900\n2400,3,369000\n"
CELLS = ["1e308", "-1e308", "1e309", "nan", "-inf", "9" * 400, "0x10", "", '"', '"1,2"', "1_000", "\x00", "½", "٣"]


def _csv_with_cell(args) -> bytes:
    row, col, cell = args
    lines = CSV.decode().splitlines()
    cells = lines[row].split(",")
    cells[col] = cell
    lines[row] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


csv_bytes = st.one_of(
    outside_bytes(CSV, b"size_sqft,price_usd\n"),
    st.text(alphabet=",\n\r\"0123456789.e-+ \tsize_sqftprice", max_size=300).map(
        lambda t: b"size_sqft,price_usd\n" + t.encode()),
    st.tuples(st.integers(0, 3), st.integers(0, 2), st.sampled_from(CELLS)).map(_csv_with_cell),
)


@FUZZ
@given(csv_bytes)
def test_csv_reader(data):
    from petnet.gd.data import load_xy
    out = read_outside_data(lambda p: load_xy(p, "size_sqft", "price_usd"), data, "houses.csv")
    if out is not None:
        X, y, names = out
        assert names == ["size_sqft"] and X.shape == (len(y), 1) and len(y) >= 1
        assert np.isfinite(X).all() and np.isfinite(y).all()


def test_csv_property_sees_real_tables():
    from petnet.gd.data import load_xy
    X, y, _ = read_outside_data(lambda p: load_xy(p, "size_sqft", "price_usd"), CSV, "ok.csv")
    assert X[:, 0].tolist() == [2104, 1600, 2400] and y.tolist() == [399900, 329900, 369000]


# --------------------------------------------------------------------------- model files
def _model_arrays() -> dict:
    from petnet.pets.preprocess import preprocess_id
    rng = np.random.default_rng(0)
    return {"format": np.array("petnet-pets-head"), "version": np.array(1, np.int64),
            "W": rng.normal(size=(1280, 3)).astype(np.float32), "b": np.zeros(3, np.float32),
            "labels": np.array(["cat", "dog", "猫"]), "arch": np.array("lite0"),
            "preprocess_id": np.array(preprocess_id("lite0")), "test_views": np.array(["center"])}


def _npz(arrays: dict, compressed: bool = True) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def _npy_header(shape, dtype="<f4") -> bytes:
    """A .npy header announcing ``shape`` (and no data)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


MODEL = _npz(_model_arrays())
ODD_VALUES = [np.full((1280, 3), np.nan, np.float32), np.full((1280, 3), np.inf, np.float32),
              np.zeros((1280, 3), np.float64), np.zeros((3, 1280), np.float32), np.zeros((1280, 1), np.float32),
              np.zeros(3, np.float32), np.array(1e308), np.array(-1, np.int64), np.array(2**62, np.int64),
              np.array(["x"] * 5), np.array(""), np.array("lite9"), np.array(b"bytes"), np.zeros((0,)),
              np.array(["center", "sideways"]), np.array([np.nan], np.float32)]
ODD_HEADERS = [(10**12,), (1280, 10**6), (2**40, 2**40), (1280, 3), (0,), (2**63 - 1,)]


def _model_with(args) -> bytes:
    """The valid model with one entry replaced by an odd value, or by a header announcing a huge
    array with almost no data behind it."""
    key, replacement = args
    arrays = _model_arrays()
    if isinstance(replacement, tuple):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, arr in arrays.items():
                if name == key:
                    z.writestr(name + ".npy", _npy_header(replacement) + bytes(64))
                else:
                    with z.open(name + ".npy", "w") as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
        return buf.getvalue()
    arrays[key] = replacement
    return _npz(arrays, compressed=False)


model_bytes = st.one_of(
    outside_bytes(MODEL, b"PK\x03\x04"),
    mutations(_npz(_model_arrays(), compressed=False)),
    st.tuples(st.sampled_from(sorted(_model_arrays())),
              st.one_of(st.sampled_from(ODD_VALUES), st.sampled_from(ODD_HEADERS))).map(_model_with),
)


@FUZZ
@given(model_bytes)
@example(_model_with(("W", np.full((1280, 3), np.nan, np.float32))))    # "score = nan", exit 0
@example(_model_with(("b", np.full(3, np.inf, np.float32))))
@example(_model_with(("W", (1280, 10**6))))                             # 5 GB announced by 137 KB
@example(_model_with(("version", np.zeros(3, np.float32))))             # found: int() of an array
def test_model_loader(data):
    import warnings

    from petnet.pets.model_file import PetModel, load_model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # "trained with another preprocessing": a correct result
        model = read_outside_data(load_model, data, "pets.npz")
    if model is not None:
        assert isinstance(model, PetModel)
        k = model.W.shape[1]
        assert model.W.shape == (1280, k) and model.b.shape == (k,) and len(model.labels) == k >= 2
        assert np.isfinite(model.W).all() and np.isfinite(model.b).all()
        assert all(isinstance(label, str) for label in model.labels)


def test_model_property_sees_real_models():
    from petnet.pets.model_file import load_model
    model = read_outside_data(load_model, MODEL, "ok.npz")
    assert model.labels == ["cat", "dog", "猫"] and model.W.shape == (1280, 3)


# --------------------------------------------------------------------------- labels and names
LABELS = "abyssinian\nbeagle\n猫\n".encode()
NAMES = "abyssinian,阿比西尼亚猫\nbeagle,比格犬\n".encode()
text_junk = st.one_of(st.binary(max_size=1024), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.sampled_from([b"\x00" * 10, b"a," + b"x" * 140_000, b'"' + b"x" * 140_000, b"\xef\xbb\xbf",
                                       b"a,\x00b\n", "\u2028,\u2029\r\n".encode()]))


@FUZZ
@given(st.one_of(text_junk, mutations(LABELS)))
def test_labels_reader(data):
    from petnet.pets.model_file import read_labels
    labels = read_outside_data(read_labels, data, "labels.txt")
    if labels is not None:
        assert all(isinstance(s, str) and s == s.strip() and s and "\n" not in s for s in labels)


@FUZZ
@given(st.one_of(text_junk, mutations(NAMES)))
def test_names_reader(data):
    from petnet.pets.names import read_names
    names = read_outside_data(read_names, data, "chinese.txt")
    if names is not None:
        assert all(isinstance(k, str) and isinstance(v, str) and k for k, v in names.items())


def test_text_properties_see_real_files():
    from petnet.pets.model_file import read_labels
    from petnet.pets.names import read_names
    assert read_outside_data(read_labels, LABELS, "ok.txt") == ["abyssinian", "beagle", "猫"]
    assert read_outside_data(read_names, NAMES, "ok.txt")["beagle"] == "比格犬"


# --------------------------------------------------------------------------- bottleneck cache
def _npy(arr, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


FEATURES = _npy(np.linspace(-1, 1, 1280, dtype=np.float32))
ODD_FEATURES = [np.zeros(1280, np.float64), np.zeros(1279, np.float32), np.zeros((1, 1280), np.float32),
                np.full(1280, np.nan, np.float32), np.full(1280, np.inf, np.float32), np.zeros(0, np.float32)]
cache_bytes = st.one_of(
    outside_bytes(FEATURES, b"\x93NUMPY\x01\x00"),
    st.sampled_from([_npy(a) for a in ODD_FEATURES]),
    st.sampled_from(ODD_HEADERS).map(lambda shape: _npy_header(shape) + bytes(64)),
    st.just(_npy(np.array([{"x": 1}], dtype=object), allow_pickle=True)),
)


def _cache():
    from petnet.pets.bottleneck import BottleneckCache
    return BottleneckCache(root=_WORK / "bottlenecks", arch="lite0", key="fuzz")


SHA = "ab" * 20


@FUZZ
@given(cache_bytes)
def test_bottleneck_cache_reader(data):
    cache = _cache()
    entry = cache.entry(SHA, "center")
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(data)
    with bounded_memory():
        vec = cache._read(SHA, "center")            # a damaged entry is None: recomputed
    if vec is not None:
        assert vec.shape == (1280,) and vec.dtype == np.float32 and np.isfinite(vec).all()


def test_cache_property_sees_real_entries():
    cache = _cache()
    entry = cache.entry(SHA, "flip")
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(FEATURES)
    assert np.array_equal(cache._read(SHA, "flip"), np.linspace(-1, 1, 1280, dtype=np.float32))


# --------------------------------------------------------------------------- MNIST idx
def _idx(dims, data: bytes | None = None) -> bytes:
    body = bytes(int(np.prod(dims))) if data is None else data
    return bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body


IDX = _idx((3, 4, 5), bytes(range(60)))
idx_bytes = st.one_of(
    outside_bytes(IDX, b"\x00\x00\x08\x03"),
    st.tuples(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
              st.binary(max_size=256)).map(lambda t: _idx(t[0], t[1])),
)


def _check_idx(arr, data: bytes):
    assert arr.dtype == np.uint8 and 1 <= arr.ndim <= 4
    assert arr.size == len(data) - 4 - 4 * arr.ndim


@FUZZ
@given(idx_bytes)
@example(_idx((0, 2**21, 2**21, 2**21), b""))     # found: no data, but no such array either
@example(_idx((2**16,) * 4, b""))                  # 2**64 bytes: wrapped to 0 in int64
def test_mnist_idx_reader(data):
    from petnet.nn.mnist import read_idx
    arr = read_outside_data(read_idx, data, "images-idx3-ubyte")
    if arr is not None:
        _check_idx(arr, data)


@FUZZ
@given(st.one_of(idx_bytes.map(gzip.compress), mutations(gzip.compress(IDX))))
def test_mnist_idx_gz_reader(data):
    from petnet.nn.mnist import read_idx
    arr = read_outside_data(read_idx, data, "images-idx3-ubyte.gz")
    if arr is not None:
        _check_idx(arr, gzip.decompress(data))


def test_idx_property_sees_real_files():
    from petnet.nn.mnist import read_idx
    assert read_outside_data(read_idx, IDX, "ok-idx").tolist() == np.arange(60).reshape(3, 4, 5).tolist()
    assert read_outside_data(read_idx, gzip.compress(IDX), "ok-idx.gz").shape == (3, 4, 5)


@pytest.fixture(scope="module", autouse=True)
def _clean_up():
    yield
    import shutil
    shutil.rmtree(_WORK, ignore_errors=True)
