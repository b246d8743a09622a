"""``petnet nn ...`` and ``petnet backprop``: chapters 3-4 on the command line.

* ``petnet backprop``      -- the talk's section 4.2 worked by hand: forward values, local gradients
                              d3, d2, d1, parameter gradients, gradient descent, the 4x4 -> 5 example
* ``petnet nn gradcheck``  -- every layer's hand-written backward against central differences
* ``petnet nn perceptron`` -- the hardlim neuron learning AND / OR by the perceptron rule, failing on XOR
* ``petnet nn mnist``      -- train a small CNN on MNIST with the NumPy engine, report test accuracy

Each handler ``cmd_<name>(args)`` turns the flags into keyword arguments of the chapter's Python
API (``backprop.worked_example``, ``gradcheck.gradcheck_all``, ``Perceptron``, ``mnist.train_mnist``),
calls it and prints what it returns. NumPy-heavy modules are imported inside the handlers so
``petnet --help`` stays fast.
"""

from __future__ import annotations

import json
import sys

from petnet.cliutil import add_command, add_group, nonneg_int, nonneg_number, number, positive_int, positive_number
from petnet.output_guard import Input, Output

DATA = Input("data", "folder")     # the MNIST folder: its idx files are read
PLOT = Output("plot", "picture")

BACKPROP_EPILOG = """\
examples:
  petnet backprop                                 # sigmoid, x = 1, t = 0.9, 10 steps of gradient descent
  petnet backprop --activation purelin            # the talk's linear form: d3 = Y3 - t, d2 = d3*w3, d1 = d2*w2
  petnet backprop --x 2 --t 0.2 --w 0.3 0.3 0.3 --b 0 0 0 --lr 0.5 --steps 20
  petnet backprop --json                          # everything as one JSON object
"""

GRADCHECK_EPILOG = """\
examples:
  petnet nn gradcheck            # table: layer, max relative error, ok/FAIL
  petnet nn gradcheck --json     # {"layers": {"Conv2D": 1e-9, ...}, "max_rel_error": ...}
"""

MNIST_EPILOG = """\
examples:
  petnet nn mnist                                  # ../shared/data/mnist, 5 epochs, Adam, batch 64
  petnet nn mnist --limit 2000 --epochs 1          # a quick look (train on the first 2000 images)
  petnet nn mnist --json --save mnist_cnn.npz      # JSON result, keep the trained weights
"""


# --------------------------------------------------------------------------- handlers
def cmd_backprop(args) -> int:
    from petnet.nn import backprop

    r = backprop.worked_example(x=args.x, t=args.t, w=args.w, b=args.b, activation=args.activation,
                                steps=args.steps, learning_rate=args.lr, optimizer=args.optimizer,
                                random_state=args.seed)
    print(json.dumps(r.to_dict(), indent=2) if args.json else backprop.format_report(r))
    return 0


def cmd_gradcheck(args) -> int:
    from petnet.nn.gradcheck import gradcheck_all

    layers = gradcheck_all()["layers"]
    worst = max(layers.values())
    ok = {k: v <= args.tol for k, v in layers.items()}
    if args.json:
        print(json.dumps({"layers": layers, "max_rel_error": worst, "tolerance": args.tol,
                          "ok": all(ok.values())}, indent=2))
    else:
        width = max([len("layer")] + [len(k) for k in layers])
        print(f"{'layer':<{width}}  {'max rel error':>13}  status")
        print(f"{'-' * width}  {'-' * 13}  ------")
        for k, v in layers.items():
            print(f"{k:<{width}}  {v:13.3e}  {'ok' if ok[k] else 'FAIL'}")
        print(f"{'-' * width}  {'-' * 13}  ------")
        print(f"{'max':<{width}}  {worst:13.3e}  {'ok' if all(ok.values()) else 'FAIL'}"
              f"   (float64 central differences, tolerance {args.tol:g})")
    return 0 if all(ok.values()) else 1


