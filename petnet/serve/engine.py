"""The only place where ``petnet serve`` touches ``petnet.pets``: its Python API, adapted.

* :func:`load_recognizer` -> a :class:`~petnet.pets.Recognizer` as the app uses it: ``arch``,
  ``labels``, ``names``, ``test_views``, ``prepare(data: bytes) -> (V, S, S, 3) float32``
  (thread-safe; raises ``ImageError``) and ``predict_prepared(list_of_prepared, sources) ->
  list[dict]`` (ONE backbone call; each dict is the object ``petnet predict --json`` prints);
* :func:`retrain` -> :func:`petnet.pets.retrain` on a folder with one sub-folder per class, the
  model file and its labels file written together.

Backbones are loaded once per architecture and shared by every model and by training
(``backbone_factory(arch)`` replaces the network in tests).
"""

from __future__ import annotations

import threading

import numpy as np

from petnet.errors import PetnetError
from petnet.image_file import ImageError
from petnet.pets import Recognizer, load_model
from petnet.pets import retrain as retrain_head
from petnet.pets.backbone import Backbone
from petnet.pets.predict import DEFAULT_MODEL
from petnet.progress import ProgressEvent

__all__ = ["ImageError", "Backbones", "load_recognizer", "retrain"]


class Backbones:
    """One backbone per architecture, made on first use (``factory(arch)``; default: the real one on
    ``device``)."""

    def __init__(self, factory=None, device: str = "cpu"):
        self._factory = factory
        self._device = device
        self._made: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, arch: str):
        with self._lock:
            if arch not in self._made:
                if self._factory is not None:
                    self._made[arch] = self._factory(arch)
                else:
                    self._made[arch] = Backbone(arch, device=self._device)
            return self._made[arch]


class _Served:
    """A recognizer as the app uses it: answers as the JSON objects of ``petnet predict --json``."""

    def __init__(self, rec: Recognizer):
        self.rec = rec
        self.arch, self.labels, self.test_views = rec.architecture, list(rec.labels), rec.test_views
        self.names = list(rec.display_names)
        self.species = list(rec.label_species)

    def prepare(self, data: bytes):
        """Decode a photo's bytes and preprocess its test views, keeping the photo for the
        open-world cascade (:meth:`petnet.pets.Recognizer.prepare_photo`)."""
        try:
            return self.rec.prepare_photo(bytes(data))
        except ImageError as exc:   # the message starts with "<bytes>: ": keep only the reason
            text = str(exc)
            raise ImageError(text.split(": ", 1)[1] if text.startswith("<") else text) from None

    def predict_prepared(self, prepared, sources) -> list[dict]:
        """Photos prepared by :meth:`prepare` -> one ``predict --json`` object each: exactly the
        answer ``Recognizer.predict`` gives for the same photo and settings."""
        return [p.to_dict() for p in self.rec.predict_prepared(list(prepared), list(sources))]


def load_recognizer(model_path=None, *, config=None, backbones: Backbones):
    """The recognizer of a model file (``None``: ``config.model``, by default petnet's embedded
    37-breed model) with the recognition settings of ``config`` (a
    :class:`~petnet.pets.config.RecognizerConfig`, the flags of ``petnet serve``; ``None``: the
    defaults). A model file's own display names are used (Chinese for the 37 breeds)."""
    from petnet.pets.config import RecognizerConfig
    config = (config or RecognizerConfig()).checked()
    if model_path is not None:        # a kept model: its own labels and names, the served settings
        config = config.replace(model=load_model(model_path), labels=None, names=None)
    elif config.is_default_model:
        config = config.replace(model=load_model(DEFAULT_MODEL))
    elif not config.is_imagenet and isinstance(config.model, str):
        config = config.replace(model=load_model(config.model))
    arch = config.architecture if config.is_imagenet else config.model.arch
    rec = Recognizer.from_config(config, backbone_factory=lambda: backbones.get(arch))
    return _Served(rec)


def retrain(image_dir, output_graph, output_labels, *, backbones: Backbones, bottleneck_dir,
            architecture: str = "lite2", progress=None) -> dict:
    """Retrain a head on ``image_dir`` (one sub-folder per class, all photos used for training, with
    the mirrored view) and write ``output_graph`` + ``output_labels`` together. ``progress`` gets
    :func:`petnet.pets.retrain`'s :class:`~petnet.progress.ProgressEvent` s (phases ``features``,
    ``training``, ``calibration``). Returns ``{"classes", "images", "skipped", "train_accuracy",
    "cross_entropy", "temperature"}``. Raises ``PetnetError`` (too few classes or photos, training
    diverged)."""
    progress = progress or (lambda event: None)
    progress(ProgressEvent("features", 0, 0))
    result = retrain_head(image_dir, architecture=architecture, max_iter=1000, flip_left_right=True,
                          validation_percentage=0, testing_percentage=0, bottleneck_dir=bottleneck_dir,
                          review=False, random_state=0, progress=progress,
                          backbone_factory=lambda: backbones.get(architecture))
    result.save(output_graph, output_labels)
    last = result.history[-1]
    if not np.isfinite(result.model.W).all():
        raise PetnetError("training produced invalid scores")
    return {"classes": len(result.labels), "images": int(result.metrics.get("images", 0)),
            "skipped": len(result.skipped), "train_accuracy": float(last["train_accuracy"]),
            "cross_entropy": float(last["cross_entropy"]), "temperature": float(result.model.temperature)}
