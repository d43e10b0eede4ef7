"""``train --record``: the run lands in the run history with its settings, curves and model."""

import contextlib
import io
import json

import numpy as np

from linviz.cli import main


def run(capsys, *argv):
    """main() with its own stdout and stderr for the call (see tests/cli/test_hostile.py)."""
    capsys.readouterr()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()
from linviz.models import load_model
from linviz.training.run_store import RunStore


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
