"""A real register page's stepped cuts on the review screen, end to end.

``station serve`` (simulated scanner, and a hot folder) behind waitress; Debian's
Chromium at 800x480 with touch. A real page (``../shared/real-pages``, openly
licensed, see its ``SOURCES.md``; skipped without it) is dropped into the hot folder
of a stacked book. Its entries' boundaries step round the writing, so the review
screen draws those cuts as they are (a polygon, not the box around it, which would
show a neighbour's letters as in the entry's file); a cut line moved by a finger makes
its two entries the boxes drawn, which is what they are then cut as.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")

from playwright.sync_api import Browser

from tests.support.real_pages import REAL_PAGES
from tests.support.screens import SMALL, Shots, new_context
from tests.support.server import start_server
from tests.support.touch import CUT_KNOB, NEW_PAGE, Touch, touch_drag

IMAGE = REAL_PAGES / "rep_dufour1_07645_L-0.jpg"
ADMIN_PIN = "2580"
OPERATOR_PIN = "1357"
#: Each entry's shape on the review screen: its tag and its number of points.
SHAPES = """() => Array.from(document.querySelectorAll("svg.cuts > *")).map(
    n => [n.tagName, n.tagName === "polygon" ? n.points.numberOfItems : 4])"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not IMAGE.is_file(),
        reason=f"real pages not found at {REAL_PAGES} (a folder 'shared' beside the repository)",
    ),
]


def test_stepped_cuts_are_drawn_as_they_are_until_a_line_moves(
    tmp_path: Path, browser: Browser
) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    # The page's file states its resolution (200 dpi), which the hot folder reads.
    with start_server(tmp_path, "", STATION__CAPTURE__FOLDER__PATH=str(hot)) as server:
        context = new_context(browser, SMALL)
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            ui = Touch(page, server.url, Shots(SMALL, "outline-800x480"))
            ui.first_boot(ADMIN_PIN)
            ui.add_operator("nguyeenx thij lan", "Nguyễn Thị Lan", OPERATOR_PIN)
            ui.create_book("KS", "1851", "1", "stacked")

            before = ui.dataset("#scan").get("lastPage", "")
            shutil.copyfile(IMAGE, hot / IMAGE.name)
            page.wait_for_function(NEW_PAGE, arg=before, timeout=120_000)
            ui.tap_and_load("#review-last", "**/review/**")
            page.wait_for_function("document.getElementById('review').dataset.ready === '1'")
            shapes = page.evaluate(SHAPES)
            assert len(shapes) == 7
            stepped = [i for i, (tag, points) in enumerate(shapes) if tag == "polygon"]
            assert stepped and all(shapes[i][1] > 4 for i in stepped), shapes
            ui.shot("review-stepped")

            # The first cut line is the boundary between entries 0 and 1.
            knob = page.wait_for_function(CUT_KNOB).json_value()
            touch_drag(
                context.new_cdp_session(page), knob["x"], knob["y"], knob["x"], knob["y"] + 25
            )
            page.wait_for_function(
                "() => document.querySelector('svg.cuts > *').tagName === 'rect'"
            )
            moved = page.evaluate(SHAPES)
            assert moved[0][0] == "rect" and moved[1][0] == "rect", moved
            assert moved[2:] == shapes[2:]  # the others stay as they are cut
            assert not errors, errors
        finally:
            context.close()
