"""Scanning an image folder and the stable hash split (retrain.py's scheme)."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.dataset import kfold_of, scan_image_dir, split, split_percentage, which_set


def reference_which_set(name, val, test):
    """TensorFlow retrain.py's which-set logic, written out independently."""
    hash_name = re.sub(r"_nohash_.*$", "", name)
    hashed = hashlib.sha1(hash_name.encode("utf-8")).hexdigest()
    pct = (int(hashed, 16) % ((2 ** 27 - 1) + 1)) * (100.0 / (2 ** 27 - 1))
    if pct < val:
        return "validation"
    if pct < (test + val):
        return "testing"
    return "training"


def _img(path, color=(200, 30, 30), size=(12, 10), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, fmt)
    return path


def test_which_set_matches_retrain_py():
    names = [f"photo_{i}.jpg" for i in range(2000)] + ["猫_1.jpg", "dog_nohash_3.png"]
    for n in names:
        assert which_set(n, 10, 10) == reference_which_set(n, 10, 10)
        assert which_set(n, 25, 5) == reference_which_set(n, 25, 5)


def test_split_proportions_and_nohash():
    rng = np.random.default_rng(0)
    names = [f"img_{rng.integers(1e9)}.jpg" for _ in range(5000)]
    sets = split(names, 10, 20)
    assert abs(len(sets["validation"]) / 5000 - 0.10) < 0.02
    assert abs(len(sets["testing"]) / 5000 - 0.20) < 0.02
    # near-duplicates marked with _nohash_ always share a set
    assert len({which_set(f"dog_nohash_{i}.jpg") for i in range(50)}) == 1
    assert split_percentage("dog_nohash_1.jpg") == split_percentage("dog_nohash_999.jpg")


def test_adding_photos_never_reshuffles():
    old = [f"a_{i}.jpg" for i in range(300)]
    new = old + [f"b_{i}.jpg" for i in range(300)]
    s_old, s_new = split(old), split(new)
    for s in ("training", "validation", "testing"):
        assert set(s_old[s]) == {i for i in s_new[s] if i < 300}


def test_kfold_balanced_and_stable():
    names = [f"x{i}.jpg" for i in range(3000)]
    folds = np.array([kfold_of(n, 5) for n in names])
    assert set(folds) == set(range(5))
    assert np.bincount(folds).min() > 500
    assert [kfold_of(n, 5) for n in names[:10]] == list(folds[:10])


def test_scan_unicode_recursive_and_skips(tmp_path):
    _img(tmp_path / "猫" / "小猫_1.jpg")
    _img(tmp_path / "猫" / "deep" / "more" / "b.PNG")
    _img(tmp_path / "dog" / "d1.jpeg")
    _img(tmp_path / "dog" / "d2.webp", fmt="WEBP")
    (tmp_path / "dog" / "notes.txt").write_text("not a photo")
    (tmp_path / "dog" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "README.md").write_text("top-level file")
    s = scan_image_dir(tmp_path)
    assert s.labels == sorted(["猫", "dog"])
    assert {p.name for p in s.files["猫"]} == {"小猫_1.jpg", "b.PNG"}
    assert {p.name for p in s.files["dog"]} == {"d1.jpeg", "d2.webp"}
    skipped = {p.name for p, _ in s.skipped}
    assert skipped == {"notes.txt", "README.md"}
    paths, ys = s.samples()
    assert len(paths) == 4 and sorted(ys) == [0, 0, 1, 1]


@pytest.mark.parametrize("layout, message", [
    ({}, "no images"),
    ({"cat": 3}, "only one class"),
    ({"cat": 3, "dog": 1}, "fewer than 2"),
    ({"cat": 3, "dog": 0}, "fewer than 2"),
])
def test_scan_bad_folders(tmp_path, layout, message):
    for cls, n in layout.items():
        (tmp_path / cls).mkdir()
        for i in range(n):
            _img(tmp_path / cls / f"{i}.jpg")
    with pytest.raises(PetnetError, match=message):
        scan_image_dir(tmp_path)


def test_scan_missing_dir(tmp_path):
    with pytest.raises(PetnetError, match="does not exist"):
        scan_image_dir(tmp_path / "nope")
    f = _img(tmp_path / "x.jpg")
    with pytest.raises(PetnetError, match="is a file"):
        scan_image_dir(f)


def test_split_rejects_bad_percentages():
    with pytest.raises(PetnetError):
        split(["a.jpg"], 60, 50)


@pytest.mark.parametrize("name", ["cat\ndog", "cat ", " cat", "a\u2028b", "tab\x0bcat"])
def test_class_names_that_would_not_survive_the_labels_file(tmp_path, name):
    """Labels are written one per line and read back stripped: names that would shift or change
    the labels are refused, naming the folder safely (repr: no raw control characters)."""
    for cls in ("dog", name):
        (tmp_path / cls).mkdir()
        for i in range(2):
            _img(tmp_path / cls / f"{i}.jpg")
    with pytest.raises(PetnetError, match="rename the folder") as info:
        scan_image_dir(tmp_path)
    assert repr(name) in str(info.value) and "\n" not in str(info.value)
