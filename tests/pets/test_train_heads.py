"""``train_heads``: several heads trained at once, each the same to the last bit as ``train_head``."""

from __future__ import annotations

import numpy as np
import pytest

from petnet.blas import one_blas_thread
from petnet.errors import PetnetError
from petnet.pets.head import train_head, train_heads
from tests.pets.test_retrain import blobs


def views(X, V, seed=0):
    """``(n, V, D)``: V slightly different copies of each photo's features (cached views)."""
    rng = np.random.default_rng(seed)
    return np.stack([X + rng.normal(0, 0.3, X.shape).astype(np.float32) for _ in range(V)], axis=1)


def assert_same_head(a, b):
    np.testing.assert_array_equal(a.W_, b.W_)
    np.testing.assert_array_equal(a.b_, b.b_)
    np.testing.assert_array_equal(a.sigma_, b.sigma_)
    assert a.history_ == b.history_ and a.final_cross_entropy_ == b.final_cross_entropy_


@pytest.mark.parametrize("V,optimizer,l2,batch_size", [(1, "adam", 1e-3, 25), (3, "adam", 0.0, 40),
                                                       (2, "momentum", 1e-2, 30), (1, "rmsprop", 1e-3, 1000)])
def test_every_head_is_bit_for_bit_train_heads_of_its_subset(V, optimizer, l2, batch_size):
    X, y = blobs(n_per=20, k=4, d=96, seed=V)
    feats = views(X, V)
    folds = np.arange(len(y)) % 5
    # the folds of a cross-validation (boolean masks), one head on index positions, and one small
    # subset below the batch size (a group of its own)
    subsets = [folds != f for f in range(5)] + [np.arange(0, 80, 2), np.array([0, 1, 20, 21, 40, 41, 60, 61])]
    kw = dict(max_iter=60, learning_rate=0.01, batch_size=batch_size, l2=l2, optimizer=optimizer, random_state=2,
              eval_step_interval=25)
    val = (feats[:10], y[:10])
    with one_blas_thread():
        rows = []
        heads = train_heads(feats, y, 4, subsets, vals=[val] + [None] * 6, logs=[rows.append] + [None] * 6, **kw)
        refs = [train_head(feats[s], y[s], 4, val=val if i == 0 else None, **kw) for i, s in enumerate(subsets)]
    assert len(heads) == len(subsets)
    for h, r in zip(heads, refs):
        assert_same_head(h, r)
    assert rows == heads[0].history_ and [r["step"] for r in rows] == [25, 50, 60]
    assert rows[-1]["validation_accuracy"] is not None and heads[1].history_[0]["validation_accuracy"] is None
    # the heads learned something, and differ (each its own photos)
    assert (heads[0].predict_proba(feats).argmax(1) == y).mean() > 0.9
    assert not np.array_equal(heads[0].W_, heads[1].W_)


def test_the_real_shape_of_a_calibration_matches_train_head():
    """37 classes, 1280 features, batch 100 of ~100-200 photos: retrain's shapes."""
    X, y = blobs(n_per=6, k=37, d=1280, seed=3)
    folds = np.arange(len(y)) % 5
    kw = dict(max_iter=30, learning_rate=0.001, batch_size=100, l2=1e-3, optimizer="adam", random_state=0)
    with one_blas_thread():
        heads = train_heads(X, y, 37, [folds != f for f in range(5)], **kw)
        for f, h in enumerate(heads):
            assert_same_head(h, train_head(X[folds != f], y[folds != f], 37, **kw))


def test_errors_are_those_of_train_head():
    X, y = blobs(n_per=10, k=3, d=32)
    with pytest.raises(PetnetError, match="no training images"):
        train_heads(X, y, 3, [np.arange(10), np.array([], np.int64)], max_iter=5, learning_rate=0.01, batch_size=8)
    with pytest.raises(PetnetError, match="diverged.*learning_rate 1e\\+09"):
        train_heads(X, y, 3, [np.arange(30)], max_iter=300, learning_rate=1e9, batch_size=8)
    with pytest.raises(ValueError, match="optimizer"):
        train_heads(X, y, 3, [np.arange(30)], max_iter=5, learning_rate=0.01, batch_size=8, optimizer="lbfgs")
    bad = X.copy()
    bad[3, 0] = np.nan
    with pytest.raises(PetnetError, match="NaN"):
        train_heads(bad, y, 3, [np.arange(30)], max_iter=5, learning_rate=0.01, batch_size=8)


def test_cross_validate_reuses_a_head_trained_on_exactly_a_folds_photos():
    from petnet.pets.evaluation import cross_validate
    X, y = blobs(n_per=12, k=3, d=40, seed=5)
    folds = np.arange(len(y)) % 4
    paths = [f"p{i}.jpg" for i in range(len(y))]
    kw = dict(max_iter=40, learning_rate=0.01, batch_size=20, l2=1e-3, optimizer="adam", random_state=1)
    rows = np.flatnonzero(folds != 0)
    with one_blas_thread():
        main = train_head(X[rows], y[rows], 3, **kw)
        events = []
        P = cross_validate(X[:, None], y, 4, paths, 3, [0], folds=folds, reuse=[(rows, main)], progress=events.append,
                           **kw)
        Q = cross_validate(X[:, None], y, 4, paths, 3, [0], folds=folds, **kw)
        # a head for other photos (or the same photos in another order) is not taken for the fold
        wrong = train_head(X[rows[::-1]], y[rows[::-1]], 3, **kw)
        R = cross_validate(X[:, None], y, 4, paths, 3, [0], folds=folds, reuse=[(rows[::-1], wrong)], **kw)
    np.testing.assert_array_equal(P, Q)
    np.testing.assert_array_equal(R, Q)
    np.testing.assert_array_equal(P[folds == 0], main.predict_proba(X[folds == 0][:, None][:, [0]]))
    assert [(e.step, e.total) for e in events] == [(k, 4) for k in range(5)]
