"""Cat or dog: a two-class head on the backbone's features, shipped with petnet.

ImageNet's own classes know 118 dog breeds but only 5 domestic cats, and no hairless cat: on
the shared photos, "cat mass > dog mass" over ImageNet classes 281-285 vs 151-268 gets the
species of 95.6% of the pets right, and calls 11 of the 18 Sphynx photos dogs (the Mexican
hairless dog is the nearest ImageNet class). A cat-vs-dog softmax layer on the 1280 features
(retrain's own :func:`~petnet.pets.head.train_head` with its default settings, two classes,
trained on the 8 views of the 362 shared photos of 37 breeds) does much better::

    species log-odds of one view = f . w + b          (> 0: cat)
    species of a photo = sign of the mean log-odds over its views

Measured (``python bench/pets_openworld.py``): 99.7% right (5-fold CV, 8 views; 99.4% from the
centre view alone), and 98.6% when the photo's whole breed was left out of training (5 groups
of 7-8 breeds; leaving out one breed at a time gives the same: only Sphynx photos and one
Abyssinian wrong), i.e. it carries over to breeds it never saw.

The weights are ``data/species_<arch>.npz`` (``w`` float32 (1280,), ``b``, ``arch``,
``preprocess_id``), rebuilt by ``python tools/make_species_head.py``. Only ``lite2`` (the default
backbone) ships one; for the others :func:`species_head` returns ``None`` and
:mod:`petnet.pets.openworld` falls back to the ImageNet cat/dog mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from petnet.errors import ParamError

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class SpeciesHead:
    """``w`` (1280,), ``b``: cat-vs-dog log-odds ``f . w + b`` of one view's features ``f``."""

    w: np.ndarray
    b: float
    arch: str
    preprocess_id: str

    def logodds(self, feats) -> np.ndarray:
        """Features (n, 1280) -> (n,) or (n, V, 1280) -> (n, V): log P(cat) / P(dog) per view."""
        f = np.asarray(feats, np.float32)
        if f.shape[-1] != self.w.shape[0] or f.ndim not in (2, 3):
            raise ParamError("feats", f"must have shape (n, {self.w.shape[0]}) or (n, views, "
                              f"{self.w.shape[0]}), got {f.shape}")
        return (f.astype(np.float64) @ self.w.astype(np.float64)) + self.b

    def save(self, path) -> Path:
        """Write the pickle-free ``.npz`` (atomically)."""
        from petnet.atomic import write_atomically
        return write_atomically(Path(path), lambda fh: np.savez(
            fh, w=self.w.astype(np.float32), b=np.float64(self.b), arch=np.str_(self.arch),
            preprocess_id=np.str_(self.preprocess_id)))


def fit_species_head(feats, is_cat, arch: str, random_state: int = 0) -> SpeciesHead:
    """Train the two-class layer on ``feats`` (n, V, 1280) (every view is a training sample, as
    in ``retrain``) with labels ``is_cat`` (n,) booleans, retrain's default settings."""
    from petnet.pets.preprocess import preprocess_id
    from petnet.pets.head import default_head_kwargs, train_head
    is_cat = np.asarray(is_cat, bool)
    if is_cat.all() or not is_cat.any():
        raise ParamError("is_cat", "must hold both cats and dogs to train a species head")
    head = train_head(np.asarray(feats, np.float32), is_cat.astype(np.int64), 2, random_state=random_state,
                      **default_head_kwargs())
    W, b = head.W_.astype(np.float64), head.b_.astype(np.float64)
    return SpeciesHead((W[:, 1] - W[:, 0]).astype(np.float32), float(b[1] - b[0]), arch,
                       preprocess_id(arch))


@lru_cache(maxsize=4)
def species_head(arch: str) -> SpeciesHead | None:
    """The shipped head of ``arch``, or ``None`` when petnet ships none for it (or its
    preprocessing changed since it was trained: its features would not match)."""
    from petnet.pets.preprocess import preprocess_id
    path = DATA / f"species_{arch}.npz"
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        head = SpeciesHead(z["w"], float(z["b"]), str(z["arch"]), str(z["preprocess_id"]))
    if head.arch != arch or head.preprocess_id != preprocess_id(arch):
        return None
    return head
