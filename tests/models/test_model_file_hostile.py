"""Model files from anyone: declared shapes bounded before anything is allocated, every field
type- and range-checked, special files refused; a ModelFileError naming the file, never a
traceback or gigabytes."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile

import numpy as np
import pytest

from linviz.data import make_demo_dataset
from linviz.errors import ModelFileError
from linviz.features import FeaturePipeline
from linviz.training import LinearClassifier
from linviz.models.model_file import load_model, save_model


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    ds = make_demo_dataset(n_train_per_class=10, n_test_per_class=2, seed=1)
    pipeline = FeaturePipeline("hue:bins=8")
    X = pipeline.fit_transform(ds.train.images)
    clf = LinearClassifier(epochs=1).fit(X, ds.train.labels)
    path = tmp_path_factory.mktemp("model") / "good.npz"
    save_model(path, W=clf.W_, class_names=ds.class_names, pipeline=pipeline, loss="softmax",
               hyperparameters=dataclasses.asdict(clf.training_config()), accuracies={"train": 0.5})
    with np.load(path, allow_pickle=False) as archive:
        return path, {k: archive[k] for k in archive.files}


def write_npz(path, arrays: dict):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def variant(good_model, tmp_path, **changes):
    _, arrays = good_model
    arrays = dict(arrays)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return write_npz(tmp_path / "variant.npz", arrays)


def metadata_with(good_model, **fields):
    meta = json.loads(str(good_model[1]["metadata"]))
    meta.update(fields)
    return np.array(json.dumps(meta))


def refused(path, *words):
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for word in words:
        assert word in message, message
    return message


def test_the_good_model_loads(good_model):
    model = load_model(good_model[0])
    assert model.image_size == 32 and len(model.class_names) == 6


@pytest.mark.parametrize("shape,word", [
    ([40000, 40000], "4 to 512 a side"),
    ([32], "2 whole numbers"),
    ([32, 32, 3], "2 whole numbers"),
    ([0, 0], "4 to 512"),
    ([-32, 32], "4 to 512"),
    ([32, 64], "square"),
])
def test_odd_or_huge_image_shapes(good_model, tmp_path, shape, word):
    refused(variant(good_model, tmp_path, feature_image_shape=np.array(shape, np.int64)), word)


def test_a_float_image_shape(good_model, tmp_path):
    refused(variant(good_model, tmp_path, feature_image_shape=np.array([32.0, 32.0])), "whole numbers")


@pytest.mark.parametrize("key,value,word", [
    ("format_version", np.array("1"), "format version"),
    ("format_version", np.array("one"), "format version"),
    ("feature_state_version", np.array("1.0"), "whole number"),
    ("feature_spec", np.array(7), "text"),
    ("loss", np.array(["svm", "softmax"]), "dimensions"),
])
def test_fields_of_the_wrong_type(good_model, tmp_path, key, value, word):
    refused(variant(good_model, tmp_path, **{key: value}), word)


def test_deeply_nested_metadata(good_model, tmp_path):
    deep = np.array("[" * 100_000 + "]" * 100_000)
    refused(variant(good_model, tmp_path, metadata=deep), "metadata")
    nested = {"a": {}}
    inner = nested["a"]
    for _ in range(20):
        inner["a"] = {}
        inner = inner["a"]
    refused(variant(good_model, tmp_path, metadata=np.array(json.dumps(nested))), "nested")


@pytest.mark.parametrize("fields,word", [
    ({"hyperparameters": "fast"}, "must be a JSON object"),
    ({"hyperparameters": {"learning_rate": "0.1"}}, "must be a number"),
    ({"hyperparameters": {"epochs": 2.5}}, "a whole number"),
    ({"hyperparameters": {"reg": [1, 2]}}, "a single value"),
    ({"accuracies": {"test": 7}}, "in [0, 1]"),
    ({"best_epoch": "3"}, "a whole number"),
    ({"class_names": [1, 2]}, "list of text"),
])
def test_metadata_fields_are_type_and_range_checked(good_model, tmp_path, fields, word):
    refused(variant(good_model, tmp_path, metadata=metadata_with(good_model, **fields)), word)


def test_nan_or_infinite_feature_statistics(good_model, tmp_path):
    mean = good_model[1]["feature_mean"].copy()
    mean[0] = np.nan
    refused(variant(good_model, tmp_path, feature_mean=mean), "NaN")
    scale = good_model[1]["feature_scale"].copy()
    scale[0] = np.inf
    refused(variant(good_model, tmp_path, feature_scale=scale), "finite and positive")


@pytest.mark.parametrize("names,word", [
    (["a", "b", "c", "d", "e", "a"], "duplicate class names"),
    (np.arange(6), "expected text"),
    (["a", "b", "c", "d", "e", " "], "empty"),
])
def test_bad_class_names(good_model, tmp_path, names, word):
    refused(variant(good_model, tmp_path, class_names=np.array(names)), word)


def _write_members_but(zf, good_arrays, key):
    """Every member of the good model but ``key`` into the open zip ``zf``."""
    for name, array in good_arrays.items():
        if name != key:
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            zf.writestr(f"{name}.npy", member.getvalue())


def _npz_with_member(path, good_arrays, key, header_shape, dtype="<f4", data=b"\0" * 1024, compress=False):
    """A model file whose ``key`` member declares ``header_shape`` but holds only ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": header_shape})
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr(f"{key}.npy", buffer.getvalue() + data)
        _write_members_but(zf, good_arrays, key)
    return path


