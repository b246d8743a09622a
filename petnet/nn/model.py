"""Models: ``Sequential`` (a stack of layers) and ``Model`` (a functional graph, for skip connections).

Training is the talk's loop, one mini-batch at a time:

    forward:   a = layer_k(...layer_1(x))             every layer caches what its backward needs
    loss:      L = loss(a, y)                         dL/da from the loss
    backward:  dL/dx_k = layer_k.backward(dL/da_k)    the chain rule, last layer first
    update:    optimizer.step(trainable_weights, gradients)

A final softmax followed by cross-entropy is fused: the gradient w.r.t. the logits is
(softmax - y) / N, computed from the logits with log-sum-exp (stable, no log of 0).

A layer may be called several times in a functional graph (shared weights, as in a Siamese net or
an unrolled recurrence). Layers keep one forward cache, so the model saves each call's cache after
its forward, puts it back before that call's backward, and sums the weight gradients of all calls:
dL/dw = sum over calls c of dL/dw|c.

``compile / fit / evaluate / predict / train_on_batch / summary / save_weights / load_weights``
behave like Keras. Inputs are cast to the model's dtype (float32 unless built in float64).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from petnet import optim
from petnet.errors import PetnetError
from petnet.nn import losses
from petnet.nn.activations import Softmax
from petnet.nn.layer import Layer, SymbolicTensor, as_float, fmt_shape, unique_name
from petnet.nn.summary import Summary, summarize
from petnet.nn import weights_io
from petnet.progress import progress


class InputLayer(Layer):
    """The entry of a functional model (shown in its summary, 0 parameters)."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.build(tuple(shape))

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy


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


