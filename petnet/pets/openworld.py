"""Is it a cat or a dog at all? Species, "looks more like", and unsure breed answers.

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

**Unsure** (:func:`unsure`): a photo that is a cat or dog gets the user's top breed marked
unsure when its probability is below ``min_breed_score`` or when the top breed's species
(:func:`label_species`, from the ImageNet head on the class's training photos, never from the
spelling of its name) differs from the photo's species, or (a model with class features) when
the photo is far from the training photos of its top breed: the cosine similarity of the photo's
feature to the top class's mean training feature (:func:`class_features`,
:func:`class_similarity`) is below ``min_class_similarity``. A breed the head never saw often gets
a confident probability; it is rarely as close to the class's photos as the class's own photos are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.pets.imagenet import CAT_CLASSES, DOG_CLASSES, TOY_CLASSES
from petnet.validate import check_number

PET_VIEWS: tuple[str, ...] = ("center", "flip", "crop_tl", "crop_tr", "crop_bl", "crop_br", "zoom", "wide")

#: ``is_pet`` threshold on the pet score, chosen by measurement (``bench/pets_openworld.py``): the
#: largest threshold that accepts >= 99.5% of the 362 shared pet photos (0.352, rounded). On all
#: shared photos it rejects 125 of the 126 non-pets and accepts 361 of the 362 pets; the same
#: choice 5-fold cross-validated: the same counts (docs/pets_openworld.md).
DEFAULT_MIN_PET_SCORE = 0.35

#: a top breed below this probability is "unsure" (see :func:`unsure`). Measured on the shared
#: pets (5-fold CV, temperature-scaled head): answers scored 0.5-0.6 were right 12 times out of
#: 20, 0.4-0.5 4 out of 15; with 0.6, 13.3% of the answers are unsure and the sure ones are 92.0%
#: right (85.9% for all; 0.5: 8.0% unsure, 90.4%). 0.6 rather than 0.5 also because
#: scikit-image's tabby ``chelsea`` (no such breed among the 37) gets Abyssinian 0.586 from the
#: embedded model: unsure with 0.6, a confident wrong breed with 0.5.
DEFAULT_MIN_BREED_SCORE = 0.6

#: a top breed whose class similarity (:func:`class_similarity`) is below this is "unsure". Chosen
#: by measurement (``bench/pets_openworld.py``, table "photos of breeds the head never saw"): the
#: largest of the thresholds tried (0.5-0.62) that flags at most 2 points more seen-breed photos
#: than the probability rule alone. On the shared pets, seen breeds 5-fold CV, unseen breeds 5
#: groups of whole breeds left out of training: 14.9% of the seen-breed answers unsure instead of
#: 13.3% (the sure ones 92.2% right instead of 92.0%), 55.0% of the unseen-breed photos instead
#: of 42.3% (0.58: 15.7% / 58.8%; 0.6: 17.4% / 63.8%). The similarity separates seen from unseen
#: breeds better than the probability does (AUROC 0.848 vs 0.762).
DEFAULT_MIN_CLASS_SIMILARITY = 0.55

SPECIES = ("cat", "dog")

#: the cascade (``Recognizer``) also computes the other views of a pet whose species log-odds
#: (:func:`weighted_species_logodds`) on its first views is closer to 0 than this: on the shared pets
#: (5-fold CV) 1.7% of them, which brings the species from 99.4% (centre view) back to the
#: 99.7% of all 8 views (breeds left out of training: 2.8% of the pets, 98.1% -> 98.6%).
SPECIES_MARGIN = 2.0


@dataclass(frozen=True)
class OpenWorldAnswer:
    """The open-world verdict on one photo (see the module docstring for each rule).

    ``cat_score`` / ``dog_score``: the ImageNet cat / dog mass, averaged over the views (for
    display and debugging; ``species`` comes from the species head when there is one)."""

    is_pet: bool
    pet_score: float
    species: str | None
    cat_score: float
    dog_score: float
    imagenet_top: tuple[str, float]
    imagenet_top_zh: str = ""

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


def photo_species(probs, species_logodds=None) -> list[str]:
    """``cat`` or ``dog`` per photo.

    With ``species_logodds`` ((n,) or (n, V), see :mod:`petnet.pets.species`): the sign of
    :func:`weighted_species_logodds`. Without: the larger of the ImageNet cat and dog mass summed
    over the views of ``probs``."""
    if species_logodds is not None:
        return ["cat" if v > 0 else "dog" for v in weighted_species_logodds(probs, species_logodds)]
    cat, dog = cat_dog_mass(_as_views(probs))
    return ["cat" if c > d else "dog" for c, d in zip(cat.sum(1), dog.sum(1))]


def open_world(probs, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
               species_logodds=None) -> list[OpenWorldAnswer]:
    """The open-world answer for each photo from its ImageNet probabilities ``probs``, shape
    (n, 1000) for one view or (n, V, 1000) for several (any views; :data:`PET_VIEWS` measured),
    and optionally the species head's log-odds of the same views, (n,) or (n, V)."""
    from petnet.pets.imagenet import imagenet_chinese_names, imagenet_labels
    t = check_score(min_pet_score, "min_pet_score")
    P = _as_views(probs)
    if species_logodds is not None and len(np.asarray(species_logodds)) != len(P):
        raise ParamError("species_logodds", f"must hold one row per photo ({len(P)}), "
                          f"got {len(np.asarray(species_logodds))}")
    cat, dog = cat_dog_mass(P)
    score = pet_scores(P)
    species = photo_species(P, species_logodds)
    mean = P.mean(axis=1)
    top = mean.argmax(axis=1)
    labels, zh = imagenet_labels(), imagenet_chinese_names()
    out = []
    for i in range(len(P)):
        is_pet = bool(score[i] >= t)
        out.append(OpenWorldAnswer(is_pet, float(score[i]), species[i] if is_pet else None,
                                   float(cat[i].mean()), float(dog[i].mean()),
                                   (labels[top[i]], float(mean[i, top[i]])), zh[top[i]]))
    return out


