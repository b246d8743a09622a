"""Backpropagation by hand: the talk's section 4.2, every number printed.

The network of section 4.2.1 has one input ``x`` and three single-neuron layers::

    x --w1,b1--> Y1 --w2,b2--> Y2 --w3,b3--> Y3        E = (Y3 - t)**2 / 2

    z1 = w1 * x  + b1,   Y1 = f(z1)
    z2 = w2 * Y1 + b2,   Y2 = f(z2)
    z3 = w3 * Y2 + b3,   Y3 = f(z3)

The chain rule, walked backwards from the loss (sections 4.2.2-4.2.3), gives the **local
gradients** ``d_i = dE/dz_i`` -- each one the previous one times a weight and the activation's
slope::

    d3 = (Y3 - t) * f'(z3)
    d2 = d3 * w3  * f'(z2)
    d1 = d2 * w2  * f'(z1)

and from them the **parameter gradients** -- the local gradient times the layer's input::

    dE/dw3 = d3 * Y2     dE/db3 = d3
    dE/dw2 = d2 * Y1     dE/db2 = d2
    dE/dw1 = d1 * x      dE/db1 = d1

Gradient descent (section 4.2.4) then steps ``w <- w - alpha * dE/dw`` (``petnet.optim``).

With ``f = purelin`` (the identity, f' = 1) the local gradients are exactly the talk's
``d3 = Y3 - t``, ``d2 = (Y3 - t) w3``, ``d1 = (Y3 - t) w3 w2``: "each layer multiplies the
error by its weight".

Section 4.2.5 widens the first layer: a 4x4 input matrix ``X`` feeds 5 neurons,
``z1_j = sum_{r,c} w1[r, c, j] X[r, c] + b1_j``; then ``dE/dw1[r, c, j] = d1_j * X[r, c]``,
4 x 4 x 5 = 80 weight gradients. :func:`matrix_example` computes them (here Y1 feeds a
one-neuron Y2 with weights w2 of shape (5,), then Y3, as in the 3-layer network).

Pure NumPy, float64; no autograd. The tests check every number against central differences
and PyTorch autograd.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import numpy as np

from petnet import optim
from petnet.errors import ParamError
from petnet.validate import check_int, check_number


# --------------------------------------------------------------------------- activations
def worked_activations() -> list[str]:
    """The names of the engine's activations (``petnet.nn.activations.ACTIVATIONS``) whose
    derivative has a formula, the talk's logsig/tansig/purelin among them: the worked example's
    choices."""
    from petnet.nn.activations import ACTIVATIONS
    return [n for n in ACTIVATIONS.names() if ACTIVATIONS.get(n).derivative]


def _activation(name: str):
    """``(f, f_prime, formula)`` of an activation name, from the engine's one registry."""
    from petnet.nn.activations import ACTIVATIONS
    act = ACTIVATIONS.get(name, param="activation")()
    if act.not_trainable:
        raise ParamError("activation", f"{name!r} {act.not_trainable}; choose one of: "
                         f"{', '.join(worked_activations())}")
    if not act.derivative:
        raise ParamError("activation", f"{name!r} has no derivative to work with by hand; choose one of: "
                         f"{', '.join(worked_activations())}")

    def f(z):
        return act(np.asarray(z, dtype=float))

    def f_prime(z):
        z = np.asarray(z, dtype=float)
        return act.backward(act.forward(z)[1], np.ones_like(z))

    return f, f_prime, act.derivative


# --------------------------------------------------------------------------- 3-layer network
DEFAULT = {"x": 1.0, "t": 0.9, "w": (0.5, -0.4, 0.8), "b": (0.1, 0.2, -0.3)}


def forward(params: dict, x: float, t: float, act: str = "sigmoid") -> dict:
    """Forward pass: ``z_i``, ``Y_i`` and the loss ``E = (Y3 - t)^2 / 2``."""
    f, _, _ = _activation(act)
    out = {"x": float(x), "t": float(t)}
    y = float(x)
    for i in (1, 2, 3):
        z = params[f"w{i}"] * y + params[f"b{i}"]
        y = float(f(z))
        out[f"z{i}"], out[f"Y{i}"] = float(z), y
    out["E"] = (out["Y3"] - t) ** 2 / 2.0
    return out


