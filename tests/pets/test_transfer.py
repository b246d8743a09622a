"""Transfer learning shown (petnet.pets.transfer, ``petnet transfer``): the split, the pixels, the
comparison on tiny photos with a stand-in backbone, and the real command once on the shared photos."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from petnet.cli import main
from petnet.errors import ParamError, PetnetError
from petnet.pets.dataset import which_set
from petnet.pets.transfer import compare, held_out_split, load_pixels, small_cnn, species_of
from tests.conftest import ROOT, shared_path
from tests.pets.test_bottleneck import FakeBackbone

# Oxford-IIIT naming: cat breeds capitalised, dog breeds in small letters; one colour per breed
BREEDS = {"Persian": (220, 40, 40), "Sphynx": (230, 170, 150), "pug": (40, 50, 220), "beagle": (40, 200, 60)}


def _photos(root, n=12, seed=0):
    rng = np.random.default_rng(seed)
    for breed, colour in BREEDS.items():
        (root / breed).mkdir(parents=True)
        for i in range(n):
            arr = np.clip(np.array(colour)[None, None] + rng.normal(0, 15, (24, 32, 3)), 0, 255)
            Image.fromarray(arr.astype(np.uint8)).save(root / breed / f"{breed}_{i}.jpg")
    (root / "pug" / "pug_broken.jpg").write_bytes(b"\xff\xd8 truncated")
    return root


def test_the_test_photos_are_retrains_and_do_not_move_with_the_validation_share():
    names = [f"{b}_{i}.jpg" for b in BREEDS for i in range(200)]
    a = held_out_split(names, testing_percentage=30, validation_percentage=10)
    b = held_out_split(names, testing_percentage=30, validation_percentage=25)
    retrain_test = [i for i, n in enumerate(names) if which_set(n, 0, 30) == "testing"]
    assert a["testing"].tolist() == b["testing"].tolist() == retrain_test
    assert len(b["validation"]) > len(a["validation"]) > 0
    for s in (a, b):                        # every photo in exactly one set
        assert sorted(np.concatenate(list(s.values())).tolist()) == list(range(len(names)))
    assert 0.25 < len(a["testing"]) / len(names) < 0.35


@pytest.mark.parametrize("t,v,param", [(0, 10, "testing_percentage"), (30, -1, "validation_percentage"),
                                       (60, 40, "validation_percentage"), (100, 0, "testing_percentage")])
def test_bad_percentages_name_the_parameter(t, v, param):
    with pytest.raises(ParamError) as e:
        held_out_split(["a.jpg"], t, v)
    assert e.value.param == param


def test_species_by_the_oxford_naming_rule():
    assert species_of(["Persian", "pug", "Sphynx", "beagle"]) == ["cat", "dog", "cat", "dog"]
    with pytest.raises(PetnetError, match="Oxford-IIIT"):
        species_of(["red", "blue"])


def test_load_pixels_is_the_centred_square_resized(tmp_path):
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)            # wide: crop columns 10..40
    Image.fromarray(arr).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"not a png")
    x, ok, failures = load_pixels([tmp_path / "a.png", tmp_path / "b.png"], 10)
    expected = np.asarray(Image.fromarray(arr[:, 10:40]).resize((10, 10), Image.BILINEAR), np.float32) / 255
    assert x.shape == (1, 10, 10, 3) and ok == [tmp_path / "a.png"] and failures[0][0] == tmp_path / "b.png"
    np.testing.assert_allclose(x[0], expected, atol=1e-7)


def test_the_cnn_has_the_documented_weights():
    for k in (2, 37):
        assert small_cnn((64, 64, 3), k).count_params() == 23_584 + 65 * k    # 25,989 for 37 breeds


def test_compare_on_tiny_photos(tmp_path):
    photos = _photos(tmp_path / "photos")
    fake = FakeBackbone()
    lines = []
    r = compare(photos, image_size=16, epochs=3, testing_percentage=30, validation_percentage=20,
                architecture="lite0", bottleneck_dir=tmp_path / "cache", backbone_factory=lambda: fake,
                log=lines.append)
    assert [t.task for t in r.tasks] == ["classes", "species"]
    assert [p for p, _ in r.skipped] == [photos / "pug" / "pug_broken.jpg"]
    names = sorted(p.name for p in photos.glob("*/*.jpg") if "broken" not in p.name)
    c = r.tasks[0].counts
    assert sum(c.values()) == len(names) == 48 and min(c.values()) > 0
    assert c["testing"] == sum(which_set(n, 0, 30) == "testing" for n in names)
    labels = sorted(BREEDS)
    test_breeds = sorted(n.rsplit("_", 1)[0] for n in names if which_set(n, 0, 30) == "testing")
    for t in r.tasks:
        K = len(t.labels)
        assert t.labels == (labels if t.task == "classes" else ["cat", "dog"])
        assert all(a.accuracy.n == c["testing"] for a in t.arms)
        assert t.scratch.trained == t.scratch_last.trained == 23_584 + 65 * K
        assert t.transfer.trained == 1280 * K + K and t.baseline.trained == 0
        truth = test_breeds if t.task == "classes" else species_of(test_breeds)
        majority = t.baseline.name.split("(")[1].split(")")[0]
        assert t.baseline.accuracy.k == truth.count(majority)
        assert 1 <= t.best_epoch <= 3 and len(t.history["val_loss"]) == 3
        # the stand-in features are the photos' colours: one colour per breed, so the layer is right
        assert t.transfer.accuracy.value == 1.0
    text = r.text()
    for t in r.tasks:
        for a in t.arms:
            assert a.name in text and str(a.accuracy) in text
    assert any(line.startswith("features (lite0): 0 from the cache, 48 computed") for line in lines)
    assert r.architecture == "lite0" and "EfficientNet-Lite0" in text


def test_compare_refuses_before_any_work(tmp_path):
    photos = _photos(tmp_path / "photos", n=3)
    fake = FakeBackbone()
    for kwargs, param in [({"image_size": 4}, "image_size"), ({"tasks": ["breeds"]}, "tasks"),
                          ({"epochs": 0}, "epochs"), ({"validation_percentage": 80}, "validation_percentage")]:
        with pytest.raises(ParamError) as e:
            compare(photos, backbone_factory=lambda: fake, bottleneck_dir=tmp_path / "c", **kwargs)
        assert e.value.param == param
    (photos / "red").mkdir()
    for i in range(2):
        Image.new("RGB", (8, 8), (200, 0, 0)).save(photos / "red" / f"r{i}.png")
    (tmp_path / "colours").mkdir()
    for name in ("red", "blue"):
        (tmp_path / "colours" / name).mkdir()
        for i in range(2):
            Image.new("RGB", (8, 8), (200, 0, 0)).save(tmp_path / "colours" / name / f"{name}{i}.png")
    with pytest.raises(PetnetError, match="Oxford-IIIT"):
        compare(tmp_path / "colours", tasks="species", backbone_factory=lambda: fake, bottleneck_dir=tmp_path / "c")
    assert fake.calls == []                  # no feature was computed


def test_command_help_and_flag_errors(capsys):
    with pytest.raises(SystemExit):
        main(["transfer", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "petnet transfer --task species" in out
    assert main(["transfer", "--image_size", "4"]) == 2
    assert "--image_size must be at least 8" in capsys.readouterr().err
    assert main(["transfer", "--image_dir", "/no/such/folder"]) == 2
    assert "--image_dir" in capsys.readouterr().err


def documented_output() -> list[str]:
    """The output block under ``petnet transfer`` in docs/pets.md (and its Chinese twin's)."""
    for doc in (ROOT / "docs" / "pets.md", ROOT / "docs" / "zh-CN" / "pets.md"):
        m = re.search(r"```bash\npetnet transfer  .*?```\n\n```\n(.*?)```\n", doc.read_text(encoding="utf-8"), re.S)
        assert m, f"{doc} shows no output of petnet transfer"
        yield m.group(1).rstrip("\n").split("\n")


@pytest.mark.slow
def test_real_command_prints_the_documented_numbers_and_the_gap(capsys, monkeypatch):
    photos = shared_path("data", "pets", "train")
    monkeypatch.chdir(ROOT)                      # the report shows ../shared/data/pets/train, as the docs
    assert main(["transfer"]) == 0              # the command of docs/pets.md, defaults only
    out = capsys.readouterr().out
    seconds = re.compile(r"\d+ s\.$")
    printed = [seconds.sub("<t> s.", line) for line in out.rstrip("\n").split("\n")]
    for doc in documented_output():             # every line, every digit; only the time differs
        assert [seconds.sub("<t> s.", line) for line in doc] == printed
    n_test = sum(which_set(p.name, 0, 30) == "testing" for p in photos.glob("*/*.jpg"))
    assert f"{n_test} testing photos" in out
    rows = {}
    for task in out.split("task: ")[1:]:
        acc = {}
        for line in task.splitlines():
            m = re.search(rf"\((\d+)/{n_test}\)", line)
            if m:
                acc[re.split(r"\s{2,}", line.strip())[0]] = int(m.group(1)) / n_test
        rows[task.split(" ")[0]] = acc
    breeds, species = rows["37"], rows["cat"]
    # transfer learning beats the CNN trained from scratch on the same photos by a wide margin
    assert breeds["transfer learning: lite2 features + softmax layer"] > 0.6
    assert species["transfer learning: lite2 features + softmax layer"] > 0.95
    for acc, gap in ((breeds, 0.5), (species, 0.3)):
        scratch = max(v for k, v in acc.items() if k.startswith("CNN from scratch"))
        assert acc["transfer learning: lite2 features + softmax layer"] > scratch + gap
