"""The command line: ``build_parser()`` and one ``add_<command>_arguments`` per command.

Each command's options sit here, its work in its own module (``linviz.cli.<command>.run``).
The parser raises :class:`~linviz.errors.UsageError` instead of printing the usage block, so
that a bad argument is one line on stderr and exit code 2. An option declared with
``type=int`` or ``type=float`` is checked against its bounds in
:data:`linviz.cli.arguments.OPTION_TYPES` (finite, in range, representable), the same table
for every command.
"""

from __future__ import annotations

import argparse
import textwrap

from linviz.cli import bench, features, info, knn, landscape, predict, train, tune
from linviz.cli import arguments
from linviz.cli.arguments import seed, validation_size
from linviz.errors import UsageError
from linviz.features.spec import PRESETS
from linviz.models.losses import LOSSES
from linviz.models.regularizers import REG_TYPES
from linviz.training.optimizers import OPTIMIZERS
from linviz.text import option_message

HELP_WIDTH = 79  # the epilogs keep their own lines: they fit an 80-column terminal
IMAGE_SIZE_HELP = ("side of the square the images are resized to before features (default 32, CIFAR-10's own; "
                   "a model keeps its size)")


def _choices_help(table: dict, default=None) -> str:
    """One line per --help: each choice with the label the window shows for it."""
    listed = "; ".join(f"{name}: {entry.label}" for name, entry in table.items())
    return listed + (f"; default {default}" if default else "")

COMMANDS = ("info", "features", "train", "tune", "predict", "knn", "landscape", "bench")


def command_of(prog: str) -> str:
    """'train' for argparse's 'linviz train'; 'linviz' for the program itself."""
    return prog.removeprefix("linviz ") or prog


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage block, so errors stay one line, and
    that checks every number against its bounds (linviz.cli.arguments)."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        """'train: --lr: reason', as linviz's own checks word it (argparse: 'linviz train:
        argument --lr: reason')."""
        raise UsageError(f"{command_of(self.prog)}: {option_message(message)}")

    def add_argument(self, *names, **kwargs):
        if "type" in kwargs:
            kwargs["type"] = arguments.type_of(names, kwargs["type"])
        return super().add_argument(*names, **kwargs)


TRAIN_RECOMMENDED = """\
RECOMMENDED: every training option not given takes the value that
linviz.training.recommended_settings(features, model, optimizer) recommends
(the app's defaults too), measured on CIFAR-10 to come within a point of a
tuned scikit-learn model:
  sgd        learning rate min(0.1, 30 / P) for softmax (P = raw-pixel and
             color-layout columns: 0.0098 on raw pixels, 0.1 on hog+hue and
             best), a third of it for the SVM; decay 0.8 per epoch;
             10 epochs; batch 200; reg 1e-3
  momentum, nesterov   a tenth of the SGD rate, momentum 0.9
  adam       learning rate 0.001
  gd         100 epochs (one step each) at 3x the SGD rate, decay 0.99
  random_search, random_local_search   1 epoch of proposals of scale 0.01,
             each judged on all training images (--search-sample 0)
"""


TRAIN_EXIT_STATUS = """
exit status: 0 trained and saved; 2 bad input (one line on stderr); 3 the run
diverged (NaN, inf or an exploding loss): the best weights before that were
saved, and stderr says which; 130 stopped by Ctrl+C, the best weights so far
saved
"""


TUNE_EPILOG = """\
Every run uses the same seed (the same initial weights and minibatch order)
and the settings recommended for the features and the model (SGD, decay 0.8,
batch 200), except the learning rate and the regularization strength. Runs are
judged by the validation accuracy of the weights they keep. A run that diverges
is a result, marked in its stop reason.
exit status: 0 done; 2 bad input (e.g. a bad range), one line on stderr;
130 Ctrl+C (the finished runs are reported)
"""


APP_USAGE = """\
the desktop app (no command, or options only):
  python main.py [--data SOURCE] [--size WxH]
  --data SOURCE   start on SOURCE: "demo", "cifar10", a CIFAR-10 folder or
                  tarball, an image folder or archive
  --size WxH      initial window size (e.g. 1400x900)
  (python main.py gui --help shows the app's own help)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="linviz", description="Linear image classifiers, visualized.",
                     epilog=APP_USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    add_info_arguments(commands)
    add_features_arguments(commands)
    add_train_arguments(commands)
    add_predict_arguments(commands)
    add_tune_arguments(commands)
    add_knn_arguments(commands)
    add_landscape_arguments(commands)
    add_bench_arguments(commands)
    return parser


def add_info_arguments(commands) -> None:
    parser = commands.add_parser("info", help="describe a dataset source")
    parser.add_argument("source", help='"demo", "cifar10" (an existing copy), a CIFAR-10 folder or tarball, '
                                       'or an image folder/.zip/.tar[.gz]')
    parser.add_argument("--image-size", type=int, default=32, help=IMAGE_SIZE_HELP)
    parser.add_argument("--download", action="store_true",
                        help='with "cifar10": download it (170 MB) when no copy is found')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=info.run)


def _wrapped(text: str, first: str, rest: str) -> list[str]:
    """``text`` in lines of the help's width; names such as L2-Hys are never split."""
    return textwrap.wrap(text, HELP_WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False,
                         break_long_words=False)


