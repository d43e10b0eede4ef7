"""``python main.py tune``: one line per run and the best; --json; bad ranges exit 2 with one line."""

import contextlib
import io
import json

import pytest

from linviz.cli import main


def run(capsys, *argv):
    """main() with its own stdout and stderr for the call (not pytest's capture objects, which
    under load were seen closed or global at print time)."""
    capsys.readouterr()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def test_tune_json_on_the_demo_set(capsys):
    code, out, err = run(capsys, "tune", "demo", "--features", "hog+hue", "--model", "softmax",
                         "--lr", "1e-3,1e-1,30", "--reg", "1e-4,1e-1", "--epochs", "2", "--val", "300", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["runs"]) == 6
    for run_ in data["runs"]:
        assert set(run_) == {"learning_rate", "reg", "train_accuracy", "val_accuracy", "seconds", "stop_reason"}
    assert [(r["learning_rate"], r["reg"]) for r in data["runs"]] == [
        (1e-3, 1e-4), (1e-3, 1e-1), (1e-1, 1e-4), (1e-1, 1e-1), (30.0, 1e-4), (30.0, 1e-1)]
    vals = [r["val_accuracy"] for r in data["runs"]]
    assert data["best"]["val_accuracy"] == max(vals)
    assert data["best"] == data["runs"][vals.index(max(vals))]
    diverged = [r for r in data["runs"] if r["stop_reason"].startswith("diverged")]
    assert diverged and all(r["learning_rate"] == 30.0 for r in diverged)  # a result, not an error
    assert data["n_val"] == 300


def test_tune_text_lines_and_random_search(capsys):
    code, out, err = run(capsys, "tune", "demo", "--lr", "1e-2:1e-1:2", "--reg", "1e-3", "--epochs", "1",
                         "--search", "random", "--trials", "3", "--workers", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("lr ") for line in lines) == 3
    assert lines[-2].startswith("best: lr ") and "3 of 3 runs" in lines[-1] and "1 worker;" in lines[-1]


@pytest.mark.parametrize("flags, reason", [
    (["--lr", "1e-3,abc", "--reg", "1e-3"], "--lr: 'abc' is not a number"),
    (["--lr", "", "--reg", "1e-3"], "--lr: no values given"),
    (["--lr", "1e-3", "--reg", "-1"], "--reg: -1 is not >= 0"),
    (["--lr", "1:1e-2:3", "--reg", "1e-3"], "0 < LOW < HIGH"),
    (["--lr", "1e-3,inf", "--reg", "1e-3"], "not a finite number"),
    (["--lr", "1e-3", "--reg", "0,1e-2", "--search", "random"], "must be > 0"),
    (["--lr", "1e-3", "--reg", "1e-3", "--trials", "4"], "--trials is for --search random"),
    (["--lr", "1e-3", "--reg", "1e-3", "--epochs", "0"], "--epochs: expected a whole number from 1 to 1,000,000"),
    (["--lr", "1e-3", "--reg", "1e-3", "--features", "hog:cell=banana"], "cell"),
])
def test_bad_ranges_exit_2_with_one_line(capsys, flags, reason):
    code, out, err = run(capsys, "tune", "demo", *flags)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and reason in err, err
