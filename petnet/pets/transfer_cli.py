"""``petnet transfer``: transfer learning shown -- a CNN from scratch vs the retrained last layer.

A thin shell over :func:`petnet.pets.transfer.compare`: the flags are its keyword arguments, the
report is :meth:`~petnet.pets.transfer.TransferResult.text`. Progress lines go to stderr.
"""

from __future__ import annotations

import sys

from petnet.cliutil import add_command, add_flag, nonneg_number, positive_int, positive_number
from petnet.output_guard import Input, Output
from petnet.pets.backbones import BACKBONES

EPILOG = """\
examples:
  petnet transfer                                  the shared pet photos: 37 breeds, and cat vs dog
  petnet transfer --task species --epochs 20       only cat vs dog, a shorter from-scratch training
  petnet transfer --image_dir photos/ --task classes   your own folder (one sub-folder per class)
  petnet transfer --image_size 96 --architecture lite0

The same photos (a stable hash of the file names, like `petnet retrain`) are held out for every
model and scored once. The CNN from scratch learns only from the training photos (the validation
photos choose its epoch); the softmax layer learns from the same training photos on top of the
frozen EfficientNet-Lite features (transfer learning by feature extraction). Measured numbers and
what they mean: docs/pets.md, "Transfer learning". Takes 1-3 minutes on 2 CPU cores.
"""


def _default_image_dir() -> str:
    from petnet.paths import shared_data
    return str(shared_data("pets", "train"))


def register(subparsers) -> None:
    p = add_command(
        subparsers, "transfer", cmd_transfer, inputs=(Input("image_dir", "tree"),),
        outputs=(Output("bottleneck_dir", "folder"),),
        help="transfer learning shown: a CNN from scratch vs the retrained last layer, same photos",
        description="Train a small CNN from scratch (petnet.nn) and a softmax layer on frozen "
                    "EfficientNet-Lite features on the same training photos; print the test accuracy "
                    "of both and of the majority class on the same held-out photos, with 95% intervals.",
        epilog=EPILOG, params={"random_state": "seed", "tasks": "task"})
    add_flag(p, "image_dir", default=None,
             help="folder with one sub-folder of photos per class (default: the shared pet photos, "
                  "../shared/data/pets/train)")
    add_flag(p, "task", default="both", choices=("both", "classes", "species"),
             help="classes: the sub-folders; species: cat vs dog (Oxford-IIIT breed folders: cats "
                  "capitalised); both (default)")
    add_flag(p, "image_size", type=positive_int, default=64,
             help="side of the CNN's input in pixels (default %(default)s)")
    add_flag(p, "epochs", type=positive_int, default=40, help="CNN training epochs (default %(default)s)")
    add_flag(p, "learning_rate", type=positive_number, default=1e-3,
             help="the CNN's Adam learning rate (default %(default)s)")
    add_flag(p, "batch_size", type=positive_int, default=16, help="the CNN's batch size (default %(default)s)")
    add_flag(p, "testing_percentage", type=positive_number, default=30,
             help="percentage of the photos held out for testing (default %(default)s)")
    add_flag(p, "validation_percentage", type=nonneg_number, default=10,
             help="percentage that chooses the CNN's epoch (default %(default)s)")
    add_flag(p, "architecture", default="lite2", choices=BACKBONES.names(),
             help="the pretrained backbone (default %(default)s, as petnet retrain)")
    add_flag(p, "bottleneck_dir", default=None, help="feature cache folder (default: retrain's)")
    add_flag(p, "seed", type=int, default=0, help="seeds both trainings (default %(default)s)")


def cmd_transfer(args) -> int:
    from petnet.pets.transfer import TASKS, compare
    result = compare(
        args.image_dir or _default_image_dir(),
        tasks=TASKS if args.task == "both" else (args.task,), image_size=args.image_size,
        epochs=args.epochs, learning_rate=args.learning_rate, batch_size=args.batch_size,
        testing_percentage=args.testing_percentage, validation_percentage=args.validation_percentage,
        architecture=args.architecture, bottleneck_dir=args.bottleneck_dir, random_state=args.seed,
        log=lambda line: print(line, file=sys.stderr, flush=True))
    print(result.text())
    return 0
