"""Section 4.2 by hand: every printed gradient against central differences and PyTorch autograd."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from petnet.cli import main
from petnet.errors import PetnetError
from petnet.nn import backprop

torch = pytest.importorskip("torch")

ACTS = ["sigmoid", "tanh", "purelin", "relu"]
TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "purelin": lambda z: z, "relu": torch.relu}


def torch_grads(params, x, t, act):
    """dE/dw_i, dE/db_i and dE/dz_i (= d_i) by PyTorch autograd, float64."""
    f = TORCH_ACT[act]
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    y = torch.tensor(x, dtype=torch.float64)
    zs = []
    for i in (1, 2, 3):
        z = p[f"w{i}"] * y + p[f"b{i}"]
        z.retain_grad()
        zs.append(z)
        y = f(z)
    E = (y - t) ** 2 / 2
    E.backward()
    out = {f"dE/d{k}": v.grad.item() for k, v in p.items()}
    for i, z in enumerate(zs, 1):
        out[f"d{i}"] = z.grad.item()
    out["E"] = E.item()
    return out


CASES = [
    (1.0, 0.9, (0.5, -0.4, 0.8), (0.1, 0.2, -0.3)),
    (-2.0, 0.1, (1.3, 0.7, -1.1), (0.0, -0.5, 0.4)),
    (0.3, 0.6, (2.0, 1.5, 0.9), (0.3, 0.1, 0.2)),
]


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("case", CASES)
def test_every_gradient_matches_numerical_and_torch(act, case):
    x, t, w, b = case
    r = backprop.worked_example(x=x, t=t, w=w, b=b, activation=act, steps=0)
    g = r.gradients
    num = backprop.numerical_gradients(r.params, x, t, act)
    ref = torch_grads(r.params, x, t, act)
    assert r.forward["E"] == pytest.approx(ref["E"], rel=1e-12)
    for key in ("d1", "d2", "d3", "dE/dw1", "dE/dw2", "dE/dw3", "dE/db1", "dE/db2", "dE/db3"):
        assert g[key] == pytest.approx(ref[key], rel=1e-10, abs=1e-14), key
        assert g[key] == pytest.approx(num[key], rel=1e-5, abs=1e-9), key


def test_purelin_gives_the_talks_linear_chain():
    # with f = identity: d3 = Y3 - t, d2 = (Y3 - t) w3, d1 = (Y3 - t) w3 w2
    x, t, w, b = 1.5, 0.2, (0.5, -0.4, 0.8), (0.1, 0.2, -0.3)
    r = backprop.worked_example(x=x, t=t, w=w, b=b, activation="purelin", steps=0)
    y1 = w[0] * x + b[0]
    y2 = w[1] * y1 + b[1]
    y3 = w[2] * y2 + b[2]
    g = r.gradients
    assert g["d3"] == pytest.approx(y3 - t)
    assert g["d2"] == pytest.approx((y3 - t) * w[2])
    assert g["d1"] == pytest.approx((y3 - t) * w[2] * w[1])
    assert g["dE/dw1"] == pytest.approx((y3 - t) * w[2] * w[1] * x)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "purelin"])
def test_gradient_descent_makes_E_fall(act):
    lr = 0.05 if act == "purelin" else 1.0
    r = backprop.worked_example(activation=act, steps=15, learning_rate=lr)
    E = [h["E"] for h in r.descent["history"]]
    assert len(E) == 16
    assert all(b < a for a, b in zip(E, E[1:])), E
    assert E[-1] < 0.5 * E[0]


def test_descent_uses_the_shared_optimizer():
    # one plain GD step by hand equals step 1 of the history
    r = backprop.worked_example(steps=1, learning_rate=0.7)
    p, g = r.params, r.gradients
    stepped = {k: v - 0.7 * g[f"dE/d{k}"] for k, v in p.items()}
    fw = backprop.forward(stepped, 1.0, 0.9)
    assert r.descent["history"][1]["E"] == pytest.approx(fw["E"], rel=1e-12)
    r2 = backprop.worked_example(steps=5, learning_rate=0.1, optimizer="adam")
    assert r2.descent["history"][-1]["E"] < r2.descent["history"][0]["E"]


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_matrix_example_80_gradients_vs_torch_and_numerical(act):
    p = backprop.matrix_params(seed=3)
    fw = backprop.matrix_forward(p, 0.9, act)
    g = backprop.matrix_backward(p, fw, act)
    assert g["dE/dw1"].shape == (4, 4, 5) and g["dE/dw1"].size == 80
    f = TORCH_ACT[act]
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k != "X")) for k, v in p.items()}
    y1 = f(torch.einsum("rc,rcj->j", tp["X"], tp["w1"]) + tp["b1"])
    y3 = f(tp["w3"] * f(tp["w2"] @ y1 + tp["b2"]) + tp["b3"])
    E = (y3 - 0.9) ** 2 / 2
    E.backward()
    assert fw["E"] == pytest.approx(E.item(), rel=1e-12)
    for k in ("w1", "b1", "w2", "b2", "w3", "b3"):
        np.testing.assert_allclose(g[f"dE/d{k}"], tp[k].grad.numpy(), rtol=1e-10, atol=1e-15)
    # central differences on a few of the 80 weights
    h = 1e-6
    for idx in [(0, 0, 0), (3, 2, 4), (1, 3, 2)]:
        hi = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
        lo = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
        hi["w1"][idx] += h
        lo["w1"][idx] -= h
        num = (backprop.matrix_forward(hi, 0.9, act)["E"] - backprop.matrix_forward(lo, 0.9, act)["E"]) / (2 * h)
        assert g["dE/dw1"][idx] == pytest.approx(num, rel=1e-5, abs=1e-10)
    m = backprop.matrix_example(0.9, act, seed=3)
    assert m["dE/dw1_shape"] == [4, 4, 5] and m["dE/dw1_count"] == 80
    assert m["dE/dw1_norm"] == pytest.approx(float(np.linalg.norm(tp["w1"].grad.numpy())), rel=1e-10)


def test_cli_json_every_gradient_checked(capsys):
    assert main(["backprop", "--json", "--x", "0.7", "--t", "0.3", "--activation", "tanh", "--steps", "5",
                 "--lr", "0.5"]) == 0
    out = json.loads(capsys.readouterr().out)
    num = backprop.numerical_gradients(out["params"], 0.7, 0.3, "tanh")
    ref = torch_grads(out["params"], 0.7, 0.3, "tanh")
    for key, v in out["gradients"].items():
        assert v == pytest.approx(num[key], rel=1e-5, abs=1e-9), key
        assert v == pytest.approx(ref[key], rel=1e-10), key
    E = [h["E"] for h in out["descent"]["history"]]
    assert E[-1] < E[0]
    assert out["matrix_example"]["dE/dw1_shape"] == [4, 4, 5]


def test_cli_text_printout_numbers_are_the_gradients(capsys):
    assert main(["backprop"]) == 0
    text = capsys.readouterr().out
    r = backprop.worked_example()
    num = backprop.numerical_gradients(r.params, 1.0, 0.9, "sigmoid")
    # each printed local/parameter gradient parses back to the numerical gradient
    for key in ("d3", "d2", "d1"):
        m = re.search(rf"^\s*{key} = .*?= ([+-][0-9.]+e[+-]\d+)", text, re.M)
        assert m, key
        assert float(m.group(1)) == pytest.approx(num[key], rel=1e-5)
    for i in (1, 2, 3):
        m = re.search(rf"dE/dw{i} = d{i} \* \S+\s*= ([+-][0-9.]+e[+-]\d+)\s+dE/db{i} = d{i} = ([+-][0-9.]+e[+-]\d+)",
                      text)
        assert m, i
        assert float(m.group(1)) == pytest.approx(num[f"dE/dw{i}"], rel=1e-5)
        assert float(m.group(2)) == pytest.approx(num[f"dE/db{i}"], rel=1e-5)
    assert "shape (4, 4, 5) = 80 weight gradients" in text
    Es = [float(v) for v in re.findall(r"k =\s+\d+\s+Y3 = \S+\s+E = (\S+)", text)]
    assert len(Es) == 11 and Es[-1] < Es[0]


def test_bad_input_is_a_clear_error(capsys):
    with pytest.raises(PetnetError, match="unknown activation"):
        backprop.worked_example(activation="swish")
    with pytest.raises(PetnetError, match="3 weights"):
        backprop.make_params(w=(1, 2), b=(0, 0, 0))
    assert main(["backprop", "--optimizer", "nope"]) == 2
    assert "unknown optimizer" in capsys.readouterr().err
