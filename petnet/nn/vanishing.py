"""Vanishing gradients (talk 3.2.2) and ResNet's fix, measured.

Backpropagation multiplies the gradient by one factor per layer on its way down,
dL/dh_{k-1} = (dL/dh_k * f'(z_k)) W_k^T. The sigmoid's slope is at most 1/4, so through a deep
sigmoid network the gradient shrinks geometrically and the first layers hardly learn. ReLU's
slope is 1 where a unit is active, and a residual block h + F(h) adds an identity path,
dL/dh = dL/dh_out (I + dF/dh), the "gradient highway" along which nothing shrinks.

Three networks of the same depth (``depth`` weight layers, counted as ResNet counts them) on
MNIST digits flattened to 784 numbers:

* ``sigmoid``:  Dense(width, sigmoid) x (depth - 1) - Dense(10)
* ``relu``:     Dense(width, relu) x (depth - 1) - Dense(10)
* ``residual``: Dense(width, sigmoid), then (depth - 2) / 2 blocks h <- h + Dense(width)(Dense(width,
  sigmoid)(h)) (pre-activation style, the identity path kept clean), then Dense(10): the sigmoid
  network's own layers with skip connections added.

:func:`gradient_norms` is the norm of each layer's kernel gradient, first layer to last;
:func:`vanishing` measures them at initialisation on one batch and trains each network briefly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from petnet.blas import one_blas_thread
from petnet.errors import ParamError
from petnet.nn.dense import Dense
from petnet.nn.layer import reset_names, set_seed
from petnet.nn.merge import Add
from petnet.nn.model import Input, Model
from petnet.validate import check_choice, check_int, check_number

KINDS = ("sigmoid", "relu", "residual")
LEGEND = {"sigmoid": "sigmoid", "relu": "ReLU", "residual": "residual (sigmoid + skips)"}


def _check_residual_depth(kind: str, depth: int) -> None:
    if kind == "residual" and depth % 2:
        raise ParamError("depth", f"must be even for the residual network (a first layer, blocks of two "
                                  f"layers, the output layer), got {depth}")


def build_net(kind: str, *, depth: int = 20, width: int = 32, input_dim: int = 784, classes: int = 10,
              random_state: int | None = 0, dtype=np.float32) -> Model:
    """The ``kind`` network (see the module docstring) with Keras' default initialisation (Glorot
    uniform kernels, zero biases) seeded by ``random_state``; logits out."""
    kind = check_choice("kind", kind, KINDS)
    depth = check_int("depth", depth, min=2, max=200)
    width = check_int("width", width, min=1, max=4096)
    _check_residual_depth(kind, depth)
    set_seed(random_state)
    reset_names()
    inputs = Input(shape=(input_dim,), dtype=dtype)
    if kind == "residual":
        h = Dense(width, activation="sigmoid")(inputs)
        for _ in range((depth - 2) // 2):
            h = Add()([h, Dense(width)(Dense(width, activation="sigmoid")(h))])
    else:
        h = inputs
        for _ in range(depth - 1):
            h = Dense(width, activation=kind)(h)
    model = Model(inputs, Dense(classes)(h), name=f"{kind}_{depth}")
    return model.compile(optimizer="gd", loss="softmax_cross_entropy", metrics=["accuracy"])


def dense_layers(model: Model) -> list[Dense]:
    """The model's Dense layers, input side first (the order of the graph)."""
    return [layer for layer in model.layers if isinstance(layer, Dense)]


def gradient_norms(model: Model, x, y) -> np.ndarray:
    """``||dL/dW_k||`` (Frobenius norm of each Dense kernel's gradient), first layer to last, for the
    mean softmax cross-entropy of ``model`` on the batch ``x, y`` (no weights change)."""
    result = model.loss_and_gradients(x, y, training=False)
    grads = {id(w): g for w, g in zip(model.trainable_weights, result.gradients)}
    return np.array([float(np.linalg.norm(grads[id(layer.kernel)])) for layer in dense_layers(model)])


@dataclass
class VanishingResult:
    """What :func:`vanishing` measured. ``norms[kind]``: per-layer kernel-gradient norms at
    initialisation, first layer first; ``history[kind]``: per-epoch ``loss``, ``accuracy`` (training)
    and ``val_accuracy`` (held-out digits)."""
    depth: int
    width: int
    batch_size: int
    n_train: int
    n_test: int
    epochs: int
    learning_rate: float
    norms: dict[str, list[float]] = field(default_factory=dict)
    history: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def ratio(self, kind: str) -> float:
        """First layer's gradient norm over the last layer's: 1 = no vanishing."""
        return self.norms[kind][0] / self.norms[kind][-1]

    def to_dict(self) -> dict:
        return {"depth": self.depth, "width": self.width, "batch_size": self.batch_size,
                "n_train": self.n_train, "n_test": self.n_test, "epochs": self.epochs,
                "learning_rate": self.learning_rate, "norms": self.norms,
                "first_over_last": {k: self.ratio(k) for k in self.norms}, "history": self.history}


def load_digits(data, n_train: int, n_test: int):
    """``(x_train, y_train, x_test, y_test)``: the first MNIST digits flattened to 784 numbers in [0, 1]."""
    from petnet.nn import mnist

    folder = mnist.default_folder() if data is None else data
    x, y = mnist.load(folder, "train", limit=n_train)
    xt, yt = mnist.load(folder, "test", limit=n_test)
    return x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt


