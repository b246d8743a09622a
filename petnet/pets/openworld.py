"""Is it a cat or a dog at all? The open-world evidence: pet score, species log-odds, "looks like".

This module *measures* (:class:`Evidence`: :func:`evidence`, :func:`evidence_features`); the rules
that turn the evidence into the answer are :func:`petnet.pets.decision.decide`, the one decision
every door calls (:func:`open_world`, :func:`open_world_paths` and ``Recognizer`` all go through it).

A breed head trained on 37 breeds names a breed for every photo, a coffee cup included. The
backbone's own 1000-way ImageNet head already knows cats and dogs: 118 dog classes (151-268) and
5 domestic cat classes (281-285, :mod:`petnet.pets.imagenet`). petnet's open-world answer uses
only that knowledge, no classifier fitted on a few non-pet photos:

* **pet score of a view**: the ImageNet probabilities summed over those classes and the dingo
  (273: a domestic dog gone wild, where ImageNet puts Shiba Inu-like dogs), less the teddy bear's
  (850: a toy that looks like a pet), clipped to [0, 1] (:func:`view_pet_scores`).
* **pet score** = the largest view score over several views of the photo
  (:data:`PET_VIEWS`: centre, mirrored, four corner crops, zoomed, whole shorter side), so a
  small pet in a big scene counts when one crop shows it large enough.
* **is_pet** = ``pet_score >= min_pet_score``. Because the score is a maximum, a photo whose
  centre view already reaches the threshold is a pet whatever the other views say:
  :func:`open_world_paths` computes the other seven views only for photos below it.
* **species** (pets only) = the sign of the mean cat-vs-dog log-odds of petnet's species head
  over the views (:mod:`petnet.pets.species`, trained on 37 breeds, 99.7% right in 5-fold CV,
  98.6% on breeds left out of its training); it does not depend on the user's classes (a tabby,
  a mixed-breed dog). Without a species head for the backbone (lite0/lite1): ``cat`` if the
  ImageNet cat mass summed over the views is larger than the dog mass (95.6%: ImageNet has no
  hairless cat, so Sphynx photos come out as dogs).
* **imagenet_top** = the ImageNet class with the largest mean probability over the views and
  that probability (EfficientNet-Lite's ImageNet softmax is soft: 0.1-0.5 is typical).

Measured on the shared photos (362 pets of 37 breeds, 126 non-pets; the threshold 5-fold
cross-validated; ``python bench/pets_openworld.py``): non-pets rejected 99.2%, pets accepted
99.7%, against 97.6% / 98.6% for the plain rule "centre view cat+dog >= 0.2" and 88.9% / 99.7%
for ">= 0.1". The dingo and the teddy bear were added after looking at the misses without them
(98.4% / 99.4%: a Shiba Inu taken for a dingo, a teddy bear taken for a Chow Chow). The misses
left are photos the ImageNet head itself gets wrong: accepted, a raccoon (ImageNet-1k has no
raccoon class: "Siamese cat"); rejected, a Sphynx ("upright piano"). See docs/pets_openworld.md.

**Unsure** (decided by :func:`petnet.pets.decision.decide`; :func:`unsure` is its old
boolean form): a photo that is a cat or dog gets the user's top breed marked unsure when its
probability is below ``min_breed_score``, when the top breed's species (:func:`label_species`,
from the ImageNet head on the class's training photos, never from the spelling of its name)
differs from the photo's species, or (a model with class features) when the photo is far from
the training photos of its top breed (:func:`class_features`, :func:`class_similarity`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.pets.imagenet import CAT_CLASSES, DOG_CLASSES, TOY_CLASSES
from petnet.validate import check_number

PET_VIEWS: tuple[str, ...] = ("center", "flip", "crop_tl", "crop_tr", "crop_bl", "crop_br", "zoom", "wide")

# the thresholds belong to the one decision (petnet.pets.decision); named here too for old callers
from petnet.pets.decision import (DEFAULT_MIN_BREED_SCORE, DEFAULT_MIN_CLASS_SIMILARITY,  # noqa: E402,F401
                                  DEFAULT_MIN_PET_SCORE, SPECIES_MARGIN)

SPECIES = ("cat", "dog")


@dataclass(frozen=True)
class OpenWorldAnswer:
    """The open-world verdict on one photo (see the module docstring for each rule).

    ``cat_score`` / ``dog_score``: the ImageNet cat / dog mass, averaged over the views (for
    display and debugging; ``species`` comes from the species head when there is one);
    ``cat_logodds``: the species evidence (> 0: cat) that :mod:`petnet.pets.decision` decides on."""

    is_pet: bool
    pet_score: float
    species: str | None
    cat_score: float
    dog_score: float
    imagenet_top: tuple[str, float]
    imagenet_top_zh: str = ""
    cat_logodds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready: ``is_pet``, ``pet_score``, ``species`` and ``imagenet_top``
        ``{"label", "name", "score"}`` (``name``: Chinese, empty when unknown)."""
        label, score = self.imagenet_top
        return {"is_pet": bool(self.is_pet), "pet_score": round(float(self.pet_score), 6),
                "species": self.species,
                "imagenet_top": {"label": label, "name": self.imagenet_top_zh,
                                 "score": round(float(score), 6)}}


