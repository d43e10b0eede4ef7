"""The 2-D playground's arithmetic: the four losses against finite differences and hand
computations, the multiclass SVM and softmax ARE the image losses, a step lowers the loss,
the defaults reach 100% on separable presets, the pacer counts steps on a fake clock, and the
JSON file round-trips while hostile ones are refused with a message."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.explore import playground as pgd
from linviz.models import softmax_loss, svm_loss

LOSSES = list(pgd.PLAYGROUND_LOSSES)


def random_problem(seed=0, n=20, C=4):
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1.5, 1.5, size=(n, 2))
    labels = rng.integers(0, C, size=n)
    W = rng.normal(size=(C, 2))
    b = rng.normal(scale=0.5, size=C)
    return points, labels, W, b


def hand_losses(scores, y, delta):
    """Each loss of one point, straight from its definition (independent of the module)."""
    C = len(scores)
    rivals = [j for j in range(C) if j != y]
    ww = sum(max(0.0, scores[j] - scores[y] + delta) for j in rivals)
    ova = sum(max(0.0, delta - (1.0 if j == y else -1.0) * scores[j]) for j in range(C))
    cs = max(0.0, max(scores[j] for j in rivals) - scores[y] + delta)
    softmax = -np.log(np.exp(scores[y]) / np.sum(np.exp(scores)))
    return {"svm": ww, "ova": ova, "structured": cs, "softmax": softmax}


# ---------------------------------------------------------------------------- losses
def test_the_four_losses_match_their_definitions_on_a_hand_example():
    # W = 0: the scores are the biases, [1, 1.5, 0.8] for a point of class 0
    W, b = np.zeros((3, 2)), np.array([1.0, 1.5, 0.8])
    expected = {"svm": 1.5 + 0.8, "ova": 0.0 + 2.5 + 1.8, "structured": 1.5,
                "softmax": -np.log(np.e / (np.e + np.exp(1.5) + np.exp(0.8)))}
    for loss, value in expected.items():
        total, _, _ = pgd.playground_loss([[0.3, -0.2]], [0], W, b, loss=loss, delta=1.0, reg=0.7)
        assert total == pytest.approx(value, abs=1e-12), loss  # W = 0: no penalty, b is free


@pytest.mark.parametrize("loss", LOSSES)
def test_per_point_losses_follow_the_definition_and_average_to_the_data_loss(loss):
    points, labels, W, b = random_problem(1)
    ev = pgd.evaluate(points, labels, W, b, loss=loss, delta=0.7, reg=0.3)
    scores = points @ W.T + b
    np.testing.assert_allclose(ev.scores, scores, atol=1e-12)
    by_hand = [hand_losses(scores[i], labels[i], 0.7)[loss] for i in range(len(labels))]
    np.testing.assert_allclose(ev.losses, by_hand, atol=1e-10)
    assert ev.data_loss == pytest.approx(np.mean(by_hand), abs=1e-10)
    assert ev.reg_loss == pytest.approx(0.3 * np.sum(W ** 2), abs=1e-12)
    assert ev.total == pytest.approx(ev.data_loss + ev.reg_loss, abs=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reg_type", ["l2", "l1", "elastic"])
def test_gradients_agree_with_finite_differences(loss, reg_type):
    points, labels, W, b = random_problem(2)
    options = dict(loss=loss, delta=1.0, reg=0.2, reg_type=reg_type)
    _, dW, db = pgd.playground_loss(points, labels, W, b, **options)
    h = 1e-6
    for j in range(W.shape[0]):
        for k in range(3):
            plus_W, plus_b, minus_W, minus_b = W.copy(), b.copy(), W.copy(), b.copy()
            if k < 2:
                plus_W[j, k] += h
                minus_W[j, k] -= h
                analytic = dW[j, k]
            else:
                plus_b[j] += h
                minus_b[j] -= h
                analytic = db[j]
            numeric = (pgd.playground_loss(points, labels, plus_W, plus_b, **options)[0]
                       - pgd.playground_loss(points, labels, minus_W, minus_b, **options)[0]) / (2 * h)
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), (loss, reg_type, j, k)


@pytest.mark.parametrize("loss, image_loss", [("svm", svm_loss), ("softmax", softmax_loss)])
def test_multiclass_svm_and_softmax_agree_with_the_image_losses(loss, image_loss):
    points, labels, W, b = random_problem(3)
    X = np.column_stack([points, np.ones(len(points))])
    Wm = np.vstack([W.T, b])
    args = (Wm, X, labels, 0.4) + ((1.5,) if loss == "svm" else ())
    expected, dWm = image_loss(*args, reg_type="elastic", n_reg_rows=2)
    total, dW, db = pgd.playground_loss(points, labels, W, b, loss=loss, delta=1.5, reg=0.4, reg_type="elastic")
    assert total == expected
    np.testing.assert_array_equal(dW, dWm[:2].T)
    np.testing.assert_array_equal(db, dWm[2])


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_multiclass_svm_and_softmax_are_the_image_loss_functions_called(monkeypatch, loss):
    calls = []
    original = getattr(pgd, f"{loss}_loss")

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(pgd, f"{loss}_loss", spy)
    points, labels, W, b = random_problem(4)
    pgd.playground_loss(points, labels, W, b, loss=loss, reg=0.1)
    assert len(calls) == 1 and calls[0]["n_reg_rows"] == 2  # [W^T; b]: the bias row is not regularized


@pytest.mark.parametrize("reg_type, penalty", [("l2", lambda W: np.sum(W ** 2)), ("l1", lambda W: np.sum(np.abs(W))),
                                               ("elastic", lambda W: np.sum(W ** 2 + np.abs(W)))])
def test_the_penalty_is_on_w_only(reg_type, penalty):
    points, labels, W, b = random_problem(5)
    one = pgd.evaluate(points, labels, W, b, loss="ova", reg=0.5, reg_type=reg_type)
    other = pgd.evaluate(points, labels, W, b + 3.0, loss="ova", reg=0.5, reg_type=reg_type)
    assert one.reg_loss == pytest.approx(0.5 * penalty(W), abs=1e-12) == other.reg_loss


def test_margin_violators_are_flagged_and_softmax_flags_mistakes():
    W, b = np.zeros((2, 2)), np.array([2.0, 0.0])  # class 0 wins everywhere by 2
    points, labels = [[0, 0], [1, 1]], [0, 1]
    svm = pgd.evaluate(points, labels, W, b, loss="svm", delta=1.0)
    assert svm.flagged.tolist() == [False, True]  # 0 - 2 + 1 < 0: no loss; 2 - 0 + 1 > 0
    wide = pgd.evaluate(points, labels, W, b, loss="svm", delta=3.0)
    assert wide.flagged.tolist() == [True, True]  # right, but inside the margin
    soft = pgd.evaluate(points, labels, W, b, loss="softmax")
    assert soft.flagged.tolist() == [False, True] and soft.correct == 1


# ---------------------------------------------------------------------------- steps
@pytest.mark.parametrize("loss", LOSSES)
def test_a_step_lowers_the_loss_on_a_separable_preset(loss):
    settings = pgd.PlaygroundSettings(preset="blobs", n_classes=4, loss=loss, step_size=0.05)
    state = pgd.new_state(settings)
    after, before = pgd.gradient_step(state)
    np.testing.assert_allclose(after.W, state.W - 0.05 * before.dW)
    np.testing.assert_allclose(after.b, state.b - 0.05 * before.db)
    assert after.iteration == 1
    assert pgd.evaluate_state(after).total < before.total


@pytest.mark.parametrize("preset, loss", [("demo", "svm"), ("demo", "softmax"), ("blobs", "svm"),
                                          ("blobs", "structured"), ("blobs", "softmax")])
def test_the_defaults_reach_full_training_accuracy_on_separable_presets(preset, loss):
    """Defaults: L2 with lambda = 0.1 on W (b free), step size 0.1, delta 1."""
    defaults = pgd.PlaygroundSettings()
    assert (defaults.reg_type, defaults.reg, defaults.step_size, defaults.delta) == ("l2", 0.1, 0.1, 1.0)
    state = pgd.new_state(pgd.PlaygroundSettings(preset=preset, loss=loss))
    assert pgd.evaluate_state(state).accuracy < 1.0
    for _ in range(300):
        state, _ = pgd.gradient_step(state)
    assert pgd.evaluate_state(state).accuracy == 1.0


def test_rings_stay_out_of_reach_and_the_app_says_why():
    state = pgd.new_state(pgd.PlaygroundSettings(preset="rings", n_classes=2, n_points=80, loss="softmax"))
    for _ in range(300):
        state, _ = pgd.gradient_step(state)
    assert pgd.evaluate_state(state).accuracy < 0.9
    for preset in pgd.NOT_SEPARABLE:
        assert "convex" in pgd.separability_note(preset)
    assert pgd.separability_note("blobs") is None and pgd.separability_note("demo") is None


# ---------------------------------------------------------------------------- presets
def test_the_demo_preset_is_the_demos_nine_points_and_parameters():
    state = pgd.new_state()
    assert state.points.shape == (9, 2) and state.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    np.testing.assert_array_equal(state.W, [[1, 2], [2, -4], [3, -1]])
    np.testing.assert_array_equal(state.b, [0, 0.5, -0.5])


@pytest.mark.parametrize("preset", ["blobs", "overlap", "rings", "xor"])
@pytest.mark.parametrize("C", [2, 5])
def test_presets_are_seeded_balanced_and_bounded(preset, C):
    points, labels = pgd.make_points(preset, n_classes=C, n_points=53, noise=0.5, seed=7)
    again, _ = pgd.make_points(preset, n_classes=C, n_points=53, noise=0.5, seed=7)
    other, _ = pgd.make_points(preset, n_classes=C, n_points=53, noise=0.5, seed=8)
    np.testing.assert_array_equal(points, again)
    assert not np.array_equal(points, other)
    assert points.shape == (53, 2) and np.all(np.abs(points) < 2.5)
    counts = np.bincount(labels, minlength=C)
    assert counts.max() - counts.min() <= 1


def test_rings_grow_outwards_by_class_and_noise_widens_blobs():
    points, labels = pgd.make_points("rings", n_classes=3, n_points=90, noise=0.0, seed=0)
    radius = np.hypot(points[:, 0], points[:, 1])
    means = [radius[labels == c].mean() for c in range(3)]
    assert means[0] < means[1] < means[2]
    spread = [np.std(pgd.make_points("blobs", n_classes=3, n_points=90, noise=n, seed=0)[0][:30], axis=0).sum()
              for n in (0.0, 1.0)]
    assert spread[0] < spread[1]


# ---------------------------------------------------------------------------- the plane
def test_the_decision_map_is_the_argmax_and_the_margin_bands_are_within_delta():
    W, b = np.array([[1.0, 2.0], [2.0, -4.0], [3.0, -1.0]]), np.array([0.0, 0.5, -0.5])
    dmap = pgd.decision_map(W, b, (-1, 1, -2, 2), (21, 41), loss="svm", delta=1.0)
    assert dmap.winner.shape == (41, 21)
    xs, ys = np.linspace(-1, 1, 21), np.linspace(-2, 2, 41)
    for r, c in [(0, 0), (10, 15), (40, 20), (25, 3)]:
        s = W @ np.array([xs[c], ys[r]]) + b
        top, second = np.sort(s)[-1], np.sort(s)[-2]
        assert dmap.winner[r, c] == np.argmax(s)
        assert dmap.in_margin[r, c] == (top - second < 1.0)
        assert dmap.top_probability[r, c] == pytest.approx(np.exp(top) / np.exp(s).sum())
    ova = pgd.decision_map(W, b, (-1, 1, -2, 2), 11, loss="ova", delta=0.5)
    s = W @ np.array([-1.0, -2.0]) + b
    assert ova.in_margin[0, 0] == bool(np.any(np.abs(s) < 0.5))
    assert not pgd.decision_map(W, b, loss="softmax").in_margin.any()


def test_the_landscape_is_the_total_loss_over_two_parameters():
    state = pgd.new_state(pgd.PlaygroundSettings(loss="structured", landscape=("w1y", "b2")))
    land = pgd.loss_landscape(state, size=5, span=1.0)
    assert land.params == ("w1y", "b2") and land.total.shape == (5, 5)
    assert land.xs[2] == state.W[1, 1] and land.ys[2] == state.b[2]
    assert land.total[2, 2] == pytest.approx(pgd.evaluate_state(state).total, abs=1e-12)
    W, b = pgd.with_param(state.W, state.b, "w1y", land.xs[4])
    W, b = pgd.with_param(W, b, "b2", land.ys[1])
    assert land.total[1, 4] == pytest.approx(pgd.evaluate(state.points, state.labels, W, b,
                                                          **state.settings.loss_options()).total, abs=1e-12)
    svm = state.replace(settings=pgd.PlaygroundSettings(loss="svm"))
    land = pgd.loss_landscape(svm, size=3)
    assert land.total[1, 1] == pytest.approx(pgd.evaluate_state(svm).total, abs=1e-12)
    assert pgd.loss_landscape(svm, size=3, cancelled=lambda: True) is None


# ---------------------------------------------------------------------------- play
class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_pacer_owes_pace_steps_per_second_on_a_fake_clock():
    clock = FakeClock()
    pacer = pgd.Pacer(5.0, clock=clock)
    assert pacer.due() == 0  # not started
    pacer.start()
    steps = 0
    for _ in range(30):  # 3 s in ticks of 0.1 s
        clock.now += 0.1
        steps += pacer.due()
    assert steps == 15
    pacer.set_pace(20.0)
    clock.now += 0.5
    assert pacer.due() == 5  # max_burst: a stall does not bring a flood of steps
    clock.now += 0.25
    assert pacer.due() == 5
    pacer.stop()
    clock.now += 10
    assert pacer.due() == 0


# ---------------------------------------------------------------------------- files
def some_state():
    settings = pgd.PlaygroundSettings(preset="xor", n_classes=4, n_points=40, noise=0.2, seed=3, loss="ova",
                                      delta=0.5, reg=0.01, reg_type="elastic", step_size=0.3, pace=4.0,
                                      shading="probability", landscape=("w3y", "b1"))
    state = pgd.new_state(settings)
    return state.replace(W=state.W * 1.5, b=state.b + 0.25, iteration=17)


def test_the_state_round_trips_through_json(tmp_path):
    state = some_state()
    path = pgd.save_state(state, tmp_path / "p.json")
    back = pgd.load_state(path)
    assert back.settings == state.settings and back.iteration == 17
    for name in ("points", "labels", "W", "b"):
        np.testing.assert_array_equal(getattr(back, name), getattr(state, name))
    assert os.listdir(tmp_path) == ["p.json"]  # no temporary file left behind
    assert json.loads(path.read_text())["format"] == "linviz-playground"


def good_dict():
    return pgd.state_to_dict(some_state())


def mutated(change):
    data = good_dict()
    change(data)
    return json.dumps(data)


HOSTILE = {
    "huge point count": (mutated(lambda d: d.update(points=[[0.0, 0.0, 0]] * 100_000)), "at most 300"),
    "NaN": (mutated(lambda d: d.update(W=[[1, 2]] * 4)).replace("[1, 2]", "[NaN, 2]", 1), "NaN"),
    "Infinity": (mutated(lambda d: None).replace('"delta": 0.5', '"delta": Infinity'), "Infinity"),
    "overflowing number": (mutated(lambda d: None).replace('"delta": 0.5', '"delta": 1e999'), "delta"),
    "wrong type": (mutated(lambda d: d.update(W="four by two")), "\"W\" must be"),
    "bool for an integer": (mutated(lambda d: d["settings"].update(n_classes=True)), "n_classes"),
    "class out of range": (mutated(lambda d: d["points"][0].__setitem__(2, 4)), "points[0]"),
    "coordinates out of range": (mutated(lambda d: d["points"][1].__setitem__(0, 1e6)), "points[1]"),
    "too many classes": (mutated(lambda d: d["settings"].update(n_classes=50)), "n_classes"),
    "W of the wrong shape": (mutated(lambda d: d.update(W=[[1, 2, 3]] * 4)), "\"W\" must be"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "not an object": ("[1, 2, 3]", "expected a JSON object"),
    "foreign": (json.dumps({"format": "something else"}), "not a playground file"),
    "newer": (mutated(lambda d: d.update(version=99)), "newer linviz"),
    "unknown field": (mutated(lambda d: d.update(extra=1)), "unknown field"),
    "missing field": (mutated(lambda d: d.pop("W")), "missing field"),
    "huge integer": (mutated(lambda d: None).replace('"seed": 3', '"seed": ' + "9" * 5000), "not valid JSON"),
    "unknown loss": (mutated(lambda d: d["settings"].update(loss="hinge^2")), "loss must be"),
    "not JSON": ("{points: [", "not valid JSON"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_files_are_refused_with_a_message(tmp_path, name):
    text, words = HOSTILE[name]
    path = tmp_path / "hostile.json"
    path.write_text(text)
    if path.stat().st_size > pgd.MAX_FILE_BYTES:
        words = "too large"
    with pytest.raises(pgd.PlaygroundError) as info:
        pgd.load_state(path)
    assert isinstance(info.value, LinvizError)
    message = str(info.value)
    assert message.startswith(str(path)) and words in message, message


def test_oversized_binary_and_non_regular_files_are_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (pgd.MAX_FILE_BYTES + 1))
    with pytest.raises(pgd.PlaygroundError, match="too large"):
        pgd.load_state(big)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(pgd.PlaygroundError, match="UTF-8"):
        pgd.load_state(binary)
    with pytest.raises(pgd.PlaygroundError, match="not a regular file"):
        pgd.load_state(tmp_path)
    with pytest.raises(pgd.PlaygroundError, match="cannot open"):
        pgd.load_state(tmp_path / "missing.json")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    outcome = {}

    def load(path):
        try:
            pgd.load_state(path)
        except pgd.PlaygroundError as exc:
            outcome[path] = str(exc)

    for path in (fifo, link):
        thread = threading.Thread(target=load, args=(path,), daemon=True)
        thread.start()
        thread.join(timeout=5)
        assert not thread.is_alive(), f"loading {path} blocked on a FIFO"
        assert "not a regular file" in outcome[path]
    with pytest.raises(pgd.PlaygroundError, match="not a regular file"):
        pgd.save_state(some_state(), fifo)  # never written over


def test_settings_and_states_check_their_values():
    with pytest.raises(ValueError, match="n_classes"):
        pgd.PlaygroundSettings(n_classes=6)
    with pytest.raises(ValueError, match="landscape"):
        pgd.PlaygroundSettings(landscape=("w0x", "w0x"))
    with pytest.raises(ValueError, match="labels"):
        pgd.PlaygroundState([[0, 0]], [3], np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        pgd.PlaygroundState([[np.nan, 0]], [0], np.zeros((3, 2)), np.zeros(3))
    state = pgd.new_state()
    with pytest.raises(ValueError):
        state.W[0, 0] = 5.0  # immutable: change it with replace()
