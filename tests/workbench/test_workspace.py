"""Workspace files without a display: what is written comes back, and a hostile file is refused
like a hostile model file (a WorkspaceError naming it and the reason; no traceback, no hang,
no gigabytes)."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from linviz.data import make_demo_dataset
from linviz.explore import playground
from linviz.workbench import Selection, SplitSettings, jobs
from linviz.workbench.workspace import (JSON_MEMBER, MODEL_MEMBER, WorkspaceData, WorkspaceError, WorkspaceState,
                                        find_data, read_workspace, save_workspace, validate_workspace,
                                        workspace_document)


@pytest.fixture(scope="module")
def model():
    """A small trained workbench Model on the demo set (hue features)."""
    from linviz.training import train

    dataset = make_demo_dataset(n_train_per_class=20, n_test_per_class=2, seed=1)
    prepared = jobs.prepare_splits(dataset, SplitSettings(val_size=12))
    features = jobs.extract_features(prepared, "hue:bins=8", jobs.QuietContext())
    settings = {"loss": "softmax", "epochs": 2, "batch_size": 20, "learning_rate": 0.1}
    for snapshot in train(features.X_train, prepared.train.labels, None, None, jobs.make_training_config(settings),
                          n_classes=6):
        pass
    return jobs.Model(snapshot.W, "softmax", settings, features), dataset.class_names


def a_state(class_names) -> WorkspaceState:
    points = playground.new_state(playground.PlaygroundSettings(preset="blobs", n_classes=3, seed=4))
    return WorkspaceState(
        data=WorkspaceData("demo", "demo", list(class_names)), split=SplitSettings(val_size=12, per_class=0, seed=3),
        features="hue:bins=8", training={"loss": "softmax", "epochs": 2, "batch_size": 20, "reg": 0.01},
        selection=Selection("validation", 3), user_images=["/pictures/cat.jpg"],
        labs={"insideImageLab": {"settings": {"compare_box": "square", "delta_spin": 2.0}},
              "optimizationLab": {"settings": {"landscape.direction_box": "gradient directions"}},
              "playgroundView": {"settings": {}, "playground": points}},
        view="Inside one image")


def test_a_workspace_comes_back_whole(tmp_path, model):
    workbench_model, names = model
    path = save_workspace(tmp_path / "lesson.linviz", a_state(names), workbench_model, names)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [MODEL_MEMBER, JSON_MEMBER]
    workspace = read_workspace(path)
    state = workspace.state
    assert state.data.source == "demo" and state.data.classes == names
    assert state.split == SplitSettings(val_size=12, per_class=0, seed=3)
    assert state.features == "hue:bins=8" and state.training["reg"] == 0.01 and state.training["loss"] == "softmax"
    assert state.selection == Selection("validation", 3) and state.user_images == ["/pictures/cat.jpg"]
    assert state.labs["insideImageLab"]["settings"] == {"compare_box": "square", "delta_spin": 2.0}
    original = a_state(names).labs["playgroundView"]["playground"]
    restored = state.labs["playgroundView"]["playground"]
    assert np.array_equal(restored.points, original.points) and np.array_equal(restored.W, original.W)
    assert state.view == "Inside one image"
    assert workspace.model.class_names == names
    assert np.array_equal(workspace.model.W, workbench_model.W)
    assert str(workspace.model.pipeline.spec) == str(workbench_model.features.pipeline.spec)


def test_a_workspace_without_a_model(tmp_path, model):
    path = save_workspace(tmp_path / "w.linviz", a_state(model[1]))
    workspace = read_workspace(path)
    assert workspace.model is None and not workspace.state.has_model


def test_gone_data(tmp_path):
    assert find_data(WorkspaceData("demo", "demo", ["a"])) == ("demo", "")
    assert find_data(WorkspaceData(str(tmp_path), "folder", ["a"])) == (str(tmp_path), "")
    source, note = find_data(WorkspaceData(str(tmp_path / "gone"), "classes", ["a"]))
    assert source is None and "gone" in note


# ---------------------------------------------------------------------------- hostile files


def write_zip(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def good_json(model):
    return workspace_document(a_state(model[1]))


def refused(path, *words):
    with pytest.raises(WorkspaceError) as info:
        read_workspace(path)
    message = str(info.value)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def with_changes(document: dict, **changes) -> str:
    document = json.loads(json.dumps(document))
    for key, value in changes.items():
        *parents, last = key.split("__")
        target = document
        for part in parents:
            target = target[part]
        target[last] = value
    return json.dumps(document)


@pytest.mark.parametrize("changes, words", [
    ({"format": "linviz-model"}, ["not a linviz workspace"]),
    ({"version": 99}, ["newer linviz"]),
    ({"version": "1"}, ["version"]),
    ({"surprise": 1}, ["unknown field"]),
    ({"data__kind": "dropbox"}, ["data.kind"]),
    ({"data__classes": ["a", "a"]}, ["data.classes"]),
    ({"data__classes": ["x" * 300]}, ["data.classes"]),
    ({"data__source": "a\x00b"}, ["data.source"]),
    ({"data__image_size": 100000}, ["image_size"]),
    ({"split__val_size": -1}, ["split.val_size"]),
    ({"split__seed": 1.5}, ["split.seed"]),
    ({"features": "hog:cell=0"}, ["features"]),
    ({"features": "x" * 2000}, ["features"]),
    ({"training__reg": "abc"}, ["reg"]),
    ({"training__epochs": -5}, ["hyper-parameters"]),
    ({"training__loss": "hinge2"}, ["loss"]),
    ({"training__seed": [1, 2]}, ["training"]),
    ({"selection": {"split": "secret", "index": 0}}, ["selection"]),
    ({"selection": {"split": "train", "index": -1}}, ["selection"]),
    ({"user_images": ["p"] * 501}, ["user_images"]),
    ({"user_images": [7]}, ["user_images"]),
    ({"labs__insideImageLab__settings__compare_box": {"nested": 1}}, ["labs.insideImageLab.settings"]),
    ({"labs__playgroundView__playground__points": [[1e9, 0, 0]]}, ["playgroundView", "coordinates"]),
    ({"labs__playgroundView__extra": 1}, ["labs"]),
    ({"view": 3}, ["view"]),
    ({"model": "../../etc/passwd"}, ["model"]),
])
def test_a_bad_field_is_refused_naming_it(tmp_path, good_json, changes, words):
    good_json["model"] = None
    refused(write_zip(tmp_path / "bad.linviz", {JSON_MEMBER: with_changes(good_json, **changes)}), *words)


def test_bad_json_is_refused(tmp_path, good_json):
    refused(write_zip(tmp_path / "a.linviz", {JSON_MEMBER: b"\xff\xfe"}), "UTF-8")
    refused(write_zip(tmp_path / "b.linviz", {JSON_MEMBER: "{"}), "not valid JSON")
    refused(write_zip(tmp_path / "c.linviz", {JSON_MEMBER: '{"format": NaN}'}), "NaN")
    refused(write_zip(tmp_path / "d.linviz", {JSON_MEMBER: "[" * 100_000 + "]" * 100_000}), "nested too deeply")
    deep = {"format": "linviz-workspace", "version": 1, "labs": {"x": {"settings": {}}}}
    inner = deep["labs"]["x"]
    for _ in range(20):
        inner["playground"] = {"a": {}}
        inner = inner["playground"]["a"]
    refused(write_zip(tmp_path / "e.linviz", {JSON_MEMBER: json.dumps(deep)}), "levels deep")
    refused(write_zip(tmp_path / "f.linviz", {JSON_MEMBER: "7"}), "expected a JSON object")


def test_bad_archives_are_refused(tmp_path, good_json, model):
    text = json.dumps(good_json)
    refused(tmp_path / "missing.linviz", "no such workspace file")
    (tmp_path / "plain.linviz").write_text(text)
    refused(tmp_path / "plain.linviz", "not a zip archive")
    refused(write_zip(tmp_path / "extra.linviz", {JSON_MEMBER: text, "evil.py": "x", }), "unexpected member")
    refused(write_zip(tmp_path / "nojson.linviz", {MODEL_MEMBER: b"x"}), "no workspace.json")
    good_json["model"] = MODEL_MEMBER
    refused(write_zip(tmp_path / "nomodel.linviz", {JSON_MEMBER: json.dumps(good_json)}), "no model.npz")
    good_json["model"] = None
    refused(write_zip(tmp_path / "unnamed.linviz", {JSON_MEMBER: json.dumps(good_json), MODEL_MEMBER: b"x"}),
            "does not name")
    good_json["model"] = MODEL_MEMBER
    refused(write_zip(tmp_path / "badmodel.linviz", {JSON_MEMBER: json.dumps(good_json), MODEL_MEMBER: b"PK junk"}),
            "its model")
    path = save_workspace(tmp_path / "good.linviz", a_state(model[1]), model[0], model[1])
    data = path.read_bytes()
    (tmp_path / "truncated.linviz").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "truncated.linviz")
    many = tmp_path / "many.linviz"
    with zipfile.ZipFile(many, "w") as archive:
        for k in range(50):
            archive.writestr(f"m{k}", "")
    refused(many, "50 members")


def test_a_model_of_other_classes_is_refused(tmp_path, model):
    state = a_state(model[1])
    state.data.classes = ["a", "b", "c", "d", "e", "f"]
    path = save_workspace(tmp_path / "w.linviz", state, model[0], model[1])
    refused(path, "the model's classes are not its data's")


def test_a_bomb_is_refused_before_it_is_read(tmp_path, good_json):
    good_json["model"] = None
    bomb = json.dumps(good_json) + " " * (6 * 1024 * 1024)  # deflates to a few kB, declares 6 MB
    refused(write_zip(tmp_path / "bomb.linviz", {JSON_MEMBER: bomb}), "declares")


def test_special_files_are_refused(tmp_path, call_near_fifo):
    fifo = tmp_path / "pipe.linviz"
    os.mkfifo(fifo)
    with pytest.raises(WorkspaceError, match="named pipe"):
        call_near_fifo(fifo, read_workspace, fifo)
    with pytest.raises(WorkspaceError, match="folder"):
        read_workspace(tmp_path)


def test_nothing_is_written_that_could_not_be_read(tmp_path, model):
    state = a_state(model[1])
    state.features = "not a feature"
    with pytest.raises(WorkspaceError, match="features"):
        save_workspace(tmp_path / "w.linviz", state)
    assert not (tmp_path / "w.linviz").exists()


def test_validate_is_the_one_checker(good_json):
    good_json["model"] = None
    state = validate_workspace(good_json, "here")
    assert state.features == "hue:bins=8"
    with pytest.raises(WorkspaceError, match="^here: "):
        validate_workspace([], "here")
