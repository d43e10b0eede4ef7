"""The CLI against hostile input: one line and exit 2 instead of tracebacks, special files
neither read nor written, names escaped, JSON without NaN, no library warnings, exit 3 for
a diverged run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from linviz.cli import main
from linviz.models import load_model, save_model


def run(capsys, *argv):
    """main() in this process with its own stdout and stderr for the call.

    Its own streams, not pytest's capture objects: a capture object left behind by an earlier
    test (seen under load: sys.stderr a closed or a global capture at print time) must not
    decide what this test reads.
    """
    capsys.readouterr()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def one_error_line(err: str) -> str:
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    return lines[0]


def image_folder(root, classes, n=3, size=16):
    rng = np.random.default_rng(0)
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (size, size, 3)).astype(np.uint8)).save(folder / f"{i}.png")
    return root


@pytest.fixture
def no_loading(monkeypatch):
    import linviz.data

    def refuse(*args, **kwargs):
        raise AssertionError("load_dataset called before --out was checked")
    monkeypatch.setattr(linviz.data, "load_dataset", refuse)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-hostile") / "model.npz"
    assert main(["train", "demo", "--features", "hue", "--epochs", "1", "--val", "0", "--out", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("argv,word", [
    (["--val", "inf"], "--val"),
    (["--val", "nan"], "--val"),
    (["--val", "-inf"], "--val"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**64)], "--seed"),
    (["--momentum", "nan"], "--momentum"),
    (["--momentum", "1.5"], "--momentum"),
    (["--lr-decay", "nan"], "--lr-decay"),
])
def test_bad_numbers_exit_2_with_one_line_before_loading(tmp_path, capsys, no_loading, argv, word):
    code, _, err = run(capsys, "train", "demo", *argv, "--out", tmp_path / "m.npz")
    assert code == 2 and word in one_error_line(err)


@pytest.mark.parametrize("val,word", [("6", "leaving 0 to train on"), ("5", "fewer than 2 classes")])
def test_validation_that_leaves_nothing_to_train_on(tmp_path, capsys, val, word):
    folder = image_folder(tmp_path / "six", ["a", "b"])
    code, _, err = run(capsys, "train", folder, "--val", val, "--out", tmp_path / "m.npz")
    line = one_error_line(err)
    assert code == 2 and word in line and "--val" in line and not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("kind", ["device", "fifo", "proc"])
def test_out_over_a_special_file_is_refused_before_loading(tmp_path, capsys, no_loading, private_null_device, kind):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    out, word = {"device": (private_null_device, "character device"), "fifo": (fifo, "named pipe"),
                 "proc": ("/proc/linviz-model.npz", "cannot create files in /proc")}[kind]
    code, _, err = run(capsys, "train", "demo", "--out", out)
    line = one_error_line(err)
    assert code == 2 and "--out" in line and word in line
    if kind != "proc":
        assert os.path.exists(out) and not os.path.isfile(out)


# --------------------------------------------------------------------------- divergence


def test_a_diverged_run_exits_3_and_says_which_weights_were_saved(tmp_path, capsys):
    out = tmp_path / "m.npz"
    code, stdout, err = run(capsys, "train", "demo", "--features", "hue", "--lr", "1e6", "--epochs", "2",
                            "--val", "100", "--out", out, "--json")
    assert code == 3
    report = json.loads(stdout)
    assert report["diverged"] is True and report["stop_reason"].startswith("diverged")
    last = [line for line in err.replace("\r", "\n").splitlines() if line.strip()][-1]
    assert last.startswith("train: diverged at iteration ") and "the newest weights no worse than the initial" in last
    assert str(out) in last
    assert np.isfinite(load_model(out).W).all()


def test_train_help_documents_the_exit_statuses(capsys):
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "3 the run diverged" in text and "130" in text


# --------------------------------------------------------------------------- names and output


def test_escape_sequences_in_class_names_are_escaped(tmp_path, capsys):
    evil = "cat\x1b]0;pwned\x07"
    flipped = "dog\u202egpj.exe"
    folder = image_folder(tmp_path / "names", [evil, flipped])
    code, out, _ = run(capsys, "info", folder)
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "cat\\x1b]0;pwned\\x07" in out and "dog\\u202egpj.exe" in out
    code, out, _ = run(capsys, "info", folder, "--json")
    assert json.loads(out)["classes"] == [evil, flipped]  # JSON keeps them, escaped by JSON itself
    model = tmp_path / "m.npz"
    assert main(["train", str(folder), "--features", "hue", "--epochs", "1", "--val", "0", "--out", str(model)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "predict", model, folder / evil / "0.png")
    assert code == 0 and "\x1b" not in out and "cat\\x1b]0;pwned\\x07" in out


def test_non_utf8_folder_names_on_a_strict_utf8_stdout(tmp_path, run_cli):
    root = tmp_path / "latin1"
    for name in (b"caf\xe9", b"the"):
        folder = os.path.join(os.fsencode(root), name)
        os.makedirs(folder)
        for i in range(2):
            Image.fromarray(np.full((8, 8, 3), i * 50, np.uint8)).save(os.path.join(folder, b"%d.png" % i))
    (root / "the" / "bad.png").write_bytes(b"x")
    result = run_cli("info", root, env={"PYTHONIOENCODING": "utf-8:strict", "LINVIZ_CACHE_DIR": str(tmp_path / "c")})
    assert result.returncode == 0, result.stderr
    assert "caf\\xe9" in result.stdout and "Traceback" not in result.stderr


def test_predict_never_prints_nan_and_no_warning_leaks(tmp_path, model_file, run_cli):
    """The most extreme model a file may hold (the smallest feature scales, the largest
    weights) still gives finite values: the bounds are chosen so that every score is finite."""
    from linviz.limits import FEATURE_SCALE_RANGE, MAX_MODEL_WEIGHT

    model = load_model(model_file)
    model.pipeline.scale_ = np.full_like(model.pipeline.scale_, FEATURE_SCALE_RANGE[0])
    W = np.where(np.arange(model.W.size).reshape(model.W.shape) % 2, MAX_MODEL_WEIGHT, -MAX_MODEL_WEIGHT)
    absurd = save_model(tmp_path / "absurd.npz", W=W, class_names=model.class_names, pipeline=model.pipeline,
                        loss="softmax")
    exif = Image.Exif()
    exif[0x010E] = "x" * 200
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(buffer, "JPEG", exif=exif.tobytes()[:-150])
    (tmp_path / "bad-exif.jpg").write_bytes(buffer.getvalue())  # Pillow warns about the EXIF
    result = run_cli("predict", absurd, tmp_path / "bad-exif.jpg", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert all(isinstance(c["probability"], float) for c in document[0]["classes"])
    result = run_cli("predict", absurd, tmp_path / "bad-exif.jpg")
    assert result.returncode == 0 and not re.search(r"\bnan\b", result.stdout, re.IGNORECASE), result.stdout


@pytest.mark.parametrize("change, words", [
    ({"hyperparameters": {"reg": None}}, ["hyper-parameter 'reg'", "must be a number from 0 to 1,000,000"]),
    ({"hyperparameters": {"reg_type": "l7"}}, ["hyper-parameter 'reg_type'", "l2, l1, elastic"]),
    ({"W": 3e38}, ["the weights must lie within", "1e+30"]),
])
def test_a_hostile_model_file_is_one_line_for_every_command(tmp_path, model_file, capsys, change, words):
    """One loader, one validation, one message: predict and landscape (and the window, through
    the same load_model) refuse the same file the same way."""
    import zipfile

    with np.load(model_file, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    if "W" in change:
        arrays["W"] = np.full_like(arrays["W"], change["W"])
    else:
        meta = json.loads(str(arrays["metadata"]))
        meta["hyperparameters"].update(change["hyperparameters"])
        arrays["metadata"] = np.array(json.dumps(meta))
    hostile = tmp_path / "hostile.npz"
    with open(hostile, "wb") as f:
        np.savez(f, **arrays)
    assert zipfile.is_zipfile(hostile)
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    lines = []
    for argv in (["predict", hostile, image], ["landscape", "demo", "--model-file", hostile, "--steps", "3"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", (argv, out)
        line = one_error_line(err)
        assert all(word in line for word in words), line
        lines.append(line)
    assert lines[0] == lines[1]


# --------------------------------------------------------------------------- special files, end to end


def test_info_on_a_folder_with_a_fifo_does_not_hang(tmp_path, run_cli):
    folder = image_folder(tmp_path / "pics", ["a", "b"])
    os.mkfifo(folder / "a" / "pipe.jpg")
    result = run_cli("info", folder, env={"LINVIZ_CACHE_DIR": str(tmp_path / "c")}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "pipe.jpg: not a regular file but a named pipe (FIFO)" in result.stdout


@pytest.mark.parametrize("what", ["dataset", "model"])
def test_a_fifo_as_the_dataset_or_the_model_exits_2(tmp_path, model_file, run_cli, what):
    fifo = tmp_path / ("data.tar" if what == "dataset" else "model.npz")
    os.mkfifo(fifo)
    argv = (["train", fifo, "--out", tmp_path / "m.npz"] if what == "dataset"
            else ["predict", fifo, tmp_path / "x.png"])
    result = run_cli(*argv, timeout=60)
    assert result.returncode == 2
    assert one_error_line(result.stderr).endswith((
        f"{fifo}: not a regular file but a named pipe (FIFO); give a dataset folder or archive",
        f"{fifo}: not a regular file but a named pipe (FIFO)"))


def test_predict_refuses_dev_zero_and_links_to_it_without_reading(tmp_path, model_file, run_cli):
    link = tmp_path / "photo.jpg"
    link.symlink_to("/dev/zero")
    result = run_cli("predict", model_file, "/dev/zero", link, memory_gb=3, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert one_error_line(result.stderr) == ("error: predict: none of the 2 images could be read: "
                                             "/dev/zero: not a regular file but a character device; "
                                             f"{link}: not a regular file but a character device")


def test_predict_names_the_first_unreadable_files_in_its_one_line(tmp_path, model_file, run_cli):
    files = [tmp_path / f"{k}.png" for k in range(5)]
    for path in files:
        path.write_bytes(b"not a picture")
    result = run_cli("predict", model_file, *files, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    line = one_error_line(result.stderr)
    assert line.startswith("error: predict: none of the 5 images could be read: ") and line.endswith("; and 2 more")
    assert all(str(path) in line for path in files[:3]) and str(files[3]) not in line, line


# --------------------------------------------------------------------------- arguments checked when given


@pytest.mark.parametrize("argv, words", [
    (["knn", "demo", "--seed", "-1"], ["--seed", "expected a whole number from 0"]),
    (["landscape", "demo", "--range", "5e-324"], ["--range", "expected a number from 1e-06 to 1,000,000"]),
    (["landscape", "demo", "--steps", "100000"], ["--steps", "2 to 1,001"]),
    (["tune", "demo", "--lr", "1e-3", "--reg", "1e-3", "--workers", "0"], ["--workers", "from 1 to 1,000,000"]),
    (["predict", "m.npz", "x.png", "--top", "0"], ["--top", "from 1 to 10,000"]),
    (["info", "demo", "--image-size", "100000"], ["--image-size", "from 4 to 512"]),
    # an option that would change nothing is refused, not ignored
    (["train", "demo", "--out", "m.npz", "--lr", "0"], ["train: --lr: expected a number > 0 and <= 1,000,000, got 0"]),
    (["train", "demo", "--out", "m.npz", "--lr", "-1"], ["train: --lr: expected a number > 0 and <= 1,000,000"]),
    (["train", "demo", "--out", "m.npz", "--optimizer", "random_search", "--lr", "0.1"],
     ["train: --lr does not apply to --optimizer random_search", "--search-step, --search-sample, --batch"]),
    (["train", "demo", "--out", "m.npz", "--optimizer", "gd", "--batch", "50"],
     ["train: --batch does not apply to --optimizer gd"]),
    (["train", "demo", "--out", "m.npz", "--search-step", "0.1"],
     ["train: --search-step does not apply to --optimizer sgd"]),
    (["train", "demo", "--out", "m.npz", "--optimizer", "adam", "--momentum", "0.5"],
     ["--momentum does not apply to --optimizer adam"]),
])
def test_bad_values_are_refused_before_loading(capsys, no_loading, argv, words):
    code, _, err = run(capsys, *argv)
    line = one_error_line(err)
    assert code == 2 and all(word in line for word in words), line


def test_tune_never_starts_more_threads_than_cores(capsys):
    from linviz.limits import cpu_count

    code, out, err = run(capsys, "tune", "demo", "--features", "hue", "--lr", "1e-3:1e-1:3", "--reg", "1e-4:1e-2:3",
                         "--epochs", "1", "--image-size", "8", "--workers", "2500", "--json")
    assert code == 0, err
    assert json.loads(out)["workers"] == min(cpu_count(), 9)


def test_a_search_with_thousands_of_workers_runs_on_the_cores():
    import threading

    from linviz.explore.tuning import SearchPlan, run_search
    from linviz.limits import cpu_count
    from linviz.training import TrainingConfig

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    y = np.arange(40) % 2
    alive = []

    def on_start(index):
        alive.append(sum(t.name.startswith("linviz-search-") for t in threading.enumerate()))

    plan = SearchPlan([1e-3, 1e-2, 1e-1, 1.0], [0.0, 1e-3, 1e-2])
    results = run_search(X, y, X, y, TrainingConfig(epochs=1, batch_size=10), plan, n_classes=2, workers=2500,
                         on_start=on_start)
    assert len(results) == 12 and max(alive) <= cpu_count() - 1  # counted before the new one starts


def test_a_model_path_with_escape_sequences_is_printed_escaped(tmp_path, capsys):
    folder = tmp_path / "evil\x1b]0;owned\x07"
    folder.mkdir()
    model = folder / "m.npz"
    assert main(["train", "demo", "--features", "hue", "--epochs", "1", "--image-size", "8", "--out", str(model)]) == 0
    code, out, err = run(capsys, "landscape", "demo", "--model-file", model, "--steps", "3")
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "evil\\x1b]0;owned\\x07" in out


def test_weights_too_large_to_compute_with_in_float32(tmp_path, model_file, capsys):
    """The most extreme model a file may hold: predict computes in float64 (finite values),
    the landscape (float32 kernels) says why it cannot, in one line."""
    from linviz.limits import FEATURE_SCALE_RANGE, MAX_MODEL_WEIGHT

    model = load_model(model_file)
    model.pipeline.scale_ = np.full_like(model.pipeline.scale_, FEATURE_SCALE_RANGE[0])
    signs = np.where(np.arange(model.W.size).reshape(model.W.shape) % 3, 1.0, -1.0)
    big = save_model(tmp_path / "big.npz", W=signs * MAX_MODEL_WEIGHT, class_names=model.class_names,
                     pipeline=model.pipeline, loss="softmax")
    image = tmp_path / "x.png"
    Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(image)
    code, out, err = run(capsys, "predict", big, image)
    assert code == 0 and not re.search(r"\bnan\b", out, re.IGNORECASE), out
    code, out, err = run(capsys, "landscape", "demo", "--model-file", big, "--steps", "3")
    last = err.replace("\r", "\n").strip().splitlines()[-1]  # after the progress bars
    assert code == 2 and last.startswith("error: landscape: the weights in ") and "not finite" in last, err
