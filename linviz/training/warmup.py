"""The Numba kernels of a run, made ready before the run needs them; and said when that takes
a while.

A kernel is compiled at its first call. Compiled once, it is kept on disk
(:mod:`linviz.kernel_cache`) and the next process loads it in a fraction of a second; but
the first run of linviz on a machine, or the first after an upgrade of linviz or Numba,
compiles every kernel it meets: seconds each, a good part of a minute in all, done one
after the other on one core if nothing is done about it.

The kernels come in **parts**: the feature extraction of one feature spec (with the
standardization); the standardization alone (every spec's last step); the training's first
step (the loss kernel of both losses and the update kernel of every gradient optimizer);
and the training loop (the compiled minibatch loop, which holds those two).
:func:`prepare` starts getting parts ready in the background, :func:`wait` blocks until
they are:

* a **warm** part (a warm-up compiled it before: :func:`linviz.kernel_cache.is_warm`)
  loads from disk in a thread of this process, while the caller loads its data;
* a **cold** part is compiled in a child process (:func:`child_main`): the parts compile
  on different cores, and the caller's own process -- a window that must stay
  responsive, a command loading its data -- keeps running. The child fills the on-disk
  cache and leaves the part's warm mark; the caller's first calls then load the kernels
  from disk. When no child can be started (a frozen application), the part compiles in a
  thread of this process.
* a cold part that builds on another cold one (the training loop on the first step's
  kernels) is compiled after it by the same child: compiled in another process, those
  kernels would be compiled twice. The standardization (which every features part also
  compiles, last) comes after the first step in the training's child: whichever child gets
  to it first compiles it, and the other finds it on disk.

A command need not wait for the training loop: the training goes step by step (the same
arithmetic, :mod:`linviz.training.loop`) until its kernel is ready, and a short run ends
long before that kernel would have compiled. Its child then finishes the compile after the
command has ended (:data:`OUTLIVING`: the loop and the standardization before it), at a
lower priority, so that the next run finds it on disk; a child with anything else left to
compile stops with the process that started it.

While a part compiles, :func:`status` says so in one line ("compiling linviz's kernels,
first run only: ..."), which the CLI draws on stderr and the window in its status strip.
Nothing else changes: a kernel that is not ready when it is called compiles or loads
itself, as it always could.

The warm-up functions (:func:`warm_up_features`, :func:`warm_up_standardization`,
:func:`warm_up_first_step`, :func:`warm_up_training`) make the first calls on a few
synthetic images through the very code a run uses, so that every kernel
meets the argument types of a real run (another type would be another compile).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import numpy as np

from linviz import kernel_cache
from linviz.errors import Cancelled

COMPILING = "compiling linviz's kernels, first run only"
STANDARDIZATION = "standardization"
TRAINING = "training"
TRAINING_LOOP = "training loop"
# part -> the part it comes after: compiled after it (or after the nearest cold one before
# it), in the same process
_AFTER = {STANDARDIZATION: TRAINING, TRAINING_LOOP: STANDARDIZATION}
# parts a child finishes when the process that started it ends: what the next run needs, and
# no more than a few seconds of compiling
OUTLIVING = frozenset({STANDARDIZATION, TRAINING_LOOP})
ORPHAN_LIMIT_S = 300.0  # an outliving child still compiling this long after its parent ended stops
# An outliving part compiles at this lower priority: what the command does meanwhile (its
# features, its training) comes first.
OUTLIVING_NICENESS = 10
_LOOK_EVERY_S = 0.05  # how often a part compiled elsewhere has its warm mark looked for
_WARM_UP_IMAGES = 4


# --------------------------------------------------------------------------- the warm-ups


def warm_up_features(features="hog+hue", image_shape=(32, 32)) -> None:
    """First calls of the kernels that extracting and standardizing ``features`` (a spec or
    preset) makes, on a few synthetic ``image_shape`` images."""
    from linviz.features import FeaturePipeline
    from linviz.features.spec import warm_up_version

    h, w = int(image_shape[0]), int(image_shape[1])
    images = np.random.default_rng(0).integers(0, 256, (_WARM_UP_IMAGES, h, w, 3), dtype=np.uint8)
    pipeline = FeaturePipeline(warm_up_version(features))  # blocks that learn: a tiny version of them
    pipeline.fit_transform(images)
    pipeline.transform(images[:1])  # one image: a prediction


def warm_up_standardization() -> None:
    """First calls of the standardization kernels, through the pipeline of raw pixels (which
    compiles nothing else)."""
    warm_up_features("raw")


def warm_up_first_step() -> None:
    """First calls of the kernels of a training's first step on a tiny float32 problem: one
    run, step by step, serves every loss and gradient optimizer: they are codes passed to the
    same two kernels (linviz.models.loss_kernels.loss_batch,
    linviz.training.update_kernels.update)."""
    _warm_up_run(chunk_seconds=0.0)


def warm_up_training() -> None:
    """First calls of every training kernel on a tiny float32 problem: the first step and
    the compiled minibatch loop after it (which calls the first step's two kernels)."""
    _warm_up_run()


def _warm_up_run(**settings) -> None:
    from linviz.training.loop import TrainingConfig, run_to_end, train

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5)).astype(np.float32)
    y = np.arange(40) % 2
    config = TrainingConfig(epochs=2, batch_size=8, snapshot_every=1, **settings)
    run_to_end(train(X, y, X, y, config, n_classes=2))


