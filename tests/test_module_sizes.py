"""No module grows into a monolith: a reader can hold one in their head (a module past this
size has more than one subject; split it by subject, as the HOG modules of features/ are)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "linviz"
MAX_LINES = 900


def test_no_module_is_over_900_lines():
    sizes = {path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for path in PACKAGE.rglob("*.py")}
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"