def cmd_perceptron(args) -> int:
    from dataclasses import asdict

    from petnet.nn.perceptron import AND, OR, XOR, Perceptron, gradient_descent

    sets = {"and": AND, "or": OR, "xor": XOR}
    names = list(sets) if args.gate == "all" else [args.gate]
    results = {}
    for name in names:
        X, t = sets[name]
        p = Perceptron(learning_rate=args.lr, max_iter=args.max_epochs).fit(X, t)
        results[name.upper()] = {"converged": p.converged_, "epochs": p.n_iter_, "w": p.coef_.tolist(),
                                 "b": p.intercept_, "accuracy": p.score(X, t), "mistakes_per_epoch": p.errors_,
                                 "predictions": p.predict(X).tolist(), "targets": t.tolist(),
                                 "report": p.report(X, t, name.upper())}
    # the contrast: the same neuron trained by backpropagation instead, on the first truth table
    gd = gradient_descent(*sets[names[0]], learning_rate=args.lr, max_iter=args.max_epochs)
    if args.json:
        print(json.dumps({**results, "gradient_descent": {"gate": names[0].upper(), **asdict(gd),
                                                          "report": gd.report(names[0].upper())}}, indent=2))
    else:
        print("a = hardlim(w . p + b); perceptron rule: e = t - a, w <- w + lr*e*p, b <- b + lr*e")
        for name, r in results.items():
            print(f"  {r['report']}")
            print(f"    inputs (0,0) (0,1) (1,0) (1,1) -> {r['predictions']} (targets {r['targets']})")
        print(f"backpropagation instead: the engine's Dense(1, activation=\"hardlim\"), gradient descent on the "
              f"mean squared error, lr {args.lr:g}, from random w, b (N(0, 1), seed 0)")
        print(f"  {gd.report(names[0].upper())}")
        print("  hardlim'(n) = 0 wherever it exists: the chain rule multiplies every gradient by it; "
              "the perceptron rule needs no gradient")
    return 0


def cmd_mnist(args) -> int:
    from petnet.nn import mnist

    quiet = args.json or args.quiet
    result = mnist.train_mnist(args.data, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                               limit=args.limit, test_limit=args.test_limit, random_state=args.seed,
                               augment=args.augment, save=args.save, verbose=not quiet,
                               log=None if quiet else (lambda line: print(line, file=sys.stderr)))
    print(json.dumps(result.to_dict(), indent=2) if args.json else mnist.format_result(result))
    return 0


def cmd_vanishing(args) -> int:
    from petnet.nn import vanishing

    quiet = args.json or args.quiet
    r = vanishing.vanishing(args.data, depth=args.depth, width=args.width, batch_size=args.batch_size,
                            n_train=args.limit, n_test=args.test_limit, epochs=args.epochs,
                            learning_rate=args.lr, random_state=args.seed,
                            log=None if quiet else (lambda line: print(line, file=sys.stderr)))
    print(json.dumps(r.to_dict(), indent=2) if args.json else vanishing.format_result(r))
    if args.plot or args.show:
        vanishing.plot_vanishing(r, out=args.plot, show=args.show)
    return 0


def cmd_dropout(args) -> int:
    from petnet.nn import dropout_demo

    r = dropout_demo.dropout_curves(args.data, rate=args.rate, input_rate=args.input_rate, hidden=args.hidden,
                                    n_train=args.limit, n_test=args.test_limit, epochs=args.epochs,
                                    batch_size=args.batch_size, learning_rate=args.lr, random_state=args.seed)
    print(json.dumps(r.to_dict(), indent=2) if args.json else dropout_demo.format_result(r))
    if args.plot or args.show:
        dropout_demo.plot_dropout(r, out=args.plot, show=args.show)
    return 0


def cmd_pooling(args) -> int:
    from petnet.nn import pooling_demo

    # the pets recognizer lives above petnet.nn: the top-level command hands down its factory
    recognizer = None if args.no_predict else args.pet_recognizer(top=1)
    r = pooling_demo.pooling_pyramid(args.photo, size=args.size, factors=args.factors, recognizer=recognizer)
    print(json.dumps(r.to_dict(), indent=2, ensure_ascii=False) if args.json else pooling_demo.format_result(r))
    if args.plot or args.show:
        pooling_demo.plot_pooling(r, out=args.plot, show=args.show)
    return 0


