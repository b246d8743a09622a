"""Models: the functional ``Model`` (a graph of layer calls) and ``Sequential`` (a stack, built as one).

Training is the talk's loop, one mini-batch at a time:

    forward:   out, tape = model.forward(x)          each call's cache goes on the tape
    loss:      L, c = loss.forward(out, y)           dL/dout = loss.backward(c)
    backward:  dx, grads = model.backward(tape, dL/dout)   the chain rule, last call first
    update:    optimizer.step(model.trainable_weights, grads)

The tape is a list with one cache per layer call, in the graph's order; it belongs to that forward
pass (as micrograd keeps the backward with its output), nothing of it stays on the layers. A layer
called several times (shared weights, as in a Siamese net or an unrolled recurrence) has one cache
per call on the tape, and the gradients of its calls are summed: dL/dw = sum over calls c of dL/dw|c.

When the output is a softmax and the loss a cross-entropy, the loss is computed from the softmax's
input (the logits, on the tape) and the backward pass starts there: dL/dz = (softmax(z) - y) / N,
computed with log-sum-exp (stable, no log of 0) -- what Keras does for ``from_logits=False``.

``compile / fit / evaluate / predict / train_on_batch / summary / save_weights / load_weights``
behave like Keras. ``fit`` is the one training loop of petnet (``nn mnist``, ``vgg mnist`` and the
pets head use it): callbacks, a per-batch augmentation hook, epochs or a number of steps, one
divergence check. Inputs are cast to the model's dtype (float32 unless built in float64).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from petnet import optim
from petnet.errors import ParamError, PetnetError
from petnet.nn import losses, weights_io
from petnet.nn.activations import Softmax
from petnet.nn.callbacks import Callback, History, ProgressBar, _call_all
from petnet.nn.layer import Layer, SymbolicTensor, as_float, fmt_shape, unique_name
from petnet.nn.summary import Summary, summarize
from petnet.validate import check_choice, check_int, renamed


class InputLayer(Layer):
    """The entry of a functional model (shown in its summary, 0 parameters)."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.build(tuple(shape))

    def call(self, x, training=False):
        return x, None

    def backprop(self, cache, dy, need_dx=True):
        return dy, []


def Input(shape, name: str | None = None, dtype=None) -> SymbolicTensor:
    """A symbolic input of ``shape`` (without the batch axis): ``inputs = Input(shape=(28, 28, 1))``."""
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise PetnetError(f"Input shape must be a tuple of sizes without the batch axis, got {shape!r}") from None
    if not shape or min(shape) < 1:
        raise PetnetError(f"Input shape must be positive sizes without the batch axis, got {shape!r}")
    layer = InputLayer(shape, name=name or unique_name("input_layer"), dtype=dtype)
    return SymbolicTensor(shape, layer=layer, parents=())


_CE_ON_LOGITS = losses.SoftmaxCrossEntropy(from_logits=True)


class Gradients(NamedTuple):
    """What ``Model.loss_and_gradients`` returns."""
    loss: float
    gradients: list          # aligned with model.trainable_weights
    input_gradient: np.ndarray


class TrainingDiverged(ParamError):
    """Training went wrong (a NaN or infinite loss): the learning rate is named as the parameter to
    change; the command line rewords it with its flag. ``what`` says what was seen, ``hint`` adds a
    second likely cause."""

    def __init__(self, what: str, learning_rate: float, hint: str = "", param: str = "learning_rate"):
        self.what, self.learning_rate, self.hint = what, learning_rate, hint
        super().__init__(param, "")
        self.args = (self.renamed(param),)

    def renamed(self, name: str) -> str:
        return (f"training diverged: {self.what}; the learning rate is probably too high "
                f"({name} {self.learning_rate:g}: try a 10x smaller one){self.hint}")

    def __str__(self):
        return self.args[0]


