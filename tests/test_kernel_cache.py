"""linviz's kernel cache (linviz.kernel_cache): one folder that works for every install, and
entries that go stale when a kernel's module, or a linviz module it imports, changes.

The recompile tests run kernels of a module written for the test in fresh processes, as a
user's runs would: the module lives in a temporary folder that the child adds to the
``linviz`` package (and takes for the package's folder), so nothing is written into the
checkout. ``$LINVIZ_KERNEL_LOG`` tells which kernels each process compiled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from linviz import kernel_cache

_CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import linviz
    from linviz import kernel_cache
    kernel_cache.PACKAGE_DIR = Path(sys.argv[1]).resolve()  # before any kernel is defined
    linviz.__path__.append(sys.argv[1])
    from linviz.cache_probe_kernels import add_offset
    print(add_offset(1.0))
""")


def _write(folder: Path, offset: str, helper_offset: str) -> None:
    (folder / "cache_probe_helper.py").write_text(
        "from linviz.numba_setup import kernel\n\n\n"
        f"@kernel(inner=True)\ndef helper_offset(x):\n    return x + {helper_offset}\n", encoding="utf-8")
    (folder / "cache_probe_kernels.py").write_text(
        "from linviz.cache_probe_helper import helper_offset\nfrom linviz.numba_setup import kernel\n\n\n"
        f"@kernel\ndef add_offset(x):\n    return helper_offset(x) + {offset}\n", encoding="utf-8")


def _run(folder: Path, cache: Path, log: Path) -> tuple[float, list[str]]:
    """One fresh process: the kernel's result and the probe kernels it compiled."""
    if log.exists():
        log.unlink()
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), LINVIZ_KERNEL_LOG=str(log))
    done = subprocess.run([sys.executable, "-c", _CHILD, str(folder)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    compiled = []
    if log.exists():
        compiled = [json.loads(line)["kernel"] for line in log.read_text(encoding="utf-8").splitlines()]
    return float(done.stdout.strip()), sorted(k.rsplit(".", 1)[-1] for k in compiled if "cache_probe" in k)


@pytest.mark.slow  # five processes of its own, each compiling
def test_kernels_load_from_the_cache_and_recompile_when_their_module_or_a_callee_changes(tmp_path):
    folder = tmp_path / "package"
    folder.mkdir()
    cache, log = tmp_path / "kernels", tmp_path / "compiles.jsonl"
    _write(folder, "10.0", "100.0")
    assert _run(folder, cache, log) == (111.0, ["add_offset", "helper_offset"])  # first run: compiled
    assert _run(folder, cache, log) == (111.0, [])  # second: loaded from the cache
    assert any(cache.rglob("cache_probe_kernels.add_offset-*.nbi"))  # in the one folder, named by module

    _write(folder, "20.0", "100.0")  # the kernel's own module changed
    assert _run(folder, cache, log) == (121.0, ["add_offset"])

    # only the callee's module changed: Numba's own stamp (the kernel's file) would serve
    # the old machine code, with helper_offset's old constant compiled into it
    _write(folder, "20.0", "200.0")
    value, compiled = _run(folder, cache, log)
    assert value == 221.0 and "add_offset" in compiled


_CACHED = (kernel_cache.module_stamp, kernel_cache._source, kernel_cache._imports_of, kernel_cache._module_file)


def _forget_stamps() -> None:
    for cached in _CACHED:
        cached.cache_clear()


@pytest.fixture
def package_in(tmp_path, monkeypatch):
    """``tmp_path`` taken for linviz's package folder, with stamps computed afresh."""
    monkeypatch.setattr(kernel_cache, "PACKAGE_DIR", tmp_path)
    _forget_stamps()
    yield tmp_path
    _forget_stamps()


def test_a_module_stamp_covers_the_linviz_modules_it_imports(package_in):
    (package_in / "a.py").write_text("from linviz.b import f\n", encoding="utf-8")
    (package_in / "b.py").write_text("import linviz.c\nf = 1\n", encoding="utf-8")
    (package_in / "c.py").write_text("g = 1\n", encoding="utf-8")
    (package_in / "unrelated.py").write_text("h = 1\n", encoding="utf-8")
    before = kernel_cache.module_stamp(package_in / "a.py")

    def stamp_after(name: str, text: str) -> str:
        (package_in / name).write_text(text, encoding="utf-8")
        _forget_stamps()
        return kernel_cache.module_stamp(package_in / "a.py")

    assert stamp_after("unrelated.py", "h = 2\n") == before
    assert stamp_after("c.py", "g = 2\n") != before  # imported through b: still covered


@pytest.fixture
def fresh_folder_choice():
    kernel_cache._folder_for.cache_clear()
    yield
    kernel_cache._folder_for.cache_clear()


def test_a_read_only_package_folder_keeps_its_kernels_in_the_users_cache_folder(tmp_path, monkeypatch,
                                                                             fresh_folder_choice):
    package = tmp_path / "site-packages" / "linviz"
    package.mkdir(parents=True)
    (package / "__pycache__").write_bytes(b"")  # no folder can be made there (as root too)
    monkeypatch.setattr(kernel_cache, "PACKAGE_DIR", package)
    monkeypatch.setattr(kernel_cache.config, "CACHE_DIR", "")
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "user-cache"))
    folder = kernel_cache.kernel_folder()
    assert folder is not None and folder.parent == tmp_path / "user-cache" / "kernels"
    assert folder.is_dir()


def test_numba_cache_dir_comes_first_with_a_folder_per_installed_copy(tmp_path, monkeypatch, fresh_folder_choice):
    monkeypatch.setattr(kernel_cache.config, "CACHE_DIR", str(tmp_path / "numba"))
    folder = kernel_cache.kernel_folder()
    assert folder == tmp_path / "numba" / kernel_cache._copy_id()


def test_a_kernel_that_cannot_be_cached_is_warned_about_not_a_crash():
    """Numba warns (with the kernel's file name) when a compiled kernel cannot be cached,
    for example when it uses lifted code; the locator must give it that name as text."""
    from types import SimpleNamespace

    from numba.core import caching
    from numba.core.errors import NumbaWarning

    from linviz.models import loss_kernels

    impl = caching.CompileResultCacheImpl(loss_kernels.loss_batch.py_func)
    assert isinstance(impl._locator, kernel_cache.KernelLocator)
    uncachable = SimpleNamespace(lifted=(), library=SimpleNamespace(has_dynamic_globals=True),
                                 fndesc=SimpleNamespace(qualname="loss_batch"))
    with pytest.warns(NumbaWarning, match="Cannot cache compiled function"):
        assert not impl.check_cachable(uncachable)