def feature_blocks_help() -> str:
    """Every feature block with its parameters (from the blocks' own declarations) and the presets."""
    from linviz.features.blocks import block_types

    lines = ["feature blocks (a spec: name:param=value:..., comma-separated):"]
    for kind in block_types():
        summary = f"{kind.name}: {kind.summary}" + (" (learned from the training split)" if kind.fitted else "")
        lines += _wrapped(summary, "  ", "    ")
        for p in kind.params:
            lines += _wrapped(p.describe(), "      ", "        ")
    lines += _wrapped("presets: " + ", ".join(PRESETS), "", "  ")
    return "\n".join(lines)


def add_features_arguments(commands) -> None:
    parser = commands.add_parser("features", help="extract features and report timing",
                                 epilog=feature_blocks_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    parser.add_argument(
        "--features", default="hog+hue",
        help='a preset (raw, hog+hue, best, words, ...) or a spec like "hog:cell=8:block=2,hue:bins=10" '
             "(default hog+hue; the blocks and their parameters are listed below)",
    )
    parser.add_argument("--image-size", type=int, default=32, help=IMAGE_SIZE_HELP)
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed of the blocks that learn from the training split (words; default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=features.run)


def add_train_arguments(commands) -> None:
    parser = commands.add_parser("train", help="train a linear classifier and save it",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=TRAIN_RECOMMENDED + TRAIN_EXIT_STATUS)
    parser.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    parser.add_argument("--features", default="hog+hue",
                        help=f'a preset ({", ".join(PRESETS)}) or a spec such as "hog:cell=8,hue:bins=10" '
                             "(default: hog+hue)")
    parser.add_argument("--model", choices=list(LOSSES), default="softmax", help=_choices_help(LOSSES, "softmax"))
    parser.add_argument("--reg-type", choices=list(REG_TYPES), default="l2", help=_choices_help(REG_TYPES, "l2"))
    parser.add_argument("--reg", type=float, default=None, help="regularization strength (default 1e-3)")
    parser.add_argument("--elastic-beta", type=float, default=1.0, help="elastic net: R = sum(beta W^2 + |W|)")
    parser.add_argument("--delta", type=float, default=1.0, help="SVM margin (default 1)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: recommended for the features, model and optimizer, "
                             "e.g. SGD softmax 0.1 on hog+hue and best, 0.0098 on raw pixels; see RECOMMENDED below)")
    parser.add_argument("--lr-decay", type=float, default=None,
                        help="learning rate factor per epoch (default 0.8; gd 0.99)")
    parser.add_argument("--momentum", type=float, default=None, help="momentum and nesterov (default 0.9)")
    parser.add_argument("--batch", type=int, default=None, help="minibatch size (default 200)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs (default 10; gd 100; random searches 1)")
    # NAME in the usage line and the choices in the help: in braces they made a 99-column line
    parser.add_argument("--optimizer", default="sgd", choices=list(OPTIMIZERS), metavar="NAME",
                        help=_choices_help(OPTIMIZERS, "sgd"))
    parser.add_argument("--search-step", type=float, default=None,
                        help="random (local) search: scale of the random proposals (default 0.01)")
    parser.add_argument("--search-sample", type=int, default=None, metavar="N",
                        help="random (local) search: judge every step on the same N training images, "
                             "drawn once from the seed (0: all of them, the default)")
    parser.add_argument("--early-stopping", type=int, default=None, metavar="EPOCHS",
                        help="stop after this many epochs without a better validation accuracy")
    parser.add_argument("--val", type=validation_size, default=None,
                        help="validation images held out of the training split: a count or a fraction "
                             "(default: 1,000, or a tenth of a smaller set; 0.2 holds out a fifth). They choose "
                             "the epoch whose weights are kept; "
                             "with 0 the last weights are kept (the test split never chooses)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed, a whole number >= 0 (default 0)")
    parser.add_argument("--image-size", type=int, default=32, help=IMAGE_SIZE_HELP)
    parser.add_argument("--out", required=True, help="the model file to write (.npz)")
    parser.add_argument("--record", action="store_true",
                        help="also record the run in the run history the app shows in its Runs lab "
                             "($LINVIZ_DATA_DIR/runs, default ~/.local/share/linviz/runs): settings, data, curves, "
                             "timing and the model")
    parser.add_argument("--name", default=None, help="with --record: the run's name")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=train.run)


def add_predict_arguments(commands) -> None:
    parser = commands.add_parser("predict", help="classify image files with a saved model")
    parser.add_argument("model", help="a model file written by train")
    parser.add_argument("images", nargs="+", help="image files or folders")
    parser.add_argument("--top", type=int, default=None, metavar="K", help="show the K best classes (default all)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per image")
    parser.set_defaults(func=predict.run)


