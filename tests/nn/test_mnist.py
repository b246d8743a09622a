"""The MNIST idx reader: tiny files written here (good and corrupted), then the real data set."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.nn import mnist
from tests.conftest import shared_path


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    """An idx file written independently of the reader (struct, big-endian)."""
    arr = np.asarray(arr, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 + arr.ndim
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_gz(path, data: bytes):
    with gzip.open(path, "wb") as f:
        f.write(data)
    return path


def tiny_set(folder, n=7, split="train", rng=0):
    rng = np.random.default_rng(rng)
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labs = rng.integers(0, 10, n, dtype=np.uint8)
    img_name, lab_name = mnist.FILES[split]
    write_gz(folder / img_name, idx_bytes(imgs))
    write_gz(folder / lab_name, idx_bytes(labs))
    return imgs, labs


def test_good_files_round_trip(tmp_path):
    imgs, labs = tiny_set(tmp_path, 7)
    x = mnist.read_idx(tmp_path / "train-images-idx3-ubyte.gz", mnist.IMAGES_MAGIC)
    np.testing.assert_array_equal(x, imgs)
    a, b = mnist.load_split(tmp_path, "train")
    np.testing.assert_array_equal(a, imgs)
    np.testing.assert_array_equal(b, labs)
    xf, yf = mnist.load(tmp_path, "train", limit=5)
    assert xf.shape == (5, 28, 28, 1) and xf.dtype == np.float32 and yf.dtype == np.int64
    np.testing.assert_allclose(xf[..., 0], imgs[:5] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(yf, labs[:5])
    # uncompressed idx is read too
    (tmp_path / "plain").write_bytes(idx_bytes(labs))
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "plain", mnist.LABELS_MAGIC), labs)


def test_magic_numbers_are_2051_and_2049():
    assert idx_bytes(np.zeros((1, 2, 2)))[:4] == struct.pack(">I", 2051)
    assert idx_bytes(np.zeros(3))[:4] == struct.pack(">I", 2049)
    assert (mnist.IMAGES_MAGIC, mnist.LABELS_MAGIC) == (2051, 2049)


@pytest.mark.parametrize("name, data, match", [
    ("bad_magic", struct.pack(">I", 1234) + b"\0" * 20, "bad magic number 1234"),
    ("float_idx", struct.pack(">I", 0x0D01) + struct.pack(">I", 1) + b"\0" * 4, "bad magic number"),
    ("tiny", b"\0\0", "truncated: only 2 bytes"),
    ("short_header", struct.pack(">I", 2051) + struct.pack(">I", 5), "truncated header"),
    ("short_data", idx_bytes(np.ones((3, 28, 28)))[:-100], r"truncated: the header says 3 x 28 x 28 = 2352"),
    ("long_data", idx_bytes(np.ones(4)) + b"\1\2", "2 unexpected bytes"),
])
def test_corrupted_files_name_the_file_and_problem(tmp_path, name, data, match):
    path = write_gz(tmp_path / f"{name}.gz", data)
    with pytest.raises(PetnetError, match=match) as info:
        mnist.read_idx(path)
    assert str(path) in str(info.value)


def test_swapped_files_and_gzip_errors(tmp_path):
    lab = write_gz(tmp_path / "labels.gz", idx_bytes(np.arange(5)))
    with pytest.raises(PetnetError, match="magic number 2049 .*where 2051"):
        mnist.read_idx(lab, mnist.IMAGES_MAGIC)
    notgz = tmp_path / "not.gz"
    notgz.write_bytes(idx_bytes(np.arange(5)))
    with pytest.raises(PetnetError, match="not a valid gzip file") as info:
        mnist.read_idx(notgz)
    assert "not.gz" in str(info.value)
    full = gzip.compress(idx_bytes(np.arange(5000) % 256))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(PetnetError, match="gzip stream is truncated"):
        mnist.read_idx(cut)
    bad = bytearray(full)
    bad[len(bad) // 2] ^= 0xFF
    bad[len(bad) // 2 + 1] ^= 0xFF
    (tmp_path / "flip.gz").write_bytes(bytes(bad))
    with pytest.raises(PetnetError, match="flip.gz"):
        mnist.read_idx(tmp_path / "flip.gz")
    with pytest.raises(PetnetError, match="file not found"):
        mnist.read_idx(tmp_path / "missing.gz")


def test_split_consistency_errors(tmp_path):
    with pytest.raises(PetnetError, match="does not exist"):
        mnist.load_split(tmp_path / "nope")
    imgs, _ = tiny_set(tmp_path, 4)
    write_gz(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.arange(3)))
    with pytest.raises(PetnetError, match="4 images .* but 3 labels"):
        mnist.load_split(tmp_path)
    write_gz(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.array([1, 2, 11, 3])))
    with pytest.raises(PetnetError, match="label 11 is not a digit"):
        mnist.load_split(tmp_path)
    write_gz(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((4, 784)), magic=2051 - 1))
    with pytest.raises(PetnetError, match="magic number 2050"):
        mnist.load_split(tmp_path)
    with pytest.raises(PetnetError, match="unknown MNIST split"):
        mnist.load_split(tmp_path, "valid")


# README table of ../shared/data/README.md
README_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
README_MEAN = {"train": 33.3184, "test": 33.7912}


@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_real_mnist_counts_and_pixel_mean(split, n):
    folder = shared_path("data", "mnist")
    images, labels = mnist.load_split(folder, split)
    assert images.shape == (n, 28, 28) and labels.shape == (n,)
    assert np.bincount(labels, minlength=10).tolist() == README_COUNTS[split]
    assert images.mean(dtype=np.float64) == pytest.approx(README_MEAN[split], abs=5e-5)
    assert images.min() == 0 and images.max() == 255
