"""The base ``Layer``: the talk's building block, with a forward pass and a hand-written backward pass.

Every layer follows one protocol (Keras names, micrograd clarity):

* ``build(input_shape)`` creates the weights for inputs of ``input_shape`` (without the batch axis).
* ``layer(x)``: for a NumPy array, builds if needed and returns the output;
  for a symbolic tensor from ``Input(shape=...)``, returns a symbolic tensor (functional API).
* ``y, cache = layer.forward(x, training=False)`` computes the output and returns, with it, what
  the backward pass of *this call* needs (micrograd keeps the backward with its output; here the
  caller keeps the cache). Nothing of the call is left on the layer, so a layer can be called
  any number of times (shared weights) and each call is differentiated with its own cache.
* ``dx, grads = layer.backward(cache, dy)`` takes dL/dy (same shape as the output) and returns
  dL/dx and dL/dparam for every array of ``layer.params`` (same order) -- the chain rule, one
  layer at a time. ``need_dx=False`` skips dL/dx where nobody needs it (the first layer).
* A layer writes two methods: ``call(x, training) -> (z, cache)``, its computation before the
  activation, and ``backprop(cache, dz, need_dx) -> (dx, grads)``; ``forward``/``backward`` add the
  activation (``layer.activation``, None for layers without one) around them.
* ``get_weights()`` / ``set_weights()``: every weight array (trainable ones first, in Keras order).

Weights are float32 by default; a layer first called on float64 input builds in float64
(what the gradient checks use).
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from petnet.errors import ParamError, PetnetError

_NAME_COUNTS: dict[str, int] = defaultdict(int)
_RNG = np.random.default_rng()


def set_seed(seed: int | None) -> None:
    """Seed the generator used for weight initialisation and dropout masks (reproducible runs)."""
    global _RNG
    _RNG = np.random.default_rng(seed)


def rng() -> np.random.Generator:
    """The shared random generator of ``petnet.nn``."""
    return _RNG


def reset_names() -> None:
    """Restart the automatic layer names (``conv2d``, ``conv2d_1``, ...), like Keras' ``clear_session``."""
    _NAME_COUNTS.clear()


def snake_case(name: str) -> str:
    """``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` -> ``max_pooling2d`` (Keras' rule)."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2``, ..."""
    n = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


def as_float(x, dtype=None) -> np.ndarray:
    """``x`` as a float array: float32/float64 kept (or cast to ``dtype``), anything else -> float32."""
    try:
        x = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise PetnetError(f"cannot turn the input into an array: {exc}") from None
    if dtype is not None:
        return x if x.dtype == dtype else x.astype(dtype)
    if x.dtype in (np.float32, np.float64):
        return x
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ParamError("inputs", f"must be numbers, got an array of dtype {x.dtype}")
    return x.astype(np.float32)


def fmt_shape(shape) -> str:
    """``(28, 28, 1)`` -> ``(None, 28, 28, 1)`` (Keras shows the batch axis as None)."""
    return str((None,) + tuple(shape))


class SymbolicTensor:
    """A placeholder for data in the functional API: a shape (without batch) and where it came from.

    ``Input(shape=(28, 28, 1))`` makes one; calling a layer on it makes another whose ``layer`` is
    that layer and ``parents`` the tensors it was called on. ``Model(inputs, outputs)`` walks back
    through ``parents`` to find the graph.
    """

    def __init__(self, shape, layer=None, parents=()):
        self.shape = tuple(int(s) for s in shape)
        self.layer = layer
        self.parents = tuple(parents)
        self.dtype = getattr(layer, "dtype", None) or np.float32

    def __repr__(self):
        who = f", from {self.layer.name!r}" if self.layer is not None else ""
        return f"SymbolicTensor(shape={fmt_shape(self.shape)}{who})"


def is_symbolic(x) -> bool:
    if isinstance(x, SymbolicTensor):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(t, SymbolicTensor) for t in x)