def warm_up_kernels(features="hog+hue", config=None, *, image_shape=(32, 32)) -> float:
    """:func:`warm_up_features` and, when ``config`` is given (any TrainingConfig: the
    training kernels are the same for all), :func:`warm_up_training`, in this thread;
    returns the seconds it took. Nothing it computes is kept."""
    start = time.perf_counter()
    warm_up_features(features, image_shape)
    if config is not None:
        warm_up_training()
    return time.perf_counter() - start


# --------------------------------------------------------------------------- parts


def features_part(features, image_shape=(32, 32)) -> dict:
    """The part of the kernels that extracting ``features`` needs (a spec or preset; images
    of ``image_shape``: the warm-up's images have that size, so that every spec fits)."""
    from linviz.features import FeaturePipeline

    spec = str(FeaturePipeline(features).spec)
    return {"kind": "features", "features": spec, "image_shape": [int(image_shape[0]), int(image_shape[1])]}


def standardization_part() -> dict:
    """The part of the standardization alone (a features part has it too)."""
    return {"kind": STANDARDIZATION}


def training_part() -> dict:
    """The part of a training's first step: what a run waits for."""
    return {"kind": TRAINING}


def training_loop_part() -> dict:
    """The part of the compiled minibatch loop: a run goes step by step until it is ready."""
    return {"kind": TRAINING_LOOP}


def training_parts() -> list[dict]:
    """The parts of a training, in the order one child compiles them: the first step's (what
    a run waits for), the standardization, the compiled minibatch loop."""
    return [training_part(), standardization_part(), training_loop_part()]


def part_key(part: dict) -> str:
    """The part's name, for its warm mark: the features' spec (the image size changes no
    kernel), "standardization", "training" or "training loop"."""
    return f"features {part['features']}" if part["kind"] == "features" else part["kind"]


def _run_part(part: dict) -> None:
    if part["kind"] == "features":
        warm_up_features(part["features"], tuple(part["image_shape"]))
    elif part["kind"] == STANDARDIZATION:
        warm_up_standardization()
    elif part["kind"] == TRAINING:
        warm_up_first_step()
    else:
        warm_up_training()


@dataclass
class _Part:
    """One part being made ready: by a thread of this process or by a child process."""

    key: str
    part: dict
    compiled: int = 0            # linviz kernels compiled so far for it
    compiling: bool = False      # a compile happened (not only loads from disk)
    error: Optional[str] = None  # why it failed (its kernels then compile when called)
    seconds: Optional[float] = None
    process: Optional[subprocess.Popen] = None
    reported: bool = False       # its child said it is ready (or failed): the child went on
    stopped: bool = False        # its child was stopped with this process: nothing more to do
    elsewhere: bool = False      # another process compiles it for this one (compiling_elsewhere)
    looked: float = -1.0         # when its warm mark was last looked for (elsewhere)
    done: threading.Event = field(default_factory=threading.Event)


_parts: dict[str, _Part] = {}
_lock = threading.Lock()
_compiling_threads: dict[int, _Part] = {}  # thread id -> the part it compiles in this process


