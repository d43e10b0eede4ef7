"""linviz.text: durations at the precision they deserve."""

import pytest

from linviz.text import duration


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0 ms"), (0.0449, "45 ms"), (0.0996, "100 ms"), (0.1, "0.1 s"), (1.34, "1.3 s"), (59.94, "59.9 s"),
    (60.0, "1 min 0 s"), (125.4, "2 min 5 s"), (-1.0, "0 ms"),
])
def test_duration(seconds, text):
    assert duration(seconds) == text
