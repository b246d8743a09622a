"""The new last layer: a softmax over *your* classes, trained by petnet's own gradient descent.

Only this layer learns; the backbone's 1280 features ``f`` of each photo are fixed (cached).
With ``K`` classes the layer is the engine's ``Dense(K)`` plus softmax cross-entropy::

    x        = f / s                             # one scale s for all features (from training)
    z        = x W + b                           # W: (1280, K), b: (K,)
    p_k      = exp(z_k) / sum_j exp(z_j)         # softmax
    L        = -mean(log p_y) + (l2 / 2) ||W||^2 # cross-entropy + weight decay
    dL/dz    = (p - onehot(y)) / N
    dL/dW    = x^T dL/dz + l2 W,    dL/db = sum_n dL/dz

Each step samples ``train_batch_size`` photos and, for each, one of its cached views (when
distortions are on), then one optimizer step (``petnet.optim``, Adam by default): ``petnet.nn``'s
``Model.fit`` with ``sampling='random'``, the view picked by its augmentation hook, and the l2 term
as an ``L2(l2 / 2)`` kernel regularizer.
Predictions average the softmax over the "test views" (``center``, plus ``flip`` when
``flip_left_right`` was used).

``s`` is the standard deviation of all training feature values together, so the inputs have unit
scale whatever the backbone, and the learning rate and ``l2`` keep their meaning. It is *one*
number on purpose: scaling each feature by its own standard deviation (the usual
standardisation) makes rarely active features, mostly noise with ~8 photos per class, as loud as
the informative ones. Measured on the shared pet photos (5-fold CV repeated over 5 fold
assignments, center+flip): per-feature standardisation loses 2.1 (Lite0), 1.7 (Lite1) and 1.2
(Lite2) points of top-1 against the single scale.

The scale (as ``mu_ = 0``, ``sigma_ = s``) is folded into the saved weights, so a saved head works
on raw features::

    z = ((f - mu) / sigma) W + b = f W' + b',   W' = W / sigma[:, None],   b' = b - (mu / sigma) W
"""

from __future__ import annotations

import numpy as np

from petnet import optim
from petnet.errors import PetnetError
from petnet.nn.activations import softmax  # row-wise, max-shifted; predict imports it from here
from petnet.nn.callbacks import Callback
from petnet.nn.dense import Dense
from petnet.nn.losses import SoftmaxCrossEntropy
from petnet.nn.model import Input, Model, TrainingDiverged
from petnet.nn.regularizers import L2
from petnet.validate import check_choice, check_int, check_number, renamed


