"""Chapter 6 commands: ``petnet retrain``, ``petnet predict``, ``petnet export``.

``retrain`` takes TensorFlow ``retrain.py``'s flag names (``--image_dir`` ...); the dashed
spellings (``--image-dir``) work too. Heavy imports happen inside the handlers.
"""

from __future__ import annotations

import argparse

from petnet.cli import number

from petnet.pets.retrain import DEFAULTS

RETRAIN_EPILOG = """\
example (the talk's command, petnet edition):
  petnet retrain --image_dir photos/ --bottleneck_dir bottleneck --how_many_training_steps 1000 \\
      --output_graph output/pets.npz --output_labels output/labels.txt
  petnet predict test_photos/ --model output/pets.npz --names chinese.txt

distortions are cached views (fast): --flip_left_right -> flip; --random_crop -> 4 corner crops;
--random_scale -> zoom, wide; --random_brightness -> brighter, darker (x1.2, x0.8).
The model file is a pickle-free .npz (head W, b, labels, architecture, preprocessing).
"""

PREDICT_EPILOG = """\
examples:
  petnet predict examples/                         embedded 37-breed model, Chinese names
  petnet predict 'photos/**/*.jpg' --top 5 --json
  petnet predict cat.jpg --model imagenet          the 1000 ImageNet classes, no training
  petnet predict photos/ --model output/pets.npz --labels output/labels.txt --names chinese.txt
  petnet predict examples/ --sheet sheet.png       contact sheet with the top 3 under each photo
"""


def _add(parser, name, **kw):
    """Add ``--name_with_underscores`` plus the dashed alias ``--name-with-underscores``."""
    flags = [f"--{name}"]
    if "_" in name:
        flags.append(f"--{name.replace('_', '-')}")
    kw.setdefault("dest", name)
    parser.add_argument(*flags, **kw)


