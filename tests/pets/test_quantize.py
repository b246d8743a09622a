"""int8 recognition (petnet.pets.quantize): the quantized feature graph is built once and cached,
repairs itself, stays close to fp32 (checked against the fp32 graph run directly in ONNX Runtime),
and the ``precision`` setting is checked and reaches the feature cache, model files and export."""

from __future__ import annotations

import functools
import json
import os

import numpy as np
import pytest
from PIL import Image

from petnet.errors import ParamError, PetnetError
from petnet.pets import quantize
from petnet.pets.backbone import Backbone
from petnet.pets.onnx_export import cached_int8_onnx
from petnet.pets.preprocess import preprocess
from tests.conftest import shared_path

ort = pytest.importorskip("onnxruntime")
skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private cache folder for the module: lite0's fp32 and int8 graphs are built once here."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PETNET_CACHE", str(folder))
        path = cached_int8_onnx("lite0")
        yield folder, path


def _fp32_reference(x):
    """Features from the cached fp32 graph, run directly in ONNX Runtime (not through Backbone)."""
    from petnet.pets.onnx_export import cached_backbone_onnx
    sess = ort.InferenceSession(str(cached_backbone_onnx("lite0")[0]), providers=["CPUExecutionProvider"])
    return sess.run(["features"], {"image": x})[0]


def _pictures():
    """Real photos shipped with scikit-image plus dead-leaves pictures of a seed the calibration
    never used, preprocessed for lite0."""
    imgs = [Image.fromarray(getattr(skdata, n)()).convert("RGB") for n in ("chelsea", "astronaut", "coffee")]
    rng = np.random.default_rng(7)
    imgs += [Image.fromarray(quantize.dead_leaves(rng, 300, 360)) for _ in range(3)]
    return np.stack([preprocess(im, "lite0") for im in imgs])


def test_the_int8_graph_is_built_once_and_keyed_on_what_changes_it(cache):
    folder, path = cache
    assert path.parent == folder and path.is_file()
    name = path.name
    assert name.startswith("efficientnet-lite0-int8-") and f"ort{ort.__version__}" in name
    assert f"-c{quantize.CALIBRATION_VERSION}-" in name
    from petnet.pets.onnx_export import cached_backbone_onnx
    assert quantize.file_sha256(cached_backbone_onnx("lite0")[0])[:16] in name
    stamp = os.stat(path).st_mtime_ns
    Backbone("lite0", precision="int8", threads=1)
    Backbone("lite0", precision="int8", threads=1)
    assert os.stat(path).st_mtime_ns == stamp                # not rebuilt
    assert not list(folder.glob(".*.tmp"))                   # written atomically, no leftovers


def test_concurrent_builders_leave_one_whole_file(cache):
    """Two builders at once (two processes starting on a fresh cache): each writes a whole temporary
    file and renames it, so the cached graph is a whole graph, the same bytes, and no temporary is left."""
    from concurrent.futures import ThreadPoolExecutor
    folder, path = cache
    before = path.read_bytes()
    with ThreadPoolExecutor(2) as pool:
        paths = list(pool.map(lambda _: cached_int8_onnx("lite0", rebuild=True), range(2)))
    assert paths == [path, path]
    assert path.read_bytes() == before                         # deterministic: the same graph again
    assert not list(folder.glob(".*.tmp")) and not list(folder.glob("*inferred*"))   # no side files
    ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_calibration_pictures_are_deterministic():
    a = quantize.calibration_batches("lite0", n=2)
    b = quantize.calibration_batches("lite0", n=2)
    assert len(a) == 2 and a[0].shape == (1, 224, 224, 3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], a[1])
    assert a[0].min() >= -1.0 and a[0].max() <= 1.0 and a[0].std() > 0.1   # petnet's scaling, not flat


def test_int8_features_are_close_to_fp32(cache):
    x = _pictures()
    ref = _fp32_reference(x)
    bb = Backbone("lite0", precision="int8", threads=1)
    assert bb.precision == "int8"
    got = bb.features(x)
    cos = quantize.cosine_similarity(got, ref)
    # the photos (first 3) closer than the dead-leaves pictures, which are far from what the network
    # was trained on; on this AVX2 machine full 8-bit weights (saturating) gave ~0.93 on photos
    assert cos[:3].mean() > 0.97 and cos[3:].mean() > 0.94 and cos.min() > 0.94, cos
    assert not np.allclose(got, ref, atol=1e-3)              # really another graph
    np.testing.assert_allclose(Backbone("lite0", precision="fp32", threads=1).features(x), ref, atol=1e-5)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_int8_cache_is_rebuilt(cache, damage):
    _, path = cache
    x = _pictures()[:2]
    good = Backbone("lite0", precision="int8", threads=1).features(x)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 3], "garbage": b"not an onnx graph" * 50,
                      "empty": b""}[damage])
    again = Backbone("lite0", precision="int8", threads=1).features(x)   # no traceback: rebuilt
    np.testing.assert_allclose(again, good, atol=1e-6)
    assert path.stat().st_size == len(data)