class SoftmaxHead:
    """A linear softmax classifier on bottleneck features (scikit-learn style: ``fit`` returns self).

    After ``fit``: ``W_`` (D, K) and ``b_`` (K,) act on **raw** features (standardisation folded),
    ``history_`` lists the evaluation rows printed during training, ``final_cross_entropy_`` is the
    mean cross-entropy on all training photos at the end (a ``PetnetError`` says "diverged" when it
    ends far above the untrained layer's log K, or is not finite). ``scaling``: ``"global"`` (one
    scale for all features, the default) or ``"per_feature"`` (classic standardisation)."""

    def __init__(self, n_classes: int, *, max_iter: int | None = None, learning_rate: float = 0.001,
                 batch_size: int = 100, l2: float = 1e-3, optimizer: str = "adam",
                 eval_step_interval: int = 100, random_state: int | None = None,
                 scaling: str = "global", steps: int | None = None, seed: int | None = None):
        self.n_classes = n_classes
        self.max_iter = renamed("steps", "max_iter", steps, max_iter, 1000)
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.l2 = l2
        self.optimizer = optimizer
        self.eval_step_interval = eval_step_interval
        self.random_state = renamed("seed", "random_state", seed, random_state, 0)
        self.scaling = scaling

    # -- training -----------------------------------------------------------------------------
    def fit(self, X, y, X_val=None, y_val=None, log=None, quiet: bool = True):
        """``X``: (n, V, D) features of V cached views per photo (V=1: no distortions), ``y``: (n,).

        Trained by ``petnet.nn``'s ``Model.fit``: ``max_iter`` steps, each on ``batch_size`` photos
        drawn without replacement (``sampling='random'``) and, through the augmentation hook, one
        random view of each. ``log(row)`` is called every ``eval_step_interval`` steps and after
        the last one with ``{step, train_accuracy, cross_entropy, validation_accuracy}``."""
        X = np.asarray(X, np.float32)
        if X.ndim == 2:
            X = X[:, None, :]
        y = np.asarray(y, np.int64)
        n, V, D = X.shape
        if n == 0:
            raise PetnetError("no training images: lower validation_percentage / testing_percentage or add photos")
        self._validate()
        Xs = self._scale(X)
        Xv = None
        if X_val is not None and len(X_val):
            Xv = np.asarray(X_val, np.float32)
            Xv = Xv[:, None, :] if Xv.ndim == 2 else Xv

        # L + (l2/2) ||W||^2: an L2(l2/2) kernel penalty, whose gradient is l2 W
        self._dense = Dense(self.n_classes, kernel_initializer="zeros",
                            kernel_regularizer=L2(self.l2 / 2) if self.l2 else None)
        inputs = Input((D,))
        model = Model(inputs, self._dense(inputs))
        model.compile(optimizer=optim.get(self.optimizer, lr=self.learning_rate), loss="softmax_cross_entropy",
                      metrics=["accuracy"])
        rows = _EvalRows(self, Xv, y_val, log)
        model.fit(Xs, y, epochs=1, steps_per_epoch=self.max_iter, batch_size=min(self.batch_size, n),
                  sampling="random", augment=_one_view, random_state=self.random_state, verbose=int(not quiet),
                  callbacks=[rows])
        self.history_ = rows.rows
        self._fold()
        self._check_final(X, y)
        return self

    def _validate(self) -> None:
        """scikit-learn style: the constructor stores, ``fit`` checks."""
        check_int("n_classes", self.n_classes, min=2)
        check_int("max_iter", self.max_iter, min=1, max=10_000_000)
        check_number("learning_rate", self.learning_rate, min=0, min_exclusive=True)
        check_int("batch_size", self.batch_size, min=1)
        check_number("l2", self.l2, min=0)
        check_choice("optimizer", self.optimizer, optim.OPTIMIZERS)
        check_int("eval_step_interval", self.eval_step_interval, min=1)
        check_int("random_state", self.random_state, min=0)
        check_choice("scaling", self.scaling, ("global", "per_feature"))

    def _fold(self):
        self._fold_weights(self._dense.kernel, self._dense.bias)

    def _fold_weights(self, kernel, bias):
        W = kernel.astype(np.float64)
        b = bias.astype(np.float64)
        sigma = self.sigma_.astype(np.float64)
        self.W_ = (W / sigma[:, None]).astype(np.float32)
        self.b_ = (b - (self.mu_ / sigma) @ W).astype(np.float32)

    def _scale(self, X):
        """Set ``mu_``/``sigma_`` from training features ``X`` (n, V, D) and return them scaled."""
        D = X.shape[2]
        flat = X.reshape(-1, D)
        if self.scaling == "global":
            self.mu_ = np.zeros(D, np.float32)
            self.sigma_ = np.full(D, float(flat.std()) + 1e-6, np.float32)   # + eps: all-constant input
        else:   # per-feature standardisation, kept for comparison (bench/pets_headroom.py --scaling)
            self.mu_ = flat.mean(axis=0)
            self.sigma_ = flat.std(axis=0) + 1e-3
        return (X - self.mu_) / self.sigma_

    def _check_final(self, X, y):
        """The end-of-training divergence check (W = 0, the start, scores log K on every photo)."""
        loss = SoftmaxCrossEntropy()
        final = float(np.mean([loss(X[:, v] @ self.W_ + self.b_, y) for v in range(X.shape[1])]))
        if not np.isfinite(final) or final > 2 * np.log(self.n_classes) + 1:
            raise TrainingDiverged(f"the cross entropy on the training photos is {final:.4g}, worse than the "
                                   f"{np.log(self.n_classes):.3g} of the untrained layer", self.learning_rate,
                                   f" for {self.optimizer} (retrain's default is 0.001)")
        self.final_cross_entropy_ = final

    # -- prediction ---------------------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, K)``; ``X`` (n, D) or (n, V, D): softmax averaged over views."""
        return predict_proba(self.W_, self.b_, X)


def _one_view(xb, yb, rng):
    """The augmentation hook: one random cached view of each photo of the batch, (b, V, D) -> (b, D)."""
    return xb[np.arange(len(xb)), rng.integers(0, xb.shape[1], size=len(xb))], yb


