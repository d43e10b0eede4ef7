"""The train recipe: the steps of ``python main.py train``, shared with ``tune`` and the benches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from linviz.cli import main
from linviz.data import make_demo_dataset
from linviz.errors import DatasetError
from linviz.features import FeaturePipeline
from linviz.models import load_model
from linviz.training import recipe
from linviz.training import warmup


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset(n_train_per_class=40, n_test_per_class=5, seed=0)


def test_the_default_validation_split_is_1000_images_at_most_a_tenth(demo):
    train, val, size = recipe.split_for_training(demo.train, None, seed=0)
    assert size == len(demo.train) // 10 == len(val) and len(train) + len(val) == len(demo.train)
    assert recipe.default_validation_size(50_000) == 1000
    train, val, size = recipe.split_for_training(demo.train, 0, seed=0)
    assert val is None and size == 0 and train is demo.train


def test_a_split_that_cannot_train_says_why_with_its_numbers(demo):
    with pytest.raises(recipe.NoValidationImages) as caught:
        recipe.split_for_training(demo.train, 0, seed=0, needs_validation=True)
    assert caught.value.n_train == len(demo.train)
    with pytest.raises(recipe.TooFewLeftToTrain) as caught:
        recipe.split_for_training(demo.train, len(demo.train) - 1, seed=0)
    assert (caught.value.held_out, caught.value.left) == (len(demo.train) - 1, 1)


def test_one_class_is_refused_before_any_work(demo):
    from dataclasses import replace

    one = replace(demo, class_names=demo.class_names[:1],
                  train=replace(demo.train, labels=np.zeros_like(demo.train.labels)))
    with pytest.raises(DatasetError, match="only 1 class"):
        recipe.check_trainable(one)


def test_the_recipe_steps_save_the_model_train_saves(tmp_path, capsys):
    """What the benches run is what the command runs: the same weights, bit for bit."""
    assert main(["train", "demo", "--features", "hue", "--epochs", "2", "--out", str(tmp_path / "cli.npz"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    pipeline = FeaturePipeline("hue")
    config = recipe.recommended_config(pipeline.spec, "softmax", given={"epochs": 2})
    timings: dict = {}
    data = recipe.extract(recipe.load("demo", pipeline, config, timings=timings), timings=timings)
    final = recipe.fit(data, config, timings=timings)
    accuracies = recipe.evaluate(data, final.best_W, timings=timings)
    recipe.save(tmp_path / "recipe.npz", data, config, final, accuracies, timings=timings)
    cli_model, recipe_model = load_model(tmp_path / "cli.npz"), load_model(tmp_path / "recipe.npz")
    np.testing.assert_array_equal(cli_model.W, recipe_model.W)
    assert accuracies == {k: report[k] for k in accuracies}
    assert (data.n_train, data.n_val, data.n_test) == (report["n_train"], report["n_val"], report["n_test"])
    assert list(timings) == ["dataset", "kernels_wait", "kernels_background", "features", "fit", "standardize",
                             "training", "evaluation", "save"]
    assert data.summary()["split"] == {"val_size": data.val_size, "per_class": 0, "seed": 0}


def test_a_failing_warm_up_is_kept_not_raised():
    """Cells of 16 pixels do not fit 8x8 images: the warm-up fails, and says so when asked;
    the run's own calls then meet the real error."""
    keys = warmup.prepare([warmup.features_part("hog:cell=16", (8, 8))], processes=False)
    assert warmup.wait(keys) >= 0
    assert warmup.ready(keys) and "too small" in " ".join(warmup.part_errors(keys))
