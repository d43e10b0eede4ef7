"""The workbench keeps its parts consistent and announces each change (no window needed)."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.workbench import jobs
from linviz.workbench.jobs import QuietContext
from linviz.workbench import Model, Selection, SplitSettings, TrainingFrame, Workbench


@pytest.fixture(scope="module")
def prepared():
    from linviz.data import make_demo_dataset

    return jobs.prepare_splits(make_demo_dataset(n_train_per_class=30, n_test_per_class=5), SplitSettings(val_size=60))


def recorder(workbench):
    events = []
    for name in ("data_changed", "features_changed", "model_changed", "frame_changed", "selection_changed"):
        getattr(workbench, name).connect(lambda value=None, name=name: events.append((name, value)))
    return events


def model_for(features, n_classes=6):
    W = np.zeros((features.dim, n_classes), dtype=np.float32)
    return Model(W, "softmax", {"loss": "softmax"}, features)


def test_features_of_every_split_are_extracted_together(prepared):
    features = jobs.extract_features(prepared, "hog+hue", QuietContext())
    assert features.X_train.shape[0] == len(prepared.train.labels)
    assert features.X_val.shape[0] == len(prepared.val.labels)
    assert features.X_test.shape[0] == len(prepared.test.labels)
    np.testing.assert_allclose(features.X_test, features.pipeline.transform(prepared.test.images), rtol=1e-6)


def test_new_data_forgets_features_model_and_selection(prepared):
    workbench = Workbench()
    workbench.set_data(prepared)
    features = jobs.extract_features(prepared, "hue", QuietContext())
    workbench.set_features(features)
    workbench.set_model(model_for(features))
    workbench.select(Selection("validation", 3))
    events = recorder(workbench)
    workbench.set_data(prepared)
    assert workbench.features is None and workbench.model is None and workbench.selection is None
    names = [name for name, _ in events]
    assert {"model_changed", "features_changed", "data_changed", "selection_changed"} <= set(names)
    assert names.index("model_changed") < names.index("data_changed")  # views never see a model of old data


def test_new_features_keep_the_model_only_when_they_are_the_same_features(prepared):
    workbench = Workbench()
    workbench.set_data(prepared)
    hue = jobs.extract_features(prepared, "hue", QuietContext())
    workbench.set_features(hue)
    model = model_for(hue)
    workbench.set_model(model)
    again = jobs.extract_features(prepared, "hue", QuietContext())  # a re-extraction: same spec, same data
    workbench.set_features(again)
    assert (workbench.model is not None and workbench.model.features is again
            and np.shares_memory(workbench.model.W, model.W))
    workbench.set_features(jobs.extract_features(prepared, "hue:bins=12", QuietContext()))
    assert workbench.model is None


def test_a_frame_brings_its_model_and_its_features(prepared):
    workbench = Workbench()
    workbench.set_data(prepared)
    features = jobs.extract_features(prepared, "hue", QuietContext())
    events = recorder(workbench)
    frame = TrainingFrame(snapshot=None, model=model_for(features), run=1, data_key=prepared.key())
    workbench.set_frame(frame)
    assert workbench.features is features and workbench.model is frame.model and workbench.frame is frame
    assert [name for name, _ in events] == ["features_changed", "model_changed", "frame_changed"]
    workbench.clear_model()
    assert workbench.frame is None and workbench.model is None and workbench.features is features


def test_the_selected_image_resolves_to_pixels_features_and_label(prepared):
    workbench = Workbench()
    workbench.set_data(prepared)
    workbench.select(Selection("test", 2))
    selected = workbench.selected_image()
    assert selected.x is None and selected.true_class == prepared.test.labels[2]
    features = jobs.extract_features(prepared, "hue", QuietContext())
    workbench.set_features(features)
    np.testing.assert_array_equal(workbench.selected_image().x, features.X_test[2])
    np.testing.assert_array_equal(workbench.selected_image().image, prepared.test.images[2])


def test_validation_size_zero_means_no_validation_split_not_the_test_split(prepared):
    from linviz.data import make_demo_dataset

    none = jobs.prepare_splits(make_demo_dataset(n_train_per_class=10, n_test_per_class=2), SplitSettings(val_size=0))
    assert len(none.val.labels) == 0 and not none.has_validation
    assert len(none.train.labels) == 60
    assert jobs.evaluate(jobs.extract_features(none, "hue", QuietContext()), none,
                         np.zeros((11, 6), np.float32)) is None


def test_stepping_through_the_images_of_the_selected_split(prepared):
    """Previous / next in a lab: within the selected split, wrapping at its ends; with
    ``same_class`` to the next image of the selected image's true class."""
    bench = Workbench()
    bench.set_data(prepared)
    bench.step_selection(1)  # nothing selected: the first validation image
    assert bench.selection == Selection("validation", 0)
    bench.step_selection(-1)
    n = len(prepared.val.labels)
    assert bench.selection == Selection("validation", n - 1)
    bench.step_selection(1)
    assert bench.selection == Selection("validation", 0)
    labels = prepared.val.labels
    bench.step_selection(1, same_class=True)
    expected = next(i for i in range(1, n) if labels[i] == labels[0])
    assert bench.selection == Selection("validation", expected)
    bench.step_selection(-1, same_class=True)
    assert bench.selection == Selection("validation", 0)
    bench.select(Selection("train", 5))
    bench.step_selection(1)
    assert bench.selection == Selection("train", 6)


def test_a_spec_in_words():
    from linviz.workbench.spec_names import describe_spec, short_spec
    from linviz.features import PRESETS, parse_feature_spec

    best = str(parse_feature_spec(PRESETS["best"]))
    text = describe_spec(best)
    assert text.startswith("HOG at cells of 4, 8, 16 px") and "2 x 2 blocks" in text
    assert "hue 12, saturation 8, value 8 bins" in text and "8 x 8 color layout" in text
    assert describe_spec("raw:size=16:gray=1") == "raw pixels (16 x 16, gray)"
    assert short_spec(best) == "best"
    assert short_spec(str(parse_feature_spec("hog:cell=4,hog:cell=16,hue:bins=7"))) == "hog 4/16, hue 7"


@pytest.mark.parametrize("seconds, text", [(0.012, "3,600 images in 12 ms"), (2.34, "3,600 images in 2.3 s")])
def test_the_extraction_time_reads_at_its_own_precision(seconds, text):
    # the demo set extracts in milliseconds: "in 0.0 s" said nothing
    from linviz.workbench.state import ExtractedFeatures

    empty = np.zeros((0, 1), np.float32)
    features = ExtractedFeatures("raw", ("demo",), None, empty, empty, None, 3600, seconds)
    assert features.timing_text() == text


def test_the_default_split_is_the_commands_split():
    """No validation size asked: the one every command holds out (1,000, at most a tenth),
    the same images, and the prepared data says how many it held out."""
    from linviz.training.recipe import split_for_training

    dataset = jobs.demo_dataset()
    prepared = jobs.prepare_splits(dataset, SplitSettings())
    train, val, val_size = split_for_training(dataset.train, None, 0)
    assert len(prepared.val.labels) == val_size == len(dataset.train.labels) // 10
    np.testing.assert_array_equal(prepared.val.images, val.images)
    np.testing.assert_array_equal(prepared.train.labels, train.labels)
    assert prepared.settings == SplitSettings() and prepared.split_record["val_size"] == val_size  # "auto" kept
    asked = jobs.prepare_splits(dataset, SplitSettings(val_size=100_000))  # more than half: half
    assert asked.split_record["val_size"] == len(asked.val.labels) == len(dataset.train.labels) // 2
