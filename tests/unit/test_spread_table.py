"""A spread whose one table runs across both pages (layout profile ``spread-table``).

Many A3 books rule one table over the open spread: the entry number and the child's
columns on the left page, the parents' and the declarant's on the right, each entry's
row continuing past the fold. Each entry is then one file across the spread. The pages
here are the simulator's register style, which draws its spreads that way.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import pytest

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core.errors import ConfigError, UsageError
from station.core.layouts import _parse, get_profile
from station.processing.imaging.cutcheck import check_cut, share_inside
from station.processing.imaging.segment import (
    ACROSS_REFUSED,
    NO_FRAME_FLAG,
    Segmentation,
    crop_region,
    learn_template,
    region_polygon,
    segment,
)
from station.processing.imaging.truthscore import fill

DPI = 150
FONT = cv2.FONT_HERSHEY_SIMPLEX
# A flat scan of 29 entries, each 1-4 lines, no rule across the table between them.
SEED = 4

PROFILE = """
[profile]
name = "x"
label_vi = "x"
label_en = "x"
pages_per_image = {pages}
entries_min = 2
entries_max = 40
table_across = {across}
"""


@cache
def spread() -> RenderedPage:
    spec = RenderSpec(
        profile="spread-table", dpi=DPI, seed=SEED, page_index=SEED % 3, style="register",
        skew_max_deg=3.0, faded_probability=0.35,
    )  # fmt: skip
    return render_page(spec)


def outlines(found: Segmentation) -> list[np.ndarray]:
    return [np.asarray(region_polygon(r.box, r.warp, r.bend, r.shape)) for r in found.regions]


def test_the_profile_says_whether_its_table_runs_across_the_spread() -> None:
    assert get_profile("spread-table").table_across
    assert get_profile("spread-table").pages_per_image == 2
    assert not any(get_profile(name).table_across for name in ("spread-stacked", "stacked"))
    assert _parse(PROFILE.format(pages=2, across="true"), "x.toml").table_across
    with pytest.raises(ConfigError):  # one page has no table across a spread
        _parse(PROFILE.format(pages=1, across="true"), "x.toml")
    with pytest.raises(ConfigError):  # a quoted "yes" is not a TOML boolean
        _parse(PROFILE.format(pages=2, across='"yes"'), "x.toml")


def test_each_entry_of_a_table_across_the_spread_is_one_region_over_both_pages() -> None:
    page = spread()
    polygons = [np.asarray(e.polygon) for e in page.entries]
    assert page.gutter_x is not None
    assert all(p[:, 0].min() < page.gutter_x < p[:, 0].max() for p in polygons)
    found = segment(np.asarray(page.image), DPI, get_profile("spread-table"))
    assert NO_FRAME_FLAG in found.flags and "count_mismatch" not in found.flags
    cuts = outlines(found)
    assert len(cuts) == len(polygons)
    for index, (cut, own) in enumerate(zip(cuts, polygons, strict=True)):
        others = polygons[:index] + polygons[index + 1 :]
        assert check_cut(cut, own, others, page.image.size).clean, index
    # Read as two pages of their own, no region holds more than a page's half of an entry.
    halves = segment(np.asarray(page.image), DPI, get_profile("spread-stacked"))
    for cut in outlines(halves):
        assert max(share_inside(own, cut, page.image.size) for own in polygons) < 0.8


def drawn_spread(turn_degrees: float) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """A table across a spread drawn at 100 dpi (as in ``test_entries``): numbers and
    names on the left page, each entry's row going on over the right page, whose rows
    run ``turn_degrees`` steeper (the two pages of a bound book seldom lie flat in one
    plane). Each entry's lines as masks, both pages."""
    rows = [1, 2, 1, 3, 1, 2, 1, 1, 2, 1]
    left = np.full((1100, 800), 255, np.uint8)
    right = np.full((1100, 800), 255, np.uint8)
    lines: list[list[np.ndarray]] = []
    for page in (left, right):
        cv2.rectangle(page, (40, 100), (760, 1060), 30, 2)
        cv2.line(page, (40, 150), (760, 150), 30, 2)  # under the column headings
        for x in (90, 300, 520):
            cv2.line(page, (x, 100), (x, 1060), 30, 1)
        cv2.putText(page, "So" if page is left else "Cha", (48, 132), FONT, 0.5, 30, 1)
    y = 180
    for number, count in enumerate(rows, start=1):
        own = []
        for row in range(count):
            line = np.zeros((1100, 1600), np.uint8)
            if row == 0:
                cv2.putText(left, str(number), (52, y + 16), FONT, 0.5, 40, 1)
            for page, offset in ((left, 0), (right, 800)):
                for x, text in ((100, "Nguyen Van"), (320, "Binh Dinh"), (540, "xa Dong")):
                    cv2.putText(page, text, (x, y + 16), FONT, 0.5, 40, 1)
                    cv2.putText(line[:, offset:], text, (x, y + 16), FONT, 0.5, 255, 1)
            own.append(line)
            y += 26
        lines.append(own)
        y += 2
    slope = float(np.tan(np.radians(turn_degrees)))
    shear = np.array([[1.0, 0.0, 0.0], [slope, 1.0, 0.0]])  # the right page's rows fall
    right = cv2.warpAffine(right, shear, (800, 1100), flags=cv2.INTER_LINEAR, borderValue=255)
    for own in lines:
        for line in own:
            moved = cv2.warpAffine(line[:, 800:], shear, (800, 1100), flags=cv2.INTER_NEAREST)
            line[:, 800:] = moved
    return np.hstack([left, right]), lines


