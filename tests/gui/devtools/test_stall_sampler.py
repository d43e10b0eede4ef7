"""The stall sampler: a thread's stack sampled from another, samples attributed to long gaps."""

from __future__ import annotations

import threading
import time

from linviz.gui.devtools.stall_sampler import StackSampler, functions_in_gaps, gaps_longer_than


def test_samples_name_the_function_a_thread_is_in():
    stop = threading.Event()

    def busy_in_a_named_function():
        while not stop.is_set():
            sum(range(1000))

    worker = threading.Thread(target=busy_in_a_named_function)
    worker.start()
    sampler = StackSampler(worker.ident, interval_s=0.001)
    sampler.start()
    while len(sampler.samples) < 5:
        time.sleep(0.005)
    sampler.stop()
    stop.set()
    worker.join()
    assert all("test_stall_sampler.py:busy_in_a_named_function" in stack for _, stack in sampler.samples)


def test_only_samples_inside_long_gaps_count():
    ticks = [0.00, 0.01, 0.02, 0.09, 0.10]  # one gap of 70 ms
    gaps = gaps_longer_than(ticks, 0.04)
    assert gaps == [(0.02, 0.09)]
    samples = [(0.005, ("a:tick", "a:loop")), (0.05, ("b:paint", "a:loop")), (0.06, ("b:paint", "a:loop")),
               (0.095, ("a:tick", "a:loop"))]
    shares = {name: (inside, overall) for name, inside, overall in functions_in_gaps(samples, gaps)}
    assert shares["b:paint"] == (1.0, 0.5) and shares["a:loop"] == (1.0, 1.0)
    assert "a:tick" not in shares
