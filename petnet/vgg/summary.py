"""The text and JSON forms of a VGG summary (``petnet vgg summary``)."""

from __future__ import annotations

import json

from petnet.vgg.accounting import totals, vgg_layers
from petnet.vgg.configs import NAMES, resolve


def summary_dict(config="D", input_size: int = 224, classes: int = 1000, include_top: bool = True,
                 pooling=None, batch_norm: bool = False) -> dict:
    """``{"config", "name", "input_shape", "total_params", "total_macs", ..., "layers": [...]}``."""
    key, _ = resolve(config)
    layers = vgg_layers(key, (input_size, input_size, 3), include_top, pooling, classes, batch_norm)
    out = {"config": key, "name": NAMES.get(key, key), "input_shape": [input_size, input_size, 3],
           "classes": classes if include_top else None}
    out.update(totals(layers))
    out["layers"] = [layer.as_dict() for layer in layers]
    return out


def _mb(n: int) -> str:
    return f"{n / 2**20:.2f}"


def summary_text(s: dict) -> str:
    """A Keras-like table: layer, output shape, params, MACs, activation memory, receptive field."""
    head = f"{'layer (type)':<40}{'output shape':>18}{'params':>14}{'MACs':>17}{'act. MiB':>10}{'RF':>6}"
    rule = "=" * len(head)
    lines = [f"{s['name']} (configuration {s['config']}), input {'x'.join(map(str, s['input_shape']))}",
             rule, head, rule]
    for layer in s["layers"]:
        shape = str(tuple(layer["output_shape"]))
        rf = layer["receptive_field"]
        lines.append(f"{layer['name'] + ' (' + layer['kind'] + ')':<40}{shape:>18}{layer['params']:>14,}"
                     f"{layer['macs']:>17,}{_mb(layer['activation_bytes']):>10}{'' if rf is None else rf:>6}")
    lines += [rule,
              f"total params:       {s['total_params']:,}  (conv layers {s['conv_params']:,}; "
              f"weights {_mb(s['weight_bytes'])} MiB in float32)",
              f"multiply-accumulates: {s['total_macs']:,}  ({s['total_macs'] / 1e9:.2f} G per image)",
              f"activation memory:  {_mb(s['activation_bytes'])} MiB per image (float32, forward pass, all layer outputs)"]
    return "\n".join(lines)


def summary_json(s: dict) -> str:
    """JSON with one line per layer (valid JSON, easy to read and to grep)."""
    head = {k: v for k, v in s.items() if k != "layers"}
    body = json.dumps(head, indent=1)[:-2]
    layers = ",\n  ".join(json.dumps(layer) for layer in s["layers"])
    return body + ',\n "layers": [\n  ' + layers + "\n ]\n}"
