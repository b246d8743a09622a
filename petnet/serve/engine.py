"""The only place where ``petnet serve`` touches petnet's recognition internals.

Two adapters, shaped like the library-first API of ``petnet.pets`` (``Recognizer.prepare`` /
``Recognizer.predict_prepared`` and ``retrain(...).save(...)``) so that switching to it changes
this file only:

* :func:`load_recognizer` -> an object with ``arch``, ``labels``, ``names``,
  ``prepare(data: bytes) -> (V, S, S, 3) float32`` (thread-safe; raises ``ImageError``) and
  ``predict_prepared(list_of_prepared, sources) -> list[dict]`` (ONE backbone call; each dict is
  the object ``petnet predict --json`` prints);
* :func:`retrain` -> trains a new head on a folder with one sub-folder per class and writes the
  model file and its labels file.

Backbones are loaded once per architecture and shared by every model and by training
(``backbone_factory(arch)`` replaces the network in tests).
"""

from __future__ import annotations

import atexit
import io
import itertools
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from petnet.errors import PetnetError
from petnet.image_file import ImageError
from petnet.pets.backbone import Backbone, load_views
from petnet.pets.dataset import scan_image_dir
from petnet.pets.head import predict_proba
from petnet.pets.model_file import PetModel, load_model, save_model, write_labels
from petnet.pets.names import display_name, read_names
from petnet.pets.predict import DEFAULT_MODEL, DEFAULT_NAMES
from petnet.pets.preprocess import preprocess_id
from petnet.pets.retrain import default_head_kwargs, load_features, train_head, views_for

__all__ = ["ImageError", "Backbones", "load_recognizer", "retrain"]

TOP = 3
_UPLOADS: str | None = None      # a private (0700) folder for decoding uploads, one per process
_NUMBERS = itertools.count()
_UPLOADS_LOCK = threading.Lock()


def _upload_path() -> str:
    """A fresh file name in the private upload folder (never an upload's own name)."""
    global _UPLOADS
    with _UPLOADS_LOCK:
        if _UPLOADS is None:
            _UPLOADS = tempfile.mkdtemp(prefix="petnet-serve-")
            atexit.register(shutil.rmtree, _UPLOADS, True)
    return os.path.join(_UPLOADS, f"{next(_NUMBERS)}.upload")


class Backbones:
    """One backbone per architecture, made on first use (``factory(arch)``; default: the real one)."""

    def __init__(self, factory=None):
        self._factory = factory
        self._made: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, arch: str):
        with self._lock:
            if arch not in self._made:
                if self._factory is not None:
                    self._made[arch] = self._factory(arch)
                else:
                    self._made[arch] = Backbone(arch)
            return self._made[arch]


class _Recognizer:
    def __init__(self, model_path, names: dict[str, str], backbones: Backbones):
        m = load_model(model_path)
        self.arch, self.labels, self.test_views = m.arch, list(m.labels), tuple(m.test_views)
        self._W, self._b = m.W, m.b
        self.names = {lab: names[lab] for lab in self.labels if names.get(lab)}
        self._backbones = backbones

    def prepare(self, data: bytes) -> np.ndarray:
        """Decode a photo's bytes and preprocess each test view: ``(V, S, S, 3)`` float32."""
        tmp = _upload_path()
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            return load_views(tmp, self.arch, self.test_views)
        except ImageError as exc:
            # the message starts with the temporary path: keep only the reason
            raise ImageError(str(exc).replace(f"{tmp}: ", "", 1)) from None
        finally:
            Path(tmp).unlink(missing_ok=True)

    def predict_prepared(self, prepared, sources) -> list[dict]:
        """Photos prepared by :meth:`prepare` -> one ``predict --json`` object each (one backbone call)."""
        V = len(self.test_views)
        batch = np.concatenate(list(prepared))
        feats = self._backbones.get(self.arch).features(batch).reshape(len(prepared), V, -1)
        P = predict_proba(self._W, self._b, feats)
        out = []
        for source, p in zip(sources, P):
            order = np.argsort(-p)[:TOP]
            out.append({"path": str(source),
                        "top": [{"label": self.labels[i], "name": display_name(self.labels[i], self.names),
                                 "score": round(float(p[i]), 6)} for i in order]})
        return out


def load_recognizer(model_path=None, *, names=None, backbones: Backbones):
    """The recognizer of a model file (``None``: petnet's embedded 37-breed model).
    ``names``: ``{label: display name}`` (default: the embedded model's Chinese breed names)."""
    if names is None:
        names = read_names(DEFAULT_NAMES)
    return _Recognizer(DEFAULT_MODEL if model_path is None else model_path, names, backbones)


def retrain(image_dir, output_graph, output_labels, *, backbones: Backbones, bottleneck_dir,
            architecture: str = "lite2", log=None) -> dict:
    """Retrain a head on ``image_dir`` (one sub-folder per class, all photos used for training, with
    the mirrored view) and write ``output_graph`` + ``output_labels``. ``log(phase, step, total)``
    reports progress. Returns ``{"classes", "images", "skipped", "train_accuracy", "cross_entropy"}``.
    Raises ``PetnetError`` (too few classes or photos, training diverged)."""

    log = log or (lambda phase, step, total: None)
    image_set = scan_image_dir(image_dir)
    train_views, test_views = views_for(flip_left_right=True)
    log("features", 0, len(image_set))
    skipped = io.StringIO()
    feats, paths, y, _ = load_features(image_set, architecture, train_views, bottleneck_dir,
                                       backbone_factory=lambda: backbones.get(architecture),
                                       quiet=True, out=skipped)
    kwargs = default_head_kwargs()
    total = kwargs["max_iter"]
    log("training", 0, total)
    ti = [train_views.index(v) for v in test_views]
    head = train_head(feats, y, len(image_set.labels), **kwargs, eval_step_interval=50,
                      log=lambda row: log("training", row["step"], total), quiet=True, random_state=0)
    model = PetModel(head.W_, head.b_, image_set.labels, architecture, preprocess_id(architecture),
                     test_views)
    save_model(output_graph, model)
    write_labels(output_labels, image_set.labels)
    last = head.history_[-1]
    P = head.predict_proba(feats[:, ti])
    if not np.isfinite(P).all():
        raise PetnetError("training produced invalid scores")
    return {"classes": len(image_set.labels), "images": len(paths),
            "skipped": len(skipped.getvalue().splitlines()),
            "train_accuracy": float((P.argmax(1) == y).mean()),
            "cross_entropy": float(last["cross_entropy"])}
