"""Linear regression by gradient descent: the talk's house-price fit, vectorised.

Model (one variable):  price = a0 + a1 * area;  many variables: y = theta . [1, x1, x2, ...].
Loss (the talk's MSE/2):

    Loss(theta) = 1/(2N) * sum_i (theta . x_i - y_i)^2
    dLoss/dtheta_j = 1/N * sum_i (theta . x_i - y_i) * x_ij        i.e.  grad = X^T (X theta - y) / N

Each iteration moves theta a small step against the gradient (``theta -= lr * grad`` for plain
gradient descent; the other optimizers of :mod:`petnet.optim` change how the step is made).
Like the talk, the fit starts from a0 = a1 = 1 (theta all ones, in the original units) and stops when

    |previous_loss - loss| < tol

(the talk's pseudo-code reads ``previous_loss`` before it is ever set; here it is the loss of the
previous iteration, starting with the loss of the initial theta), or after ``max_iter``
iterations -- then ``converged_`` is False and a :class:`ConvergenceWarning` says so plainly.
A learning rate that is too large makes the loss grow instead: the fit stops with a
:class:`~petnet.gd.errors.DivergenceError` naming the learning rate, never with NaN coefficients;
a learning rate too small to change the loss at all is a :class:`~petnet.errors.ParamError`
(the stop rule alone would call that "converged").

With ``scale=True`` (the default) the optimizer works on standardised features *and* target
(see :mod:`petnet.gd.scaling`); ``coef_``, ``intercept_``, ``loss_curve_`` and ``path_`` are always
reported in the original units (the loss in original units is exactly ``std(y)^2`` times the
standardised loss, so the tolerance means the same thing either way).

``loss=`` fits with another loss of :mod:`petnet.gd.losses` (absolute, Huber, ... or a margin loss
for -1/+1 labels); MSE/2 keeps the closed form above.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from petnet import optim
from petnet.errors import ParamError, PetnetError
from petnet.gd import losses
from petnet.gd.data import check_xy
from petnet.gd.errors import DivergenceError
from petnet.gd.polynomial import power_features, power_names, to_original_units
from petnet.gd.scaling import StandardScaler
from petnet.validate import check_choice, check_int, check_number, renamed

# Learning rates that work on standardised house prices (see docs/gd.md and bench/gd_bench.py), per
# optimizer of the registry :data:`petnet.optim.OPTIMIZERS` (in the talk's order; an optimizer
# missing here gets :data:`FALLBACK_LR`). RMSProp with a constant rate ends in a limit cycle (its step
# is ~lr whatever the gradient), so its default halves the rate every 200 steps.
DEFAULT_LR = {"gd": 0.5, "momentum": 0.1, "nesterov": 0.1,
              "adagrad": 0.5, "rmsprop": optim.StepDecay(0.01, every=200, factor=0.5), "adam": 0.05}
FALLBACK_LR = 0.01

#: upper bounds of the parameters that set how much work a fit does
MAX_ITER = 1_000_000
MAX_DEGREE = 10


def canonical_name(optimizer: str) -> str:
    """The registered name of an optimizer name or alias (``'sgd'`` -> ``'gd'``)."""
    check_choice("optimizer", optimizer, optim.OPTIMIZERS)
    return optim.OPTIMIZERS.get(optimizer).name


def default_learning_rate(optimizer: str):
    """The default learning rate (number or schedule) of an optimizer name on standardised data."""
    return DEFAULT_LR.get(canonical_name(optimizer), FALLBACK_LR)


def talk_order(names) -> list[str]:
    """Optimizer names in the talk's order (GD, momentum, ..., Adam), any others after them."""
    order = list(DEFAULT_LR)
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


#: a fit stopped by the ``tol`` rule "stalled" (not converged) when a learning-rate schedule had
#: shrunk the rate below this fraction of its first value and the gradient was still above
#: :data:`STALLED_GRADIENT_FRACTION` of its size at the start
STALLED_LR_FRACTION = 1e-6
STALLED_GRADIENT_FRACTION = 1e-2


class ConvergenceWarning(UserWarning):
    """The fit stopped at ``max_iter`` before the loss change fell below ``tol``."""