def prepare(parts: Iterable[dict], *, processes: Optional[bool] = None) -> list[str]:
    """Start making ``parts`` ready (those not started yet); returns their keys, for
    :func:`wait`. ``processes``: compile cold parts in child processes (default: yes, unless
    this is a frozen application or ``$LINVIZ_WARM_UP_PROCESSES`` is 0)."""
    if processes is None:
        processes = not getattr(sys, "frozen", False) and os.environ.get("LINVIZ_WARM_UP_PROCESSES", "1") != "0"
    keys, runs = [], []
    cold_runs: dict[str, list[_Part]] = {}  # a cold part's key -> the run of parts it is in
    for part in parts:
        key = part_key(part)
        keys.append(key)
        with _lock:
            if key in _parts:
                continue
            state = _parts[key] = _Part(key, part)
        cold = not kernel_cache.is_warm(key)
        before = _AFTER.get(key)
        while before is not None and before not in cold_runs:
            before = _AFTER.get(before)
        run = cold_runs.get(before) if cold else None
        if run is None:
            run = []
            runs.append(run)
        run.append(state)
        if cold:
            cold_runs[key] = run
    for run in runs:
        if processes and any(s.key in cold_runs for s in run) and _start_child(run):
            continue
        name = f"linviz-warm-up {run[0].key}"
        threading.Thread(target=_in_this_process, args=(run,), name=name, daemon=True).start()
    return keys


def _in_this_process(run: list[_Part]) -> None:
    """Load (or, failing that, compile) the parts' kernels in this thread, one part after
    the other, each marked done when it is."""
    for state in run:
        try:
            _load_here(state)
        finally:
            state.done.set()


def _load_here(state: _Part) -> None:
    _listen_to_compiles()
    _compiling_threads[threading.get_ident()] = state
    start = time.perf_counter()
    try:
        _run_part(state.part)
        kernel_cache.mark_warm(state.key)
    except Exception as exc:  # the run's own calls then compile or fail with the real error
        state.error = state.error or f"{type(exc).__name__}: {exc}"
    finally:
        _compiling_threads.pop(threading.get_ident(), None)
        state.seconds = (state.seconds or 0.0) + time.perf_counter() - start


_CHILD = "import sys; from linviz.training.warmup import child_main; sys.exit(child_main(sys.argv[1:]))"


def _start_child(run: list[_Part]) -> bool:
    """A child process compiling the parts of ``run``, in order (:func:`child_main`); False
    when none starts."""
    env = dict(os.environ)
    # linviz importable in the child even when run from a checkout that is not installed
    package_parent = str(kernel_cache.PACKAGE_DIR.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    env.setdefault("NUMBA_NUM_THREADS", "1")  # tiny inputs: no thread pools to start
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps([state.part for state in run])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
            bufsize=1)
    except OSError:
        return False
    for state in run:
        state.process = process
    threading.Thread(target=_follow_child, args=(run,), name=f"linviz-warm-up {run[0].key}", daemon=True).start()
    return True


def _follow_child(run: list[_Part]) -> None:
    """Count what the child reports, part after part ("compiled NAME" lines, then "ready
    SECONDS" or "error TEXT"); as each part is ready, load its kernels in this process (from
    disk: a fraction of a second), so that a ready part costs its first calls nothing, even
    on a window's thread. The parts the child did not finish are loaded (or compiled) here
    after it ends."""
    process = run[0].process
    pending = list(run)
    try:
        for line in process.stdout:
            if not pending:
                break
            state = pending[0]
            word, _, rest = line.strip().partition(" ")
            if word == "compiled":
                state.compiled += 1
                state.compiling = True
            elif word in ("ready", "error"):
                if word == "ready":
                    state.seconds = float(rest)
                else:
                    state.error = rest
                state.reported = True
                _load_here(state)
                state.done.set()
                pending.pop(0)
        code = process.wait()
        process.stdin.close()
        failed = any(s.error for s in run)
        for state in pending:
            if state.stopped:  # this process is ending: nothing to load it for
                continue
            if state.error is None:
                state.error = ("not compiled: an earlier part of its warm-up failed" if failed else
                               f"the warm-up process exited with code {code}")
            _load_here(state)
            state.done.set()
    finally:
        # closed here, not when the Popen is collected (with a ResourceWarning per pipe)
        for pipe in (process.stdout, process.stdin):
            try:
                pipe.close()
            except OSError:
                pass
        for state in run:
            state.done.set()


