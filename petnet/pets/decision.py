"""The one decision: from what the heads say about a photo to its answer.

Every door (``petnet predict``, ``Recognizer``, ``petnet serve``, ``petnet predict --ray``, the
review of ``petnet retrain``) gets its answer from :func:`decide`; the rules are here and nowhere
else (docs/pets_openworld.md writes them out):

1. **Is it a cat or dog at all?** ``is_pet = pet_score >= min_pet_score`` (the pet score:
   :mod:`petnet.pets.openworld`). Not a pet => verdict ``not_pet``, ``species`` is ``None``, no class
   is the answer (the guesses are kept for transparency, the verdict marks them).
2. **Which species?** A pet's species is the open-world species (the sign of its cat-vs-dog
   log-odds), independent of the user's classes.
3. **Is the top class sure?** A pet's answer is ``unsure``, with a reason, when
   - ``other_species``: the top class has a species (a breed, or a class taught with photos of one
     species) and it is not the photo's species;
   - ``far_from_class``: the photo's cosine similarity to the top class's training photos is below
     ``min_class_similarity`` (models with class features);
   - ``low_score``: the top class's probability is below ``min_breed_score``.
   Otherwise the verdict is ``pet``, and then its species *is* the top class's species wherever the
   class has one (rule 3 leaves no other case).

For the ``"imagenet"`` model (the backbone's own 1000 classes, a soft softmax, no training photos)
only the species rule applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError

#: ``is_pet`` threshold on the pet score. The pet score (:class:`petnet.pets.openworld.Evidence`) is
#: 0.5 at the scorer's own recommended threshold for the views it looked at (the learned scorer's,
#: chosen on development photos, docs/pets_openworld.md; the ImageNet-mass rule's 0.35), so the
#: default is 0.5 for every backbone and every set of views; raising it by one unit of log-odds
#: (0.73) accepts fewer photos as cats or dogs (the shift table of docs/pets_openworld.md)
DEFAULT_MIN_PET_SCORE = 0.5

#: a top class below this probability is unsure (``low_score``). Measured on the shared pets (5-fold
#: CV, temperature-scaled head): answers scored 0.5-0.6 were right 12 times out of 20, 0.4-0.5 4 out
#: of 15; with 0.6, 13.3% of the answers are unsure and the sure ones are 92.0% right (85.9% for all).
#: scikit-image's tabby ``chelsea`` (no such breed among the 37) gets Abyssinian 0.586: unsure.
DEFAULT_MIN_BREED_SCORE = 0.6

#: a top class whose class similarity is below this is unsure (``far_from_class``): the largest of
#: the thresholds tried (0.5-0.62) that flags at most 2 points more seen-breed photos than the
#: probability rule alone; 55.0% of the photos of breeds the model never saw are flagged (42.3%
#: without), 14.9% of the seen-breed answers (13.3% without). docs/pets_openworld.md.
DEFAULT_MIN_CLASS_SIMILARITY = 0.55

#: photos whose cat-vs-dog log-odds on their first views is closer to 0 than this get the other
#: views too (with the photos below ``min_pet_score``): :func:`needs_more_views`
SPECIES_MARGIN = 2.0

#: the rules of step 3, in the order their reason is reported when several apply
REASONS = ("other_species", "far_from_class", "low_score")


@dataclass(frozen=True)
class Decision:
    """The decided answer for one photo: ``verdict`` (``pet``, ``unsure``, ``not_pet``),
    ``is_pet``, ``species`` (``None`` for a non-pet), ``species_score`` (probability of that species),
    ``unsure_reason`` (one of :data:`REASONS` or ``None``), ``reasons`` (every rule that applied)."""

    verdict: str
    is_pet: bool
    species: str | None
    species_score: float | None
    unsure_reason: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def unsure(self) -> bool:
        return self.verdict == "unsure"


def check_score(name: str, value) -> float:
    """A threshold in [0, 1] (``ParamError`` naming it)."""
    from petnet.validate import check_number
    return check_number(name, value, min=0, max=1)


def species_of(cat_logodds) -> list[str]:
    """``cat`` where the log-odds is > 0, else ``dog``."""
    return ["cat" if v > 0 else "dog" for v in np.asarray(cat_logodds, np.float64).reshape(-1)]


def species_probability(cat_logodds) -> np.ndarray:
    """Probability of the species :func:`species_of` names: ``sigmoid(|log-odds|)`` (0.5..1)."""
    lo = np.abs(np.asarray(cat_logodds, np.float64).reshape(-1))
    return 1.0 / (1.0 + np.exp(-lo))


def needs_more_views(pet_score, cat_logodds, min_pet_score: float = DEFAULT_MIN_PET_SCORE,
                     species_margin: float = SPECIES_MARGIN) -> np.ndarray:
    """Which photos get the other views of :data:`~petnet.pets.openworld.PET_VIEWS` after their first
    ones: those below ``min_pet_score`` there (a pet that fills only one crop counts: the score
    looks at every view) and those whose species log-odds is within ``species_margin`` of 0 (the
    scorer's :attr:`~petnet.pets.openworld.Evidence.species_margin`: 0 for the learned scorer,
    whose species from the first views was measured as it is; :data:`SPECIES_MARGIN` for the
    ImageNet-mass rule). A photo that is clearly a pet costs no extra backbone pass."""
    t = check_score("min_pet_score", min_pet_score)
    score = np.asarray(pet_score, np.float64).reshape(-1)
    lo = np.asarray(cat_logodds, np.float64).reshape(-1)
    return (score < t) | (np.abs(lo) < float(species_margin))


def decide(pet_score, cat_logodds, breed_probs=None, label_species=None, class_similarity=None, *,
           min_pet_score: float = DEFAULT_MIN_PET_SCORE, min_breed_score: float = DEFAULT_MIN_BREED_SCORE,
           min_class_similarity: float = DEFAULT_MIN_CLASS_SIMILARITY,
           rules: tuple[str, ...] = REASONS) -> list[Decision]:
    """The answer for each of ``n`` photos (see the module docstring for the rules).

    ``pet_score`` (n,): 0..1; ``cat_logodds`` (n,): the open-world species evidence, > 0 cat;
    ``breed_probs`` (n, K): the model's class probabilities (``None``: no classes, e.g. the
    open-world answer alone); ``label_species`` (K,): ``cat``/``dog``/``None`` per class;
    ``class_similarity`` (n,) or ``None`` (that rule off); ``rules``: which of :data:`REASONS` apply
    (the ``"imagenet"`` model: only ``other_species``)."""
    t_pet = check_score("min_pet_score", min_pet_score)
    t_breed = check_score("min_breed_score", min_breed_score)
    from petnet.validate import check_number
    t_sim = check_number("min_class_similarity", min_class_similarity, min=-1, max=1)
    unknown = [r for r in rules if r not in REASONS]
    if unknown:
        raise ParamError("rules", f"has unknown rules {unknown}; choose from {', '.join(REASONS)}")
    score = np.asarray(pet_score, np.float64).reshape(-1)
    lo = np.asarray(cat_logodds, np.float64).reshape(-1)
    n = len(score)
    if lo.shape != (n,):
        raise ParamError("cat_logodds", f"must hold one value per photo ({n}), got shape {lo.shape}")
    species, sp_prob = species_of(lo), species_probability(lo)
    if breed_probs is not None:
        P = np.asarray(breed_probs, np.float64)
        if P.ndim != 2 or len(P) != n:
            raise ParamError("breed_probs", f"must have shape ({n}, K), got {P.shape}")
        top = P.argmax(axis=1)
        top_p = P[np.arange(n), top]
        ls = list(label_species) if label_species is not None else [None] * P.shape[1]
        if len(ls) != P.shape[1]:
            raise ParamError("label_species", f"must hold one species per class ({P.shape[1]}), got {len(ls)}")
    sim = None
    if class_similarity is not None:
        sim = np.asarray(class_similarity, np.float64).reshape(-1)
        if sim.shape != (n,):
            raise ParamError("class_similarity", f"must hold one value per photo ({n}), got shape {sim.shape}")
    out = []
    for i in range(n):
        if score[i] < t_pet:
            out.append(Decision("not_pet", False, None, None))
            continue
        reasons = []
        if breed_probs is not None:
            k = int(top[i])
            if "other_species" in rules and ls[k] is not None and ls[k] != species[i]:
                reasons.append("other_species")
            if "far_from_class" in rules and sim is not None and sim[i] < t_sim:
                reasons.append("far_from_class")
            if "low_score" in rules and top_p[i] < t_breed:
                reasons.append("low_score")
        verdict = "unsure" if reasons else "pet"
        out.append(Decision(verdict, True, species[i], float(sp_prob[i]), reasons[0] if reasons else None,
                            tuple(reasons)))
    return out


def unsure_mask(decisions) -> np.ndarray:
    """``(n,)`` booleans: which decisions are unsure."""
    return np.array([d.unsure for d in decisions], bool)
