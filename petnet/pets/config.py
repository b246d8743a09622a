"""One recogniser configuration: every setting that changes an answer, in one object.

The command line (``petnet predict``), the web app (``petnet serve``) and Ray workers
(``petnet predict --ray``) all build a :class:`RecognizerConfig` from the same flags
(:func:`petnet.pets.cli.add_recognition_flags`) and hand it on *whole* to
:meth:`petnet.pets.Recognizer.from_config`; no door copies the settings one by one, so a new
setting reaches every door or none::

    cfg = RecognizerConfig(top=5, min_pet_score=0.3)
    Recognizer.from_config(cfg).predict("cat.jpg")
    Recognizer(top=5, min_pet_score=0.3)              # the same, with keyword arguments

``model``: ``None``/``"default"`` (the embedded 37 breeds), ``"imagenet"`` (the backbone's own 1000
classes), a model file path, or a :class:`~petnet.pets.model_file.PetModel`. ``labels`` / ``names``:
a labels file (or list) replacing the model's class names / an ``english,中文`` file (or dict) of
display names (default: the names stored in the model file, else petnet's Chinese breed names).
``test_views``: the views whose softmax is averaged (default: the model's own). ``architecture``: the
backbone of ``"imagenet"`` (a retrained model names its own). ``engine``: ``auto``/``onnx``/``torch``.
``device``: ``cpu``/``cuda``/``auto``. ``threads``: the backbone's compute threads (``None``: all).
``precision``: ``auto``/``fp32``/``int8``, the backbone's arithmetic (:mod:`petnet.pets.quantize`;
``auto``: a retrained model's own precision, else the architecture's measured default).
The three thresholds are explained in :mod:`petnet.pets.decision`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from petnet.errors import ParamError
from petnet.pets.openworld import DEFAULT_MIN_BREED_SCORE, DEFAULT_MIN_CLASS_SIMILARITY, DEFAULT_MIN_PET_SCORE

MAX_TOP = 1000          # the most classes any model here has (ImageNet)


@dataclass(frozen=True, eq=False)
class RecognizerConfig:
    """The settings of a :class:`~petnet.pets.Recognizer` (see the module docstring)."""

    model: object = None
    top: int = 3
    labels: object = None
    names: object = None
    min_pet_score: float = DEFAULT_MIN_PET_SCORE
    min_breed_score: float = DEFAULT_MIN_BREED_SCORE
    min_class_similarity: float = DEFAULT_MIN_CLASS_SIMILARITY
    test_views: tuple[str, ...] | None = None
    architecture: str = "lite2"
    engine: str = "auto"
    device: str = "cpu"
    threads: int | None = None
    precision: str = "auto"

    def checked(self) -> RecognizerConfig:
        """A copy with every value checked and normalised (``ParamError`` naming the setting)."""
        from petnet.pets.backbone import DEVICES, ENGINES
        from petnet.pets.backbones import arch_spec
        from petnet.pets.preprocess import VIEWS
        from petnet.pets.quantize import check_precision
        from petnet.validate import check_choice, check_int, check_number
        views = self.test_views
        if views is not None:
            if isinstance(views, str):
                views = tuple(v.strip() for v in views.split(",") if v.strip())
            views = tuple(views)
            if not views:
                raise ParamError("test_views", "is empty; give one or more of " + ", ".join(VIEWS))
            for v in views:
                check_choice("test_views", v, VIEWS)
            if len(set(views)) != len(views):
                raise ParamError("test_views", f"names a view twice: {', '.join(views)}")
        model = self.model
        if isinstance(model, os.PathLike):
            model = os.fspath(model)
        return dataclasses.replace(
            self, model=model, top=check_int("top", self.top, min=1, max=MAX_TOP),
            min_pet_score=check_number("min_pet_score", self.min_pet_score, min=0, max=1),
            min_breed_score=check_number("min_breed_score", self.min_breed_score, min=0, max=1),
            min_class_similarity=check_number("min_class_similarity", self.min_class_similarity,
                                              min=-1, max=1),
            test_views=views, architecture=arch_spec(self.architecture).name,
            engine=check_choice("engine", self.engine, ENGINES),
            device=check_choice("device", self.device, DEVICES),
            threads=None if self.threads is None else check_int("threads", self.threads, min=1, max=1024),
            precision=check_precision(self.precision))

    def replace(self, **changes) -> RecognizerConfig:
        """A copy with ``changes`` (checked)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ParamError(sorted(unknown)[0], "is not a recogniser setting; the settings are "
                             + ", ".join(f.name for f in dataclasses.fields(self)))
        return dataclasses.replace(self, **changes).checked()

    @property
    def is_default_model(self) -> bool:
        return self.model is None or (isinstance(self.model, str) and self.model == "default")

    @property
    def is_imagenet(self) -> bool:
        return isinstance(self.model, str) and self.model == "imagenet"

    def describe(self) -> dict:
        """The settings as plain JSON-ready values (a ``PetModel`` shown by its classes)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "model" and not (v is None or isinstance(v, str)):
                v = f"<model of {len(getattr(v, 'labels', []))} classes>"
            elif f.name in ("labels", "names") and not (v is None or isinstance(v, str)):
                v = f"<{type(v).__name__} of {len(v)}>"
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


def config_fields() -> tuple[str, ...]:
    """The names of the settings, in order."""
    return tuple(f.name for f in dataclasses.fields(RecognizerConfig))
