"""The real station behind its real web server, and Debian's Chromium driven by Playwright.

Each test gets a fresh station (``station serve`` in a subprocess, simulated scanner,
its own data folder and configuration file) and a browser context with touch
emulation at the viewport it asks for. Playwright's own browser downloads are never
used: the browser is Debian's ``chromium`` (``CHROMIUM`` overrides the path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..ports import free_port, wait_for_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
#: Where the run leaves a screenshot of every screen at every size (gitignored).
SCREENSHOTS = ROOT / "build" / "screenshots"
#: The two screen sizes of the stations in the field (7 and 10 inch).
SMALL = {"width": 800, "height": 480}
LARGE = {"width": 1280, "height": 800}


@dataclass
class Server:
    """A running station: its address, data folder and process."""

    url: str
    data_dir: Path
    config: Path
    process: subprocess.Popen[bytes]

    def published(self) -> list[Path]:
        """Every published PDF (not the kept earlier versions)."""
        root = self.data_dir / "published"
        return sorted(p for p in root.rglob("*.pdf") if "_versions" not in p.parts)


def station_env(data_dir: Path, config: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    env.update(
        STATION_DATA_DIR=str(data_dir),
        # Settings the wizard saves go here, never to /etc.
        STATION_CONFIG=str(config),
        STATION__WEB__PORT=str(port),
        # The simulator is chosen explicitly: an installed station has no device.
        STATION__CAPTURE__DEVICE="simulated",
        STATION__CAPTURE__DPI="150",
        # Clean ink: the overview then shows done cells beside the ones flagged here.
        STATION__CAPTURE__SIMULATED__FADED_PROBABILITY="0",
        STATION__STORAGE__RESERVE_MB="50",
        STATION__STORAGE__WARN_MB="50",
        STATION__LAN__ENABLED="false",
        STATION__USB__ENABLED="false",
    )
    return env


@contextlib.contextmanager
def start_server(tmp_path: Path, config_text: str = "", **env: str) -> Iterator[Server]:
    """``station serve`` on a free port until SIGTERM, with ``config_text`` as its
    station.toml; ``env`` adds settings."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)  # a test may have put a database there first
    config = tmp_path / "station.toml"
    config.write_text(config_text, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "serve"],
        env={**station_env(data_dir, config, port), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield Server(f"http://127.0.0.1:{port}", data_dir, config, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
        if process.stdout:
            process.stdout.close()
    # Nothing of ours logged an error (a bug in a request is logged with its traceback);
    # waitress itself may log a race of its own when SIGTERM meets a finishing request.
    assert " ERROR station." not in output, output
    assert process.returncode == 0, f"station exited with {process.returncode}:\n{output}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh station on the simulated scanner, stopped (SIGTERM) after the test."""
    with start_server(tmp_path) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (one per test: Playwright's threads end with it)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt install chromium")
    with sync_api.sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # root has no user namespace
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield launched
        finally:
            launched.close()


#: Counts every tap, click and key press the page receives (window.__presses).
COUNT_PRESSES = """
window.__presses = 0;
for (const kind of ["pointerdown", "keydown"]) {
  document.addEventListener(kind, (event) => {
    if (!event.repeat && (kind === "keydown" || event.isPrimary)) { window.__presses += 1; }
  }, true);
}
"""


def new_context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    """A touch screen of ``viewport`` size, as the kiosk's Chromium sees it."""
    context = browser.new_context(
        viewport=viewport,
        has_touch=True,
        is_mobile=False,  # the kiosk is a desktop browser on a touch screen
        locale="vi-VN",
        device_scale_factor=1,
    )
    context.add_init_script(COUNT_PRESSES)
    context.set_default_timeout(20_000)
    return context


class Shots:
    """Screenshots of each screen into build/screenshots/<width>x<height>/."""

    def __init__(self, viewport: dict[str, int], name: str = "") -> None:
        self.folder = SCREENSHOTS / (name or f"{viewport['width']}x{viewport['height']}")
        shutil.rmtree(self.folder, ignore_errors=True)  # one run's set, no leftovers
        self.count = 0

    def take(self, page: Page, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        return path
