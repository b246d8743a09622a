"""export_onnx: the ONNX graph (run by onnxruntime) gives PyTorch's probabilities within 1e-4."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.efficientnet import load_pretrained
from petnet.pets.onnx_export import cached_backbone_onnx, export_onnx
from petnet.pets.preprocess import preprocess

ort = pytest.importorskip("onnxruntime")
skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def torch_run():
    torch.set_num_threads(1)
    model = load_pretrained("lite0")
    x = np.stack([preprocess(Image.fromarray(getattr(skdata, n)()).convert("RGB"), "lite0")
                  for n in ("chelsea", "astronaut")])
    with torch.inference_mode():
        feats = model.features(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
        probs = torch.softmax(model._fc(feats), 1)
    return x, feats.numpy(), probs.numpy()


def run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["image"]
    return sess.run(["probabilities"], {"image": x})[0]


def test_imagenet_graph_matches_pytorch(tmp_path, torch_run):
    x, _, probs = torch_run
    path = export_onnx("lite0", tmp_path / "imagenet.onnx")
    out = run(path, x)
    assert out.shape == (2, 1000)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out, probs, atol=1e-4, rtol=0)
    assert (out.argmax(1) == probs.argmax(1)).all()
    assert not list(tmp_path.glob("*.tmp"))   # written atomically, no leftovers


def test_retrained_head_graph(tmp_path, torch_run):
    x, feats, _ = torch_run
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.05, (1280, 3)).astype(np.float32)
    b = np.array([0.1, -0.2, 0.3], np.float32)
    path = export_onnx("lite0", tmp_path / "pets.onnx", head=(W, b), labels=["猫", "dog", "bird"])
    out = run(path, x)
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    assert meta.custom_metadata_map["petnet.arch"] == "lite0"
    assert meta.custom_metadata_map["petnet.image_size"] == "224"
    assert json.loads(meta.custom_metadata_map["petnet.labels"]) == ["猫", "dog", "bird"]
    logits = feats.astype(np.float64) @ W + b
    ref = np.exp(logits - logits.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0)
    with pytest.raises(PetnetError, match="1280"):
        export_onnx("lite0", tmp_path / "bad.onnx", head=(W[:100], b))
    with pytest.raises(PetnetError, match="labels"):
        export_onnx("lite0", tmp_path / "bad.onnx", head=(W, b), labels=["a", "b"])
    with pytest.raises(PetnetError, match="folder"):
        export_onnx("lite0", tmp_path, head=(W, b))


def test_backbone_cache_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("PETNET_CACHE", str(tmp_path / "cache"))
    onnx_path, head_path = cached_backbone_onnx("lite0")
    assert onnx_path.parent == tmp_path / "cache" and onnx_path.exists() and head_path.exists()
    stamp = os.stat(onnx_path).st_mtime_ns
    assert cached_backbone_onnx("lite0") == (onnx_path, head_path)
    assert os.stat(onnx_path).st_mtime_ns == stamp     # not rebuilt
    assert "lite0" in onnx_path.name


def test_lite2_graph_with_odd_feature_map_sizes():
    # Lite2's 260 input gives maps of 130, 65, 33, 17, 9: SAME padding of odd sizes in ONNX
    from petnet.pets.onnx_export import build_graph

    model = load_pretrained("lite2")
    x = preprocess(Image.fromarray(skdata.chelsea()), "lite2")[None]
    with torch.inference_mode():
        ref = model.features(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).numpy()
    graph = build_graph("lite2", outputs=("features",), model=model)
    sess = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(["features"], {"image": x})[0], ref, atol=1e-4, rtol=0)
