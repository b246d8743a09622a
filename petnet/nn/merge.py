"""``Add``: element-wise sum of several tensors -- the skip connection of a residual block (ResNet).

y = x_1 + x_2 + ...;  backward: every input receives dL/dy unchanged (the "gradient highway"
that lets very deep networks train).
"""

from __future__ import annotations

from petnet.errors import PetnetError
from petnet.nn.layer import Layer, fmt_shape


class Add(Layer):
    n_inputs = "many"

    def build(self, input_shape, dtype=None):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2:
            raise PetnetError(f"Add layer {self.name!r} needs at least two inputs, got {len(shapes)}")
        if any(s != shapes[0] for s in shapes):
            raise PetnetError(f"Add layer {self.name!r} needs inputs of equal shape, got "
                              + ", ".join(fmt_shape(s) for s in shapes))
        super().build(shapes, dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def check_shape(self, shape):
        if [tuple(s) for s in shape] != list(self.input_shape):
            raise PetnetError(f"Add layer {self.name!r} was built for {self.input_shape}, got {shape}")

    def call(self, xs, training=False):
        if len(xs) != len(self.input_shape):
            raise PetnetError(f"Add layer {self.name!r} expects {len(self.input_shape)} inputs, got {len(xs)}")
        for x, s in zip(xs, self.input_shape):
            if x.shape[1:] != s:
                raise PetnetError(f"Add layer {self.name!r} expects inputs of shape {fmt_shape(s)}, got {x.shape}")
        out = xs[0].copy()
        for x in xs[1:]:
            out += x
        return out, len(xs)

    def backprop(self, n, dy, need_dx=True):
        return [dy] * n, []
