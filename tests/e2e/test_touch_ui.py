"""A scanning shift on the touch screen, end to end, at both screen sizes.

The real station (``station serve`` on the simulated ledger scanner) behind waitress,
Debian's Chromium with touch emulation: first-boot wizard, sign in, create a book,
capture three pages at one press each, move a cut line and renumber an entry, accept,
then find the PDFs on disk and in the book overview. Every screen is photographed
into build/screenshots/<size>/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest

from tests.support.http_client import Client
from tests.support.screens import LARGE, SMALL, Shots, new_context
from tests.support.server import Server

pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")

from playwright.sync_api import Browser, CDPSession, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.support.touch import CUT_KNOB, Touch, touch_drag

#: Fetches a path in the page, so with its session, and answers the JSON as text.
FETCH_JSON = """async (path) => {
    const answer = await fetch(path, {headers: {Accept: "application/json"}});
    return JSON.stringify(await answer.json());
}"""
#: What the on-screen keyboard makes of Telex keystrokes.
TELEX = {
    "Nguyeenx": "Nguyễn",
    "Thij": "Thị",
    "hoaf": "hòa",
    "thuyr": "thủy",
    "nguwowif": "người",
    "dduwowngf": "đường",
    "Quyeenf": "Quyền",
    "gias": "giá",
    "tuaans": "tuấn",
    "Vieetj": "Việt",
    "khais": "khái",
    "ass": "as",
}
#: The main screen shows a page other than ``before``, accepted, and no capture runs.
NEW_PAGE_ACCEPTED = """(before) => {
    const s = document.getElementById("scan").dataset;
    return s.lastPage && s.lastPage !== before && s.captureRunning === "false"
        && s.lastStatus === "accepted";
}"""
#: A 40-character name, as long as common Vietnamese names get: it must wrap in its
#: button, never spill over a neighbour's (every screenshot checks for overflow).
LONG_NAME = "Nguyễn Thị Thanh Hương Trần Phạm Minh Kh"
LONG_NAME_TELEX = "nguyeenx thij thanh huwowng traanf phamj minh kh"
ADMIN_PIN = "2580"
OPERATOR_PIN = "1357"
BOOK = "KS-2007-01"
FOLDER = "KS/2007.01"


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [SMALL, LARGE], ids=["800x480", "1280x800"])
def test_a_shift_captures_reviews_and_publishes(
    server: Server, browser: Browser, viewport: dict[str, int]
) -> None:
    context = new_context(browser, viewport)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        ui = Touch(page, server.url, Shots(viewport))

        ui.first_boot(ADMIN_PIN)
        typed = page.evaluate("(words) => words.map(Station.telex)", list(TELEX))
        assert typed == list(TELEX.values())
        assert len(LONG_NAME) == 40
        ui.add_operator(LONG_NAME_TELEX, LONG_NAME, OPERATOR_PIN)
        ui.create_book("KS", "2007", "1", "stacked")
        numbers = capture_three_pages(ui)
        moved, renumbered = review_last_page(ui, context.new_cdp_session(page), numbers)
        check_published(ui, server, numbers, renumbered)
        visit_the_other_screens(ui)
        assert not errors, errors
        assert moved
    finally:
        context.close()


def capture_three_pages(ui: Touch) -> list[str]:
    """Three pages at one press each (a tap, a tap, the pedal's key); each confident
    page is accepted with nothing more to do. Returns every entry number captured."""
    page = ui.page
    ui.shot("scan-ready")
    page.wait_for_function("document.body.dataset.live === 'sse'")  # live updates on
    numbers: list[str] = []
    for press in ("tap", "tap", "pedal"):
        before = ui.dataset("#scan").get("lastPage", "")
        presses = ui.presses()
        if press == "tap":
            ui.tap("#capture")
        else:
            page.keyboard.press("PageDown")  # a foot pedal types PageDown
        page.wait_for_function(NEW_PAGE_ACCEPTED, arg=before)
        assert ui.presses() - presses == 1, "a confident page costs one press"
        assert page.url.endswith("/scan")
        state = api(ui, "/api/ui/state")
        assert state["last_page"]["auto_accepted"] is True
        numbers += [e["number"] for e in state["last_page"]["entries"]]
    ui.image_loaded("#thumb img")
    ui.shot("scan-three-pages")
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
    return numbers


def select_entry(page: Page, labels: Locator, index: int) -> str:
    """Tap entry ``index``'s label until the editor shows it; returns its number.

    The frame is redrawn once a drag settles: a tap landing on a label that is being
    replaced selects nothing, as a finger's would, and the operator taps again.
    """
    for _ in range(3):
        labels.nth(index).tap()
        try:
            page.wait_for_function(
                "i => { const l = document.querySelector('#frame .label.selected');"
                " return l && l.dataset.entry === String(i)"
                " && document.getElementById('number').textContent.trim() !== ''; }",
                arg=index,
                timeout=3000,
            )
        except PlaywrightTimeoutError:
            continue
        return page.inner_text("#number")
    raise AssertionError(f"tapping entry {index}'s label never selected it")


def review_last_page(ui: Touch, cdp: CDPSession, numbers: list[str]) -> tuple[bool, str]:
    """Drag the first cut line down by touch, give the page's last entry a higher
    number on the keypad, flag the first one torn, accept. Returns (moved, new number)."""
    page = ui.page
    ui.tap_and_load("#review-last", "**/review/**")
    ui.page.wait_for_function("document.getElementById('review').dataset.ready === '1'")
    ui.shot("review")
    view = api(ui, page.eval_on_selector("#review", "e => e.dataset.pageUrl"))
    first_bottom = view["entries"][0]["box"][3]

    knob = page.wait_for_function(CUT_KNOB).json_value()
    touch_drag(cdp, knob["x"], knob["y"], knob["x"], knob["y"] + 25)
    moved_to = int(page.locator(".handle.cut.h").first.get_attribute("aria-valuenow") or 0)

    labels = page.locator("#frame .label")
    # The station's own flags on an entry (faded ink...) are each explained.
    operator_flags = page.eval_on_selector_all(
        "#flags [data-flag]", "b => b.map(x => x.dataset.flag)"
    )
    own = [[f for f in e["flags"] if f not in operator_flags] for e in view["entries"]]
    flagged = next((i for i, flags in enumerate(own) if flags), None)
    assert flagged is not None, "the simulated page has no flagged entry to explain"
    select_entry(page, labels, flagged)
    explained = page.eval_on_selector_all(
        "#entry-flags li", "items => items.map(i => [i.dataset.flag, !!i.querySelector('span')])"
    )
    assert explained == [[flag, True] for flag in own[flagged]]
    last = select_entry(page, labels, labels.count() - 1)
    renumbered = str(int(last) + 2)  # leaves a gap: the overview shows it missing
    ui.tap("#number")
    ui.field_in_sight("number-input")  # the renumbering's field, above its keypad
    ui.keypad(renumbered)
    ui.tap("#number-dialog [data-key=ok]")
    # A number past the book's next one moves it: said, and asked, before it is taken.
    page.wait_for_selector("#number-confirm", state="visible")
    assert f"sẽ là {int(renumbered) + 1}" in page.inner_text("#number-note")
    ui.shot("review-renumber-asks")
    ui.tap("#number-confirm")
    page.wait_for_selector("#number-dialog", state="hidden")
    assert page.inner_text("#number") == renumbered
    labels.first.tap()
    ui.tap("#flags [data-flag=torn]")
    ui.shot("review-edited")
    with page.expect_navigation(url="**/scan"):
        ui.tap("#accept")
    ui.ready()

    after = api(ui, view["review"].replace("/review/", "/api/ui/pages/"))
    assert [e["number"] for e in after["entries"]][-1] == renumbered
    assert "torn" in after["entries"][0]["flags"]
    moved = after["entries"][0]["box"][3] != first_bottom and moved_to != first_bottom
    return moved, renumbered


def check_published(ui: Touch, server: Server, numbers: list[str], renumbered: str) -> None:
    """One PDF per entry under the preset's names, and the same in the overview."""
    expected = set(numbers[:-1]) | {renumbered}
    names = {p.relative_to(server.data_dir / "published").as_posix() for p in server.published()}
    assert names == {f"{FOLDER}/KS.2007.01.{n}.pdf" for n in expected}
    for path in server.published():
        assert path.read_bytes().startswith(b"%PDF-")
        assert path.stat().st_size <= 100 * 1000

    ui.tap_and_load("[data-nav=overview]", f"**/books/{BOOK}/overview")
    ui.shot("overview")
    cells = ui.page.eval_on_selector_all(
        "#cells .cell", "cells => cells.map(c => [c.dataset.number, c.dataset.state])"
    )
    states = dict(cells)
    assert {n for n, s in states.items() if s in ("done", "flagged")} == expected
    assert states[numbers[-1]] == "missing"  # the number given away by the renumbering
    assert "flagged" in states.values()

    ui.tap_and_load(f"#cells [data-number='{renumbered}']", "**/entries/**")
    ui.image_loaded("#pdf-page")
    ui.shot("entry")
    pdf = ui.page.get_attribute("#pdf", "data-pdf") or ""
    with urllib.request.urlopen(server.url + pdf, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.read().startswith(b"%PDF-")
    # The PDF opens inside the screens, drawn by the station, with a way back.
    ui.tap_and_load("#open-pdf", "**/entries/**/view")
    ui.image_loaded("#pdf-image")
    assert ui.page.inner_text("#pdf-back").strip().endswith("Quay lại")
    ui.shot("pdf-viewer")
    ui.tap_and_load("#pdf-back", "**/entries/*")


def visit_the_other_screens(ui: Touch) -> None:
    """Books, progress and handover, English, admin: each one photographed."""
    page = ui.page
    ui.tap_and_load("[data-nav=books]", "**/books")
    ui.shot("books")
    # The plain pages: the status page, the phone upload, an error.
    for path, name in (("/status", "status"), ("/upload", "upload"), ("/entries/nope", "error")):
        ui.visit(path)
        ui.shot(name)
        if name != "error":
            assert "Sổ Khai sinh năm 2007, quyển số 1" in page.inner_text("#current-book")
    ui.go("/books")
    ui.tap_and_load("[data-nav=scan]", "**/scan")
    ui.tap_and_load("#phone-open", "**/phone")  # here the web server is on loopback only
    ui.shot("phone")
    ui.tap_and_load("[data-nav=scan]", "**/scan")
    ui.tap_and_load("#lang-toggle", "**/scan?lang=en")
    assert "Capture one page" in page.inner_text("#capture")
    ui.shot("scan-english")
    ui.tap_and_load("#lang-toggle", "**/scan?lang=vi")
    assert "Quét một trang" in page.inner_text("#capture")

    ui.tap_and_load("[data-nav=admin]", "**/admin/login**")
    ui.shot("admin-login")
    ui.keypad(ADMIN_PIN)
    ui.tap_and_load("[data-key=ok]", "**/admin/")
    ui.shot("admin-settings")
    for tab in ("storage", "devices", "pairing", "pin"):
        ui.tap_and_load(f"[data-tab={tab}]", f"**/admin/{tab}")
        if tab == "devices":
            ui.tap_and_load("#run-doctor", "**/admin/devices?check=1")
            assert page.locator("#findings li").count() > 0
        ui.shot(f"admin-{tab}")

    ui.tap_and_load("[data-nav=progress]", "**/progress")
    figures = {
        name: page.inner_text(f"#{name} strong") for name in ("today", "this-shift", "this-book")
    }
    assert all(re.fullmatch(r"\d+", value) and int(value) > 0 for value in figures.values())
    page.fill("#note", "Sổ KS 2007/01: đã quét 3 trang.")
    ui.shot("progress")
    ui.tap_and_load("#end-shift-button", "**/shift")
    assert "đã quét 3 trang" in page.inner_text("#handover")
    ui.shot("shift-handover")
    ui.tap_and_load("[data-operator]", "**/shift/pin/**")
    ui.shot("shift-pin")
    ui.keypad(OPERATOR_PIN)
    ui.tap_and_load("[data-key=ok]", "**/books/confirm")  # the book is checked first
    ui.confirm_book("Khai sinh|2007|1")


def api(ui: Touch, path: str) -> Any:
    """A JSON answer fetched in the page (its session)."""
    return json.loads(ui.page.evaluate(FETCH_JSON, path))


@pytest.mark.slow
def test_without_live_events_the_main_screen_polls(server: Server, browser: Browser) -> None:
    """A browser without a stream (the station refused it, or none exists) still sees
    each capture, by polling /status.json."""
    Client(server.url).set_up(OPERATOR_PIN, "Phạm Văn Đức", book="2008/1", profile="page-1")
    context = new_context(browser, SMALL)
    try:
        context.add_init_script("delete window.EventSource;")
        page = context.new_page()
        ui = Touch(page, server.url, Shots({"width": 800, "height": 480}, "polling"))
        ui.go("/")
        assert page.url.endswith("/scan")
        page.wait_for_function("document.body.dataset.live === 'poll'")
        ui.tap("#capture")
        page.wait_for_function(NEW_PAGE_ACCEPTED, arg="")
        assert len(server.published()) == 1  # page-1: one entry per page
    finally:
        context.close()


@pytest.mark.slow
def test_the_on_screen_keyboard_never_hides_the_field(server: Server, browser: Browser) -> None:
    """At 800x480 every text field of every screen that has one, tapped, stays in sight
    and above the on-screen keyboard, also when an error message pushed it down."""
    Client(server.url).set_up(OPERATOR_PIN, LONG_NAME, book="2007/1", profile="stacked")
    context = new_context(browser, SMALL)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        ui = Touch(page, server.url, Shots(SMALL, "keyboard"))
        seen: dict[str, list[str]] = {}

        ui.go("/shift/new")
        seen["shift-new"] = ui.every_field_in_sight("shift-new")
        ui.tap("#name")
        ui.type_on_screen("an")
        assert "Telex" in page.inner_text("#osk-hint")
        ui.shot("keyboard-name")
        ui.tap("#osk [data-osk-key=done]")
        for field, digits in (("#pin", "1234"), ("#pin2", "5678")):
            ui.tap(field)
            ui.keypad(digits)
        with page.expect_navigation():
            ui.tap("#new-operator button[type=submit]")
        ui.ready()
        assert page.locator("#form-error").is_visible()  # the PINs differ
        seen["shift-new-error"] = ui.every_field_in_sight("shift-new-error")

        ui.go("/shift")
        ui.tap_and_load("[data-operator]", "**/shift/pin/**")
        seen["shift-pin"] = ui.every_field_in_sight("shift-pin")

        ui.go("/progress")
        seen["progress"] = ui.every_field_in_sight("progress")
        ui.tap("#note")
        ui.type_on_screen("ghi chus: 1/2;")
        assert page.input_value("#note") == "Ghi chú: 1/2;"
        ui.shot("keyboard-handover-note")
        ui.tap("#osk [data-osk-key=done]")

        ui.go("/books/new")
        seen["book-new"] = ui.every_field_in_sight("book-new")
        ui.tap("#create-book")  # no year: the browser's complaint, in Vietnamese
        message = page.eval_on_selector("#year", "e => e.validationMessage")
        assert message == "Hãy điền ô “Năm mở sổ”.", message
        ui.tap("#year")
        ui.keypad("99")
        with page.expect_navigation():
            ui.tap("#create-book")  # refused by the station: the message pushes fields down
        ui.ready()
        assert "Năm mở sổ" in page.inner_text("#form-error")
        seen["book-new-error"] = ui.every_field_in_sight("book-new-error")
        ui.tap("#office")
        ui.shot("keyboard-book-new-error")
        ui.tap("#osk [data-osk-key=done]")

        ui.go("/admin/login")
        seen["admin-login"] = ui.every_field_in_sight("admin-login")
        ui.keypad(OPERATOR_PIN)  # set_up gives the admin the same PIN
        ui.tap_and_load("[data-key=ok]", "**/admin/")
        seen["admin-settings"] = ui.every_field_in_sight("admin-settings")
        ui.tap_and_load("[data-tab=pin]", "**/admin/pin")
        seen["admin-pin"] = ui.every_field_in_sight("admin-pin")
        ui.go("/setup/?step=station")
        seen["setup-station"] = ui.every_field_in_sight("setup-station")

        assert {"name", "pin", "pin2"} <= set(seen["shift-new-error"])
        assert {"year", "book", "code_other", "office"} <= set(seen["book-new-error"])
        assert {"old-pin", "new-pin", "new-pin2"} <= set(seen["admin-pin"])
        assert "note" in seen["progress"]
        assert not errors, errors
    finally:
        context.close()