def backward(params: dict, fw: dict, act: str = "sigmoid") -> dict:
    """Local gradients ``d3, d2, d1`` and parameter gradients ``dE/dw_i = d_i * input_i``, ``dE/db_i = d_i``."""
    _, fp, _ = _activation(act)
    d3 = (fw["Y3"] - fw["t"]) * float(fp(fw["z3"]))
    d2 = d3 * params["w3"] * float(fp(fw["z2"]))
    d1 = d2 * params["w2"] * float(fp(fw["z1"]))
    inputs = {1: fw["x"], 2: fw["Y1"], 3: fw["Y2"]}
    d = {1: d1, 2: d2, 3: d3}
    grads = {"d3": d3, "d2": d2, "d1": d1}
    for i in (3, 2, 1):
        grads[f"dE/dw{i}"] = d[i] * inputs[i]
        grads[f"dE/db{i}"] = d[i]
    return grads


def make_params(w=DEFAULT["w"], b=DEFAULT["b"]) -> dict:
    """``{'w1': .., 'b1': .., ...}`` from three weights and three biases."""
    if len(w) != 3:
        raise ParamError("w", f"must be 3 weights (w1, w2, w3), got {len(w)}")
    if len(b) != 3:
        raise ParamError("b", f"must be 3 biases (b1, b2, b3), got {len(b)}")
    p = {}
    for i in range(3):
        p[f"w{i + 1}"], p[f"b{i + 1}"] = float(w[i]), float(b[i])
    return p


def numerical_gradients(params: dict, x: float, t: float, act: str = "sigmoid", h: float = 1e-6) -> dict:
    """Central differences ``(E(p + h) - E(p - h)) / 2h`` for every parameter (and for the
    local gradients, perturbing ``z_i`` itself): an independent check of :func:`backward`."""
    num = {}
    for name in ("w1", "b1", "w2", "b2", "w3", "b3"):
        hi, lo = dict(params), dict(params)
        hi[name] += h
        lo[name] -= h
        num[f"dE/d{name}"] = (forward(hi, x, t, act)["E"] - forward(lo, x, t, act)["E"]) / (2 * h)
    # d_i = dE/dz_i: adding h to z_i is the same as adding h to b_i
    for i in (1, 2, 3):
        num[f"d{i}"] = num[f"dE/db{i}"]
    return num


def descend(params: dict, x: float, t: float, act: str = "sigmoid", *, steps: int = 10,
            lr: float = 1.0, optimizer: str = "gd") -> tuple[dict, list[dict]]:
    """``steps`` gradient-descent updates with ``petnet.optim``; returns the new parameters and
    the history ``[{'step': k, 'E': .., 'Y3': ..}, ...]`` (step 0 = before any update)."""
    names = ["w1", "b1", "w2", "b2", "w3", "b3"]
    theta = [np.array([params[n]], dtype=np.float64) for n in names]
    opt = optim.get(optimizer, lr=lr)
    history = []
    for k in range(steps + 1):
        p = {n: float(v[0]) for n, v in zip(names, theta)}
        fw = forward(p, x, t, act)
        history.append({"step": k, "E": fw["E"], "Y3": fw["Y3"]})
        if k == steps:
            break
        g = backward(p, fw, act)
        opt.step(theta, [np.array([g[f"dE/d{n}"]]) for n in names])
    return {n: float(v[0]) for n, v in zip(names, theta)}, history


# --------------------------------------------------------------------------- section 4.2.5
def matrix_params(seed: int = 0) -> dict:
    """Random small weights for the 4x4 -> 5 -> 1 -> 1 network of section 4.2.5."""
    rng = np.random.default_rng(seed)
    return {"X": rng.uniform(0, 1, (4, 4)), "w1": rng.normal(0, 0.5, (4, 4, 5)), "b1": rng.normal(0, 0.1, 5),
            "w2": rng.normal(0, 0.5, 5), "b2": float(rng.normal(0, 0.1)),
            "w3": float(rng.normal(0, 0.5)), "b3": float(rng.normal(0, 0.1))}


