"""``python main.py knn``: the CV table and the best k, ``--json`` exactly as documented,
checked against an independent computation; bad input exits 2 with one line on stderr."""

import json

import numpy as np
import pytest
from PIL import Image

from linviz.cli import main
from linviz.data import make_demo_dataset
from linviz.explore.knn import training_subset
from linviz.features import raw_pixels


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_knn_json_is_exactly_the_documented_document(capsys):
    code, out, err = run(capsys, "knn", "demo", "--features", "raw16", "--distance", "l1", "--k", "1,4,9",
                         "--folds", "4", "--train-size", "400", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["k", "fold_accuracies", "mean", "std", "best_k", "test_accuracy"]
    assert doc["k"] == [1, 4, 9]
    folds = np.array(doc["fold_accuracies"])
    assert folds.shape == (3, 4)  # one list per k, one accuracy per fold
    np.testing.assert_allclose(doc["mean"], folds.mean(axis=1))
    np.testing.assert_allclose(doc["std"], folds.std(axis=1))
    assert doc["best_k"] == doc["k"][int(np.argmax(doc["mean"]))]

    # the test accuracy, recomputed here by brute force on the same 400 images
    demo = make_demo_dataset()
    subset = training_subset(len(demo.train.labels), 400, 0)
    Xtr = raw_pixels(demo.train.images[subset], size=16).astype(np.float64)
    ytr = demo.train.labels[subset]
    X = raw_pixels(demo.test.images, size=16).astype(np.float64)
    k = doc["best_k"]
    predicted = []
    for x in X:
        nearest = ytr[np.argsort(np.abs(Xtr - x).sum(1), kind="stable")[:k]]
        predicted.append(np.argmax(np.bincount(nearest, minlength=6)))
    assert doc["test_accuracy"] == pytest.approx(np.mean(np.array(predicted) == demo.test.labels))


def test_knn_text_output(capsys):
    code, out, err = run(capsys, "knn", "demo", "--train-size", "300", "--k", "1,3", "--folds", "3")
    assert code == 0, err
    assert "fold 3" in out and "<- best" in out and "best k:" in out and "test:" in out
    assert "raw pixels (unstandardized)" in out and "300 of 3,000 training images" in out
    assert "5-fold" not in out and "3-fold CV" in err  # progress on stderr


def test_a_source_without_a_test_split_has_no_test_accuracy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name, channel in (("red", 0), ("blue", 2)):
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for i in range(12):
            img = rng.integers(0, 80, (32, 32, 3)).astype(np.uint8)
            img[..., channel] = 220
            Image.fromarray(img).save(folder / f"{i}.png")
    code, out, err = run(capsys, "knn", str(tmp_path / "images"), "--k", "1,3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["test_accuracy"] is None and doc["mean"][0] == 1.0  # red vs blue: trivially separable


@pytest.mark.parametrize("argv,message", [
    (["knn", "demo", "--k", "0"], "knn: --k: every value must be at least 1"),
    (["knn", "demo", "--k", "1,two"], "knn: --k: 'two' is not a whole number"),
    (["knn", "demo", "--k", "2900"], "more than the 2,400 training images of a fold"),
    (["knn", "demo", "--folds", "1"], "--folds"),
    (["knn", "demo", "--train-size", "99999"], "more than the 3,000 training images"),
    (["knn", "demo", "--train-size", "3"], "at least --folds"),
    (["knn", "demo", "--distance", "l3"], "--distance"),
    (["knn", "demo", "--features", "nonsense"], "nonsense"),
    (["knn", "/no/such/folder"], "/no/such/folder"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], err


def test_the_default_k_list_on_a_few_images_validates_the_ks_that_fit(capsys):
    """No --k on a small set: the course's list without the k values a fold has too few
    images for, said on stderr; the same k given with --k is an error."""
    code, out, err = run(capsys, "knn", "demo", "--train-size", "24", "--json")
    assert code == 0, err
    assert json.loads(out)["k"] == [1, 3, 5, 8, 10, 12, 15]  # a fold trains on 19 images
    warning = [line for line in err.splitlines() if line.startswith("warning: knn:")]
    assert len(warning) == 1 and "k 20, 50, 100 of the course's list are more than the 19" in warning[0]
    code, out, err = run(capsys, "knn", "demo", "--train-size", "24", "--k", "1,20")
    assert code == 2 and err.strip().splitlines()[-1].startswith("error: knn: --k 20 is more than the 19")
