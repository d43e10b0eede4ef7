"""The cyclic garbage collector runs on the GUI thread only (a Qt destructor run by a worker
thread's collection deadlocked the app)."""

from __future__ import annotations

import gc
import threading

from linviz.gui.runtime import garbage
from linviz.gui.runtime.garbage import collect_on_gui_thread


class _Cycle:
    """Garbage in a reference cycle that records which thread collected it."""

    collected_on: list = []

    def __init__(self):
        self.me = self

    def __del__(self):
        _Cycle.collected_on.append(threading.current_thread())


def test_a_cycle_dropped_while_a_worker_allocates_is_collected_on_the_gui_thread(qtbot, monkeypatch):
    # A collector of this test's own: one made by an earlier test keeps that test's interval
    # (the call is idempotent), and this test must not depend on what ran before it.
    monkeypatch.setattr(garbage, "_collector", None)
    gc.enable()
    collector = collect_on_gui_thread(interval_s=0.05)
    assert collector.timer.isActive()
    assert not gc.isenabled()
    _Cycle.collected_on.clear()
    _Cycle()  # garbage now, reachable only through its own cycle

    def allocate():  # with automatic collection on, this would collect the cycle here
        junk = [[i] for i in range(200_000)]
        del junk

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert _Cycle.collected_on == []
    # The timer collects the youngest generation once more objects were made than freed since
    # the last collection than its threshold (700). Whatever else frees objects meanwhile (the
    # event loop deleting an earlier test's widgets) counts against that, so keep making some
    # until the collection came.
    alive = []

    def collected() -> bool:
        alive.extend([i] for i in range(gc.get_threshold()[0]))
        return _Cycle.collected_on != []

    qtbot.waitUntil(collected, timeout=5_000)

    collector.timer.stop()
    assert _Cycle.collected_on == [threading.main_thread()]


def test_after_the_window_is_built_collections_skip_what_existed_and_still_free_what_came_later(qtbot):
    from linviz.gui.runtime.garbage import freeze_survivors

    survivor = _Cycle()
    try:
        freeze_survivors()
        assert gc.get_freeze_count() > 0
        assert not any(obj is survivor for obj in gc.get_objects())  # out of the collector's sight
        _Cycle.collected_on.clear()
        _Cycle()  # garbage made after the freeze
        gc.collect()
        assert _Cycle.collected_on == [threading.main_thread()]
    finally:
        gc.unfreeze()  # the rest of the test session as it was
    assert any(obj is survivor for obj in gc.get_objects())