@pytest.mark.parametrize("key,shape", [
    ("W", (75_000, 10_000)),        # 3 GB of weights: within the feature and class bounds, not the weights'
    ("W", (10**7, 10)),
    ("class_names", (10**7,)),
    ("feature_mean", (10**9,)),
])
def test_huge_declared_arrays_are_refused_before_reading(good_model, tmp_path, run_refusal, key, shape):
    path = _npz_with_member(tmp_path / "huge.npz", good_model[1], key, shape,
                            dtype="<U8" if key == "class_names" else "<f4", compress=True)
    result = run_refusal(f"load_model({str(path)!r})", memory_gb=2)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"{path}: ")
    assert "refused before reading" in result.stdout or "declares" in result.stdout, result.stdout


def test_a_zip_with_many_members(tmp_path):
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(100):
            zf.writestr(f"x{i}.npy", b"")
    refused(path, "100 members")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_special_files_as_the_model(tmp_path, call_near_fifo, kind):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    link = tmp_path / "zero.npz"
    link.symlink_to("/dev/zero")
    path = fifo if kind == "fifo" else link
    with pytest.raises(ModelFileError, match="not a regular file but a (named pipe|character device)"):
        call_near_fifo(fifo, load_model, path)


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_saving_over_a_special_file_is_refused(good_model, tmp_path, private_null_device, kind):
    target = private_null_device  # never the real /dev/null: a regression would replace it
    if kind == "fifo":
        target = tmp_path / "out.npz"
        os.mkfifo(target)
    model = load_model(good_model[0])
    with pytest.raises(ModelFileError, match="not a regular file"):
        save_model(target, W=model.W, class_names=model.class_names, pipeline=model.pipeline, loss="softmax")
    assert os.path.exists(target) and not os.path.isfile(target)


# --------------------------------------------------------------------------- bombs: bounded before reading


