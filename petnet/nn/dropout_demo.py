"""Dropout prevents overfitting (talk 3.3.4), measured on a small MNIST subset.

The same fully connected network, 784 - Dense(hidden, relu) - Dense(hidden, relu) - Dense(10), is
trained twice on a few training digits, once plain and once with ``Dropout(rate)`` after each hidden
layer; both start from the same weights and see the same batches. After every epoch both are
evaluated in inference mode (dropout off) on the training digits and on held-out test digits.
Without dropout the network memorises its training digits (training accuracy 100 %, training loss
near 0) while its test loss turns upward; with dropout the gap between training and test accuracy
is smaller and the test loss stays lower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from petnet.blas import one_blas_thread
from petnet.nn.callbacks import Callback
from petnet.nn.dense import Dense
from petnet.nn.dropout import Dropout
from petnet.nn.layer import reset_names, set_seed
from petnet.nn.model import Sequential
from petnet.nn.vanishing import load_digits
from petnet.validate import check_choice, check_int, check_number

CURVES = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")


def build_net(rate: float = 0.0, *, input_rate: float = 0.0, hidden: int = 512,
              random_state: int | None = 0) -> Sequential:
    """784 [- Dropout(input_rate)] - Dense(hidden, relu) [- Dropout(rate)] - Dense(hidden, relu)
    [- Dropout(rate)] - Dense(10); the same weights for every rate with the same ``random_state``
    (dropout layers have none)."""
    rate = check_number("rate", rate, min=0, max=0.95)
    input_rate = check_number("input_rate", input_rate, min=0, max=0.95)
    hidden = check_int("hidden", hidden, min=1, max=8192)
    set_seed(random_state)
    reset_names()
    layers = [Dropout(input_rate, input_shape=(784,))] if input_rate else []
    layers += [Dense(hidden, activation="relu", input_shape=(784,))]
    layers += [Dropout(rate)] if rate else []
    layers += [Dense(hidden, activation="relu")]
    layers += [Dropout(rate)] if rate else []
    layers += [Dense(10)]
    return Sequential(layers, name=f"dropout_{rate:g}")


class _Curves(Callback):
    """After each epoch: loss and accuracy on the training and the test digits, dropout off."""

    def __init__(self, train, test):
        self.train, self.test = train, test
        self.curves = {k: [] for k in CURVES}

    def on_epoch_end(self, epoch, logs=None):
        for name, (x, y) in (("train", self.train), ("test", self.test)):
            logs = self.model.evaluate(x, y, return_dict=True)
            self.curves[f"{name}_loss"].append(logs["loss"])
            self.curves[f"{name}_accuracy"].append(logs["accuracy"])


@dataclass
class DropoutResult:
    """``curves[label][name]``: one value per epoch, ``label`` ``"no dropout"`` or ``"dropout"``,
    ``name`` in ``CURVES`` (evaluated with dropout off)."""
    rate: float
    input_rate: float
    hidden: int
    n_train: int
    n_test: int
    epochs: int
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def gap(self, label: str, metric: str = "accuracy") -> float:
        """How much was memorised rather than learnt, after the last epoch: training minus test
        accuracy (``metric="accuracy"``), or test minus training loss (``metric="loss"``)."""
        c = self.curves[label]
        metric = check_choice("metric", metric, ("accuracy", "loss"))
        if metric == "loss":
            return c["test_loss"][-1] - c["train_loss"][-1]
        return c["train_accuracy"][-1] - c["test_accuracy"][-1]

    def to_dict(self) -> dict:
        return {"rate": self.rate, "input_rate": self.input_rate, "hidden": self.hidden, "n_train": self.n_train, "n_test": self.n_test,
                "epochs": self.epochs, "curves": self.curves, "accuracy_gap": {k: self.gap(k) for k in self.curves},
                "loss_gap": {k: self.gap(k, "loss") for k in self.curves}}


@one_blas_thread()
def dropout_curves(data=None, *, rate: float = 0.5, input_rate: float = 0.2, hidden: int = 512, n_train: int = 1000,
                   n_test: int = 2000, epochs: int = 20, batch_size: int = 32, learning_rate: float = 1e-3,
                   random_state: int = 0) -> DropoutResult:
    """Train :func:`build_net` without and with dropout ``rate`` (Adam, ``learning_rate``) on the first
    ``n_train`` MNIST training digits (``data``: the MNIST folder, default
    ``petnet.paths.shared_data("mnist")``) and record both curves on the first ``n_test`` test digits.
    NumPy's BLAS runs on one thread (:func:`petnet.blas.one_blas_thread`), so the curves are the
    same digits whatever the number of threads."""
    rate = check_number("rate", rate, min=0, max=0.95, min_exclusive=True)
    input_rate = check_number("input_rate", input_rate, min=0, max=0.95)
    hidden = check_int("hidden", hidden, min=1, max=8192)
    n_train = check_int("n_train", n_train, min=1, max=60_000)
    n_test = check_int("n_test", n_test, min=1, max=10_000)
    epochs = check_int("epochs", epochs, min=1, max=1000)
    batch_size = check_int("batch_size", batch_size, min=1, max=60_000)
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True, max=10)
    random_state = check_int("random_state", random_state, min=0)
    x, y, xt, yt = load_digits(data, n_train, n_test)
    train, test = (x, y), (xt, yt)
    result = DropoutResult(rate, input_rate, hidden, len(x), len(xt), epochs)
    for r, ri in ((0.0, 0.0), (rate, input_rate)):
        model = build_net(r, input_rate=ri, hidden=hidden, random_state=random_state)
        model.compile(optimizer="adam", loss="softmax_cross_entropy", metrics=["accuracy"], lr=learning_rate)
        curves = _Curves(train, test)
        model.fit(*train, epochs=epochs, batch_size=batch_size, callbacks=[curves], random_state=random_state,
                  verbose=0)
        result.curves["no dropout" if r == 0 else "dropout"] = curves.curves
    return result


def format_result(r: DropoutResult) -> str:
    """The table ``petnet nn dropout`` prints."""
    labels = list(r.curves)
    lines = [f"784-{r.hidden}-{r.hidden}-10 network, {r.n_train} training / {r.n_test} test MNIST digits, "
             f"dropout: {r.input_rate:g} of the pixels, {r.rate:g} of the hidden units; evaluated with dropout off",
             "       " + "".join(f"{lab:^31}" for lab in labels),
             "epoch  " + "  train acc  test acc  test loss" * len(labels)]
    for e in range(r.epochs):
        row = f"{e + 1:>5}  "
        for lab in labels:
            c = r.curves[lab]
            row += f"{c['train_accuracy'][e]:>11.4f} {c['test_accuracy'][e]:>9.4f} {c['test_loss'][e]:>10.4f}"
        lines.append(row)
    lines.append("")
    for lab in labels:
        c = r.curves[lab]
        best = int(np.argmin(c["test_loss"]))
        lines.append(f"{lab:>10}: train - test accuracy {r.gap(lab):.4f}, test - train loss {r.gap(lab, 'loss'):.4f} "
                     f"(train loss {c['train_loss'][-1]:.4f}; lowest test loss {c['test_loss'][best]:.4f} "
                     f"at epoch {best + 1})")
    return "\n".join(lines)


def plot_dropout(r: DropoutResult, out=None, show: bool = False):
    """Left: accuracy on training and test digits; right: the losses (overfitting: test loss rising)."""
    from petnet.plotting import finish, pyplot

    plt = pyplot(show)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = np.arange(1, r.epochs + 1)
    for (lab, c), color in zip(r.curves.items(), ("tab:red", "tab:blue")):
        a1.plot(epochs, c["train_accuracy"], color=color, ls="--", label=f"{lab}: train")
        a1.plot(epochs, c["test_accuracy"], color=color, label=f"{lab}: test")
        a2.plot(epochs, c["train_loss"], color=color, ls="--", label=f"{lab}: train")
        a2.plot(epochs, c["test_loss"], color=color, label=f"{lab}: test")
    a1.set_xlabel("epoch")
    a1.set_ylabel("accuracy (dropout off)")
    a1.set_title(f"{r.n_train} training digits")
    a1.legend()
    a2.set_xlabel("epoch")
    a2.set_ylabel("cross-entropy loss")
    a2.set_yscale("log")
    a2.set_title("the gap between train and test = overfitting")
    a2.legend()
    return finish(fig, out, show)