def test_the_precision_setting_is_checked():
    from petnet.pets.config import RecognizerConfig
    with pytest.raises(ParamError) as e:
        Backbone("lite0", precision="int4")
    assert e.value.param == "precision"
    with pytest.raises(ParamError) as e:
        RecognizerConfig(precision="half").checked()
    assert e.value.param == "precision"
    assert RecognizerConfig(precision="int8").checked().precision == "int8"
    assert RecognizerConfig().precision == "auto"
    # int8 runs only in ONNX Runtime on the CPU: an explicit request elsewhere is an error ...
    with pytest.raises(ParamError, match="onnx") as e:
        Backbone("lite0", engine="torch", precision="int8")
    assert e.value.param == "precision"
    with pytest.raises(ParamError) as e:
        quantize.resolve_precision("int8", "lite0", "onnx", "cuda")
    assert e.value.param == "precision"
    # ... and 'auto' gives fp32 there
    assert quantize.resolve_precision("auto", "lite2", "torch", "cpu") == "fp32"
    assert quantize.resolve_precision("auto", "lite2", "onnx", "cuda", model_precision="int8") == "fp32"
    assert Backbone("lite0", engine="torch", precision="auto").precision == "fp32"
    # 'auto' on the CPU: the model's own precision, else the architecture's measured default
    assert quantize.resolve_precision("auto", "lite0", "onnx", "cpu", model_precision="int8") == "int8"
    assert quantize.resolve_precision("auto", "lite0", "onnx", "cpu", model_precision="fp32") == "fp32"
    for arch in ("lite0", "lite1", "lite2"):
        assert quantize.resolve_precision("auto", arch) == quantize.DEFAULT_PRECISION[arch]
    assert set(quantize.DEFAULT_PRECISION.values()) <= {"fp32", "int8"}


def test_the_flag_reaches_the_config(tmp_path):
    import argparse

    from petnet.pets.cli import add_recognition_flags, recognizer_config
    p = argparse.ArgumentParser()
    add_recognition_flags(p)
    assert recognizer_config(p.parse_args([])).precision == "auto"
    assert recognizer_config(p.parse_args(["--precision", "int8"])).precision == "int8"
    with pytest.raises(SystemExit):
        p.parse_args(["--precision", "int4"])


def test_fp32_and_int8_features_never_share_a_cache_folder(tmp_path):
    from petnet.pets.bottleneck import FEATURE_VERSION, BottleneckCache
    from petnet.pets.preprocess import preprocess_id
    fp32 = BottleneckCache(tmp_path, "lite2")
    int8 = BottleneckCache(tmp_path, "lite2", precision="int8")
    assert fp32.folder == tmp_path / f"{preprocess_id('lite2')}-f{FEATURE_VERSION}"   # old caches still valid
    assert int8.folder != fp32.folder and "int8" in int8.key
    assert f"c{quantize.CALIBRATION_VERSION}" in int8.key
    with pytest.raises(ParamError):
        BottleneckCache(tmp_path, "lite2", precision="auto")


def _model(precision="fp32"):
    from petnet.pets.model_file import PetModel
    from petnet.pets.preprocess import preprocess_id
    rng = np.random.default_rng(0)
    return PetModel(rng.normal(0, 0.01, (1280, 2)).astype(np.float32), np.zeros(2, np.float32),
                    ["a", "b"], "lite0", preprocess_id("lite0"), precision=precision)


def test_the_model_file_keeps_its_precision(tmp_path):
    from petnet.pets.model_file import load_model, save_model
    from petnet.pets.predict import Recognizer
    save_model(tmp_path / "int8.npz", _model("int8"))
    save_model(tmp_path / "fp32.npz", _model("fp32"))
    assert load_model(tmp_path / "int8.npz").precision == "int8"
    assert load_model(tmp_path / "fp32.npz").precision == "fp32"
    assert "precision" not in np.load(tmp_path / "fp32.npz").files      # an fp32 file is an old file
    # a model is used at the precision it was trained at under 'auto'; an explicit setting wins
    assert Recognizer(str(tmp_path / "int8.npz")).backbone_precision() == "int8"
    assert Recognizer(str(tmp_path / "fp32.npz")).backbone_precision() == "fp32"
    assert Recognizer(str(tmp_path / "int8.npz"), precision="fp32").backbone_precision() == "fp32"
    # a wrong value is refused, naming the entry
    arrays = dict(np.load(tmp_path / "int8.npz"))
    arrays["precision"] = np.array("int4")
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(PetnetError, match="'precision'"):
        load_model(tmp_path / "bad.npz")


def test_retrain_precision_comes_from_the_backbone_it_uses():
    from petnet.pets.retrain import _training_precision
    assert _training_precision("int8", "lite0", None) == "int8"
    assert _training_precision("fp32", "lite0", None) == "fp32"
    assert _training_precision("auto", "lite0", None) == quantize.DEFAULT_PRECISION["lite0"]
    assert _training_precision("auto", "lite0", functools.partial(Backbone, "lite0", precision="int8")) == "int8"
    assert _training_precision("auto", "lite0", lambda: None) == "fp32"      # a stand-in: fp32
    with pytest.raises(ParamError) as e:
        _training_precision("int8", "lite0", lambda: None)
    assert e.value.param == "precision"


