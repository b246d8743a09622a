"""Scores are printed honestly: never ``1.00000`` (or ``0.00000``) for a probability that is not
exactly 1 (or 0) -- #23.3."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from petnet.pets.answer import Guess, Prediction, csv_rows, guess_dict, score_number, score_text
from petnet.pets.predict import format_text

probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=2000, deadline=None)
@given(probabilities, st.integers(min_value=1, max_value=8))
def test_score_text_never_claims_certainty_it_does_not_have(p, places):
    text = score_text(p, places)
    if text.startswith(">"):
        assert p < 1 and float(text[1:]) == round(1 - 10.0 ** -places, places) and p > float(text[1:])
    elif text.startswith("<"):
        assert 0 < p < float(text[1:]) == 10.0 ** -places
    else:
        # plain text: the usual rounding, to within half a unit of the last place
        assert text == f"{p:.{places}f}" and abs(float(text) - p) <= 0.5 * 10.0 ** -places + 1e-15
        assert (float(text) == 1.0) == (p == 1.0) and (float(text) == 0.0) == (p == 0.0)


@settings(max_examples=2000, deadline=None)
@given(probabilities, st.integers(min_value=1, max_value=8))
def test_score_number_stays_a_number_and_never_rounds_to_a_certainty(p, places):
    r = score_number(p, places)
    assert isinstance(r, float) and 0.0 <= r <= 1.0
    assert (r == 1.0) == (p == 1.0) and (r == 0.0) == (p == 0.0)
    assert abs(r - p) <= 10.0 ** -places + 1e-15   # at most one unit of the last place away
    assert round(r, places) == r


def test_the_examples_the_docs_give():
    assert score_text(0.999996) == ">0.99999" and score_text(1.0) == "1.00000"
    assert score_text(0.999994) == "0.99999" and score_text(0.123456) == "0.12346"
    assert score_text(3e-7) == "<0.00001" and score_text(0.0) == "0.00000" and score_text(math.nan) == "nan"
    assert score_text(0.9996, 3) == ">0.999" and score_text(0.996, 2) == ">0.99"
    assert score_number(0.999996) == 0.99999 and score_number(0.9999996, 6) == 0.999999
    assert score_number(1.0) == 1.0 and score_number(2e-7, 6) == 1e-6


def _prediction(score):
    g = Guess("pug", "pug", score, "dog")
    return Prediction(source="a.jpg", top=[g, Guess("boxer", "boxer", 1 - score, "dog")], verdict="pet",
                      species="dog", species_score=score, is_pet=True, pet_score=np.float32(score))


def test_every_written_form_of_an_almost_sure_answer():
    pred = _prediction(0.9999993)
    assert "(score = >0.99999)" in format_text(pred) and "1.00000" not in format_text(pred)
    rows = csv_rows(pred)
    assert rows[0][4] == "0.99999" and "1.00000" not in {c for row in rows for c in row}
    assert guess_dict(pred.top[0])["score"] == 0.999999 and guess_dict(pred.top[1])["score"] == 1e-6
    sure = _prediction(1.0)
    assert "(score = 1.00000)" in format_text(sure) and csv_rows(sure)[0][4] == "1.00000"
