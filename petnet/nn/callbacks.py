"""Callbacks of ``Model.fit`` (Keras' protocol): hooks called by the one training loop.

    on_train_begin(logs)            before the first step
    on_epoch_begin(epoch, logs)     epoch counts from 0
    on_batch_end(batch, logs)       after each optimizer step; logs = {"step": global step (1-based),
                                    "size": batch size, "loss": this batch's loss, "accuracy": ...}
    on_epoch_end(epoch, logs)       logs = epoch means {"loss", "accuracy", "val_loss", ...}
    on_train_end(logs)              after the last step (logs of the last epoch)

A callback sees the model as ``self.model`` and stops training with ``self.model.stop_training = True``.
Built in: :class:`History` (always added, returned by ``fit``), :class:`ProgressBar` (``verbose=1``),
:class:`EarlyStopping`.
"""

from __future__ import annotations

import math


from petnet.progress import progress
from petnet.validate import check_choice, check_int, check_number


class Callback:
    """Base class: every hook does nothing."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_batch_end(self, batch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_train_end(self, logs=None): ...


class History(Callback):
    """``history.history = {'loss': [...], 'accuracy': [...], 'val_loss': [...], ...}``, one entry per epoch."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))

    def __repr__(self):
        return f"History({self.history})"


class ProgressBar(Callback):
    """A progress bar per epoch with the running loss (and accuracy) on stderr -- quiet when stderr is
    not a terminal. ``log(line)``, if given, receives one line per epoch:
    ``epoch 1/5 - loss: 0.1234 - accuracy: 0.9600``."""

    def __init__(self, log=None):
        self.log = log

    def on_epoch_begin(self, epoch, logs=None):
        p = self.model.fit_params
        self.bar = progress(total=p["steps_per_epoch"], desc=f"epoch {epoch + 1}/{p['epochs']}", unit="batch")
        self.total, self.correct, self.seen = 0.0, 0.0, 0

    def on_batch_end(self, batch, logs=None):
        n = logs["size"]
        self.total += logs["loss"] * n
        self.seen += n
        post = {"loss": f"{self.total / self.seen:.4f}"}
        if "accuracy" in logs:
            self.correct += logs["accuracy"] * n
            post["accuracy"] = f"{self.correct / self.seen:.4f}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()
        if self.log is not None:
            self.log(f"epoch {epoch + 1}/{self.model.fit_params['epochs']} - "
                     + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))

    def on_train_end(self, logs=None):
        bar = getattr(self, "bar", None)
        if bar is not None:
            bar.close()


class EarlyStopping(Callback):
    """Stop when ``monitor`` (an epoch log such as ``'val_loss'``) has not improved by more than
    ``min_delta`` for ``patience`` epochs; ``restore_best_weights`` puts the best epoch's weights back.
    After ``fit``: ``stopped_epoch_`` (0-based, None if it ran to the end), ``best_``, ``best_epoch_``."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False):
        self.monitor = monitor
        self.min_delta = abs(check_number("min_delta", min_delta))
        self.patience = check_int("patience", patience, min=0)
        self.mode = check_choice("mode", mode, ("auto", "min", "max"))
        self.restore_best_weights = bool(restore_best_weights)

    def on_train_begin(self, logs=None):
        self.sign = -1.0 if self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor) else 1.0
        self.best_, self.best_epoch_, self.stopped_epoch_ = math.inf, None, None
        self.wait, self.best_weights = 0, None

    def on_epoch_end(self, epoch, logs=None):
        from petnet.errors import ParamError
        if self.monitor not in logs:
            raise ParamError("monitor", f"{self.monitor!r} is not in the epoch logs ({', '.join(logs)}); "
                             "val_ metrics need validation_data")
        value = self.sign * float(logs[self.monitor])
        if value < self.best_ - self.min_delta:
            self.best_, self.best_epoch_, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch_ = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.best_ = self.sign * self.best_
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _call_all(callbacks, hook: str, *args) -> None:
    for cb in callbacks:
        getattr(cb, hook)(*args)


__all__ = ["Callback", "EarlyStopping", "History", "ProgressBar"]
