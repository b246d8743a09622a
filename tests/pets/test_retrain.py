"""The softmax head, the model file, and ``petnet retrain`` end to end (real Lite0 backbone)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from petnet.pets.answer import FIELD_NAMES
from PIL import Image

from petnet.cli import main
from petnet.errors import PetnetError
from petnet.pets.head import SoftmaxHead, predict_proba, softmax
from petnet.pets.model_file import PetModel, load_model, read_labels, save_model, write_labels
from petnet.pets.preprocess import preprocess_id


# ----------------------------------------------------------------------------- head
def blobs(n_per=30, k=3, d=1280, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1, (k, d)) * 0.5
    X = np.concatenate([c + rng.normal(0, 1, (n_per, d)) for c in centers]).astype(np.float32)
    y = np.repeat(np.arange(k), n_per)
    return X * 3 + 2, y       # not scaled: the head must scale them itself


def test_softmax_matches_torch():
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(1).normal(0, 30, (5, 7))
    np.testing.assert_allclose(softmax(z), torch.softmax(torch.tensor(z), 1).numpy(), rtol=1e-12)


def test_head_learns_and_folding_is_exact():
    X, y = blobs()
    rows = []
    head = SoftmaxHead(3, max_iter=200, learning_rate=0.01, batch_size=32, eval_step_interval=50)
    head.fit(X, y, X[:10], y[:10], log=rows.append)
    assert [r["step"] for r in rows] == [50, 100, 150, 200]
    assert rows[-1]["cross_entropy"] < rows[0]["cross_entropy"] or rows[0]["cross_entropy"] < 0.05
    assert (head.predict_proba(X).argmax(1) == y).mean() == 1.0
    # one scale for all features: the std of every training value together, no centring
    assert (head.mu_ == 0).all() and np.allclose(head.sigma_, X.std(), rtol=1e-4)
    # folded weights on raw features == scaled features through the trained Dense layer
    z_std = ((X - head.mu_) / head.sigma_) @ head._dense.kernel + head._dense.bias
    np.testing.assert_allclose(X @ head.W_ + head.b_, z_std, rtol=1e-4, atol=1e-3)
    # view averaging = mean of per-view softmaxes
    X2 = np.stack([X, X[:, ::-1]], axis=1)
    P = predict_proba(head.W_, head.b_, X2)
    np.testing.assert_allclose(P, (softmax(X @ head.W_ + head.b_) + softmax(X[:, ::-1] @ head.W_ + head.b_)) / 2)


def test_the_default_head_settings_are_retrains_defaults():
    """``default_head_kwargs`` (the species head, benchmarks) lives in ``head.py`` so that nothing below
    ``retrain`` imports it; its values must stay those of ``retrain``'s signature."""
    from petnet.pets.head import default_head_kwargs, train_head
    from petnet.pets.retrain import DEFAULTS
    kw = default_head_kwargs()
    assert kw == {k: DEFAULTS[k] for k in kw} and set(kw) == {"max_iter", "learning_rate", "batch_size", "l2",
                                                              "optimizer"}
    X, y = blobs(n_per=8)
    a = train_head(X, y, 3, **kw)
    b = SoftmaxHead(3, **kw).fit(X, y)
    np.testing.assert_array_equal(a.W_, b.W_)


def test_a_diverging_learning_rate_is_an_error_not_a_model():
    X, y = blobs(n_per=10)
    head = SoftmaxHead(3, max_iter=300).fit(X, y)
    assert head.final_cross_entropy_ < 0.5 * np.log(3)
    with pytest.raises(PetnetError, match="diverged.*learning_rate 1e\\+09"):
        SoftmaxHead(3, max_iter=300, learning_rate=1e9).fit(X, y)