def matrix_forward(p: dict, t: float, act: str = "sigmoid") -> dict:
    """``z1_j = sum_rc w1[r,c,j] X[r,c] + b1_j`` (5 neurons), then Y2, Y3 and E."""
    f, _, _ = _activation(act)
    z1 = np.einsum("rc,rcj->j", p["X"], p["w1"]) + p["b1"]
    y1 = f(z1)
    z2 = float(p["w2"] @ y1 + p["b2"])
    y2 = float(f(z2))
    z3 = p["w3"] * y2 + p["b3"]
    y3 = float(f(z3))
    return {"z1": z1, "Y1": y1, "z2": z2, "Y2": y2, "z3": float(z3), "Y3": y3, "t": float(t),
            "E": (y3 - t) ** 2 / 2.0}


def matrix_backward(p: dict, fw: dict, act: str = "sigmoid") -> dict:
    """``d1_j = d2 * w2_j * f'(z1_j)`` and ``dE/dw1[r, c, j] = d1_j * X[r, c]`` (shape 4x4x5)."""
    _, fp, _ = _activation(act)
    d3 = (fw["Y3"] - fw["t"]) * float(fp(fw["z3"]))
    d2 = d3 * p["w3"] * float(fp(fw["z2"]))
    d1 = d2 * p["w2"] * fp(fw["z1"])
    return {"d3": d3, "d2": d2, "d1": d1, "dE/dw1": p["X"][:, :, None] * d1[None, None, :], "dE/db1": d1,
            "dE/dw2": d2 * fw["Y1"], "dE/db2": d2, "dE/dw3": d3 * fw["Y2"], "dE/db3": d3}


def matrix_example(t: float = 0.9, act: str = "sigmoid", seed: int = 0) -> dict:
    """Section 4.2.5 in numbers: shape, count and a summary of the 80 weight gradients of w1."""
    p = matrix_params(seed)
    fw = matrix_forward(p, t, act)
    g = matrix_backward(p, fw, act)
    gw1 = g["dE/dw1"]
    return {"input_shape": list(p["X"].shape), "neurons": 5, "E": fw["E"], "Y1": fw["Y1"].tolist(),
            "d1": g["d1"].tolist(), "dE/dw1_shape": list(gw1.shape), "dE/dw1_count": int(gw1.size),
            "dE/dw1_min": float(gw1.min()), "dE/dw1_max": float(gw1.max()),
            "dE/dw1_mean_abs": float(np.abs(gw1).mean()), "dE/dw1_norm": float(np.linalg.norm(gw1)),
            "seed": seed, "params": p, "grads": g}


# --------------------------------------------------------------------------- the whole walk-through
@dataclass
class BackpropExample:
    """Every number of ``petnet backprop``: :func:`worked_example` returns it, :func:`format_report`
    prints it, ``to_dict()`` is its JSON."""
    activation: str
    derivative: str         # f' as a formula
    params: dict            # w1, b1, w2, b2, w3, b3
    forward: dict           # x, t, z_i, Y_i, E
    gradients: dict         # d3, d2, d1, dE/dw_i, dE/db_i
    descent: dict           # optimizer, lr, steps, history [{step, E, Y3}], final_params
    matrix_example: dict    # section 4.2.5: shapes, E, d1 and a summary of the 80 gradients of w1

    def to_dict(self) -> dict:
        return asdict(self)


def worked_example(x: float = DEFAULT["x"], t: float = DEFAULT["t"], w=DEFAULT["w"], b=DEFAULT["b"], *,
                   activation: str = "sigmoid", steps: int = 10, learning_rate: float = 1.0,
                   optimizer: str = "gd", random_state: int = 0) -> BackpropExample:
    """The talk's section 4.2 in numbers: forward pass, local and parameter gradients, ``steps``
    gradient-descent steps and the 4x4 -> 5 example (random weights from ``random_state``)."""
    x = check_number("x", x)
    t = check_number("t", t)
    learning_rate = check_number("learning_rate", learning_rate, min=0, min_exclusive=True)
    steps = check_int("steps", steps, min=0, max=100_000)
    random_state = check_int("random_state", random_state, min=0)
    _, _, formula = _activation(activation)
    params = make_params(w, b)
    fw = forward(params, x, t, activation)
    grads = backward(params, fw, activation)
    final, history = descend(params, x, t, activation, steps=steps, lr=learning_rate, optimizer=optimizer)
    m = matrix_example(t, activation, random_state)
    matrix = {k: v for k, v in m.items() if k not in ("params", "grads")}
    return BackpropExample(activation.lower(), formula, params, fw, grads,
                           {"optimizer": optimizer, "lr": learning_rate, "steps": steps, "history": history,
                            "final_params": final}, matrix)