def register(subparsers) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    # ---------------------------------------------------------------- retrain
    p = subparsers.add_parser(
        "retrain", help="retrain the last layer on your own photos (retrain.py's flags)",
        description="Retrain the last (softmax) layer of a pretrained EfficientNet-Lite on a folder "
                    "with one sub-folder of photos per class, like TensorFlow's retrain.py.",
        epilog=RETRAIN_EPILOG, formatter_class=fmt)
    _add(p, "image_dir", required=True, help="folder with one sub-folder of photos per class")
    _add(p, "output_graph", default="output/pets.npz", help="model file to write (.npz; default %(default)s)")
    _add(p, "output_labels", default="output/labels.txt", help="labels file, one per line (default %(default)s)")
    _add(p, "bottleneck_dir", default=None,
         help="feature cache folder (default $PETNET_CACHE/bottlenecks or ~/.cache/petnet/bottlenecks)")
    _add(p, "summaries_dir", default=None,
         help="write metrics.json, history.csv, confusion.png to a new run-* sub-folder here")
    _add(p, "architecture", default=DEFAULTS["architecture"], choices=("lite0", "lite1", "lite2"),
         help="backbone (default %(default)s: the most accurate)")
    _add(p, "model_dir", default=None, help="accepted for compatibility with retrain.py; ignored")
    _add(p, "how_many_training_steps", type=int, default=DEFAULTS["how_many_training_steps"],
         help="training steps (default %(default)s)")
    _add(p, "learning_rate", type=number, default=DEFAULTS["learning_rate"], help="default %(default)s")
    _add(p, "optimizer", default=DEFAULTS["optimizer"],
         help="petnet.optim optimizer: gd, momentum, nesterov, adagrad, rmsprop, adam (default %(default)s)")
    _add(p, "l2", type=number, default=DEFAULTS["l2"], help="weight decay of the new layer (default %(default)s)")
    _add(p, "train_batch_size", type=int, default=DEFAULTS["train_batch_size"], help="default %(default)s")
    _add(p, "validation_percentage", type=number, default=DEFAULTS["validation_percentage"],
         help="percent of photos for validation (default %(default)s)")
    _add(p, "testing_percentage", type=number, default=DEFAULTS["testing_percentage"],
         help="percent of photos for the final test (default %(default)s)")
    _add(p, "eval_step_interval", type=int, default=DEFAULTS["eval_step_interval"],
         help="print accuracy every N steps (default %(default)s)")
    _add(p, "validation_batch_size", type=int, default=-1, help="-1 (default): the whole validation set")
    _add(p, "test_batch_size", type=int, default=-1, help="-1 (default): the whole test set")
    _add(p, "print_misclassified_test_images", action="store_true", help="list the test photos it got wrong")
    _add(p, "flip_left_right", action="store_true", help="add the mirrored view (also averaged at test time)")
    _add(p, "random_crop", action="store_true", help="add 4 corner crops (cached views)")
    _add(p, "random_scale", action="store_true", help="add zoomed-in and wider views (cached)")
    _add(p, "random_brightness", action="store_true", help="add brighter and darker views (cached)")
    _add(p, "quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_retrain)

    # ---------------------------------------------------------------- predict
    q = subparsers.add_parser(
        "predict", help="recognise pets: top 3 with Chinese names (embedded 37-breed model)",
        description="Recognise the pets in photos, folders (recursive) or globs, printing the top "
                    "classes like the talk's script: '<path> 可能是:' then 'name (score = 0.12345)'.",
        epilog=PREDICT_EPILOG, formatter_class=fmt)
    q.add_argument("paths", nargs="+", metavar="PATH", help="photo files, folders or globs")
    q.add_argument("--model", default="default",
                   help="model .npz from 'petnet retrain', 'imagenet' (1000 classes), or default")
    q.add_argument("--labels", default=None, help="labels file (one per line) to use instead of the model's")
    q.add_argument("--names", default=None, help="english,中文 names file (default for the embedded model: its Chinese names)")
    q.add_argument("--top", type=int, default=3, help="how many guesses per photo (default %(default)s)")
    q.add_argument("--json", action="store_true", help="one JSON object per line: {path, top: [{label, name, score}]}")
    q.add_argument("--csv", action="store_true", help="CSV rows: path,rank,label,name,score")
    q.add_argument("--sheet", default=None, metavar="PNG", help="write a contact sheet (photo + top 3)")
    q.add_argument("--show", action="store_true", help="show the contact sheet in a window")
    q.add_argument("--architecture", default="lite2", choices=("lite0", "lite1", "lite2"),
                   help="backbone for --model imagenet (a retrained model names its own)")
    q.add_argument("--engine", default="auto", choices=("auto", "onnx", "torch"),
                   help="auto: ONNX Runtime when installed (fastest), else PyTorch")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=_predict)

    # ---------------------------------------------------------------- export
    e = subparsers.add_parser(
        "export", help="export a model as one ONNX graph (photo tensor -> probabilities)",
        description="Write the backbone and a retrained head (or the ImageNet head) as one ONNX file "
                    "that ONNX Runtime runs anywhere; the labels and preprocessing are in its metadata.",
        epilog="example:\n  petnet export --model output/pets.npz --format onnx -o pets.onnx\n"
               "input 'image': (N, S, S, 3) float32 RGB scaled (x - 127) / 128 of the centre crop; "
               "output 'probabilities'.", formatter_class=fmt)
    e.add_argument("--model", default="default", help="model .npz, 'imagenet' or default (embedded)")
    e.add_argument("--format", default="onnx", choices=("onnx",), help="only onnx")
    e.add_argument("-o", "--output", required=True, help="file to write, e.g. pets.onnx")
    e.add_argument("--architecture", default="lite2", choices=("lite0", "lite1", "lite2"),
                   help="backbone for --model imagenet")
    e.set_defaults(func=_export)


def _retrain(args) -> int:
    from petnet.pets.retrain import run
    return run(args)


def _predict(args) -> int:
    from petnet.pets.predict import run
    return run(args)


def _export(args) -> int:
    from petnet.pets.onnx_export import export_onnx
    from petnet.pets.predict import Recognizer
    if args.model == "imagenet":
        out = export_onnx(args.architecture, args.output, head=None)
    else:
        rec = Recognizer(args.model)
        out = export_onnx(rec.arch, args.output, head=(rec.W, rec.b), labels=rec.labels,
                          flip="flip" in rec.test_views)
    print(f"wrote {out}")
    return 0
