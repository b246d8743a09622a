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
from petnet.validate import check_number

# the ImageNet masses and the views looked at live below this module (petness builds on them too)
from petnet.pets.imagenet import cat_dog_mass, view_pet_scores  # noqa: E402,F401
from petnet.pets.preprocess import PET_VIEWS  # noqa: E402,F401

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
    """What the backbone's heads say about ``n`` photos, before any decision.

    ``pet_score`` (n,): 0..1, **0.5 at the scorer's recommended threshold** for the views looked at
    (``sigmoid`` of the pet log-odds less the threshold's, :func:`evidence_features`), so one
    ``min_pet_score`` (default 0.5) means the same for every backbone and every set of views;
    ``cat_logodds`` (n,): the species evidence, > 0 cat (a calibrated log-odds with the learned
    scorer); the mean ImageNet ``cat_score`` / ``dog_score`` (n,); the ImageNet class with the
    largest mean probability over the views, ``imagenet_index`` / ``imagenet_score`` (n,);
    ``species_margin``: how close to 0 a photo's ``cat_logodds`` must be to get more views
    (:func:`petnet.pets.decision.needs_more_views`): 0 with the learned scorer of
    :mod:`petnet.pets.petness`, :data:`SPECIES_MARGIN` with the ImageNet-mass rule of issue 10."""

    pet_score: np.ndarray
    cat_logodds: np.ndarray
    cat_score: np.ndarray
    dog_score: np.ndarray
    imagenet_index: np.ndarray
    imagenet_score: np.ndarray
    species_margin: float = SPECIES_MARGIN

    def __len__(self) -> int:
        return len(self.pet_score)

    def _arrays(self):
        return (self.pet_score, self.cat_logodds, self.cat_score, self.dog_score, self.imagenet_index,
                self.imagenet_score)

    def take(self, rows) -> Evidence:
        """The evidence of the photos ``rows`` (indices or a mask)."""
        return Evidence(*(np.asarray(a)[rows] for a in self._arrays()), self.species_margin)

    def put(self, rows, other: Evidence) -> Evidence:
        """A copy with the photos ``rows`` replaced by ``other`` (in order)."""
        arrays = []
        for mine, theirs in zip(self._arrays(), other._arrays()):
            a = np.array(mine, copy=True)
            a[rows] = theirs
            arrays.append(a)
        return Evidence(*arrays, self.species_margin)


#: the ImageNet-mass rule's threshold on the pet mass (issue 10: the largest threshold that accepts
#: >= 99.5% of the 362 shared pets); its :class:`Evidence` ``pet_score`` is 0.5 there
MIN_PET_MASS = 0.35


def _shifted(p, threshold) -> np.ndarray:
    """``sigmoid(logit(p) - logit(threshold))``: 0.5 where ``p`` is the threshold, monotone."""
    from petnet.pets.petness import logit, sigmoid
    return sigmoid(logit(p) - logit(threshold))


def evidence(probs, species_logodds=None) -> Evidence:
    """The :class:`Evidence` of photos by the ImageNet-mass rule (issue 10) from their ImageNet
    probabilities ``probs`` ((n, 1000) or (n, V, 1000)) and optionally the species head's
    log-odds of the same views ((n,) or (n, V)): the pet mass's maximum over the views, shifted so
    that :data:`MIN_PET_MASS` is 0.5."""
    P = _as_views(probs)
    if species_logodds is not None and len(np.asarray(species_logodds)) != len(P):
        raise ParamError("species_logodds", f"must hold one row per photo ({len(P)}), "
                          f"got {len(np.asarray(species_logodds))}")
    return Evidence(_shifted(pet_scores(P), MIN_PET_MASS), cat_logodds(P, species_logodds), *_imagenet_summary(P))


def _imagenet_summary(P) -> tuple:
    """``(cat_score, dog_score, imagenet_index, imagenet_score)`` of :class:`Evidence` from ImageNet
    probabilities ``P`` (n, V, 1000): the mean cat and dog masses and the class with the largest
    mean probability over the views."""
    cat, dog = cat_dog_mass(P)
    mean = P.mean(axis=1)
    top = mean.argmax(axis=1)
    return cat.mean(1), dog.mean(1), top, mean[np.arange(len(P)), top]


def scorer_views(head, views) -> tuple[tuple[str, ...], list[int]] | None:
    """The view set of the learned ``head`` to score ``views`` with, and the positions of its views
    in ``views``: all 8 :data:`PET_VIEWS` when they are all there, else centre + mirror, else the
    centre alone; ``None`` when ``views`` has no view set the head was fitted for."""
    views = list(views)
    for vset in sorted(head.stacks, key=len, reverse=True):
        if all(v in views for v in vset):
            return vset, [views.index(v) for v in vset]
    return None


