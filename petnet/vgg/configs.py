"""The six VGG configurations of Simonyan & Zisserman (2014), Table 1, as small lists (timm style).

Each list reads left to right through the five blocks:

* an int ``n``       -- a 3x3 convolution with ``n`` filters, stride 1, 'same' padding, ReLU
* a pair ``(n, k)``  -- a k x k convolution (configuration C has 1x1 convolutions, ``(256, 1)``)
* ``'LRN'``          -- Local Response Normalisation (only configuration A-LRN)
* ``'M'``            -- 2x2 max pooling, stride 2: ends a block and halves the image

The classifier (``include_top``) is always FC-4096, FC-4096, FC-classes (softmax).
"D" is the famous VGG16 (13 conv + 3 FC weight layers), "E" is VGG19.
"""

from __future__ import annotations

from petnet.errors import PetnetError

CONFIGS: dict[str, list] = {
    "A":     [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B":     [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C":     [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M",
              512, 512, (512, 1), "M", 512, 512, (512, 1), "M"],
    "D":     [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
              512, 512, 512, "M", 512, 512, 512, "M"],
    "E":     [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

#: the usual model names of the configurations
NAMES = {"A": "VGG11", "A-LRN": "VGG11-LRN", "B": "VGG13", "C": "VGG16-C (1x1 convs)",
         "D": "VGG16", "E": "VGG19"}

#: model name -> configuration
ALIASES = {"VGG11": "A", "VGG11-LRN": "A-LRN", "VGG13": "B", "VGG16": "D", "VGG19": "E",
           "11": "A", "13": "B", "16": "D", "19": "E"}


def resolve(config) -> tuple[str, list]:
    """``'D'``, ``'vgg16'``, ``'16'`` or a list -> ``(name, config list)``."""
    if isinstance(config, (list, tuple)):
        return "custom", list(config)
    key = str(config).strip().upper()
    key = ALIASES.get(key, key)
    if key not in CONFIGS:
        raise PetnetError(f"unknown VGG configuration {config!r}; choose one of "
                          f"{', '.join(CONFIGS)} (or VGG11, VGG13, VGG16, VGG19)")
    return key, CONFIGS[key]


def conv_spec(item) -> tuple[int, int] | None:
    """A config item -> ``(filters, kernel size)`` for a convolution, None for 'M'/'LRN'."""
    if isinstance(item, bool):
        raise PetnetError(f"bad VGG config item {item!r}")
    if isinstance(item, int):
        return item, 3
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return int(item[0]), int(item[1])
    if item in ("M", "LRN"):
        return None
    raise PetnetError(f"bad VGG config item {item!r}: use an int (3x3 conv), (filters, k), 'M' or 'LRN'")
