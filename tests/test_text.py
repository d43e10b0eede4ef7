"""linviz.text: durations and decimals at the precision they deserve."""

import pytest

from linviz.text import bound, counted, decimals, duration, number


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0 ms"), (0.0449, "45 ms"), (0.0996, "0.1 s"), (0.1, "0.1 s"), (1.34, "1.3 s"), (59.94, "59.9 s"),
    (59.96, "1 min 0 s"), (60.0, "1 min 0 s"), (125.4, "2 min 5 s"), (-1.0, "0 ms"), (float("inf"), "—"),
    (float("nan"), "—"),
])
def test_duration(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("value, places, text", [
    (437.9, 3, "437.9"), (-96.8, 3, "-96.8"), (60.75, 3, "60.75"), (0.0210, 4, "0.021"), (1.0, 4, "1"),
    (6e-233, 4, "0"), (-1e-9, 3, "0"), (12.3456, 3, "12.346"), (100.0, 2, "100"), (float("inf"), 3, "inf"),
])
def test_decimals(value, places, text):
    assert decimals(value, places) == text


def test_counted():
    assert counted(1, "epoch") == "1 epoch" and counted(30, "epoch") == "30 epochs"
    assert counted(0, "image") == "0 images" and counted(12000, "image") == "12,000 images"
    assert counted(2, "matrix", "matrices") == "2 matrices"


@pytest.mark.parametrize("value, text", [(0.1, "0.1"), (1e-4, "0.0001"), (1e-7, "1e-7"), (2.5e6, "2.5e6"),
                                         (1e-5, "1e-5"), (3.0, "3"), (0.0, "0")])
def test_number(value, text):
    assert number(value) == text


def test_bound():
    """Limits as the docs and the messages write them (one helper for both)."""
    assert [bound(v) for v in (2.0**20, 0.5, 1e-6, 2**63 - 1, 1e300)] == ["1,048,576", "0.5", "1e-06", "2^63 - 1",
                                                                          "1e+300"]