def check_score(value, name: str) -> float:
    """``value`` as a float in [0, 1] or a ``ParamError`` naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParamError(name, f"must be a number between 0 and 1, got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ParamError(name, f"must be between 0 and 1, got {value:g}")
    return v


def _as_views(probs) -> np.ndarray:
    P = np.asarray(probs, np.float64)
    if P.ndim == 2:
        P = P[:, None, :]
    if P.ndim != 3 or P.shape[-1] != 1000 or P.shape[1] == 0:
        raise PetnetError("imagenet probabilities must have shape (n, 1000) or (n, views, 1000), "
                          f"got {np.shape(probs)}")
    return P


def imagenet_softmax(logits) -> np.ndarray:
    """ImageNet logits (..., 1000) -> probabilities (float64, the engine's stable softmax)."""
    from petnet.nn.activations import softmax
    return softmax(np.asarray(logits, np.float64))


def imagenet_view_probs(imagenet_logits, feats) -> np.ndarray:
    """``(n, V, 1280)`` features of V views -> ``(n, V, 1000)`` ImageNet probabilities, with
    ``imagenet_logits`` (a backbone's ImageNet head: ``(m, 1280) -> (m, 1000)``)."""
    n, V = feats.shape[:2]
    return imagenet_softmax(imagenet_logits(feats.reshape(n * V, -1))).reshape(n, V, -1)


def cat_dog_mass(probs) -> tuple[np.ndarray, np.ndarray]:
    """``(cat, dog)``: ImageNet probability summed over the cat classes 281-285 and the dog
    classes 151-268 and 273 (:data:`~petnet.pets.imagenet.DOG_CLASSES`), of any array of
    probabilities (..., 1000)."""
    P = np.asarray(probs, np.float64)
    return P[..., list(CAT_CLASSES)].sum(-1), P[..., list(DOG_CLASSES)].sum(-1)


def view_pet_scores(probs) -> np.ndarray:
    """Pet score of each view: its cat + dog mass less its teddy-bear mass
    (:data:`~petnet.pets.imagenet.TOY_CLASSES`), clipped to [0, 1]. A plush toy takes its cat or
    dog mass from looking like one; the network's own belief that it is a toy counts against it."""
    P = np.asarray(probs, np.float64)
    cat, dog = cat_dog_mass(P)
    return np.clip(cat + dog - P[..., list(TOY_CLASSES)].sum(-1), 0.0, 1.0)


def pet_scores(probs) -> np.ndarray:
    """Pet score of each photo: the largest :func:`view_pet_scores` over its views. ``probs``:
    (n, 1000) or (n, V, 1000) ImageNet probabilities -> (n,) in [0, 1]."""
    return view_pet_scores(_as_views(probs)).max(axis=1)


def weighted_species_logodds(probs, species_logodds) -> np.ndarray:
    """A photo's cat-vs-dog log-odds: the mean of its views' species-head log-odds ((n,) or
    (n, V)) weighted by each view's ImageNet cat + dog mass, so the views that show the pet count
    and the ones that miss it (a small pet in a corner) hardly do. ``(n,)``, > 0: cat."""
    cat, dog = cat_dog_mass(_as_views(probs))
    lo = np.asarray(species_logodds, np.float64).reshape(len(cat), -1)
    if lo.shape != cat.shape:
        raise ParamError("species_logodds", f"must have one value per photo and view {cat.shape}, "
                          f"got {np.shape(species_logodds)}")
    w = cat + dog
    return (w * lo).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)


