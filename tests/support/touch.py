"""Driving the touch screens as an operator does: taps on a touch screen, keypad PINs.

Every wait is on something the screen shows (a URL, a data attribute the screen's
script sets, an element), never a fixed sleep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import CDPSession, Page

from tests.support.screens import Shots

#: What a screen's script sets once it has drawn itself.
READY = "document.body.dataset.ready === '1'"
#: The main screen shows a page other than ``before`` and no capture runs.
NEW_PAGE = """(before) => {
    const s = document.getElementById("scan").dataset;
    return s.lastPage && s.lastPage !== before && s.captureRunning === "false";
}"""
#: The middle of the first cut line's knob, once it is drawn.
CUT_KNOB = """() => {
    const knob = document.querySelector(".handle.cut.h > i");
    if (!knob) { return null; }
    const box = knob.getBoundingClientRect();
    return box.width ? {x: box.left + box.width / 2, y: box.top + box.height / 2} : null;
}"""
#: An image that has arrived and decoded.
LOADED = "(selector) => (document.querySelector(selector) || {}).naturalWidth > 0"
#: The passing notice hidden (it goes by itself after a few seconds), nothing focused.
QUIET = """() => {
    const notice = document.getElementById("flash");
    if (notice) { notice.hidden = true; }
    if (document.activeElement && document.activeElement.tagName === "BUTTON") {
        document.activeElement.blur();
    }
}"""


#: Visible things a finger can use that are smaller than 48 x 48 CSS pixels. A radio
#: button or check box counts by its label, which is what the finger taps.
SMALL_TARGETS = """() => {
    const small = [];
    const seen = new Set();
    for (let node of document.querySelectorAll(
            "button, a[href], input, select, textarea, [role=slider], summary")) {
        if (node.type === "hidden") { continue; }
        if (node.type === "radio" || node.type === "checkbox") {
            node = node.closest("label") || node;
        }
        if (seen.has(node)) { continue; }
        seen.add(node);
        const box = node.getBoundingClientRect();
        const style = getComputedStyle(node);
        if (!box.width || !box.height || style.visibility === "hidden") { continue; }
        if (box.width < 47.5 || box.height < 47.5) {
            const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
            small.push(`${node.tagName}#${node.id}.${node.className} ${size}`);
        }
    }
    return small;
}"""


#: Elements whose content spills out of their box or past the window's right edge: a
#: name wider than its button lets a finger meant for it land on the next one. A box
#: counts when it clips its content or holds words of its own (an overlay drawn past
#: the edge of a picture's frame is neither). Boxes
#: that scroll on purpose (the bar's links) and text cut short with an ellipsis on
#: purpose (the device pill) are left out, as are form fields (their text scrolls).
OVERFLOWING = """() => {
    const out = [];
    const width = document.documentElement.clientWidth;
    const scrolls = (style) => ["auto", "scroll"].includes(style.overflowX);
    const inScroller = (node) => {
        for (let up = node.parentElement; up; up = up.parentElement) {
            if (up === document.body) { return false; }
            if (scrolls(getComputedStyle(up))) { return true; }
        }
        return false;
    };
    for (const node of document.body.querySelectorAll("*")) {
        if (!(node instanceof HTMLElement) || ["SCRIPT", "STYLE"].includes(node.tagName)) {
            continue;
        }
        const style = getComputedStyle(node);
        const box = node.getBoundingClientRect();
        if (!box.width || !box.height || style.visibility === "hidden"
                || style.position === "fixed" && node.closest(".toast")) { continue; }
        const name = `${node.tagName}#${node.id}.${node.className}`;
        if (box.right > width + 0.5 && !inScroller(node)) {
            out.push(`${name} reaches x=${Math.round(box.right)} > ${width}`);
            continue;
        }
        if (["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName) || scrolls(style)
                || style.textOverflow === "ellipsis" || style.display === "inline") { continue; }
        const clips = style.overflowX !== "visible";
        const words = [...node.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if ((clips || words) && node.scrollWidth > node.clientWidth + 1 && node.clientWidth > 0) {
            out.push(`${name} content ${node.scrollWidth} px in ${node.clientWidth} px`);
        }
    }
    return out;
}"""


#: The text fields a finger can type into on this screen (their ids).
TEXT_FIELDS = """() => [...document.querySelectorAll("input, textarea")]
    .filter((f) => !["hidden", "radio", "checkbox", "file"].includes(f.type))
    .filter((f) => f.id && f.getBoundingClientRect().width > 0 && !f.closest("dialog:not([open])"))
    .map((f) => f.id)"""
#: Where a field is, and the top of what covers the screen's bottom (the on-screen
#: keyboard when it is open, else the window's bottom edge).
FIELD_BOX = """(id) => {
    const box = document.getElementById(id).getBoundingClientRect();
    const osk = document.getElementById("osk");
    const open = !!osk && !osk.hidden;
    return {top: box.top, bottom: box.bottom, left: box.left, right: box.right, osk: open,
            limit: open ? osk.getBoundingClientRect().top : window.innerHeight,
            width: document.documentElement.clientWidth};
}"""


@dataclass
class Touch:
    page: Page
    url: str
    shots: Shots

    # -- basics -------------------------------------------------------------------
    def go(self, path: str) -> None:
        self.page.goto(self.url + path)
        self.ready()

    def visit(self, path: str) -> None:
        """A plain page (status, upload, errors): no screen script to wait for."""
        self.page.goto(self.url + path, wait_until="load")

    def ready(self) -> None:
        self.page.wait_for_function(READY)

    def shot(self, name: str) -> None:
        """A screenshot without the passing notice (it hides after a few seconds)."""
        self.page.evaluate(QUIET)
        small = self.page.evaluate(SMALL_TARGETS)
        assert not small, f"{name}: targets under 48 px: {small}"
        self.fits(name)
        self.shots.take(self.page, name)

    def fits(self, name: str) -> None:
        """Nothing on the screen spills out of its box or past the window's edge."""
        spilled = self.page.evaluate(OVERFLOWING)
        assert not spilled, f"{name}: content overflows: {spilled}"

    def field_in_sight(self, field_id: str) -> dict[str, Any]:
        """Tap a text field as a finger does; assert it is wholly on the screen and, when
        the on-screen keyboard opens for it, wholly above the keys. Closes the keyboard."""
        field = self.page.locator(f"#{field_id}")
        typed = field.get_attribute("data-osk") is not None
        field.tap()
        if typed:
            self.page.wait_for_selector("#osk", state="visible")
            self.page.wait_for_function(
                "id => document.getElementById(id).dataset.revealed === '1'", arg=field_id
            )
        box: dict[str, Any] = self.page.evaluate(FIELD_BOX, field_id)
        where = f"#{field_id} at {box}"
        assert box["osk"] == typed, where
        assert box["top"] >= 0 and box["left"] >= 0 and box["right"] <= box["width"], where
        assert box["bottom"] <= box["limit"], f"{where}: under the keyboard or off screen"
        if typed:
            self.tap("#osk [data-osk-key=done]")
            self.page.wait_for_selector("#osk", state="hidden")
        return box

    def every_field_in_sight(self, name: str) -> list[str]:
        """:meth:`field_in_sight` for every text field of the screen; returns their ids."""
        ids: list[str] = self.page.evaluate(TEXT_FIELDS)
        assert ids, f"{name}: no text field"
        for field_id in ids:
            self.page.evaluate("window.scrollTo(0, 0)")
            self.field_in_sight(field_id)
        return ids

    def tap(self, selector: str) -> None:
        self.page.locator(selector).first.tap()

    def tap_and_load(self, selector: str, url_glob: str) -> None:
        with self.page.expect_navigation(url=url_glob):
            self.tap(selector)
        self.ready()

    def keypad(self, digits: str) -> None:
        for digit in digits:
            self.tap(f"[data-keypad] button[data-key='{digit}']")

    def image_loaded(self, selector: str) -> None:
        self.page.wait_for_function(LOADED, arg=selector)

    def presses(self) -> int:
        """Taps, clicks and key presses this page has received so far."""
        return int(self.page.evaluate("window.__presses"))

    def dataset(self, selector: str) -> dict[str, Any]:
        return dict(self.page.eval_on_selector(selector, "e => Object.assign({}, e.dataset)"))

    # -- the first-boot wizard -----------------------------------------------------
    def first_boot(self, pin: str) -> None:
        self.go("/")
        assert "/setup/" in self.page.url
        self.shot("setup-1-station")
        self.page.fill("#name", "Trạm xã Đông Hòa 1")
        self.page.fill("#office_code", "xa-dong-hoa")
        self.page.fill("#office_name", "UBND xã Đông Hòa")
        self.tap_and_load("#setup-station button.primary", "**/setup/?step=pin")
        self.shot("setup-2-pin")
        self.keypad(pin)
        self.tap("[data-key=ok]")  # moves to "PIN again"
        self.keypad(pin)
        self.tap_and_load("[data-key=ok]", "**step=naming")
        self.shot("setup-3-naming")
        self.tap_and_load("#setup-naming button.primary", "**step=timezone")
        self.shot("setup-4-timezone")
        self.tap_and_load("#timezone-skip", "**step=wifi")  # never the host's zone
        self.shot("setup-5-wifi")
        self.tap_and_load("#wifi-skip", "**step=test")
        self.tap_and_load("#test-capture", "**step=test")
        self.image_loaded("#test-image")
        self.shot("setup-6-test-capture")
        self.tap_and_load("#setup-finish", "**/shift")

    # -- shift and book -----------------------------------------------------------------
    def type_on_screen(self, keys: str) -> None:
        """Tap the on-screen keyboard's keys (Telex: "Nguyeenx" types "Nguyễn")."""
        for key in keys:
            self.tap(f"#osk [data-osk-key='{key}']")

    def add_operator(self, telex: str, name: str, pin: str) -> None:
        self.shot("shift-start")
        self.tap_and_load("#add-name", "**/shift/new")
        self.tap("#name")
        self.page.wait_for_selector("#osk", state="visible")
        self.type_on_screen(telex)
        self.shot("shift-add-name-keyboard")
        assert self.page.input_value("#name") == name
        self.tap("#osk [data-osk-key=done]")
        self.tap("#pin")
        self.keypad(pin)
        self.tap("[data-key=ok]")
        self.keypad(pin)
        self.shot("shift-add-name")
        self.tap_and_load("[data-key=ok]", "**/books")

    def confirm_book(self, name: str) -> None:
        """The book check after signing in: the cover's words, large, then carry on."""
        assert self.page.url.endswith("/books/confirm")
        cover = self.page.inner_text("#cover")
        assert all(part in cover for part in name.split("|")), cover
        size = self.page.eval_on_selector("#cover-type", "e => getComputedStyle(e).fontSize")
        assert float(size.rstrip("px")) >= 32
        self.shot("book-confirm")
        self.tap_and_load("#book-yes", "**/scan")

    def create_book(self, code: str, year: str, number: str, profile: str) -> None:
        self.shot("books-none")
        self.tap_and_load("#new-book", "**/books/new")
        # The year is read off the cover: shown without scrolling, and never filled in.
        assert self.page.input_value("#year") == ""
        year_box = self.page.locator("#year").bounding_box()
        viewport = self.page.viewport_size
        assert year_box and viewport and year_box["y"] + year_box["height"] <= viewport["height"]
        self.tap(f"#types input[value={code}] + span")
        self.tap(f"#profiles input[value={profile}] + span")
        for field, value in (("year", year), ("book", number)):
            self.tap(f"#{field}")
            self.page.fill(f"#{field}", "")
            self.keypad(value)
        self.shot("book-new")
        with self.page.expect_navigation():
            self.tap("#create-book")
        refused = self.page.locator("#form-error")
        assert not refused.count(), refused.inner_text()
        assert self.page.url.endswith("/scan")
        self.ready()


def touch_drag(cdp: CDPSession, x0: float, y0: float, x1: float, y1: float) -> None:
    """A finger put down, moved in steps and lifted (real touch events, not a mouse)."""
    start = {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    cdp.send("Input.dispatchTouchEvent", start)
    steps = 5
    for step in range(1, steps + 1):
        point = {"x": x0 + (x1 - x0) * step / steps, "y": y0 + (y1 - y0) * step / steps}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
