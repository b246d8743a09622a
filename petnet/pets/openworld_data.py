"""The open-world photos and the protocol that keeps their measurement honest (issue 21).

Four shared data sets (``$PETNET_SHARED/data``, see its README) train and measure "is it a cat
or a dog, and which":

==================  =====  ============================================================
data set            photos truth
==================  =====  ============================================================
``catdog``          600    everyday Kaggle cats and dogs: species only
``pets``            362    Oxford-IIIT pets (``pets/train``): species and breed (37)
``nonpet``          126    COCO photos and raccoons: not a cat or dog
``imagenet_nonpet`` 828    one ImageNet photo per class that is not a cat or dog
==================  =====  ============================================================

**The protocol** (declared before any failure was looked at, docs/pets_openworld.md):

* every photo belongs to the *development* part or the *evaluation* part by a stable hash of
  its file name, salted so that it is independent of the cross-validation folds of
  :func:`petnet.pets.dataset.kfold_of`: ``part_of(name)`` (about half each, per data set);
* everything that is fitted or chosen (classifier weights, which inputs and views, the
  regularisation, the calibration, every threshold) is fitted or chosen on development photos
  only, with a 5-fold cross-validation inside them (``inner_fold_of``, a second salt) wherever a
  choice needs held-out scores; the shipped weights are then refitted on all development photos;
* the evaluation part chooses nothing: the bench scores it once the choices are committed, and
  reports each data set and each part apart with its count and a 95% Wilson interval.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError

#: the data sets, in report order
DATASETS: tuple[str, ...] = ("catdog", "pets", "nonpet", "imagenet_nonpet")
#: salt of the development / evaluation split (changing it re-draws the split: never do that
#: after looking at evaluation results)
SPLIT_SALT = "petnet-openworld-split-v1"
#: salt of the cross-validation folds inside the development part
FOLD_SALT = "petnet-openworld-fold-v1"
#: percentage of each data set in the development part
DEV_PERCENT = 50
#: folds of the cross-validation inside the development part
INNER_FOLDS = 5


def _percent(salt: str, file_name: str) -> float:
    """A stable number in [0, 100) from ``salt`` and the base name of ``file_name``."""
    key = f"{salt}:{Path(str(file_name)).name}".encode("utf-8")
    return int(hashlib.sha1(key).hexdigest(), 16) % 10_000 / 100.0


def part_of(file_name) -> str:
    """``"dev"`` or ``"eval"``: the part of the protocol a photo belongs to (by its base name)."""
    return "dev" if _percent(SPLIT_SALT, file_name) < DEV_PERCENT else "eval"


def inner_fold_of(file_name, k: int = INNER_FOLDS) -> int:
    """The cross-validation fold ``0..k-1`` of a development photo (by its base name)."""
    return min(int(_percent(FOLD_SALT, file_name) * k / 100.0), k - 1)


@dataclass(frozen=True)
class OpenWorldPhotos:
    """The photos of :data:`DATASETS`, one entry per photo, in a fixed order (data set, then
    path). ``species``: ``"cat"``/``"dog"``, ``""`` for a non-pet; ``breed``: the Oxford breed,
    ``""`` elsewhere; ``kind``: the non-pet category (``nonpet``'s folder, ``imagenet_nonpet``'s
    class) or the species; ``part``: ``"dev"``/``"eval"``; ``fold``: :func:`inner_fold_of`."""

    paths: tuple[Path, ...]
    dataset: np.ndarray
    species: np.ndarray
    breed: np.ndarray
    kind: np.ndarray
    part: np.ndarray
    fold: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def is_pet(self) -> np.ndarray:
        return self.species != ""

    @property
    def dev(self) -> np.ndarray:
        return self.part == "dev"

    def subset(self, mask) -> OpenWorldPhotos:
        """The photos where ``mask`` (booleans or indices) holds."""
        idx = np.arange(len(self))[np.asarray(mask)]
        return OpenWorldPhotos(tuple(self.paths[i] for i in idx), self.dataset[idx], self.species[idx],
                               self.breed[idx], self.kind[idx], self.part[idx], self.fold[idx])


def _rows(manifest: Path) -> list[dict]:
    if not manifest.is_file():
        raise PetnetError(f"{manifest} not found (set PETNET_SHARED to the folder holding data/)")
    with open(manifest, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_openworld_photos(data_dir=None) -> OpenWorldPhotos:
    """The photos of the four data sets under ``data_dir`` (default ``$PETNET_SHARED/data``),
    with their truth from each data set's manifest."""
    from petnet.paths import shared_data
    root = Path(data_dir) if data_dir is not None else shared_data()
    recs = []       # (dataset, path, species, breed, kind)
    for r in _rows(root / "catdog" / "manifest.csv"):
        recs.append(("catdog", root / "catdog" / r["file"], r["species"], "", r["species"]))
    for r in _rows(root / "pets" / "train_manifest.csv"):
        recs.append(("pets", root / "pets" / "train" / r["file"], r["species"], r["breed"], r["species"]))
    for r in _rows(root / "nonpet" / "manifest.csv"):
        recs.append(("nonpet", root / "nonpet" / r["file"], "", "", r["category"]))
    for r in _rows(root / "imagenet_nonpet" / "manifest.csv"):
        recs.append(("imagenet_nonpet", root / "imagenet_nonpet" / r["file"], "", "", r["imagenet_class"]))
    recs.sort(key=lambda t: (DATASETS.index(t[0]), str(t[1])))
    bad = [str(t[1]) for t in recs if t[2] not in ("cat", "dog", "")]
    if bad:
        raise PetnetError(f"unknown species in the manifests for {bad[:3]}")
    names = [t[1].name for t in recs]
    if len(set(names)) != len(names):
        raise PetnetError("two photos share a file name: the split by file name would tie them")
    dataset, _, species, breed, kind = (np.array([t[j] for t in recs], dtype=str) for j in range(5))
    return OpenWorldPhotos(tuple(t[1] for t in recs), dataset, species, breed, kind,
                           np.array([part_of(n) for n in names]),
                           np.array([inner_fold_of(n) for n in names], np.int64))


def openworld_features(photos: OpenWorldPhotos, views, bottleneck_dir=None, arch: str = "lite2"):
    """``(feats (n, V, 1280) float32, backbone)``: the bottleneck features of every photo under
    ``views`` from petnet's cache (computed once, then read back); a photo that cannot be read is
    an error (the data sets are fixed)."""
    from petnet.pets.bottleneck import BottleneckCache
    cache = BottleneckCache(bottleneck_dir, arch)
    feats, ok, failures = cache.get(list(photos.paths), tuple(views))
    if failures or len(ok) != len(photos):
        raise PetnetError(f"unreadable photos: {failures[:3]}")
    return feats, cache
