"""The real station behind its real web server, and Debian's Chromium driven by Playwright.

Each test gets a fresh station (``station serve`` in a subprocess, simulated scanner,
its own data folder and configuration file) and a browser context with touch
emulation at the viewport it asks for. Playwright's own browser downloads are never
used: the browser is Debian's ``chromium`` (``CHROMIUM`` overrides the path).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.screens import CHROMIUM, chromium_args
from tests.support.server import Server, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh station on the simulated scanner, stopped (SIGTERM) after the test."""
    with start_server(tmp_path) as running:
        yield running


@pytest.fixture
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, for tests that launch browsers of their own (a phone's)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt install chromium")
    with sync_api.sync_playwright() as running:
        yield running


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium (one per test: Playwright's threads end with it)."""
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args())
    try:
        yield launched
    finally:
        launched.close()