# --------------------------------------------------------------------------- parsers
def worked_activation(value: str) -> str:
    """``--activation`` of ``petnet backprop``: an activation that gradients cannot train (hardlim)
    is refused with the reason, before argparse's list of choices."""
    import argparse

    from petnet.nn.activations import ACTIVATIONS
    if value in ACTIVATIONS.names() and ACTIVATIONS.get(value).not_trainable:
        raise argparse.ArgumentTypeError(f"{value} {ACTIVATIONS.get(value).not_trainable}")
    return value


def register(subparsers) -> None:
    from petnet.nn.backprop import worked_activations   # the engine registry's names (NumPy only)
    from petnet.optim import OPTIMIZERS

    bp = add_command(
        subparsers, "backprop", cmd_backprop, inputs=(), outputs=(),
        help="section 4.2: backpropagation worked by hand, every gradient printed",
        description="The talk's section 4.2: a 3-layer single-input network x -> Y1 -> Y2 -> Y3 with "
                    "E = (Y3 - t)^2 / 2. Prints the forward values, the local gradients "
                    "d3 = (Y3 - t) f'(z3), d2 = d3 w3 f'(z2), d1 = d2 w2 f'(z1), the parameter gradients "
                    "dE/dw_i = d_i * input_i and dE/db_i = d_i, a few gradient-descent steps with E falling, "
                    "and section 4.2.5's 4x4 input -> 5 neurons example (80 weight gradients).",
        epilog=BACKPROP_EPILOG, params={"learning_rate": "lr", "random_state": "seed"})
    bp.add_argument("--x", type=number, default=1.0, help="the single input x (default: 1)")
    bp.add_argument("--t", type=number, default=0.9, help="the target t (default: 0.9)")
    bp.add_argument("--w", type=number, nargs=3, default=[0.5, -0.4, 0.8], metavar=("W1", "W2", "W3"),
                    help="the three weights (default: 0.5 -0.4 0.8)")
    bp.add_argument("--b", type=number, nargs=3, default=[0.1, 0.2, -0.3], metavar=("B1", "B2", "B3"),
                    help="the three biases (default: 0.1 0.2 -0.3)")
    bp.add_argument("--activation", default="sigmoid", type=worked_activation,
                    choices=worked_activations(),
                    help="transfer function f of every neuron (default: sigmoid; purelin = the identity)")
    bp.add_argument("--lr", type=positive_number, default=1.0, help="step size alpha (default: 1.0)")
    bp.add_argument("--steps", type=nonneg_int, default=10, help="gradient-descent steps to show (default: 10)")
    bp.add_argument("--optimizer", default="gd",
                    help=f"a petnet.optim name: {', '.join(OPTIMIZERS.names())} (default: gd)")
    bp.add_argument("--seed", type=nonneg_int, default=0, help="random weights of the 4x4 -> 5 example (default: 0)")
    bp.add_argument("--json", action="store_true", help="print one JSON object instead of the walk-through")

    sub = add_group(
        subparsers, "nn", help="chapters 3-4: the NumPy CNN engine (gradcheck, MNIST)",
        description="Chapters 3-4 of the talk: a from-scratch NumPy CNN engine whose backward passes are "
                    "checked numerically, trained on real MNIST digits.",
        epilog="examples:\n  petnet nn gradcheck\n  petnet nn mnist\n"
               "Run 'petnet nn gradcheck --help' or 'petnet nn mnist --help' for their options.")

    gc = add_command(
        sub, "gradcheck", cmd_gradcheck, inputs=(), outputs=(), help="check every layer's backward against central differences",
        description="For every layer type of petnet.nn (and a small conv net end to end), the maximum "
                    "relative error between the hand-written backward pass and a central-difference "
                    "numerical gradient, in float64. Exit status 1 if any layer is over the tolerance.",
        epilog=GRADCHECK_EPILOG)
    gc.add_argument("--tol", type=positive_number, default=1e-5,
                    help="largest relative error counted as ok (default: 1e-5)")
    gc.add_argument("--json", action="store_true", help="print {\"layers\": {...}, \"max_rel_error\": ...}")

    pc = add_command(
        sub, "perceptron", cmd_perceptron, inputs=(), outputs=(), help="the talk's hardlim neuron learning AND / OR (and failing on XOR)",
        description="One neuron a = hardlim(w . p + b) (section 3.2.1) trained by the perceptron rule "
                    "e = t - a, w <- w + lr*e*p, b <- b + lr*e on the truth tables of AND, OR and XOR. "
                    "AND and OR are linearly separable and converge; XOR is not, and never does.",
        epilog="examples:\n  petnet nn perceptron\n  petnet nn perceptron --gate xor --max-epochs 20 --json\n",
        params={"learning_rate": "lr", "max_iter": "max_epochs"})
    pc.add_argument("--gate", default="all", choices=["all", "and", "or", "xor"],
                    help="which truth table to learn (default: all three)")
    pc.add_argument("--lr", type=positive_number, default=1.0, help="learning rate (default: 1)")
    pc.add_argument("--max-epochs", type=positive_int, default=100, help="give up after this many (default: 100)")
    pc.add_argument("--json", action="store_true", help="print one JSON object")

    mn = add_command(
        sub, "mnist", cmd_mnist, inputs=(DATA,), outputs=("save",), help="train a small CNN on MNIST and report test accuracy",
        description="Train Conv2D(32,3,relu)-MaxPool-Conv2D(64,3,relu)-MaxPool-Flatten-Dense(128,relu)-Dropout(0.5)-Dense(10) "
                    "with Adam on the MNIST training images (idx .gz files) using the NumPy engine, then report "
                    "the accuracy on the 10,000 test images.",
        epilog=MNIST_EPILOG, params={"learning_rate": "lr", "random_state": "seed"})
    mn.add_argument("--data", metavar="DIR",
                    help="folder with the four MNIST idx .gz files (default: ../shared/data/mnist)")
    mn.add_argument("--epochs", type=positive_int, default=5, help="passes over the training set (default: 5)")
    mn.add_argument("--batch-size", type=positive_int, default=64, help="mini-batch size (default: 64)")
    mn.add_argument("--lr", type=positive_number, default=2e-3,
                    help="initial Adam learning rate; it decays exponentially to a tenth of it by the end "
                         "(default: 0.002)")
    mn.add_argument("--limit", type=nonneg_int, default=0,
                    help="train on the first N training images only (default: all 60,000)")
    mn.add_argument("--test-limit", type=nonneg_int, default=0,
                    help="evaluate on the first N test images only (default: all 10,000)")
    mn.add_argument("--augment", action="store_true",
                    help="random shifts of up to 2 pixels during training")
    mn.add_argument("--seed", type=nonneg_int, default=0, help="random seed (weights, shuffling, dropout)")
    mn.add_argument("--save", metavar="FILE.npz", help="save the trained weights (.npz)")
    mn.add_argument("--quiet", action="store_true", help="no progress bar")
    mn.add_argument("--json", action="store_true",
                    help="print one JSON object: test_accuracy, epochs, seconds, cpu_seconds, ...")

    va = add_command(
        sub, "vanishing", cmd_vanishing, inputs=(DATA,), outputs=(PLOT,),
        help="section 3.2.2: vanishing gradients in a deep sigmoid net, and ResNet's skip connections",
        description="Per-layer gradient norms ||dL/dW|| at initialisation of three networks of the same "
                    "depth on MNIST digits (784 pixels in, 10 logits out): sigmoid layers, ReLU layers, and "
                    "the sigmoid layers with residual skip connections h + F(h); then each is trained a few "
                    "epochs with plain gradient descent, with its test accuracy after every epoch.",
        epilog="examples:\n  petnet nn vanishing\n  petnet nn vanishing --depth 30 --epochs 0 --plot norms.png\n",
        params={"learning_rate": "lr", "random_state": "seed", "n_train": "limit", "n_test": "test_limit"})
    va.add_argument("--data", metavar="DIR",
                    help="folder with the four MNIST idx .gz files (default: ../shared/data/mnist)")
    va.add_argument("--depth", type=positive_int, default=20,
                    help="weight layers per network, output layer included; even (default: 20)")
    va.add_argument("--width", type=positive_int, default=32, help="units per hidden layer (default: 32)")
    va.add_argument("--epochs", type=nonneg_int, default=10, help="training epochs, 0 for none (default: 10)")
    va.add_argument("--batch-size", type=positive_int, default=64,
                    help="mini-batch size, also the batch whose gradients are measured (default: 64)")
    va.add_argument("--lr", type=positive_number, default=0.1, help="gradient-descent step (default: 0.1)")
    va.add_argument("--limit", type=positive_int, default=5000, help="training digits (default: 5000)")
    va.add_argument("--test-limit", type=positive_int, default=1000, help="test digits (default: 1000)")
    va.add_argument("--seed", type=nonneg_int, default=0, help="random seed (weights, shuffling)")
    va.add_argument("--plot", metavar="OUT.png", help="save the gradient norms (log scale) and accuracy curves")
    va.add_argument("--show", action="store_true", help="open the plot in a window")
    va.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    va.add_argument("--json", action="store_true", help="print one JSON object: norms, first_over_last, history")

    do = add_command(
        sub, "dropout", cmd_dropout, inputs=(DATA,), outputs=(PLOT,), help="section 3.3.4: dropout against overfitting on 1000 MNIST digits",
        description="The same network 784-Dense(512, relu)-Dense(512, relu)-Dense(10) trained twice with "
                    "Adam on a small MNIST subset, from the same weights and batches: without dropout, and "
                    "with Dropout(input-rate) on the pixels and Dropout(rate) after each hidden layer. "
                    "After every epoch both are evaluated (dropout off) on the training and the test digits.",
        epilog="examples:\n  petnet nn dropout --plot dropout.png\n  petnet nn dropout --limit 500 --epochs 10 --json\n",
        params={"learning_rate": "lr", "random_state": "seed", "n_train": "limit", "n_test": "test_limit"})
    do.add_argument("--data", metavar="DIR",
                    help="folder with the four MNIST idx .gz files (default: ../shared/data/mnist)")
    do.add_argument("--rate", type=positive_number, default=0.5,
                    help="fraction of hidden units dropped while training (default: 0.5)")
    do.add_argument("--input-rate", type=nonneg_number, default=0.2,
                    help="fraction of input pixels dropped while training (default: 0.2)")
    do.add_argument("--hidden", type=positive_int, default=512, help="units per hidden layer (default: 512)")
    do.add_argument("--epochs", type=positive_int, default=20, help="training epochs (default: 20)")
    do.add_argument("--batch-size", type=positive_int, default=32, help="mini-batch size (default: 32)")
    do.add_argument("--lr", type=positive_number, default=1e-3, help="Adam learning rate (default: 0.001)")
    do.add_argument("--limit", type=positive_int, default=1000, help="training digits (default: 1000)")
    do.add_argument("--test-limit", type=positive_int, default=2000, help="test digits (default: 2000)")
    do.add_argument("--seed", type=nonneg_int, default=0, help="random seed (weights, shuffling, dropout masks)")
    do.add_argument("--plot", metavar="OUT.png", help="save the accuracy and loss curves")
    do.add_argument("--show", action="store_true", help="open the plot in a window")
    do.add_argument("--json", action="store_true", help="print one JSON object: curves, accuracy_gap, loss_gap")

    po = add_command(
        sub, "pooling", cmd_pooling, inputs=("photo",), outputs=(PLOT,),
        help="section 3.3.2: a photo max/average-pooled from 1024 to 16 pixels, and the breed at each size",
        description="The photo's centre square, resized to SIZE x SIZE (the talk's 1024), max-pooled and "
                    "average-pooled with the engine's MaxPooling2D / AveragePooling2D by f x f windows "
                    "(stride f); the pet recognizer names the breed of every pooled image.",
        epilog="examples:\n  petnet nn pooling examples/pug_168.jpg --plot pooling.png\n"
               "  petnet nn pooling cat.jpg --factors 1 5 --json\n")
    po.add_argument("photo", metavar="PHOTO", help="an image file (JPEG, PNG, ...)")
    po.add_argument("--size", type=positive_int, default=1024, help="side of the square before pooling (default: 1024)")
    po.add_argument("--factors", type=positive_int, nargs="+", default=[1, 2, 4, 5, 8, 16, 32, 64], metavar="F",
                    help="pooling windows f x f (default: 1 2 4 5 8 16 32 64)")
    po.add_argument("--no-predict", action="store_true", help="only pool, do not run the recognizer")
    po.add_argument("--plot", metavar="OUT.png", help="save the pooled images side by side")
    po.add_argument("--show", action="store_true", help="open the plot in a window")
    po.add_argument("--json", action="store_true", help="print one JSON object")
