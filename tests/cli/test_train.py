"""``python main.py train``: demo set and a small generated image folder; bad arguments exit 2."""

import json

import numpy as np
import pytest
from PIL import Image

from linviz.cli import main
from linviz.models import load_model


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_demo_json(tmp_path, capsys):
    out_file = tmp_path / "model.npz"
    code, out, err = run(capsys, "train", "demo", "--features", "hog,hue", "--model", "softmax",
                         "--epochs", "3", "--val", "300", "--seed", "1", "--out", str(out_file), "--json")
    assert code == 0, err
    report = json.loads(out)
    for key in ("train_accuracy", "val_accuracy", "test_accuracy", "seconds"):
        assert isinstance(report[key], float)
    assert report["test_accuracy"] > 0.4  # 6 demo classes: chance is 0.17
    assert report["n_val"] == 300 and "training" in err  # progress bar on stderr
    model = load_model(out_file)
    assert model.loss == "softmax" and len(model.class_names) == 6
    assert model.hyperparameters["epochs"] == 3
    assert model.accuracies["test_accuracy"] == pytest.approx(report["test_accuracy"])
    # where the time went, stage by stage (the bench's end-to-end breakdown reads these)
    for stage in ("imports", "dataset", "kernels_wait", "kernels_background", "features", "fit",
                  "standardize", "training", "evaluation", "save"):
        assert report["timings"][stage] >= 0, stage
    assert sum(v for k, v in report["timings"].items() if k not in ("kernels_background", "startup")) \
        <= report["seconds"] + report["timings"]["imports"] + 0.05


def test_train_svm_text_output_on_an_image_folder(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name, channel in (("red", 0), ("green", 1), ("blue", 2)):
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for i in range(20):
            img = rng.integers(0, 80, (32, 32, 3)).astype(np.uint8)
            img[..., channel] = 200
            Image.fromarray(img).save(folder / f"{i}.png")
    out_file = tmp_path / "svm.npz"
    code, out, err = run(capsys, "train", str(tmp_path / "images"), "--features", "hue:bins=12,layout:grid=2",
                         "--model", "svm", "--reg-type", "elastic", "--optimizer", "momentum", "--epochs", "5",
                         "--batch", "16", "--val", "0.2", "--out", str(out_file))
    assert code == 0, err
    assert "accuracy:" in out and "saved:" in out and "C - 1 = 2" in out
    assert "features:   hue:bins=12:sqrt=0,layout:grid=2 (24 columns + bias)" in out  # no preset: its spec
    assert load_model(out_file).loss == "svm"


def test_a_preset_is_named_by_its_name_not_its_whole_spec(tmp_path, capsys):
    code, out, err = run(capsys, "train", "demo", "--features", "hog+hue", "--epochs", "1", "--out",
                         str(tmp_path / "m.npz"))
    assert code == 0, err
    assert "features:   hog+hue (154 columns + bias)" in out


@pytest.mark.parametrize("argv,message", [
    (["train", "demo"], "--out"),
    (["train", "demo", "--out", "m.npz", "--model", "knn"], "--model"),
    (["train", "demo", "--out", "m.npz", "--features", "nonsense"], "nonsense"),
    (["train", "demo", "--out", "m.npz", "--lr", "-1"], "--lr"),
    (["train", "demo", "--out", "m.npz", "--epochs", "0"], "epochs"),
    (["train", "demo", "--out", "m.npz", "--val", "abc"], "--val"),
    (["train", "demo", "--out", "m.npz", "--val", "5000"], "train: --val 5000: validation size must be between 0 "
                                                           "and the 3,000 training images, got 5,000"),
    (["train", "/no/such/folder", "--out", "m.npz"], "/no/such/folder"),
    (["train", "demo", "--out", "m.npz", "--name", "first try"], "--name names the run in the run history: give "),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not (tmp_path / "m.npz").exists()


@pytest.fixture
def no_loading(monkeypatch):
    """Bad --out must be refused before the (slow) load and training start."""
    import linviz.data

    def refuse(*args, **kwargs):
        raise AssertionError("load_dataset called before --out was checked")
    monkeypatch.setattr(linviz.data, "load_dataset", refuse)


@pytest.mark.parametrize("out", ["notes.txt/m.npz", "notes.txt/sub/m.npz"])
def test_out_under_a_file_exits_2_before_loading(tmp_path, capsys, monkeypatch, no_loading, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = run(capsys, "train", "demo", "--out", out)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "notes.txt" in lines[0] and "--out" in lines[0]


def test_out_in_an_unwritable_folder_exits_2_before_loading(tmp_path, capsys, monkeypatch, no_loading):
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access",
                        lambda p, mode, **kw: False if str(p) == str(tmp_path) else real_access(p, mode, **kw))
    code, _, err = run(capsys, "train", "demo", "--out", str(tmp_path / "new" / "m.npz"))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and "not writable" in lines[0] and str(tmp_path) in lines[0]


def test_out_in_a_folder_that_does_not_exist_yet_is_created(tmp_path, capsys):
    out_file = tmp_path / "models" / "new" / "m.npz"
    code, _, err = run(capsys, "train", "demo", "--features", "hue", "--epochs", "1", "--val", "0",
                       "--out", str(out_file))
    assert code == 0, err
    assert load_model(out_file).loss == "softmax"


def _image_folder(root, classes, n=4):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (16, 16, 3)).astype(np.uint8)).save(root / name / f"{i}.png")
    return root


def test_one_class_dataset_exits_2_with_one_line(tmp_path, capsys):
    folder = _image_folder(tmp_path / "one", ["only"])
    code, _, err = run(capsys, "train", str(folder), "--out", str(tmp_path / "m.npz"))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "only 1 class (only)" in lines[0] and "at least 2" in lines[0] and str(folder) in lines[0]
    assert not (tmp_path / "m.npz").exists()


def test_training_split_with_one_class_exits_2(tmp_path, capsys):
    root = tmp_path / "split"
    _image_folder(root / "train", ["cat"])
    _image_folder(root / "test", ["cat", "dog"])
    code, _, err = run(capsys, "train", str(root), "--out", str(tmp_path / "m.npz"))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and "only 1 class (cat)" in lines[0] and "at least 2" in lines[0]


def test_the_core_still_raises_value_error_for_one_class():
    from linviz.training import train

    X = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="at least 2 classes"):
        next(train(X, np.zeros(4, int)))


