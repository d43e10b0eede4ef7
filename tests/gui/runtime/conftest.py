"""Fixtures for the runtime: its parts alone, without a window around them."""

from __future__ import annotations

import pytest


@pytest.fixture
def job_runner(qtbot):
    """A JobRunner (the heavy lane and the quick lane) of its own; its threads stopped after."""
    from linviz.gui.runtime.worker import JobRunner

    runner = JobRunner()
    yield runner
    runner.shutdown()
    assert not runner.threads_running(), "the compute thread outlived the test"
