"""``model.summary()``: the Keras table "Layer (type) | Output Shape | Param #" with the totals.

Parameter counts per layer: Dense in*out + out; Conv2D kh*kw*in*filters + filters;
BatchNormalization 4*channels (2*channels trainable); pooling, Flatten, Dropout, Add: 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from petnet.nn.layer import fmt_shape


@dataclass
class Summary:
    """The rows and totals of a summary; ``str(summary)`` is the printed table."""

    name: str
    rows: list[tuple[str, str, tuple, int]] = field(default_factory=list)   # (name, type, output shape, params)
    total_params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0

    def as_dict(self) -> dict:
        return {"name": self.name,
                "layers": [{"name": n, "type": t, "output_shape": list(s), "params": p} for n, t, s, p in self.rows],
                "total_params": self.total_params, "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params}

    def text(self, width: int = 65) -> str:
        first = max([28] + [len(f"{n} ({t})") + 2 for n, t, _, _ in self.rows])
        second = max([26] + [len(fmt_shape(s)) + 2 for _, _, s, _ in self.rows])
        width = max(width, first + second + 12)
        line = lambda a, b, c: f" {a:<{first - 1}}{b:<{second}}{c}"  # noqa: E731
        out = [f'Model: "{self.name}"', "_" * width, line("Layer (type)", "Output Shape", "Param #"), "=" * width]
        for i, (n, t, s, p) in enumerate(self.rows):
            out.append(line(f"{n} ({t})", fmt_shape(s), f"{p:,}"))
            out.append("_" * width if i < len(self.rows) - 1 else "=" * width)
        if not self.rows:
            out.append("=" * width)
        out += [f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}", "_" * width]
        return "\n".join(out)

    __str__ = text

    def __repr__(self):
        return f"Summary({self.name!r}, {len(self.rows)} layers, total_params={self.total_params:,})"


def summarize(model) -> Summary:
    s = Summary(model.name)
    for layer in model.summary_layers():
        p = layer.count_params()
        s.rows.append((layer.name, type(layer).__name__, tuple(layer.output_shape), p))
        s.total_params += p
        s.trainable_params += sum(w.size for w in layer.trainable_weights)
    s.non_trainable_params = s.total_params - s.trainable_params
    return s
