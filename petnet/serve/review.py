"""How good a model trained on the page is, on the user's own photos: the held-out results.

:func:`petnet.pets.retrain` with ``review=True`` cross-validates the same head settings over every
photo (``RetrainResult.cv_proba``: each photo's probabilities from a head that did not see it;
``K_FOLDS`` folds by a stable hash of the file name). :func:`held_out` turns that into what the page
and ``GET /api/models`` show: the accuracy overall and per class (with the count and the 95% Wilson
interval), the confusion matrix ``confusion[true][answered]``, and the photos it got wrong or was
least sure of, each with what it answered. Too few photos for a cross-validation: ``available`` is
false and ``needed`` says how many photos it takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petnet.pets.evaluation import confusion as confusion_matrix
from petnet.stats import wilson_interval

MAX_HARD = 12        # photos listed as wrong or least sure


def rate(correct: int, n: int) -> dict:
    """``{"correct", "n", "rate", "low", "high"}``: a rate with its 95% Wilson interval."""
    low, high = wilson_interval(correct, n)
    return {"correct": int(correct), "n": int(n), "rate": correct / n if n else None,
            "low": round(low, 6), "high": round(high, 6)}


def held_out(labels, paths, y, cv_proba, class_ids: dict, folds: int, needed: int) -> dict:
    """The held-out results of a training (see the module). ``labels``: the classes in index order
    (the class names); ``paths``/``y``: every photo used and its class index; ``cv_proba``: (n, K)
    or ``None`` (too few photos); ``class_ids``: class name -> the store's class id (a photo's id is
    its file name)."""
    n = len(paths)
    if cv_proba is None:
        return {"available": False, "photos": n, "needed": int(needed), "folds": int(folds)}
    P = np.asarray(cv_proba, np.float64)
    y = np.asarray(y, np.int64)
    k = len(labels)
    answer = P.argmax(axis=1)
    confusion = confusion_matrix(answer, y, k)
    per_class = [dict(rate(int(confusion[i, i]), int(confusion[i].sum())), label=labels[i],
                      class_id=class_ids.get(labels[i])) for i in range(k)]
    photos = []
    for i in range(n):
        a, t = int(answer[i]), int(y[i])
        photos.append({"class_id": class_ids.get(labels[t]), "photo_id": Path(paths[i]).name,
                       "label": labels[t], "answer": labels[a], "answer_score": round(float(P[i, a]), 6),
                       "true_score": round(float(P[i, t]), 6), "correct": a == t})
    # wrong ones first (the most confidently wrong first), then the right ones least sure of
    photos.sort(key=lambda p: (p["correct"], -p["answer_score"] if not p["correct"] else p["answer_score"]))
    return {"available": True, "photos": n, "folds": int(folds), "labels": list(labels),
            "class_ids": [class_ids.get(lab) for lab in labels],
            "accuracy": rate(int(np.trace(confusion)), n), "per_class": per_class,
            "confusion": confusion.tolist(), "hard": photos[:MAX_HARD]}
