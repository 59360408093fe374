"""The suite's own shape: tests mirror the code, and each tier stands on its own.

A test module imports shared helpers from ``tests.support`` only, never from another
test module, a conftest or another tier; unit tests start no station and serve no
web app (those are integration tests).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
TIERS = ("unit", "integration", "e2e")
#: What only an integration or end-to-end test may import: a whole station, its web app.
NOT_IN_UNIT = ("station.app.station", "station.ui.app", "tests.support.stations")


def _imports(path: Path) -> list[str]:
    """Modules ``path`` imports, relative imports spelled with their leading dots."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
    return found


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (TESTS / folder).rglob("*.py"))


def test_tests_share_helpers_through_tests_support_only() -> None:
    wrong = {
        f"{path.relative_to(TESTS)}: {name}"
        for path in _modules(*TIERS, "support")
        for name in _imports(path)
        if name.startswith(".")
        or (name.startswith("tests.") and not name.startswith("tests.support"))
    }
    assert not wrong, sorted(wrong)


def test_support_imports_no_test_module() -> None:
    wrong = [
        f"{path.name}: {name}"
        for path in _modules("support")
        for name in _imports(path)
        if name.startswith("tests.") and not name.startswith("tests.support.")
    ]
    assert not wrong, wrong


def test_unit_tests_start_no_station() -> None:
    wrong = [
        f"{path.name}: {name}"
        for path in _modules("unit")
        for name in _imports(path)
        if name.startswith(NOT_IN_UNIT)
    ]
    assert not wrong, wrong