class _EvalRows(Callback):
    """Every ``eval_step_interval`` steps and after the last: the batch's accuracy and cross entropy
    (before that step's update) and the validation accuracy (after it) -- retrain.py's log lines."""

    def __init__(self, head, Xv, y_val, log):
        self.head, self.Xv, self.y_val, self.log, self.rows = head, Xv, y_val, log, []

    def on_batch_end(self, batch, logs=None):
        step = logs["step"]
        if step % self.head.eval_step_interval and step != self.head.max_iter:
            return
        val_acc = None
        if self.Xv is not None:
            self.head._fold()
            val_acc = float((self.head.predict_proba(self.Xv).argmax(1) == np.asarray(self.y_val)).mean())
        row = {"step": step, "train_accuracy": float(logs["accuracy"]), "cross_entropy": float(logs["loss"]),
               "validation_accuracy": val_acc}
        self.rows.append(row)
        if self.log:
            self.log(row)


def predict_proba(W, b, X) -> np.ndarray:
    """softmax(f W + b), averaged over the views axis when ``X`` is (n, V, D)."""
    X = np.asarray(X, np.float32)
    if X.ndim == 2:
        return softmax(X @ W + b)
    return np.mean([softmax(X[:, v] @ W + b) for v in range(X.shape[1])], axis=0)


def train_head(feats, y, n_classes, *, max_iter, learning_rate, batch_size, l2=1e-3, optimizer="adam",
               eval_step_interval=100, val=None, log=None, quiet=True, random_state=0, scaling="global"):
    """Fit a :class:`SoftmaxHead`; ``val = (feats_val, y_val)`` or None."""
    head = SoftmaxHead(n_classes, max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size,
                       l2=l2, optimizer=optimizer, eval_step_interval=eval_step_interval,
                       random_state=random_state,
                       scaling=scaling)
    Xv, yv = val if val is not None else (None, None)
    return head.fit(feats, y, Xv, yv, log=log, quiet=quiet)


def train_heads(feats, y, n_classes, subsets, *, max_iter, learning_rate, batch_size, l2=1e-3, optimizer="adam",
                eval_step_interval=100, vals=None, logs=None, random_state=0, scaling="global") -> list:
    """Several heads at once: head ``f`` trained on ``feats[subsets[f]]``, ``y[subsets[f]]`` -- the
    same heads as ``[train_head(feats[s], y[s], ...) for s in subsets]``, to the last bit on one
    BLAS thread (``tests/pets/test_retrain.py`` checks it), in a fraction of the time.

    Why it is faster: the folds of a cross-validation (``calibration.calibrate``,
    ``evaluation.cross_validate``) are independent problems of the same shape, so each step is done
    for all of them together: their weights are stacked into one ``(F, D, K)`` array, the batches
    gathered into one ``(F, b, D)`` buffer, the products are one batched ``matmul``, the softmax and
    its gradient one pass, and **one** optimizer step (``petnet.optim``: the same optimizer, whose
    rules are elementwise, on the stacked arrays) updates every head. Each head keeps its own random
    generator (seeded ``random_state``, as ``train_head``), scale ``sigma`` and batch draws, so
    each is computed exactly as :meth:`SoftmaxHead.fit` (``petnet.nn``'s ``Model.fit``) computes it.

    ``vals[f] = (feats_val, y_val)`` or None and ``logs[f]`` (a callable or None): the validation
    rows of head ``f`` (:meth:`SoftmaxHead.fit`'s ``log``). Heads whose batch sizes differ (fewer
    training photos than ``batch_size``) are trained in groups of equal batch size. Returns the
    fitted :class:`SoftmaxHead` s in the order of ``subsets``."""
    feats = np.asarray(feats, np.float32)
    if feats.ndim == 2:
        feats = feats[:, None, :]
    y = np.asarray(y, np.int64)
    F = len(subsets)
    vals = list(vals) if vals is not None else [None] * F
    logs = list(logs) if logs is not None else [None] * F
    heads = [SoftmaxHead(n_classes, max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size, l2=l2,
                         optimizer=optimizer, eval_step_interval=eval_step_interval, random_state=random_state,
                         scaling=scaling) for _ in range(F)]
    for h in heads[:1]:
        h._validate()
    sets = [np.asarray(s, np.int64) if np.asarray(s).dtype != bool else np.flatnonzero(s) for s in subsets]
    groups: dict[int, list[int]] = {}
    for f, s in enumerate(sets):
        if len(s) == 0:
            raise PetnetError("no training images: lower validation_percentage / testing_percentage or add photos")
        groups.setdefault(min(batch_size, len(s)), []).append(f)
    for b, members in groups.items():
        _train_group([heads[f] for f in members], [feats[sets[f]] for f in members], [y[sets[f]] for f in members],
                     b, [vals[f] for f in members], [logs[f] for f in members])
    return heads