@pytest.mark.parametrize("turn", [0.0, 2.0])
def test_each_line_of_a_table_across_the_spread_is_in_its_entrys_one_region(turn: float) -> None:
    spread, lines = drawn_spread(turn)
    found = segment(np.ascontiguousarray(np.dstack([spread] * 3)), 100, get_profile("spread-table"))
    assert len(found.regions) == len(lines)
    inside = []
    for cut in outlines(found):
        mask = np.zeros(spread.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(cut).astype(np.int32).reshape(-1, 1, 2)], 1)
        inside.append(mask > 0)
    for number, own in enumerate(lines):
        for line in own:
            ink = line > 0
            held = [int((ink & region).sum()) for region in inside]
            assert held[number] == int(ink.sum()), (number, held)  # whole, in its own


def test_a_book_template_is_not_used_on_a_table_across_the_spread() -> None:
    page = spread()
    profile = get_profile("spread-table")
    truth = [(None, np.asarray(e.polygon, np.float64)) for e in page.entries]
    template = learn_template(np.asarray(page.image), DPI, profile, truth, "p0")
    found = segment(np.asarray(page.image), DPI, profile, template)
    own = segment(np.asarray(page.image), DPI, profile)
    assert found.template_refused == ACROSS_REFUSED
    assert [r.box for r in found.regions] == [r.box for r in own.regions]


def test_the_simulator_draws_a_register_spread_only_as_a_table_across() -> None:
    with pytest.raises(UsageError):
        render_page(RenderSpec(profile="spread-stacked", dpi=DPI, style="register"))
    with pytest.raises(UsageError):
        render_page(RenderSpec(profile="spread-table", dpi=DPI, style="form"))


def _ink_shares(page: RenderedPage, cuts: list[np.ndarray]) -> list[tuple[float, float]]:
    """Per true entry: the share of its ink inside its own cut, and the largest share
    inside any other cut."""
    ink = np.asarray(page.ink_mask) > 0
    held = [fill([cut], ink.shape, 1.0) for cut in cuts]
    shares = []
    for index, entry in enumerate(page.entries):
        own = fill([np.asarray(entry.polygon)], ink.shape, 1.0) & ink
        parts = [float((own & cut).sum() / own.sum()) for cut in held]
        shares.append((parts[index], max(parts[:index] + parts[index + 1 :])))
    return shares


def test_a_bent_photo_of_a_table_across_the_spread_keeps_each_entrys_writing_in_its_file() -> None:
    """A phone photo of an open book, the page bent 10 mm towards the fold and the right
    page turned against the left: each region follows its edges across the fold, where
    the dewarped page's cut once kept only the chords' box (half the entries carried 5-9%
    of a neighbour's writing)."""
    spec = RenderSpec(
        profile="spread-table", dpi=300, seed=600, page_index=0, style="register",
        skew_max_deg=3.0, camera=True, faded_probability=0.35, bend_max_mm=10.0,
        hand_probability=0.5,
    )  # fmt: skip
    page = render_page(spec)
    found = segment(np.asarray(page.image), spec.dpi, get_profile("spread-table"))
    assert "dewarped" in found.flags
    cuts = outlines(found)
    assert len(cuts) == len(page.entries)
    for index, (own, other) in enumerate(_ink_shares(page, cuts)):
        assert own > 0.995 and other < 0.005, (index, own, other)
    # What the file holds is what the outline says: paper where a neighbour's row passes.
    region = found.regions[len(cuts) // 2]
    assert region.bend is not None and region.shape is not None
    crop = crop_region(
        np.asarray(page.image), region.box, 0.0, region.warp, region.bend, region.shape
    )
    plain = crop_region(np.asarray(page.image), region.box, 0.0, region.warp, region.bend)
    assert crop.shape == plain.shape and (crop != plain).any()
