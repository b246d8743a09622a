"""One builder for every VGG configuration, on the NumPy engine ``petnet.nn`` (Keras' functional API).

    model = VGG("D", include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000)   # = VGG16()

walks the configuration list (``petnet.vgg.configs``): each number adds a 3x3 ``Conv2D`` with
'same' padding and ReLU (``block{b}_conv{i}``), each ``'M'`` a 2x2 ``MaxPooling2D`` with stride 2
(``block{b}_pool``) and starts the next block. The top is ``flatten``, ``fc1``, ``fc2`` (4096
units, ReLU) and ``predictions`` (softmax) -- the Keras code of the talk's section 5.3. Without the
top, ``pooling='avg'`` / ``'max'`` ends with global average / max pooling.

Building really allocates the weights (VGG16 at 224: 138 M float32 numbers, 553 MB); for the
accounting alone use ``petnet.vgg.accounting`` / ``petnet vgg summary``, which allocates nothing.
"""

from __future__ import annotations

from petnet import nn
from petnet.errors import ParamError, PetnetError
from petnet.vgg.configs import conv_spec, resolve
from petnet.vgg.lrn import LocalResponseNormalization


def VGG(config="D", include_top: bool = True, input_shape=(224, 224, 3), pooling=None, classes: int = 1000,
        batch_norm: bool = False, fc_units: int = 4096, dropout: float = 0.0,
        classifier_activation: str = "softmax", bn_momentum: float = 0.99, name: str | None = None):
    """Build the VGG network of ``config`` ('A', 'A-LRN', 'B', 'C', 'D', 'E' or a custom list).

    ``batch_norm=True`` puts a ``BatchNormalization`` (``block{b}_bn{i}``) after every convolution
    (conv -> BN -> ReLU, as torchvision's ``vgg16_bn``); ``dropout`` > 0 adds dropout after fc1 and
    fc2 (the paper uses 0.5 for training); ``fc_units`` shrinks the classifier for small inputs;
    ``bn_momentum`` is the moving-average momentum of the batch-norm statistics (Keras: 0.99).
    """
    key, items = resolve(config)
    if pooling not in (None, "avg", "max"):
        raise ParamError("pooling", f"must be None, 'avg' or 'max', got {pooling!r}")
    if include_top and int(classes) < 1:
        raise ParamError("classes", f"must be positive, got {classes!r}")
    inputs = nn.Input(shape=tuple(input_shape), name="input")
    x = inputs
    block, i = 1, 0
    for item in items:
        spec = conv_spec(item)
        if spec is not None:
            f, k = spec
            i += 1
            if batch_norm:
                x = nn.Conv2D(f, (k, k), padding="same", name=f"block{block}_conv{i}")(x)
                x = nn.BatchNormalization(momentum=bn_momentum, name=f"block{block}_bn{i}")(x)
                x = nn.Activation("relu", name=f"block{block}_relu{i}")(x)
            else:
                x = nn.Conv2D(f, (k, k), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        elif item == "LRN":
            x = LocalResponseNormalization(name=f"block{block}_lrn")(x)
        else:
            if min(x.shape[:2]) < 2:
                raise PetnetError(f"the input {tuple(input_shape)} is too small for {items.count('M')} poolings; "
                                  f"use at least {2 ** items.count('M')} pixels per side")
            x = nn.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
            block, i = block + 1, 0
    if include_top:
        x = nn.Flatten(name="flatten")(x)
        x = nn.Dense(fc_units, activation="relu", name="fc1")(x)
        if dropout:
            x = nn.Dropout(dropout, name="drop1")(x)
        x = nn.Dense(fc_units, activation="relu", name="fc2")(x)
        if dropout:
            x = nn.Dropout(dropout, name="drop2")(x)
        x = nn.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = nn.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = nn.GlobalMaxPooling2D(name="max_pool")(x)
    default = {"A": "vgg11", "A-LRN": "vgg11_lrn", "B": "vgg13", "C": "vgg16_c", "D": "vgg16", "E": "vgg19"}
    return nn.Model(inputs, x, name=name or default.get(key, "vgg"))


def VGG11(include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000, **kwargs):
    """Configuration A: 8 conv + 3 FC weight layers, 132,863,336 parameters at 224x224x3."""
    return VGG("A", include_top, input_shape, pooling, classes, **kwargs)


def VGG13(include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000, **kwargs):
    """Configuration B: 10 conv + 3 FC, 133,047,848 parameters."""
    return VGG("B", include_top, input_shape, pooling, classes, **kwargs)


def VGG16(include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000, **kwargs):
    """Configuration D, the talk's VGG16: 13 conv + 3 FC, 138,357,544 parameters."""
    return VGG("D", include_top, input_shape, pooling, classes, **kwargs)


def VGG19(include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000, **kwargs):
    """Configuration E: 16 conv + 3 FC, 143,667,240 parameters."""
    return VGG("E", include_top, input_shape, pooling, classes, **kwargs)