def test_early_stopping_without_validation_exits_2_before_loading(tmp_path, capsys, no_loading):
    code, _, err = run(capsys, "train", "demo", "--val", "0", "--early-stopping", "2",
                       "--out", str(tmp_path / "m.npz"))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and "--early-stopping" in lines[0] and "--val" in lines[0]


def test_early_stopping_with_a_too_small_default_validation_split_exits_2(tmp_path, capsys):
    folder = _image_folder(tmp_path / "tiny", ["a", "b"], n=3)  # 6 images: a tenth is 0
    code, _, err = run(capsys, "train", str(folder), "--early-stopping", "2", "--out", str(tmp_path / "m.npz"))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and "--early-stopping" in lines[0] and "validation" in lines[0]
    assert not (tmp_path / "m.npz").exists()


def test_ctrl_c_during_training_saves_the_best_weights_so_far(tmp_path, capsys, monkeypatch):
    import os
    import signal

    from linviz.cli import train as cli

    sent = []

    class InterruptingBar(cli.ProgressBar):
        def __call__(self, done, total):
            super().__call__(done, total)
            if self.label == "training" and done >= 20 and not sent:
                sent.append(done)
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C does

    monkeypatch.setattr(cli, "ProgressBar", InterruptingBar)
    before = signal.getsignal(signal.SIGINT)
    out_file = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "demo", "--features", "hue", "--epochs", "50", "--batch", "20",
                         "--val", "100", "--out", str(out_file), "--json")
    assert sent and code == 130
    assert signal.getsignal(signal.SIGINT) is before
    report = json.loads(out)
    assert report["stop_reason"].startswith("stopped by the user") and report["epochs_done"] < 50
    assert "interrupted" in err and str(out_file) in err
    model = load_model(out_file)
    assert model.metadata["stop_reason"] == report["stop_reason"]
    assert np.isfinite(model.W).all()


def test_without_a_validation_split_the_last_weights_are_kept_and_test_only_scored(tmp_path, capsys):
    out_file = tmp_path / "model.npz"
    code, out, err = run(capsys, "train", "demo", "--features", "hue,layout:grid=2", "--epochs", "2",
                         "--val", "0", "--out", str(out_file))
    assert code == 0, err
    assert "no validation data: kept the last weights" in out
    assert "kept:       the last weights (no validation data); the test split is only scored" in out
    assert "val -, test 0." in out
    code, out, err = run(capsys, "train", "demo", "--features", "hue,layout:grid=2", "--epochs", "2",
                         "--val", "0", "--out", str(out_file), "--json")
    report = json.loads(out)
    assert report["val_accuracy"] is None and isinstance(report["test_accuracy"], float)
    assert report["kept"] == "the last weights (no validation data)" and report["best_epoch"] is None
    assert load_model(out_file).metadata["kept"] == report["kept"]


def test_with_a_validation_split_the_kept_epoch_is_named(tmp_path, capsys):
    code, out, err = run(capsys, "train", "demo", "--features", "hue,layout:grid=2", "--epochs", "2",
                         "--val", "200", "--out", str(tmp_path / "m.npz"), "--json")
    report = json.loads(out)
    assert report["kept"].startswith(f"the weights of epoch {report['best_epoch']}, the best validation accuracy")


@pytest.mark.parametrize("features,model,optimizer", [("hue,layout:grid=2", "softmax", "sgd"),
                                                      ("raw:size=8", "svm", "momentum"),
                                                      ("hue", "softmax", "random_local_search")])