def test_retrain_on_ray_computes_at_the_stored_precision():
    """``petnet retrain --ray``: the workers' backbones get the precision retrain will store."""
    from argparse import Namespace

    from petnet.pets.retrain import _training_precision
    from petnet.scale.cli import retrain_backbone_factory
    f = retrain_backbone_factory(Namespace(ray="local", device="cpu", precision="int8"), "lite0")
    assert f.keywords["precision"] == "int8" and _training_precision("auto", "lite0", f) == "int8"
    assert f().precision == "int8"
    f = retrain_backbone_factory(Namespace(ray="local", device="cpu", precision="fp32"), "lite0")
    assert _training_precision("auto", "lite0", f) == "fp32"
    with pytest.raises(ParamError) as e:
        retrain_backbone_factory(Namespace(ray="local", device="cuda", precision="int8"), "lite0")
    assert e.value.param == "precision"


def test_retrain_stores_the_precision_and_uses_int8_features(tmp_path):
    """retrain(precision='int8') computes int8 features (a fake backbone that says so), keeps them
    in the int8 cache folder and writes precision int8 into the model."""
    from petnet.pets.retrain import retrain

    class Fake:
        arch = "lite0"
        precision = "int8"

        def extract(self, paths, views=("center",), quiet=True):
            feats = np.stack([[np.full(1280, 1.0 + (i % 2), np.float32)] * len(views)
                              for i, p in enumerate(paths)])
            feats += np.array([[[float("b/" in str(p))]] for p in paths], np.float32)
            return feats, list(paths), []

    def make(precision):
        assert precision == "int8"
        return Fake()

    for cls in ("a", "b"):
        (tmp_path / "img" / cls).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (32, 32), (i * 40, 10, 10)).save(tmp_path / "img" / cls / f"{cls}{i}.png")
    res = retrain(tmp_path / "img", architecture="lite0", max_iter=20, validation_percentage=0,
                  testing_percentage=0, bottleneck_dir=tmp_path / "bn", review=False,
                  backbone_factory=functools.partial(make, precision="int8"))
    assert res.model.precision == "int8" and res.metrics["settings"]["precision"] == "int8"
    (folder,) = (tmp_path / "bn").iterdir()
    assert "int8" in folder.name
    res.save(tmp_path / "m.npz", tmp_path / "labels.txt")
    from petnet.pets.model_file import load_model
    assert load_model(tmp_path / "m.npz").precision == "int8"


def test_export_int8_runs_in_onnxruntime_and_matches_backbone(cache, tmp_path):
    from petnet.pets.onnx_export import export_onnx
    x = _pictures()[:3]
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.05, (1280, 3)).astype(np.float32)
    b = np.array([0.1, -0.2, 0.3], np.float32)
    out = export_onnx("lite0", tmp_path / "int8.onnx", head=(W, b), labels=["x", "y", "z"], precision="int8")
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    assert meta["petnet.precision"] == "int8" and json.loads(meta["petnet.labels"]) == ["x", "y", "z"]
    got = sess.run(["probabilities"], {"image": x})[0]
    z = Backbone("lite0", precision="int8", threads=1).features(x).astype(np.float64) @ W + b
    ref = np.exp(z - z.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    # the mirrored view is kept in front of the int8 features
    flip = export_onnx("lite0", tmp_path / "flip.onnx", head=(W, b), flip=True, precision="int8")
    got2 = ort.InferenceSession(str(flip), providers=["CPUExecutionProvider"]).run(["probabilities"], {"image": x})[0]
    bb = Backbone("lite0", precision="int8", threads=1)
    views = [bb.features(x), bb.features(x[:, :, ::-1].copy())]
    ref2 = np.mean([np.exp(v @ W + b) / np.exp(v @ W + b).sum(1, keepdims=True) for v in views], axis=0)
    np.testing.assert_allclose(got2, ref2, atol=1e-5)
    # fp32 export is unchanged (and says so); a bad precision is a ParamError
    fp32 = export_onnx("lite0", tmp_path / "fp32.onnx", head=(W, b))
    assert ort.InferenceSession(str(fp32)).get_modelmeta().custom_metadata_map["petnet.precision"] == "fp32"
    with pytest.raises(ParamError) as e:
        export_onnx("lite0", tmp_path / "bad.onnx", precision="auto")
    assert e.value.param == "precision"


def test_int8_features_of_real_photos_are_close_to_fp32(cache):
    """The shared pet and no-pet photos: mean cosine similarity of int8 to fp32 features > 0.97."""
    from petnet.pets.backbone import load_views
    pets = sorted(shared_path("data", "pets", "train").rglob("*.jpg"))[::24]
    nonpets = sorted(shared_path("data", "nonpet").rglob("*.jpg"))[::16]
    x = np.concatenate([load_views(p, "lite0") for p in pets + nonpets])
    cos = quantize.cosine_similarity(Backbone("lite0", precision="int8", threads=1).features(x), _fp32_reference(x))
    assert len(cos) >= 20
    assert cos.mean() > 0.97 and cos.min() > 0.9, (cos.mean(), cos.min())
