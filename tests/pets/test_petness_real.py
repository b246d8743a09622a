"""The shipped open-world scorer (``petnet/pets/data/openworld_lite2.npz``) on the shared photos.

The learned layers are refitted from the development photos exactly as ``tools/make_openworld_head.py``
fits them and must equal the shipped weights (the tool is deterministic); the shipped head must
load for the default backbone, know the view sets petnet uses, and separate the development
photos it was fitted on. Features come from the bottleneck cache (computed once)."""

from __future__ import annotations

import numpy as np
import pytest

from petnet.pets.openworld import PET_VIEWS, imagenet_view_probs
from petnet.pets.petness import LAYER_L2, VIEW_SETS, _fit_layer, openworld_head
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def dev():
    from petnet.pets.openworld_data import load_openworld_photos, openworld_features
    photos = load_openworld_photos(shared_path("data"))
    photos = photos.subset(photos.dev)
    feats, cache = openworld_features(photos, PET_VIEWS)
    return photos, feats, imagenet_view_probs(cache.backbone.imagenet_logits, feats)


def test_shipped_head_loads_and_knows_the_view_sets():
    head = openworld_head("lite2")
    assert head is not None and openworld_head("lite0") is None
    assert set(head.stacks) == set(VIEW_SETS)
    for views in VIEW_SETS:
        assert 0.05 < head.min_pet_probability(views) < 0.95


@pytest.mark.slow
def test_shipped_layers_reproduce_from_the_development_photos(dev):
    photos, feats, _ = dev
    head = openworld_head("lite2")
    pet = photos.is_pet
    w, b = _fit_layer(feats, pet, LAYER_L2["pet"])
    assert np.allclose(w, head.pet_w, rtol=1e-4, atol=1e-6) and b == pytest.approx(head.pet_b, rel=1e-5)
    w, b = _fit_layer(feats[pet], photos.species[pet] == "cat", LAYER_L2["cat"])
    assert np.allclose(w, head.cat_w, rtol=1e-4, atol=1e-6) and b == pytest.approx(head.cat_b, rel=1e-5)


def test_shipped_head_separates_its_development_photos(dev):
    photos, feats, probs = dev
    head = openworld_head("lite2")
    for views in VIEW_SETS:
        idx = [PET_VIEWS.index(v) for v in views]
        p, q = head.scores(feats[:, idx], probs[:, idx], views)
        acc = p >= head.min_pet_probability(views)
        pet = photos.is_pet
        assert acc[pet].mean() >= 0.99 and (~acc[~pet]).mean() >= 0.98
        assert ((q >= 0.5) == (photos.species == "cat"))[pet].mean() >= 0.99
