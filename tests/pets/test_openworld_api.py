"""The open-world answers through the API and the CLI (issue 10): ``Prediction.is_pet`` ...,
``petnet predict``'s non-pet and unsure output in text, JSON and CSV, the model file's
temperature / label species / settings (old files still load), calibration keeping the order,
and ``retrain``'s calibration and review pictures.

The CLI tests use ``ToyBackbone``: a bright photo looks like an espresso to its ImageNet head,
a dark one like a pug, so the expected lines are computed by hand; two tests run the real
network on scikit-image's photos and a pug pasted into a big scene."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.errors import ParamError
from petnet.pets import PetModel, Recognizer, load_model
from petnet.pets.answer import FIELD_NAMES, csv_header
from petnet.pets.backbones import FEATURE_DIM
from petnet.pets.model_file import save_model
from petnet.pets.preprocess import preprocess_id
from tests.pets.test_bottleneck import FakeBackbone

ROOT = Path(__file__).resolve().parents[2]
PUG = ROOT / "examples" / "pug_168.jpg"
ESPRESSO, PUG_CLASS = 967, 254
P_TOP = float(np.exp(10) / (np.exp(10) + 999))          # softmax of one logit 10 among 999 zeros
P_REST = (1 - P_TOP) / 999                              # each of the other 999 classes
PET_DARK = P_TOP + 122 * P_REST                         # the pug + 122 other cat and dog classes
def shifted(mass, at=0.35):
    """The pet score of the ImageNet-mass rule (backbones without a learned scorer): 0.5 at 0.35."""
    z = np.log(mass / (1 - mass)) - np.log(at / (1 - at))
    return float(1 / (1 + np.exp(-z)))


TOY = np.exp([1.0, 0.5, 0.0]) / np.exp([1.0, 0.5, 0.0]).sum()     # the toy model's scores


class ToyBackbone(FakeBackbone):
    """Features of :class:`FakeBackbone` (pooled pixels); ImageNet logits: 10 on espresso for a
    bright view (mean feature > 0), 10 on pug for a dark one, 0 elsewhere."""

    def imagenet_logits(self, feats):
        f = np.asarray(feats, np.float64)
        z = np.zeros((len(f), 1000))
        bright = f.mean(axis=1) > 0
        z[bright, ESPRESSO] = 10.0
        z[~bright, PUG_CLASS] = 10.0
        return z


def _toy_model(temperature=1.0, label_species=("cat", "dog", None)):
    """3 classes whose scores do not depend on the photo: softmax([1, 0.5, 0]) = 0.506, 0.307, 0.186."""
    return PetModel(np.zeros((FEATURE_DIM, 3), np.float32), np.array([1.0, 0.5, 0.0], np.float32),
                    ["cat", "dog", "bird"], "lite0", preprocess_id("lite0"), ("center",),
                    temperature=temperature, label_species=list(label_species))


@pytest.fixture
def photos(tmp_path):
    bright, dark = tmp_path / "white.png", tmp_path / "dark.png"
    Image.new("RGB", (300, 200), (250, 250, 250)).save(bright)
    Image.new("RGB", (300, 200), (10, 10, 10)).save(dark)
    return bright, dark


@pytest.fixture
def toy_cli(tmp_path, monkeypatch):
    """A model file for the toy model; ``petnet predict`` builds ToyBackbones."""
    import petnet.pets.backbone as backbone
    monkeypatch.setattr(backbone, "Backbone", lambda *a, **k: ToyBackbone())
    path = tmp_path / "toy.npz"
    save_model(path, _toy_model())
    return path


def test_recognizer_open_world_fields_and_cascade(photos):
    bright, dark = photos
    fake = ToyBackbone()
    rec = Recognizer(_toy_model(), backbone_factory=lambda: fake)
    non, pet = rec.predict([bright, dark])
    assert fake.batches == [2, 7]                   # test view of both, then 7 more views of the non-pet
    assert non.is_pet is False and non.species is None and not non.unsure
    assert non.pet_score == pytest.approx(shifted(123 * P_REST), rel=1e-6)   # lite0: the ImageNet mass
    assert non.imagenet_top.label == "espresso" and non.imagenet_top.name == "意大利浓咖啡"
    assert non.imagenet_top.score == pytest.approx(P_TOP)
    assert pet.is_pet is True and pet.species == "dog" and pet.pet_score == pytest.approx(shifted(PET_DARK))
    assert pet.unsure                                # 0.506 < 0.6, and a "cat" top class on a dog
    assert [g.label for g in pet.top] == ["cat", "dog", "bird"] and pet.top[0].score == pytest.approx(TOY[0])
    assert pet.verdict == "unsure" and pet.unsure_reason == "other_species"     # the clash is said first
    assert non.verdict == "not_pet" and non.unsure_reason is None
    d = non.to_dict()
    assert list(d) == list(FIELD_NAMES)
    assert d["class_similarity"] is None                 # the toy model has no class features
    assert d["imagenet_top"] == {"label": "espresso", "name": "意大利浓咖啡", "score": round(P_TOP, 6),
                                 "species": None}
    assert d["message_zh"] == "不像猫或狗（更像：意大利浓咖啡 espresso）"
    assert d["message_en"] == "not a cat or dog (looks more like: espresso)"
    assert pet.message_zh == "可能是 cat，但不确定：照片看起来是狗，而 cat 是猫的类别"
    assert pet.message_en == "maybe cat, but unsure: the photo looks like a dog, but cat is a cat class"
    assert pet.reason_zh == "照片看起来是狗，而 cat 是猫的类别" and non.reason_zh == non.reason_en == ""
    # a sure pet: the top class above min_breed_score and of the photo's species
    sure = Recognizer(_toy_model(label_species=("dog", "dog", None)), min_breed_score=0.5,
                      backbone_factory=ToyBackbone).predict(dark)[0]
    assert sure.is_pet and not sure.unsure and sure.verdict == "pet"
    assert sure.species == sure.top[0].species == "dog" and sure.message_zh == "是 cat（狗）"
    # min_pet_score 0: everything is a pet, no extra views; predict_prepared agrees with predict
    fake0 = ToyBackbone()
    rec0 = Recognizer(_toy_model(), min_pet_score=0.0, backbone_factory=lambda: fake0)
    a = rec0.predict([bright, dark])
    assert fake0.batches == [2] and all(p.is_pet for p in a)
    b = rec0.predict_prepared([rec0.prepare(bright), rec0.prepare(dark)])
    assert [p.to_dict()["is_pet"] for p in b] == [True, True] and b[0].pet_score == a[0].pet_score


@pytest.mark.parametrize("kwargs, param", [(dict(min_pet_score=1.5), "min_pet_score"),
                                           (dict(min_pet_score="x"), "min_pet_score"),
                                           (dict(min_breed_score=-0.1), "min_breed_score")])
def test_thresholds_validated(kwargs, param):
    with pytest.raises(ParamError, match=f"^{param} "):
        Recognizer(_toy_model(), **kwargs)


def test_cli_text_json_csv_of_a_non_pet_and_an_unsure_photo(photos, toy_cli, capsys):
    bright, dark = photos
    assert main(["predict", str(bright), str(dark), "--model", str(toy_cli), "--quiet"]) == 0
    sep = "_" * 36
    assert capsys.readouterr().out == (
        f"{bright} 不像猫或狗 (更像: 意大利浓咖啡 espresso, score = {P_TOP:.2f})\n{sep}\n\n"
        f"{dark} 可能是 (不确定):\n  (原因：照片看起来是狗，而 cat 是猫的类别)\n"
        f"cat (score = {TOY[0]:.5f})\ndog (score = {TOY[1]:.5f})\n"
        f"bird (score = {TOY[2]:.5f})\n{sep}\n\n")
    assert main(["predict", str(bright), str(dark), "--model", str(toy_cli), "--quiet", "--json"]) == 0
    non, pet = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert non["is_pet"] is False and non["species"] is None and non["unsure"] is False
    assert non["imagenet_top"]["label"] == "espresso" and [t["label"] for t in non["top"]] == ["cat", "dog", "bird"]
    assert pet["is_pet"] is True and pet["species"] == "dog" and pet["unsure"] is True
    assert pet["pet_score"] == round(shifted(PET_DARK), 6)
    assert main(["predict", str(bright), str(dark), "--model", str(toy_cli), "--quiet", "--csv", "--top", "1"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == csv_header() and rows[0][:6] == ["path", "rank", "label", "name", "score", "label_species"]
    cells = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [c["path"] for c in cells] == [str(bright), str(dark)] and [c["rank"] for c in cells] == ["1", "1"]
    assert [c["label"] for c in cells] == ["cat", "cat"] and cells[0]["label_species"] == "cat"
    assert [c["verdict"] for c in cells] == ["not_pet", "unsure"]
    assert [c["is_pet"] for c in cells] == ["false", "true"] and [c["species"] for c in cells] == ["", "dog"]
    assert cells[0]["pet_score"] == f"{non['pet_score']:.5f}" and cells[1]["pet_score"] == f"{shifted(PET_DARK):.5f}"
    assert [c["unsure"] for c in cells] == ["false", "true"] and cells[1]["unsure_reason"] == "other_species"
    assert [(c["imagenet_label"], c["imagenet_name"], c["imagenet_species"]) for c in cells] == [
        ("espresso", "意大利浓咖啡", ""), ("pug", "哈巴狗、狮子狗", "dog")]
    assert cells[0]["imagenet_score"] == f"{P_TOP:.5f}" and cells[1]["class_similarity"] == ""
    assert cells[1]["message_en"] == pet["message_en"]
    # the thresholds from the command line: the bright photo now counts as a pet (a dog by the
    # ImageNet mass), and its "cat" top class stays unsure by the species clash alone
    assert main(["predict", str(bright), "--model", str(toy_cli), "--quiet", "--min-pet-score", "0",
                 "--min_breed_score", "0.1", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["is_pet"] is True and row["species"] == "dog" and row["unsure"] is True
    assert main(["predict", str(bright), "--model", str(toy_cli), "--min_pet_score", "2"]) == 2
    assert "--min_pet_score must be" in capsys.readouterr().err


def test_show_without_a_display_writes_the_sheet_and_says_where(photos, toy_cli, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["predict", str(photos[0]), "--model", str(toy_cli), "--quiet", "--show"]) == 0
    err = capsys.readouterr().err
    assert "no display here" in err
    written = Path(err.split("contact sheet: ")[1].split()[0])
    try:
        with Image.open(written) as im:
            assert im.size[0] > 100
    finally:
        written.unlink()


def test_old_model_file_loads_with_temperature_one(tmp_path):
    old = load_model(ROOT / "petnet" / "pets" / "data" / "pets37.npz")     # written before these entries
    assert old.temperature == 1.0 and old.label_species is None and old.settings == {}
    with np.load(ROOT / "petnet" / "pets" / "data" / "pets37.npz") as z:
        assert "temperature" not in z.files and "label_species" not in z.files
    # a round trip keeps the new entries; a T of 1 is not written at all
    m = _toy_model(temperature=1.7)
    m.settings = {"learning_rate": 0.01, "petnet_version": "0.1.0", "max_iter": np.int64(7)}
    save_model(tmp_path / "m.npz", m)
    back = load_model(tmp_path / "m.npz")
    assert back.temperature == pytest.approx(1.7) and back.label_species == ["cat", "dog", None]
    assert back.settings == {"learning_rate": 0.01, "petnet_version": "0.1.0", "max_iter": 7}
    save_model(tmp_path / "one.npz", _toy_model())
    with np.load(tmp_path / "one.npz") as z:
        assert "temperature" not in z.files


def test_temperature_changes_scores_never_the_order(photos):
    rng = np.random.default_rng(1)
    W = rng.normal(0, 0.02, (FEATURE_DIM, 5)).astype(np.float32)    # no probability near 0
    models = [PetModel(W, np.zeros(5, np.float32), list("abcde"), "lite0", preprocess_id("lite0"),
                       ("center", "flip"), temperature=t) for t in (1.0, 0.3, 4.0)]
    preds = [Recognizer(m, top=5, backbone_factory=FakeBackbone).predict([PUG, *photos]) for m in models]
    for p1, pt in zip(preds[0], preds[1]):
        assert [g.label for g in p1.top] == [g.label for g in pt.top]
    for p1, pt in zip(preds[0], preds[2]):
        assert [g.label for g in p1.top] == [g.label for g in pt.top]
    assert preds[1][0].top[0].score > preds[0][0].top[0].score > preds[2][0].top[0].score


def test_retrain_calibrates_and_writes_the_review(tmp_path):
    from petnet.pets import retrain
    from petnet.pets.review import draw_confusion, write_summaries
    rng = np.random.default_rng(0)
    for k, colour in enumerate(((220, 30, 30), (30, 40, 220), (30, 200, 40))):
        d = tmp_path / "photos" / f"c{k}"
        d.mkdir(parents=True)
        for i in range(12):
            arr = np.clip(np.array(colour)[None, None] + rng.normal(0, 60, (48, 64, 3)), 0, 255)
            Image.fromarray(arr.astype(np.uint8)).save(d / f"p{k}_{i}.png")
    events = []
    r = retrain(tmp_path / "photos", architecture="lite0", max_iter=30, eval_step_interval=10,
                bottleneck_dir=tmp_path / "bn", random_state=3, progress=events.append,
                backbone_factory=FakeBackbone)
    lines = [e.message for e in events if e.message is not None]
    # the folds of the temperature fit (those the training photos fall in) and of the review's
    # cross-validation (all 5), counted as they are done, then the line with the result
    for phase, start in (("calibration", "calibration ({n}-fold"), ("review", "5-fold cross-validation over all 36")):
        seen = [e for e in events if e.phase == phase]
        n = seen[0].total
        start = start.format(n=n)
        assert [(e.step, e.total) for e in seen] == [(k, n) for k in range(n + 1)] + [(n, n)]
        assert [e.message is None for e in seen] == [True] * (n + 1) + [False] and seen[-1].message.startswith(start)
        assert 2 <= n <= 5 and (phase == "calibration" or n == 5)
    # three well separated colours: every held-out photo is right, so the fitted temperature runs to
    # its floor -- reported, and not used (#23.3)
    cal = r.metrics["calibration"]
    assert cal["status"] == "on_bound" and cal["held_out_accuracy"] == 1.0
    assert r.model.temperature == cal["temperature"] == 1.0 and cal["photos"] == r.metrics["training"]
    assert cal["fitted_temperature"] == pytest.approx(0.05) and "sits on its bound" in cal["note"]
    assert cal["ece_after"] == cal["ece_before"] and 0 <= cal["ece_before"] <= 1
    assert any(line.startswith(f"calibration ({cal['folds']}-fold, held-out training photos): temperature 1, not fitted: the "
                               "fitted temperature 0.05 sits on its bound") for line in lines)
    assert r.model.settings["random_state"] == 3 and r.model.settings["learning_rate"] == 0.001
    assert r.model.settings["max_iter"] == 30 and r.model.settings["optimizer"] == "adam"
    assert r.model.settings["petnet_version"] and r.model.label_species == [None, None, None]   # not pets
    assert r.cv_proba.shape == (36, 3) and np.allclose(r.cv_proba.sum(1), 1)
    quick = retrain(tmp_path / "photos", architecture="lite0", max_iter=30, eval_step_interval=10,
                    bottleneck_dir=tmp_path / "bn", random_state=3, review=False, backbone_factory=FakeBackbone)
    assert quick.cv_proba is None and quick.model.temperature == r.model.temperature
    np.testing.assert_array_equal(quick.model.W, r.model.W)
    folder = write_summaries(tmp_path / "sum", r.metrics, r.confusion, r.labels, result=r)
    for name in ("metrics.json", "history.csv", "confusion_cv.png", "top_losses.png",
                 "training_curve.png", "reliability.png"):
        assert (folder / name).is_file(), name
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["settings"]["random_state"] == 3 and "ece_before" in metrics["calibration"]
    # 1000 classes: a bounded picture
    C = np.diag(np.arange(1000))
    out = draw_confusion(C, [f"class {i}" for i in range(1000)], tmp_path / "big.png", "big")
    with Image.open(out) as im:
        assert max(im.size) <= 2000


def test_non_pet_answers_on_scikit_image_photos(tmp_path, capsys):
    from skimage import data
    astronaut, coffee = tmp_path / "astronaut.png", tmp_path / "coffee.png"
    Image.fromarray(data.astronaut()).save(astronaut)
    Image.fromarray(data.coffee()).save(coffee)
    a, c = Recognizer().predict([astronaut, coffee])
    assert not a.is_pet and not c.is_pet and a.species is None and a.pet_score < 0.2
    assert c.imagenet_top.label == "espresso" and c.imagenet_top.score > 0.5
    assert main(["predict", str(coffee), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith(f"{coffee} 不像猫或狗 (更像: 意大利浓咖啡 espresso, score = 0.8")


def test_a_small_pet_in_a_big_scene_is_accepted(tmp_path):
    canvas = Image.new("RGB", (1280, 853), (120, 140, 110))
    with Image.open(PUG) as im:
        pug = im.convert("RGB")
        h = int(0.3 * 853)
        pug = pug.resize((int(pug.width * h / pug.height), h))
    canvas.paste(pug, (640 - pug.width // 2 + 60, 853 // 2 - h // 2 + 40))
    path = tmp_path / "scene.jpg"
    canvas.save(path, quality=92)
    rec = Recognizer()
    (pred,) = rec.predict([path])
    assert pred.is_pet and pred.top[0].label == "pug"
    # the learned scorer's species from the centre view is not sure of this small pug (it says cat,
    # p = 0.69): the answer does not contradict itself, it is unsure and says why
    assert pred.species == "dog" or (pred.verdict == "unsure" and pred.unsure_reason == "other_species")


def test_retrain_seed_flag(tmp_path, capsys):
    from petnet.pets import retrain
    from tests.pets.test_retrain import _synthetic_folder
    photos = _synthetic_folder(tmp_path / "photos")
    assert main(["retrain", "--image_dir", str(photos), "--seed", "-1"]) == 2
    assert "error: --seed must be" in capsys.readouterr().err
    kw = dict(architecture="lite0", max_iter=5, eval_step_interval=5, bottleneck_dir=tmp_path / "bn",
              backbone_factory=FakeBackbone)
    a, b, c = (retrain(photos, random_state=seed, **kw) for seed in (1, 1, 2))
    assert a.model.settings["random_state"] == 1
    np.testing.assert_array_equal(a.model.W, b.model.W)      # the seed fixes the model
    assert not np.array_equal(a.model.W, c.model.W)


def test_sheet_names_checked_and_size_bounded(photos, toy_cli, tmp_path, capsys):
    from petnet.pets.sheet import MAX_SHEET_PHOTOS, contact_sheet
    assert main(["predict", str(photos[0]), "--model", str(toy_cli), "--sheet", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["predict", str(photos[0]), "--model", str(toy_cli), "--sheet", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "has no extension" in err and "e.g. " + str(tmp_path / "s.png") in err and not (tmp_path / "s.png").exists()
    many = [(str(photos[0]), [("cat", "cat", 0.5)])] * (MAX_SHEET_PHOTOS + 36)
    out, _ = contact_sheet(many, tmp_path / "big.png")
    with Image.open(out) as im:
        assert im.size[1] < 6000                              # 16 rows, not 25


def test_retrain_on_25_tiny_photos_says_what_became_of_the_temperature(tmp_path):
    """#23.3: on a few easy photos the temperature cannot be estimated -- retrain says so (log line,
    metrics['calibration'] with status and note, metrics.json) and keeps T = 1; the answers' scores
    do not print as 1.00000 unless they are 1."""
    from petnet.pets import retrain
    from petnet.pets.predict import format_text
    from petnet.pets.review import write_summaries
    rng = np.random.default_rng(5)
    for k, colour in enumerate(((220, 30, 30), (30, 40, 220), (30, 200, 40))):
        d = tmp_path / "photos" / f"c{k}"
        d.mkdir(parents=True)
        for i in range(9 if k else 7):
            arr = np.clip(np.array(colour)[None, None] + rng.normal(0, 40, (40, 40, 3)), 0, 255)
            Image.fromarray(arr.astype(np.uint8)).save(d / f"q{k}_{i}.png")
    events = []
    r = retrain(tmp_path / "photos", architecture="lite0", max_iter=200, learning_rate=0.01,
                bottleneck_dir=tmp_path / "bn", progress=events.append, backbone_factory=FakeBackbone)
    cal = r.metrics["calibration"]
    line = [e.message for e in events if e.phase == "calibration" and e.message][-1]
    assert r.metrics["images"] == 25 and r.model.temperature == cal["temperature"] == 1.0
    if r.metrics["training"] < 20:
        assert cal["status"] == "skipped" and line.startswith(f"calibration: skipped ({r.metrics['training']}")
    else:
        assert cal["status"] == "on_bound" and "temperature 1, not fitted" in line and cal["note"] in line
    folder = write_summaries(tmp_path / "sum", r.metrics, r.confusion, r.labels, result=r)
    saved = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["calibration"]
    assert saved["status"] == cal["status"] and saved["note"] == cal["note"] and saved["temperature"] == 1.0
    # the model is very sure of these photos: the printed scores say "more than 0.99999", not 1
    model_path, _ = r.save(tmp_path / "m.npz", tmp_path / "labels.txt")
    from dataclasses import replace
    pred, = Recognizer(model_path, backbone_factory=FakeBackbone).predict(
        [str(sorted((tmp_path / "photos" / "c1").iterdir())[0])])
    text = format_text(replace(pred, verdict="pet"))   # the guesses' block, whatever the open-world verdict
    top = float(pred.top[0].score)
    assert ("1.00000" in text) == (top == 1.0)
    if 0.999995 <= top < 1:
        assert "(score = >0.99999)" in text
