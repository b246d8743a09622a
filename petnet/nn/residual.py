"""A residual block (the talk's ResNet note): y = relu(F(x) + x), the skip connection added back.

    x ──> Conv2D(relu) ──> Conv2D ──> (+) ──> relu
    └──────────────(shortcut)──────────┘

When the block changes the number of channels, the shortcut is a 1x1 Conv2D (a "projection")
so the two branches can be added. Functional API only: ``y = residual_block(x, 32)``.
"""

from __future__ import annotations

from petnet.nn.activations import Activation
from petnet.nn.conv2d import Conv2D
from petnet.nn.merge import Add


def residual_block(x, filters: int, kernel_size=(3, 3), name: str | None = None):
    """Two 'same' convolutions plus a skip connection, on a symbolic tensor ``x``."""
    p = (lambda s: f"{name}_{s}") if name else (lambda s: None)
    y = Conv2D(filters, kernel_size, padding="same", activation="relu", name=p("conv1"))(x)
    y = Conv2D(filters, kernel_size, padding="same", name=p("conv2"))(y)
    shortcut = x if x.shape[-1] == filters else Conv2D(filters, (1, 1), name=p("shortcut"))(x)
    y = Add(name=p("add"))([shortcut, y])
    return Activation("relu", name=p("out"))(y)