def test_options_not_given_take_the_recommended_settings(tmp_path, capsys, features, model, optimizer):
    from linviz.training import recommended_settings

    out_file = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "demo", "--features", features, "--model", model,
                         "--optimizer", optimizer, "--val", "100", "--out", str(out_file), "--json")
    assert code == 0, err
    hyper = load_model(out_file).hyperparameters
    for name, value in recommended_settings(features, model, optimizer).items():
        assert hyper[name] == pytest.approx(value), name
    option, setting = ("--search-step", "search_step") if "search" in optimizer else ("--lr", "learning_rate")
    code, out, err = run(capsys, "train", "demo", "--features", features, "--model", model,
                         "--optimizer", optimizer, option, "0.005", "--epochs", "2", "--val", "100",
                         "--out", str(out_file), "--json")
    assert code == 0, err
    hyper = load_model(out_file).hyperparameters
    assert hyper[setting] == 0.005 and hyper["epochs"] == 2
    assert hyper["lr_decay"] == recommended_settings(features, model, optimizer)["lr_decay"]


def test_help_says_where_the_defaults_come_from(capsys):
    code, out, err = run(capsys, "train", "--help")
    assert code == 0
    assert "recommended_settings" in out and "RECOMMENDED" in out


def test_train_words_then_predict_in_a_fresh_process_without_refitting(tmp_path, capsys):
    import subprocess
    import sys
    from pathlib import Path

    out_file = tmp_path / "words.npz"
    spec = "words:k=24:samples=3000:iters=3"
    code, out, err = run(capsys, "train", "demo", "--features", spec, "--epochs", "3", "--val", "300",
                         "--out", str(out_file), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["n_features"] == 4 * 24 and report["timings"]["learning"] > 0 and "learning" in err
    assert report["test_accuracy"] > 0.3  # 6 demo classes: chance is 0.17
    model = load_model(out_file)
    assert model.pipeline.blocks_fitted and out_file.stat().st_size < 100_000
    image = tmp_path / "one.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(image)
    # a fresh process: the codebook comes from the file (fitting is made impossible there)
    script = ("import sys, linviz.features.blocks.words as w\n"
              "w.fit_codebook = None\n"
              "from linviz.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "predict", str(out_file), str(image), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    predicted = json.loads(done.stdout)[0]["classes"]
    expected = model.predict_images([image])[0].classes
    assert [c["class"] for c in predicted] == [name for name, _ in expected]
    assert [c["probability"] for c in predicted] == pytest.approx([value for _, value in expected], abs=1e-6)


@pytest.mark.parametrize("command, extra", [("train", ["--out", "m.npz", "--epochs", "1"]), ("features", []),
                                            ("knn", ["--k", "1,3", "--folds", "2"])])
def test_files_skipped_on_the_way_are_said_on_stderr_and_the_run_goes_on(tmp_path, capsys, monkeypatch, command,
                                                                         extra):
    monkeypatch.chdir(tmp_path)
    root = _image_folder(tmp_path / "data", ["cat", "dog"], n=8)
    (root / "cat" / "broken.jpg").write_bytes(b"not an image at all")
    (root / "dog" / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    code, out, err = run(capsys, command, str(root), *extra)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, err
    assert f"warning: {command}: skipped {root / 'cat' / 'broken.jpg'}: " in warnings[0]
    assert "and 1 more file" in warnings[0] and f"'python main.py info {root}' lists every skipped file" in warnings[0]


def test_a_cut_archive_is_said_and_what_came_before_the_cut_is_used(tmp_path, capsys):
    import tarfile

    root = _image_folder(tmp_path / "data", ["cat", "dog"], n=30)
    whole = tmp_path / "whole.tar.gz"
    with tarfile.open(whole, "w:gz") as tar:
        for name in ("cat", "dog"):
            tar.add(root / name, arcname=name)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[:int(whole.stat().st_size * 0.8)])
    code, out, err = run(capsys, "features", str(cut))
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"skipped {cut}: archive is truncated or corrupt" in warnings[0], err
    assert "the run goes on with the images read before the damage" in warnings[0]


def test_an_unknown_option_is_named_with_its_command(capsys):
    code, out, err = run(capsys, "train", "demo", "--out", "m.npz", "--frobnicate")
    assert code == 2 and err.strip() == "error: train: unrecognized arguments: --frobnicate"


@pytest.mark.parametrize("argv, line", [
    (["train", "demo", "--out", "m.npz", "--lr", "abc"],
     "error: train: --lr: expected a number > 0 and <= 1,000,000, got 'abc'"),
    (["train", "demo", "--out", "m.npz", "--model", "foo"],
     "error: train: --model: invalid choice: 'foo' (choose from 'softmax', 'svm')"),
    (["train"], "error: train: the following arguments are required: source, --out"),
])
def test_argument_errors_read_like_every_other_error(capsys, argv, line):
    """'train: --lr: reason', as linviz's own checks say it (argparse said 'linviz train:
    argument --lr: reason')."""
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.strip() == line


def test_batch_sets_a_searchs_tries_per_epoch(capsys, tmp_path):
    """A search makes one try per minibatch: --batch is its tries per epoch, accepted (the
    options it takes no setting for are refused)."""
    code, out, err = run(capsys, "train", "demo", "--features", "hue", "--optimizer", "random_search",
                         "--batch", "500", "--epochs", "1", "--out", str(tmp_path / "m.npz"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["iterations"] == -(-report["n_train"] // 500)