def _stop_children(*, all_of_them: bool = False) -> None:
    """Children are stopped with the process that started them (an interrupted write leaves
    no broken entry: Numba writes its cache files by renaming complete ones), but for those
    left only with parts that outlive it (:data:`OUTLIVING`): they finish filling the cache
    on their own. ``all_of_them``: stop those too."""
    with _lock:
        states = list(_parts.values())
    runs: dict[int, list[_Part]] = {}  # a child's parts, by its process
    for state in states:
        if state.process is not None:
            runs.setdefault(id(state.process), []).append(state)
    for run in runs.values():
        process = run[0].process
        if process.poll() is not None:
            continue
        if all_of_them or not all(s.reported or s.key in OUTLIVING for s in run):
            for s in run:
                s.stopped = True
            process.kill()


atexit.register(_stop_children)


# --------------------------------------------------------------------------- waiting


def ready(keys: Iterable[str]) -> bool:
    """True when every part of ``keys`` is ready (or failed)."""
    return all(_settled(_parts[key]) for key in keys if key in _parts)


def pending(part: dict) -> bool:
    """True when ``part`` was prepared in this process (or is compiled elsewhere for it) and
    is not ready yet (False for a part never prepared: its kernels compile or load at their
    first call, as always)."""
    state = _parts.get(part_key(part))
    if state is None or _compiling_threads.get(threading.get_ident()) is state:
        return False  # the thread making it ready runs the very code that needs it
    return not _settled(state)


def compiling_elsewhere(keys: Iterable[str]) -> None:
    """The parts (keys) another process is compiling for this one -- the window's warm-up
    children, for its worker process: :func:`pending` until their warm marks appear. A part
    named in an earlier call and not in this one is no longer waited for (it failed, or its
    mark could not be written)."""
    keys = set(keys)
    with _lock:
        for key, state in _parts.items():
            if state.elsewhere and key not in keys:
                state.done.set()
        for key in keys:
            if key not in _parts and not kernel_cache.is_warm(key):
                _parts[key] = _Part(key, {}, elsewhere=True)


def _settled(state: _Part) -> bool:
    """Whether ``state`` is done; a part compiled elsewhere is done when its warm mark
    appears (looked for at most every ``_LOOK_EVERY_S``: a run asks between minibatches)."""
    if state.done.is_set():
        return True
    if state.elsewhere:
        now = time.monotonic()
        if now - state.looked >= _LOOK_EVERY_S:
            state.looked = now
            if kernel_cache.is_warm(state.key):
                state.done.set()
    return state.done.is_set()


def compiling(keys: Optional[Iterable[str]] = None) -> bool:
    """True while a part of ``keys`` (default: any) is being compiled, not just loaded."""
    states = _parts.values() if keys is None else [_parts[k] for k in keys if k in _parts]
    return any(s.compiling and not s.done.is_set() for s in states)


def status(keys: Optional[Iterable[str]] = None) -> str:
    """One line on the parts of ``keys`` (default: all) being compiled, e.g. "compiling
    linviz's kernels, first run only: 14 compiled; features ready, training..."; "" when
    nothing compiles."""
    states = list(_parts.values()) if keys is None else [_parts[k] for k in keys if k in _parts]
    if not any(s.compiling and not s.done.is_set() for s in states):
        return ""
    count = sum(s.compiled for s in states)
    parts = [f"{_short(s.key)} {'ready' if s.done.is_set() else '...'}" for s in states if s.compiling or
             s.done.is_set()]
    return f"{COMPILING}: {count} compiled ({', '.join(parts)})"


def _short(key: str) -> str:
    return "features" if key.startswith("features") else key


def wait(keys: Iterable[str], *, report: Optional[Callable[[str], None]] = None, cancel=None,
         interval: float = 0.2) -> float:
    """Block until every part of ``keys`` is ready; returns the seconds waited. While one is
    being compiled, ``report(status line)`` every ``interval`` seconds (once more with ""
    when done). ``cancel`` (an Event or a callable): raise Cancelled (the parts go on)."""
    keys = [k for k in keys if k in _parts]
    start = time.perf_counter()
    reported = False
    while not ready(keys):
        if cancel is not None and (cancel.is_set() if hasattr(cancel, "is_set") else cancel()):
            raise Cancelled("cancelled while the kernels were compiling")
        if report is not None:
            text = status(keys)
            if text:
                report(text)
                reported = True
        for key in keys:
            if _parts[key].done.wait(interval):
                break
    if reported:
        report("")
    return time.perf_counter() - start


