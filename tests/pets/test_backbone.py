"""Backbone: ONNX Runtime and folded PyTorch agree with the plain network; extract() skips bad files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.backbone import Backbone
from petnet.pets.efficientnet import FoldedEfficientNet, load_pretrained
from petnet.pets.imagenet import CAT_CLASSES
from petnet.pets.preprocess import preprocess

skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("petnet-cache")
        mp.setenv("PETNET_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def photos():
    return [Image.fromarray(getattr(skdata, n)()).convert("RGB") for n in ("chelsea", "coffee", "rocket")]


@pytest.fixture(scope="module")
def reference(photos):
    """The plain (unfolded, NCHW, eager) network's features and logits: the reference."""
    torch.set_num_threads(1)
    model = load_pretrained("lite0")
    x = np.stack([preprocess(p, "lite0") for p in photos])
    with torch.inference_mode():
        feats = model.features(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
        logits = model._fc(feats)
    return model, x, feats.numpy(), logits.numpy()


@pytest.fixture(scope="module")
def onnx_backbone(cache):
    return Backbone("lite0", engine="onnx", threads=1)


def test_onnx_and_torch_engines_agree_with_plain_pytorch(reference, onnx_backbone):
    _, x, feats, logits = reference
    torch_bb = Backbone("lite0", engine="torch", threads=1)
    for bb in (onnx_backbone, torch_bb):
        f = bb.features(x)
        assert f.shape == (3, 1280) and f.dtype == np.float32
        np.testing.assert_allclose(f, feats, atol=1e-4, rtol=0)
        np.testing.assert_allclose(bb.imagenet_logits(f), logits, atol=1e-4, rtol=0)
    assert int(logits[0].argmax()) in CAT_CLASSES


def test_folded_batchnorm_equals_unfolded(reference):
    model, x, feats, logits = reference
    folded = FoldedEfficientNet(model)
    with torch.inference_mode():
        out = folded(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).numpy()
    np.testing.assert_allclose(out, logits, atol=1e-4, rtol=0)
    # one third fewer layers: no BatchNorm left
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())


def test_extract_skips_bad_files_and_keeps_order(tmp_path, photos, onnx_backbone):
    folder = tmp_path / "宠物"
    folder.mkdir()
    photos[0].save(folder / "cat.jpg", quality=95)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    rgba = photos[1].convert("RGBA")
    rgba.save(folder / "coffee.png")
    paths = [folder / "cat.jpg", folder / "broken.jpg", folder / "coffee.png", folder / "gone.webp"]
    views = ("center", "flip")
    feats, ok, failures = onnx_backbone.extract(paths, views=views, batch_size=2, workers=2, quiet=True)
    assert ok == [paths[0], paths[2]]
    assert [p for p, _ in failures] == [paths[1], paths[3]]
    assert all(str(p) in reason for p, reason in failures)
    assert feats.shape == (2, 2, 1280)
    # same as decoding + preprocessing by hand, view by view
    for i, p in enumerate(ok):
        img = Image.open(p).convert("RGB")
        x = np.stack([preprocess(img, "lite0", v) for v in views])
        np.testing.assert_allclose(feats[i], onnx_backbone.features(x), atol=1e-5)
    # serial decoding gives the same numbers
    again, ok2, _ = onnx_backbone.extract(paths, views=views, batch_size=3, workers=0, quiet=True)
    assert ok2 == ok
    np.testing.assert_allclose(again, feats, atol=1e-5)


def test_extract_all_bad_or_empty(tmp_path, onnx_backbone):
    feats, ok, failures = onnx_backbone.extract([], quiet=True)
    assert feats.shape == (0, 1, 1280) and ok == [] and failures == []
    bad = tmp_path / "x.png"
    bad.write_text("hello")
    feats, ok, failures = onnx_backbone.extract([bad], views=("center", "flip"), quiet=True)
    assert feats.shape == (0, 2, 1280) and len(failures) == 1


def test_bad_arguments(onnx_backbone):
    with pytest.raises(PetnetError, match="engine"):
        Backbone("lite0", engine="tpu")
    with pytest.raises(PetnetError, match="architecture"):
        Backbone("resnet50")
    with pytest.raises(PetnetError, match="224"):
        onnx_backbone.features(np.zeros((1, 100, 100, 3), np.float32))
    with pytest.raises(PetnetError, match="view"):
        onnx_backbone.extract(["a.jpg"], views=("upside_down",))


def test_device_choice_is_checked_and_cpu_is_the_default(monkeypatch):
    from petnet.errors import ParamError
    from petnet.pets import backbone as bb
    monkeypatch.setattr(bb, "_onnx_providers", lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(bb, "_torch_cuda", lambda: False)
    assert bb.resolve_device("cpu") == "cpu" and bb.resolve_device("auto") == "cpu"
    with pytest.raises(ParamError, match="device is 'cuda' but no GPU is usable here"):
        bb.resolve_device("cuda")
    with pytest.raises(ParamError, match="device must be one of auto, cpu, cuda"):
        bb.resolve_device("tpu")
    monkeypatch.setattr(bb, "_torch_cuda", lambda: True)          # a GPU that only PyTorch sees
    assert bb.resolve_device("auto") == "cuda" and bb.resolve_device("cuda", "torch") == "cuda"
    with pytest.raises(ParamError):
        bb.resolve_device("cuda", "onnx")                          # ONNX Runtime has no CUDA here
