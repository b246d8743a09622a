"""Chapter 6: pet recognition with a pretrained EfficientNet-Lite backbone.

The talk's last step: keep a CNN pretrained on ImageNet, compute its 1280-number
"bottleneck" features of every photo once, and retrain only the last (softmax) layer on
your own pet classes. The Python API (``petnet predict``/``retrain`` are thin shells over it)::

    from petnet.pets import Recognizer, retrain
    Recognizer().predict(["examples/pug_168.jpg", pil_image, rgb_array, jpeg_bytes])
    result = retrain("photos/", max_iter=1000)          # -> RetrainResult
    result.save("output/pets.npz", "output/labels.txt")
    Recognizer("output/pets.npz").predict("test.jpg")

Modules: ``predict`` (``Recognizer``, ``Prediction``, ``Guess``), ``retrain`` (``retrain``,
``RetrainResult``: the workflow), ``head`` (the softmax layer, ``train_head``), ``calibration``
(temperature, ``calibrate``), ``evaluation`` (cross-validation, top-k, confusion), ``review``
(``write_summaries`` and its pictures), ``model_file`` (``load_model``, ``save_model``), ``backbones``
(``BACKBONES``), ``inputs`` (what counts as a photo), ``images`` (robust loading),
``preprocess`` (crop/resize/scale), ``efficientnet`` (the network), ``backbone`` (fast feature
extraction), ``bottleneck`` (the feature cache), ``onnx_export``. The names below are imported
on import (light: NumPy and Pillow; the network loads on first use).
"""

from __future__ import annotations

# Imported here, not lazily: the function ``retrain`` shares its name with its module, and only a
# binding made after the module's import keeps ``petnet.pets.retrain`` the function. All light
# (NumPy, Pillow); torch and onnxruntime load when a backbone is first used.
from petnet.pets.backbones import BACKBONES, FEATURE_DIM
from petnet.pets.images import ImageError
from petnet.pets.model_file import PetModel, load_model, save_model
from petnet.pets.predict import Guess, Prediction, Recognizer
from petnet.pets.retrain import RetrainResult, retrain

__all__ = ["BACKBONES", "FEATURE_DIM", "Guess", "ImageError", "PetModel", "Prediction", "Recognizer",
           "RetrainResult", "load_model", "retrain", "save_model"]
