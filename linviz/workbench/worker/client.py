"""The window's handle on its worker process: start it, ask it for a warm-up or a run, control
the run, notice when it dies, and end it.

:class:`WorkerProcess` starts the process with ``spawn`` (a fresh interpreter: forking a
process that runs Qt threads is unsafe) when first needed and keeps it for the window's
life, so that a run starts at once with the kernels already loaded. A request is answered on
the event pipe; the thread that asked waits for the answer and for the process's sentinel at
once, so a worker that crashed or was killed is noticed at once (:class:`WorkerDied`, with
the signal or exit code) and the next request starts a new one. When the window goes, the
worker is asked to quit, then terminated if it does not; a worker whose window was killed
sees its command pipe end and leaves by itself.

:class:`RemoteControl` is a :class:`~linviz.training.control.TrainingControl` for the window:
the same calls, sent over the pipe, and the answers the window asks for (paused? the pace?)
kept on its side.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import threading
import time
from multiprocessing import connection
from typing import Callable, Optional

from linviz.errors import Cancelled, LinvizError

STOP_GRACE_S = 20.0  # a run asked to stop that has not ended by then: its worker is ended
CLOSE_GRACE_S = 3.0  # the same when the window closes (nobody waits for that run any more)
QUIT_GRACE_S = 3.0   # a worker asked to quit that is still there then: terminated
POLL_S = 0.05        # how often a waiting thread looks at its cancel flag


class WorkerDied(LinvizError):
    """The worker process ended while it had work (crashed, killed, or out of memory).
    ``frame``: a training run's last frame, rescued from what it published (or None)."""

    def __init__(self, message: str, frame=None):
        super().__init__(message)
        self.frame = frame


class WorkerFailed(Exception):
    """A bug in the worker's run: the message and the worker's traceback (``details``)."""

    def __init__(self, message: str, details: str):
        super().__init__(message)
        self.details = details


def _death_words(exitcode: Optional[int]) -> str:
    if exitcode is None:
        return "it stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}"
    return f"exit code {exitcode}"