def cat_logodds(probs, species_logodds=None) -> np.ndarray:
    """A photo's cat-vs-dog evidence, ``(n,)``, > 0: cat (what :mod:`petnet.pets.decision` decides
    the species on).

    With ``species_logodds`` ((n,) or (n, V), see :mod:`petnet.pets.species`):
    :func:`weighted_species_logodds`. Without (no species head for the backbone): the log of the
    ImageNet cat mass over the dog mass, both summed over the views of ``probs``."""
    if species_logodds is not None:
        return weighted_species_logodds(probs, species_logodds)
    cat, dog = cat_dog_mass(_as_views(probs))
    return np.log(np.maximum(cat.sum(1), 1e-300)) - np.log(np.maximum(dog.sum(1), 1e-300))


def photo_species(probs, species_logodds=None) -> list[str]:
    """``cat`` or ``dog`` per photo: the sign of :func:`cat_logodds`."""
    from petnet.pets.decision import species_of
    return species_of(cat_logodds(probs, species_logodds))


@dataclass(frozen=True)
class Evidence:
    """What the backbone's heads say about ``n`` photos, before any decision: ``pet_score`` (n,),
    ``cat_logodds`` (n,), the mean ImageNet ``cat_score`` / ``dog_score`` (n,), and the ImageNet class
    with the largest mean probability over the views, ``imagenet_index`` (n,) / ``imagenet_score`` (n,)."""

    pet_score: np.ndarray
    cat_logodds: np.ndarray
    cat_score: np.ndarray
    dog_score: np.ndarray
    imagenet_index: np.ndarray
    imagenet_score: np.ndarray

    def __len__(self) -> int:
        return len(self.pet_score)

    def take(self, rows) -> Evidence:
        """The evidence of the photos ``rows`` (indices or a mask)."""
        return Evidence(*(np.asarray(a)[rows] for a in (self.pet_score, self.cat_logodds, self.cat_score,
                                                       self.dog_score, self.imagenet_index,
                                                       self.imagenet_score)))

    def put(self, rows, other: Evidence) -> Evidence:
        """A copy with the photos ``rows`` replaced by ``other`` (in order)."""
        arrays = []
        for mine, theirs in zip(self._arrays(), other._arrays()):
            a = np.array(mine, copy=True)
            a[rows] = theirs
            arrays.append(a)
        return Evidence(*arrays)

    def _arrays(self):
        return (self.pet_score, self.cat_logodds, self.cat_score, self.dog_score, self.imagenet_index,
                self.imagenet_score)


def evidence(probs, species_logodds=None) -> Evidence:
    """The :class:`Evidence` of photos from their ImageNet probabilities ``probs`` ((n, 1000) or
    (n, V, 1000)) and optionally the species head's log-odds of the same views ((n,) or (n, V))."""
    P = _as_views(probs)
    if species_logodds is not None and len(np.asarray(species_logodds)) != len(P):
        raise ParamError("species_logodds", f"must hold one row per photo ({len(P)}), "
                          f"got {len(np.asarray(species_logodds))}")
    cat, dog = cat_dog_mass(P)
    mean = P.mean(axis=1)
    top = mean.argmax(axis=1)
    return Evidence(pet_scores(P), cat_logodds(P, species_logodds), cat.mean(1), dog.mean(1), top,
                    mean[np.arange(len(P)), top])


def evidence_features(backbone, feats, probs=None) -> Evidence:
    """:func:`evidence` from bottleneck features ``feats`` (n, V, 1280), with ``backbone``'s ImageNet
    head (``imagenet_logits``) and the species head of ``backbone.arch`` when petnet ships one.
    ``probs``: their ImageNet probabilities when already computed (:func:`imagenet_view_probs`)."""
    from petnet.pets.species import species_head
    f = np.asarray(feats, np.float32)
    if f.ndim == 2:
        f = f[:, None, :]
    if probs is None:
        probs = imagenet_view_probs(backbone.imagenet_logits, f)
    head = species_head(backbone.arch)
    return evidence(probs, None if head is None else head.logodds(f))


