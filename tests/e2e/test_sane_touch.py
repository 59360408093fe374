"""A SANE scanner driven from the touch screen: the real SANE ``test`` backend (private
SANE_CONFIG_DIR) behind ``station serve``, Debian's Chromium at 800x480 with touch.

The station is set up on the touch screen (its wizard's test capture is a SANE scan),
a tap captures a page, its entries appear on the review screen; then the scanner goes
away and its banner says what to do, and the banner's Connect button finds it again.
The test backend draws a grid, not a ledger, so its page waits for review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sane")
pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")

from playwright.sync_api import Browser

from station.core import messages
from tests.support.sane_backend import write_sane_config
from tests.support.screens import SMALL, Shots, new_context
from tests.support.server import start_server
from tests.support.touch import NEW_PAGE, Touch

ADMIN_PIN = "2580"
OPERATOR_PIN = "1357"
#: What the touch screen's own script sends to look for the device again.
CHECK_DEVICE = """async () => {
    const answer = await fetch("/device/connect", {method: "POST", headers: {
        Accept: "application/json", "X-CSRF-Token": document.body.dataset.csrf}});
    return answer.status;
}"""


@pytest.mark.slow
def test_a_sane_scanner_captures_from_the_touch_screen(tmp_path: Path, browser: Browser) -> None:
    sane = write_sane_config(tmp_path / "sane")
    env = {
        "SANE_CONFIG_DIR": str(sane),
        "STATION__CAPTURE__DEVICE": "sane",
        "STATION__CAPTURE__SANE__AREA": "A4",
        "STATION__CAPTURE__SANE__MODE": "gray",
    }
    with start_server(tmp_path, "", **env) as server:
        context = new_context(browser, SMALL)
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            ui = Touch(page, server.url, Shots(SMALL, "sane-800x480"))
            ui.first_boot(ADMIN_PIN)  # its test capture is a SANE scan
            ui.add_operator("nguyeenx thij lan", "Nguyễn Thị Lan", OPERATOR_PIN)
            ui.create_book("KS", "2007", "1", "page-1")
            assert ui.dataset("#device-pill") is not None
            assert "state-idle" in (page.get_attribute("#device-pill", "class") or "")

            before = ui.dataset("#scan").get("lastPage", "")
            ui.tap("#capture")
            page.wait_for_function(NEW_PAGE, arg=before)
            ui.image_loaded("#thumb img")
            ui.shot("sane-scanned")
            assert not page.is_visible("#banner")

            ui.tap_and_load("#review-last", "**/review/**")
            page.wait_for_function("document.getElementById('review').dataset.ready === '1'")
            assert page.locator("#frame .label").count() >= 1  # its entries, for review
            ui.shot("sane-review")
            ui.tap_and_load("[data-nav=scan]", "**/scan")

            # The scanner goes away (the USB watcher asks the station to look again on
            # an unplug; here the screen's own request does).
            (sane / "dll.conf").write_text("", encoding="ascii")
            assert page.evaluate(CHECK_DEVICE) == 200
            banner = page.locator("#banner")
            banner.wait_for(state="visible")
            assert messages.render("sane.no_devices", "vi") in banner.inner_text()
            page.wait_for_function(
                "t => document.getElementById('status-line').textContent === t",
                arg=messages.render("ui.device_not_ready", "vi"),
            )
            assert "state-offline" in (page.get_attribute("#device-pill", "class") or "")
            ui.shot("sane-unplugged")

            (sane / "dll.conf").write_text("test\n", encoding="ascii")  # plugged back in
            ui.tap("#banner-action")
            banner.wait_for(state="hidden")
            page.wait_for_function(
                "() => document.getElementById('device-pill').className.includes('state-idle')"
            )
            before = ui.dataset("#scan").get("lastPage", "")
            ui.tap("#capture")
            page.wait_for_function(NEW_PAGE, arg=before)
            assert not errors, errors
        finally:
            context.close()
    captures = sorted((server.data_dir / "captures" / "KS-2007-01").glob("c*.tif"))
    assert len(captures) == 2
