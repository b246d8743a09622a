"""Save and load a model's weights as a NumPy ``.npz`` file (plain arrays, never pickle).

File layout: ``layer_names`` and ``layer_types`` (string arrays, one entry per layer with weights),
``layer_counts`` (how many arrays each has) and the arrays ``w0, w1, ...`` in get_weights order.
Loading matches layers in order (or by name with ``by_name=True``) and checks the number of
layers, their types and every shape, with a message that names the first mismatch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petnet.atomic import write_atomically
from petnet.errors import PetnetError
from petnet.safe_io import check_regular_file, load_npz, printable


def _weighted(model):
    return [layer for layer in model.layers if layer.weights]


def save_weights(model, path) -> Path:
    path = Path(path)
    if path.suffix != ".npz":
        raise PetnetError(f"weights are saved as .npz files; got {printable(path)!r} -- use a name ending in .npz")
    if not model.built:
        raise PetnetError("the model has no weights yet: build it (call it on data or fit it) before saving")
    layers = _weighted(model)
    arrays = {"layer_names": np.array([l.name for l in layers], dtype=str),
              "layer_types": np.array([type(l).__name__ for l in layers], dtype=str),
              "layer_counts": np.array([len(l.weights) for l in layers], dtype=np.int64)}
    k = 0
    for layer in layers:
        for w in layer.weights:
            arrays[f"w{k}"] = w
            k += 1
    write_atomically(path, lambda f: np.savez(f, **arrays), what="weights file")
    return path


def _not_weights(message: str) -> PetnetError:
    return PetnetError(f"not a petnet weights file: {message}")


def load_weights(model, path, by_name: bool = False) -> None:
    if not model.built:
        raise PetnetError("build the model (call it on data or give it an input shape) before loading weights")
    path = check_regular_file(path, "weights file")
    shown = repr(printable(path))
    # bounded by what this model can hold (a few times its weights: float64 files, other layers)
    budget = 4 * sum(w.nbytes for layer in _weighted(model) for w in layer.weights) + (64 << 20)
    data = load_npz(path, "weights file", budget, error=_not_weights)
    for key in ("layer_names", "layer_types", "layer_counts"):
        if key not in data:
            raise PetnetError(f"{shown} is not a petnet weights file: it has no {key!r} entry")
    names, types, counts = data["layer_names"], data["layer_types"], data["layer_counts"]
    if (names.ndim != 1 or names.dtype.kind != "U" or types.shape != names.shape or types.dtype.kind != "U"
            or counts.shape != names.shape or counts.dtype.kind not in "iu" or (counts < 0).any()
            or counts.sum() > len(data)):
        raise PetnetError(f"{shown} is not a petnet weights file: its layer_names, layer_types and "
                          "layer_counts entries do not describe its arrays; the file is damaged")
    names, types, counts = [printable(n) for n in names], [printable(t) for t in types], counts.tolist()
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    missing = [f"w{k}" for k in range(starts[-1]) if f"w{k}" not in data]
    if missing:
        raise PetnetError(f"{shown} is not a petnet weights file: it has no {missing[0]!r} entry")
    bad = next((f"w{k}" for k in range(starts[-1]) if data[f"w{k}"].dtype.kind != "f"
                or not np.isfinite(data[f"w{k}"]).all()), None)
    if bad:
        raise PetnetError(f"{shown}: the weights {bad!r} are not finite numbers (NaN or inf); "
                          "the file is damaged, or saved from a training run that diverged")
    saved = {n: (t, [data[f"w{k}"] for k in range(starts[i], starts[i + 1])])
             for i, (n, t) in enumerate(zip(names, types))}
    layers = _weighted(model)
    if by_name:
        pairs = []
        for layer in layers:
            if layer.name not in saved:
                raise PetnetError(f"layer {layer.name!r} has no weights in {shown} "
                                  f"(the file has: {', '.join(names)})")
            pairs.append((layer, layer.name, *saved[layer.name]))
    else:
        if len(layers) != len(names):
            raise PetnetError(f"the file {shown} has weights for {len(names)} layers ({', '.join(names)}) "
                              f"but the model has {len(layers)} layers with weights "
                              f"({', '.join(l.name for l in layers)}); was it saved from another architecture?")
        pairs = [(layer, n, *saved[n]) for layer, n in zip(layers, names)]
    for layer, n, t, ws in pairs:
        if type(layer).__name__ != t:
            raise PetnetError(f"layer {layer.name!r} is a {type(layer).__name__} but the file has a {t} "
                              f"({n!r}) in its place")
        mine = layer.weights
        if len(mine) != len(ws):
            raise PetnetError(f"layer {layer.name!r} has {len(mine)} weight arrays but the file has {len(ws)} "
                              f"for {n!r}")
        for j, (w, s) in enumerate(zip(mine, ws)):
            if w.shape != s.shape:
                raise PetnetError(f"shape mismatch for layer {layer.name!r} weight {j}: the model has {w.shape}, "
                                  f"the file ({n!r}) has {s.shape}")
    for layer, _, _, ws in pairs:
        layer.set_weights(ws)