def _deflated_weights(path, good_arrays, shape, dtype, zip_bombs):
    """A model file whose W member honestly holds ``shape`` zeros of ``dtype``, deflated: a
    gigabyte of zeros in a megabyte (the reader must refuse it from its header, unread)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                  "shape": shape})
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    block = bytes(16 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zip_bombs(), zf.open("W.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for start in range(0, nbytes, len(block)):
                member.write(block[: min(len(block), nbytes - start)])
        _write_members_but(zf, good_arrays, "W")
    return path


@pytest.mark.parametrize("shape, dtype, words", [
    ((1_000_001, 99), "<f8", ["'W'", "before reading"]),                     # 0.8 GB of float64 zeros
    ((1_000_001, 6), "<f4", ["'W'", "feature pipeline makes", "before reading"]),  # rows it cannot use
    ((9, 99), "<f4", ["'W'", "6 class names", "before reading"]),             # columns it cannot use
    ((20_000_000, 6), "<f8", ["'W'", "before reading"]),                     # 960 MB of float64
    ((9, 6), np.longdouble, ["float128"]),                                   # 16-byte floats
])
def test_a_compressed_bomb_as_the_weights_is_refused_from_its_header(good_model, tmp_path, run_refusal, zip_bombs,
                                                                      shape, dtype, words):
    path = _deflated_weights(tmp_path / "bomb.npz", good_model[1], shape, dtype, zip_bombs)
    assert path.stat().st_size < 2_000_000
    with zipfile.ZipFile(path) as zf, zf.open("W.npy") as member:  # a genuine deflate stream of zeros
        if zf.getinfo("W.npy").file_size > 20 << 20:
            member.seek(zf.getinfo("W.npy").file_size - (20 << 20))
            assert member.read(1 << 20) == bytes(1 << 20)
    result = run_refusal(f"load_model({str(path)!r})", memory_gb=1.5, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"{path}: "), result.stdout
    assert all(word in result.stdout for word in words), result.stdout


@pytest.mark.parametrize("weights, words", [
    (np.full((9, 6), 3e38, np.float32), ["weights", "1e+30"]),
    (np.full((9, 6), -2e30, np.float32), ["weights", "1e+30"]),
    (np.full((9, 6), np.inf, np.float32), ["weights"]),
    (np.full((9, 6), np.nan, np.float32), ["weights"]),
])
def test_weights_must_be_finite_and_bounded(good_model, tmp_path, weights, words):
    for word in words:
        refused(variant(good_model, tmp_path, W=weights), word)


@pytest.mark.parametrize("hyperparameters, words", [
    ({"reg": None}, ["'reg'", "must be a number from 0"]),
    ({"reg_type": "l3"}, ["'reg_type'", "l2"]),
    ({"loss": "hinge"}, ["'loss'", "softmax"]),
    ({"learning_rate": 2e6}, ["'learning_rate'", "1,000,000"]),
    ({"epochs": 2.5}, ["'epochs'", "whole number"]),
    ({"delta": -1}, ["'delta'"]),
    ({"momentum": 1.0}, ["'momentum'", "< 1"]),
    ({"squared_hinge": "yes"}, ["'squared_hinge'", "true or false"]),
    ({"seed": -1}, ["'seed'"]),
])
def test_every_hyper_parameter_is_type_and_range_checked(good_model, tmp_path, hyperparameters, words):
    meta = json.loads(str(good_model[1]["metadata"]))
    meta["hyperparameters"].update(hyperparameters)
    refused(variant(good_model, tmp_path, metadata=np.array(json.dumps(meta))), *words)


@pytest.mark.parametrize("key, values, word", [
    ("feature_scale", 1e-30, "feature scales"),
    ("feature_scale", 1e30, "feature scales"),
    ("feature_mean", 1e30, "feature means"),
])
def test_feature_statistics_are_bounded(good_model, tmp_path, key, values, word):
    array = np.full_like(good_model[1][key], values)
    refused(variant(good_model, tmp_path, **{key: array}), word)


def test_what_is_saved_reads_back(good_model, tmp_path):
    model = load_model(good_model[0])
    with pytest.raises(ModelFileError, match=r"1e\+30"):
        save_model(tmp_path / "huge.npz", W=np.full_like(model.W, 3e38), class_names=model.class_names,
                   pipeline=model.pipeline, loss="softmax")
    assert not (tmp_path / "huge.npz").exists()
