"""Issue 14: the ONNX cache repairs itself -- a damaged cached graph or head is rebuilt and the run
succeeds; a cache folder that cannot be written falls back to a temporary folder, with one note."""

from __future__ import annotations

import errno
import os
import warnings

import numpy as np
import pytest

from petnet import atomic
from petnet.errors import PetnetError
from petnet.pets import onnx_export
from petnet.pets.backbone import Backbone

pytest.importorskip("onnxruntime")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PETNET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def features(arch="lite0"):
    b = Backbone(arch, engine="onnx", threads=1)
    batch = np.zeros((1, b.image_size, b.image_size, 3), np.float32)
    return b.features(batch)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "head"])
def test_a_damaged_cached_graph_is_rebuilt(cache, damage):
    onnx_path, head_path = onnx_export.cached_backbone_onnx("lite0")
    good = features()
    graph, head = onnx_path.read_bytes(), head_path.read_bytes()
    if damage == "truncated":
        onnx_path.write_bytes(graph[: len(graph) // 3])
    elif damage == "garbage":
        onnx_path.write_bytes(os.urandom(4096))
    elif damage == "empty":
        onnx_path.write_bytes(b"")
    else:
        head_path.write_bytes(head[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a repair, not a fall-back to PyTorch
        again = features()
    np.testing.assert_array_equal(again, good)
    assert onnx_path.read_bytes() == graph and head_path.read_bytes() == head     # repaired in place


def test_a_graph_that_stays_unusable_is_one_clear_error(cache, monkeypatch):
    def refuse(path):
        raise RuntimeError("INVALID_PROTOBUF : cannot parse")
    with pytest.raises(PetnetError, match="cannot be used even after rebuilding it"):
        onnx_export.load_backbone_onnx("lite0", refuse)


def test_a_read_only_cache_falls_back_to_a_temporary_folder(cache, monkeypatch):
    # tests run as root, where chmod 555 does not stop writes: the file system says "read-only"
    real = atomic.tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):
        if os.path.realpath(dir).startswith(os.path.realpath(cache)):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kwargs)
    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    with pytest.warns(UserWarning) as notes:
        onnx_path, head_path = onnx_export.cached_backbone_onnx("lite0")
    assert len(notes) == 1
    note = str(notes[0].message)
    assert "cannot write the ONNX cache" in note and "read-only" in note and str(onnx_path.parent) in note
    assert not str(onnx_path).startswith(str(cache)) and onnx_path.is_file() and head_path.is_file()
    assert not any(cache.rglob("*.onnx"))
    with pytest.warns(UserWarning, match="temporary folder"):
        assert features().shape == (1, 1280)
