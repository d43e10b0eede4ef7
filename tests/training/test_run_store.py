"""Run records and the run store: a round trip, pruning, a corrupt store set aside with a
message, hostile records refused."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from linviz.features import FeaturePipeline
from linviz.training import TrainingConfig, train
from linviz.training.loop import run_to_end
from linviz.training.records import (RecordError, RunRecord, curves_from_json, curves_to_json, curves_of,
                                     dataset_summary, make_record, new_run_id, records_csv, records_json)
from linviz.training.run_store import RunStore

CLASSES = ["disk", "cross", "square"]


class _Data:
    class_names = CLASSES
    source = "demo"
    key = "abc123"


@pytest.fixture(scope="module")
def finished_run():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(90, 32, 32, 3), dtype=np.uint8)
    y = np.arange(90) % 3
    images[y == 1, 8:24, 8:24] = 255
    pipeline = FeaturePipeline("hog+hue")
    X = pipeline.fit_transform(images)
    config = TrainingConfig(loss="softmax", learning_rate=0.05, batch_size=10, epochs=3, reg=1e-3, seed=2)
    final = run_to_end(train(X[:60], y[:60], X[60:], y[60:], config, n_classes=3))
    return final, config, pipeline


def _record(finished_run, **kw):
    final, config, _ = finished_run
    dataset = dataset_summary(_Data, n_train=60, n_val=30, n_test=0, split={"val_size": 30, "per_class": 0, "seed": 0})
    return make_record(final, config, features="hog+hue", dataset=dataset, train_accuracy=0.9, **kw)


def _add(store, finished_run, **kw):
    final, _, pipeline = finished_run
    record = _record(finished_run, **kw)
    return record, store.add(record, W=final.best_W, class_names=CLASSES, pipeline=pipeline)


def test_a_run_record_round_trips_through_the_store(tmp_path, finished_run):
    store = RunStore(tmp_path / "runs")
    record, messages = _add(store, finished_run, name="first")
    assert messages == []
    contents = store.load()
    assert contents.messages == [] and len(contents.records) == 1
    back = contents.records[0]
    assert back.to_json() == record.to_json() and back.curves is None
    assert back.config == finished_run[1]
    back = store.load_curves(back)
    np.testing.assert_allclose(back.curves.losses, record.curves.losses, rtol=1e-6)
    np.testing.assert_allclose(back.curves.per_snapshot, record.curves.per_snapshot, rtol=1e-6)
    np.testing.assert_allclose(back.curves.val_accuracies, finished_run[0].val_accuracies, rtol=1e-5)
    assert len(back.curves.losses) == finished_run[0].iteration == 18
    model = store.load_model(back.id)
    np.testing.assert_array_equal(model.W, finished_run[0].best_W)
    assert model.pipeline is not None and str(model.pipeline.spec) == str(finished_run[2].spec)
    assert model.hyperparameters["learning_rate"] == 0.05


def test_rename_delete_and_keep_the_newest(tmp_path, finished_run):
    store = RunStore(tmp_path / "runs", keep=3)
    ids = []
    for k in range(5):
        record, messages = _add(store, finished_run, run_id=f"2025010{k + 1}-120000-000000{k}")
        ids.append(record.id)
    assert messages == ["The run history keeps the newest 3 runs: deleted 1 older run"]
    loaded = store.load().records
    assert [r.id for r in loaded] == ids[::-1][:3]  # newest first
    renamed = store.rename(loaded[0], "  lr 0.05  ")
    assert renamed.name == "lr 0.05" and store.load().records[0].name == "lr 0.05"
    store.delete(loaded[1].id)
    assert [r.id for r in store.load().records] == [ids[4], ids[2]]
    with pytest.raises(RecordError):
        store.delete("../../etc")


def test_the_store_lives_in_the_data_folder(monkeypatch, tmp_path, finished_run):
    monkeypatch.setenv("LINVIZ_DATA_DIR", str(tmp_path / "data"))
    store = RunStore()
    assert store.root == tmp_path / "data" / "runs"
    _add(store, finished_run)
    assert len(os.listdir(tmp_path / "data" / "runs")) == 1


def test_a_corrupt_store_is_set_aside_with_a_message(tmp_path, finished_run):
    root = tmp_path / "runs"
    root.write_text("not a folder")
    store = RunStore(root)
    contents = store.load()
    assert contents.records == [] and len(contents.messages) == 1
    assert "was a regular file, not a folder; set aside" in contents.messages[0]
    assert root.is_dir() and any(p.name.startswith("runs.set-aside-") for p in tmp_path.iterdir())
    good, _ = _add(store, finished_run)
    bad, _ = _add(store, finished_run)
    (root / bad.id / "record.json").write_bytes(b'{"format": "linviz-run", "version": 1, ')
    contents = store.load()
    assert [r.id for r in contents.records] == [good.id]
    assert len(contents.messages) == 1 and bad.id in contents.messages[0] and "not valid JSON" in contents.messages[0]
    assert "set aside in" in contents.messages[0]
    assert not (root / bad.id).exists() and (tmp_path / "runs-set-aside").is_dir()
    assert store.load().messages == []  # set aside once, quiet afterwards


def test_links_fifos_and_foreign_files_in_the_store_are_never_followed(tmp_path, finished_run, call_near_fifo):
    store = RunStore(tmp_path / "runs")
    linked, _ = _add(store, finished_run)
    fifo_run, _ = _add(store, finished_run)
    no_model, _ = _add(store, finished_run)
    elsewhere = tmp_path / "elsewhere"
    os.rename(store.root / linked.id, elsewhere)
    os.symlink(elsewhere, store.root / linked.id)  # a run folder that is a link
    fifo = store.root / fifo_run.id / "record.json"
    fifo.unlink()
    os.mkfifo(fifo)  # would block an open() forever
    os.unlink(store.root / no_model.id / "model.npz")
    contents = call_near_fifo(fifo, store.load)
    assert contents.records == []
    text = "\n".join(contents.messages)
    assert "is a link, not a run folder" in text and "named pipe" in text and "model.npz: missing" in text
    assert elsewhere.is_dir()  # the link's target is left alone


@pytest.mark.parametrize("kind", ["link", "file"])
def test_a_set_aside_folder_that_is_not_a_folder_is_never_followed(tmp_path, finished_run, kind):
    store = RunStore(tmp_path / "runs")
    bad, _ = _add(store, finished_run)
    (store.root / bad.id / "record.json").write_bytes(b"{")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    aside = tmp_path / "runs-set-aside"
    if kind == "link":
        aside.symlink_to(elsewhere)
    else:
        aside.write_text("not a folder")
    contents = store.load()
    text = "\n".join(contents.messages)
    what = "a link" if kind == "link" else "a regular file"
    assert f"runs-set-aside was {what}, not a folder; set aside as runs-set-aside.set-aside-" in text, text
    assert f"Run {bad.id}: " in text and "set aside in" in text
    assert list(elsewhere.iterdir()) == []  # nothing moved through the link
    assert aside.is_dir() and not aside.is_symlink() and [p.name for p in aside.iterdir()][0].startswith(bad.id)
    assert not (store.root / bad.id).exists()


def test_run_ids_are_matched_in_full(tmp_path, finished_run):
    import shutil

    store = RunStore(tmp_path / "runs")
    good, _ = _add(store, finished_run)
    shutil.copytree(store.root / good.id, store.root / f"{good.id}\n")  # "$" matches before a final newline
    contents = store.load()
    assert [r.id for r in contents.records] == [good.id] and contents.messages == []
    assert (store.root / f"{good.id}\n").is_dir()  # not a run of the store: left alone
    with pytest.raises(RecordError, match="not a run id"):
        store.load_model(f"{good.id}\n")
    data = good.to_json()
    data["id"] = f"{good.id}\n"
    with pytest.raises(RecordError, match="not a run id"):
        RunRecord.from_json(data, "record.json")


def _record_json(finished_run) -> dict:
    return _record(finished_run).to_json()


@pytest.mark.parametrize("field, value, reason", [
    ("format", "something-else", "not a linviz run record"),
    ("version", 99, "newer linviz"),
    ("id", "../../x", "not a run id"),
    ("origin", "mars", "expected one of"),
    ("name", "x" * 5000, "longer than"),
    ("iterations", -1, "outside"),
    ("iterations", 10**400, "outside"),
    ("seconds", float("inf"), "outside"),
    ("val_accuracy", 1.5, "outside"),
    ("settings", {"loss": "hinge"}, "unknown loss"),
    ("settings", {"epochs": 10**12}, "epochs must be a whole number from 1 to 1,000,000"),
    ("settings", {"evil": 1}, "unknown field"),
    ("settings", {"learning_rate": [1, 2]}, "expected a number"),
    ("dataset", {"classes": ["a"]}, "class names"),
    ("dataset", "demo", "expected an object"),
    ("search", {"mode": "grid", "id": "s", "index": -3}, "outside"),
])
def test_hostile_records_are_refused_naming_the_field(finished_run, field, value, reason):
    data = _record_json(finished_run)
    if isinstance(value, dict) and isinstance(data.get(field), dict) and field != "search":
        data[field] = {**data[field], **value}
    else:
        data[field] = value
    with pytest.raises(RecordError, match=reason) as info:
        RunRecord.from_json(json.loads(json.dumps(data)), "record.json")
    assert "record.json" in str(info.value)


def test_hostile_curves_are_refused(finished_run):
    good = curves_to_json(curves_of(finished_run[0]))
    assert len(curves_from_json(good, "c").losses) == 18
    for change in ({"losses": list(range(30_000))}, {"losses": ["a"]}, {"losses": [1e300 * 10]},
                   {"per_snapshot": [[1, 2, 3]]}, {"val_accuracies": [2.0]}, {"loss_stride": 0},
                   {"losses": {"a": 1}}):
        with pytest.raises(RecordError):
            curves_from_json({**good, **change}, "curves.json")
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecordError):
        from linviz.training.run_store import _read_json  # noqa: PLC0415

        path = os.path.join(os.environ["LINVIZ_DATA_DIR"], "deep.json")
        with open(path, "w") as f:
            f.write(deep)
        _read_json(path, 10**6)


def test_long_runs_are_stored_as_block_means(finished_run):
    final = finished_run[0]
    from dataclasses import replace

    long = replace(final, losses=np.linspace(3, 1, 50_001, dtype=np.float32))
    curves = curves_of(long)
    assert curves.loss_stride == 3 and len(curves.losses) == 16_667
    assert curves.losses[0] == pytest.approx(np.mean(long.losses[:3]))
    assert curves.loss_iterations()[0] == 2.0


def test_curves_are_written_as_short_decimals_with_null_for_what_is_not_finite(finished_run):
    """Each number as the double nearest its significant-digit decimal (the shortest text that
    reads back as it), as the string round trip gives it: at every magnitude, at decimal ties
    and beside them (where the vectorized rounding could tip the wrong way), for accuracies
    k / n, with the sign of -0; NaN, infinities and values past the bound as null."""
    from dataclasses import replace

    from linviz.training.records import MAX_CURVE_VALUE, _floats

    rng = np.random.default_rng(3)
    ties = np.array([float(f"{m}5e{e}") for m, e in zip(rng.integers(10**5, 10**6, 500).tolist(),
                                                         rng.integers(-20, 20, 500).tolist())])
    powers = 10.0 ** np.arange(-30, 29)
    values = np.concatenate([
        rng.standard_normal(2_000) * 10.0 ** rng.integers(-40, 29, 2_000),
        ties, np.nextafter(ties, 0), np.nextafter(ties, np.inf),
        np.concatenate([np.arange(n + 1) / n for n in (7, 128, 1280, 1999)]),  # accuracies
        powers, np.nextafter(powers, 0), [9.9999995e-7, 9.9999999, 999.99995, -0.0, 0.0, 5e-324]])
    for digits in (6, 7):
        written = _floats(values, digits)
        assert written == [float(f"{v:.{digits}g}") for v in values.tolist()], digits
        assert all(type(v) is float for v in written)
        assert np.signbit(written[-3]) and not np.signbit(written[-2])  # -0.0 stays -0.0
    assert _floats([np.nan, np.inf, -np.inf, 2 * MAX_CURVE_VALUE, 1.5], 7) == [None, None, None, None, 1.5]
    curves = replace(curves_of(finished_run[0]), losses=values[:100])
    assert curves_to_json(curves)["losses"] == _floats(curves.losses, 7)  # the float32 losses, 7 digits
    table = curves_to_json(curves)["per_snapshot"]
    assert table == [[float(f"{v:.7g}") for v in row] for row in curves.per_snapshot.tolist()]


def test_exports(finished_run, tmp_path):
    records = [_record(finished_run, name="=HYPERLINK(\"x\")"), _record(finished_run, name="plain")]
    text = records_csv(records)
    lines = text.splitlines()
    assert lines[0].startswith("id,name,created,origin,features,loss,optimizer,learning_rate,reg")
    assert "'=HYPERLINK" in lines[1] and len(lines) == 3
    data = json.loads(records_json(records))
    assert len(data["runs"]) == 2 and len(data["runs"][0]["curves"]["losses"]) == 18
    back = RunRecord.from_json({k: v for k, v in data["runs"][1].items() if k != "curves"}, "export")
    assert back.name == "plain"


def test_run_ids_sort_by_time():
    assert new_run_id(1_700_000_000) < new_run_id(1_700_000_000.002) < new_run_id(1_700_000_001)
