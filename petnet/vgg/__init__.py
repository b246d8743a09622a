"""Chapter 5 of the talk: VGG16 and the VGG family (configurations A, A-LRN, B, C, D, E).

    from petnet import vgg
    vgg.summary("D", (224, 224, 3)).total_params       # 138,357,544 -- arithmetic only, instant
    model = vgg.VGG("D", input_shape=(32, 32, 3), classes=10)   # a petnet.nn Model (allocates weights)

* :mod:`~petnet.vgg.configs`    -- the configurations as small lists ``[64, 64, 'M', 128, ...]``
* :mod:`~petnet.vgg.accounting` -- per-layer output shape, parameters, MACs, activation memory,
  receptive field, by arithmetic alone; :func:`summary` wraps it in a ``VGGSummary`` (the table
  of ``petnet vgg summary``)
* :mod:`~petnet.vgg.model`      -- one builder for all of them on the NumPy engine ``petnet.nn``:
  ``VGG(config, include_top=True, input_shape=(224, 224, 3), pooling=None, classes=1000)`` and
  ``VGG11``, ``VGG13``, ``VGG16``, ``VGG19``, with Keras' layer names
* :mod:`~petnet.vgg.lrn`        -- local response normalisation (configuration A-LRN)
* :mod:`~petnet.vgg.mnist`      -- a small VGG-style net with batch norm trained on MNIST
  (``train_mnist(...) -> VGGMnistResult``)

The builders and ``mnist`` import the engine ``petnet.nn``; they are loaded on first use so that
the accounting (and ``petnet --help``) stays light.
"""

from petnet.vgg.accounting import LayerInfo, totals, vgg_layers
from petnet.vgg.configs import CONFIGS, NAMES
from petnet.vgg.summary import VGGSummary, summary

_MODEL_NAMES = ("VGG", "VGG11", "VGG13", "VGG16", "VGG19")


def __getattr__(name):  # the builders need petnet.nn: import it only when asked for
    if name in _MODEL_NAMES:
        from petnet.vgg import model
        return getattr(model, name)
    if name == "LocalResponseNormalization":
        from petnet.vgg.lrn import LocalResponseNormalization
        return LocalResponseNormalization
    raise AttributeError(f"module 'petnet.vgg' has no attribute {name!r}")


__all__ = ["CONFIGS", "NAMES", "LayerInfo", "VGGSummary", "summary", "vgg_layers", "totals", *_MODEL_NAMES,
           "LocalResponseNormalization"]
