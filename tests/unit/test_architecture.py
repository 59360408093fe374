"""The shape of the code: no import cycles, no first-party imports hidden in functions.

The layers themselves (which package may import which) are import-linter's contract in
pyproject.toml, run by ``lint-imports`` in the test command; this checks what that
contract cannot: cycles inside a layer, and imports moved into functions to dodge one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "station"


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        work = [(node, iter(sorted(graph[node])))]
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        while work:
            current, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[current] = min(low[current], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[current])
            if low[current] == index[current]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == current:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_the_station_is_in_an_import_cycle() -> None:
    imports = grimp.build_graph("station")
    graph = {
        module: {
            imported
            for imported in imports.find_modules_directly_imported_by(module)
            if imported.startswith("station.") and imported != module
        }
        for module in imports.modules
        if module.startswith("station")
    }
    assert _strongly_connected(graph) == []


def _function_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            module = ""
            if isinstance(inner, ast.ImportFrom):
                module = inner.module or ""
            elif isinstance(inner, ast.Import):
                module = inner.names[0].name
            if module == "station" or module.startswith("station."):
                found.append(f"{path.relative_to(ROOT)}:{inner.lineno} {module}")
    return found


def test_no_first_party_import_is_hidden_in_a_function() -> None:
    hidden = [
        line for path in sorted(PACKAGE.rglob("*.py")) for line in _function_level_imports(path)
    ]
    assert hidden == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    ring = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _strongly_connected(ring) == [["a", "b", "c"]]
