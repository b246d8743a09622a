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
"""

from __future__ import annotations

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
