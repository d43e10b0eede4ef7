"""The list of the docs' screenshots (linviz.gui.devtools.docs_screenshots) agrees with the docs:
every picture in docs/screenshots is taken by one of its commands, and every command is one the
screenshot tool accepts, so that "take them all again" leaves none stale."""

from pathlib import Path

import numpy as np
import pytest

from linviz.gui.devtools import screenshots
from linviz.gui.devtools.docs_screenshots import SHOTS, WINDOW_TOOL, draw_pictures, main

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_every_picture_in_the_docs_is_taken_by_one_command():
    taken = [name for shot in SHOTS for name in shot.files()]
    assert len(taken) == len(set(taken)), "two commands write the same file"
    on_disk = sorted(f.name for f in SCREENSHOTS.glob("*.png"))
    assert sorted(taken) == on_disk


@pytest.mark.parametrize("shot", [s for s in SHOTS if s.tool == WINDOW_TOOL],
                         ids=lambda s: s.name)
def test_each_command_is_one_the_screenshot_tool_accepts(shot, tmp_path):
    argv = shot.argv(tmp_path, "cifar10.tar.gz", str(tmp_path))
    args = screenshots.build_parser().parse_args(argv[1:])
    assert args.out == str(tmp_path / f"{shot.name}.png")
    assert args.data in ("demo", "cifar10.tar.gz")


def test_the_dropped_pictures_are_drawn_and_readable(tmp_path):
    from PIL import Image

    draw_pictures(tmp_path)
    ball, plus = (np.asarray(Image.open(tmp_path / name).convert("RGB")) for name in ("red ball.png", "green plus.jpg"))
    assert ball[48, 48, 0] > 200 and ball[2, 2, 2] > 100  # red in the middle, blue around
    assert plus[48, 48, 1] > 140 and int(plus[2, 2].sum()) > 450  # green cross on sand


def test_list_prints_each_command_and_takes_nothing(tmp_path, capsys):
    assert main(["--list", "--out", str(tmp_path), "--cifar10", "c.tar.gz"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SHOTS) and all(line.startswith("python -m linviz.gui.devtools.") for line in lines)
    assert not list(tmp_path.iterdir())


def test_an_unknown_name_is_refused_in_one_line(capsys):
    assert main(["no-such-shot", "--list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-shot" in err[0]
