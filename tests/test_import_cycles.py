"""No import cycles among linviz's modules.

Read statically (ast, nothing is imported): the imports a module makes when it is imported,
at module level, in class bodies and in ``if`` / ``try`` / ``with`` blocks there, but not the
ones inside functions (they run later, once everything is loaded) nor those under ``if
TYPE_CHECKING:``. ``from package import name`` counts as importing the submodule
``package.name`` when there is one, else the package. Importing ``a.b.c`` implicitly runs
``a/__init__`` and ``a/b/__init__`` too, but Python handles a package whose submodule is
imported while the package initializes, so those implicit edges are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "linviz"

def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_time_statements(body: list[ast.stmt]):
    """The import statements that run when a module with this body is imported."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_statements(node.body)
            yield from _import_time_statements(node.orelse)
        elif isinstance(node, ast.ClassDef):
            yield from _import_time_statements(node.body)
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _import_time_statements(block)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.While)):
            yield from _import_time_statements(node.body)


def _imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The linviz modules ``module`` imports at import time."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _import_time_statements(tree.body):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(base + ([node.module] if node.module else []))
        else:
            base = node.module
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            targets.add(submodule if submodule in known else base)
    return {t for t in targets if t in known}


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {module: _imports_of(module, path, known) for module, path in known.items()}


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on deep graphs)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or through others (a module
    importing itself too)."""
    return [c for c in strongly_connected_components(graph) if len(c) > 1 or c[0] in graph[c[0]]]


def _one_loop(graph: dict[str, set[str]], component: list[str]) -> str:
    """A readable path around one loop of a cycle: a -> b -> ... -> a."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}
    node = start
    while True:
        nxt = sorted(graph[node] & members)
        closing = [n for n in nxt if n == start]
        if closing and len(path) > 1 or (closing and node == start and len(component) == 1):
            return " -> ".join(path + [start])
        fresh = [n for n in nxt if n not in seen]
        if not fresh:
            return " -> ".join(path + [nxt[0]])
        node = fresh[0]
        path.append(node)
        seen.add(node)


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(_one_loop(graph, c) for c in found)


def test_the_checker_finds_cycles_and_reads_only_import_time_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["e"]]
    assert _one_loop(graph, ["a", "b", "c"]) == "a -> b -> c -> a"
    source = tmp_path / "train.py"
    source.write_text("from linviz.cli import common\nfrom linviz.errors import LinvizError\nfrom . import knn\n"
                      "import linviz.text\ntry:\n    import linviz.paths\nexcept ImportError:\n    pass\n"
                      "def later():\n    from linviz.bench import run\n"
                      "if TYPE_CHECKING:\n    from linviz.gui import app\n")
    known = dict.fromkeys(["linviz.cli", "linviz.cli.common", "linviz.cli.knn", "linviz.cli.train", "linviz.errors",
                           "linviz.text", "linviz.paths", "linviz.bench", "linviz.gui", "linviz.gui.app"])
    assert _imports_of("linviz.cli.train", source, known) == {
        "linviz.cli.common", "linviz.errors", "linviz.cli.knn", "linviz.text", "linviz.paths"}


def _every_import(path: Path) -> set[str]:
    """Every module ``path`` names in an import, functions included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_bench_never_imports_cli_and_cli_needs_only_bench_run():
    for module, path in _modules().items():
        names = _every_import(path)
        if module.startswith("linviz.bench"):
            assert not any(n.startswith("linviz.cli") for n in names), (module, names)
        elif module.startswith("linviz.cli"):
            assert {n for n in names if n.startswith("linviz.bench")} <= {"linviz.bench.run"}, (module, names)
