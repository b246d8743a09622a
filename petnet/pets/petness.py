"""How likely a photo is a cat or dog at all, and how likely a cat: calibrated probabilities.

Round 2 of the open-world answer (issue 21, docs/pets_openworld.md). Two votes per question,
combined by small logistic regressions fitted on held-out development photos
(:mod:`petnet.pets.openworld_data`), so the results are probabilities, not scores:

* **what the ImageNet head knows** (the backbone's own 1000 classes, :mod:`petnet.pets.imagenet`):
  a view's pet mass (cat + dog less teddy bear, :func:`~petnet.pets.openworld.view_pet_scores`),
  and its cat mass and dog mass apart;
* **a learned linear layer per question on the 1280 backbone features** of a view, trained on
  every view of the development photos of all four data sets: pet vs not a cat or dog, and cat
  vs dog (pets only).

Pet: each view gets its own log-odds from its 4 inputs (:func:`pet_inputs`, one combination
fitted on centre views); a photo's pet probability is a calibration of the *largest* view
log-odds over the views it was seen through, so a pet that fills one crop counts, as in petnet's
first rule. Species: the learned cat log-odds averaged over the views, weighted by each view's pet
probability, and the ImageNet cat-vs-dog mass ratio summed over the views, combined.
Each set of views (:data:`VIEW_SETS`: the centre view, the centre and its mirror image, all 8
:data:`~petnet.pets.openworld.PET_VIEWS`) has its own calibration, species weights and threshold:
a maximum over 8 views runs higher than over 1.

    from petnet.pets.petness import openworld_head
    head = openworld_head("lite2")
    pet_p, cat_p = head.scores(feats, imagenet_probs, views=("center",))   # (n,), (n,)
    is_pet = pet_p >= head.min_pet_probability(("center",))

``feats`` (n, V, 1280), ``imagenet_probs`` (n, V, 1000) of the same views. ``cat_p`` is the
probability that the photo is a cat *if* it is a cat or dog. The weights are
``data/openworld_<arch>.npz`` (pickle-free), rebuilt by ``python tools/make_openworld_head.py``;
the recommended thresholds are stored with them (:class:`OpenWorldHead`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.nn.activations import sigmoid  # noqa: F401  (1 / (1 + exp(-z)), stable; used here and by its importers)
from petnet.pets.preprocess import PET_VIEWS

DATA = Path(__file__).parent / "data"

#: inputs of the pet combination, in order (see :func:`pet_inputs`)
PET_INPUTS = ("learned", "imagenet_max_pet", "imagenet_cat", "imagenet_dog")
#: inputs of the species combination, in order (see :func:`species_inputs`)
SPECIES_INPUTS = ("learned", "imagenet_cat_vs_dog")
_EPS = 1e-6

#: L2 penalties of the learned layers (on standardised features, summed over the 8 views of every
#: development photo), chosen by the held-out NLL of a 5-fold CV inside the development photos
#: (``python tools/make_openworld_head.py --select``, :func:`layer_l2_table`): pet 3 / 10 / 30 /
#: 100 -> 0.0355 / **0.0348** / 0.0363 / 0.0423 (mean log-odds of the 8 views); cat 10 / 30 / 100
#: / 300 -> 0.0183 / **0.0179** / 0.0193 / 0.0242.
LAYER_L2 = {"pet": 10.0, "cat": 30.0}
#: L2 penalties tried for each combination; the one with the lowest held-out NLL is kept
STACK_L2_GRID = (0.1, 1.0)
#: the view sets a head is fitted for: the model's test views without / with the mirror image,
#: and all 8 views of :data:`~petnet.pets.openworld.PET_VIEWS`
VIEW_SETS: tuple[tuple[str, ...], ...] = (("center",), ("center", "flip"), PET_VIEWS)
#: the pet threshold weighs a rejected pet this many times a non-pet accepted (rates): the
#: targets allow 0.5% of the pets rejected and 2% of the non-pets accepted
PET_COST_RATIO = 4.0


def logit(p) -> np.ndarray:
    """log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6] (float64)."""
    p = np.clip(np.asarray(p, np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def fit_logistic(X, y, l2: float = 1.0, sample_weight=None, max_iter: int = 50,
                 tol: float = 1e-9) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method: ``(coef (d,), intercept)`` with
    log-odds ``X @ coef + intercept``.

    Minimises ``sum_i w_i CE(y_i, sigmoid(z_i)) + l2 / 2 * |beta|^2`` where ``beta`` are the
    coefficients of the columns standardised to mean 0 and variance 1 (weighted), so ``l2`` does
    not depend on the columns' scales; the intercept is not penalised. Deterministic (no
    random start); ``l2 > 0`` keeps it defined on separable data."""
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64)
    if X.ndim != 2 or y.shape != (len(X),) or len(X) == 0:
        raise ParamError("X", f"must be (n, d) with one label per row, got {X.shape} and {y.shape}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ParamError("y", "must hold 0/1 labels")
    if not l2 > 0:
        raise ParamError("l2", f"must be > 0, got {l2!r}")
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if w.shape != (len(X),) or (w < 0).any() or not w.sum() > 0:
        raise ParamError("sample_weight", f"must be {len(X)} non-negative weights, not all 0")
    n, d = X.shape
    mu = w @ X / w.sum()
    sd = np.sqrt(w @ (X - mu) ** 2 / w.sum())
    sd = np.where(sd > 1e-12, sd, 1.0)
    A = np.empty((n, d + 1))
    A[:, :d] = (X - mu) / sd
    A[:, d] = 1.0
    reg = np.r_[np.full(d, float(l2)), 0.0]
    beta = np.zeros(d + 1)
    for _ in range(max_iter):
        p = sigmoid(A @ beta)
        grad = A.T @ (w * (p - y)) + reg * beta
        H = (A * (w * p * (1 - p))[:, None]).T @ A
        H[np.diag_indices_from(H)] += reg + 1e-9
        step = np.linalg.solve(H, grad)
        beta -= step
        if np.abs(step).max() < tol:
            break
    coef = beta[:d] / sd
    return coef, float(beta[d] - coef @ mu)


def _check(feats, probs, views):
    F = np.asarray(feats, np.float32)
    Pr = np.asarray(probs, np.float64)
    if F.ndim != 3 or Pr.ndim != 3 or F.shape[:2] != Pr.shape[:2] or Pr.shape[2] != 1000:
        raise ParamError("feats", f"and imagenet_probs must be (n, V, D) and (n, V, 1000) of the same "
                         f"photos and views, got {F.shape} and {Pr.shape}")
    if views is not None and len(views) != F.shape[1]:
        raise ParamError("views", f"names {len(views)} views but the arrays hold {F.shape[1]}")
    return F, Pr


def pet_inputs(learned_logodds, probs) -> np.ndarray:
    """The pet combination's inputs for each view, ``(n, V, 4)`` (:data:`PET_INPUTS`), from the
    learned layer's log-odds ``(n, V)`` and the ImageNet probabilities ``(n, V, 1000)`` of the same
    views: the learned log-odds, the logit of the view's pet mass (cat + dog less teddy bear), the
    logit of its cat mass and the logit of its dog mass."""
    from petnet.pets.imagenet import cat_dog_mass, view_pet_scores
    cat, dog = cat_dog_mass(probs)
    return np.stack([np.asarray(learned_logodds, np.float64), logit(view_pet_scores(probs)),
                     logit(cat), logit(dog)], axis=-1)


def species_inputs(learned_logodds, probs, weights=None) -> np.ndarray:
    """The species combination's inputs ``(n, 2)`` (:data:`SPECIES_INPUTS`): the learned cat-vs-dog
    log-odds of the views ``(n, V)`` averaged with ``weights`` ``(n, V)`` (default equal; petnet
    weighs each view by its pet probability, so views that miss the pet hardly count), and
    log(cat mass / dog mass) of the ImageNet probabilities summed over the views."""
    from petnet.pets.imagenet import cat_dog_mass
    lo = np.asarray(learned_logodds, np.float64)
    w = np.ones_like(lo) if weights is None else np.asarray(weights, np.float64)
    if w.shape != lo.shape:
        raise ParamError("weights", f"must have the shape of the log-odds {lo.shape}, got {w.shape}")
    cat, dog = cat_dog_mass(probs)
    mean = (w * lo).sum(1) / np.maximum(w.sum(1), 1e-12)
    return np.c_[mean, np.log(np.maximum(cat.sum(1), _EPS)) - np.log(np.maximum(dog.sum(1), _EPS))]


@dataclass(frozen=True)
class Stack:
    """One combination: log-odds ``inputs @ coef + intercept``."""

    coef: np.ndarray
    intercept: float

    def logodds(self, inputs) -> np.ndarray:
        return np.asarray(inputs, np.float64) @ np.asarray(self.coef, np.float64) + self.intercept


@dataclass(frozen=True)
class OpenWorldHead:
    """The learned layers, the combinations and the recommended thresholds (all chosen on
    development photos; docs/pets_openworld.md).

    ``pet_w`` (1280,), ``pet_b``: pet-vs-not log-odds of one view's features; ``cat_w``,
    ``cat_b``: cat-vs-dog. ``view_stack``: one view's pet log-odds from its :func:`pet_inputs`.
    ``stacks[views] = (pet calibration, species Stack)`` for each view set it was fitted for: the
    pet probability of a photo is ``sigmoid(a * m + b)`` of ``m``, the largest view log-odds over
    the views (a maximum over 8 views runs higher than over 1, hence one calibration per set).
    ``thresholds``: ``min_pet_probability[<views joined by |>]`` is the recommended ``is_pet``
    threshold of each view set (:meth:`min_pet_probability`)."""

    pet_w: np.ndarray
    pet_b: float
    cat_w: np.ndarray
    cat_b: float
    view_stack: Stack
    stacks: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    arch: str = "lite2"
    preprocess_id: str = ""

    def learned_logodds(self, feats) -> tuple[np.ndarray, np.ndarray]:
        """``(pet, cat)`` log-odds of the learned layers for each view: (n, V) each."""
        F = np.asarray(feats, np.float32).astype(np.float64)
        return F @ self.pet_w.astype(np.float64) + self.pet_b, F @ self.cat_w.astype(np.float64) + self.cat_b

    def view_logodds(self, feats, imagenet_probs) -> np.ndarray:
        """Each view's own pet log-odds ``(n, V)`` (the view seen alone, as a centre view)."""
        F, Pr = _check(feats, imagenet_probs, None)
        return self.view_stack.logodds(pet_inputs(self.learned_logodds(F)[0], Pr))

    def logodds(self, feats, imagenet_probs, views) -> tuple[np.ndarray, np.ndarray]:
        """``(pet log-odds (n,), cat log-odds (n,))`` of photos seen through ``views``."""
        views = tuple(views)
        if views not in self.stacks:
            raise ParamError("views", f"must be one of the view sets this head was fitted for "
                             f"{sorted(self.stacks)}, got {views}")
        F, Pr = _check(feats, imagenet_probs, views)
        pet_lo, cat_lo = self.learned_logodds(F)
        v = self.view_stack.logodds(pet_inputs(pet_lo, Pr))
        calibration, species = self.stacks[views]
        return (calibration.logodds(v.max(1)[:, None]),
                species.logodds(species_inputs(cat_lo, Pr, sigmoid(v))))

    def scores(self, feats, imagenet_probs, views) -> tuple[np.ndarray, np.ndarray]:
        """``(pet_probability (n,), cat_probability (n,))`` of photos seen through ``views``
        (features (n, V, 1280) and ImageNet probabilities (n, V, 1000) of those views, in that
        order). ``cat_probability``: P(cat | a cat or dog)."""
        pet, cat = self.logodds(feats, imagenet_probs, views)
        return sigmoid(pet), sigmoid(cat)

    def min_pet_probability(self, views) -> float:
        """The recommended ``is_pet`` threshold on :meth:`scores`' pet probability for ``views``."""
        key = threshold_key("min_pet_probability", views)
        if key not in self.thresholds:
            raise ParamError("views", f"has no recommended threshold: {tuple(views)}")
        return self.thresholds[key]

    def save(self, path) -> Path:
        """Write the pickle-free ``.npz`` (atomically)."""
        from petnet.atomic import write_atomically
        arrays = {"pet_w": np.asarray(self.pet_w, np.float32), "pet_b": np.float64(self.pet_b),
                  "cat_w": np.asarray(self.cat_w, np.float32), "cat_b": np.float64(self.cat_b),
                  "view_stack": np.r_[np.asarray(self.view_stack.coef, np.float64), self.view_stack.intercept],
                  "arch": np.str_(self.arch), "preprocess_id": np.str_(self.preprocess_id),
                  "threshold_names": np.array(sorted(self.thresholds), dtype=str),
                  "threshold_values": np.array([self.thresholds[k] for k in sorted(self.thresholds)],
                                               np.float64),
                  "stack_views": np.array(["|".join(v) for v in self.stacks], dtype=str)}
        for i, (pet, sp) in enumerate(self.stacks.values()):
            arrays[f"stack{i}_pet"] = np.r_[np.asarray(pet.coef, np.float64), pet.intercept]
            arrays[f"stack{i}_species"] = np.r_[np.asarray(sp.coef, np.float64), sp.intercept]
        return write_atomically(Path(path), lambda fh: np.savez(fh, **arrays))


def load_openworld_head(path) -> OpenWorldHead:
    """Read a head written by :meth:`OpenWorldHead.save` (never unpickles)."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            stacks = {}
            for i, v in enumerate(z["stack_views"]):
                pet, sp = z[f"stack{i}_pet"], z[f"stack{i}_species"]
                if pet.shape != (2,) or sp.shape != (len(SPECIES_INPUTS) + 1,):
                    raise PetnetError(f"{path}: stack {i} has the wrong number of weights")
                stacks[tuple(str(v).split("|"))] = (Stack(pet[:-1].copy(), float(pet[-1])),
                                                    Stack(sp[:-1].copy(), float(sp[-1])))
            vs = z["view_stack"]
            if vs.shape != (len(PET_INPUTS) + 1,):
                raise PetnetError(f"{path}: view_stack has the wrong number of weights")
            head = OpenWorldHead(z["pet_w"].copy(), float(z["pet_b"]), z["cat_w"].copy(), float(z["cat_b"]),
                                 Stack(vs[:-1].copy(), float(vs[-1])), stacks,
                                 dict(zip((str(k) for k in z["threshold_names"]),
                                          (float(x) for x in z["threshold_values"]))),
                                 str(z["arch"]), str(z["preprocess_id"]))
    except (OSError, KeyError, ValueError) as exc:
        raise PetnetError(f"cannot read the open-world head {path}: {exc}") from None
    if head.pet_w.shape != head.cat_w.shape or head.pet_w.ndim != 1:
        raise PetnetError(f"{path}: pet_w and cat_w must be two vectors of the feature size")
    return head


@lru_cache(maxsize=4)
def openworld_head(arch: str = "lite2") -> OpenWorldHead | None:
    """The shipped head of ``arch``, or ``None`` when petnet ships none for it (or its
    preprocessing changed since it was trained: its features would not match)."""
    from petnet.pets.preprocess import preprocess_id
    path = DATA / f"openworld_{arch}.npz"
    if not path.is_file():
        return None
    head = load_openworld_head(path)
    if head.arch != arch or head.preprocess_id != preprocess_id(arch):
        return None
    return head


def threshold_key(name: str, views) -> str:
    """``"name[center|flip]"``: the key of a per-view-set threshold in :attr:`OpenWorldHead.thresholds`."""
    return f"{name}[{'|'.join(views)}]"


def threshold_by_cost(logodds_pos, logodds_neg, ratio: float = PET_COST_RATIO) -> float:
    """The probability threshold ``t`` ("pet if p >= t") that minimises
    ``ratio * (pets rejected / pets) + (non-pets accepted / non-pets)`` on held-out log-odds of
    pets (``logodds_pos``) and non-pets (``logodds_neg``); of the interval of equally good
    thresholds (the widest, if several), its middle in log-odds."""
    pos = np.sort(np.asarray(logodds_pos, np.float64))
    neg = np.sort(np.asarray(logodds_neg, np.float64))
    if pos.size == 0 or neg.size == 0:
        raise ParamError("logodds_pos", "and logodds_neg must both hold scores")
    cuts = np.unique(np.r_[pos, neg])
    # t in (lo[j], hi[j]] accepts exactly the scores >= hi[j]
    edges = np.r_[cuts[0] - 1.0, cuts, cuts[-1] + 1.0]
    lo, hi = edges[:-1], edges[1:]
    rejected = np.searchsorted(pos, hi, side="left") / pos.size
    accepted = 1 - np.searchsorted(neg, hi, side="left") / neg.size
    cost = ratio * rejected + accepted
    best = np.flatnonzero(cost <= cost.min() + 1e-12)
    j = best[np.argmax(hi[best] - lo[best])]
    return float(sigmoid((lo[j] + hi[j]) / 2))


def _fit_layer(X, y, l2):
    """A linear layer on every view of the photos: X (n, V, D), y (n,) -> (w (D,), b)."""
    n, V, D = X.shape
    return fit_logistic(np.asarray(X, np.float32).reshape(n * V, D), np.repeat(np.asarray(y, np.float64), V), l2)


def _layer_logodds(X, wb):
    return np.asarray(X, np.float32).astype(np.float64) @ wb[0] + wb[1]


def _cv(Z, y, folds, l2, Z_apply=None):
    """Held-out log-odds of a logistic regression on ``Z`` (each fold from the others), applied
    to ``Z_apply`` (default ``Z``; rows are photos, any trailing shape)."""
    Za = Z if Z_apply is None else Z_apply
    out = np.zeros(Za.shape[:-1])
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        c, b = fit_logistic(Z[tr], y[tr], l2)
        out[te] = Za[te] @ c + b
    return out


def _nll(z, y):
    return float(np.mean(np.logaddexp(0, z) - y * z))


def _choose_l2(Z, y, folds, grid):
    """The penalty of ``grid`` with the lowest held-out NLL, and its held-out log-odds."""
    cv = {g: _cv(Z, y, folds, g) for g in grid}
    g = min(grid, key=lambda g: _nll(cv[g], y))
    return g, cv[g]


def fit_openworld_head(feats, probs, is_pet, is_cat, folds, arch: str = "lite2", *,
                       layer_l2=None, stack_l2_grid=STACK_L2_GRID, view_sets=VIEW_SETS,
                       log=None) -> tuple[OpenWorldHead, dict]:
    """Fit a head on development photos: ``feats`` (n, 8, 1280) and ``probs`` (n, 8, 1000) of the
    8 :data:`~petnet.pets.openworld.PET_VIEWS` in that order, ``is_pet`` (n,), ``is_cat`` (n,)
    (ignored for non-pets), ``folds`` (n,) the cross-validation folds inside them.

    1. held-out log-odds of the two learned layers for every photo and view: each fold's from
       layers fitted on the other folds (``layer_l2``, default :data:`LAYER_L2`);
    2. the view combination on the centre views' held-out inputs (its penalty: the one of
       ``stack_l2_grid`` with the lowest held-out NLL), and its held-out log-odds for every view;
    3. for each view set: the calibration of the largest view log-odds and the species
       combination, chosen and fitted the same way; the held-out pet log-odds choose
       ``min_pet_probability`` (:func:`threshold_by_cost`);
    4. the layers and combinations refitted on all photos.

    Returns ``(head, held_out)``: ``held_out["pet"][views]`` / ``["cat"][views]`` are the held-out
    log-odds (n,) of each view set (cat: NaN for non-pets), ``["view"]`` the held-out view log-odds
    (n, 8), ``["l2"]`` the chosen penalties."""
    from petnet.pets.preprocess import preprocess_id
    say = log or (lambda *_: None)
    F = np.asarray(feats, np.float32)
    Pr = np.asarray(probs, np.float64)
    pet = np.asarray(is_pet, bool)
    cat = np.asarray(is_cat, bool) & pet
    folds = np.asarray(folds)
    n = len(F)
    if F.ndim != 3 or F.shape[1] != len(PET_VIEWS) or Pr.shape != (n, len(PET_VIEWS), 1000):
        raise ParamError("feats", f"and probs must hold the {len(PET_VIEWS)} PET_VIEWS of every photo, "
                         f"got {F.shape} and {Pr.shape}")
    if not (pet.shape == cat.shape == folds.shape == (n,)):
        raise ParamError("is_pet", f"is_cat and folds must hold one value per photo ({n})")
    if pet.all() or not pet.any() or cat[pet].all() or not cat[pet].any():
        raise ParamError("is_pet", "and is_cat must hold pets and non-pets, cats and dogs")
    l2 = dict(LAYER_L2 if layer_l2 is None else layer_l2)
    A = np.zeros((n, len(PET_VIEWS)))
    C = np.zeros((n, len(PET_VIEWS)))
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        A[te] = _layer_logodds(F[te], _fit_layer(F[tr], pet[tr], l2["pet"]))
        C[te] = _layer_logodds(F[te], _fit_layer(F[tr & pet], cat[tr & pet], l2["cat"]))
        say(f"fold {f}: layers fitted on {int(tr.sum())} photos")
    yp, yc = pet.astype(np.float64), cat.astype(np.float64)
    Z = pet_inputs(A, Pr)                                     # (n, 8, 4)
    g_view, _ = _choose_l2(Z[:, 0], yp, folds, stack_l2_grid)
    V = _cv(Z[:, 0], yp, folds, g_view, Z_apply=Z)           # held-out log-odds of every view (n, 8)
    held = {"pet_layer": A, "cat_layer": C, "view": V, "pet": {}, "cat": {}, "l2": {"view": g_view}}
    stacks, thresholds = {}, {}
    for views in view_sets:
        idx = [PET_VIEWS.index(v) for v in views]
        m = V[:, idx].max(1)[:, None]
        S = species_inputs(C[:, idx], Pr[:, idx], sigmoid(V[:, idx]))
        g_pet, lo_pet = _choose_l2(m, yp, folds, stack_l2_grid)
        g_cat, lo_cat = _choose_l2(S[pet], yc[pet], folds[pet], stack_l2_grid)
        held["pet"][views] = lo_pet
        held["cat"][views] = np.full(n, np.nan)
        held["cat"][views][pet] = lo_cat
        held["l2"][views] = (g_pet, g_cat)
        key = threshold_key("min_pet_probability", views)
        thresholds[key] = threshold_by_cost(lo_pet[pet], lo_pet[~pet])
        stacks[views] = (Stack(*fit_logistic(m, yp, g_pet)), Stack(*fit_logistic(S[pet], yc[pet], g_cat)))
        say(f"views {'+'.join(views)}: l2 pet {g_pet}, cat {g_cat}; {key} = {thresholds[key]:.4f}")
    view_stack = Stack(*fit_logistic(Z[:, 0], yp, g_view))
    wp = _fit_layer(F, pet, l2["pet"])
    wc = _fit_layer(F[pet], cat[pet], l2["cat"])
    head = OpenWorldHead(wp[0].astype(np.float32), float(wp[1]), wc[0].astype(np.float32), float(wc[1]),
                         view_stack, stacks, thresholds, arch, preprocess_id(arch))
    return head, held


def needs_more_views(pet_probability, min_pet_probability: float) -> np.ndarray:
    """The cascade's rule ``(n,)`` booleans: a photo whose first views (the model's test views)
    do not make it a pet (``pet_probability < min_pet_probability`` for those views) is looked at
    again through all 8 :data:`~petnet.pets.openworld.PET_VIEWS`; a clear pet costs no extra pass."""
    return np.asarray(pet_probability, np.float64) < float(min_pet_probability)


def species_with_breed(cat_probability, breed_species, breed_sure, fix: bool = True):
    """Species that agrees with the breed: ``(species (n,) "cat"/"dog", other_species (n,) bool)``.

    ``cat_probability`` (n,) from :meth:`OpenWorldHead.scores`; ``breed_species`` the species of
    each photo's top breed (``"cat"``, ``"dog"`` or ``None`` when the class has none); ``breed_sure``
    whether that breed answer is sure. The scorer names the species (``cat`` when
    ``cat_probability >= 0.5``); with ``fix`` a sure breed overrides it. ``other_species`` marks
    a disagreement between the scorer and the top breed's species (sure or not): the answer is
    then unsure for that reason."""
    q = np.asarray(cat_probability, np.float64)
    scorer = np.where(q >= 0.5, "cat", "dog").astype(object)
    bs = np.array([b if b in ("cat", "dog") else None for b in breed_species], dtype=object)
    sure = np.asarray(breed_sure, bool)
    if bs.shape != q.shape or sure.shape != q.shape:
        raise ParamError("breed_species", f"and breed_sure must hold one value per photo ({len(q)})")
    known = bs != None  # noqa: E711 -- elementwise on an object array
    other = known & (bs != scorer)
    species = np.where(fix & sure & known, bs, scorer)
    return species, other


LAYER_L2_GRID = {"pet": (3.0, 10.0, 30.0, 100.0), "cat": (10.0, 30.0, 100.0, 300.0)}


def layer_l2_table(feats, is_pet, is_cat, folds, grid=None) -> dict:
    """The held-out NLL of each learned layer for each L2 penalty of ``grid`` (default
    :data:`LAYER_L2_GRID`): ``{("pet" or "cat", l2): nll}``, the photo's log-odds being the mean
    over its views, each fold scored by a layer fitted on the others (cat: pets only)."""
    F = np.asarray(feats, np.float32)
    pet = np.asarray(is_pet, bool)
    cat = np.asarray(is_cat, bool) & pet
    folds = np.asarray(folds)
    out = {}
    for task, l2s in (grid or LAYER_L2_GRID).items():
        base = pet if task == "cat" else np.ones(len(F), bool)
        y = (cat if task == "cat" else pet).astype(np.float64)
        for l2 in l2s:
            z = np.zeros(len(F))
            for f in np.unique(folds[base]):
                tr, te = base & (folds != f), base & (folds == f)
                z[te] = _layer_logodds(F[te], _fit_layer(F[tr], y[tr], l2)).mean(1)
            out[(task, l2)] = _nll(z[base], y[base])
    return out
