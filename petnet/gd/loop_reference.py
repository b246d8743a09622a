"""The talk's gradient descent exactly as its Python pseudo-code writes it: per-sample loops.

Kept only as the reference that ``bench/gd_bench.py`` times the vectorised
:class:`~petnet.gd.linear.LinearRegressionGD` against (and that the tests compare it with).
Use ``LinearRegressionGD`` for real work.

Each row of ``data`` starts with the constant feature 1, so ``theta[0]`` is the intercept a0.
One fix to the talk: its loop reads ``previous_loss`` before it is ever set (a ``NameError``
on the first iteration); here it starts as infinity, so the first comparison never stops the loop.
"""

from __future__ import annotations

import math


def train(theta, features):
    """Predicted value: the weighted sum ``sum_j theta[j] * features[j]``."""
    predicted_value = 0
    for i in range(len(theta)):
        predicted_value += theta[i] * features[i]
    return predicted_value


def calculate_loss_gradient(theta, data, labels):
    """The loss ``1/(2N) sum_i error_i^2`` and its gradient ``1/N sum_i error_i * x_ij``."""
    num_samples = len(data)
    num_features = len(theta)
    loss = 0
    gradient = [0] * num_features
    for i in range(num_samples):
        train_value = train(theta, data[i])
        error = train_value - labels[i]
        loss += error ** 2
        for j in range(num_features):
            gradient[j] += error * data[i][j]
    loss /= (2 * num_samples)
    for j in range(num_features):
        gradient[j] /= num_samples
    return gradient, loss


def gradient_descent(data, labels, initial_theta=None, learning_rate=0.01, max_iterations=1000,
                     tolerance=0.0001):
    """The talk's loop. Returns ``(theta, losses, n_iterations)``; ``losses[k]`` is the loss
    at the theta reached after k updates (the loss is computed before each update)."""
    theta = list(initial_theta) if initial_theta is not None else [1.0] * len(data[0])
    previous_loss = math.inf  # the talk's pseudo-code forgets to initialise it
    losses = []
    i = 0
    for i in range(max_iterations):
        gradient, loss = calculate_loss_gradient(theta, data, labels)
        losses.append(loss)
        theta = [theta[j] - learning_rate * gradient[j] for j in range(len(theta))]
        if abs(previous_loss - loss) < tolerance:
            break
        previous_loss = loss
    return theta, losses, i + 1