def format_report(r: BackpropExample) -> str:
    """The step-by-step printout of :func:`worked_example`, in the talk's notation."""
    p, fw, g = r.params, r.forward, r.gradients
    L = []
    L.append(f"Section 4.2: x -> Y1 -> Y2 -> Y3, E = (Y3 - t)^2 / 2, f = {r.activation} ({r.derivative})")
    L.append(f"  x = {fw['x']:g}, t = {fw['t']:g}")
    L.append("  " + ", ".join(f"w{i} = {p[f'w{i}']:g}" for i in (1, 2, 3)) + "; "
             + ", ".join(f"b{i} = {p[f'b{i}']:g}" for i in (1, 2, 3)))
    L.append("")
    L.append("Forward pass (z_i = w_i * input_i + b_i, Y_i = f(z_i)):")
    prev = "x"
    for i in (1, 2, 3):
        L.append(f"  z{i} = w{i}*{prev} + b{i} = {p[f'w{i}']:g}*{(fw['x'] if i == 1 else fw[f'Y{i-1}']):.6f}"
                 f" {'-' if p[f'b{i}'] < 0 else '+'} {abs(p[f'b{i}']):g} = {fw[f'z{i}']:.6f}"
                 f"    Y{i} = f(z{i}) = {fw[f'Y{i}']:.6f}")
        prev = f"Y{i}"
    L.append(f"  E = (Y3 - t)^2 / 2 = ({fw['Y3']:.6f} - {fw['t']:g})^2 / 2 = {fw['E']:.8f}")
    L.append("")
    L.append("Local gradients d_i = dE/dz_i (backwards, each times a weight and f'):")
    L.append(f"  d3 = (Y3 - t) * f'(z3)  = {g['d3']:+.8e}")
    L.append(f"  d2 = d3 * w3 * f'(z2)   = {g['d2']:+.8e}")
    L.append(f"  d1 = d2 * w2 * f'(z1)   = {g['d1']:+.8e}")
    L.append("")
    L.append("Parameter gradients dE/dw_i = d_i * input_i, dE/db_i = d_i:")
    for i, inp in ((3, "Y2"), (2, "Y1"), (1, "x")):
        L.append(f"  dE/dw{i} = d{i} * {inp:<2} = {g[f'dE/dw{i}']:+.8e}    dE/db{i} = d{i} = {g[f'dE/db{i}']:+.8e}")
    d = r.descent
    L.append("")
    L.append(f"Gradient descent (section 4.2.4), {d['optimizer']}, alpha = {d['lr']:g}: w <- w - alpha * dE/dw")
    for h in d["history"]:
        L.append(f"  k = {h['step']:3d}   Y3 = {h['Y3']:.6f}   E = {h['E']:.8f}")
    if len(d["history"]) > 1:
        e0, e1 = d["history"][0]["E"], d["history"][-1]["E"]
        L.append(f"  E fell from {e0:.8f} to {e1:.8f} ({'down' if e1 < e0 else 'NOT down'} "
                 f"{100 * (e0 - e1) / e0 if e0 else 0:.1f}%)")
    m = r.matrix_example
    L.append("")
    L.append("Section 4.2.5: 4x4 input X -> 5 neurons Y1 (z1_j = sum_rc w1[r,c,j] X[r,c] + b1_j) -> Y2 -> Y3")
    L.append(f"  E = {m['E']:.8f}   d1 (one local gradient per neuron) = "
             + "[" + ", ".join(f"{v:+.3e}" for v in m["d1"]) + "]")
    L.append(f"  dE/dw1[r,c,j] = d1_j * X[r,c]: shape {tuple(m['dE/dw1_shape'])} = "
             f"{m['dE/dw1_count']} weight gradients")
    L.append(f"  min {m['dE/dw1_min']:+.3e}  max {m['dE/dw1_max']:+.3e}  mean |.| {m['dE/dw1_mean_abs']:.3e}"
             f"  norm {m['dE/dw1_norm']:.3e}")
    return "\n".join(L)
