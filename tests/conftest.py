"""Test-wide set-up: headless Qt, a private cache, and the shared CIFAR-10 archive.

Environment variables are set at import time, before any QApplication or numba cache
lookup can happen.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the user's cache: one private folder per test session.
_SESSION_CACHE = tempfile.mkdtemp(prefix="linviz-test-cache-")
os.environ["LINVIZ_CACHE_DIR"] = _SESSION_CACHE
# The decoded shared archive alone is ~180 MB: never leave it behind in /tmp.
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)
# ... nor the user's data folder (the run history every training run is recorded in).
_SESSION_DATA = tempfile.mkdtemp(prefix="linviz-test-data-")
os.environ["LINVIZ_DATA_DIR"] = _SESSION_DATA
atexit.register(shutil.rmtree, _SESSION_DATA, ignore_errors=True)
# ... nor the user's window settings ($XDG_CONFIG_HOME/linviz/settings.json).
_SESSION_CONFIG = tempfile.mkdtemp(prefix="linviz-test-config-")
os.environ["XDG_CONFIG_HOME"] = _SESSION_CONFIG
atexit.register(shutil.rmtree, _SESSION_CONFIG, ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz"


# A test that hangs (a deadlock between the GUI and a worker thread, say) must fail CI in
# minutes with every thread's stack, not run into CI's time limit with no clue. faulthandler
# prints all threads and exits the process; far above the slowest test (about 60 s cold).
TEST_WATCHDOG_S = 600


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    import faulthandler
    import sys

    faulthandler.dump_traceback_later(TEST_WATCHDOG_S, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


# The fast tier for development, `pytest -m "not slow"`, leaves out the tests that build a whole
# window, read the real 60,000-image dataset or start a Python process of their own (CI and the
# README's command run everything). A test marks itself slow by the fixtures it asks for, so a
# new test lands in the right tier without anyone remembering to mark it.
SLOW_FIXTURES = frozenset({
    "make_window", "shared_cifar10", "shared_cifar10_archive", "run_python", "run_cli", "run_refusal",
    "worker_process",  # the training worker process (tests/workbench/worker)
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shared_cifar10_archive() -> Path:
    """The 60,000-image CIFAR-10 JPEG archive of this workplace; skip when absent."""
    if not SHARED_ARCHIVE.is_file():
        pytest.skip(f"shared dataset not found at {SHARED_ARCHIVE} (outside the workplace)")
    return SHARED_ARCHIVE


@pytest.fixture(scope="session")
def shared_cifar10(shared_cifar10_archive):
    """The shared archive loaded once per test session (decoded, then cached)."""
    from linviz.data import load_dataset

    return load_dataset(shared_cifar10_archive)


# --------------------------------------------------------------------------- hostile input

import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import threading  # noqa: E402


def _run_python(code: str, *, memory_gb: float = None, timeout: float = 60, env: dict = None, cwd=None):
    """Run ``code`` in a fresh interpreter, optionally under an address-space limit.

    A regression of a memory-bound item then fails the test (MemoryError, a killed child)
    instead of the machine, and one of a hang fails it through the timeout. BLAS and Numba
    run one thread each: their thread pools reserve address space too.
    """
    preamble = ""
    if memory_gb is not None:
        limit = int(memory_gb * 2**30)
        preamble = f"import resource\nresource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
    full_env = dict(os.environ, OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
                    PYTHONWARNINGS="")
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", preamble + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=cwd)


@pytest.fixture
def run_python():
    """``run_python(code, memory_gb=None, timeout=60, env=None)`` -> CompletedProcess."""
    return _run_python


@pytest.fixture
def run_cli(run_python):
    """``run_cli(*argv, memory_gb=None, timeout=60, env=None)``: ``python main.py ...`` in a subprocess."""

    def run(*argv, **kwargs):
        code = f"import sys\nfrom linviz.cli import main\nsys.exit(main({[str(a) for a in argv]!r}))\n"
        return run_python(code, **kwargs)

    return run


@pytest.fixture
def call_near_fifo():
    """``call_near_fifo(fifo, fn, *args)``: ``fn(*args)`` in a thread, failing instead of hanging.

    If the call is still blocked after 10 s (a FIFO opened for reading waits for a writer),
    the FIFO is opened for writing to release it, and the test fails.
    """

    def call(fifo, fn, *args, timeout: float = 10.0):
        outcome = {}

        def target():
            try:
                outcome["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            for _ in range(100):  # release the blocked reader: open the write end and close it
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass
                thread.join(0.05)
                if not thread.is_alive():
                    break
            pytest.fail(f"blocked on the FIFO {fifo} for {timeout} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return call


@pytest.fixture
def private_null_device(tmp_path):
    """A character device like /dev/null, in tmp_path: what a writer test may aim at.

    Never point a writer at the real /dev/null in a test: a regression, run as root,
    replaces the machine's /dev/null with a regular file.
    """
    import stat as stat_module

    path = tmp_path / "null-device"
    try:
        os.mknod(path, stat_module.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc})")
    return path


@pytest.fixture
def run_refusal(run_python):
    """``run_refusal(call, memory_gb=..., **kw)``: run ``call`` (code text, e.g. ``load_dataset(p)``)
    in a fresh interpreter under a memory limit; stdout is the LinvizError it raised."""

    def run(call: str, **kwargs):
        code = ("from linviz.errors import LinvizError\nfrom linviz.data import load_dataset\n"
                "from linviz.models import load_model\n"
                f"try:\n    {call}\nexcept LinvizError as exc:\n    print(exc)\n")
        return run_python(code, **kwargs)

    return run


class RepeatingDeflate:
    """A deflate compressor that ends every call with a full flush, so that equal blocks of
    zeros compress to equal bytes: computed once, repeated. The stream is valid deflate all
    the same: a gigabyte of zeros in a second instead of a minute (for decompression bombs)."""

    def __init__(self, wbits: int = -15):
        import zlib

        self._zlib = zlib
        self._compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
        self._done = {}

    def compress(self, data) -> bytes:
        data = bytes(data)
        key = (len(data), data[:64], data[-64:]) if data.count(0) == len(data) else None
        if key is not None and key in self._done:
            return self._done[key]
        out = self._compressor.compress(data) + self._compressor.flush(self._zlib.Z_FULL_FLUSH)
        if key is not None:
            self._done[key] = out
        return out

    def flush(self) -> bytes:
        return self._compressor.flush()


@pytest.fixture
def zip_bombs(monkeypatch):
    """``with zip_bombs(): zf.open(name, "w")`` deflates members with :class:`RepeatingDeflate`;
    ``zip_bombs.deflate()`` is one for a hand-made stream (a .gz)."""
    import contextlib
    import zipfile

    class Bombs:
        deflate = RepeatingDeflate

        @contextlib.contextmanager
        def __call__(self):
            with monkeypatch.context() as patch:
                patch.setattr(zipfile, "_get_compressor", lambda *args, **kwargs: RepeatingDeflate())
                yield

    return Bombs()
