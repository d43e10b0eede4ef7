"""One set of defaults: a fresh window, the CLI's ``train`` and the Python API
(``TrainingConfig()``, ``LinearClassifier()``) train with the same settings, for every loss
and optimizer -- the recommended ones (linviz.training.recommended_settings)."""

from __future__ import annotations

import dataclasses

import pytest

from linviz.training import LinearClassifier, TrainingConfig, recommended_settings
from linviz.training.defaults import DEFAULT_FEATURES, SETTINGS
from linviz.training.optimizers import OPTIMIZERS

LOSSES = ("softmax", "svm")
SEARCHES = ("random_search", "random_local_search")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=0)
    return a == b


def _compared(optimizer: str, names) -> list:
    # the searches use no learning rate (recommended 0); the window leaves that slider alone
    return [n for n in names if not (optimizer in SEARCHES and n == "learning_rate")]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_the_python_api_defaults_are_the_recommended_settings(loss, optimizer):
    recommended = recommended_settings(DEFAULT_FEATURES, loss, optimizer)
    config = TrainingConfig(loss=loss, optimizer=optimizer)
    from_classifier = LinearClassifier(loss=loss, optimizer=optimizer).training_config()
    assert from_classifier == config
    for name in SETTINGS:
        assert getattr(config, name) == recommended[name], name
    # what the searches judge on: all training images, as in the window (the loss never rises)
    if optimizer in SEARCHES:
        assert config.search_sample == 0
    # a setting given is kept, the others still come from the recommendation
    given = TrainingConfig(loss=loss, optimizer=optimizer, epochs=3)
    assert given.epochs == 3 and given.lr_decay == recommended["lr_decay"]


def test_the_cli_parser_leaves_the_recommended_settings_to_recommended_settings():
    from linviz.cli.parser import build_parser

    args = build_parser().parse_args(["train", "demo", "--out", "m.npz"])
    assert (args.features, args.model, args.optimizer) == (DEFAULT_FEATURES, "softmax", "sgd")
    options = {"learning_rate": args.lr, "lr_decay": args.lr_decay, "epochs": args.epochs, "batch_size": args.batch,
               "momentum": args.momentum, "reg": args.reg, "search_step": args.search_step,
               "search_sample": args.search_sample}
    assert set(options) == set(SETTINGS) and all(value is None for value in options.values())
    config = TrainingConfig()
    for name, value in (("reg_type", args.reg_type), ("elastic_beta", args.elastic_beta), ("delta", args.delta),
                        ("seed", args.seed), ("early_stopping", args.early_stopping)):
        assert _same(value, getattr(config, name)), name


@pytest.mark.parametrize("optimizer", ["sgd", "random_local_search"])
def test_the_cli_trains_with_the_python_api_defaults(tmp_path, capsys, optimizer):
    from linviz.cli import main
    from linviz.models import load_model

    out = tmp_path / "m.npz"
    assert main(["train", "demo", "--optimizer", optimizer, "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    hyper = load_model(out).hyperparameters
    config = TrainingConfig(optimizer=optimizer)
    for name in SETTINGS + ("loss", "reg_type", "elastic_beta", "delta", "seed", "early_stopping"):
        assert _same(hyper[name], getattr(config, name)), name


def test_a_fresh_window_shows_the_python_api_defaults(make_window):
    from linviz.features import parse_feature_spec
    from linviz.gui.window_settings import DEFAULT_SPEC

    assert DEFAULT_SPEC == DEFAULT_FEATURES
    window = make_window("demo")
    panel = window.training_panel
    assert str(parse_feature_spec(window.features_panel.spec_text())) == str(parse_feature_spec(DEFAULT_FEATURES))
    fields = {f.name for f in dataclasses.fields(TrainingConfig)}
    for loss in LOSSES:
        for optimizer in OPTIMIZERS:
            panel.loss_box.setCurrentIndex(panel.loss_box.findData(loss))
            panel.optimizer_box.setCurrentIndex(panel.optimizer_box.findData(optimizer))
            shown = panel.settings()
            config = TrainingConfig(loss=loss, optimizer=optimizer)
            assert set(shown) <= fields
            for name in _compared(optimizer, shown):
                assert _same(shown[name], getattr(config, name)), (loss, optimizer, name, shown[name])