def _train_group(heads, Xs_raw, ys, b, vals, logs):
    """:func:`train_heads` for heads of one batch size ``b`` (the loop of ``Model.fit``, stacked)."""
    h0 = heads[0]
    F, (V, D), K, steps = len(heads), Xs_raw[0].shape[1:], h0.n_classes, h0.max_iter
    scaled = []
    for h, X in zip(heads, Xs_raw):
        Xs = h._scale(X)
        if not np.isfinite(Xs).all():     # Model.fit's error for inputs with NaN or infinity
            return [h.fit(X, yy) for h, X, yy in zip(heads, Xs_raw, ys)]
        scaled.append(Xs.reshape(-1, D))   # (n V, D): view v of photo i is row i V + v
    W = np.zeros((F, D, K), np.float32)
    bias = np.zeros((F, K), np.float32)
    reg = L2(h0.l2 / 2) if h0.l2 else None
    opt = optim.get(h0.optimizer, lr=h0.learning_rate)
    rngs = [np.random.default_rng(h0.random_state) for _ in range(F)]
    xb = np.empty((F, b, D), np.float32)
    yb = np.empty((F, b), np.int64)
    onehot = np.zeros((F, b, K), np.float32)
    scratch = np.empty_like(W)
    rows_f, cols_f = np.repeat(np.arange(F), b), np.tile(np.arange(b), F)
    Xv = [None if v is None or not len(v[0]) else np.asarray(v[0], np.float32) for v in vals]
    Xv = [x if x is None or x.ndim == 3 else x[:, None, :] for x in Xv]
    histories = [[] for _ in range(F)]
    for step in range(1, steps + 1):
        for f in range(F):   # Model.fit's draws: b photos without replacement, then one view of each
            rng, n = rngs[f], len(ys[f])
            idx = rng.choice(n, size=b, replace=False) if b < n else rng.permutation(n)
            view = rng.integers(0, V, size=b)
            np.take(scaled[f], idx * V + view, axis=0, out=xb[f], mode="clip")   # valid indices; clip: unbuffered
            yb[f] = ys[f][idx]
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is reported below
            z = np.matmul(xb, W)                              # Dense: z = x W + b
            z += bias[:, None, :]
            # SoftmaxCrossEntropy.forward / backward, row by row as there
            shifted = z - z.max(axis=2, keepdims=True)
            logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
            p = np.exp(logp)
            onehot[rows_f, cols_f, yb.ravel()] = 1
            values = -(onehot * logp).reshape(F, -1).sum(axis=1) / b
            p -= onehot
            onehot[rows_f, cols_f, yb.ravel()] = 0
            for f in range(F):
                if not np.isfinite(values[f]):
                    scale = float(np.max(np.abs(xb[f])))
                    raise TrainingDiverged(f"the loss became {float(values[f])} at step {step}", opt.current_lr,
                                           f", or the inputs are not scaled (largest |x| here is {scale:g}; "
                                           "scale them to [0, 1] or standardise them)")
            p /= b                                            # dL/dz = (p - onehot) / b
            gW = np.matmul(xb.transpose(0, 2, 1), p)          # x^T dz
            gb = p.sum(axis=1)
            if reg is not None:                               # + l2 W (L2.gradient), in place
                np.multiply(W, 2 * reg.l2, out=scratch)
                gW += scratch
        opt.step([W, bias], [gW, gb])
        if step % h0.eval_step_interval and step != steps:
            continue
        for f, h in enumerate(heads):   # the rows of SoftmaxHead.fit's history (_EvalRows)
            correct = int((z[f].argmax(axis=1) == yb[f]).sum())
            val_acc = None
            if Xv[f] is not None:
                h._fold_weights(W[f], bias[f])
                val_acc = float((h.predict_proba(Xv[f]).argmax(1) == np.asarray(vals[f][1])).mean())
            row = {"step": step, "train_accuracy": correct / b, "cross_entropy": float(values[f]),
                   "validation_accuracy": val_acc}
            histories[f].append(row)
            if logs[f]:
                logs[f](row)
    for f, h in enumerate(heads):
        h.history_ = histories[f]
        h._fold_weights(W[f], bias[f])
        h._check_final(Xs_raw[f], ys[f])
    return heads


def default_head_kwargs() -> dict:
    """:func:`train_head`'s keyword arguments for :func:`petnet.pets.retrain`'s defaults (the species
    head, benchmarks, tests; ``tests/pets/test_retrain.py`` checks that the two agree)."""
    return {"max_iter": 1000, "learning_rate": 0.001, "batch_size": 100, "l2": 1e-3, "optimizer": "adam"}