class WorkerProcess:
    """One worker process for the window (see the module docstring). Thread-safe: the GUI
    thread sends control calls while a lane's thread waits for a run to end."""

    def __init__(self, blas_threads: Optional[int] = None, start_method: str = "spawn"):
        self.blas_threads = blas_threads
        self.stop_grace_s = STOP_GRACE_S  # see closing()
        self._context = multiprocessing.get_context(start_method)
        self._process = None
        self._commands = None
        self._events = None
        self.lock = None  # the board lock of this process's runs
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self.starts = 0  # processes started so far (the first, and one after each death)
        self.last_death: Optional[str] = None  # how the previous process ended, when it died
        # Why no worker can serve this window: set when a process died before its first answer
        # (an interpreter that cannot start would do it again); runs then train in the window.
        self.unusable: Optional[str] = None
        self._answered = False  # the running process has sent something

    # ------------------------------------------------------------------ life
    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        """Start the process unless it runs (a dead one is replaced). Returns at once: the new
        interpreter loads in the background and answers requests when it is ready."""
        from linviz.workbench.worker.process_main import serve

        with self._state_lock:
            if self._closed:
                raise LinvizError("the window is closing")
            if self.unusable:
                raise LinvizError(self.unusable)
            if self._process is not None and self._process.is_alive():
                return
            self._forget_process()
            ctx = self._context
            commands_in, commands_out = ctx.Pipe(duplex=False)
            events_in, events_out = ctx.Pipe(duplex=False)
            lock = ctx.Lock()
            process = ctx.Process(target=serve, args=(commands_in, events_out, lock, self.blas_threads),
                                  name="linvizWorker", daemon=True)
            try:
                process.start()
            except Exception as exc:
                for end in (commands_in, commands_out, events_in, events_out):
                    end.close()
                raise LinvizError(f"could not start the worker process: {type(exc).__name__}: {exc}") from exc
            # Our copies of the child's ends go, so that either side sees the other's end.
            commands_in.close()
            events_out.close()
            self._process, self._commands, self._events, self.lock = process, commands_out, events_in, lock
            self._answered = False
            self.starts += 1

    def _forget_process(self) -> None:
        if self._process is not None:
            self.last_death = _death_words(self._process.exitcode)
        for end in (self._commands, self._events):
            if end is not None:
                try:
                    end.close()
                except OSError:
                    pass
        self._process = self._commands = self._events = None

    def closing(self) -> None:
        """The window closes: a run asked to stop gets :data:`CLOSE_GRACE_S`, not
        :data:`STOP_GRACE_S` (a worker stuck in a long call would keep the window open)."""
        self.stop_grace_s = min(self.stop_grace_s, CLOSE_GRACE_S)

    def shutdown(self, timeout_s: float = QUIT_GRACE_S) -> bool:
        """Ask the process to quit, then terminate (and kill) it if it does not; True when no
        process is left. Later requests are refused."""
        with self._state_lock:
            self._closed = True
            process = self._process
        if process is None:
            return True
        self._send_quietly(("quit",))
        process.join(timeout_s)
        if process.is_alive():
            process.terminate()
            process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join(1.0)
        gone = not process.is_alive()
        with self._state_lock:
            self._forget_process()
        return gone

    def kill(self) -> None:
        """End the process at once (its waiting requests fail with WorkerDied)."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()
            process.join(5.0)

    # ------------------------------------------------------------------ pipes
    def next_id(self) -> int:
        return next(self._ids)

    def send(self, message) -> None:
        """Send a command; WorkerDied when the process is gone."""
        with self._send_lock:
            commands = self._commands
            if commands is None:
                raise WorkerDied("the worker process is not running")
            try:
                commands.send(message)
            except (OSError, EOFError, BrokenPipeError, ValueError):
                words = _death_words(self._exitcode())
                # a process killed before its first answer could not start, whether its death
                # shows as a broken pipe here or while waiting (_died); the waiting side forgets it
                with self._state_lock:
                    self._note_if_it_never_answered(words)
                raise WorkerDied(f"the worker process ended ({words})") from None

    def _send_quietly(self, message) -> None:
        try:
            self.send(message)
        except WorkerDied:
            pass

    def _exitcode(self) -> Optional[int]:
        process = self._process
        if process is None:
            return None
        process.join(0.5)
        return process.exitcode

    def wait_for(self, request_id: int, cancel: Optional[threading.Event] = None,
                 on_event: Optional[Callable[[tuple], bool]] = None, *, abandon_on_cancel: bool = False):
        """Wait for the answer to ``request_id``: every event of it goes to ``on_event``, which
        returns True for the last. Once ``cancel`` is set: Cancelled at once when
        ``abandon_on_cancel`` (the answer, when it comes, is ignored), else WorkerDied if no
        answer came within :attr:`stop_grace_s` (the process is then ended). WorkerDied too
        when the process ends first."""
        process, events = self._process, self._events
        if process is None or events is None:
            raise WorkerDied("the worker process is not running")
        cancelled_at = None
        while True:
            if cancel is not None and cancel.is_set() and cancelled_at is None:
                if abandon_on_cancel:
                    raise Cancelled("cancelled")
                cancelled_at = time.monotonic()
            grace = self.stop_grace_s
            if cancelled_at is not None and time.monotonic() - cancelled_at > grace:
                self.kill()
                raise WorkerDied(f"the worker process did not stop within {grace:g} s and was ended")
            ready = connection.wait([events, process.sentinel], timeout=POLL_S)
            if events in ready:
                try:
                    message = events.recv()
                except (EOFError, OSError):
                    raise self._died() from None
                self._answered = True
                if len(message) < 2 or message[1] != request_id:
                    continue  # an answer to a request nobody waits for any more
                if on_event is None or on_event(message):
                    return message
            elif process.sentinel in ready:
                raise self._died()

    def _died(self) -> WorkerDied:
        words = _death_words(self._exitcode())
        with self._state_lock:
            self._note_if_it_never_answered(words)
            self._forget_process()
        return WorkerDied(f"the worker process stopped unexpectedly ({words})")

    def _note_if_it_never_answered(self, words: str) -> None:
        """A process that died before its first answer could not start: training stays in
        the window from now on (``unusable``). Call with the state lock held."""
        if not self._answered and self._process is not None:
            self.unusable = f"the worker process could not start ({words})"

    # ------------------------------------------------------------------ requests
    def warm_up(self, cancel: Optional[threading.Event] = None) -> float:
        """Start the process if needed and let it load the training kernels; their seconds."""
        self.start()
        request_id = self.next_id()
        self.send(("warmup", request_id))
        message = self.wait_for(request_id, cancel, lambda m: m[0] == "ready", abandon_on_cancel=True)
        return float(message[2])

    def train(self, request_for: Callable[[int, tuple], object], control: "RemoteControl",
              cancel: Optional[threading.Event] = None, on_started: Optional[Callable[[], None]] = None):
        """Run a training request (``request_for(run_id, controls)`` makes it) and return its
        FinalRun. Raises Cancelled (stopped before the first update), LinvizError (a user
        error), WorkerFailed (a bug, with the worker's traceback) or WorkerDied."""
        self.start()
        run_id = self.next_id()
        control.attach(self, run_id, lambda controls: self.send(("train", run_id, request_for(run_id, controls))))

        def handle(message) -> bool:
            if message[0] == "started":
                if on_started is not None:
                    on_started()
                return False
            return True

        try:
            message = self.wait_for(run_id, cancel, handle)
        finally:
            control.detach()
        kind = message[0]
        if kind == "done":
            return message[2]
        if kind == "stopped":
            raise Cancelled(message[2])
        if message[3]:  # a bug in the worker
            raise WorkerFailed(message[2], message[3])
        raise LinvizError(message[2])


class RemoteControl:
    """Pause, resume, stop, pace and step a run in the worker process, from any thread.

    Calls made before the run is sent travel with the request; later ones go over the pipe at
    once. ``paused``, ``stopped`` and ``pace`` answer from the calls made here.
    """

    def __init__(self, *, pace: Optional[float] = None):
        self._lock = threading.Lock()
        self._process: Optional[WorkerProcess] = None
        self._run_id: Optional[int] = None
        self._pending: list[tuple[str, tuple]] = []
        self._paused = False
        self._stopped = False
        self._pace: Optional[float] = None
        if pace is not None:
            self.set_pace(pace)

    # ------------------------------------------------------------------ the worker's side
    def attach(self, process: WorkerProcess, run_id: int, send_request: Callable[[tuple], None]) -> None:
        """Send the run's request (with the calls made so far) and route later calls to it; no
        call can overtake the request."""
        with self._lock:
            send_request(tuple(self._pending))
            self._pending.clear()
            self._process, self._run_id = process, run_id

    def detach(self) -> None:
        with self._lock:
            self._process = None

    def _call(self, method: str, *args) -> None:
        with self._lock:
            if self._process is None:
                self._pending.append((method, args))
                return
            process, run_id = self._process, self._run_id
            try:
                process.send(("control", run_id, method, args))
            except WorkerDied:
                pass  # the waiting thread reports it

    # ------------------------------------------------------------------ TrainingControl's calls
    def pause(self) -> None:
        self._paused = True
        self._call("pause")

    def resume(self) -> None:
        self._paused = False
        self._call("resume")

    def stop(self) -> None:
        self._stopped = True
        self._call("stop")

    def set_pace(self, iterations_per_second: Optional[float]) -> None:
        from linviz.training.control import checked_pace

        self._pace = checked_pace(iterations_per_second)
        self._call("set_pace", self._pace)

    def step(self, unit: str = "minibatch") -> None:
        from linviz.training.control import check_step_unit

        check_step_unit(unit)
        self._paused = True
        self._call("step", unit)

    @property
    def pace(self) -> Optional[float]:
        return self._pace

    @property
    def paused(self) -> bool:
        return self._paused and not self._stopped

    @property
    def stopped(self) -> bool:
        return self._stopped