def part_seconds(keys: Optional[Iterable[str]] = None) -> Optional[float]:
    """Seconds the parts of ``keys`` (default: all of this process's) took to get ready in
    the background, summed; None when none has finished."""
    keys = list(_parts) if keys is None else keys
    seconds = [_parts[k].seconds for k in keys if k in _parts and _parts[k].seconds is not None]
    return sum(seconds) if seconds else None


def compiled(keys: Optional[Iterable[str]] = None) -> int:
    """How many linviz kernels the parts of ``keys`` (default: all) compiled so far."""
    keys = list(_parts) if keys is None else keys
    return sum(_parts[k].compiled for k in keys if k in _parts)


def part_errors(keys: Iterable[str]) -> list[str]:
    return [f"{k}: {_parts[k].error}" for k in keys if k in _parts and _parts[k].error]


def forget() -> None:
    """Drop what this process knows of its parts (tests: the next prepare starts afresh)."""
    _stop_children(all_of_them=True)
    with _lock:
        _parts.clear()


# --------------------------------------------------------------------------- compile events


_listening = False


def _listen_to_compiles() -> None:
    """Count the linviz kernels compiled by this process's warm-up threads."""
    global _listening
    with _lock:
        if _listening:
            return
        _listening = True
    from numba.core import event

    class CompileCounter(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            state = _compiling_threads.get(threading.get_ident())
            if state is not None and _is_linviz_kernel(ev):
                state.compiled += 1
                state.compiling = True

    event.register("numba:compile", CompileCounter())


def _is_linviz_kernel(ev) -> bool:
    dispatcher = ev.data.get("dispatcher") if isinstance(ev.data, dict) else None
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module.startswith("linviz.")


# --------------------------------------------------------------------------- the child


def child_main(argv: list[str]) -> int:
    """The warm-up child of :func:`prepare` (``argv``: the parts, a JSON list): compile each
    part in turn, print "compiled NAME" per linviz kernel compiled and "ready SECONDS" at the
    end of each part, and leave its warm mark. When the parent ends (stdin reaches its end)
    the child stops, unless every part it has left outlives it (:data:`OUTLIVING`): those it
    finishes, saying nothing more."""
    from numba.core import event

    try:
        parts = json.loads(argv[0])
        left = [part_key(part) for part in parts]
    except Exception as exc:
        print(f"error {type(exc).__name__}: {exc}", flush=True)
        return 1

    def say(line: str) -> None:
        try:
            print(line, flush=True)
        except (OSError, ValueError):  # the parent is gone: nobody listens any more
            pass

    def orphaned() -> None:  # the parent died: stop, or finish outliving parts quietly
        sys.stdin.read()
        if not all(key in OUTLIVING for key in list(left)):
            os._exit(1)
        sys.stdout = open(os.devnull, "w")
        limit = threading.Timer(ORPHAN_LIMIT_S, os._exit, args=(1,))  # never left running for good
        limit.daemon = True
        limit.start()

    threading.Thread(target=orphaned, daemon=True).start()

    class Reporter(event.Listener):
        def on_start(self, ev):
            pass

        def on_end(self, ev):
            if _is_linviz_kernel(ev):
                dispatcher = ev.data["dispatcher"]
                say(f"compiled {dispatcher.py_func.__module__}.{dispatcher.py_func.__qualname__}")

    event.register("numba:compile", Reporter())
    niced = False
    try:
        for part in parts:
            key = left[0]
            if key in OUTLIVING and not niced:
                niced = _give_way(OUTLIVING_NICENESS)
            start = time.perf_counter()
            _run_part(part)
            kernel_cache.mark_warm(key)
            left.pop(0)
            say(f"ready {time.perf_counter() - start:.3f}")
    except Exception as exc:
        say(f"error {type(exc).__name__}: {exc}")
        return 1
    return 0


def _give_way(steps: int) -> bool:
    """Lower this process's priority by ``steps`` nice steps (where the system has them)."""
    try:
        os.nice(steps)
    except (AttributeError, OSError):
        return False
    return True
