"""Optimizers: the talk's "fixes for the flaws of gradient descent", shared by ``petnet.gd`` and ``petnet.nn``.

Every optimizer is a small class with ``step(params, grads)``: ``params`` is a list of NumPy
arrays that are updated **in place**, ``grads`` the list of their gradients (same shapes).
State (velocities, squared-gradient averages) is kept per position in that list, so always
pass the parameters in the same order.

Update rules follow PyTorch's ``torch.optim`` formulas (tests check them step by step):

=========  =====================================================================
GD         theta -= lr * g                                       (plain gradient descent)
Momentum   v = mu * v + g;            theta -= lr * v
Nesterov   v = mu * v + g;            theta -= lr * (g + mu * v)  (look-ahead)
AdaGrad    G += g**2;                 theta -= lr * g / (sqrt(G) + eps)
RMSProp    s = rho * s + (1-rho) g**2; theta -= lr * g / (sqrt(s) + eps)
Adam       m = b1 m + (1-b1) g; v = b2 v + (1-b2) g**2
           theta -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)
=========  =====================================================================

``lr`` may be a number or a schedule (any callable ``t -> lr`` of the 1-based step count),
e.g. :class:`ExponentialDecay` or :class:`StepDecay`.

Full-batch, mini-batch and stochastic gradient descent differ only in how many samples each
step sees: :func:`batches` yields the index sets for one epoch of each variant.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence

import numpy as np

from petnet.errors import PetnetError
from petnet.registry import Registry


# --------------------------------------------------------------------------- schedules
class ExponentialDecay:
    """lr_t = lr0 * rate ** (t / decay_steps)."""

    def __init__(self, lr0: float, decay_steps: int = 100, rate: float = 0.96):
        self.lr0, self.decay_steps, self.rate = float(lr0), int(decay_steps), float(rate)

    def __call__(self, t: int) -> float:
        return self.lr0 * self.rate ** (t / self.decay_steps)

    def __repr__(self):
        return f"ExponentialDecay(lr0={self.lr0}, decay_steps={self.decay_steps}, rate={self.rate})"


class StepDecay:
    """lr_t = lr0 * factor ** floor(t / every): drop the rate by ``factor`` every ``every`` steps."""

    def __init__(self, lr0: float, every: int = 1000, factor: float = 0.5):
        self.lr0, self.every, self.factor = float(lr0), int(every), float(factor)

    def __call__(self, t: int) -> float:
        return self.lr0 * self.factor ** ((t - 1) // self.every)

    def __repr__(self):
        return f"StepDecay(lr0={self.lr0}, every={self.every}, factor={self.factor})"


# --------------------------------------------------------------------------- optimizers
class Optimizer:
    """Base class: keeps the step count ``t`` and the learning rate (number or schedule)."""

    name = "optimizer"

    def __init__(self, lr: float | Callable[[int], float] = 0.01):
        if not callable(lr):
            lr = float(lr)
            if not math.isfinite(lr) or lr <= 0:
                raise PetnetError(f"learning rate must be a positive number, got {lr!r}")
        self.lr = lr
        self.t = 0
        self.state: list[dict] = []

    @property
    def current_lr(self) -> float:
        """The learning rate of the most recent step (or of the next one before any step)."""
        return float(self.lr(max(self.t, 1))) if callable(self.lr) else self.lr

    def reset(self) -> None:
        """Forget all state, as if freshly created."""
        self.t = 0
        self.state = []

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Update every array of ``params`` in place from its gradient in ``grads``."""
        if len(params) != len(grads):
            raise PetnetError(f"{len(params)} parameters but {len(grads)} gradients")
        if not self.state:
            self.state = [{} for _ in params]
        elif len(self.state) != len(params):
            raise PetnetError("the optimizer was used with a different parameter list; "
                              "create a new optimizer (or call reset()) for a new model")
        self.t += 1
        lr = self.current_lr
        for p, g, s in zip(params, grads, self.state):
            if p.shape != np.shape(g):
                raise PetnetError(f"gradient of shape {np.shape(g)} for a parameter of shape {p.shape}")
            self._update(p, np.asarray(g, dtype=p.dtype), s, lr)

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict, lr: float) -> None:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class GD(Optimizer):
    """Plain (batch) gradient descent: theta <- theta - lr * g."""

    name = "gd"

    def _update(self, p, g, s, lr):
        p -= lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum (heavy ball): keeps rolling through flat parts and small dips."""

    name = "momentum"

    def __init__(self, lr=0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = float(momentum)

    def _update(self, p, g, s, lr):
        v = s.get("v")
        v = g.copy() if v is None else self.momentum * v + g
        s["v"] = v
        p -= lr * v


class Nesterov(Momentum):
    """Nesterov accelerated gradient: momentum that looks ahead before it steps."""

    name = "nesterov"

    def _update(self, p, g, s, lr):
        v = s.get("v")
        v = g.copy() if v is None else self.momentum * v + g
        s["v"] = v
        p -= lr * (g + self.momentum * v)


class AdaGrad(Optimizer):
    """AdaGrad: each parameter's step shrinks with the sum of its squared gradients."""

    name = "adagrad"

    def __init__(self, lr=0.01, eps: float = 1e-10):
        super().__init__(lr)
        self.eps = float(eps)

    def _update(self, p, g, s, lr):
        G = s.setdefault("G", np.zeros_like(p))
        G += g * g
        p -= lr * g / (np.sqrt(G) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: like AdaGrad, but a moving average, so steps do not shrink to nothing."""

    name = "rmsprop"

    def __init__(self, lr=0.001, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def _update(self, p, g, s, lr):
        sq = s.setdefault("s", np.zeros_like(p))
        sq *= self.rho
        sq += (1.0 - self.rho) * g * g
        p -= lr * g / (np.sqrt(sq) + self.eps)


class Adam(Optimizer):
    """Adam: momentum plus RMSProp, with bias correction of both moving averages."""

    name = "adam"

    def __init__(self, lr=0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, p, g, s, lr):
        # the formulas above, in place: no new array per step (the two scratch arrays are kept in the
        # state), each operation the same as ``p -= lr * m_hat / (np.sqrt(v_hat) + eps)`` written out,
        # so the result is the same to the last bit (tests/test_optim.py)
        if "m" not in s:
            s.update(m=np.zeros_like(p), v=np.zeros_like(p), a=np.empty_like(p), b=np.empty_like(p))
        m, v, a, b = s["m"], s["v"], s["a"], s["b"]
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=a)
        m += a
        v *= self.beta2
        np.multiply(g, 1.0 - self.beta2, out=a)
        a *= g
        v += a
        np.divide(m, 1.0 - self.beta1 ** self.t, out=a)     # m_hat
        a *= lr                                              # lr * m_hat
        np.divide(v, 1.0 - self.beta2 ** self.t, out=b)     # v_hat
        np.sqrt(b, out=b)
        b += self.eps
        a /= b
        p -= a


#: the one list of optimizer names (``choices=`` of every command that takes ``--optimizer``);
#: ``sgd`` is accepted as another name of ``gd``
OPTIMIZERS = Registry("optimizer")
for _cls in (GD, Momentum, Nesterov, AdaGrad, RMSProp, Adam):
    OPTIMIZERS.register(_cls.name, _cls, aliases=("sgd",) if _cls is GD else ())


def get(optimizer: str | Optimizer, param: str = "optimizer", **kwargs) -> Optimizer:
    """An optimizer from its name (``'gd'`` or ``'sgd'``, ``'momentum'``, ``'nesterov'``, ``'adagrad'``,
    ``'rmsprop'``, ``'adam'``) with keyword arguments such as ``lr``; an instance is returned as is.
    ``param`` names the caller's parameter in the error for an unknown name."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    return OPTIMIZERS.get(optimizer, param=param)(**kwargs)


# --------------------------------------------------------------------------- batching
def batches(n_samples: int, batch_size: int | None = None, *, shuffle: bool = True,
            rng: np.random.Generator | int | None = None) -> Iterator[np.ndarray]:
    """Index arrays covering one epoch of ``n_samples`` samples.

    ``batch_size=None`` (or >= n_samples) gives full-batch gradient descent (one step per epoch),
    ``batch_size=1`` stochastic gradient descent, anything between mini-batch gradient descent.
    The last batch may be smaller.
    """
    if n_samples <= 0:
        raise PetnetError("no samples to make batches from")
    if batch_size is None or batch_size >= n_samples:
        yield np.arange(n_samples)
        return
    if batch_size < 1:
        raise PetnetError(f"batch size must be at least 1, got {batch_size}")
    order = np.arange(n_samples)
    if shuffle:
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        order = rng.permutation(n_samples)
    for start in range(0, n_samples, batch_size):
        yield order[start:start + batch_size]
