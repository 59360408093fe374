"""Ink outside every entry (``imaging.outside``) on simulated pages: the page's title
and column headings are its header, a note in the margin is flagged with its share,
a stack of page edges is the page's edge, and a page that loses nothing is not flagged.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from PIL import ImageDraw

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core import flagtext
from station.core.layouts import get_profile
from station.processing.imaging.frames import gutter_evidence
from station.processing.imaging.outside import FLAG_SHARE, OUTSIDE_FLAG, REASONS
from station.processing.imaging.segment import Segmentation, region_polygon, segment
from station.processing.page import REVIEW_FLAGS

DPI = 150


@cache
def render(profile: str, seed: int, camera: bool = False, note: bool = False) -> RenderedPage:
    spec = RenderSpec(profile=profile, dpi=DPI, seed=seed, camera=camera, margin_note=note)
    return render_page(spec)


@cache
def found_on(profile: str, seed: int, camera: bool = False, note: bool = False) -> Segmentation:
    page = render(profile, seed, camera, note)
    return segment(np.asarray(page.image), DPI, get_profile(profile))


def test_the_title_and_column_headings_are_the_pages_header() -> None:
    found = found_on("stacked", 1)
    shares = found.outside.shares
    assert shares.get("header", 0.0) > 0.05, shares
    top_entry = min(float(region_polygon(r.box, r.warp)[:, 1].min()) for r in found.regions)
    headers = [p for p in found.outside.pieces if p.reason == "header"]
    assert headers and all(p.box[3] < top_entry + 0.2 * DPI for p in headers)
    assert OUTSIDE_FLAG not in found.flags
    # Every piece of ink is inside an entry or outside it for a reason.
    assert sum(shares.values()) + found.outside.inside == pytest.approx(1.0, abs=1e-6)
    assert set(shares) <= set(REASONS)


@pytest.mark.parametrize("camera", [False, True])
def test_a_note_in_the_margin_is_flagged_with_its_share(camera: bool) -> None:
    found = found_on("page-1", 1, camera, note=True)
    assert OUTSIDE_FLAG in found.flags and OUTSIDE_FLAG in REVIEW_FLAGS
    margin = [p for p in found.outside.pieces if p.reason == "margin"]
    width = render("page-1", 1, camera, True).image.width
    assert margin and all(p.box[0] > 0.7 * width for p in margin)  # the right margin
    share = found.outside.flagged_share
    assert share > FLAG_SHARE
    words = flagtext.label(OUTSIDE_FLAG, "en", found.details)
    assert f"{100 * share:.1f}% of the page's ink is outside every entry: margin" in words
    assert f"{100 * share:.1f}".replace(".", ",") in flagtext.label(
        OUTSIDE_FLAG, "vi", found.details
    )


@pytest.mark.parametrize("profile", ["page-1", "spread-2", "stacked", "spread-stacked"])
@pytest.mark.parametrize("camera", [False, True])
def test_pages_that_lose_nothing_are_not_flagged(profile: str, camera: bool) -> None:
    found = found_on(profile, 2, camera)
    assert OUTSIDE_FLAG not in found.flags, found.outside.shares
    assert found.outside.flagged_share <= FLAG_SHARE


def test_a_stack_of_page_edges_is_the_pages_edge() -> None:
    page = render("page-1", 3)
    clean = found_on("page-1", 3)
    stacked = page.image.copy()
    draw = ImageDraw.Draw(stacked)
    right, height = page.image.width - 20, page.image.height
    for step in range(6):  # the edges of the leaves under this one, at the book's side
        x = right - 4 * step
        draw.line([(x, 60), (x + 2, height - 60)], fill=(70, 60, 50), width=1)
    found = segment(np.asarray(stacked), DPI, get_profile("page-1"))
    assert OUTSIDE_FLAG not in found.flags
    added = found.outside.shares.get("page_edge", 0.0) - clean.outside.shares.get("page_edge", 0)
    assert added > 0.01, found.outside.shares
    assert found.outside.shares.get("margin", 0.0) < FLAG_SHARE


def test_count_mismatch_says_both_counts_in_both_languages() -> None:
    details = {"count_mismatch": {"expected": "10-30", "found": "7 + 12"}}
    for lang in ("vi", "en"):
        words = flagtext.label("count_mismatch", lang, details)
        assert "10-30" in words and "7 + 12" in words, words
    assert flagtext.label("count_mismatch", "en") == "Entry count mismatch"


@pytest.mark.parametrize(
    "flag",
    [
        "no_frame", "count_mismatch", "orientation_uncertain", "gutter_uncertain",
        "page_outline_uncertain", "dewarped", "template_used", "blank_page", OUTSIDE_FLAG,
    ],
)  # fmt: skip
def test_every_page_flag_is_explained_in_both_languages(flag: str) -> None:
    for lang in ("vi", "en"):
        assert flagtext.label(flag, lang) != flag
        assert flagtext.help_text(flag, lang)
    assert flagtext.label(flag, "vi") != flagtext.label(flag, "en")


def test_a_fold_no_emptier_than_the_writing_is_weak_evidence() -> None:
    ink = np.zeros((400, 600), np.uint8)
    ink[50:350:20, 40:280] = 255  # two pages of lines with an empty fold between
    ink[50:350:20, 320:560] = 255
    assert gutter_evidence(ink, 300) > 0.9
    ink[50:350:20, 40:560] = 255  # a table's rows running across the fold
    assert gutter_evidence(ink, 300) < 0.5