class LinearRegressionGD:
    """Least-squares linear (or polynomial) regression fitted by gradient descent.

    Parameters (checked in :meth:`fit`; a bad value is a :class:`~petnet.errors.ParamError` naming it)
    ----------
    optimizer : a name of the registry :data:`petnet.optim.OPTIMIZERS` (``'sgd'`` is ``'gd'``) or an
        ``Optimizer`` instance (then ``learning_rate`` is ignored).
    learning_rate : alpha (number > 0 or schedule ``t -> lr``); default per optimizer, :data:`DEFAULT_LR`.
        ``lr=`` is its deprecated old name.
    max_iter : at most this many iterations (epochs when ``batch_size`` is set), 1 ... :data:`MAX_ITER`.
    tol : stop when ``|previous_loss - loss| < tol`` (loss in original units, MSE/2).
    batch_size : None = full-batch gradient descent; 1 = stochastic; k = mini-batch of k samples.
    scale : standardise features and target for the optimizer (coefficients reported in original units).
    degree : polynomial degree of every feature (1 = straight line, 2+ = the talk's curve fit).
    divergence_factor : the fit counts as diverged when the loss exceeds this many times the larger of
        the initial loss and the loss of predicting 0 (or becomes inf/NaN).
    random_state : seed (>= 0) of the sample order for mini-batch/stochastic gradient descent.
    optimizer_options : extra keyword arguments of the optimizer, e.g. ``{"momentum": 0.8}``.
    record_path : keep ``path_``, the parameters after every iteration (for the contour plot).
    feature_names : names of the columns of ``X`` (default ``x1, x2, ...``).
    n_iter_no_change : stop only after this many *consecutive* iterations with a loss change below
        ``tol``. 1 is the talk's rule. Momentum methods make the loss curve wiggle, and at the top or
        bottom of a wiggle one loss change can be tiny by chance; a few (e.g. 5) avoid that false stop.
    loss : a name of :data:`petnet.gd.losses.LOSSES` or a :class:`~petnet.gd.losses.Loss`
        (e.g. ``losses.Huber(delta=50_000)``, delta in the unit of ``y``). Default ``'half_mse'``, the
        talk's MSE/2. Regression losses (``half_mse``, ``mse``, ``squared``, ``absolute``, ``huber``) fit
        real targets; margin losses (``log``, ``hinge``, ``perceptron``, ``exponential``) fit labels -1/+1
        with the linear score (a linear classifier). ``tol`` and ``loss_curve_`` are in that loss.

    Learned attributes: ``coef_``, ``intercept_``, ``n_iter_``, ``loss_curve_`` (loss before the first
    step and after every iteration, so ``n_iter_ + 1`` values), ``converged_``, ``path_``
    (``[a0, a1, ...]`` per entry of ``loss_curve_``), ``feature_names_out_``, ``optimizer_``,
    ``learning_rate_`` (the rate or schedule used), ``loss_`` (the loss function fitted).
    """

    def __init__(self, optimizer="gd", *, learning_rate=None, max_iter: int = 10_000, tol: float = 1e-4,
                 batch_size: int | None = None, scale: bool = True, degree: int = 1,
                 divergence_factor: float = 1e4, random_state: int | None = 0,
                 optimizer_options: dict | None = None, record_path: bool = True,
                 feature_names: list[str] | None = None, n_iter_no_change: int = 1,
                 loss="half_mse", lr=None):
        self.optimizer = optimizer
        self.learning_rate = renamed("lr", "learning_rate", lr, learning_rate, None)
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.scale = scale
        self.degree = degree
        self.divergence_factor = divergence_factor
        self.random_state = random_state
        self.optimizer_options = optimizer_options
        self.record_path = record_path
        self.feature_names = feature_names
        self.n_iter_no_change = n_iter_no_change
        self.loss = loss

    # ------------------------------------------------------------------ setup
    def _check_params(self) -> None:
        if not isinstance(self.optimizer, optim.Optimizer):
            check_choice("optimizer", self.optimizer, optim.OPTIMIZERS)
            if self.learning_rate is not None and not callable(self.learning_rate):
                check_number("learning_rate", self.learning_rate, min=0, min_exclusive=True)
        check_int("max_iter", self.max_iter, min=1, max=MAX_ITER)
        check_number("tol", self.tol, min=0)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, min=1)
        if not isinstance(self.scale, (bool, np.bool_)):
            raise ParamError("scale", f"must be True or False, got {self.scale!r}")
        check_int("degree", self.degree, min=1, max=MAX_DEGREE)
        check_number("divergence_factor", self.divergence_factor, min=1)
        if self.random_state is not None:
            check_int("random_state", self.random_state, min=0)
        if self.optimizer_options is not None and not isinstance(self.optimizer_options, dict):
            raise ParamError("optimizer_options", f"must be a dict of keyword arguments, got "
                                                  f"{self.optimizer_options!r}")
        check_int("n_iter_no_change", self.n_iter_no_change, min=1)

    def _loss_function(self, y):
        """The loss to fit (a :class:`~petnet.gd.losses.Loss`), checked against what a linear score
        can fit and against the labels ``y``."""
        if not isinstance(self.loss, losses.Loss):
            check_choice("loss", self.loss, losses.LOSSES)
        loss = losses.get(self.loss)
        if loss.name == "zero_one":
            raise ParamError("loss", "'zero_one' cannot be fitted by gradient descent: its gradient is 0 "
                                     "almost everywhere (it is a step); use 'hinge', 'log' or 'perceptron'")
        if loss.kind == "probability":
            raise ParamError("loss", f"{loss.name!r} compares probabilities, which a linear score is not; "
                                     "use 'log' (the same loss on a score: logistic regression)")
        if loss.kind == "margin" and not np.isin(y, (-1.0, 1.0)).all():
            bad = y[~np.isin(y, (-1.0, 1.0))][0]
            raise PetnetError(f"loss {loss.name!r} needs labels y of -1 or +1 (found {bad:g}); "
                              "use a regression loss such as 'half_mse' for real-valued targets")
        return loss

    def _make_optimizer(self):
        if isinstance(self.optimizer, optim.Optimizer):
            opt = self.optimizer
            opt.reset()
            return opt
        lr = self.learning_rate if self.learning_rate is not None else default_learning_rate(self.optimizer)
        try:
            return optim.get(self.optimizer, lr=lr, **dict(self.optimizer_options or {}))
        except TypeError as exc:  # an option the optimizer does not have
            raise ParamError("optimizer_options", f"do not fit optimizer {self.optimizer!r}: {exc}") from None

    def _design(self, X, y, names, scale_target=True):
        """Working design matrix A = [1, features], working target t, and the map back to original units
        (labels -1/+1 of a margin loss are not scaled: ``scale_target=False``)."""
        d = int(self.degree)
        if d > 1:
            for j, name in enumerate(names):
                k = len(np.unique(X[:, j]))
                if k <= d:
                    raise PetnetError(f"feature {name!r} has only {k} distinct value(s), so a polynomial of "
                                      f"degree {d} in it is not unique; use a degree below {k}")
        n = X.shape[0]
        if not self.scale:
            P = power_features(X, d)
            A = np.column_stack([np.ones(n), P])

            def to_original(theta):
                return np.asarray(theta, dtype=np.float64).copy()

            return A, y, 1.0, to_original

        xs = StandardScaler(names).fit(X)
        P = power_features(xs.transform(X), d)
        if d > 1:
            ps = StandardScaler(power_names(names, d)).fit(P)
            P = ps.transform(P)
            p_mean, p_scale = ps.mean_, ps.scale_
        else:  # z is already standardised
            p_mean, p_scale = np.zeros(P.shape[1]), np.ones(P.shape[1])
        y_mean, y_std = (float(y.mean()), float(y.std())) if scale_target else (0.0, 1.0)
        if not y_std > 0:
            y_std = 1.0  # constant target: nothing to scale
        A = np.column_stack([np.ones(n), P])
        t = (y - y_mean) / y_std

        def to_original(theta):
            theta = np.asarray(theta, dtype=np.float64)
            w = y_std * theta[1:] / p_scale           # coefficients of z_j^k
            out = np.empty_like(theta)
            const = y_mean + y_std * theta[0] - np.sum(w * p_mean)
            for j in range(X.shape[1]):
                pj = to_original_units(np.r_[0.0, w[j * d:(j + 1) * d]], xs.mean_[j], xs.scale_[j])
                const += pj[0]
                out[1 + j * d:1 + (j + 1) * d] = pj[1:]
            out[0] = const
            return out

        return A, t, y_std, to_original

    # ------------------------------------------------------------------ fit
    def fit(self, X, y) -> "LinearRegressionGD":
        """Fit theta by gradient descent from theta = 1 (a0 = a1 = 1 in original units; the x^2, x^3, ...
        terms of a curve start at 0). Returns self."""
        self._check_params()
        degree = int(self.degree)
        X, y = check_xy(X, y)
        n, p = X.shape
        names = [str(f) for f in self.feature_names] if self.feature_names else [f"x{j + 1}" for j in range(p)]
        if len(names) != p:
            raise ParamError("feature_names", f"has {len(names)} names for {p} feature columns of X")
        lossfn = self._loss_function(y)
        A, t, y_std, to_original = self._design(X, y, names, scale_target=lossfn.kind == "regression")
        m = A.shape[1]

        # the affine map  original = T @ theta + t0  (for the start point and the recorded path)
        t0 = to_original(np.zeros(m))
        T = np.column_stack([to_original(e) - t0 for e in np.eye(m)])
        # the talk's start a0 = a1 = ... = 1; the extra terms of a curve (x^2, x^3, ...) start at 0,
        # so a curve fit starts from the talk's line
        start = np.r_[1.0, [1.0 if k == 1 else 0.0 for _ in range(p) for k in range(1, degree + 1)]]
        if lossfn.kind == "margin":   # a classifier starts undecided, every score 0
            start = np.zeros(m)
        theta = np.linalg.solve(T, start - t0) if self.scale else start

        opt = self._make_optimizer()
        rng = np.random.default_rng(self.random_state)
        full = self.batch_size is None or self.batch_size >= n
        half_mse = type(lossfn) is losses.HalfMSE      # the talk's loss, in its closed form
        unit = y_std ** lossfn.degree                   # loss in original units = unit * working loss
        working = lossfn.rescaled(y_std)                # the same loss on the working target t

        def evaluate(theta):
            """Loss in original units and the full-batch gradient of the working loss at theta."""
            f = A @ theta
            if half_mse:
                r = f - t
                return unit * 0.5 * float(r @ r) / n, A.T @ r / n
            return unit * working.value(t, f), A.T @ working.gradient(t, f)

        def batch_gradient(idx, theta):
            Ab = A[idx]
            if half_mse:
                return Ab.T @ (Ab @ theta - t[idx]) / len(idx)
            return Ab.T @ working.gradient(t[idx], Ab @ theta)

        # overflow (a diverging fit, exp of a large margin) shows up as a non-finite loss, checked below
        with np.errstate(over="ignore", invalid="ignore"):
            loss, g = evaluate(theta)
            g0 = g   # to tell a fit that never moved from one that converged
            losses_, thetas = [loss], [theta.copy()]
            zero = 0.5 * float(np.mean(y ** 2)) if half_mse else lossfn.value(y, np.zeros_like(y))
            if not math.isfinite(loss):
                raise PetnetError(f"the loss {lossfn.name!r} is not finite at the start point; "
                                  "scale the features or choose another loss")
            limit = self.divergence_factor * max(loss, zero)
            converged = False
            it = quiet = 0
            for it in range(1, self.max_iter + 1):
                if full:
                    opt.step([theta], [g])
                else:
                    for idx in optim.batches(n, self.batch_size, rng=rng):
                        opt.step([theta], [batch_gradient(idx, theta)])
                previous_loss, (loss, g) = loss, evaluate(theta)
                losses_.append(loss)
                if self.record_path:
                    thetas.append(theta.copy())
                if not (math.isfinite(loss) and loss <= limit and np.isfinite(theta).all()):
                    self._diverged(losses_, it, opt, A if half_mse else None)
                quiet = quiet + 1 if abs(previous_loss - loss) < self.tol else 0
                if quiet >= self.n_iter_no_change:
                    converged = True
                    break
        if converged and all(v == losses_[0] for v in losses_) and np.any(g0):
            self._did_not_move(opt, it)
        if converged and callable(opt.lr) and lossfn.smooth:
            self._check_not_decayed_away(opt, it, g0, g)

        out = to_original(theta)
        self.intercept_ = float(out[0])
        self.coef_ = out[1:]
        self.n_iter_ = it
        self.loss_curve_ = np.asarray(losses_)
        self.converged_ = converged
        self.path_ = np.asarray(thetas) @ T.T + t0 if self.record_path else None
        if self.record_path:
            self.path_[-1] = out
        self.feature_names_out_ = power_names(names, degree)
        self.optimizer_ = opt
        self.learning_rate_ = opt.lr
        self.loss_ = lossfn
        if not converged:
            warnings.warn(
                f"did not converge: after max_iter={self.max_iter} iterations the loss still changed by "
                f"{abs(losses_[-2] - losses_[-1]):.3g} per iteration (tol={self.tol:g}); raise max_iter, "
                f"adjust the learning rate (now {opt.lr}) or scale the features",
                ConvergenceWarning, stacklevel=2)
        return self

    def _diverged(self, losses, it, opt, A):
        lr = opt.lr
        smaller = f" (e.g. {lr / 10:g})" if isinstance(lr, float) else ""
        if A is not None and opt.name == "gd" and isinstance(lr, float):
            # plain GD on MSE/2 is stable only for lr < 2 / (largest eigenvalue of A^T A / N)
            with np.errstate(all="ignore"):
                H = A.T @ A / A.shape[0]
            if np.isfinite(H).all():
                lam = float(np.linalg.eigvalsh(H)[-1])
                smaller = f" (plain gradient descent is stable only below 2/lambda_max = {2 / lam:.3g} here)"
        raise DivergenceError(
            f"gradient descent diverged: with learning rate {lr} ({opt.name}) the loss grew from "
            f"{losses[0]:.4g} to {losses[-1]:.4g} after {it} iteration(s); use a smaller learning "
            f"rate{smaller}", "" if self.scale else " or scale the features ({scale})")

    def _check_not_decayed_away(self, opt, it, g0, g):
        """The stop rule fired because a schedule shrank the learning rate to almost nothing while
        the gradient was still large (e.g. an exponential decay with a rate of 1e-320): the loss
        stopped changing, but the fit stalled on the way instead of reaching the minimum. Only for
        a smooth loss, whose gradient shrinks towards the minimum (a subgradient method on the
        absolute loss needs a vanishing rate and keeps a large subgradient)."""
        lr0, lr = float(getattr(opt.lr, "lr0", opt.lr(1))), opt.current_lr
        g0n, gn = float(np.linalg.norm(g0)), float(np.linalg.norm(g))
        if lr < STALLED_LR_FRACTION * lr0 and gn > STALLED_GRADIENT_FRACTION * g0n:
            raise ParamError(
                "learning_rate", f"decayed away: the schedule {opt.lr} brought it from {lr0:g} down to "
                f"{lr:.3g} in {it} iteration(s), so the loss stopped changing while the gradient was "
                f"still {100 * gn / g0n:.0f}% of its size at the start; the fit stalled on the way "
                "instead of converging. Use a slower decay (a rate closer to 1, or more decay steps)")

    def _did_not_move(self, opt, it):
        """The stop rule fired although the loss never changed at all and the gradient is not zero:
        the steps are below the rounding level of the coefficients or of the loss (e.g. a learning
        rate of 1e-320), so the fit "converged" where it started."""
        raise ParamError(
            "learning_rate", f"is too small: with {opt.lr} ({opt.name}) no step changed the loss at all "
            f"in {it} iteration(s) (the coefficients did not move, or by less than the loss's rounding "
            "level), so the fit stopped where it started without learning anything; use a larger "
            "learning rate"
            + (f" (the default for {opt.name} is {DEFAULT_LR[opt.name]})"
               if self.scale and opt.name in DEFAULT_LR else ""))

    # ------------------------------------------------------------------ use
    def predict(self, X) -> np.ndarray:
        """Predicted targets ``intercept_ + features(X) @ coef_`` (original units)."""
        if not hasattr(self, "coef_"):
            raise PetnetError("this model is not fitted yet; call fit(X, y) first")
        X, _ = check_xy(X, np.zeros(np.shape(X)[0] if np.ndim(X) else 0))
        p = len(self.coef_) // int(self.degree)
        if X.shape[1] != p:
            raise PetnetError(f"the model was fitted on {p} feature(s) but X has {X.shape[1]} column(s)")
        return self.intercept_ + power_features(X, self.degree) @ self.coef_

    def loss_on(self, X, y) -> float:
        """The fitted loss (``loss_``, by default the talk's MSE/2) of the model on (X, y)."""
        X, y = check_xy(X, y)
        return self.loss_.value(y, self.predict(X))

    def __repr__(self):
        return (f"LinearRegressionGD(optimizer={self.optimizer!r}, learning_rate={self.learning_rate}, "
                f"max_iter={self.max_iter}, "
                f"tol={self.tol}, batch_size={self.batch_size}, scale={self.scale}, degree={self.degree})")
