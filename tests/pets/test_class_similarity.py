"""Unsure when the photo is far from every training photo of its top class (issue 10): class
features (per-class mean of the L2-normalised training features), the class-similarity rule of
``unsure``, the model file's optional ``class_features`` entry, ``retrain`` storing them,
``Recognizer``/``petnet predict --min_class_similarity``, and the embedded model on real photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.pets import PetModel, Recognizer, load_model
from petnet.pets.backbones import FEATURE_DIM
from petnet.pets.model_file import save_model
from petnet.pets.openworld import (DEFAULT_MIN_CLASS_SIMILARITY, class_features, class_similarity,
                                   photo_features, unsure)
from petnet.pets.preprocess import preprocess_id
from tests.pets.test_bottleneck import FakeBackbone

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED = ROOT / "petnet" / "pets" / "data" / "pets37.npz"


def test_photo_and_class_features_by_hand():
    # two views of one photo: each normalised, averaged, normalised again
    f = np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]]])
    expect = np.array([0.6, 0.8, 1.0]) / np.linalg.norm([0.6, 0.8, 1.0])
    np.testing.assert_allclose(photo_features(f)[0], expect)
    np.testing.assert_allclose(photo_features(f[:, 0])[0], [0.6, 0.8, 0.0])     # (n, D): one view
    X = np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 5.0], [0, 0, 1.0]])
    C = class_features(X, [0, 0, 1, 1], 3)
    assert C.dtype == np.float32 and C.shape == (3, 3)
    np.testing.assert_allclose(C[0], [2 ** -0.5, 2 ** -0.5, 0], rtol=1e-6)   # the mean of two unit vectors
    np.testing.assert_allclose(C[1], [0, 0, 1])                              # length does not count
    np.testing.assert_array_equal(C[2], 0)                                   # no photos: a zero row
    s = class_similarity(np.array([[1.0, 1.0, 0], [0, 0, 3.0], [0, 0, 3.0]]), C, [0, 0, 2])
    np.testing.assert_allclose(s, [1.0, 0.0, 0.0], atol=1e-6)
    with pytest.raises(PetnetError, match=r"y must hold one class index \(0..1\) per photo \(4\)"):
        class_features(X, [0, 1], 2)
    with pytest.raises(PetnetError, match="y must hold one class index"):
        class_features(X, [0, 1, 2, 2], 2)
    with pytest.raises(PetnetError, match=r"class features must have shape \(K, 3\)"):
        class_similarity(X, np.zeros((2, 4)), [0, 0, 1, 1])


def test_unsure_when_far_from_the_class_mean():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 64))
    train = np.r_[centres[0] + 0.3 * rng.normal(size=(20, 64)), centres[1] + 0.3 * rng.normal(size=(20, 64))]
    C = class_features(train, np.repeat([0, 1], 20), 2)
    near = centres[0] + 0.3 * rng.normal(size=64)          # a new photo of class 0
    far = rng.normal(size=64)                              # something else the head calls class 0
    sim = class_similarity(np.stack([near, far]), C, [0, 0])
    assert sim[0] > 0.9 and abs(sim[1]) < 0.4
    P = np.array([[0.95, 0.05], [0.95, 0.05]])             # both confident: the probability rule is silent
    assert unsure(P, ["cat", "cat"], ["cat", "cat"]).tolist() == [False, False]
    assert unsure(P, ["cat", "cat"], ["cat", "cat"], class_similarity=sim).tolist() == [False, True]
    assert unsure(P, ["cat", "cat"], ["cat", "cat"], class_similarity=sim,
                  min_class_similarity=-1).tolist() == [False, False]
    # the other rules still apply with it
    assert unsure(P, ["dog", "cat"], ["cat", "cat"], class_similarity=[1.0, 1.0]).tolist() == [True, True]
    with pytest.raises(ParamError, match="^min_class_similarity must be"):
        unsure(P, ["cat", "cat"], ["cat", "cat"], class_similarity=sim, min_class_similarity=1.5)
    with pytest.raises(PetnetError, match="class_similarity must hold one value per photo"):
        unsure(P, ["cat", "cat"], ["cat", "cat"], class_similarity=[0.5])
    assert 0 < DEFAULT_MIN_CLASS_SIMILARITY < 1


def _model(class_features=None):
    W = np.random.default_rng(2).normal(0, 0.02, (FEATURE_DIM, 3)).astype(np.float32)
    return PetModel(W, np.array([3.0, 0.0, 0.0], np.float32), ["a", "b", "c"], "lite0",
                    preprocess_id("lite0"), ("center", "flip"), class_features=class_features)


def test_model_file_round_trip_with_and_without_class_features(tmp_path):
    cf = class_features(np.random.default_rng(3).normal(size=(6, FEATURE_DIM)), [0, 0, 1, 1, 2, 2], 3)
    save_model(tmp_path / "with.npz", _model(cf))
    save_model(tmp_path / "without.npz", _model())
    back = load_model(tmp_path / "with.npz")
    assert back.class_features.dtype == np.float32
    np.testing.assert_array_equal(back.class_features, cf)
    assert load_model(tmp_path / "without.npz").class_features is None
    with np.load(tmp_path / "without.npz") as z:
        assert "class_features" not in z.files
    # float16 storage (the embedded model's): kept as float16 in the file, read as float32
    save_model(tmp_path / "half.npz", _model(cf.astype(np.float16)))
    with np.load(tmp_path / "half.npz") as z:
        assert z["class_features"].dtype == np.float16
    half = load_model(tmp_path / "half.npz").class_features
    assert half.dtype == np.float32 and np.abs(half - cf).max() < 1e-3


@pytest.mark.parametrize("bad, problem", [(np.zeros((2, FEATURE_DIM), np.float32), r"shape \(2, 1280\)"),
                                          (np.zeros((3, 100), np.float32), r"has 100 features .* exactly 1280"),
                                          (np.full((3, FEATURE_DIM), np.nan, np.float32), "NaN or infinite"),
                                          (np.zeros((3, FEATURE_DIM), np.int32), "floating-point"),
                                          (np.full((3, FEATURE_DIM), 0.5, np.float32), "has length 17.89")])
def test_bad_class_features_refused_naming_the_file(tmp_path, bad, problem):
    path = tmp_path / "bad.npz"
    save_model(path, _model())
    with np.load(path) as z:
        arrays = dict(z)
    arrays["class_features"] = bad
    np.savez(path, **arrays)
    with pytest.raises(PetnetError, match=problem) as info:
        load_model(path)
    assert str(path) in str(info.value) and "--" not in str(info.value) and "'class_features'" in str(info.value)


def test_recognizer_class_similarity_from_the_same_features(tmp_path):
    fake = FakeBackbone()
    photos = []
    for i, colour in enumerate(((250, 20, 20), (20, 20, 250))):
        photos.append(tmp_path / f"p{i}.png")
        Image.new("RGB", (120, 90), colour).save(photos[-1])
    views = FakeBackbone().extract(photos, views=("center", "flip"))[0]
    # class "a" (the top class of every photo: b = 3) centred on the red photo
    cf = np.zeros((3, FEATURE_DIM), np.float32)
    cf[0] = class_features(views[:1], [0], 1)[0]
    rec = Recognizer(_model(cf), backbone_factory=lambda: fake, min_pet_score=0.0)
    red, blue = rec.predict(photos)
    assert fake.batches == [4]                                # no extra backbone pass
    assert red.top[0].label == blue.top[0].label == "a"
    assert red.class_similarity == pytest.approx(1.0, abs=1e-5)
    assert blue.class_similarity == pytest.approx(class_similarity(views[1:], cf, [0])[0], abs=1e-6)
    assert blue.class_similarity < DEFAULT_MIN_CLASS_SIMILARITY
    assert red.is_pet and not red.unsure and blue.unsure
    d = blue.to_dict()
    assert d["unsure"] is True and d["verdict"] == "unsure" and d["unsure_reason"] == "far_from_class"
    assert d["class_similarity"] == round(blue.class_similarity, 6)
    assert "相似度" in d["message_zh"] and "similarity" in d["message_en"]
    lenient = Recognizer(_model(cf), backbone_factory=FakeBackbone, min_pet_score=0.0, min_class_similarity=-1)
    assert not lenient.predict(photos[1])[0].unsure
    # a model without class features: no similarity, and the answers of before
    plain = Recognizer(_model(), backbone_factory=FakeBackbone, min_pet_score=0.0).predict(photos)
    assert [p.class_similarity for p in plain] == [None, None] and not any(p.unsure for p in plain)
    assert plain[1].to_dict()["class_similarity"] is None
    with pytest.raises(ParamError, match="^min_class_similarity "):
        Recognizer(_model(), min_class_similarity=2)


def test_cli_flag(tmp_path, monkeypatch, capsys):
    import petnet.pets.backbone as backbone
    monkeypatch.setattr(backbone, "Backbone", lambda *a, **k: FakeBackbone())
    photo, other = tmp_path / "red.png", tmp_path / "orange.png"
    Image.new("RGB", (120, 90), (250, 20, 20)).save(photo)
    Image.new("RGB", (120, 90), (250, 120, 20)).save(other)
    cf = np.zeros((3, FEATURE_DIM), np.float32)
    cf[0] = class_features(FakeBackbone().extract([other], views=("center", "flip"))[0], [0], 1)[0]
    save_model(tmp_path / "m.npz", _model(cf))
    args = ["predict", str(photo), "--model", str(tmp_path / "m.npz"), "--quiet", "--json", "--min_pet_score", "0"]
    assert main(args) == 0
    row = json.loads(capsys.readouterr().out)
    sim = row["class_similarity"]
    assert row["unsure"] is False and DEFAULT_MIN_CLASS_SIMILARITY < sim < 0.999
    assert main(args + ["--min-class-similarity", f"{sim + 0.0005:.6f}"]) == 0
    assert json.loads(capsys.readouterr().out)["unsure"] is True
    assert main(args + ["--min_class_similarity", "3"]) == 2
    assert "error: --min_class_similarity must be" in capsys.readouterr().err


def test_retrain_stores_the_class_features_of_its_training_photos(tmp_path):
    from petnet.pets import retrain
    from petnet.pets.bottleneck import BottleneckCache
    from petnet.pets.dataset import split
    from tests.pets.test_retrain import _synthetic_folder
    photos = _synthetic_folder(tmp_path / "photos")
    r = retrain(photos, architecture="lite0", max_iter=5, eval_step_interval=5, flip_left_right=True,
                bottleneck_dir=tmp_path / "bn", validation_percentage=20, testing_percentage=20,
                review=False, backbone_factory=FakeBackbone)
    training = set(split([p.name for p in r.paths], 20, 20)["training"])
    assert 0 < len(training) < len(r.paths)
    # a direct computation from the cached features of the training photos' test views
    idx = sorted(training)
    feats, ok, _ = BottleneckCache(tmp_path / "bn", "lite0", backbone_factory=FakeBackbone).get(
        [r.paths[i] for i in idx], views=("center", "flip"))
    assert ok == [r.paths[i] for i in idx]
    y = r.y[idx]
    F = feats / np.linalg.norm(feats, axis=-1, keepdims=True)
    F = F.mean(1) / np.linalg.norm(F.mean(1), axis=-1, keepdims=True)
    want = np.stack([F[y == k].mean(0) for k in range(3)])
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(r.model.class_features, want, atol=1e-6)
    r.save(tmp_path / "m.npz", tmp_path / "labels.txt")
    np.testing.assert_array_equal(load_model(tmp_path / "m.npz").class_features, r.model.class_features)


def test_embedded_model_has_float16_class_features():
    m = load_model(EMBEDDED)
    assert m.class_features.shape == (37, FEATURE_DIM) and m.class_features.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(m.class_features, axis=1), 1, atol=2e-3)
    with np.load(EMBEDDED) as z:
        assert z["class_features"].dtype == np.float16
        assert "temperature" not in z.files and "label_species" not in z.files


def test_embedded_model_on_real_photos(tmp_path):
    from skimage import data
    chelsea = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(chelsea)
    rec = Recognizer()
    preds = rec.predict([chelsea, *sorted((ROOT / "examples").glob("*.jpg"))])
    tabby, examples = preds[0], preds[1:]
    assert len(examples) == 5 and tabby.is_pet and tabby.species == "cat"
    assert tabby.unsure                                     # a tabby: no such breed among the 37
    assert all(p.is_pet and not p.unsure for p in examples)  # photos of the model's own breeds
    assert all(p.class_similarity > DEFAULT_MIN_CLASS_SIMILARITY + 0.1 for p in examples)
    assert 0 < tabby.class_similarity < max(p.class_similarity for p in examples)
    # the similarity rule on its own: with the probability rule loosened, a threshold above the
    # tabby's similarity flags it, and leaves the closer examples sure
    def rec_with(**kw):
        return Recognizer(backbone_factory=lambda: rec.backbone, **kw)
    assert not rec_with(min_breed_score=0.5).predict(chelsea)[0].unsure
    assert rec_with(min_breed_score=0.5, min_class_similarity=tabby.class_similarity + 0.005).predict(chelsea)[0].unsure