def answers(ev: Evidence, min_pet_score: float = DEFAULT_MIN_PET_SCORE) -> list[OpenWorldAnswer]:
    """The open-world answers (no classes) of :class:`Evidence`, decided by
    :func:`petnet.pets.decision.decide`."""
    from petnet.pets.decision import decide
    from petnet.pets.imagenet import imagenet_chinese_names, imagenet_labels
    labels, zh = imagenet_labels(), imagenet_chinese_names()
    out = []
    for i, d in enumerate(decide(ev.pet_score, ev.cat_logodds, min_pet_score=min_pet_score)):
        k = int(ev.imagenet_index[i])
        out.append(OpenWorldAnswer(d.is_pet, float(ev.pet_score[i]), d.species, float(ev.cat_score[i]),
                                   float(ev.dog_score[i]), (labels[k], float(ev.imagenet_score[i])), zh[k],
                                   float(ev.cat_logodds[i])))
    return out


def open_world(probs, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
               species_logodds=None) -> list[OpenWorldAnswer]:
    """The open-world answer for each photo from its ImageNet probabilities ``probs``, shape
    (n, 1000) for one view or (n, V, 1000) for several (any views; :data:`PET_VIEWS` measured),
    and optionally the species head's log-odds of the same views, (n,) or (n, V)."""
    check_score(min_pet_score, "min_pet_score")
    return answers(evidence(probs, species_logodds), min_pet_score)


def open_world_features(backbone, feats, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                        probs=None) -> list[OpenWorldAnswer]:
    """:func:`open_world` from bottleneck features ``feats`` (n, V, 1280) of some views (ideally
    :data:`PET_VIEWS`): :func:`evidence_features`, then the decision."""
    check_score(min_pet_score, "min_pet_score")
    return answers(evidence_features(backbone, feats, probs), min_pet_score)


def open_world_paths(backbone, paths, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                     views=PET_VIEWS, cascade: bool = False, quiet: bool = True):
    """:func:`open_world_features` for photo files: ``(answers, ok_paths, failures)``; unreadable
    photos are skipped and listed in ``failures`` as ``(path, reason)``.

    The 8 views cost 8 forward passes per photo. ``cascade=True`` computes the first of ``views``
    for every photo and the others only for the photos that
    :func:`petnet.pets.decision.needs_more_views` picks (the same rule ``Recognizer`` follows):
    below ``min_pet_score`` (``is_pet`` is then the same as with all views: the score is a maximum)
    or of an undecided species."""
    from petnet.pets.decision import needs_more_views
    t = check_score(min_pet_score, "min_pet_score")
    views = tuple(views)
    if not cascade or len(views) == 1:
        feats, ok, failures = backbone.extract(paths, views=views, quiet=quiet)
        return open_world_features(backbone, feats, t), ok, failures
    first, ok, failures = backbone.extract(paths, views=views[:1], quiet=quiet)
    ev = evidence_features(backbone, first)
    low = np.flatnonzero(needs_more_views(ev.pet_score, ev.cat_logodds, t))
    if len(low):
        rest, ok2, failures2 = backbone.extract([ok[i] for i in low], views=views[1:], quiet=quiet)
        failures = failures + failures2
        row = {p: j for j, p in enumerate(ok2)}
        redo = [i for i in low if ok[i] in row]
        if redo:
            both = np.concatenate([first[redo], rest[[row[ok[i]] for i in redo]]], axis=1)
            ev = ev.put(redo, evidence_features(backbone, both))
    return answers(ev, t), ok, failures


def label_species(probs, y, n_classes: int, min_pet_fraction: float = 0.5,
                  species_logodds=None) -> list[str | None]:
    """Species of each of the user's classes from the ImageNet head on its training photos.

    ``probs`` (n, 1000) or (n, V, 1000) of the training photos, ``y`` their class indices. A class
    is ``cat`` or ``dog`` by majority of :func:`photo_species` (with ``species_logodds`` of the
    same photos when given) over its photos that are pets
    (pet score >= :data:`DEFAULT_MIN_PET_SCORE`); ``None`` when fewer than ``min_pet_fraction``
    of its photos are pets (a class of cars or a mix) or on a tie. Folder names are never used:
    ``Abyssinian`` vs ``beagle`` capitalisation is an Oxford convention, not the user's."""
    check_score(min_pet_fraction, "min_pet_fraction")
    P = _as_views(probs)
    y = np.asarray(y, np.int64)
    if y.shape != (len(P),):
        raise ParamError("y", f"must hold one class index per photo ({len(P)}), got shape {y.shape}")
    pet = pet_scores(P) >= DEFAULT_MIN_PET_SCORE
    sp = np.array(photo_species(P, species_logodds))
    out: list[str | None] = []
    for k in range(int(n_classes)):
        mine = y == k
        if not mine.any() or pet[mine].mean() < min_pet_fraction:
            out.append(None)
            continue
        cats = int(np.sum(sp[mine & pet] == "cat"))
        dogs = int(np.sum(sp[mine & pet] == "dog"))
        out.append("cat" if cats > dogs else "dog" if dogs > cats else None)
    return out


