"""Save and load a model's weights as a NumPy ``.npz`` file (plain arrays, never pickle).

File layout: ``layer_names`` and ``layer_types`` (string arrays, one entry per layer with weights),
``layer_counts`` (how many arrays each has) and the arrays ``w0, w1, ...`` in get_weights order.
Loading matches layers in order (or by name with ``by_name=True``) and checks the number of
layers, their types and every shape, with a message that names the first mismatch.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError


def _weighted(model):
    return [layer for layer in model.layers if layer.weights]


def save_weights(model, path) -> Path:
    path = Path(path)
    if path.suffix != ".npz":
        raise PetnetError(f"weights are saved as .npz files; got {str(path)!r} -- use a name ending in .npz")
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
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def load_weights(model, path, by_name: bool = False) -> None:
    path = Path(path)
    if not path.exists():
        raise PetnetError(f"weights file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise PetnetError(f"{str(path)!r} is not a petnet weights file (.npz): {exc}") from None
    for key in ("layer_names", "layer_types", "layer_counts"):
        if key not in data:
            raise PetnetError(f"{str(path)!r} is not a petnet weights file: it has no {key!r} entry")
    names, types, counts = list(data["layer_names"]), list(data["layer_types"]), list(data["layer_counts"])
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    saved = {n: (t, [data[f"w{k}"] for k in range(starts[i], starts[i + 1])])
             for i, (n, t) in enumerate(zip(names, types))}
    if not model.built:
        raise PetnetError("build the model (call it on data or give it an input shape) before loading weights")
    layers = _weighted(model)
    if by_name:
        pairs = []
        for layer in layers:
            if layer.name not in saved:
                raise PetnetError(f"layer {layer.name!r} has no weights in {str(path)!r} "
                                  f"(the file has: {', '.join(names)})")
            pairs.append((layer, layer.name, *saved[layer.name]))
    else:
        if len(layers) != len(names):
            raise PetnetError(f"the file {str(path)!r} has weights for {len(names)} layers ({', '.join(names)}) "
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
