"""The one decision (petnet.pets.decision): its rules on made-up evidence (Hypothesis), and on
the shared photos through the real network: not a pet => no species; a sure pet => the species of
its top class; unsure => a reason, said in Chinese and English."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petnet.errors import ParamError
from petnet.pets.answer import REASONS, check_consistent
from petnet.pets.decision import (DEFAULT_MIN_PET_SCORE, SPECIES_MARGIN, decide, needs_more_views,
                                  species_probability)
from tests.conftest import shared_path

SP = st.sampled_from(["cat", "dog", None])


@st.composite
def evidence(draw):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(2, 5))
    unit = st.floats(0, 1, allow_nan=False)
    pet = np.array(draw(st.lists(unit, min_size=n, max_size=n)))
    lo = np.array(draw(st.lists(st.floats(-20, 20, allow_nan=False), min_size=n, max_size=n)))
    raw = np.array(draw(st.lists(st.lists(st.floats(0.01, 1), min_size=k, max_size=k), min_size=n, max_size=n)))
    P = raw / raw.sum(1, keepdims=True)
    ls = draw(st.lists(SP, min_size=k, max_size=k))
    sim = draw(st.one_of(st.none(), st.lists(st.floats(-1, 1), min_size=n, max_size=n)))
    t = draw(st.tuples(unit, unit, st.floats(-1, 1)))
    return pet, lo, P, ls, sim, t


@settings(max_examples=300, deadline=None)
@given(evidence())
def test_decide_follows_its_rules(ev):
    pet, lo, P, ls, sim, (t_pet, t_breed, t_sim) = ev
    out = decide(pet, lo, P, ls, sim, min_pet_score=t_pet, min_breed_score=t_breed, min_class_similarity=t_sim)
    assert len(out) == len(pet)
    for i, d in enumerate(out):
        k = int(P[i].argmax())
        if pet[i] < t_pet:
            assert (d.verdict, d.is_pet, d.species, d.unsure_reason) == ("not_pet", False, None, None)
            continue
        assert d.is_pet and d.species == ("cat" if lo[i] > 0 else "dog")
        want = [r for r, hit in (("other_species", ls[k] is not None and ls[k] != d.species),
                                 ("far_from_class", sim is not None and sim[i] < t_sim),
                                 ("low_score", P[i, k] < t_breed)) if hit]
        assert list(d.reasons) == want
        assert d.verdict == ("unsure" if want else "pet")
        if d.verdict == "pet":
            assert ls[k] in (None, d.species)          # a sure pet: its top class's species
        assert 0.5 <= d.species_score <= 1


def test_decide_checks_its_arguments():
    with pytest.raises(ParamError, match="^min_pet_score "):
        decide([0.5], [1.0], min_pet_score=2)
    with pytest.raises(ParamError, match="^cat_logodds "):
        decide([0.5, 0.6], [1.0])
    with pytest.raises(ParamError, match="^label_species "):
        decide([0.5], [1.0], [[0.5, 0.5]], ["cat"])
    with pytest.raises(ParamError, match="^rules "):
        decide([0.5], [1.0], rules=("vibes",))
    assert decide([0.9], [1.0], [[0.9, 0.1]], ["dog", "cat"], rules=())[0].verdict == "pet"


def test_more_views_below_the_threshold_or_for_an_undecided_species():
    score = [0.1, 0.9, 0.9, DEFAULT_MIN_PET_SCORE]
    lo = [5.0, 0.5, -SPECIES_MARGIN - 0.1, 3.0]
    assert needs_more_views(score, lo).tolist() == [True, True, False, False]
    assert species_probability([0.0, 30.0]).tolist() == pytest.approx([0.5, 1.0])


@pytest.mark.slow
def test_answers_on_shared_photos_agree_with_themselves():
    """Pets, everyday cats and dogs of other breeds, and non-pets through the embedded model: every
    answer is consistent, non-pets have no species, and the unsure ones say why in both languages."""
    from petnet.pets import Recognizer
    data = shared_path("data")
    paths = (sorted((data / "pets" / "train").rglob("*.jpg"))[::12] + sorted((data / "catdog").rglob("*.jpg"))[::40]
             + sorted((data / "nonpet").rglob("*.jpg"))[::14] + sorted((data / "imagenet_nonpet").glob("*.jpg"))[::90])
    preds = Recognizer().predict([str(p) for p in paths])
    verdicts = {}
    for p in preds:
        check_consistent(p)
        verdicts.setdefault(p.verdict, []).append(p)
        if p.verdict == "not_pet":
            assert p.species is None and p.message_zh.startswith("不像猫或狗")
        if p.verdict == "unsure":
            assert p.unsure_reason in REASONS and "但不确定" in p.message_zh and "unsure" in p.message_en
        if p.verdict == "pet":
            assert p.species == p.top[0].species         # the 37 breeds all have a species
    assert {"pet", "not_pet"} <= set(verdicts)