def photo_features(feats) -> np.ndarray:
    """One unit-length feature per photo: ``(n, V, D)`` features of V views (or ``(n, D)``) ->
    ``(n, D)`` float64, the mean of the L2-normalised view features, normalised again (for one
    view: that view's feature, normalised)."""
    F = np.asarray(feats, np.float64)
    if F.ndim == 2:
        F = F[:, None, :]
    if F.ndim != 3:
        raise ParamError("features", f"must have shape (n, D) or (n, views, D), got {np.shape(feats)}")
    F = F / np.maximum(np.linalg.norm(F, axis=-1, keepdims=True), 1e-12)
    F = F.mean(axis=1)
    return F / np.maximum(np.linalg.norm(F, axis=-1, keepdims=True), 1e-12)


def class_features(feats, y, n_classes: int) -> np.ndarray:
    """Each class's mean training feature, ``(n_classes, D)`` float32 with unit rows: the mean of
    :func:`photo_features` over the class's photos (``feats`` (n, V, D) or (n, D), ``y`` their
    class indices), normalised again. A class without photos gets a zero row (similarity 0)."""
    F = photo_features(feats)
    y = np.asarray(y, np.int64)
    if y.shape != (len(F),) or (y.size and not 0 <= y.min() <= y.max() < n_classes):
        raise ParamError("y", f"must hold one class index (0..{int(n_classes) - 1}) per photo ({len(F)}), "
                          f"got shape {y.shape}")
    M = np.zeros((int(n_classes), F.shape[1]))
    np.add.at(M, y, F)
    M /= np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-12)
    return M.astype(np.float32)


def class_similarity(feats, class_features_, top) -> np.ndarray:
    """Cosine similarity of each photo (:func:`photo_features` of ``feats``) to the mean training
    feature of its class ``top[i]`` (rows of ``class_features_``, see :func:`class_features`):
    ``(n,)`` in [-1, 1]; 1 is the class's centre, unrelated features score near 0."""
    F = photo_features(feats)
    C = np.asarray(class_features_, np.float64)
    top = np.asarray(top, np.int64)
    if C.ndim != 2 or C.shape[1] != F.shape[1] or top.shape != (len(F),):
        raise PetnetError(f"class features must have shape (K, {F.shape[1]}) and top one class per "
                          f"photo ({len(F)}), got {C.shape} and {top.shape}")
    return np.einsum("nd,nd->n", F, C[top])


def unsure(breed_probs, label_species_, photo_species_, min_breed_score: float = DEFAULT_MIN_BREED_SCORE,
           class_similarity=None, min_class_similarity: float = DEFAULT_MIN_CLASS_SIMILARITY) -> np.ndarray:
    """Which breed answers are unsure, ``(n,)`` booleans, by the rules of
    :func:`petnet.pets.decision.decide` for photos whose species is ``photo_species_[i]``
    (``None``: not a pet, never unsure)."""
    from petnet.pets.decision import decide
    t = check_score(min_breed_score, "min_breed_score")
    P = np.asarray(breed_probs, np.float64)
    if P.ndim != 2 or P.shape[1] != len(label_species_):
        raise ParamError("breed_probs", f"must have shape (n, {len(label_species_)}) for "
                          f"{len(label_species_)} label species, got {P.shape}")
    if len(photo_species_) != len(P):
        raise ParamError("photo_species_", f"must hold one species per photo ({len(P)}), "
                          f"got {len(photo_species_)}")
    pet = np.array([s is not None for s in photo_species_], float)
    lo = np.array([1.0 if s == "cat" else -1.0 for s in photo_species_])
    decisions = decide(pet, lo, P, label_species_, class_similarity, min_pet_score=0.5,
                       min_breed_score=t, min_class_similarity=min_class_similarity)
    return np.array([d.unsure for d in decisions], bool)