def test_per_feature_standardisation_is_still_available():
    X, y = blobs(n_per=10)
    head = SoftmaxHead(3, max_iter=50, scaling="per_feature").fit(X, y)
    np.testing.assert_allclose(head.mu_, X.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(head.sigma_, X.std(0) + 1e-3, rtol=1e-4)
    z = ((X - head.mu_) / head.sigma_) @ head._dense.kernel + head._dense.bias
    np.testing.assert_allclose(X @ head.W_ + head.b_, z, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="scaling"):
        SoftmaxHead(3, scaling="minmax").fit(X, y)   # validation in fit (scikit-learn)


def test_head_gradient_step_matches_torch():
    """One plain-GD step of the head equals PyTorch's autograd step on the same loss."""
    torch = pytest.importorskip("torch")
    X, y = blobs(n_per=4, k=3, d=20)
    head = SoftmaxHead(3, max_iter=1, learning_rate=0.5, batch_size=12, l2=0.1, optimizer="gd")
    head.fit(X, y)
    Xs = torch.tensor((X - head.mu_) / head.sigma_, dtype=torch.float64)
    W = torch.zeros(20, 3, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(Xs @ W + b, torch.tensor(y)) + 0.05 * (W ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(head._dense.kernel, (-0.5 * W.grad).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(head._dense.bias, (-0.5 * b.grad).numpy(), rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- model file
def _model(k=3):
    rng = np.random.default_rng(0)
    return PetModel(rng.normal(size=(1280, k)).astype(np.float32), rng.normal(size=k).astype(np.float32),
                    ["猫", "dog", "Bird"][:k], "lite0", preprocess_id("lite0"), ("center", "flip"))


def test_model_file_round_trip(tmp_path):
    m = _model()
    save_model(tmp_path / "m.npz", m)
    back = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.W, m.W)
    np.testing.assert_array_equal(back.b, m.b)
    assert back.labels == m.labels and back.arch == "lite0" and back.test_views == ("center", "flip")
    write_labels(tmp_path / "labels.txt", m.labels)
    assert (tmp_path / "labels.txt").read_text(encoding="utf-8") == "猫\ndog\nBird\n"
    assert read_labels(tmp_path / "labels.txt") == m.labels


class Evil:
    def __reduce__(self):
        return (print, ("code ran",))


def test_model_file_refuses_pickles_and_garbage(tmp_path, capsys):
    p = tmp_path / "evil.npz"
    p.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(PetnetError, match="pickled"):
        load_model(p)
    # an .npz whose array holds pickled objects
    q = tmp_path / "objects.npz"
    np.savez(q, format=np.array("petnet-pets-head"), W=np.array([Evil()], dtype=object))
    with pytest.raises(PetnetError, match="pickled"):
        load_model(q)
    assert "code ran" not in capsys.readouterr().out
    r = tmp_path / "random.npz"
    r.write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(PetnetError, match="not a petnet model file"):
        load_model(r)
    s = tmp_path / "other.npz"
    np.savez(s, x=np.zeros(3))
    with pytest.raises(PetnetError, match="format"):
        load_model(s)
    m = _model()
    save_model(tmp_path / "bad.npz", m)
    arrays = dict(np.load(tmp_path / "bad.npz"))
    np.savez(tmp_path / "bad.npz", **dict(arrays, W=arrays["W"][:, :2]))
    with pytest.raises(PetnetError, match="inconsistent"):
        load_model(tmp_path / "bad.npz")
    with pytest.raises(PetnetError, match="not found"):
        load_model(tmp_path / "missing.npz")


def test_model_file_error_says_what_the_file_is(tmp_path):
    """The usual mix-ups: the labels file, a photo, a PyTorch or Keras file given as --model."""
    from PIL import Image
    cases = {"labels.txt": ("cat\ndog\n".encode(), "a text file"),
             "photo.jpg": (None, "a JPEG image"),
             "weights.npy": (None, "a single .npy array"),
             "model.h5": (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
             "empty.npz": (b"", "empty")}
    for name, (data, kind) in cases.items():
        path = tmp_path / name
        if name == "photo.jpg":
            Image.new("RGB", (8, 8)).save(path)
        elif name == "weights.npy":
            np.save(path, np.zeros(3))
        else:
            path.write_bytes(data)
        with pytest.raises(PetnetError, match="not a petnet model file") as info:
            load_model(path)
        assert kind in str(info.value) and "pickled" not in str(info.value), (name, str(info.value))


def test_labels_file_that_is_not_text(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_bytes(b"\xff\xd8\xff\xe0 jpeg bytes")
    with pytest.raises(PetnetError, match="not UTF-8"):
        read_labels(path)
    path.write_bytes("\ufeffcat\n猫\n".encode("utf-8"))          # a BOM from Windows Notepad
    assert read_labels(path) == ["cat", "猫"]


# ----------------------------------------------------------------------------- end to end
def _synthetic_folder(root):
    """3 classes of tiny photos in awkward formats; one non-image and one broken file."""
    rng = np.random.default_rng(0)
    def noisy(base, size=(64, 48)):
        arr = np.clip(np.array(base)[None, None] + rng.normal(0, 12, (size[1], size[0], 3)), 0, 255)
        return arr.astype(np.uint8)
    red, blue, green = root / "red", root / "蓝色", root / "green"
    for d in (red, blue, green):
        d.mkdir(parents=True)
    for i in range(5):
        Image.fromarray(noisy((220, 30, 30))).save(red / f"r{i}.jpg")
        Image.fromarray(noisy((30, 40, 220))).save(blue / f"蓝_{i}.png")
        Image.fromarray(noisy((30, 200, 40))).save(green / f"g{i}.bmp")
    rgba = np.dstack([noisy((220, 30, 30)), np.full((48, 64), 180, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(red / "alpha.png")
    Image.fromarray(noisy((30, 40, 220))).convert("CMYK").save(blue / "cmyk.jpg")
    Image.fromarray(noisy((30, 200, 40))).convert("L").save(green / "gray.jpg")
    (green / "notes.txt").write_text("not a photo")
    (red / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    return root


def test_retrain_end_to_end_lite0(tmp_path, capsys):
    photos = _synthetic_folder(tmp_path / "photos")
    out = tmp_path / "out"
    summaries = tmp_path / "summaries"
    summaries.mkdir()
    (summaries / "mine.txt").write_text("user file")
    argv = ["retrain", "--image_dir", str(photos), "--architecture", "lite0",
            "--bottleneck_dir", str(tmp_path / "bn"), "--how_many_training_steps", "60",
            "--eval_step_interval", "20", "--output_graph", str(out / "m.npz"),
            "--output_labels", str(out / "labels.txt"), "--summaries_dir", str(summaries),
            "--validation_percentage", "20", "--testing_percentage", "20",
            "--flip_left_right", "--print_misclassified_test_images", "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "skipped" in text and "notes.txt" in text and "broken.jpg" in text
    assert "Step 60: Train accuracy = " in text and "Cross entropy = " in text
    assert "Final test accuracy = " in text
    m = load_model(out / "m.npz")
    assert m.labels == sorted(["red", "蓝色", "green"]) and m.arch == "lite0"
    assert m.test_views == ("center", "flip")
    assert read_labels(out / "labels.txt") == m.labels
    assert (summaries / "mine.txt").read_text() == "user file"
    runs = list(summaries.glob("run-*"))
    assert len(runs) == 1
    metrics = json.loads((runs[0] / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["images"] == 18 and metrics["history"][-1]["step"] == 60
    # a second run reuses every bottleneck
    assert main(argv) == 0
    text2 = capsys.readouterr().out
    assert "0 computed" in text2
    assert len(list(summaries.glob("run-*"))) == 2
    # predict with the trained model: the talk's format, and all training photos recognised
    assert main(["predict", str(photos), "--model", str(out / "m.npz"), "--json", "--quiet"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 18
    for r in rows:
        assert list(r) == list(FIELD_NAMES) and len(r["top"]) == 3
        assert -1 <= r["class_similarity"] <= 1          # retrain stored the class features
        assert {"label", "name", "score", "species"} == set(r["top"][0])
        assert r["top"][0]["name"] == r["top"][0]["label"]    # the user's own class names are their names
        scores = [t["score"] for t in r["top"]]
        assert scores == sorted(scores, reverse=True) and 0.99 < sum(scores) <= 1.0 + 1e-5
    true = {"red": "red", "蓝色": "蓝色", "green": "green"}
    # every colour photo is recognised (the grayscale one has lost its class colour)
    hits = [r["top"][0]["label"] == true[r["path"].split("/")[-2]] for r in rows
            if not r["path"].endswith("gray.jpg")]
    assert len(hits) == 17 and all(hits)


def test_retrain_bad_inputs(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["retrain", "--image_dir", str(empty), "--output_graph", str(tmp_path / "m.npz")]) == 2
    assert "no images" in capsys.readouterr().err
    one = tmp_path / "one"
    (one / "cat").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(one / "cat" / "a.jpg")
    Image.new("RGB", (8, 8)).save(one / "cat" / "b.jpg")
    assert main(["retrain", "--image_dir", str(one)]) == 2
    assert "only one class" in capsys.readouterr().err
    (one / "dog").mkdir()
    Image.new("RGB", (8, 8)).save(one / "dog" / "c.jpg")
    assert main(["retrain", "--image_dir", str(one)]) == 2
    assert "fewer than 2 images" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def test_distortion_flags_map_to_cached_views():
    from petnet.pets.preprocess import VIEWS
    from petnet.pets.retrain import views_for
    assert views_for() == (("center",), ("center",))
    train, test = views_for(flip_left_right=True, random_crop=True, random_scale=True, random_brightness=True)
    assert set(train) == set(VIEWS) and len(train) == len(VIEWS)
    assert test == ("center", "flip")
    assert views_for(random_brightness=True)[0] == ("center", "brighter", "darker")


def test_unwritable_outputs_are_refused_before_any_feature_is_computed(tmp_path, capsys):
    from petnet.cli import main
    photos = _synthetic_folder(tmp_path / "photos")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for flag, bad in (("--output_graph", blocker / "m.npz"), ("--output_labels", blocker / "l.txt"),
                      ("--output_graph", tmp_path)):
        argv = ["retrain", "--image_dir", str(photos), "--architecture", "lite0", "--quiet",
                "--bottleneck_dir", str(tmp_path / "bn"), "--output_graph", str(tmp_path / "m.npz"),
                "--output_labels", str(tmp_path / "l.txt"), flag, str(bad)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {flag} ") and "Traceback" not in err
        assert not (tmp_path / "bn").exists()          # nothing computed or cached yet
