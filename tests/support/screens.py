"""The kiosk's touch screen as a Playwright browser context, and screenshots of each screen."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
#: Debian's Chromium (Playwright's own browser downloads are never used).
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
#: Where the run leaves a screenshot of every screen at every size (gitignored).
SCREENSHOTS = ROOT / "build" / "screenshots"
#: The two screen sizes of the stations in the field (7 and 10 inch).
SMALL = {"width": 800, "height": 480}
LARGE = {"width": 1280, "height": 800}


#: Counts every tap, click and key press the page receives (window.__presses).
COUNT_PRESSES = """
window.__presses = 0;
for (const kind of ["pointerdown", "keydown"]) {
  document.addEventListener(kind, (event) => {
    if (!event.repeat && (kind === "keydown" || event.isPrimary)) { window.__presses += 1; }
  }, true);
}
"""


def chromium_args() -> list[str]:
    """Chromium's arguments: root has no user namespace for its sandbox."""
    return ["--no-sandbox"] if os.geteuid() == 0 else []


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
