"""Chapter 6 commands: ``petnet retrain``, ``petnet predict``, ``petnet export``.

Each handler turns flags into keyword arguments of :mod:`petnet.pets`'s API (``retrain``,
``Recognizer``, ``export_onnx``), calls it and prints what it returns. ``retrain`` takes
TensorFlow ``retrain.py``'s flag names (``--image_dir`` ...); the dashed spellings
(``--image-dir``) work too. The API is imported inside the handlers so ``petnet --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys

from petnet.cliutil import add_command, add_flag, number
from petnet.output_guard import Input, Output
from petnet.pets.openworld import DEFAULT_MIN_BREED_SCORE, DEFAULT_MIN_CLASS_SIMILARITY, DEFAULT_MIN_PET_SCORE
from petnet.pets.backbones import BACKBONES
from petnet.pets.retrain import DEFAULTS   # retrain()'s signature; light (numpy only)

PRECISION_CHOICES = ("auto", "fp32", "int8")
PRECISION_HELP = ("backbone arithmetic: int8 (quantized, faster; ONNX Runtime on the CPU), fp32, or auto "
                  "(default: a retrained model's own precision, else the architecture's measured default; "
                  "docs/pets_backbone.md)")
DEVICE_HELP = "cpu (default), cuda, or auto (CUDA when ONNX Runtime or PyTorch sees a GPU)"

RETRAIN_EPILOG = """\
example (the talk's command, petnet edition):
  petnet retrain --image_dir photos/ --bottleneck_dir bottleneck --how_many_training_steps 1000 \\
      --output_graph output/pets.npz --output_labels output/labels.txt
  petnet predict test_photos/ --model output/pets.npz --names chinese.txt

distortions are cached views (fast): --flip_left_right -> flip; --random_crop -> 4 corner crops;
--random_scale -> zoom, wide; --random_brightness -> brighter, darker (x1.2, x0.8).
The model file is a pickle-free .npz archive (head W, b, labels, Chinese names, architecture,
preprocessing) whatever its name: the talk's --output_graph output/graph.pb works, and
'petnet predict --model output/graph.pb' reads it (TensorFlow cannot; 'petnet export' makes ONNX).
"""

PREDICT_EPILOG = """\
examples:
  petnet predict examples/                         embedded 37-breed model, Chinese names
  petnet predict 'photos/**/*.jpg' --top 5 --json
  petnet predict cat.jpg --model imagenet          the 1000 ImageNet classes, no training
  petnet predict photos/ --model output/pets.npz --labels output/labels.txt --names chinese.txt
  petnet predict examples/ --sheet sheet.png       contact sheet with the top 3 under each photo
  petnet predict photos/ --ray local --out results.parquet   bulk, on Ray (resumable; pip install 'petnet[ray]')
  petnet predict photos/ --min_pet_score 0.2       accept more photos as cats or dogs

every photo is first asked "is it a cat or dog at all?" (the pet score: the backbone's ImageNet
cat + dog probability, best of up to 8 views): below --min_pet_score the answer is
'<path> 不像猫或狗 (更像: <ImageNet class>, score = ...)'; a pet whose top class scores below
--min_breed_score (or is of the other species, or is further than --min_class_similarity from
the top class's training photos) is printed as '<path> 可能是 (不确定):'.
Measured trade-offs: docs/pets_openworld.md.
"""

EXPORT_EPILOG = ("example:\n  petnet export --model output/pets.npz --format onnx -o pets.onnx\n"
                 "input 'image': (N, S, S, 3) float32 RGB scaled (x - 127) / 128 of the centre crop; "
                 "output 'probabilities'.")

BAR_FROM = 64   # petnet predict shows a progress bar from this many photos on


def model_file(args):
    """The model file ``--model`` reads (None for the keywords ``default`` and ``imagenet``)."""
    return None if args.model in ("default", "imagenet") else args.model


#: the files the recognition flags read (:func:`add_recognition_flags`): predict's and serve's inputs
RECOGNITION_INPUTS = (Input("model", value=model_file), Input("labels"), Input("names"))


def register(subparsers) -> None:
    archs = BACKBONES.names()
    d = DEFAULTS
    # ---------------------------------------------------------------- retrain
    p = add_command(
        subparsers, "retrain", cmd_retrain, inputs=(Input("image_dir", "tree"),),
        outputs=("output_graph", "output_labels", Output("summaries_dir", "folder"),
                 Output("bottleneck_dir", "folder")),
        help="retrain the last layer on your own photos (retrain.py's flags)",
        description="Retrain the last (softmax) layer of a pretrained EfficientNet-Lite on a folder "
                    "with one sub-folder of photos per class, like TensorFlow's retrain.py.",
        epilog=RETRAIN_EPILOG,
        params={"max_iter": "how_many_training_steps", "batch_size": "train_batch_size",
                "random_state": "seed"})
    add_flag(p, "image_dir", required=True, help="folder with one sub-folder of photos per class")
    add_flag(p, "output_graph", default="output/pets.npz",
             help="model file to write (a pickle-free .npz archive under any name; default %(default)s)")
    add_flag(p, "output_labels", default="output/labels.txt", help="labels file, one per line (default %(default)s)")
    add_flag(p, "bottleneck_dir", default=None,
             help="feature cache folder (default $PETNET_CACHE/bottlenecks or ~/.cache/petnet/bottlenecks)")
    add_flag(p, "summaries_dir", default=None,
             help="write metrics.json, history.csv, confusion.png (test set), confusion_cv.png (all photos, "
                  "cross-validated), top_losses.png, training_curve.png, reliability.png to a new run-* "
                  "sub-folder here")
    add_flag(p, "architecture", default=d["architecture"], choices=archs,
             help="backbone (default %(default)s: the most accurate)")
    add_flag(p, "model_dir", default=None, help="accepted for compatibility with retrain.py; ignored")
    add_flag(p, "how_many_training_steps", type=int, default=d["max_iter"],
             help="training steps (default %(default)s)")
    add_flag(p, "learning_rate", type=number, default=d["learning_rate"], help="default %(default)s")
    from petnet.optim import OPTIMIZERS
    add_flag(p, "optimizer", default=d["optimizer"],
             help=f"petnet.optim optimizer: {', '.join(OPTIMIZERS.names())} (default %(default)s)")
    add_flag(p, "l2", type=number, default=d["l2"], help="weight decay of the new layer (default %(default)s)")
    add_flag(p, "train_batch_size", type=int, default=d["batch_size"], help="default %(default)s")
    add_flag(p, "validation_percentage", type=number, default=d["validation_percentage"],
             help="percent of photos for validation (default %(default)s)")
    add_flag(p, "testing_percentage", type=number, default=d["testing_percentage"],
             help="percent of photos for the final test (default %(default)s)")
    add_flag(p, "eval_step_interval", type=int, default=d["eval_step_interval"],
             help="print accuracy every N steps (default %(default)s)")
    add_flag(p, "validation_batch_size", type=int, default=-1, help="-1 (default): the whole validation set")
    add_flag(p, "test_batch_size", type=int, default=-1, help="-1 (default): the whole test set")
    add_flag(p, "print_misclassified_test_images", action="store_true", help="list the test photos it got wrong")
    add_flag(p, "flip_left_right", action="store_true", help="add the mirrored view (also averaged at test time)")
    add_flag(p, "random_crop", action="store_true", help="add 4 corner crops (cached views)")
    add_flag(p, "random_scale", action="store_true", help="add zoomed-in and wider views (cached)")
    add_flag(p, "random_brightness", action="store_true", help="add brighter and darker views (cached)")
    add_flag(p, "seed", type=int, default=d["random_state"],
             help="random seed of the training (batches, initial weights; default %(default)s)")
    add_flag(p, "quiet", action="store_true", help="no progress bars")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"), help=DEVICE_HELP)
    p.add_argument("--precision", default="auto", choices=PRECISION_CHOICES,
                   help="the backbone arithmetic of the features, stored in the model file so that "
                        "'petnet predict' uses it again: int8 (quantized, ONNX Runtime on the CPU), fp32, "
                        "or auto (default: the architecture's measured default; docs/pets_backbone.md)")
    # --ray: added by petnet.scale.cli, a floor above (docs/architecture.md)

    # ---------------------------------------------------------------- predict
    q = add_command(
        subparsers, "predict", cmd_predict, inputs=(Input("paths", "photos"),) + RECOGNITION_INPUTS,
        outputs=(Output("sheet", "picture"),),
        help="recognise pets: top 3 with Chinese names (embedded 37-breed model)",
        description="Recognise the pets in photos, folders (recursive) or globs, printing the top "
                    "classes like the talk's script: '<path> 可能是:' then 'name (score = 0.12345)'.",
        epilog=PREDICT_EPILOG)
    q.add_argument("paths", nargs="+", metavar="PATH", help="photo files, folders or globs")
    add_recognition_flags(q)
    q.add_argument("--json", action="store_true", help="one JSON object per line with every field of the "
                   "answer: path, verdict, is_pet, species, species_score, pet_score, top: [{label, name, "
                   "score, species}], unsure, unsure_reason, message_zh, message_en, imagenet_top, "
                   "class_similarity, error (docs/pets_openworld.md)")
    q.add_argument("--csv", action="store_true", help="CSV, one row per guess: path,rank,label,name,score,"
                   "label_species, then the other fields of --json (imagenet_top as imagenet_label,"
                   "imagenet_name,imagenet_score,imagenet_species)")
    q.add_argument("--sheet", default=None, metavar="PNG", help="write a contact sheet (photo + top 3)")
    q.add_argument("--show", action="store_true", help="show the contact sheet in a window")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    # --ray, --out, --workers: added by petnet.scale.cli, a floor above (docs/architecture.md)

    # ---------------------------------------------------------------- export
    e = add_command(
        subparsers, "export", cmd_export, inputs=(Input("model", value=model_file),),
        outputs=(Output("output", example="pets.onnx"),),
        help="export a model as one ONNX graph (photo tensor -> probabilities)",
        description="Write the backbone and a retrained head (or the ImageNet head) as one ONNX file "
                    "that ONNX Runtime runs anywhere; the labels and preprocessing are in its metadata.",
        epilog=EXPORT_EPILOG)
    e.add_argument("--model", default="default", help="model .npz, 'imagenet' or default (embedded)")
    e.add_argument("--format", default="onnx", choices=("onnx",), help="only onnx")
    e.add_argument("-o", "--output", required=True, help="file to write, e.g. pets.onnx")
    e.add_argument("--architecture", default="lite2", choices=archs,
                   help="backbone for --model imagenet")
    e.add_argument("--precision", default="fp32", choices=("fp32", "int8"),
                   help="fp32 (default) or int8: the features in the statically quantized graph "
                        "petnet runs with --precision int8 (the head stays fp32)")


def add_recognition_flags(parser, *, model_default: str = "default") -> None:
    """The flags of every setting that changes an answer (one
    :class:`~petnet.pets.config.RecognizerConfig`): ``petnet predict``, ``petnet predict --ray``
    and ``petnet serve`` take exactly these; :func:`recognizer_config` reads them back."""
    from petnet.pets.preprocess import VIEWS
    g = parser.add_argument_group("recognition (the same flags for predict, predict --ray and serve)")
    g.add_argument("--model", default=model_default,
                   help="model file from 'petnet retrain' (any name: .npz, the talk's graph.pb ...), "
                        "'imagenet' (the 1000 ImageNet classes) or default (the embedded 37 breeds)")
    g.add_argument("--labels", default=None, help="labels file (one per line) to use instead of the model's")
    g.add_argument("--names", default=None,
                   help="english,中文 names file (default: the names stored in the model file, else "
                        "petnet's Chinese names of the 37 breeds)")
    g.add_argument("--top", type=int, default=3, help="how many guesses per photo (default %(default)s)")
    add_flag(g, "min_pet_score", type=number, default=DEFAULT_MIN_PET_SCORE,
             help="pet score (0..1) from which a photo counts as a cat or dog (default %(default)s; "
                  "measured trade-offs: docs/pets_openworld.md)")
    add_flag(g, "min_breed_score", type=number, default=DEFAULT_MIN_BREED_SCORE,
             help="a pet's top class below this probability is 'unsure' (default %(default)s)")
    add_flag(g, "min_class_similarity", type=number, default=DEFAULT_MIN_CLASS_SIMILARITY,
             help="a pet whose cosine similarity to its top class's mean training feature is below "
                  "this is 'unsure' too (-1..1; model files with class features; default %(default)s: "
                  "photos of breeds the model never saw flagged 55%% instead of 42%%, its own breeds' answers "
                  "15%% instead of 13%%; 5-fold CV)")
    add_flag(g, "test_views", default=None, metavar="VIEWS",
             help=f"comma-separated views whose softmax is averaged (default: the model's own; "
                  f"views: {', '.join(VIEWS)})")
    g.add_argument("--architecture", default="lite2", choices=BACKBONES.names(),
                   help="backbone for --model imagenet (a retrained model names its own)")
    g.add_argument("--engine", default="auto", choices=("auto", "onnx", "torch"),
                   help="auto: ONNX Runtime when installed (fastest), else PyTorch")
    g.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"), help=DEVICE_HELP)
    g.add_argument("--precision", default="auto", choices=PRECISION_CHOICES, help=PRECISION_HELP)


def recognizer_config(args):
    """The :class:`~petnet.pets.config.RecognizerConfig` of :func:`add_recognition_flags`'s flags
    (checked: a bad value is a ``ParamError`` naming the setting, which is the flag's name)."""
    from petnet.pets.config import RecognizerConfig
    return RecognizerConfig(model=args.model, top=args.top, labels=args.labels, names=args.names,
                            min_pet_score=args.min_pet_score, min_breed_score=args.min_breed_score,
                            min_class_similarity=args.min_class_similarity, test_views=args.test_views,
                            architecture=args.architecture, engine=args.engine,
                            device=args.device, precision=args.precision).checked()


def _stdout(line: str) -> None:
    from petnet.safe_io import printable
    print(printable(line), flush=True)


def cmd_retrain(args) -> int:
    from petnet.atomic import check_output_path
    from petnet.pets.model_file import check_output_names
    from petnet.pets.retrain import retrain
    from petnet.pets.review import write_summaries
    from petnet.progress import Reporter

    check_output_names(args.output_graph, args.output_labels)              # before minutes of features
    check_output_path(args.output_graph, "--output_graph", "pets.npz")
    check_output_path(args.output_labels, "--output_labels", "labels.txt")
    if args.model_dir:
        print(f"note: --model_dir {args.model_dir} is ignored: petnet's EfficientNet-Lite weights "
              "ship inside the installed packages (no download)")

    def whole_set(n):      # the flag's -1 means "the whole set"; other values are checked by retrain
        return None if n == -1 else n

    # the lines retrain's events carry, printed; a bar per phase on a terminal
    report = Reporter(_stdout, bars=not args.quiet, desc={"features": f"bottlenecks {args.architecture}"})

    result = retrain(
        args.image_dir, architecture=args.architecture, max_iter=args.how_many_training_steps,
        learning_rate=args.learning_rate, batch_size=args.train_batch_size, l2=args.l2,
        optimizer=args.optimizer, validation_percentage=args.validation_percentage,
        testing_percentage=args.testing_percentage, eval_step_interval=args.eval_step_interval,
        validation_batch_size=whole_set(args.validation_batch_size),
        test_batch_size=whole_set(args.test_batch_size), flip_left_right=args.flip_left_right,
        random_crop=args.random_crop, random_scale=args.random_scale,
        random_brightness=args.random_brightness, bottleneck_dir=args.bottleneck_dir,
        random_state=args.seed, review=bool(args.summaries_dir), progress=report,
        backbone_factory=_backbone_factory(args), precision=args.precision)
    report.close()
    m = result.metrics
    if "test_accuracy" in m:
        print(f"Final test accuracy = {100 * m['test_accuracy']:.1f}% (N={m['test_n']})")
        if args.print_misclassified_test_images:
            print("=== MISCLASSIFIED TEST IMAGES ===")
            for path, guess in result.misclassified:
                _stdout(f"{path}  (predicted {guess})")
    else:
        print("Final test accuracy = - (N=0): no testing images (--testing_percentage 0)")
    result.save(args.output_graph, args.output_labels)
    from petnet.pets.model_file import format_note
    print(f"saved the model to {args.output_graph} and the labels to {args.output_labels}")
    print(format_note(args.output_graph))
    if args.summaries_dir:
        folder = write_summaries(args.summaries_dir, m, result.confusion, result.labels, progress=report,
                                 result=result)
        print(f"summaries in {folder}")
    return 0


def _backbone_factory(args):
    """What ``retrain(backbone_factory=...)`` gets: one that a higher floor put in ``args``
    (``petnet.scale.cli`` for ``--ray``), else a backbone on ``--device`` (None: the default)."""
    if getattr(args, "backbone_factory", None) is not None:
        return args.backbone_factory
    if args.device != "cpu":
        import functools

        from petnet.pets.backbone import Backbone
        from petnet.pets.quantize import resolve_precision
        # int8 runs on the CPU only: on cuda/auto 'auto' is fp32 and an explicit int8 an error
        precision = resolve_precision(args.precision, args.architecture, "onnx", "cuda")
        return functools.partial(Backbone, args.architecture, device=args.device, precision=precision)
    return None


def cmd_predict(args) -> int:
    from petnet.errors import PetnetError
    from petnet.pets.predict import Recognizer, collect_paths, format_text
    from petnet.safe_io import printable

    if args.json and args.csv:
        raise PetnetError("choose one of --json and --csv")
    paths, notes = collect_paths(args.paths)           # --sheet is none of them: the output guard checked
    for note in notes:
        print(f"note: {printable(note)}", file=sys.stderr)
    if not paths:
        raise PetnetError("no photos to recognise")
    rec = Recognizer.from_config(recognizer_config(args))
    preds = rec.predict(paths, progress=not args.quiet and len(paths) >= BAR_FROM)
    for pr in preds:
        if pr.error is not None:
            print(f"skipped {printable(pr.source)}: {printable(pr.error)}", file=sys.stderr)
    preds = [pr for pr in preds if pr.error is None]
    if args.csv:
        import csv

        from petnet.pets.answer import csv_header, csv_rows
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(csv_header())
        for pr in preds:
            w.writerows(csv_rows(pr))
    elif args.json:
        for pr in preds:
            print(json.dumps(pr.to_dict(), ensure_ascii=False))
    else:
        for pr in preds:
            print(format_text(pr, imagenet=rec.imagenet))
    if args.sheet or args.show:
        from petnet.pets.sheet import MAX_SHEET_PHOTOS, contact_sheet, has_display, verdict
        out, show = args.sheet, args.show
        if show and not has_display():
            show = False
            if not out:
                import tempfile
                fd, out = tempfile.mkstemp(prefix="petnet-sheet-", suffix=".png")
                os.close(fd)
            print(f"note: --show: no display here (DISPLAY and WAYLAND_DISPLAY are not set), so no "
                  f"window can open; the contact sheet is written to {out} instead", file=sys.stderr)
        _, all_drawn = contact_sheet([(pr.source, pr.top, verdict(pr, rec.imagenet)) for pr in preds],
                                     out, show=show)
        if out:
            print(f"contact sheet: {printable(out)}", file=sys.stderr)
        if len(preds) > MAX_SHEET_PHOTOS:
            print(f"note: the contact sheet shows the first {MAX_SHEET_PHOTOS} of the {len(preds)} photos",
                  file=sys.stderr)
        if not all_drawn:
            print("note: some Chinese names have characters that no installed font can draw (petnet's "
                  "own font covers only its breed names), so the sheet shows them in English; "
                  "install a CJK font, e.g. fonts-noto-cjk", file=sys.stderr)
    if not preds:
        raise PetnetError("none of the given files could be read as a photo")
    return 0


def cmd_export(args) -> int:
    from petnet.pets.onnx_export import export_onnx
    from petnet.pets.predict import Recognizer
    if args.model == "imagenet":
        out = export_onnx(args.architecture, args.output, head=None, precision=args.precision)
    else:
        rec = Recognizer(args.model)
        out = export_onnx(rec.architecture, args.output, head=(rec.model.W, rec.model.b),
                          labels=rec.labels, flip="flip" in rec.test_views, precision=args.precision)
    print(f"wrote {out}")
    return 0