def add_tune_arguments(commands) -> None:
    parser = commands.add_parser("tune", help="learning rate x regularization search",
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TUNE_EPILOG)
    parser.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    parser.add_argument("--features", default="hog+hue", help="a preset or a spec (default hog+hue)")
    parser.add_argument("--model", choices=list(LOSSES), default="softmax", help=_choices_help(LOSSES, "softmax"))
    parser.add_argument("--lr", required=True, metavar="VALUES",
                        help='learning rates: "1e-3,1e-2,1e-1", or LOW:HIGH:COUNT log-spaced ("1e-3:1e-1:5")')
    parser.add_argument("--reg", required=True, metavar="VALUES",
                        help='regularization strengths, the same way ("1e-4,1e-3,1e-2"; 0 allowed in a list)')
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 10)")
    parser.add_argument("--search", choices=("grid", "random"), default="grid",
                        help="grid: every pair; random: --trials pairs drawn log-uniformly over the same ranges")
    parser.add_argument("--trials", type=int, default=None, help="random search: how many runs (default 9)")
    parser.add_argument("--batch", type=int, default=None, help="minibatch size (default 200)")
    parser.add_argument("--lr-decay", type=float, default=None, help="learning rate factor per epoch (default 0.8)")
    parser.add_argument("--val", type=validation_size, default=None,
                        help="validation images held out of the training split: a count or a fraction (default 1,000, "
                             "or a tenth of a smaller set); "
                             "they judge the runs")
    parser.add_argument("--seed", type=seed, default=0, help="the seed of every run and of the split (default 0)")
    parser.add_argument("--workers", type=int, default=None,
                        help="runs trained at once (default: one per core); they are independent")
    parser.add_argument("--record", action="store_true", help="record every run in the run history")
    parser.add_argument("--image-size", type=int, default=32, help=IMAGE_SIZE_HELP)
    parser.add_argument("--json", action="store_true",
                        help='print one object {"runs": [{"learning_rate", "reg", "train_accuracy", "val_accuracy", '
                             '"seconds", "stop_reason"}], "best": {...}}')
    parser.set_defaults(func=tune.run)


def add_knn_arguments(commands) -> None:
    parser = commands.add_parser("knn", help="k-nearest neighbors: choose k by cross-validation, test it")
    parser.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    parser.add_argument("--features", default="raw",
                        help="a preset or spec (default raw: pixels in [0, 1], unstandardized as in the course; "
                             "other features are standardized, without the bias)")
    parser.add_argument("--distance", choices=("l1", "l2", "cosine"), default="l2", help="default l2")
    parser.add_argument("--k", default=None,
                        help="the k values to cross-validate, comma-separated (default the course's list, "
                             "1,3,5,8,10,12,15,20,50,100, without the k values a fold has too few images for)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--train-size", type=int, default=None, metavar="N",
                        help="training images drawn at random (seeded) for kNN (default 5000, or all if fewer)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed of the subset and the folds (default 0)")
    parser.add_argument("--image-size", type=int, default=32, help=IMAGE_SIZE_HELP)
    parser.add_argument("--json", action="store_true",
                        help='print {"k", "fold_accuracies" (per k, one per fold), "mean", "std", "best_k", '
                             '"test_accuracy"}')
    parser.set_defaults(func=knn.run)


def add_landscape_arguments(commands) -> None:
    parser = commands.add_parser("landscape", help="the loss around a model's weights, along a line or a plane")
    parser.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    parser.add_argument("--model-file", default=None, metavar="M.npz", help="the model whose weights are the center")
    parser.add_argument("--features", default=None,
                        help="without --model-file: train a model on these features first (default hog+hue)")
    parser.add_argument("--model", choices=list(LOSSES), default=None,
                        help="without --model-file: the loss of the model trained first (default softmax)")
    parser.add_argument("--directions", choices=("random", "gradient"), default="random",
                        help="random Gaussian directions scaled to W's norm per class (default), or the "
                             "negative gradient (with --2d, and a random direction orthogonal to it)")
    parser.add_argument("--range", type=float, default=1.0, metavar="R", help="a (and b) from -R to R (default 1)")
    parser.add_argument("--steps", type=int, default=51, metavar="K", help="grid points per axis (default 51)")
    parser.add_argument("--2d", dest="two_d", action="store_true", help="a plane W + a D1 + b D2 instead of a line")
    parser.add_argument("--seed", type=seed, default=0, help="random seed of the split and the directions (default 0)")
    parser.add_argument("--image-size", type=int, default=32, help=IMAGE_SIZE_HELP)
    parser.add_argument("--json", action="store_true",
                        help='print {"alphas", "betas", "data", "reg", "total"} (betas null without --2d)')
    parser.set_defaults(func=landscape.run)


def add_bench_arguments(commands) -> None:
    parser = commands.add_parser("bench", help="side-by-side benchmarks against reference tools")
    parser.add_argument("--data", default=None, help="the shared CIFAR-10 JPEG archive (found automatically)")
    parser.add_argument("--only", default=None,
                        help="comma-separated sections: load, features, study, fewshot, sgd, e2e, gui, knn, "
                             "tune, landscape, words (default: all but study, fewshot and words, which take "
                             "minutes)")
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=bench.run)
