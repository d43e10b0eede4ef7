"""The GUI bench's rows (linviz.gui.devtools.training_bench): each round's window run is
compared with that round's headless run, so that the machine's speed drifting between
rounds does not pass for the window's cost."""

import pytest

from linviz.gui.devtools.training_bench import row_verdicts, summarize_row


def _run(rate, stall=20.0, redraws=24.0):
    return {"samples_per_second": rate, "max_stall_ms": stall, "p99_gap_ms": 10.0, "redraws_per_second": redraws,
            "quick_jobs_per_second": 0.0}


def test_the_throughput_is_the_median_of_each_rounds_own_ratio():
    # the machine ran at half speed in rounds 2 and 3: the window kept 95% of headless in
    # two rounds out of three; the medians of the rates alone would say 48%
    headless = [100.0, 200.0, 200.0]
    runs = [_run(95.0), _run(95.0), _run(190.0)]
    row = summarize_row("Training tab", "quiet", runs, headless, [1.0] * 3, [])
    assert row["round_ratios"] == [0.95, 0.475, 0.95]
    assert row["throughput_ratio"] == pytest.approx(0.95)
    assert row_verdicts(row)["throughput"]


def test_the_longest_stall_of_any_round_counts():
    runs = [_run(100.0, stall=20.0), _run(100.0, stall=55.0), _run(100.0, stall=30.0)]
    row = summarize_row("Inside lab", "loaded", runs, [100.0] * 3, [1.0] * 3, [])
    assert row["max_stall_ms"] == 55.0 and row["median_max_stall_ms"] == 30.0
    assert not row_verdicts(row)["stall"] and row_verdicts(row)["throughput"]


def test_the_cpu_efficiency_pairs_rounds_too():
    runs = [dict(_run(90.0), samples_per_cpu_second=90.0), dict(_run(90.0), samples_per_cpu_second=45.0)]
    row = summarize_row("Training tab", "quiet", runs, [100.0, 100.0], [1.0, 1.0], [100.0, 50.0])
    assert row["cpu_efficiency"] == pytest.approx(0.9)