def open_world_features(backbone, feats, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                        probs=None) -> list[OpenWorldAnswer]:
    """:func:`open_world` from bottleneck features ``feats`` (n, V, 1280) of some views (ideally
    :data:`PET_VIEWS`), with ``backbone``'s ImageNet head (``imagenet_logits``) and the species
    head of ``backbone.arch`` when petnet ships one. ``probs``: their ImageNet probabilities when
    already computed (:func:`imagenet_view_probs`)."""
    from petnet.pets.species import species_head
    f = np.asarray(feats, np.float32)
    if f.ndim == 2:
        f = f[:, None, :]
    if probs is None:
        probs = imagenet_view_probs(backbone.imagenet_logits, f)
    head = species_head(backbone.arch)
    return open_world(probs, min_pet_score, None if head is None else head.logodds(f))


def open_world_paths(backbone, paths, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                     views=PET_VIEWS, cascade: bool = False, quiet: bool = True):
    """:func:`open_world_features` for photo files: ``(answers, ok_paths, failures)``; unreadable
    photos are skipped and listed in ``failures`` as ``(path, reason)``.

    The 8 views cost 8 forward passes per photo. ``cascade=True`` computes the first of
    ``views`` for every photo and the others only for photos scoring below ``min_pet_score``
    there: ``is_pet`` is the same (the score is a maximum over views), 8x cheaper for the 95.3%
    of the shared pets whose centre view decides, but their species then comes from the centre
    view alone (99.4% right on the shared pets instead of 99.7%) and their ``pet_score`` is that
    view's."""
    t = check_score(min_pet_score, "min_pet_score")
    views = tuple(views)
    if not cascade or len(views) == 1:
        feats, ok, failures = backbone.extract(paths, views=views, quiet=quiet)
        return open_world_features(backbone, feats, t), ok, failures
    first, ok, failures = backbone.extract(paths, views=views[:1], quiet=quiet)
    answers = open_world_features(backbone, first, t)
    low = [i for i, a in enumerate(answers) if not a.is_pet]
    if low:
        rest, ok2, failures2 = backbone.extract([ok[i] for i in low], views=views[1:], quiet=quiet)
        failures = failures + failures2
        row = {p: j for j, p in enumerate(ok2)}
        for i in low:
            if ok[i] in row:
                both = np.concatenate([first[i:i + 1], rest[row[ok[i]]:row[ok[i]] + 1]], axis=1)
                answers[i] = open_world_features(backbone, both, t)[0]
    return answers, ok, failures


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
    """Which breed answers are unsure: ``(n,)`` booleans.

    Unsure when the top class's probability (calibrated, ideally) is below ``min_breed_score``,
    or when the top class has a species (``label_species_[k]``, see :func:`label_species`) and
    the photo has one (``photo_species_[i]``, ``None`` for a non-pet) and they differ, or when the
    photo's similarity to its top class (``class_similarity[i]``, see :func:`class_similarity`;
    ``None``: this rule is off) is below ``min_class_similarity``."""
    t = check_score(min_breed_score, "min_breed_score")
    t_sim = float(check_number("min_class_similarity", min_class_similarity, min=-1, max=1))
    P = np.asarray(breed_probs, np.float64)
    if P.ndim != 2 or P.shape[1] != len(label_species_):
        raise ParamError("breed_probs", f"must have shape (n, {len(label_species_)}) for "
                          f"{len(label_species_)} label species, got {P.shape}")
    if len(photo_species_) != len(P):
        raise ParamError("photo_species_", f"must hold one species per photo ({len(P)}), "
                          f"got {len(photo_species_)}")
    top = P.argmax(axis=1)
    low = P[np.arange(len(P)), top] < t
    clash = np.array([ls is not None and ps is not None and ls != ps
                      for ls, ps in zip((label_species_[k] for k in top), photo_species_)], bool)
    if class_similarity is None:
        return low | clash
    sim = np.asarray(class_similarity, np.float64)
    if sim.shape != (len(P),):
        raise ParamError("class_similarity", f"must hold one value per photo ({len(P)}), got shape {sim.shape}")
    return low | clash | (sim < t_sim)
