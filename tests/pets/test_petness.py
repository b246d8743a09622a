"""The round-2 open-world scorer (:mod:`petnet.pets.petness`) on tiny made-up arrays.

``fit_logistic`` is checked against SciPy's optimiser on the same penalised loss; the inputs and
the probabilities against hand computations; the file round-trips bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from petnet.errors import ParamError, PetnetError
from petnet.pets.petness import (PET_INPUTS, SPECIES_INPUTS, OpenWorldHead, Stack, fit_logistic,
                                 load_openworld_head, logit, pet_inputs, sigmoid, species_inputs,
                                 threshold_by_cost)

CATS = [281, 282, 283, 284, 285]
DOGS = list(range(151, 269)) + [273]


def _scipy_logistic(X, y, l2, w):
    mu = w @ X / w.sum()
    sd = np.sqrt(w @ (X - mu) ** 2 / w.sum())
    A = np.c_[(X - mu) / sd, np.ones(len(X))]

    def loss(beta):
        z = A @ beta
        ce = np.logaddexp(0, z) - y * z
        return w @ ce + l2 / 2 * beta[:-1] @ beta[:-1]

    def grad(beta):
        g = A.T @ (w * (sigmoid(A @ beta) - y))
        g[:-1] += l2 * beta[:-1]
        return g

    beta = minimize(loss, np.zeros(A.shape[1]), jac=grad, method="BFGS", options={"gtol": 1e-10}).x
    coef = beta[:-1] / sd
    return coef, beta[-1] - coef @ mu


@pytest.mark.parametrize("l2", [0.1, 1.0, 10.0])
def test_fit_logistic_matches_scipy(l2):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3)) * [1.0, 5.0, 0.2] + [0.0, 3.0, -1.0]
    y = (X @ [1.0, 0.3, -4.0] + rng.normal(size=80) > 0.5).astype(float)
    w = rng.uniform(0.5, 2.0, size=80)
    coef, b = fit_logistic(X, y, l2, sample_weight=w)
    ref_coef, ref_b = _scipy_logistic(X, y, l2, w)
    assert coef == pytest.approx(ref_coef, rel=1e-5, abs=1e-7)
    assert b == pytest.approx(ref_b, rel=1e-5, abs=1e-7)


def test_fit_logistic_separable_data_stays_finite_and_right():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    coef, b = fit_logistic(X, np.array([0, 0, 1, 1.0]), l2=0.01)
    z = X @ coef + b
    assert np.isfinite(z).all() and (z > 0).tolist() == [False, False, True, True]


@pytest.mark.parametrize("args,param", [
    ((np.ones((3, 2)), np.array([0, 1, 2.0])), "y"),
    ((np.ones((3, 2)), np.array([0, 1.0])), "X"),
    ((np.ones((2, 1)), np.array([0, 1.0]), 0.0), "l2"),
])
def test_fit_logistic_refuses_bad_input(args, param):
    with pytest.raises(ParamError, match=f"^{param} "):
        fit_logistic(*args)


def _probs(cat, dog, teddy=0.0):
    p = np.full(1000, 0.0)
    rest = [i for i in range(1000) if i not in CATS + DOGS + [850]]
    p[rest] = (1 - cat - dog - teddy) / len(rest)
    p[CATS] = cat / len(CATS)
    p[DOGS] = dog / len(DOGS)
    p[850] = teddy
    return p


def test_inputs_by_hand():
    probs = np.stack([[_probs(0.5, 0.1), _probs(0.2, 0.1, teddy=0.05)],
                      [_probs(0.0, 0.02), _probs(0.01, 0.0)]])
    learned = np.array([[1.0, 3.0], [-2.0, -6.0]])
    X = pet_inputs(learned, probs)
    assert X.shape == (2, 2, len(PET_INPUTS))
    lg = lambda p: np.log(p / (1 - p))  # noqa: E731
    assert X[0, 0] == pytest.approx([1.0, lg(0.6), lg(0.5), lg(0.1)])
    assert X[0, 1] == pytest.approx([3.0, lg(0.25), lg(0.2), lg(0.1)])
    assert X[1, 1] == pytest.approx([-6.0, lg(0.01), lg(0.01), lg(1e-6)])
    S = species_inputs(learned, probs)
    assert S.shape == (2, len(SPECIES_INPUTS))
    assert S[0] == pytest.approx([2.0, np.log(0.7 / 0.2)])
    assert S[1] == pytest.approx([-4.0, np.log(0.01 / 0.02)])
    Sw = species_inputs(learned, probs, weights=np.array([[3.0, 1.0], [0.0, 1.0]]))
    assert Sw[:, 0] == pytest.approx([(3 * 1.0 + 3.0) / 4, -6.0])
    with pytest.raises(ParamError, match="^weights "):
        species_inputs(learned, probs, weights=np.ones((2, 3)))
    assert logit(0.0) == pytest.approx(np.log(1e-6 / (1 - 1e-6)))
    assert sigmoid(np.array([-1000.0, 0.0, 1000.0])) == pytest.approx([0.0, 0.5, 1.0])


def _head(D=4):
    rng = np.random.default_rng(0)
    stacks = {("center",): (Stack(np.array([1.0]), 0.0), Stack(np.array([1.0, 0.2]), 0.1)),
              ("center", "flip"): (Stack(np.array([0.8]), -0.4), Stack(np.array([0.8, 0.4]), 0.0))}
    return OpenWorldHead(rng.normal(size=D).astype(np.float32), 0.25, rng.normal(size=D).astype(np.float32),
                         -0.5, Stack(np.array([1.0, 2.0, 0.5, 0.5]), -0.3), stacks,
                         {"min_pet_probability[center]": 0.4, "min_pet_probability[center|flip]": 0.6},
                         "lite2", "test-id")


def test_scores_by_hand_and_view_sets():
    head = _head()
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(3, 2, 4)).astype(np.float32)
    probs = np.stack([[_probs(0.3, 0.2), _probs(0.1, 0.4)], [_probs(0.01, 0.01), _probs(0.002, 0.0)],
                      [_probs(0.9, 0.0), _probs(0.8, 0.1)]])
    pet_p, cat_p = head.scores(feats, probs, ("center", "flip"))
    f64 = feats.astype(np.float64)
    a = f64 @ head.pet_w.astype(np.float64) + head.pet_b
    s = f64 @ head.cat_w.astype(np.float64) + head.cat_b
    lg = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))  # noqa: E731
    cat = probs[..., CATS].sum(-1)
    dog = probs[..., DOGS].sum(-1)
    view = a * 1.0 + 2.0 * lg(cat + dog - probs[..., 850]) + 0.5 * lg(cat) + 0.5 * lg(dog) - 0.3
    assert head.view_logodds(feats, probs) == pytest.approx(view)
    by_hand_pet = 1 / (1 + np.exp(-(0.8 * view.max(1) - 0.4)))
    w = 1 / (1 + np.exp(-view))
    by_hand_cat = 1 / (1 + np.exp(-(0.8 * (w * s).sum(1) / w.sum(1) + 0.4 * np.log(cat.sum(1) / dog.sum(1)))))
    assert pet_p == pytest.approx(by_hand_pet)
    assert cat_p == pytest.approx(by_hand_cat)
    one, _ = head.scores(feats[:, :1], probs[:, :1], ("center",))
    assert one == pytest.approx(1 / (1 + np.exp(-view[:, 0])))
    assert head.min_pet_probability(("center",)) == 0.4
    with pytest.raises(ParamError, match="^views "):
        head.scores(feats, probs, ("center", "zoom"))
    with pytest.raises(ParamError, match="^views "):
        head.scores(feats, probs, ("center",))
    with pytest.raises(ParamError, match="^views "):
        head.min_pet_probability(("zoom",))
    with pytest.raises(ParamError, match="^feats "):
        head.scores(feats[:2], probs, ("center", "flip"))


def test_save_load_round_trip(tmp_path):
    head = _head()
    back = load_openworld_head(head.save(tmp_path / "h.npz"))
    assert np.array_equal(back.pet_w, head.pet_w) and np.array_equal(back.cat_w, head.cat_w)
    assert (back.pet_b, back.cat_b, back.arch, back.preprocess_id) == (0.25, -0.5, "lite2", "test-id")
    assert np.array_equal(back.view_stack.coef, head.view_stack.coef)
    assert back.view_stack.intercept == head.view_stack.intercept
    assert back.thresholds == head.thresholds
    assert list(back.stacks) == list(head.stacks)
    for k in head.stacks:
        for a, b in zip(back.stacks[k], head.stacks[k]):
            assert np.array_equal(a.coef, b.coef) and a.intercept == b.intercept
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(PetnetError, match="cannot read"):
        load_openworld_head(tmp_path / "bad.npz")


def test_threshold_by_cost_by_hand():
    # pets at log-odds 1, 2, 3, 4; non-pets at -3, -2, 0.5
    pos, neg = np.array([1.0, 2, 3, 4]), np.array([-3.0, -2, 0.5])
    # t in (-2, 0.5]: 0 pets rejected, 1/3 non-pets accepted, cost 0.333;
    # t in (0.5, 1]: all right, cost 0 -> middle 0.75
    assert threshold_by_cost(pos, neg) == pytest.approx(1 / (1 + np.exp(-0.75)))
    # a non-pet among the pets: rejecting one pet (cost 4 / 4 = 1) is worse than accepting it (1/3)
    t = threshold_by_cost(pos, np.array([-3.0, -2, 2.5]))
    lt = np.log(t / (1 - t))
    assert -2 < lt <= 1
    # with ratio 0.1 the pet is cheaper to reject: the threshold moves above 2.5
    t = threshold_by_cost(pos, np.array([-3.0, -2, 2.5]), ratio=0.1)
    assert 2.5 < np.log(t / (1 - t)) <= 3


def test_fit_openworld_head_on_made_up_features():
    """Two separable clusters for pet vs not and cat vs dog: the fitted head gets them right, its
    held-out log-odds have one value per photo, and the thresholds are probabilities."""
    from petnet.pets.petness import VIEW_SETS, fit_openworld_head
    rng = np.random.default_rng(0)
    n, D = 60, 6
    pet = np.arange(n) % 3 != 0
    cat = pet & (np.arange(n) % 2 == 0)
    F = rng.normal(size=(n, 8, D)).astype(np.float32)
    F[:, :, 0] += 3 * pet[:, None]
    F[:, :, 1] += 3 * (cat[:, None] * 2 - 1) * pet[:, None]
    probs = np.stack([[_probs(0.3 * c + 0.05 * p, 0.3 * (p and not c) + 0.02) for _ in range(8)]
                      for p, c in zip(pet, cat)])
    folds = np.arange(n) % 5
    head, held = fit_openworld_head(F, probs, pet, cat, folds, layer_l2={"pet": 1.0, "cat": 1.0})
    for views in VIEW_SETS:
        idx = [("center", "flip", "crop_tl", "crop_tr", "crop_bl", "crop_br", "zoom", "wide").index(v)
               for v in views]
        p, c = head.scores(F[:, idx], probs[:, idx], views)
        assert ((p >= head.min_pet_probability(views)) == pet).all()
        assert ((c >= 0.5) == cat)[pet].all()
        assert held["pet"][views].shape == (n,) and np.isnan(held["cat"][views][~pet]).all()
        assert 0 < head.min_pet_probability(views) < 1
    with pytest.raises(ParamError, match="^is_pet "):
        fit_openworld_head(F, probs, np.ones(n, bool), cat, folds)


def test_layer_l2_table_by_hand():
    from petnet.pets.petness import layer_l2_table
    rng = np.random.default_rng(5)
    n = 40
    pet = np.arange(n) % 2 == 0
    cat = pet & (np.arange(n) % 4 == 0)
    F = rng.normal(size=(n, 2, 3)).astype(np.float32)
    F[:, :, 0] += 2 * pet[:, None]
    folds = np.arange(n) % 4
    table = layer_l2_table(F, pet, cat, folds, grid={"pet": (1.0,), "cat": (2.0,)})
    z = np.zeros(n)
    for f in range(4):
        c, b = fit_logistic(F[folds != f].reshape(-1, 3), np.repeat(pet[folds != f], 2).astype(float), 1.0)
        z[folds == f] = (F[folds == f].astype(np.float64) @ c + b).mean(1)
    assert table[("pet", 1.0)] == pytest.approx(np.mean(np.logaddexp(0, z) - pet * z))
    assert set(table) == {("pet", 1.0), ("cat", 2.0)} and np.isfinite(table[("cat", 2.0)])