def evidence_features(backbone, feats, probs=None, views=None) -> Evidence:
    """The :class:`Evidence` of photos from their bottleneck features ``feats`` (n, V, 1280) of
    ``views`` (their names, in order), with ``backbone``'s ImageNet head (``imagenet_logits``).
    ``probs``: their ImageNet probabilities when already computed (:func:`imagenet_view_probs`).

    With the learned scorer of ``backbone.arch`` (:func:`petnet.pets.petness.openworld_head`,
    shipped for lite2) and views it was fitted for: its calibrated pet and cat log-odds, the pet
    score shifted so that the head's recommended threshold for those views is 0.5, and no species
    margin (the species comes from the views that decided, as measured). Otherwise (lite0/lite1,
    or ``views=None``): the ImageNet-mass rule (:func:`evidence`) with the species head of
    :mod:`petnet.pets.species` where petnet ships one."""
    from petnet.pets.petness import logit, openworld_head, sigmoid
    from petnet.pets.species import species_head
    f = np.asarray(feats, np.float32)
    if f.ndim == 2:
        f = f[:, None, :]
    if probs is None:
        probs = imagenet_view_probs(backbone.imagenet_logits, f)
    head = openworld_head(backbone.arch) if views is not None else None
    chosen = None if head is None else scorer_views(head, views)
    if chosen is not None:
        vset, idx = chosen
        pet_lo, cat_lo = head.logodds(f[:, idx], probs[:, idx], vset)
        return Evidence(sigmoid(pet_lo - logit(head.min_pet_probability(vset))), cat_lo,
                        *_imagenet_summary(_as_views(probs)), 0.0)
    sp = species_head(backbone.arch)
    return evidence(probs, None if sp is None else sp.logodds(f))


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


def open_world(probs, min_pet_score: float = MIN_PET_MASS, species_logodds=None) -> list[OpenWorldAnswer]:
    """The ImageNet-mass rule of issue 10 (the baseline the benchmarks print beside the learned
    scorer) for each photo from its ImageNet probabilities ``probs``, shape (n, 1000) for one view
    or (n, V, 1000) for several, and optionally the species head's log-odds of the same views, (n,)
    or (n, V). ``min_pet_score`` and the answers' ``pet_score`` are on the pet mass's own scale
    (:func:`pet_scores`, 0.35 by default), decided by :func:`petnet.pets.decision.decide`."""
    import dataclasses
    t = check_score(min_pet_score, "min_pet_score")
    P = _as_views(probs)
    raw = pet_scores(P)
    out = answers(evidence(P, species_logodds), float(_shifted(t, MIN_PET_MASS)))
    return [dataclasses.replace(a, pet_score=float(r)) for a, r in zip(out, raw)]


def open_world_features(backbone, feats, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                        probs=None, views=None) -> list[OpenWorldAnswer]:
    """:func:`open_world` from bottleneck features ``feats`` (n, V, 1280) of ``views`` (their names;
    ideally :data:`PET_VIEWS`): :func:`evidence_features`, then the decision."""
    check_score(min_pet_score, "min_pet_score")
    return answers(evidence_features(backbone, feats, probs, views), min_pet_score)


def open_world_paths(backbone, paths, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                     views=PET_VIEWS, cascade: bool = False, quiet: bool = True, first=("center",)):
    """:func:`open_world_features` for photo files: ``(answers, ok_paths, failures)``; unreadable
    photos are skipped and listed in ``failures`` as ``(path, reason)``.

    The 8 views cost 8 forward passes per photo. ``cascade=True`` computes the ``first`` views for
    every photo and the others of ``views`` only for the photos that
    :func:`petnet.pets.decision.needs_more_views` picks (the same rule ``Recognizer`` follows)."""
    from petnet.pets.decision import needs_more_views
    t = check_score(min_pet_score, "min_pet_score")
    views = tuple(views)
    first = tuple(v for v in first if v in views) or views[:1]
    rest_views = tuple(v for v in views if v not in first)
    if not cascade or not rest_views:
        feats, ok, failures = backbone.extract(paths, views=views, quiet=quiet)
        return open_world_features(backbone, feats, t, views=views), ok, failures
    feats1, ok, failures = backbone.extract(paths, views=first, quiet=quiet)
    ev = evidence_features(backbone, feats1, views=first)
    low = np.flatnonzero(needs_more_views(ev.pet_score, ev.cat_logodds, t, ev.species_margin))
    if len(low):
        rest, ok2, failures2 = backbone.extract([ok[i] for i in low], views=rest_views, quiet=quiet)
        failures = failures + failures2
        row = {p: j for j, p in enumerate(ok2)}
        redo = [i for i in low if ok[i] in row]
        if redo:
            both = np.concatenate([feats1[redo], rest[[row[ok[i]] for i in redo]]], axis=1)
            ev = ev.put(redo, evidence_features(backbone, both, views=first + rest_views))
    return answers(ev, t), ok, failures


def label_species(probs, y, n_classes: int, min_pet_fraction: float = 0.5,
                  species_logodds=None, ev: Evidence | None = None) -> list[str | None]:
    """Species of each of the user's classes from what the backbone says of its training photos.

    ``probs`` (n, 1000) or (n, V, 1000) of the training photos (with ``species_logodds`` of the
    same photos when given), or their :class:`Evidence` ``ev`` (:func:`evidence_features`: the
    learned scorer where petnet ships one); ``y`` their class indices. A class is ``cat`` or
    ``dog`` by majority of its photos that are pets (``pet_score >= DEFAULT_MIN_PET_SCORE``) and
    their species; ``None`` when fewer than ``min_pet_fraction`` of its photos are pets (a class of
    cars or a mix) or on a tie. Folder names are never used: ``Abyssinian`` vs ``beagle``
    capitalisation is an Oxford convention, not the user's."""
    from petnet.pets.decision import species_of
    check_score(min_pet_fraction, "min_pet_fraction")
    if ev is None:
        ev = evidence(probs, species_logodds)
    y = np.asarray(y, np.int64)
    if y.shape != (len(ev),):
        raise ParamError("y", f"must hold one class index per photo ({len(ev)}), got shape {y.shape}")
    pet = np.asarray(ev.pet_score) >= DEFAULT_MIN_PET_SCORE
    sp = np.array(species_of(ev.cat_logodds))
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
