"""The development / evaluation protocol of issue 21: a stable, salted split by file name."""

from __future__ import annotations

import hashlib

import numpy as np

from petnet.pets.dataset import kfold_of
from petnet.pets.openworld_data import (DATASETS, DEV_PERCENT, FOLD_SALT, INNER_FOLDS, SPLIT_SALT,
                                        inner_fold_of, load_openworld_photos, part_of)
from tests.conftest import shared_path


def test_split_by_hand_and_by_base_name():
    for name in ("cat.1.jpg", "Abyssinian_128.jpg", "n01440764_tench.jpg", "照片.png"):
        h = int(hashlib.sha1(f"{SPLIT_SALT}:{name}".encode()).hexdigest(), 16) % 10_000 / 100
        assert part_of(name) == ("dev" if h < DEV_PERCENT else "eval")
        assert part_of(f"/some/folder/{name}") == part_of(name)
        f = int(hashlib.sha1(f"{FOLD_SALT}:{name}".encode()).hexdigest(), 16) % 10_000 / 100
        assert inner_fold_of(name) == int(f * INNER_FOLDS / 100)


def test_split_is_balanced_and_independent_of_the_kfold_folds():
    names = [f"photo_{i}.jpg" for i in range(4000)]
    dev = np.array([part_of(n) == "dev" for n in names])
    assert 0.47 < dev.mean() < 0.53
    folds = np.array([inner_fold_of(n) for n in names])
    assert np.all(np.abs(np.bincount(folds) / len(names) - 0.2) < 0.03)
    # the dev part is not a set of retrain's folds: each kfold_of fold is split about in half
    kf = np.array([kfold_of(n, 5) for n in names])
    for f in range(5):
        assert 0.4 < dev[kf == f].mean() < 0.6


def test_shared_photos_load_with_truth_and_parts():
    data = shared_path("data")
    P = load_openworld_photos(data)
    counts = {d: int((P.dataset == d).sum()) for d in DATASETS}
    assert counts == {"catdog": 600, "pets": 362, "nonpet": 126, "imagenet_nonpet": 828}
    for d in DATASETS:
        m = P.dataset == d
        assert 0.4 < P.dev[m].mean() < 0.6      # both parts of every data set are used
    pets = P.dataset == "pets"
    assert set(P.breed[pets]) == {p.name for p in (data / "pets" / "train").iterdir() if p.is_dir()}
    assert all((b[0].isupper()) == (s == "cat") for b, s in zip(P.breed[pets], P.species[pets]))
    cd = P.dataset == "catdog"
    assert all(p.parent.name == s for p, s in zip(np.array(P.paths, object)[cd], P.species[cd]))
    assert not P.is_pet[np.isin(P.dataset, ["nonpet", "imagenet_nonpet"])].any()
    assert all(p.is_file() for p in P.paths)
    sub = P.subset(P.dev & cd)
    assert len(sub) == int((P.dev & cd).sum()) and set(sub.part) == {"dev"}
