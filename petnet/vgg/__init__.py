"""Chapter 5 of the talk: VGG16 and the VGG family (configurations A, A-LRN, B, C, D, E).

* :mod:`~petnet.vgg.configs`    -- the configurations as small lists ``[64, 64, 'M', 128, ...]``
* :mod:`~petnet.vgg.accounting` -- per-layer output shape, parameters, MACs, activation memory,
  receptive field, by arithmetic alone (``petnet vgg summary``)
* :mod:`~petnet.vgg.model`      -- one builder for all of them on the NumPy engine ``petnet.nn``:
  ``VGG16(include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000)`` and
  ``VGG11``, ``VGG13``, ``VGG19``, with Keras' layer names
* :mod:`~petnet.vgg.lrn`        -- local response normalisation (configuration A-LRN)
* :mod:`~petnet.vgg.mnist`      -- a small VGG-style net with batch norm trained on MNIST
"""

from petnet.vgg.accounting import totals, vgg_layers
from petnet.vgg.configs import CONFIGS, NAMES

_MODEL_NAMES = ("vgg", "VGG11", "VGG13", "VGG16", "VGG19", "LocalResponseNormalization")


def __getattr__(name):  # the builders need petnet.nn: import it only when asked for
    if name in _MODEL_NAMES:
        from petnet.vgg import model
        return getattr(model, name)
    raise AttributeError(f"module 'petnet.vgg' has no attribute {name!r}")


__all__ = ["CONFIGS", "NAMES", "vgg_layers", "totals", *_MODEL_NAMES]
