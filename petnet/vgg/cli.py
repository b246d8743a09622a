"""``petnet vgg``: the VGG configurations of chapter 5 (summary) and a VGG-style net on MNIST."""

from __future__ import annotations

import sys

from petnet.cliutil import add_command, add_group
from petnet.output_guard import Input
from petnet.errors import PetnetError

SUMMARY_DESC = """\
Per-layer accounting of a VGG configuration (talk, section 5.2), computed from the layer
configuration alone -- no weights are allocated, so it is instant even for VGG16's 138 M parameters.

For each layer: output shape, parameters (K*K*C_in*F + F for a convolution: the kernel is shared
by all positions), multiply-accumulates (K*K*C_in*F*H_out*W_out), activation memory (float32,
one image) and receptive field. Configurations of the VGG paper: A (VGG11), A-LRN, B (VGG13),
C (1x1 convs), D (VGG16), E (VGG19).
"""

SUMMARY_EPILOG = """\
examples:
  petnet vgg summary                         VGG16 at 224x224, 1000 classes
  petnet vgg summary --config E --json       VGG19 as JSON
  petnet vgg summary --config A --input 32 --classes 10 --no-top --pooling avg
"""

MNIST_DESC = """\
Train a small VGG-style network (two VGG blocks of 3x3 convolutions with batch normalisation,
2x2 max pooling, then dense layers) on MNIST with the NumPy engine petnet.nn, and report the
test accuracy and the time taken.
"""

MNIST_EPILOG = """\
examples:
  petnet vgg mnist --epochs 1 --limit 6000          quick run on 6000 training images
  petnet vgg mnist --epochs 2 --limit 0              the whole training set (slow on a CPU)
"""


def register(subparsers) -> None:
    sub = add_group(subparsers, "vgg", help="VGG A-E: per-layer parameters and MACs; a VGG-style net on MNIST",
                    description="VGG (talk, chapter 5).",
                    epilog="examples:\n  petnet vgg summary --config D\n  petnet vgg mnist --epochs 1")

    s = add_command(sub, "summary", cmd_summary, inputs=(), outputs=(), help="per-layer output shape, parameters, MACs, activation memory",
                    description=SUMMARY_DESC, epilog=SUMMARY_EPILOG)
    s.add_argument("--config", default="D",
                   help="A, A-LRN, B, C, D or E (or VGG11, VGG13, VGG16, VGG19); default D = VGG16")
    s.add_argument("--input", type=int, default=224, metavar="SIZE", help="input image side (default 224)")
    s.add_argument("--classes", type=int, default=1000, help="number of classes of the top layer (default 1000)")
    s.add_argument("--no-top", dest="include_top", action="store_false",
                   help="leave out flatten/fc1/fc2/predictions (Keras include_top=False)")
    s.add_argument("--pooling", choices=("avg", "max"), default=None,
                   help="with --no-top: global average or max pooling at the end")
    s.add_argument("--batch-norm", action="store_true", help="a BatchNormalization after every convolution")
    s.add_argument("--json", action="store_true", help="print JSON instead of the table")

    m = add_command(sub, "mnist", cmd_mnist, inputs=(Input("data", "folder"),), outputs=(), help="train a VGG-style net with batch norm on MNIST (NumPy engine)",
                    description=MNIST_DESC, epilog=MNIST_EPILOG,
                    params={"learning_rate": "lr", "random_state": "seed"})
    m.add_argument("--data", default=None, help="folder with the MNIST idx .gz files (default ../shared/data/mnist)")
    m.add_argument("--epochs", type=int, default=1, help="passes over the training subset (default 1)")
    m.add_argument("--limit", type=int, default=6000,
                   help="use the first N training images (default 6000; 0 = all 60000)")
    m.add_argument("--test-limit", type=int, default=0, help="evaluate on the first N test images (default 0 = all 10000)")
    m.add_argument("--batch-size", type=int, default=64, help="mini-batch size (default 64)")
    m.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    m.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    m.add_argument("--quiet", action="store_true", help="no progress bar")


def cmd_summary(args) -> int:
    from petnet.vgg.summary import summary

    if args.input < 1:
        raise PetnetError(f"--input must be a positive image size, got {args.input}")
    if args.classes < 1:
        raise PetnetError(f"--classes must be positive, got {args.classes}")
    if args.pooling and args.include_top:
        raise PetnetError("--pooling only applies without the top; add --no-top")
    s = summary(args.config, (args.input, args.input, 3), classes=args.classes, include_top=args.include_top,
                pooling=args.pooling, batch_norm=args.batch_norm)
    print(s.to_json() if args.json else s.text())
    return 0


def cmd_mnist(args) -> int:
    from petnet.vgg.mnist import train_mnist

    r = train_mnist(args.data, epochs=args.epochs, limit=args.limit, test_limit=args.test_limit,
                    batch_size=args.batch_size, learning_rate=args.lr, random_state=args.seed,
                    verbose=not args.quiet, log=None if args.quiet else (lambda line: print(line, file=sys.stderr)))
    if not args.quiet:
        r.model.summary()
    print(f"VGG-style net ({r.params:,} parameters), {r.epochs} epoch(s) on {r.train_images} "
          f"training images, batch {r.batch_size}: train accuracy {r.train_accuracy:.4f}")
    print(f"test accuracy {r.test_accuracy:.4f} (loss {r.test_loss:.4f}) on {r.test_images} test images; "
          f"training {r.train_seconds:.1f} s, testing {r.test_seconds:.1f} s")
    return 0