@one_blas_thread()
def vanishing(data=None, *, depth: int = 20, width: int = 32, kinds=KINDS, batch_size: int = 64,
              n_train: int = 5000, n_test: int = 1000, epochs: int = 10, learning_rate: float = 0.1,
              random_state: int = 0, log=None) -> VanishingResult:
    """Measure the per-layer gradient norms of each network in ``kinds`` at initialisation on the
    first ``batch_size`` training digits, then train it ``epochs`` epochs with plain mini-batch
    gradient descent (``learning_rate``) on ``n_train`` digits (``data``: the MNIST folder, default
    ``petnet.paths.shared_data("mnist")``), with accuracy on ``n_test`` test digits after each epoch.
    ``log(line)`` receives one line per network trained. NumPy's BLAS runs on one thread
    (:func:`petnet.blas.one_blas_thread`): the ReLU network trains at the edge of its plateau, and
    the order in which several threads add the float32 products changed its accuracies."""
    depth = check_int("depth", depth, min=2, max=200)
    width = check_int("width", width, min=1, max=1024)
    kinds = [check_choice("kinds", k, KINDS) for k in kinds]
    for kind in kinds:
        _check_residual_depth(kind, depth)
    batch_size = check_int("batch_size", batch_size, min=1, max=60_000)
    n_train = check_int("n_train", n_train, min=1, max=60_000)
    if n_train < batch_size:
        raise ParamError("n_train", f"must be at least batch_size ({batch_size}): the gradients are measured "
                                    f"on the first batch; got {n_train}")
    n_test = check_int("n_test", n_test, min=1, max=10_000)
    epochs = check_int("epochs", epochs, min=0, max=1000)
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True, max=100)
    random_state = check_int("random_state", random_state, min=0)
    x, y, xt, yt = load_digits(data, n_train, n_test)
    result = VanishingResult(depth, width, batch_size, n_train, n_test, epochs, learning_rate)
    for kind in kinds:
        model = build_net(kind, depth=depth, width=width, random_state=random_state)
        model.compile(optimizer="gd", loss="softmax_cross_entropy", metrics=["accuracy"], lr=learning_rate)
        result.norms[kind] = gradient_norms(model, x[:batch_size], y[:batch_size]).tolist()
        if epochs:
            h = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=(xt, yt),
                          random_state=random_state, verbose=0)
            result.history[kind] = {k: h.history[k] for k in ("loss", "accuracy", "val_accuracy")}
            if log is not None:
                log(f"{kind}: test accuracy {result.history[kind]['val_accuracy'][-1]:.4f} "
                    f"after {epochs} epochs")
    return result


def format_result(r: VanishingResult) -> str:
    """The table ``petnet nn vanishing`` prints."""
    kinds = list(r.norms)
    lines = [f"gradient norm ||dL/dW|| per layer at initialisation ({r.depth} weight layers of width "
             f"{r.width}, one batch of {r.batch_size} MNIST digits)",
             "layer  " + "".join(f"{k:>12}" for k in kinds)]
    for i in range(len(r.norms[kinds[0]])):
        lines.append(f"{i + 1:>5}  " + "".join(f"{r.norms[k][i]:12.3e}" for k in kinds))
    lines.append("first/last" + "".join(f"{r.ratio(k):12.1e}" for k in kinds)[3:])   # 10 chars for 7 + 3
    if r.history:
        lines.append("")
        lines.append(f"test accuracy after each epoch (gradient descent, learning rate {r.learning_rate:g}, "
                     f"batch {r.batch_size}, {r.n_train} training / {r.n_test} test digits)")
        lines.append("epoch  " + "".join(f"{k:>12}" for k in r.history))
        for e in range(r.epochs):
            lines.append(f"{e + 1:>5}  " + "".join(f"{r.history[k]['val_accuracy'][e]:12.4f}" for k in r.history))
    return "\n".join(lines)


def plot_vanishing(r: VanishingResult, out=None, show: bool = False):
    """Left: the per-layer gradient norms (log scale); right: the training loss per epoch."""
    from petnet.plotting import finish, pyplot

    plt = pyplot(show)
    fig, axes = plt.subplots(1, 2 if r.history else 1, figsize=(11 if r.history else 6, 4), squeeze=False)
    ax = axes[0, 0]
    for kind, norms in r.norms.items():
        ax.semilogy(np.arange(1, len(norms) + 1), norms, marker="o", ms=3, label=LEGEND[kind])
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("||dL/dW|| at initialisation")
    ax.set_title(f"gradient norm per layer, {r.depth} layers")
    ax.legend()
    if r.history:
        ax = axes[0, 1]
        for kind, h in r.history.items():
            ax.plot(np.arange(1, r.epochs + 1), h["loss"], marker="o", ms=3, label=LEGEND[kind])
        ax.axhline(np.log(10), color="gray", ls="--", lw=1, label="ln 10: guessing")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (cross-entropy)")
        ax.set_title(f"training with gradient descent (lr {r.learning_rate:g})")
        ax.legend()
    return finish(fig, out, show)