class Layer:
    """Base class. Subclasses override ``build`` (if they have weights), ``forward``, ``backward``
    and ``compute_output_shape``."""

    #: how many inputs ``forward`` takes: 1 (an array) or "many" (a list of arrays, e.g. ``Add``)
    n_inputs = 1
    #: the activation applied after ``call`` (an ``ActivationFunction``), None for none
    activation = None

    def __init__(self, name: str | None = None, trainable: bool = True, input_shape=None, dtype=None):
        self.name = str(name) if name is not None else unique_name(snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.built = False
        self.params: list[np.ndarray] = []          # trainable arrays, in get_weights order
        self.non_trainable: list[np.ndarray] = []   # e.g. batch-norm moving statistics
        self.regularizers: list[tuple[int, object]] = []   # (index in params, regularizer)
        self.input_shape = None
        self.output_shape = None
        self.dtype = np.dtype(dtype) if dtype is not None else None
        # Keras lets the first layer of a Sequential say its input shape
        self._declared_input_shape = tuple(input_shape) if input_shape is not None else None

    # ------------------------------------------------------------------ building
    def build(self, input_shape, dtype=None) -> None:
        """Create the weights for inputs of ``input_shape`` (no batch axis). Subclasses call super()."""
        if self.dtype is None:
            self.dtype = np.dtype(dtype if dtype is not None else np.float32)
        self.input_shape = tuple(input_shape) if self.n_inputs == 1 else [tuple(s) for s in input_shape]
        self.output_shape = tuple(self.compute_output_shape(self.input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        """Output shape (no batch axis) for ``input_shape``; identity by default."""
        return tuple(input_shape)

    def add_weight(self, value: np.ndarray, trainable: bool = True, regularizer=None) -> np.ndarray:
        arr = np.ascontiguousarray(value, dtype=self.dtype)
        if regularizer is not None:
            self.regularizers.append((len(self.params), regularizer))
        (self.params if trainable else self.non_trainable).append(arr)
        return arr

    # ------------------------------------------------------------------ calling
    def __call__(self, x, training: bool = False):
        if is_symbolic(x):
            return self._call_symbolic(x)
        if self.n_inputs == 1:
            if isinstance(x, (list, tuple)) and len(x) and isinstance(x[0], np.ndarray):
                raise PetnetError(f"layer {self.name!r} takes one array, got a list of {len(x)}")
            x = as_float(x)
            if not self.built:
                if x.ndim < 2:
                    raise PetnetError(f"layer {self.name!r} needs a batch axis first: got shape {x.shape}; "
                                      "use x[None] for a single sample")
                self.build(x.shape[1:], dtype=x.dtype)
        else:
            if not isinstance(x, (list, tuple)):
                raise PetnetError(f"layer {self.name!r} takes a list of arrays, e.g. {type(self).__name__}()([a, b])")
            x = [as_float(a) for a in x]
            if not self.built:
                self.build([a.shape[1:] for a in x], dtype=x[0].dtype)
        return self.forward(x, training=training)[0]

    def _call_symbolic(self, x):
        if self.n_inputs == 1:
            if not isinstance(x, SymbolicTensor):
                raise PetnetError(f"layer {self.name!r} takes one tensor, got a list of {len(x)}")
            shape = x.shape
            parents = (x,)
        else:
            if isinstance(x, SymbolicTensor):
                raise PetnetError(f"layer {self.name!r} takes a list of tensors, e.g. {type(self).__name__}()([a, b])")
            shape = [t.shape for t in x]
            parents = tuple(x)
        if not self.built:
            self.build(shape, dtype=parents[0].dtype)
        else:
            self.check_shape(shape)
        return SymbolicTensor(self.output_shape, layer=self, parents=parents)

    def check_shape(self, shape) -> None:
        """Raise a clear PetnetError if inputs of ``shape`` (no batch axis) do not fit this built layer."""
        if self.n_inputs == 1 and tuple(shape) != tuple(self.input_shape):
            raise PetnetError(
                f"layer {self.name!r} ({type(self).__name__}) was built for inputs of shape "
                f"{fmt_shape(self.input_shape)} but got {fmt_shape(shape)}")

    def check_input(self, x: np.ndarray) -> None:
        """Shape check at the start of ``forward`` (batch axis free)."""
        if self.n_inputs == 1:
            if x.ndim != len(self.input_shape) + 1 or x.shape[1:] != self.input_shape:
                raise PetnetError(
                    f"layer {self.name!r} ({type(self).__name__}) expects input of shape "
                    f"{fmt_shape(self.input_shape)} but got {x.shape}"
                    + (" -- add the batch axis with x[None]" if x.shape == self.input_shape else ""))

    # ------------------------------------------------------------------ passes
    def forward(self, x, training: bool = False):
        """``(y, cache)``: the output and what ``backward`` needs for this call."""
        self.check_input(x)
        z, cache = self.call(x, training)
        if self.activation is None:
            return z, cache
        a, act_cache = self.activation.forward(z)
        return a, (cache, act_cache)

    def backward(self, cache, dy, need_dx: bool = True):
        """``(dL/dx, [dL/dparam ...])`` of the call that returned ``cache``, given dL/dy."""
        if self.activation is not None:
            cache, act_cache = cache
            dy = self.activation.backward(act_cache, dy)
        return self.backprop(cache, dy, need_dx)

    def call(self, x, training: bool = False):
        """``(z, cache)``: the layer's computation before its activation."""
        raise NotImplementedError

    def backprop(self, cache, dz, need_dx: bool = True):
        """``(dL/dx, grads)`` from dL/dz (the gradient after the activation's backward)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> list[np.ndarray]:
        return self.params + self.non_trainable

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return list(self.params) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return list(self.non_trainable) + ([] if self.trainable else list(self.params))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight array, Keras order (e.g. kernel, bias)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Copy ``weights`` (a list of arrays, get_weights order) into the layer, in place."""
        if not self.built:
            raise PetnetError(f"layer {self.name!r} has no weights yet: call it on data (or build it) first")
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise PetnetError(f"layer {self.name!r} has {len(mine)} weight arrays but {len(weights)} were given")
        for k, (w, new) in enumerate(zip(mine, weights)):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise PetnetError(f"layer {self.name!r}: weight {k} has shape {w.shape} but the given array "
                                  f"has shape {new.shape}")
        for w, new in zip(mine, weights):
            w[...] = new

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self):
        shape = fmt_shape(self.output_shape) if self.built else "unbuilt"
        return f"<{type(self).__name__} {self.name!r} -> {shape}>"
