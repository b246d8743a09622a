"""The talk's neuron (section 3.2.1) with the ``hardlim`` transfer function, learning by the perceptron rule.

One neuron with inputs ``p = (a1 .. an)``, weights ``w``, bias ``b`` and transfer function ``f``::

    n = w . p + b          a = hardlim(n) = 1 if n >= 0 else 0

``hardlim`` has slope 0 almost everywhere, so gradient descent cannot train it. Rosenblatt's
perceptron rule needs no gradient: for each sample with target ``t`` (0 or 1)::

    e = t - a              w <- w + lr * e * p          b <- b + lr * e

A wrong "0" pulls the weights towards ``p``, a wrong "1" pushes them away, a right answer
changes nothing. If a straight line (hyperplane) separates the two classes the rule stops
after finitely many mistakes (the perceptron convergence theorem). If none does -- XOR is the
famous case (Minsky and Papert, 1969) -- it never stops: one neuron cannot learn XOR, which is
why networks have hidden layers.

scikit-learn style: ``Perceptron(learning_rate=1.0, max_iter=100, random_state=0).fit(X, t)``
validates its parameters in ``fit`` and returns the estimator with ``coef_`` (w), ``intercept_``
(b), ``converged_``, ``n_iter_`` (epochs run) and ``errors_``
(mistakes per epoch). ``lr``, ``max_epochs`` and ``seed`` are the old, deprecated names.

:func:`gradient_descent` is the contrast: the same neuron built with the engine
(``Dense(1, activation="hardlim")``) and trained by backpropagation and gradient descent on the
mean squared error. Every gradient is exactly 0 -- the chain rule multiplies by hardlim' -- and the
weights never move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petnet.errors import ParamError, PetnetError
from petnet.nn.activations import hardlim
from petnet.validate import check_int, check_number, renamed

AND = (np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float), np.array([0, 0, 0, 1]))
OR = (AND[0], np.array([0, 1, 1, 1]))
XOR = (AND[0], np.array([0, 1, 1, 0]))


class Perceptron:
    """A single hardlim neuron trained by the perceptron rule (see the module docstring)."""

    def __init__(self, learning_rate: float | None = None, max_iter: int | None = None, shuffle: bool = False,
                 random_state: int | None = None, *, lr: float | None = None, max_epochs: int | None = None,
                 seed: int | None = None):
        self.learning_rate = renamed("lr", "learning_rate", lr, learning_rate, 1.0)
        self.max_iter = renamed("max_epochs", "max_iter", max_epochs, max_iter, 100)
        self.shuffle = shuffle
        self.random_state = renamed("seed", "random_state", seed, random_state, 0)

    @staticmethod
    def _check(X, t=None):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ParamError("inputs", f"must be a 2-D array (samples, features), got shape {X.shape}")
        if t is None:
            return X
        t = np.asarray(t)
        if t.shape != (len(X),):
            raise PetnetError(f"{len(X)} samples but targets of shape {t.shape}; give one 0/1 target per sample")
        if not np.isin(t, (0, 1)).all():
            raise ParamError("targets", "must be 0 or 1 (hardlim's two outputs)")
        return X, t.astype(float)

    def fit(self, X, t) -> "Perceptron":
        """Apply the perceptron rule sample by sample until an epoch has no mistakes (or ``max_iter`` epochs)."""
        lr = check_number("learning_rate", self.learning_rate, min=0, min_exclusive=True)
        max_iter = check_int("max_iter", self.max_iter, min=1, max=100_000)
        if self.random_state is not None:
            check_int("random_state", self.random_state, min=0)
        X, t = self._check(X, t)
        rng = np.random.default_rng(self.random_state)
        w = np.zeros(X.shape[1])
        b = 0.0
        self.errors_ = []
        self.converged_ = False
        for epoch in range(1, max_iter + 1):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            mistakes = 0
            for i in order:
                a = hardlim(w @ X[i] + b)
                e = t[i] - a                      # +1, 0 or -1
                if e != 0:
                    w += lr * e * X[i]
                    b += lr * e
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.coef_, self.intercept_, self.n_iter_ = w, float(b), epoch
        return self

    def net_input(self, X) -> np.ndarray:
        """n = X w + b."""
        return self._check(X) @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """a = hardlim(n), as integers 0/1."""
        return hardlim(self.net_input(X)).astype(int)

    def score(self, X, t) -> float:
        """Fraction classified correctly."""
        X, t = self._check(X, t)
        return float(np.mean(self.predict(X) == t))

    def report(self, X, t, name: str = "data") -> str:
        """One plain sentence: converged or not, weights, accuracy."""
        acc = self.score(X, t)
        w = ", ".join(f"{v:g}" for v in self.coef_)
        if self.converged_:
            return (f"{name}: converged after {self.n_iter_} epochs, w = [{w}], b = {self.intercept_:g}, "
                    f"accuracy {acc:.0%}")
        return (f"{name}: NOT separable by one hardlim neuron -- still {self.errors_[-1]} mistakes in epoch "
                f"{self.n_iter_} (no line separates the classes); accuracy {acc:.0%}")


@dataclass
class GradientDescentTry:
    """What backpropagation and gradient descent did to a hardlim neuron (:func:`gradient_descent`):
    the weights at the start and after, the largest ``|dE/dw|``, ``|dE/db|`` seen at any epoch,
    whether the weights moved, the loss per epoch and the accuracy after."""
    epochs: int
    learning_rate: float
    start_coef: list[float]
    start_intercept: float
    max_gradient: float
    coef: list[float]
    intercept: float
    moved: bool
    loss: list[float]
    accuracy: float

    def report(self, name: str = "data") -> str:
        w = ", ".join(f"{v:.3f}" for v in self.coef)
        return (f"{name}: the largest |dE/dw|, |dE/db| in {self.epochs} epochs is {self.max_gradient:g}; "
                f"w = [{w}], b = {self.intercept:.3f} {'moved' if self.moved else 'never moved'}, "
                f"loss {self.loss[0]:g} -> {self.loss[-1]:g}, accuracy {self.accuracy:.0%}")


def gradient_descent(X, t, *, learning_rate: float = 1.0, max_iter: int = 100,
                     random_state: int = 0) -> GradientDescentTry:
    """The perceptron's neuron ``a = hardlim(w . p + b)`` trained instead by backpropagation: the
    engine's ``Dense(1, activation="hardlim")``, full-batch gradient descent (``learning_rate``,
    ``max_iter`` epochs) on the mean squared error, from w and b drawn from N(0, 1)
    (``random_state``; no sample then sits on the jump n = 0, where hardlim has no derivative).
    Backpropagation multiplies the error by hardlim'(n), which is 0 wherever it exists
    (``Hardlim.backward``), so every gradient is 0 and nothing is learnt: compare :class:`Perceptron`."""
    from petnet.nn.dense import Dense
    from petnet.nn.model import Input, Sequential

    lr = check_number("learning_rate", learning_rate, min=0, min_exclusive=True)
    max_iter = check_int("max_iter", max_iter, min=1, max=100_000)
    random_state = check_int("random_state", random_state, min=0)
    X, t = Perceptron._check(X, t)
    T = t[:, None]
    model = Sequential([Input(shape=(X.shape[1],)), Dense(1, activation="hardlim")], dtype=np.float64)
    model.compile(optimizer="gd", loss="mse", lr=lr)
    rng = np.random.default_rng(random_state)
    start = [rng.standard_normal((X.shape[1], 1)), rng.standard_normal(1)]
    model.set_weights(start)
    biggest, losses = 0.0, []
    for _ in range(max_iter):
        step = model.loss_and_gradients(X, T)
        biggest = max(biggest, *(float(np.abs(g).max()) for g in step.gradients))
        losses.append(float(step.loss))
        model.fit(X, T, epochs=1, batch_size=len(X), shuffle=False, verbose=0)
    kernel, bias = model.get_weights()
    moved = not all(np.array_equal(a, b) for a, b in zip(start, (kernel, bias)))
    accuracy = float(np.mean(model.predict(X)[:, 0] == t))
    return GradientDescentTry(max_iter, lr, start[0][:, 0].tolist(), float(start[1][0]), biggest,
                              kernel[:, 0].tolist(), float(bias[0]), moved, losses, accuracy)
