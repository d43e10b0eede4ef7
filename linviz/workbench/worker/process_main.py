"""The worker process itself: one per window, started with ``spawn`` and kept alive.

Two threads. The *listener* reads the command pipe: a run request is queued for the main
thread (with its :class:`~linviz.training.control.TrainingControl` made at once, so that a
pause or a step sent right after it applies), control calls go straight to the running run's
control (its condition wakes the loop within milliseconds), and ``quit``, or the end of the
pipe (the window is gone, however it went), stops the run and ends the process. The *main
thread* runs the requests one at a time: the loop, with nobody else wanting this
interpreter's GIL, at the speed of a headless run.

A run publishes its newest snapshot on its board (:mod:`~linviz.workbench.worker.board`) at
the window's pace and ends with one event. A Python exception ends the run, never the
process: it is reported ("failed") with its traceback when it is a bug.

Nothing heavy is imported at module level: the spawned interpreter imports this module to
find :func:`serve`, before the BLAS limit is set.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
import traceback

ORPHAN_GRACE_S = 3.0  # after the window is gone, the worker leaves within this even mid-compile
# The training yields the CPU to the window (as the window's quick lane does): when another
# app keeps a core busy, the GUI thread, the worker and that app share two cores, and at equal
# priority the GUI thread waited for its turn in the middle of its redraws. Five steps lower,
# the worker gives way whenever the GUI thread has work; it also gives way to that other app,
# and loses nothing on an otherwise quiet machine. Measured: docs/benchmarks.md.
WORKER_NICENESS = 5


def serve(commands, events, lock, blas_threads=None) -> None:
    """The process's entry point (``multiprocessing`` target)."""
    if hasattr(signal, "SIGINT"):
        # Ctrl+C in a terminal reaches the whole process group: the window decides, and stops us.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "setsid"):
        # A session of our own. Linux's autogroup scheduler (on by default on desktops) shares
        # the CPU between sessions first: in the window's session, the training would share
        # one session's slice with the GUI thread; here it has its own, like any other app.
        try:
            os.setsid()
        except OSError:
            pass
    _give_way_to_the_window(WORKER_NICENESS)
    if blas_threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(blas_threads))
        _limit_loaded_blas(int(blas_threads))
    worker = _Worker(commands, events, lock)
    listener = threading.Thread(target=worker.listen, name="linvizWorkerListener", daemon=True)
    listener.start()
    worker.run()
    # The listener may still sit in recv(); the process ends here either way.
    os._exit(0)


def _give_way_to_the_window(more: int) -> None:
    """This process ``more`` nice than the window (raising it needs no privilege), set before
    it starts its threads (they inherit it). In a session of its own, Linux's autogroup
    scheduler weighs the session's nice value against other sessions, and the task's within
    it: both are set."""
    if not hasattr(os, "setpriority"):
        return  # Windows: the worker keeps the window's priority
    try:
        niceness = min(19, os.getpriority(os.PRIO_PROCESS, 0) + more)
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except OSError:
        return
    try:
        with open("/proc/self/autogroup", "w", encoding="ascii") as f:
            f.write(str(niceness))
    except OSError:
        pass  # no autogroups (another OS, or a kernel without them)


def _limit_loaded_blas(threads: int) -> None:
    """When NumPy came in before the environment could say (the parent's main module)."""
    if "numpy" not in sys.modules:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads, user_api="blas")


class _Worker:
    def __init__(self, commands, events, lock):
        self.commands, self.events, self.lock = commands, events, lock
        self.requests: "queue.Queue" = queue.Queue()
        self.controls: dict[int, object] = {}  # run id -> its TrainingControl, while queued or running
        self._send_lock = threading.Lock()
        self._controls_lock = threading.Lock()

    # ------------------------------------------------------------------ the listener thread
    def listen(self) -> None:
        while True:
            try:
                message = self.commands.recv()
            except (EOFError, OSError):
                message = ("quit",)  # the window is gone
                threading.Timer(ORPHAN_GRACE_S, os._exit, args=(0,)).start()
            except Exception:  # a message that cannot be read: drop it, keep serving
                continue
            kind = message[0]
            if kind == "quit":
                self._stop_all()
                self.requests.put(None)
                return
            if kind == "train":
                self._queue_run(message[1], message[2])
            elif kind == "control":
                self._control(message[1], message[2], message[3])
            elif kind == "warmup":
                self.requests.put(("warmup", message[1], None))

    def _queue_run(self, run_id: int, request) -> None:
        from linviz.workbench.worker.training import PublishingControl

        control = PublishingControl()
        for method, args in request.controls:
            getattr(control, method)(*args)
        with self._controls_lock:
            self.controls[run_id] = control
        self.requests.put(("train", run_id, request))

    def _control(self, run_id: int, method: str, args) -> None:
        from linviz.workbench.worker.protocol import CONTROL_METHODS

        with self._controls_lock:
            control = self.controls.get(run_id)
        if control is None or method not in CONTROL_METHODS:
            return  # a run that ended meanwhile
        try:
            getattr(control, method)(*args)
        except (TypeError, ValueError):
            pass  # the window checks values before sending them

    def _stop_all(self) -> None:
        with self._controls_lock:
            controls = list(self.controls.values())
        for control in controls:
            control.stop()

    # ------------------------------------------------------------------ the main thread
    def send(self, *message) -> None:
        with self._send_lock:
            try:
                self.events.send(message)
            except (OSError, EOFError, BrokenPipeError):
                pass  # the window is gone; the listener ends the process

    def run(self) -> None:
        while True:
            item = self.requests.get()
            if item is None:
                return
            kind, request_id, request = item
            if kind == "warmup":
                self._warm_up(request_id)
                continue
            with self._controls_lock:
                control = self.controls.get(request_id)
            try:
                if control is not None and not control.stopped:
                    self._train(request, control)
                else:
                    self.send("stopped", request_id, "stopped before the first iteration")
            finally:
                with self._controls_lock:
                    self.controls.pop(request_id, None)

    def _warm_up(self, request_id: int) -> None:
        start = time.perf_counter()
        try:
            from linviz.workbench.worker.training import warm_up

            warm_up()
        except Exception:  # a warm-up is an optimization: the first run compiles instead
            pass
        self.send("ready", request_id, time.perf_counter() - start)

    def _train(self, request, control) -> None:
        from linviz.errors import Cancelled, LinvizError
        from linviz.workbench.worker.training import run_request

        try:
            result = run_request(request, control, self.lock, started=lambda: self.send("started", request.run_id))
        except Cancelled as exc:
            self.send("stopped", request.run_id, str(exc))
        except LinvizError as exc:
            self.send("failed", request.run_id, str(exc), None)
        except MemoryError:
            self.send("failed", request.run_id, "out of memory: try a smaller subsample or fewer features", None)
        except Exception as exc:  # a bug: its traceback goes to the window's dialog
            self.send("failed", request.run_id, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            self.send("done", request.run_id, result)
