"""``train --record``: the run lands in the run history with its settings, curves and model."""

import contextlib
import io
import json

import numpy as np

from linviz.cli import main
from linviz.models import load_model
from linviz.training.run_store import RunStore


def run(capsys, *argv):
    """main() with its own stdout and stderr for the call (see tests/cli/test_hostile.py)."""
    capsys.readouterr()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def test_train_record_adds_the_run_to_the_history(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))
    out_file = tmp_path / "model.npz"
    code, out, err = run(capsys, "train", "demo", "--features", "hog+hue", "--epochs", "2", "--val", "300", "--seed",
                         "3", "--out", out_file, "--record", "--name", "demo run", "--json")
    assert code == 0, err
    report = json.loads(out)
    records = RunStore().load().records
    assert len(records) == 1 and records[0].id == report["run_id"]
    record = RunStore().load_curves(records[0])
    assert record.name == "demo run" and record.origin == "cli"
    assert record.settings["seed"] == 3 and record.settings["epochs"] == 2 and record.features.startswith("hog:")
    assert record.dataset["source"] == "demo" and record.dataset["n_val"] == 300 and len(record.dataset["classes"]) == 6
    assert record.val_accuracy == report["val_accuracy"] and record.train_accuracy == report["train_accuracy"]
    assert record.stop_reason == report["stop_reason"] and record.iterations == report["iterations"]
    assert len(record.curves.losses) == report["iterations"] and len(record.curves.val_accuracies) == 2
    np.testing.assert_array_equal(RunStore().load_model(record.id).W, load_model(out_file).W)

    code, out, _ = run(capsys, "train", "demo", "--epochs", "1", "--out", out_file)
    assert code == 0 and "recorded" not in out and len(RunStore().load().records) == 1  # only with --record


def test_an_unusable_history_is_a_warning_not_a_failure(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(blocker / "data"))  # below a file: cannot be created
    code, out, err = run(capsys, "train", "demo", "--epochs", "1", "--out", tmp_path / "m.npz", "--record")
    assert code == 0 and (tmp_path / "m.npz").is_file()
    assert "warning: the run was not recorded" in err and "recorded:" not in out


import pytest  # noqa: E402


@pytest.mark.parametrize("argv, words", [
    (["--lr", "2e6"], ["--lr", "1,000,000"]),
    (["--batch", "20000000"], ["--batch", "10,000,000"]),
    (["--delta", "2e6"], ["--delta", "1,000,000"]),
    (["--elastic-beta", "1e7"], ["--elastic-beta", "1,000,000"]),
    (["--epochs", "2000000"], ["--epochs", "1,000,000"]),
])
def test_what_the_store_refuses_is_refused_when_given(tmp_path, capsys, monkeypatch, argv, words):
    import linviz.data

    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(linviz.data, "load_dataset", lambda *a, **k: pytest.fail("loaded before the check"))
    code, out, err = run(capsys, "train", "demo", *argv, "--out", tmp_path / "m.npz", "--record")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and all(word in lines[0] for word in words), err
    assert not (tmp_path / "data").exists() and not (tmp_path / "m.npz").exists()


def test_tune_refuses_what_the_store_refuses(capsys):
    code, _, err = run(capsys, "tune", "demo", "--lr", "1e-3,2e6", "--reg", "1e-3", "--record")
    assert code == 2 and "--lr" in err and "1,000,000" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "tune", "demo", "--lr", "1e-3", "--reg", "1:2e6:3", "--record")
    assert code == 2 and "--reg" in err and "1,000,000" in err


def test_a_run_at_the_bounds_is_recorded_and_reads_back(tmp_path, capsys, monkeypatch):
    """Everything at the largest accepted values: the run diverges at once; what is recorded
    (its curves full of huge numbers included) must read back."""
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run(capsys, "train", "demo", "--features", "hue", "--reg-type", "elastic", "--elastic-beta", "1e6",
                         "--lr", "1e6", "--reg", "1e6", "--epochs", "2", "--val", "100", "--out", tmp_path / "m.npz",
                         "--record", "--json")
    assert code in (0, 3), err
    assert "not recorded" not in err
    contents = RunStore().load()
    assert contents.messages == [] and len(contents.records) == 1
    record = RunStore().load_curves(contents.records[0])
    assert record.id == json.loads(out)["run_id"] and len(record.curves.losses) == record.iterations
