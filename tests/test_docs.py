"""The documentation holds together: the README is a short front page that starts with the two
commands, every relative link and image in README.md and docs/ leads to a file (and heading)
in the repository, every file the docs name exists, and neither the README nor the code
narrates history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"

README_MAX_LINES = 200
TWO_COMMANDS = [
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python main.py",
    ('python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && '
     'QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest'),
]

# History belongs in git and docs/benchmarks.md, not in the README or the code.
HISTORY = re.compile(r"\bissue\s+#?\d+|\bfirst release\b|\bcommit [0-9a-f]{7,40}\b", re.IGNORECASE)

LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SRC = re.compile(r"""<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def markdown_pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def without_code(text: str) -> str:
    """The text with fenced code blocks and inline code blanked (links there are examples)."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"^(?: {4}|\t).*$", "", text, flags=re.MULTILINE)  # indented code blocks
    return re.sub(r"`[^`\n]*`", "", text)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text only
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in without_fences(page.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            anchor = github_anchor(match.group(1))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def without_fences(text: str) -> str:
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)


def relative_links(page: Path) -> list[str]:
    text = without_code(page.read_text(encoding="utf-8"))
    targets = LINK.findall(text) + HTML_SRC.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def test_the_readme_is_a_front_page_under_200_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines; the rest belongs in docs/"


def test_the_readme_starts_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    content = [line for line in lines if line.strip()]
    assert content[0].startswith("# "), "the title comes first"
    assert content[1].startswith("```"), "then, at once, the two commands in one code block"
    assert content[2:4] == TWO_COMMANDS
    assert content[4].strip() == "```"


def test_the_two_commands_match_the_project():
    """What the commands install and run exists: main.py, the [test] extra, and CI runs the same."""
    assert (REPO_ROOT / "main.py").is_file()
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^\[project\.optional-dependencies\][^\[]*^test\s*=", pyproject, re.MULTILINE | re.DOTALL)
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q -e ".[test]"' in ci and "pytest" in ci


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_and_image_resolves_inside_the_repository(page):
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if REPO_ROOT not in resolved.parents and resolved != REPO_ROOT:
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors_of(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(REPO_ROOT)}")
    assert not broken, f"{page.relative_to(REPO_ROOT)}: " + "; ".join(broken)


REPO_PATH = re.compile(r"`((?:linviz|tests|docs|resources|\.ci)/[^`\s]*)`")


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_file_the_docs_name_exists(page):
    """Paths written as code (`linviz/gui/labs/lab.py`) follow the files when they move;
    patterns such as `linviz/gui/labs/<name>.py` are not paths."""
    named = [p for p in REPO_PATH.findall(page.read_text(encoding="utf-8")) if not re.search(r"[<>*{}]|\.\.\.", p)]
    missing = [p for p in named if not (REPO_ROOT / p.rstrip("/")).exists()]
    assert not missing, f"{page.relative_to(REPO_ROOT)} names files that do not exist: {missing}"


def test_the_docs_point_at_no_files_outside_the_repository():
    for page in markdown_pages():
        assert "../shared/docs" not in page.read_text(encoding="utf-8"), page


def test_the_link_checker_sees_links_images_and_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A title\n\n## Second, part 2\n\n[a](other.md#x) ![b](pics/c.png) [c](#second-part-2)\n"
        "`[not](a-link.md)`\n\n```\n[not](either.md)\n```\n[web](https://example.org)\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["other.md#x", "pics/c.png", "#second-part-2"]
    assert anchors_of(page) == {"a-title", "second-part-2"}
    assert github_anchor("11. Never pickle.load a CIFAR-10 batch") == "11-never-pickleload-a-cifar-10-batch"
    assert github_anchor("`info`: what is in a source") == "info-what-is-in-a-source"


def history_lines(path: Path) -> list[str]:
    return [f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if HISTORY.search(line)]


def test_the_readme_does_not_narrate_history():
    assert not history_lines(README)


def test_the_code_does_not_narrate_history():
    found = []
    for path in sorted((REPO_ROOT / "linviz").rglob("*.py")):
        found += history_lines(path)
    assert not found, "comments say why, not when:\n" + "\n".join(found)


def test_the_history_pattern_catches_what_it_must():
    for text in ("before issue 13", "Issue 14: 100 classes", "the first release's code", "commit 6639415"):
        assert HISTORY.search(text), text
    for text in ("an issue with the file", "the first released weights", "committed to disk"):
        assert not HISTORY.search(text), text


def python_examples() -> list[tuple[str, str]]:
    """The ```python blocks meant to be run (interfaces.md lists signatures, not examples)."""
    return [(f"{page.relative_to(REPO_ROOT)}#{n}", block)
            for page in markdown_pages() if page.name != "interfaces.md"
            for n, block in enumerate(re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"),
                                                 re.MULTILINE | re.DOTALL), 1)]


@pytest.mark.parametrize("name, code", python_examples(), ids=[name for name, _ in python_examples()])
def test_the_python_examples_in_the_docs_run(name, code, capsys):
    exec(compile(code, name, "exec"), {"__name__": "__docs_example__"})


def test_every_screenshot_is_shown_or_linked_by_a_page():
    """No stale screenshot lingers: each file in docs/screenshots is used by the docs, and a
    view shot at one window size (NAME-WxH.png) is kept at all three."""
    shots = REPO_ROOT / "docs" / "screenshots"
    pages = [REPO_ROOT / "README.md"] + sorted((REPO_ROOT / "docs").glob("*.md"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    unused = [f.name for f in sorted(shots.glob("*.png")) if f"screenshots/{f.name}" not in text]
    assert not unused, f"screenshots no page uses: {unused}"
    import re

    views = {re.sub(r"-\d+x\d+$", "", f.stem) for f in shots.glob("*.png") if re.search(r"-\d+x\d+$", f.stem)}
    for view in sorted(views):
        sizes = {f.stem[len(view) + 1:] for f in shots.glob(f"{view}-*.png")}
        assert sizes == {"1024x700", "1366x768", "1920x1080"}, f"{view}: {sorted(sizes)}"
