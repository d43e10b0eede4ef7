"""Model files: round trip, classifying image files alone, and every kind of bad file."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from linviz.data import make_demo_dataset
from linviz.errors import ModelFileError
from linviz.features import FeaturePipeline
from linviz.training import LinearClassifier
from linviz.models.model_file import FORMAT_VERSION, load_model, save_model


@pytest.fixture(scope="module")
def trained():
    ds = make_demo_dataset(n_train_per_class=40, n_test_per_class=5, seed=0)
    pipeline = FeaturePipeline("hog,hue")
    X = pipeline.fit_transform(ds.train.images)
    clf = LinearClassifier(loss="softmax", epochs=5, learning_rate=0.05).fit(X, ds.train.labels)
    return ds, pipeline, clf


@pytest.fixture
def model_path(trained, tmp_path):
    ds, pipeline, clf = trained
    return save_model(tmp_path / "model.npz", W=clf.W_, class_names=ds.class_names, pipeline=pipeline,
                      loss="softmax", hyperparameters=dataclasses.asdict(clf.training_config()),
                      accuracies={"train": 0.9, "val": float("nan")})


def test_round_trip(trained, model_path, tmp_path):
    ds, pipeline, clf = trained
    model = load_model(model_path)
    np.testing.assert_array_equal(model.W, clf.W_)
    assert model.class_names == list(ds.class_names) and model.loss == "softmax"
    assert model.hyperparameters["learning_rate"] == 0.05
    assert model.accuracies == {"train": 0.9, "val": None}
    assert model.metadata["feature_spec"] == str(pipeline.spec)
    np.testing.assert_allclose(model.scores_of_images(ds.test.images),
                               clf.decision_function(pipeline.transform(ds.test.images)), rtol=1e-5, atol=1e-5)
    with np.load(model_path, allow_pickle=False) as archive:  # plain arrays, no pickle needed
        assert int(archive["format_version"]) == FORMAT_VERSION
        json.loads(str(archive["metadata"]))


def test_classifies_image_files_alone(trained, model_path, tmp_path):
    ds, _, clf = trained
    files = []
    for i in range(3):
        f = tmp_path / f"img{i}.png"
        Image.fromarray(ds.test.images[i]).save(f)
        files.append(f)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    results = load_model(model_path).predict_images(files + [broken, tmp_path / "missing.png"], top=3)
    assert [r.error is None for r in results] == [True, True, True, False, False]
    assert "broken.jpg" in results[3].error and "missing.png" in results[4].error
    for r in results[:3]:
        values = [v for _, v in r.classes]
        assert len(r.classes) == 3 and values == sorted(values, reverse=True)
        assert r.as_json()["classes"][0].keys() == {"class", "probability"}
    full = load_model(model_path).predict_images(files[:1])[0]
    assert sum(v for _, v in full.classes) == pytest.approx(1.0)


def test_many_images_are_classified_a_batch_at_a_time(model_path, tmp_path, monkeypatch):
    import linviz.models.model_file as model_file

    ds = make_demo_dataset(n_train_per_class=2, n_test_per_class=0, seed=5)
    files = []
    for i, image in enumerate(ds.train.images):
        files.append(tmp_path / f"{i}.png")
        Image.fromarray(image).save(files[-1])
    files.insert(3, tmp_path / "missing.png")
    model = load_model(model_path)
    at_once = model.predict_images(files)
    monkeypatch.setattr(model_file, "PREDICT_BATCH", 5)
    batched = model.predict_images(files)
    assert [r.path for r in batched] == [r.path for r in at_once]
    for one, other in zip(batched, at_once):  # BLAS may round a product of another shape differently
        assert [c for c, _ in one.classes] == [c for c, _ in other.classes]
        assert [v for _, v in one.classes] == pytest.approx([v for _, v in other.classes], abs=1e-6)
    assert batched[3].error is not None and len(batched) == 13


def test_svm_models_report_scores(trained, tmp_path):
    ds, pipeline, clf = trained
    path = save_model(tmp_path / "svm.npz", W=clf.W_, class_names=ds.class_names, pipeline=pipeline, loss="svm")
    f = tmp_path / "a.png"
    Image.fromarray(ds.test.images[0]).save(f)
    result = load_model(path).predict_images([f])[0]
    assert result.kind == "score" and set(result.as_json()["classes"][0]) == {"class", "score"}


def rewrite(src, dst, *, drop=(), change=None):
    with np.load(src, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files if k not in drop}
    arrays.update(change or {})
    with open(dst, "wb") as f:
        np.savez(f, **arrays)
    return dst


def test_truncated_file(model_path, tmp_path):
    data = model_path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated or corrupt"):
            load_model(bad)


def test_not_a_zip(tmp_path):
    bad = tmp_path / "model.npz"
    bad.write_text("hello")
    with pytest.raises(ModelFileError, match="not a linviz model file"):
        load_model(bad)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.npz")


def test_foreign_npz(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(ModelFileError, match="format marker"):
        load_model(foreign)
    plain_zip = tmp_path / "plain.npz"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ModelFileError, match="not a linviz model file"):
        load_model(plain_zip)


def test_newer_version(model_path, tmp_path):
    bad = rewrite(model_path, tmp_path / "new.npz", change={"format_version": np.array(FORMAT_VERSION + 1)})
    with pytest.raises(ModelFileError, match="newer linviz"):
        load_model(bad)


@pytest.mark.parametrize("key", ["W", "class_names", "loss", "metadata", "feature_mean"])
def test_missing_keys(model_path, tmp_path, key):
    bad = rewrite(model_path, tmp_path / "missing.npz", drop=(key,))
    with pytest.raises(ModelFileError, match="missing"):
        load_model(bad)


def test_inconsistent_and_unsafe_content(model_path, tmp_path):
    bad = rewrite(model_path, tmp_path / "shape.npz", change={"W": np.ones((5, 3), np.float32)})
    with pytest.raises(ModelFileError, match="inconsistent"):
        load_model(bad)
    nan = rewrite(model_path, tmp_path / "nan.npz", change={"W": np.full((5, 3), np.nan, np.float32)})
    with pytest.raises(ModelFileError):
        load_model(nan)
    pickled = tmp_path / "pickled.npz"
    rewrite(model_path, pickled, change={"metadata": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ModelFileError, match="cannot be read safely"):
        load_model(pickled)


def test_saving_under_a_file_raises_model_file_error(trained, tmp_path):
    ds, pipeline, clf = trained
    (tmp_path / "notes.txt").write_text("not a folder")
    target = tmp_path / "notes.txt" / "sub" / "model.npz"
    with pytest.raises(ModelFileError, match="notes.txt"):
        save_model(target, W=clf.W_, class_names=ds.class_names, pipeline=pipeline, loss="softmax")