def _accuracy_count(out: np.ndarray, y: np.ndarray) -> int:
    y = np.asarray(y)
    if out.ndim == 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
        truth = y.argmax(axis=1) if (y.ndim == 2 and y.shape[1] > 1) else y.reshape(-1)
    else:   # one output: a yes/no decision at 0.5
        pred = out.reshape(len(out), -1)[:, 0] > 0.5
        truth = y.reshape(len(y), -1)[:, 0] > 0.5
    return int((pred == truth).sum())


class Model:
    """A functional model: ``Model(inputs, outputs)`` where ``outputs`` came from layers called on ``inputs``."""

    def __init__(self, inputs=None, outputs=None, name: str | None = None):
        self.name = name or unique_name("model" if type(self) is Model else "sequential")
        self.optimizer = None
        self.loss = None
        self.metrics: list[str] = []
        self.stop_training = False
        self.fit_params: dict = {}
        if type(self) is Model:
            self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ graph
    def _init_graph(self, inputs, outputs):
        inputs = inputs[0] if isinstance(inputs, (list, tuple)) and len(inputs) == 1 else inputs
        outputs = outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs
        if not isinstance(inputs, SymbolicTensor) or not isinstance(outputs, SymbolicTensor):
            raise PetnetError("Model(inputs, outputs) takes the tensor from Input(shape=...) and the tensor that "
                              "the last layer returned (one input and one output)")
        order, seen = [], set()

        def visit(t):
            if id(t) in seen:
                return
            seen.add(id(t))
            for p in t.parents:
                visit(p)
            order.append(t)

        visit(outputs)
        roots = [t for t in order if not t.parents]
        if len(roots) != 1 or roots[0] is not inputs:
            raise PetnetError("the outputs do not come from the given inputs; build them by calling layers on "
                              "the tensor returned by Input(...)")
        self.input, self.output = inputs, outputs
        self._order = order[1:]        # topological order, the input excluded
        self._input_layer = inputs.layer
        self.layers = list({id(t.layer): t.layer for t in self._order}.values())   # once each, first use first
        # calls that read the model's input directly: their dL/dx is only needed for input gradients
        self._reads_input = [all(p is inputs for p in t.parents) for t in self._order]
        self._check_names()
        self.dtype = np.dtype(inputs.dtype)

    def _check_names(self):
        names = [l.name for l in self.layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise PetnetError(f"layer names must be unique in a model; repeated: {', '.join(dup)}")

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(l.built for l in self.layers)

    @property
    def input_shape(self):
        return self.input.shape

    @property
    def output_shape(self):
        return self.output.shape

    def summary_layers(self):
        return [self._input_layer] + self.layers

    def _ensure_built(self, x: np.ndarray, follow_dtype: bool = False) -> None:
        pass   # a functional model is built when it is defined

    def get_layer(self, name: str) -> Layer:
        for l in self.layers:
            if l.name == name:
                return l
        raise PetnetError(f"no layer named {name!r}; the layers are: {', '.join(l.name for l in self.layers)}")

    # ------------------------------------------------------------------ passes
    def _check_x(self, x: np.ndarray) -> None:
        if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != tuple(self.input_shape):
            hint = " -- add the batch axis with x[None]" if x.shape == tuple(self.input_shape) else ""
            raise PetnetError(f"model {self.name!r} expects inputs of shape {fmt_shape(self.input_shape)}, "
                              f"got {x.shape}{hint}")

    def forward(self, x, training: bool = False):
        """``(output, tape)``: run every layer call; the tape holds each call's cache for ``backward``."""
        x = as_float(x)
        self._ensure_built(x, follow_dtype=True)
        self._check_x(x)
        vals = {id(self.input): x}
        tape = []
        for t in self._order:
            args = vals[id(t.parents[0])] if t.layer.n_inputs == 1 else [vals[id(p)] for p in t.parents]
            vals[id(t)], cache = t.layer.forward(args, training=training)
            tape.append(cache)
        return vals[id(self.output)], tape

    def backward(self, tape, dy: np.ndarray, need_dx: bool = True, from_logits: bool = False):
        """``(dL/dx, gradients)`` of the forward pass that made ``tape``, given dL/d(output).

        Gradients meeting at a tensor used twice (a skip connection) are summed, and so are the
        weight gradients of a layer called twice; ``gradients`` is aligned with ``trainable_weights``
        (penalties of weight regularizers included). ``from_logits=True``: ``dy`` is dL/d(logits) of
        the output softmax, whose backward is then skipped."""
        grads = {id(self.output): dy}
        summed = {}
        last = len(self._order) - 1
        for k in range(last, -1, -1):
            t, cache = self._order[k], tape[k]
            g = grads.pop(id(t))
            needed = need_dx or not self._reads_input[k]
            if from_logits and k == last:
                dx, wg = t.layer.backprop(cache[0], g, needed)
            else:
                dx, wg = t.layer.backward(cache, g, needed)
            if wg:
                prev = summed.get(id(t.layer))
                summed[id(t.layer)] = wg if prev is None else [a + b for a, b in zip(prev, wg)]
            dxs = [dx] if t.layer.n_inputs == 1 else dx
            for p, d in zip(t.parents, dxs):
                if d is None:
                    continue
                grads[id(p)] = d if id(p) not in grads else grads[id(p)] + d
        out = []
        for layer in self.layers:
            if not (layer.trainable and layer.params):
                continue
            g = summed[id(layer)]
            for i, reg in layer.regularizers:
                g[i] = g[i] + reg.gradient(layer.params[i])
            out += g
        return grads.get(id(self.input)), out

    def __call__(self, x, training: bool = False):
        if isinstance(x, SymbolicTensor):
            raise PetnetError("calling a whole model on a symbolic tensor is not supported; call its layers")
        return self.forward(x, training=training)[0]

    # ------------------------------------------------------------------ weights
    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for l in self.layers for w in l.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [w for l in self.layers for w in l.non_trainable_weights]

    @property
    def weights(self) -> list[np.ndarray]:
        return [w for l in self.layers for w in l.weights]

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise PetnetError(f"model {self.name!r} has {len(self.weights)} weight arrays, got {len(weights)}")
        k = 0
        for l in self.layers:
            n = len(l.weights)
            l.set_weights(weights[k:k + n])
            k += n

    def count_params(self) -> int:
        return sum(l.count_params() for l in self.layers)

    def save_weights(self, path):
        """Save every weight array to ``path`` (.npz, no pickle)."""
        return weights_io.save_weights(self, path)

    def load_weights(self, path, by_name: bool = False) -> None:
        """Load weights saved by ``save_weights``; a clear PetnetError on any layer or shape mismatch."""
        weights_io.load_weights(self, path, by_name=by_name)

    def summary(self, print_fn=print) -> Summary:
        """Print the Keras-style table (``print_fn=None`` to only return it); returns the ``Summary``
        with ``.rows`` and ``.total_params``/``.trainable_params``/``.non_trainable_params``."""
        if not self.built:
            raise PetnetError(f"model {self.name!r} is not built yet; give the first layer input_shape=..., "
                              "start with Input(shape=...), or call it on data first")
        s = summarize(self)
        if print_fn is not None:
            print_fn(s.text())
        return s

    # ------------------------------------------------------------------ loss
    def compile(self, optimizer="adam", loss="softmax_cross_entropy", metrics=None, **optimizer_kwargs):
        """``compile(optimizer='adam' | petnet.optim instance, loss='softmax_cross_entropy' | 'mse' | object,
        metrics=['accuracy'], lr=...)``; loss names: ``petnet.nn.losses.LOSSES``."""
        self.optimizer = optim.get(optimizer, **optimizer_kwargs)
        self.loss = losses.get(loss)
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc"):
                raise PetnetError(f"unknown metric {m!r}; only 'accuracy' is available")
        self.metrics = ["accuracy"] if metrics else []
        return self

    def _softmax_output(self) -> bool:
        return isinstance(self.loss, losses.SoftmaxCrossEntropy) and \
            isinstance(self.output.layer.activation, Softmax)

    def _loss(self, out, tape, y, backward: bool):
        """``(value, dL/d(output) or None, from_logits)``. A softmax output with a cross-entropy loss
        hands the loss the softmax's input (the logits, on the tape): then the gradient is w.r.t. them."""
        if self._softmax_output():
            loss, pred, from_logits = _CE_ON_LOGITS, tape[-1][1].z, True
        else:
            loss, pred, from_logits = self.loss, out, False
        value, cache = loss.forward(pred, y)
        return value, (loss.backward(cache) if backward else None), from_logits

    def loss_and_gradients(self, x, y, training: bool = True) -> Gradients:
        """One forward and backward pass without updating anything: ``(loss, gradients, input_gradient)``,
        the gradients aligned with ``trainable_weights`` (what an optimizer step would use)."""
        if self.loss is None:
            raise PetnetError("compile the model first to choose its loss: model.compile(loss=...)")
        x = as_float(x)
        self._ensure_built(x, follow_dtype=True)
        if y is not None and len(np.asarray(y)) != len(x):
            raise PetnetError(f"{len(x)} inputs but {len(np.asarray(y))} labels; give one label per input")
        out, tape = self.forward(x, training=training)
        value, d, from_logits = self._loss(out, tape, y, backward=True)
        dx, grads = self.backward(tape, d, from_logits=from_logits)
        return Gradients(value, grads, dx)

    # ------------------------------------------------------------------ training
    def _prepare(self, x, y=None, check_shape: bool = True):
        if self.optimizer is None:
            raise PetnetError("compile the model first: model.compile(optimizer='adam', "
                              "loss='softmax_cross_entropy', metrics=['accuracy'])")
        x = as_float(x)
        if check_shape:
            self._ensure_built(x)
            x = as_float(x, self.dtype)
            self._check_x(x)
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            raise PetnetError(f"{int(bad.sum())} of the {len(x)} inputs contain NaN or infinity (the first is "
                              f"sample {int(np.argmax(bad))}); remove or fix those samples")
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(x):
                raise PetnetError(f"{len(x)} inputs but {len(y)} labels; give one label per input")
            if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
                raise PetnetError("the targets contain NaN or infinity; remove or fix those samples")
        return x, y

    def _train_step(self, x, y):
        """Forward, loss, backward, one optimizer step: ``(loss, correct predictions)``. The one
        divergence check of petnet's training: a NaN or infinite loss stops with TrainingDiverged."""
        x = as_float(x, self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is reported below
            out, tape = self.forward(x, training=True)
            value, d, from_logits = self._loss(out, tape, y, backward=True)
            if not math.isfinite(value):
                scale = float(np.max(np.abs(x))) if x.size else 0.0
                raise TrainingDiverged(f"the loss became {value} at step {self.optimizer.t + 1}",
                                       self.optimizer.current_lr,
                                       f", or the inputs are not scaled (largest |x| here is {scale:g}; "
                                       "scale them to [0, 1] or standardise them)")
            _, grads = self.backward(tape, d, need_dx=False, from_logits=from_logits)
        self.optimizer.step(self.trainable_weights, grads)
        return value, (_accuracy_count(out, y) if self.metrics else 0)

    def train_on_batch(self, x, y):
        """One step of gradient descent on one batch; returns the loss (and accuracy if compiled with it)."""
        x, y = self._prepare(x, y)
        value, correct = self._train_step(x, y)
        return [value, correct / len(x)] if self.metrics else value

    def fit(self, x, y, epochs: int = 1, batch_size: int = 32, validation_data=None, verbose: int = 1,
            shuffle: bool = True, seed=None, *, callbacks=None, augment=None, steps_per_epoch: int | None = None,
            sampling: str = "epoch", random_state: int | None = None, log=None) -> History:
        """Mini-batch training, the one training loop; returns the ``History`` callback.

        * ``sampling='epoch'``: each epoch shuffles the data (``shuffle``) and walks it in batches;
          ``'random'``: every step draws ``batch_size`` samples without replacement (TensorFlow
          retrain.py's way). ``steps_per_epoch`` (default: one pass over the data) sets the steps of
          an epoch, so ``epochs=1, steps_per_epoch=N`` is "N steps".
        * ``augment(xb, yb, rng) -> (xb, yb)`` changes each training batch (random shifts, one of
          several views, ...), with the loop's generator ``rng``; ``x`` only has to have the model's
          input shape after it.
        * ``callbacks``: :class:`~petnet.nn.callbacks.Callback` objects (``EarlyStopping``, your own).
          ``verbose=1`` adds a progress bar (stderr, only on a terminal) that passes one line per
          epoch to ``log`` if given.
        * ``random_state`` seeds shuffling, sampling and ``augment`` (``seed`` is its old name).
        """
        random_state = renamed("seed", "random_state", seed, random_state, None)
        epochs = check_int("epochs", epochs, min=1, max=1_000_000)
        batch_size = check_int("batch_size", batch_size, min=1)
        sampling = check_choice("sampling", sampling, ("epoch", "random"))
        x, y = self._prepare(x, y, check_shape=augment is None)
        n = len(x)
        if n == 0:
            raise PetnetError("no training samples")
        steps = math.ceil(n / batch_size) if steps_per_epoch is None else \
            check_int("steps_per_epoch", steps_per_epoch, min=1, max=1_000_000_000)
        if validation_data is not None:
            try:
                vx, vy = validation_data
            except (TypeError, ValueError):
                raise ParamError("validation_data", "must be a pair (x_val, y_val)") from None
        rng = np.random.default_rng(random_state)
        history = History()
        cbs = [history] + ([ProgressBar(log)] if verbose else []) + list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise ParamError("callbacks", f"must be Callback objects, got {type(cb).__name__}")
            cb.set_model(self)
        self.fit_params = {"epochs": epochs, "steps_per_epoch": steps, "batch_size": batch_size, "samples": n}
        self.stop_training = False
        batches = self._batches(n, batch_size, sampling, shuffle, rng)
        logs: dict = {}
        _call_all(cbs, "on_train_begin", {})
        try:
            for epoch in range(epochs):
                _call_all(cbs, "on_epoch_begin", epoch, {})
                total, correct, seen = 0.0, 0, 0
                for batch in range(steps):
                    idx = next(batches)
                    xb, yb = x[idx], y[idx]
                    if augment is not None:
                        xb, yb = augment(xb, yb, rng)
                    value, c = self._train_step(xb, yb)
                    total += value * len(yb)
                    correct += c
                    seen += len(yb)
                    blogs = {"step": self.optimizer.t, "size": len(yb), "loss": value}
                    if self.metrics:
                        blogs["accuracy"] = c / len(yb)
                    _call_all(cbs, "on_batch_end", batch, blogs)
                    if self.stop_training:
                        break
                logs = {"loss": total / seen}
                if self.metrics:
                    logs["accuracy"] = correct / seen
                if validation_data is not None:
                    val = self.evaluate(vx, vy, return_dict=True)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                _call_all(cbs, "on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
        finally:
            _call_all(cbs, "on_train_end", logs)
        return history

    @staticmethod
    def _batches(n, batch_size, sampling, shuffle, rng):
        """Endless index arrays: epochs of ``optim.batches``, or independent random draws."""
        while True:
            if sampling == "random":
                yield rng.choice(n, size=batch_size, replace=False) if batch_size < n else rng.permutation(n)
            else:
                yield from optim.batches(n, batch_size, shuffle=shuffle, rng=rng)

    def predict(self, x, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        """Outputs for ``x``, computed ``batch_size`` samples at a time (inference mode)."""
        x = as_float(x)
        self._ensure_built(x)
        x = as_float(x, self.dtype)
        self._check_x(x)
        outs = [self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        if not outs:
            raise PetnetError("no samples to predict")
        return np.concatenate(outs)

    def evaluate(self, x, y, batch_size: int = 256, verbose: int = 0, return_dict: bool = False):
        """Mean loss (and accuracy) over ``x, y`` in inference mode; Keras returns ``loss`` or
        ``[loss, accuracy]``, or with ``return_dict=True`` ``{'loss': ..., 'accuracy': ...}``."""
        x, y = self._prepare(x, y)
        total, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            out, tape = self.forward(xb, training=False)
            total += self._loss(out, tape, yb, backward=False)[0] * len(xb)
            if self.metrics:
                correct += _accuracy_count(out, yb)
        logs = {"loss": total / len(x)}
        if self.metrics:
            logs["accuracy"] = correct / len(x)
        if return_dict:
            return logs
        return [logs["loss"], logs["accuracy"]] if self.metrics else logs["loss"]

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}: {len(self.layers)} layers>"


class Sequential(Model):
    """A plain stack: ``Sequential([Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)), ...])``.

    A functional ``Model`` underneath: once the input shape is known, the layers are called one
    after the other on an ``Input`` and the graph is that chain. The input shape comes from
    ``input_shape=`` on the first layer, an ``Input(shape=...)`` as the first element,
    ``model.build(input_shape)``, or the first data the model sees.
    """

    def __init__(self, layers=None, name: str | None = None, dtype=None):
        super().__init__(name=name)
        self.layers: list[Layer] = []
        self._input_shape = None
        self._order = []
        self.dtype = np.dtype(dtype) if dtype is not None else None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer) -> None:
        if isinstance(layer, SymbolicTensor) and layer.layer is not None and not layer.parents:
            if self.layers:
                raise PetnetError("an Input(...) can only be the first element of a Sequential")
            self._input_shape = layer.shape
            return
        if isinstance(layer, Model):
            raise PetnetError("nesting models is not supported; add the layers one by one")
        if not isinstance(layer, Layer):
            raise PetnetError(f"Sequential takes layers (Dense, Conv2D, ...), got {type(layer).__name__}: {layer!r}")
        if layer.n_inputs != 1:
            raise PetnetError(f"{type(layer).__name__} takes several inputs; use the functional Model for it")
        if any(layer is l for l in self.layers):
            raise PetnetError(f"layer {layer.name!r} is already in this Sequential; to apply one layer twice "
                              "(shared weights) use the functional API: h = layer(layer(inputs))")
        if not self.layers and self._input_shape is None and layer._declared_input_shape is not None:
            self._input_shape = layer._declared_input_shape
        self.layers.append(layer)
        self._check_names()
        if self._order:                              # built: extend the chain
            self._init_graph(self.input, layer(self.output))
        elif self._input_shape is not None:          # shapes known: build at once
            self.build()

    def build(self, input_shape=None, dtype=None) -> None:
        """Build every layer for samples of ``input_shape`` (without the batch axis)."""
        if input_shape is not None:
            self._input_shape = tuple(input_shape)
        if self._input_shape is None:
            raise PetnetError("give the input shape: model.build((28, 28, 1)) or input_shape= on the first layer")
        if dtype is not None:
            self.dtype = np.dtype(dtype)
        if self.dtype is None:
            self.dtype = np.dtype(np.float32)
        if not self.layers:
            return
        inputs = t = Input(self._input_shape, dtype=self.dtype)
        for layer in self.layers:
            t = layer(t)
        self._init_graph(inputs, t)

    @property
    def built(self) -> bool:
        return bool(self._order)

    @property
    def input_shape(self):
        return self._input_shape

    @property
    def output_shape(self):
        return self.output.shape if self.built else None

    def summary_layers(self):
        return list(self.layers)

    def _ensure_built(self, x: np.ndarray, follow_dtype: bool = False) -> None:
        if not self.layers:
            raise PetnetError("the Sequential model has no layers; add some first")
        if not self.built:
            if x.ndim < 2:
                raise PetnetError(f"inputs need a batch axis first, got shape {x.shape}")
            if self.dtype is None and follow_dtype:
                self.dtype = x.dtype
            self.build(x.shape[1:] if self._input_shape is None else None)
