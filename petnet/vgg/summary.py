"""``summary(config, input_shape)``: a VGG configuration's per-layer table, by arithmetic alone
(``petnet vgg summary`` prints its ``text()`` or ``to_json()``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from petnet.vgg.accounting import LayerInfo, totals, vgg_layers
from petnet.vgg.configs import NAMES, resolve


@dataclass
class VGGSummary:
    """The rows (``LayerInfo``: name, kind, output_shape, params, macs, activation_bytes,
    receptive_field, detail) and the totals of a VGG configuration."""

    config: str
    name: str
    input_shape: tuple
    classes: int | None
    total_params: int
    conv_params: int
    total_macs: int
    activation_bytes: int
    weight_bytes: int
    rows: list[LayerInfo] = field(default_factory=list)

    def to_dict(self) -> dict:
        """``{"config", "name", "input_shape", "classes", "total_params", ..., "layers": [...]}``."""
        return {"config": self.config, "name": self.name, "input_shape": list(self.input_shape),
                "classes": self.classes, "total_params": self.total_params, "conv_params": self.conv_params,
                "total_macs": self.total_macs, "activation_bytes": self.activation_bytes,
                "weight_bytes": self.weight_bytes, "layers": [row.as_dict() for row in self.rows]}

    def text(self) -> str:
        """A Keras-like table: layer, output shape, params, MACs, activation memory, receptive field."""
        head = f"{'layer (type)':<40}{'output shape':>18}{'params':>14}{'MACs':>17}{'act. MiB':>10}{'RF':>6}"
        rule = "=" * len(head)
        lines = [f"{self.name} (configuration {self.config}), input {'x'.join(map(str, self.input_shape))}",
                 rule, head, rule]
        for r in self.rows:
            rf = r.receptive_field
            lines.append(f"{r.name + ' (' + r.kind + ')':<40}{str(tuple(r.output_shape)):>18}{r.params:>14,}"
                         f"{r.macs:>17,}{_mb(r.activation_bytes):>10}{'' if rf is None else rf:>6}")
        lines += [rule,
                  f"total params:       {self.total_params:,}  (conv layers {self.conv_params:,}; "
                  f"weights {_mb(self.weight_bytes)} MiB in float32)",
                  f"multiply-accumulates: {self.total_macs:,}  ({self.total_macs / 1e9:.2f} G per image)",
                  f"activation memory:  {_mb(self.activation_bytes)} MiB per image (float32, forward pass, "
                  "all layer outputs)"]
        return "\n".join(lines)

    __str__ = text

    def to_json(self) -> str:
        """JSON with one line per layer (valid JSON, easy to read and to grep)."""
        d = self.to_dict()
        head = {k: v for k, v in d.items() if k != "layers"}
        body = json.dumps(head, indent=1)[:-2]
        layers = ",\n  ".join(json.dumps(layer) for layer in d["layers"])
        return body + ',\n "layers": [\n  ' + layers + "\n ]\n}"


def _mb(n: int) -> str:
    return f"{n / 2**20:.2f}"


def summary(config="D", input_shape=(224, 224, 3), *, classes: int = 1000, include_top: bool = True,
            pooling=None, batch_norm: bool = False) -> VGGSummary:
    """The table of ``config`` ('A', 'A-LRN', 'B', 'C', 'D', 'E', 'VGG16', ... or a custom list) for
    images of ``input_shape``: ``summary("D", (224, 224, 3)).total_params == 138_357_544``."""
    key, _ = resolve(config)
    rows = vgg_layers(key, input_shape, include_top, pooling, classes, batch_norm)
    return VGGSummary(config=key, name=NAMES.get(key, key), input_shape=tuple(int(v) for v in input_shape),
                      classes=classes if include_top else None, **totals(rows), rows=rows)
