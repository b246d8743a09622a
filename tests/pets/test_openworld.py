"""Open-world answers: is it a cat or dog, which species, what it looks like instead, unsure.

The rules are checked on synthetic ImageNet probabilities against hand computations, and once
on real photos with the real backbone (one batch): scikit-image's astronaut and coffee are not
pets, its tabby ``chelsea`` (not one of the 37 breeds) is a cat, and a shared pet photo pasted
small into a big canvas is still accepted."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from petnet.errors import PetnetError
from petnet.pets.imagenet import imagenet_chinese_names, imagenet_labels
from petnet.pets.openworld import (DEFAULT_MIN_PET_SCORE, PET_VIEWS, label_species, open_world,
                                   open_world_features, open_world_paths, pet_scores, photo_species,
                                   unsure)
from petnet.pets.species import fit_species_head, species_head
from tests.conftest import shared_path

PETS = [i for i in range(1000) if 151 <= i <= 268 or 281 <= i <= 285 or i == 273]   # dogs 151-268, dingo, cats
CATS = [281, 282, 283, 284, 285]
DINGO, TEDDY = 273, 850


def shifted(mass, at=0.35):
    """The pet score of the ImageNet-mass rule: 0.5 at its threshold (by hand)."""
    z = np.log(mass / (1 - mass)) - np.log(at / (1 - at))
    return 1 / (1 + np.exp(-z))


def view(cat=0.0, dog=0.0, top=None, top_p=0.0, rng=np.random.default_rng(0)):
    """One view's 1000 probabilities with the given cat and dog mass (and optionally one
    non-pet class ``top`` holding ``top_p``), the rest spread at random."""
    p = np.zeros(1000)
    rest = [i for i in range(1000) if i not in PETS and i not in (top, TEDDY)]
    w = rng.random(len(rest))
    p[rest] = w / w.sum() * (1.0 - cat - dog - top_p)
    p[CATS] = cat / 5
    dogs = [i for i in PETS if i not in CATS]
    p[dogs] = dog / len(dogs)
    if top is not None:
        p[top] = top_p
    return p


def test_pet_score_is_the_largest_cat_plus_dog_mass_over_the_views():
    probs = np.stack([
        [view(0.01, 0.02), view(0.30, 0.25), view(0.0, 0.0)],     # a pet seen in one view only
        [view(0.0, 0.05, 967, 0.8), view(0.0, 0.03, 967, 0.7), view(0.0, 0.01, 967, 0.9)],  # espresso
    ])
    by_hand = [max(probs[i, v, PETS].sum() for v in range(3)) for i in range(2)]
    assert pet_scores(probs) == pytest.approx(by_hand)
    assert by_hand == pytest.approx([0.55, 0.05])
    a, b = open_world(probs, min_pet_score=0.34)
    assert a.is_pet and a.species == "cat" and a.pet_score == pytest.approx(0.55)
    assert not b.is_pet and b.species is None
    assert b.imagenet_top == (imagenet_labels()[967], pytest.approx(0.8))
    assert b.imagenet_top[0] == "espresso" and b.imagenet_top_zh == imagenet_chinese_names()[967] == "意大利浓咖啡"
    d = json.loads(json.dumps(b.to_dict(), ensure_ascii=False))
    assert d == {"is_pet": False, "pet_score": pytest.approx(0.05), "species": None,
                 "imagenet_top": {"label": "espresso", "name": "意大利浓咖啡", "score": pytest.approx(0.8)}}
    # one view given as (n, 1000): the same rule
    assert pet_scores(probs[:, 1]) == pytest.approx([0.55, 0.03])
    assert open_world(probs, min_pet_score=0.56)[0].is_pet is False


def test_the_dingo_counts_as_a_dog_and_a_teddy_bear_against_a_pet():
    dingo = view()
    dingo[[i for i in range(1000) if i != DINGO]] *= 0.6 / dingo.sum()
    dingo[DINGO] = 0.4                           # a Shiba Inu that ImageNet calls "dingo"
    teddy = view(0.05, 0.40, TEDDY, 0.15)        # a plush bear that looks like a Chow Chow
    wolf = view(0.0, 0.10, 269, 0.60)            # a grey wolf: the wolves are not dogs
    probs = np.stack([dingo, teddy, wolf])
    assert probs.sum(-1) == pytest.approx(1.0)
    assert pet_scores(probs) == pytest.approx([0.4, 0.45 - 0.15, 0.10])
    assert [a.is_pet for a in open_world(probs, min_pet_score=0.35)] == [True, False, False]
    assert photo_species(probs[:1]) == ["dog"]
    # never below 0: a view with more teddy bear than pet scores 0
    assert pet_scores(view(0.0, 0.1, TEDDY, 0.5)[None]) == pytest.approx([0.0])


def test_species_from_the_species_head_weighs_the_views_that_show_the_pet():
    probs = np.stack([[view(0.1, 0.8), view(0.0, 0.02)]])   # ImageNet: dog
    assert photo_species(probs) == ["dog"]
    # the species head says cat in the view holding the pet, dog (strongly) in the empty view:
    # weighted by cat+dog mass 0.9 * 2 + 0.02 * (-10) > 0 -> cat; a plain mean would say dog
    lo = np.array([[2.0, -10.0]])
    assert photo_species(probs, lo) == ["cat"]
    assert open_world(probs, 0.34, species_logodds=lo)[0].species == "cat"
    with pytest.raises(PetnetError, match="species_logodds must have one value per photo and view"):
        photo_species(probs, np.zeros((1, 3)))


def test_thresholds_are_checked_by_name():
    probs = np.stack([[view(0.5, 0.0)]])
    with pytest.raises(PetnetError, match="min_pet_score must be between 0 and 1, got 2"):
        open_world(probs, min_pet_score=2)
    with pytest.raises(PetnetError, match="min_breed_score must be between 0 and 1, got -0.1"):
        unsure(np.array([[0.6, 0.4]]), ["cat", "dog"], ["cat"], min_breed_score=-0.1)
    with pytest.raises(PetnetError, match=r"imagenet probabilities must have shape"):
        open_world(np.zeros((2, 10)))
    assert 0 < DEFAULT_MIN_PET_SCORE < 1 and len(PET_VIEWS) == 8


def test_label_species_comes_from_the_photos_not_the_spelling():
    probs = np.stack([view(0.9, 0.0), view(0.8, 0.1),          # class 0 ("beagle"!) holds cats
                      view(0.0, 0.9), view(0.05, 0.7),         # class 1 dogs
                      view(0.0, 0.01, 436, 0.9), view(0.0, 0.0, 436, 0.8),   # class 2: cars
                      view(0.0, 0.9), view(0.0, 0.0, 436, 0.9)])            # class 3: half pets
    y = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    assert label_species(probs, y, 5) == ["cat", "dog", None, "dog", None]   # class 4: no photos
    assert label_species(probs, y, 4, min_pet_fraction=0.6)[3] is None
    # the species head overrides ImageNet (a Sphynx that ImageNet calls a dog)
    lo = np.array([1, 1, 5, 5, 0, 0, 0, 0], float)
    assert label_species(probs, y, 4, species_logodds=lo)[1] == "cat"


def test_unsure_rule():
    P = np.array([[0.90, 0.05, 0.05],    # confident, species agree      -> sure
                  [0.45, 0.35, 0.20],    # below min_breed_score         -> unsure
                  [0.90, 0.05, 0.05],    # confident, but the photo is a dog, the label a cat -> unsure
                  [0.05, 0.05, 0.90],    # label of unknown species       -> sure
                  [0.90, 0.05, 0.05]])   # not a pet (species None)       -> sure (no clash)
    labels = ["cat", "dog", None]
    photos = ["cat", "cat", "dog", "dog", None]
    assert unsure(P, labels, photos, 0.5).tolist() == [False, True, True, False, False]
    assert unsure(P, labels, photos, 0.4).tolist() == [False, False, True, False, False]
    with pytest.raises(PetnetError, match=r"breed_probs must have shape \(n, 2\)"):
        unsure(P, ["cat", "dog"], photos)


def test_species_head_shipped_for_lite2_and_fits_separable_data():
    head = species_head("lite2")
    assert head is not None and head.w.shape == (1280,) and np.isfinite(head.w).all()
    assert species_head("lite0") is None                # none shipped: ImageNet fallback
    rng = np.random.default_rng(0)
    is_cat = np.arange(40) % 2 == 0
    feats = np.abs(rng.normal(0, 1, (40, 2, 1280))).astype(np.float32)
    feats[is_cat, :, :10] += 3.0                        # cats light up the first 10 features
    fitted = fit_species_head(feats, is_cat, "lite2")
    assert ((fitted.logodds(feats).mean(1) > 0) == is_cat).all()
    with pytest.raises(PetnetError, match="is_cat must hold both cats and dogs"):
        fit_species_head(feats, np.ones(40, bool), "lite2")


# -- the real backbone, one batch -------------------------------------------------------------

@pytest.fixture(scope="module")
def backbone():
    from petnet.pets.backbone import Backbone
    return Backbone("lite2", threads=1)


def test_real_photos_not_pets_and_a_tabby(backbone, tmp_path):
    skdata = pytest.importorskip("skimage.data")
    paths = []
    for name in ("astronaut", "coffee", "chelsea"):
        paths.append(tmp_path / f"{name}.png")
        Image.fromarray(getattr(skdata, name)()).convert("RGB").save(paths[-1])
    answers, ok, failures = open_world_paths(backbone, paths)
    assert ok == paths and failures == []
    astronaut, coffee, chelsea = answers
    for a in (astronaut, coffee):
        assert not a.is_pet and a.species is None and a.pet_score < 0.2
        assert imagenet_labels().index(a.imagenet_top[0]) not in PETS
    assert coffee.imagenet_top[0] == "espresso" and coffee.imagenet_top[1] > 0.5
    assert chelsea.is_pet and chelsea.species == "cat" and chelsea.pet_score > 0.8


def test_small_pet_in_a_big_picture_still_accepted(backbone, tmp_path):
    pug = Image.open(shared_path("data", "pets", "train", "pug", "pug_112.jpg")).convert("RGB")
    canvas = Image.fromarray(np.random.default_rng(0).integers(0, 255, (853, 1280, 3), dtype=np.uint8))
    s = 0.3 * canvas.height / pug.height                # the pug: 30% of the height, ~6% of the area
    small = pug.resize((int(pug.width * s), int(pug.height * s)), Image.Resampling.LANCZOS)
    canvas.paste(small, (300, 790 - small.height))       # off centre, in the bottom-left corner view
    path = tmp_path / "pug_in_noise.jpg"
    canvas.save(path, quality=92)
    (answer,), _, _ = open_world_paths(backbone, [path])
    (centre_only,), _, _ = open_world_paths(backbone, [path], views=("center",))
    assert answer.is_pet and answer.species == "dog"
    assert not centre_only.is_pet                       # the centre view alone would miss it


def test_features_without_a_species_head_fall_back_to_imagenet():
    class FakeBackbone:          # lite0: no species head shipped; the ImageNet head is feats itself
        arch = "lite0"

        def imagenet_logits(self, feats):
            return np.log(np.asarray(feats, np.float64) + 1e-12)

    probs = np.stack([[view(0.05, 0.6), view(0.0, 0.2)], [view(0.0, 0.0, 504, 0.5)] * 2])
    dog, mug = open_world_features(FakeBackbone(), probs)
    assert dog.is_pet and dog.species == "dog" and dog.pet_score == pytest.approx(shifted(0.65))
    assert not mug.is_pet and mug.imagenet_top[0] == imagenet_labels()[504] and mug.imagenet_top_zh == "咖啡杯"
    names = imagenet_chinese_names()
    assert len(names) == 1000 and names[281] == "虎斑猫" and all(names)


def test_cascade_computes_more_views_only_below_the_threshold():
    low, pet = view(0.0, 0.1), view(0.1, 0.5)
    scenes = {"a.jpg": {"center": view(0.02, 0.58), "zoom": view(0.3, 0.4)},  # the centre decides: a dog
              "b.jpg": {"center": low, "crop_br": pet},                     # a pet in a corner
              "c.jpg": {}}                                                   # never a pet
    calls = []

    class FakeBackbone:
        arch = "lite0"

        def imagenet_logits(self, feats):
            return np.log(np.asarray(feats, np.float64) + 1e-12)

        def extract(self, paths, views, quiet=True):
            calls.append(([str(p) for p in paths], tuple(views)))
            feats = np.array([[scenes[str(p)].get(v, low) for v in views] for p in paths])
            return feats, list(paths), []

    paths = list(scenes)
    full, _, _ = open_world_paths(FakeBackbone(), paths)
    calls.clear()
    fast, ok, failures = open_world_paths(FakeBackbone(), paths, cascade=True)
    assert calls == [(paths, ("center",)), (["b.jpg", "c.jpg"], PET_VIEWS[1:])]
    assert [a.is_pet for a in fast] == [a.is_pet for a in full] == [True, True, False]
    # lite0 has no learned scorer: the ImageNet mass, 0.5 at MIN_PET_MASS (0.35)
    assert full[0].pet_score == pytest.approx(shifted(0.7)) and fast[0].pet_score == pytest.approx(shifted(0.6))
    assert fast[1].pet_score == full[1].pet_score == pytest.approx(shifted(0.6))
    assert ok == paths and failures == []
