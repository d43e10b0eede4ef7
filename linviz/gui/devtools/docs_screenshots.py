"""Every screenshot in the docs and the command that takes it, so that all of them can be taken
again on the current window in one go:

    python -m linviz.gui.devtools.docs_screenshots [NAME ...] [--cifar10 PATH] [--list]

Without names it takes them all (about twenty minutes on two cores); ``--list`` prints each
command instead. Each screenshot runs in a process of its own (a fresh window, as a user starts
it). The pictures dropped onto the window for ``demo-your-images`` are drawn here, so that the
shot needs no file outside the repository. A test checks that this list and the docs agree.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SIZES = "1024x700,1366x768,1920x1080"
CIFAR10 = "{cifar10}"   # replaced by the archive's path
PICTURES = "{pictures}"  # replaced by the folder the dropped pictures are drawn into
WINDOW_TOOL = "linviz.gui.devtools.screenshots"  # one view of the window per picture
FLOW_TOOL = "linviz.gui.devtools.classes_screenshots"  # the Your classes flow: its own pictures


@dataclass(frozen=True)
class Shot:
    """One picture of the docs (at the three sizes unless ``sizes`` says otherwise)."""

    name: str
    data: str
    options: tuple[str, ...]
    sizes: str = SIZES
    tool: str = WINDOW_TOOL

    def files(self) -> list[str]:
        """The file names it writes in docs/screenshots."""
        if self.tool == FLOW_TOOL:
            return list(CLASSES_FILES)
        if "," not in self.sizes:
            return [f"{self.name}.png"]
        return [f"{self.name}-{size}.png" for size in self.sizes.split(",")]

    def argv(self, out: Path, cifar10: str, pictures: str) -> list[str]:
        """The command line (after ``python -m``)."""
        def filled(text: str) -> str:
            return text.replace(CIFAR10, cifar10).replace(PICTURES, pictures)

        if self.tool == FLOW_TOOL:
            return [self.tool, str(out), "--data", filled(self.data), "--size", self.sizes]
        return [self.tool, str(out / f"{self.name}.png"), "--data", filled(self.data), "--size", self.sizes,
                *(filled(o) for o in self.options)]


CLASSES_FILES = ("your-classes-start.png", "your-classes-images.png", "your-classes-mistake.png",
                 "your-classes-corrected.png")

SHOTS = (
    Shot("window", CIFAR10, ("--features", "raw", "--epochs", "5", "--until-done", "--select", "validation:162")),
    Shot("cifar10-raw-pixels-training", CIFAR10, ("--features", "raw", "--epochs", "10", "--seconds", "4")),
    Shot("cifar10-best-features-data", CIFAR10, ("--features", "best", "--epochs", "10", "--until-done",
                                                 "--tab", "data", "--misclassified")),
    Shot("demo-your-images", "demo", ("--epochs", "20", "--until-done", "--tab", "features",
                                      "--drop", f"{PICTURES}/red ball.png", f"{PICTURES}/green plus.jpg")),
    Shot("cifar10-inside-one-image-best", CIFAR10, ("--features", "best", "--epochs", "10", "--until-done",
                                                    "--view", "Inside one image", "--select", "validation:12")),
    Shot("cifar10-inside-one-image-raw", CIFAR10, ("--features", "raw", "--epochs", "5", "--until-done",
                                                   "--view", "Inside one image", "--select", "validation:12")),
    Shot("demo-lecture-example", "demo", ("--no-train", "--view", "Inside one image", "--lecture")),
    Shot("cifar10-visual-words", CIFAR10, ("--features", "words-quick", "--epochs", "5", "--until-done",
                                           "--view", "Visual words", "--select", "validation:12"), sizes="1366x768"),
    Shot("cifar10-runs", CIFAR10, ("--no-train", "--epochs", "10", "--lr", "0.1", "--runs", "1e-4,1e-2,1",
                                   "--view", "Runs")),
    Shot("cifar10-tuning", CIFAR10, ("--no-train", "--view", "Tuning", "--tune", "0.01:1:5;1e-4:1:5",
                                     "--tune-epochs", "5")),
    Shot("cifar10-knn", CIFAR10, ("--no-train", "--knn", "--knn-mistake", "automobile:airplane")),
    Shot("demo-2d-playground", "demo", ("--no-train", "--view", "2-D playground", "--playground-steps", "30")),
    Shot("cifar10-loss-landscape", CIFAR10, ("--epochs", "10", "--until-done", "--view", "Optimization",
                                             "--subview", "Loss landscape", "--landscape", "plane:trajectory")),
    Shot("cifar10-strategy-race-lecture", CIFAR10, ("--no-train", "--view", "Optimization",
                                                    "--subview", "Strategy race", "--race", "lecture")),
    Shot("cifar10-gradient-check-svm", CIFAR10, ("--loss", "svm", "--epochs", "5", "--until-done",
                                                 "--view", "Optimization", "--subview", "Gradient check",
                                                 "--gradient-h", "0.01")),
    Shot("your-classes", CIFAR10, (), sizes="1366x768", tool=FLOW_TOOL),
)


def draw_pictures(folder: Path) -> None:
    """The two pictures ``demo-your-images`` drops: a red ball on blue, a green plus on sand."""
    from PIL import Image, ImageDraw

    ball = Image.new("RGB", (96, 96), (40, 70, 130))
    ImageDraw.Draw(ball).ellipse((18, 18, 78, 78), fill=(220, 40, 40))
    ball.save(folder / "red ball.png")
    plus = Image.new("RGB", (96, 96), (200, 190, 150))
    draw = ImageDraw.Draw(plus)
    draw.rectangle((38, 12, 58, 84), fill=(30, 160, 40))
    draw.rectangle((12, 38, 84, 58), fill=(30, 160, 40))
    plus.save(folder / "green plus.jpg", quality=92)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Take the docs' screenshots again.")
    parser.add_argument("names", nargs="*", help="which (default: all): " + ", ".join(s.name for s in SHOTS))
    parser.add_argument("--cifar10", default="../shared/datasets/cifar10-jpeg.tar.gz",
                        help="the CIFAR-10 archive or folder")
    parser.add_argument("--out", default="docs/screenshots", help="the folder the pictures go to")
    parser.add_argument("--list", action="store_true", help="print the commands, take nothing")
    args = parser.parse_args(argv)
    known = {s.name: s for s in SHOTS}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"error: no screenshot named {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    shots = [known[n] for n in args.names] if args.names else list(SHOTS)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="linviz-docs-pictures-") as folder:
        pictures = "PICTURES" if args.list else folder  # a listed command names the pictures' folder as such
        failed = []
        for shot in shots:
            command = [sys.executable, "-m", *shot.argv(out, args.cifar10, pictures)]
            print(shlex.join(["python", *command[1:]]), flush=True)
            if args.list:
                continue
            if shot.name == "demo-your-images":
                draw_pictures(Path(pictures))
            if subprocess.run(command).returncode != 0:
                failed.append(shot.name)
    if failed:
        print(f"error: these screenshots failed: {', '.join(failed)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
