"""``python main.py predict``: probabilities or scores per image, unreadable files reported."""

import json

import pytest
from PIL import Image

from linviz.cli import main
from linviz.data import make_demo_dataset


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    ds = make_demo_dataset(n_train_per_class=5, n_test_per_class=3, seed=3)
    images = []
    for i in range(3):
        f = tmp / f"test{i}.png"
        Image.fromarray(ds.test.images[i * 3]).save(f)
        images.append(f)
    models = {}
    for loss in ("softmax", "svm"):
        models[loss] = tmp / f"{loss}.npz"
        assert main(["train", "demo", "--features", "hog,hue", "--model", loss, "--epochs", "2",
                     "--out", str(models[loss]), "--json"]) == 0
    return tmp, models, images


def test_predict_json_softmax(setup, capsys):
    tmp, models, images = setup
    capsys.readouterr()
    broken = tmp / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    code = main(["predict", str(models["softmax"]), *map(str, images), str(broken), "--top", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    result = json.loads(out)
    assert [r["path"] for r in result] == [*map(str, images), str(broken)]
    for r in result[:3]:
        assert len(r["classes"]) == 2 and set(r["classes"][0]) == {"class", "probability"}
        assert r["classes"][0]["probability"] >= r["classes"][1]["probability"]
    assert "broken.jpg" in result[3]["error"]


def test_predict_text_svm_scores_and_folders(setup, capsys):
    tmp, models, images = setup
    capsys.readouterr()
    code = main(["predict", str(models["svm"]), str(tmp)])  # a folder: every image in it
    out, _ = capsys.readouterr()
    assert code == 0
    assert "score (SVM, not a probability)" in out
    assert all(f"{f}:" in out for f in images)


def test_unreadable_files_are_warned_about_on_stderr_not_mixed_into_the_predictions(setup, capsys):
    """stdout is the predictions (a script reads them line by line); a file that could not be
    read is a warning on stderr, named with its reason."""
    tmp, models, images = setup
    broken = tmp / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    capsys.readouterr()
    assert main(["predict", str(models["softmax"]), str(images[0]), str(broken)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("model: ") and len(out.splitlines()) == 2
    assert out.splitlines()[1].startswith(f"{images[0]}: ")
    assert err.splitlines() == [f"warning: predict: skipped {broken}: {err.split(f'{broken}: ', 1)[1].strip()}"]
    assert "not an image" in err or "cannot" in err or "corrupt" in err


def test_nothing_readable_prints_no_predictions_only_the_error(setup, tmp_path, capsys):
    _, models, _ = setup
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    capsys.readouterr()
    assert main(["predict", str(models["softmax"]), str(broken)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and str(broken) in err


def test_predict_json_svm(setup, capsys):
    _, models, images = setup
    capsys.readouterr()
    assert main(["predict", str(models["svm"]), str(images[0]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    scores = [c["score"] for c in result[0]["classes"]]
    assert len(scores) == 6 and scores == sorted(scores, reverse=True)


def test_bad_model_file_and_no_readable_image(setup, tmp_path, capsys):
    _, models, images = setup
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv, message in (
        (["predict", str(bad), str(images[0])], "truncated or corrupt"),
        (["predict", str(tmp_path / "none.npz"), str(images[0])], "no such model file"),
        (["predict", str(models["softmax"]), str(tmp_path / "missing.png")],
         f"predict: {tmp_path / 'missing.png'}: no such file"),
        (["predict", str(models["softmax"]), str(empty)], f"predict: no image files in {empty}"),
        (["predict", str(models["softmax"]), str(images[0]), "--top", "0"], "--top"),
        (["predict", str(models["softmax"])], "images"),
    ):
        capsys.readouterr()
        assert main(argv) == 2
        err_lines = capsys.readouterr().err.strip().splitlines()
        assert err_lines[-1].startswith("error:") and message in err_lines[-1], err_lines
