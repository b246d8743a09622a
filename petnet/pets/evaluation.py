"""How well a head does: k-fold cross-validation, top-k hits and the confusion matrix.

The folds are the stable hash of each photo's file name (:func:`~petnet.pets.dataset.kfold_of`), so
a photo stays in its fold whatever else is added; ``K_FOLDS`` is the number of folds of
:func:`~petnet.pets.retrain.retrain`'s temperature fit and of its review's cross-validation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

K_FOLDS = 5               # folds of the temperature fit and of the review's cross-validation


def cross_validate(feats, y, k_folds: int, paths, n_classes, test_view_index, folds=None, progress=None,
                   reuse=None, **head_kwargs):
    """k-fold cross-validation with stable hash folds; returns the probabilities of every photo
    predicted by the model that did not see it, ``(n, K)``. ``folds``: the fold (0..k-1) of each
    photo, to use another assignment than the file-name hash. ``progress`` (a callable) gets a
    :class:`~petnet.progress.ProgressEvent` of phase ``cross-validation`` per fold. ``reuse``: pairs
    ``(rows, head)`` of heads already trained with ``head_kwargs`` on ``feats[rows]``; a fold whose
    training photos are exactly ``rows`` (same order) uses that head instead of training it again
    -- in ``retrain`` the review's fold 0 (the validation and test photos, with the default 10% +
    10% and 5 folds) is trained on exactly the training photos: it *is* the returned head."""
    from petnet.pets.dataset import kfold_of
    from petnet.pets.head import train_heads
    from petnet.progress import ProgressEvent, reporter
    report = reporter(progress)
    if folds is None:
        folds = np.array([kfold_of(Path(p).name, k_folds) for p in paths])
    folds = np.asarray(folds)
    P = np.zeros((len(y), n_classes))
    report(ProgressEvent("cross-validation", 0, k_folds))
    used = [f for f in range(k_folds) if (folds == f).any() and (folds != f).any()]
    # the fold heads are independent problems of one shape: trained together (train_heads), each
    # exactly as train_head(feats[folds != f], ...) would train it
    heads, todo = {}, []
    for f in used:   # a head already trained on exactly these photos, in this order: the same head
        rows = np.flatnonzero(folds != f)
        same = [h for r, h in (reuse or ()) if np.array_equal(np.asarray(r), rows)]
        if same:
            heads[f] = same[0]
        else:
            todo.append(f)
    heads.update(zip(todo, train_heads(feats, y, n_classes, [folds != f for f in todo], **head_kwargs)))
    for f in range(k_folds):
        te = folds == f
        if f in heads:
            P[te] = heads[f].predict_proba(feats[te][:, test_view_index])
        elif te.any():   # every photo in one fold: nothing to train on (as train_head would say)
            train_heads(feats, y, n_classes, [folds != f], **head_kwargs)
        report(ProgressEvent("cross-validation", f + 1, k_folds))
    return P


def topk_hits(P: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Boolean per row: is the true class among the ``k`` most probable?"""
    top = np.argsort(-P, axis=1)[:, :k]
    return (top == np.asarray(y)[:, None]).any(axis=1)


def confusion(pred, y, k) -> np.ndarray:
    """``C[i, j]`` = number of photos of class ``i`` predicted as class ``j``."""
    C = np.zeros((k, k), np.int64)
    np.add.at(C, (np.asarray(y), np.asarray(pred)), 1)
    return C