class History:
    """What ``fit`` returns: ``history.history = {'loss': [...], 'accuracy': [...], 'val_loss': [...], ...}``."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))

    def __repr__(self):
        return f"History({self.history})"


def _accuracy_count(out: np.ndarray, y: np.ndarray) -> int:
    y = np.asarray(y)
    if out.ndim == 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
        truth = y.argmax(axis=1) if (y.ndim == 2 and y.shape[1] > 1) else y.reshape(-1)
    else:   # one output: a yes/no decision at 0.5
        pred = out.reshape(len(out), -1)[:, 0] > 0.5
        truth = y.reshape(len(y), -1)[:, 0] > 0.5
    return int((pred == truth).sum())


def _is_engine_object(v) -> bool:
    return isinstance(v, Layer) or type(v).__module__.startswith("petnet.nn.")


def _snapshot(obj, seen=None):
    """The attributes of a layer and of the engine objects it holds (its activation, ...): what a
    forward pass leaves behind for backward. Arrays are referenced, not copied (forward makes new
    ones on every call)."""
    seen = seen if seen is not None else {id(obj)}
    state, subs = dict(vars(obj)), {}
    for k, v in state.items():
        if _is_engine_object(v) and id(v) not in seen:
            seen.add(id(v))
            subs[k] = _snapshot(v, seen)
    return state, subs


def _restore(obj, snap) -> None:
    state, subs = snap
    vars(obj).update(state)
    for k, sub in subs.items():
        _restore(state[k], sub)


class Model:
    """A functional model: ``Model(inputs, outputs)`` where ``outputs`` came from layers called on ``inputs``."""

    def __init__(self, inputs=None, outputs=None, name: str | None = None):
        self.name = name or unique_name("model" if type(self) is Model else "sequential")
        self.optimizer = None
        self.loss = None
        self.metrics: list[str] = []
        self.dtype = None
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
        calls = [id(t.layer) for t in self._order]
        self._shared = {i for i in calls if calls.count(i) > 1}
        self._call_caches = {}
        self._check_names()
        self.dtype = np.dtype(inputs.dtype)

    def _last_layer(self):
        """The layer that makes the model's output."""
        return self.output.layer

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

    def forward(self, x, training: bool = False) -> np.ndarray:
        """Run every layer; caches for ``backward``."""
        x = as_float(x)
        self._ensure_built(x, follow_dtype=True)
        self._check_x(x)
        vals = {id(self.input): x}
        self._call_caches = {}
        for t in self._order:
            args = vals[id(t.parents[0])] if t.layer.n_inputs == 1 else [vals[id(p)] for p in t.parents]
            vals[id(t)] = t.layer.forward(args, training=training)
            if id(t.layer) in self._shared:     # keep this call's cache for its backward
                self._call_caches[id(t)] = _snapshot(t.layer)
        return vals[id(self.output)]

    def backward(self, dy: np.ndarray):
        """Back-propagate dL/d(output) through the graph; returns dL/dx (gradients meeting at a tensor
        used twice, as in a skip connection, are summed)."""
        grads = {id(self.output): dy}
        summed, last_call = {}, {}
        for t in reversed(self._order):
            g = grads.pop(id(t))
            shared = id(t.layer) in self._shared
            if shared:
                last_call.setdefault(id(t.layer), self._call_caches[id(t)])   # reversed: first seen = last call
                _restore(t.layer, self._call_caches[id(t)])
            dx = t.layer.backward(g)
            if shared and t.layer.params:
                prev = summed.get(id(t.layer))
                summed[id(t.layer)] = [np.array(a) for a in t.layer.grads] if prev is None else \
                    [a + b for a, b in zip(prev, t.layer.grads)]
            dxs = [dx] if t.layer.n_inputs == 1 else dx
            for p, d in zip(t.parents, dxs):
                if d is None:
                    continue
                grads[id(p)] = d if id(p) not in grads else grads[id(p)] + d
        for layer in self.layers:
            if id(layer) in last_call:
                _restore(layer, last_call[id(layer)])   # the state after the forward pass, as unshared
            if id(layer) in summed:
                layer.grads = summed[id(layer)]
        return grads.get(id(self.input))

    def __call__(self, x, training: bool = False):
        if isinstance(x, SymbolicTensor):
            raise PetnetError("calling a whole model on a symbolic tensor is not supported; call its layers")
        return self.forward(x, training=training)

    # ------------------------------------------------------------------ weights
    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return [w for l in self.layers for w in l.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [w for l in self.layers for w in l.non_trainable_weights]

    @property
    def gradients(self) -> list[np.ndarray]:
        """dL/dw for every array of ``trainable_weights`` (after a backward pass), same order."""
        return [g for l in self.layers if l.trainable and l.params for g in l.grads]

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

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="adam", loss="softmax_cross_entropy", metrics=None, **optimizer_kwargs):
        """``compile(optimizer='adam' | petnet.optim instance, loss='softmax_cross_entropy' | 'mse' | object,
        metrics=['accuracy'], lr=...)``."""
        self.optimizer = optim.get(optimizer, **optimizer_kwargs)
        self.loss = losses.get(loss)
        metrics = list(metrics or [])
        for m in metrics:
            if m not in ("accuracy", "acc"):
                raise PetnetError(f"unknown metric {m!r}; only 'accuracy' is available")
        self.metrics = ["accuracy"] if metrics else []
        return self

    def _fused_softmax(self):
        if not isinstance(self.loss, losses.SoftmaxCrossEntropy):
            return None
        act = getattr(self._last_layer(), "activation", None)
        return act if isinstance(act, Softmax) else None

    def _loss_and_grad(self, out, y, backward: bool):
        sm = self._fused_softmax()
        value = self.loss.forward(sm.z if sm is not None else out, y)
        if not backward:
            return value
        d = self.loss.backward()
        if sm is not None:
            sm.fused = True
        try:
            self.input_gradient = self.backward(d)   # dL/dx (None when the first layer skipped it)
        finally:
            if sm is not None:
                sm.fused = False
        return value

    def loss_and_gradients(self, x, y, training: bool = True):
        """One forward and backward pass without updating anything: returns ``(loss, gradients)``,
        the gradients aligned with ``trainable_weights`` (what an optimizer step would use)."""
        if self.loss is None:
            raise PetnetError("compile the model first to choose its loss: model.compile(loss=...)")
        x = as_float(x)
        self._ensure_built(x, follow_dtype=True)
        if y is not None and len(np.asarray(y)) != len(x):
            raise PetnetError(f"{len(x)} inputs but {len(np.asarray(y))} labels; give one label per input")
        out = self.forward(x, training=training)
        value = self._loss_and_grad(out, y, backward=True)
        return value, [np.array(g) for g in self.gradients]

    def _prepare(self, x, y=None):
        if self.optimizer is None:
            raise PetnetError("compile the model first: model.compile(optimizer='adam', "
                              "loss='softmax_cross_entropy', metrics=['accuracy'])")
        x = as_float(x)
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
        first = [l for l in self._first_layers() if hasattr(l, "need_input_grad")]
        for l in first:
            l.need_input_grad = False   # nobody needs dL/dx of the data: skip that GEMM
        try:
            with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is reported below
                out = self.forward(x, training=True)
                value = self._loss_and_grad(out, y, backward=True)
        finally:
            for l in first:
                l.need_input_grad = True
        if not math.isfinite(value):
            scale = float(np.max(np.abs(x))) if x.size else 0.0
            raise PetnetError(
                f"the loss became {value} during training: the learning rate "
                f"({self.optimizer.current_lr:g}) is probably too high, or the inputs are not scaled "
                f"(largest |x| here is {scale:g}; scale them to [0, 1] or standardise them). "
                "Try a 10x smaller learning rate.")
        self.optimizer.step(self.trainable_weights, self.gradients)
        correct = _accuracy_count(out, y) if self.metrics else 0
        return value, correct

    def _first_layers(self):
        return [t.layer for t in self._order if t.parents and t.parents[0] is self.input]

    def train_on_batch(self, x, y):
        """One step of gradient descent on one batch; returns the loss (and accuracy if compiled with it)."""
        x, y = self._prepare(x, y)
        value, correct = self._train_step(x, y)
        return [value, correct / len(x)] if self.metrics else value

    def fit(self, x, y, epochs: int = 1, batch_size: int = 32, validation_data=None, verbose: int = 1,
            shuffle: bool = True, seed=None) -> History:
        """Mini-batch training; a progress bar shows loss and accuracy (stderr), and with ``verbose``
        one line per epoch is printed to stderr. Returns a ``History``."""
        x, y = self._prepare(x, y)
        if int(epochs) < 1:
            raise PetnetError(f"epochs must be at least 1, got {epochs}")
        if validation_data is not None:
            try:
                vx, vy = validation_data
            except (TypeError, ValueError):
                raise PetnetError("validation_data must be a pair (x_val, y_val)") from None
        rng = np.random.default_rng(seed)
        history = History()
        n = len(x)
        n_batches = math.ceil(n / batch_size) if batch_size else 1
        for epoch in range(int(epochs)):
            total, correct, seen = 0.0, 0, 0
            bar = progress(total=n_batches, desc=f"epoch {epoch + 1}/{epochs}", unit="batch", quiet=not verbose)
            try:
                for idx in optim.batches(n, batch_size, shuffle=shuffle, rng=rng):
                    value, c = self._train_step(x[idx], y[idx])
                    total += value * len(idx)
                    correct += c
                    seen += len(idx)
                    post = {"loss": f"{total / seen:.4f}"}
                    if self.metrics:
                        post["accuracy"] = f"{correct / seen:.4f}"
                    bar.set_postfix(post, refresh=False)
                    bar.update(1)
            finally:
                bar.close()
            logs = {"loss": total / seen}
            if self.metrics:
                logs["accuracy"] = correct / seen
            if validation_data is not None:
                val = self.evaluate(vx, vy, return_dict=True)
                logs.update({f"val_{k}": v for k, v in val.items()})
            history.append(epoch, logs)
            if verbose:
                print(f"epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()),
                      file=sys.stderr)
        return history

    def predict(self, x, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        """Outputs for ``x``, computed ``batch_size`` samples at a time (inference mode)."""
        x = as_float(x)
        self._ensure_built(x)
        x = as_float(x, self.dtype)
        self._check_x(x)
        outs = [self.forward(x[i:i + batch_size], training=False) for i in range(0, len(x), batch_size)]
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
            out = self.forward(xb, training=False)
            total += self._loss_and_grad(out, yb, backward=False) * len(xb)
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

    The input shape comes from ``input_shape=`` on the first layer, an ``Input(shape=...)`` as the
    first element, ``model.build(input_shape)``, or the first data the model sees.
    """

    def __init__(self, layers=None, name: str | None = None, dtype=None):
        super().__init__(name=name)
        self.layers: list[Layer] = []
        self._input_shape = None
        self.dtype = np.dtype(dtype) if dtype is not None else None
        for layer in layers or []:
            self.add(layer)

    def _last_layer(self):
        return self.layers[-1] if self.layers else None

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
        if self._input_shape is not None and all(l.built for l in self.layers[:-1]):
            self._build_from(len(self.layers) - 1)   # shapes known: build the new layer at once

    def build(self, input_shape=None, dtype=None) -> None:
        """Build every layer for samples of ``input_shape`` (without the batch axis)."""
        if input_shape is not None:
            self._input_shape = tuple(input_shape)
        if self._input_shape is None:
            raise PetnetError("give the input shape: model.build((28, 28, 1)) or input_shape= on the first layer")
        if dtype is not None:
            self.dtype = np.dtype(dtype)
        self._build_from(0)

    def _build_from(self, start: int) -> None:
        if self.dtype is None:
            self.dtype = np.dtype(np.float32)
        shape = self._input_shape if start == 0 else self.layers[start - 1].output_shape
        for layer in self.layers[start:]:
            if layer.built:
                layer.check_shape(shape)
            else:
                layer.build(shape, dtype=self.dtype)
            shape = layer.output_shape

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(l.built for l in self.layers)

    @property
    def input_shape(self):
        if self._input_shape is None and self.layers and self.layers[0].built:
            return self.layers[0].input_shape
        return self._input_shape

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

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

    def _first_layers(self):
        return self.layers[:1]

    def forward(self, x, training: bool = False) -> np.ndarray:
        x = as_float(x)
        self._ensure_built(x, follow_dtype=True)
        self._check_x(x)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dy: np.ndarray):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
            if dy is None:
                break
        return dy
