"""Hostile values for every option of every command, generated from the argparse definitions:
each gives exit code 2 and one line on stderr, or a normal run; never a traceback, never a raw
escape sequence on the terminal. A new command or option is covered without writing a test.

The runs are real (in this process), on a tiny demo set: the data loader is the only thing
replaced, so a value that passes the parser but breaks later (after loading, during training)
fails here too.
"""

from __future__ import annotations

import argparse
import contextlib
import io

import numpy as np
import pytest
from PIL import Image

from linviz.cli import main
from linviz.cli.parser import COMMANDS, build_parser

#: negative, zero, huge, NaN, infinities, the smallest subnormal, text, escape sequences, empty
HOSTILE = ["-1", "0", str(10**30), "1e400", "nan", "inf", "-inf", "5e-324", "abc", "\x1b]0;owned\x07", ""]
RAW_CONTROLS = ("\x1b", "\x07", "\x9b")


def _subparsers() -> dict:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    return dict(action.choices)


def _valued_actions(parser: argparse.ArgumentParser) -> list:
    """Every option and positional that takes a value (not the flags, not --help)."""
    return [a for a in parser._actions  # noqa: SLF001
            if not isinstance(a, (argparse._HelpAction, argparse._StoreTrueAction, argparse._StoreFalseAction))]


def _cases() -> list:
    cases = []
    for command, parser in _subparsers().items():
        for action in _valued_actions(parser):
            name = action.option_strings[0] if action.option_strings else action.dest
            cases.append(pytest.param(command, name, id=f"{command} {name}"))
    return cases


def test_every_command_is_covered():
    assert set(_subparsers()) == set(COMMANDS)
    assert len(_cases()) >= 50


@pytest.fixture(scope="module")
def model_and_image(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-arguments")
    model = folder / "model.npz"
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        assert main(["train", "demo", "--features", "hue", "--epochs", "1", "--val", "0", "--image-size", "16",
                     "--out", str(model)]) == 0
    image = folder / "photo.png"
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(image)
    return model, image


@pytest.fixture
def tiny_demo(monkeypatch):
    """``demo`` is 60 training and 18 test images (at the size asked for); any other source is
    loaded for real."""
    import linviz.data
    from linviz.data import make_demo_dataset

    real = linviz.data.load_dataset
    made = {}

    def load(source, *, image_size=32, progress=None, cancel=None):
        if source == "demo" and isinstance(image_size, int) and 4 <= image_size <= 512:
            if image_size not in made:
                made[image_size] = make_demo_dataset(n_train_per_class=10, n_test_per_class=3, image_size=image_size)
            return made[image_size]
        return real(source, image_size=image_size, progress=progress, cancel=cancel)

    monkeypatch.setattr(linviz.data, "load_dataset", load)


@pytest.fixture
def no_benchmarks(monkeypatch):
    """The bench command's arguments are checked; its sections (minutes each) do nothing."""
    import linviz.bench.runner

    monkeypatch.setattr(linviz.bench.runner, "_section", lambda name: (lambda archive, quick, say: {}))


def _base_argv(command: str, model, image, tmp_path) -> list:
    """A valid, fast command line of ``command``: (positionals, options)."""
    return {
        "info": (["demo"], ["--image-size", "16"]),
        "features": (["demo"], ["--features", "hue", "--image-size", "16"]),
        "train": (["demo"], ["--features", "hue", "--epochs", "1", "--image-size", "16", "--val", "10",
                             "--out", str(tmp_path / "m.npz")]),
        "predict": ([str(model), str(image)], []),
        "tune": (["demo"], ["--features", "hue", "--lr", "1e-2", "--reg", "1e-3", "--epochs", "1", "--image-size",
                            "16", "--workers", "1"]),
        "knn": (["demo"], ["--features", "hue", "--k", "1,3", "--folds", "2", "--image-size", "16"]),
        "landscape": (["demo"], ["--features", "hue", "--steps", "5", "--image-size", "16"]),
        "bench": ([], ["--only", "load"]),
    }[command]


def _with_value(command: str, parser, name: str, value: str, model, image, tmp_path) -> list:
    positionals, options = _base_argv(command, model, image, tmp_path)
    positionals, options = list(positionals), list(options)
    if name.startswith("-"):
        if name in options:
            i = options.index(name)
            del options[i:i + 2]
        options += [name, value]
    else:
        names = [a.dest for a in _valued_actions(parser) if not a.option_strings]
        positionals[names.index(name)] = value
    return [command, *positionals, *options] if positionals or not name.startswith("-") else [command, *options]


def _run(argv) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command, name", _cases())
def test_hostile_values_exit_2_with_one_line_or_run_normally(command, name, tmp_path, monkeypatch, model_and_image,
                                                            tiny_demo, no_benchmarks):
    monkeypatch.chdir(tmp_path)  # what an accepted --out writes lands here
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))
    model, image = model_and_image
    parser = _subparsers()[command]
    outcomes = []
    for value in HOSTILE:
        argv = _with_value(command, parser, name, value, model, image, tmp_path)
        code, out, err = _run(argv)
        where = f"{' '.join(map(repr, argv))}"
        assert "Traceback" not in err, where
        assert not any(c in out + err for c in RAW_CONTROLS), f"{where}: a raw control character was printed"
        if code == 2:
            lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith("error:")]
            assert len(errors) == 1 and lines[-1] == errors[0], f"{where}: {lines}"
            assert not any(line.startswith("warning:") for line in lines), f"{where}: {lines}"
        else:
            assert code in (0, 3), f"{where}: exit {code}: {err[-500:]}"
        outcomes.append(code)
    assert 2 in outcomes, f"{command} {name}: no hostile value was refused"


def test_the_docs_list_every_option_s_bounds():
    from pathlib import Path

    from linviz.cli.arguments import OPTION_TYPES

    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    for option, parse in OPTION_TYPES.items():
        assert f"| `{option}` | {parse.bound.describe()}" in text, option


def test_every_number_option_has_its_bounds():
    """type=int / type=float never reach argparse unchecked (the parser swaps in the entry of
    linviz.cli.arguments.OPTION_TYPES, and refuses an option that has none)."""
    from linviz.cli.parser import _Parser

    for parser in _subparsers().values():
        for action in _valued_actions(parser):
            assert action.type not in (int, float), action.option_strings
    with pytest.raises(LookupError, match="OPTION_TYPES"):
        _Parser(prog="x").add_argument("--brand-new", type=int)
