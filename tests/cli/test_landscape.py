"""``python main.py landscape``: the loss around a model's weights, as JSON or a table."""

import json

import numpy as np
import pytest

from linviz.cli import main


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("landscape") / "svm.npz"
    assert main(["train", "demo", "--features", "hue", "--model", "svm", "--epochs", "2", "--out", str(path),
                 "--json"]) == 0
    return path


def test_json_2d_around_a_saved_model(model_file, capsys):
    capsys.readouterr()
    assert main(["landscape", "demo", "--model-file", str(model_file), "--2d", "--steps", "5", "--range", "0.5",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"alphas", "betas", "data", "reg", "total"}
    assert data["alphas"] == pytest.approx(np.linspace(-0.5, 0.5, 5).tolist())
    total = np.array(data["total"])
    assert total.shape == (5, 5)
    np.testing.assert_allclose(total, np.array(data["data"]) + np.array(data["reg"]), rtol=1e-12)
    # the center is the model's loss on the validation split, computed here independently
    from linviz.data import load_dataset, split_validation
    from linviz.models import svm_loss
    from linviz.models.model_file import load_model

    saved = load_model(model_file)
    ds = load_dataset("demo")
    _, val = split_validation(ds.train, min(1000, len(ds.train) // 10), seed=0)
    X = saved.pipeline.transform(val.images)
    W = np.asarray(saved.W, np.float32)
    reg = saved.hyperparameters["reg"]
    expected = svm_loss(W, X, val.labels, reg, n_reg_rows=W.shape[0] - 1)[0]
    assert total[2, 2] == pytest.approx(expected, rel=1e-5)


def test_text_1d_along_the_gradient_goes_down(model_file, capsys):
    capsys.readouterr()
    assert main(["landscape", "demo", "--model-file", str(model_file), "--directions", "gradient", "--steps", "3",
                 "--range", "0.01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["betas"] is None and len(data["total"]) == 3
    assert data["total"][2] < data["total"][1] < data["total"][0]
    assert main(["landscape", "demo", "--model-file", str(model_file), "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "at W: data" in out and len(out.strip().splitlines()) == 7


@pytest.mark.parametrize("argv, message", [
    (["--range", "0"], "--range"),
    (["--steps", "1"], "--steps"),
    (["--model-file", "nope.npz"], "nope.npz"),
    (["--model-file", "m.npz", "--model", "svm"], "either"),
    (["--directions", "sideways"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    capsys.readouterr()
    assert main(["landscape", "demo", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
