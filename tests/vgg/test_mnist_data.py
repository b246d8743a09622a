"""The tiny MNIST idx reader: a hand-made idx file, corrupt files, and the real files' shapes."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from petnet.errors import PetnetError
from petnet.vgg.mnist_data import load_split, read_idx
from tests.conftest import shared_path


def test_hand_made_idx(tmp_path):
    imgs = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    with gzip.open(tmp_path / "x.gz", "wb") as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 3, 4) + imgs.tobytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), imgs)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x09\x03" + bytes(20))
    with pytest.raises(PetnetError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 10) + bytes(3))
    with pytest.raises(PetnetError, match="truncated"):
        read_idx(tmp_path / "short")
    with pytest.raises(PetnetError, match="not found"):
        load_split(tmp_path, "train")


def test_real_test_split():
    folder = shared_path("data", "mnist")
    x, y = load_split(folder, "test")
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (10000,) and set(np.unique(y)) == set(range(10))
    # the decoded bytes are the published file (SHA256SUMS.uncompressed), header excluded
    sums = dict(line.split()[::-1] for line in (folder / "SHA256SUMS.uncompressed").read_text().splitlines())
    labels = gzip.open(folder / "t10k-labels-idx1-ubyte.gz").read()
    assert hashlib.sha256(labels).hexdigest() == sums["t10k-labels-idx1-ubyte"]
    np.testing.assert_array_equal(np.frombuffer(labels[8:], np.uint8), y)
