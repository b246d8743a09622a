"""Per-layer accounting of a VGG network by pure arithmetic: no weights are allocated.

For each layer, from the configuration alone (talk, section 5.2):

* output size of a convolution or pooling:   O = (W - K + 2P) / S + 1
  ('same' padding, P = (K - 1) / 2 for stride 1, keeps W; 2x2 pooling with stride 2 halves it)
* parameters of a convolution:   K * K * C_in * F  weights  +  F biases
  -- the kernel is *shared* by every position, so the image size does not appear
* multiply-accumulates (MACs) of a convolution:   K * K * C_in * F * H_out * W_out
  -- every output number is one dot product of length K * K * C_in
* a dense layer:  params = n_in * n_out + n_out,   MACs = n_in * n_out
* a batch normalisation layer: 4 * C params (gamma, beta, moving mean, moving variance)
* pooling, LRN, flatten: no parameters; pooling does comparisons, not MACs (counted as 0)
* activation memory: the layer's output numbers * 4 bytes (float32), for one image
  (the ``input`` row is the image itself)
* receptive field: the input pixels one output pixel sees, r_out = r_in + (K - 1) * j_in,
  with the jump j (input pixels between neighbouring outputs) multiplied by every stride.

So VGG16's conv1_1 has 3*3*3*64 + 64 = 1,792 parameters and 3*3*3*64*224*224 = 86,704,128 MACs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from petnet.conv import output_size
from petnet.errors import ParamError, PetnetError
from petnet.vgg.configs import conv_spec, resolve

BYTES_PER_FLOAT = 4


@dataclass
class LayerInfo:
    """One row of the summary."""

    name: str
    kind: str                      # Conv2D, MaxPooling2D, Dense, ...
    output_shape: tuple            # (H, W, C) or (units,), batch axis left out
    params: int
    macs: int
    activation_bytes: int
    receptive_field: int | None = None
    detail: str = ""               # e.g. "3x3x3x64 + 64"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["output_shape"] = list(self.output_shape)
        return d


def vgg_layers(config="D", input_shape=(224, 224, 3), include_top: bool = True, pooling=None,
               classes: int = 1000, batch_norm: bool = False, fc_units: int = 4096,
               pool_size: int = 2) -> list[LayerInfo]:
    """The layers of a VGG network with their output shapes, parameters, MACs and activation memory.

    Layer names follow Keras' ``VGG16``: ``block1_conv1`` ... ``block5_pool``, then ``flatten``,
    ``fc1``, ``fc2``, ``predictions`` (or ``avg_pool`` / ``max_pool`` without the top).
    """
    _, items = resolve(config)
    try:
        h, w, c = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ParamError("input_shape", f"must be (height, width, channels), got {input_shape!r}") from None
    if min(h, w, c) < 1:
        raise ParamError("input_shape", f"must be positive, got {input_shape!r}")
    if pooling not in (None, "avg", "max"):
        raise ParamError("pooling", f"must be None, 'avg' or 'max', got {pooling!r}")
    layers: list[LayerInfo] = []
    block, conv_in_block = 1, 0
    rf, jump = 1, 1

    def add(name, kind, shape, params=0, macs=0, detail=""):
        n = 1
        for v in shape:
            n *= v
        layers.append(LayerInfo(name, kind, tuple(shape), params, macs, n * BYTES_PER_FLOAT, rf, detail))

    add("input", "InputLayer", (h, w, c))
    for item in items:
        spec = conv_spec(item)
        if spec is not None:
            f, k = spec
            conv_in_block += 1
            # 'same' padding, stride 1: output keeps H x W
            params = k * k * c * f + f
            macs = k * k * c * f * h * w
            rf += (k - 1) * jump
            add(f"block{block}_conv{conv_in_block}", "Conv2D", (h, w, f), params, macs,
                f"{k}x{k}x{c}x{f} + {f}")
            c = f
            if batch_norm:
                add(f"block{block}_bn{conv_in_block}", "BatchNormalization", (h, w, c), 4 * c, 0,
                    f"4 x {c}")
        elif item == "LRN":
            add(f"block{block}_lrn", "LocalResponseNormalization", (h, w, c))
        else:  # 'M'
            if h < pool_size or w < pool_size:
                raise PetnetError(f"the input is too small: block{block}_pool would get a {h}x{w} map; "
                                  f"VGG with {items.count('M')} poolings needs at least "
                                  f"{pool_size ** items.count('M')} pixels per side")
            h, w = output_size(h, pool_size, pool_size, 0, 0), output_size(w, pool_size, pool_size, 0, 0)
            rf += (pool_size - 1) * jump
            jump *= pool_size
            add(f"block{block}_pool", "MaxPooling2D", (h, w, c))
            block, conv_in_block = block + 1, 0
    rf = None                                   # dense layers see the whole image
    if include_top:
        n = h * w * c
        add("flatten", "Flatten", (n,))
        for name, units, detail in (("fc1", fc_units, ""), ("fc2", fc_units, ""), ("predictions", classes, "")):
            add(name, "Dense", (units,), n * units + units, n * units, f"{n}x{units} + {units}")
            n = units
    elif pooling == "avg":
        add("avg_pool", "GlobalAveragePooling2D", (c,))
    elif pooling == "max":
        add("max_pool", "GlobalMaxPooling2D", (c,))
    return layers


def totals(layers: list[LayerInfo]) -> dict:
    """Total parameters (all and conv only), MACs, activation bytes and weight bytes."""
    params = sum(layer.params for layer in layers)
    return {
        "total_params": params,
        "conv_params": sum(layer.params for layer in layers if layer.kind == "Conv2D"),
        "total_macs": sum(layer.macs for layer in layers),
        "activation_bytes": sum(layer.activation_bytes for layer in layers),
        "weight_bytes": params * BYTES_PER_FLOAT,
    }
