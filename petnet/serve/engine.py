"""The only place where ``petnet serve`` touches ``petnet.pets``: its Python API, adapted.

* :func:`load_recognizer` -> a :class:`~petnet.pets.Recognizer` as the app uses it: ``arch``,
  ``labels``, ``names``, ``test_views``, ``prepare(data: bytes) -> (V, S, S, 3) float32``
  (thread-safe; raises ``ImageError``) and ``predict_prepared(list_of_prepared, sources) ->
  list[dict]`` (ONE backbone call; each dict is the object ``petnet predict --json`` prints);
* :func:`retrain` -> :func:`petnet.pets.retrain` on a folder with one sub-folder per class, the
  model file and its labels file written together, and the held-out results of its
  cross-validation (:mod:`petnet.serve.review`);
* :func:`check_model_file` -> a model file someone uploads, read by
  :func:`petnet.pets.model_file.load_model` (never unpickled, every entry checked) and tried on
  one photo;
* :func:`export_onnx` -> :func:`petnet.pets.onnx_export.export_onnx` of a model file, as
  ``petnet export`` writes it.

Backbones are loaded once per architecture and shared by every model and by training
(``backbone_factory(arch)`` replaces the network in tests). :func:`usable_cpus`: the CPUs this
process may use (its affinity), which size the server's thread pools.
"""

from __future__ import annotations

import threading

import numpy as np

from petnet.errors import PetnetError
from petnet.image_file import ImageError
from petnet.pets import Recognizer, load_model
from petnet.pets import retrain as retrain_head
from petnet.pets.backbone import Backbone
from petnet.pets.backbone import default_threads as usable_cpus
from petnet.pets.calibration import MIN_CALIBRATION_PHOTOS
from petnet.pets.evaluation import K_FOLDS
from petnet.pets.predict import DEFAULT_MODEL
from petnet.progress import ProgressEvent
from petnet.serve.review import held_out

__all__ = ["ImageError", "Backbones", "usable_cpus", "load_recognizer", "retrain", "check_model_file",
           "export_onnx", "DEFAULT_MODEL", "REVIEW_MIN_PHOTOS"]

#: photos it takes (all classes together) for retrain's cross-validation, the held-out results
REVIEW_MIN_PHOTOS = MIN_CALIBRATION_PHOTOS


class Backbones:
    """One backbone per architecture, made on first use (``factory(arch)``; default: the real one on
    ``device`` with ``engine``, ``threads`` compute threads per call: ``None`` for every usable CPU)."""

    def __init__(self, factory=None, device: str = "cpu", threads: int | None = None, engine: str = "auto"):
        self._factory = factory
        self._device = device
        self._threads = threads
        self._engine = engine
        self._made: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, arch: str, precision: str = "fp32"):
        """The backbone of ``arch`` at ``precision`` (``fp32``/``int8``, resolved: see
        :meth:`petnet.pets.Recognizer.backbone_precision`); a factory's backbones ignore it."""
        key = arch if self._factory is not None else (arch, precision)
        with self._lock:
            if key not in self._made:
                if self._factory is not None:
                    self._made[key] = self._factory(arch)
                else:
                    self._made[key] = Backbone(arch, engine=self._engine, device=self._device,
                                               threads=self._threads, precision=precision)
            return self._made[key]


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
    defaults). A model file's own display names are used (Chinese for the 37 breeds). A model
    file is read by :func:`~petnet.pets.model_file.load_model`, which checks every entry against
    its schema (no pickle, no view or label twice, bounded sizes ...)."""
    from petnet.pets.config import RecognizerConfig
    config = (config or RecognizerConfig()).checked()
    if model_path is not None:        # a kept model: its own labels and names, the served settings
        config = config.replace(model=load_model(model_path), labels=None, names=None)
    elif config.is_default_model:
        config = config.replace(model=load_model(DEFAULT_MODEL))
    elif not config.is_imagenet and isinstance(config.model, str):
        config = config.replace(model=load_model(config.model))
    arch = config.architecture if config.is_imagenet else config.model.arch
    rec = Recognizer.from_config(config, backbone_factory=lambda: backbones.get(arch, rec.backbone_precision()))
    return _Served(rec)


def check_model_file(path, *, config=None, backbones: Backbones):
    """The recognizer of an uploaded model file, or ``PetnetError`` saying why it cannot be served:
    what :func:`load_recognizer` checks, and one photo (a small generated picture) recognised with
    it, so that a file that loads but cannot answer is refused here, never on a later request."""
    import io

    from PIL import Image
    rec = load_recognizer(path, config=config, backbones=backbones)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buf, "PNG")
    try:
        answer = rec.predict_prepared([rec.prepare(buf.getvalue())], ["check.png"])[0]
    except PetnetError:
        raise
    except Exception as exc:  # noqa: BLE001 -- anything a crafted file makes numpy raise
        raise PetnetError(f"recognising a photo with it failed ({type(exc).__name__}: {exc})") from None
    if not answer.get("top"):
        raise PetnetError("it gave no answer for a photo")
    return rec


def export_onnx(model_path, out_path) -> None:
    """The ONNX graph ``image -> probabilities`` of a model file, as ``petnet export --model
    MODEL`` writes it (the labels in its metadata; the mirrored view averaged when the model uses
    it)."""
    from petnet.pets.onnx_export import export_onnx as write_onnx
    model = load_model(model_path)
    write_onnx(model.arch, out_path, head=(model.W, model.b), labels=list(model.labels),
               flip="flip" in model.test_views)


def retrain(image_dir, output_graph, output_labels, *, backbones: Backbones, bottleneck_dir,
            architecture: str = "lite2", progress=None, class_ids=None) -> tuple[dict, dict]:
    """Retrain a head on ``image_dir`` (one sub-folder per class, all photos used for training, with
    the mirrored view), write ``output_graph`` + ``output_labels`` together, and cross-validate the
    same settings over every photo (``review=True``). ``progress`` gets :func:`petnet.pets.retrain`'s
    :class:`~petnet.progress.ProgressEvent` s (phases ``features``, ``training``, ``calibration``,
    ``review``). ``class_ids``: class name -> the store's id. Returns ``(metrics, review)``:
    ``{"classes", "images", "skipped", "train_accuracy", "cross_entropy", "temperature"}`` and the
    held-out results (:func:`petnet.serve.review.held_out`). Raises ``PetnetError`` (too few
    classes or photos, training diverged)."""
    progress = progress or (lambda event: None)
    progress(ProgressEvent("features", 0, 0))
    result = retrain_head(image_dir, architecture=architecture, max_iter=1000, flip_left_right=True,
                          validation_percentage=0, testing_percentage=0, bottleneck_dir=bottleneck_dir,
                          review=True, random_state=0, progress=progress,
                          backbone_factory=lambda: backbones.get(architecture))
    if not np.isfinite(result.model.W).all():
        raise PetnetError("training produced invalid scores")
    result.save(output_graph, output_labels)
    last = result.history[-1]
    metrics = {"classes": len(result.labels), "images": int(result.metrics.get("images", 0)),
               "skipped": len(result.skipped), "train_accuracy": float(last["train_accuracy"]),
               "cross_entropy": float(last["cross_entropy"]), "temperature": float(result.model.temperature)}
    review = held_out(result.labels, result.paths, result.y, result.cv_proba, class_ids or {},
                      folds=K_FOLDS, needed=REVIEW_MIN_PHOTOS)
    return metrics, review
