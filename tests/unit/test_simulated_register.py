"""The simulator's real-like register style: entries, key numbers and truth through a bend."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from station.capture.drivers.simulated.render.page import (
    RenderedPage,
    RenderSpec,
    entry_counts,
    render_page,
)
from station.capture.drivers.simulated.render.register import KEY_MM
from station.capture.drivers.simulated.render.register_rows import register_layout
from station.core.errors import UsageError

DPI = 100


def render(**values: Any) -> RenderedPage:
    values.setdefault("dpi", DPI)
    values.setdefault("style", "register")
    return render_page(RenderSpec(**values))


def polygon_mask(page: RenderedPage, polygon: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros((page.image.height, page.image.width), np.uint8)
    cv2.fillPoly(mask, [np.round(np.array(polygon)).astype(np.int32)], 1)
    return mask


@pytest.mark.parametrize("profile", ["stacked", "spread-table"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ten_to_thirty_numbered_entries(profile: str, seed: int) -> None:
    page = render(profile=profile, seed=seed, page_index=1, first_entry=200)
    assert 10 <= len(page.entries) <= 30
    assert sum(entry_counts(profile, seed, 1, style="register")) == len(page.entries)
    assert [e.number for e in page.entries] == [str(200 + k) for k in range(len(page.entries))]
    assert all(e.handwritten["so"] == e.number for e in page.entries)
    assert page.style == "register" and page.truth_dict()["style"] == "register"


def test_counts_cover_the_range_and_some_entries_span_lines_and_gaps() -> None:
    layouts = [register_layout(seed, 0) for seed in range(60)]
    counts = {len(layout.spans) for layout in layouts}
    assert min(counts) <= 12 and max(counts) >= 28
    assert {lines for layout in layouts for _, lines in layout.spans} == {1, 2, 3, 4}
    gaps = [b - (a + n) for layout in layouts for (a, n), (b, _) in
            zip(layout.spans, layout.spans[1:], strict=False)]  # fmt: skip
    assert min(gaps) == 0 and max(gaps) == 1
    assert {layout.rules for layout in layouts} == {"none", "key", "dashed"}


@pytest.mark.parametrize(
    "options",
    [
        {"profile": "stacked"},
        {"profile": "spread-table", "skew_max_deg": 3.0},
        {"profile": "spread-table", "camera": True, "bend_max_mm": 15.0},
        {"profile": "stacked", "camera": True, "bend_max_mm": 15.0, "hand_probability": 1.0},
    ],
)
def test_truth_polygons_inside_the_image_and_disjoint(options: dict[str, Any]) -> None:
    page = render(seed=7, **options)
    width, height = page.image.size
    overlap = np.zeros((height, width), np.uint8)
    for entry in page.entries:
        assert all(0 <= x <= width and 0 <= y <= height for x, y in entry.polygon)
        overlap += polygon_mask(page, entry.polygon)
    assert overlap.max() == 1


def test_number_in_the_key_column_and_continuation_rows_leave_it_empty() -> None:
    page = render(profile="stacked", seed=5, skew_max_deg=0.0, camera=False)
    ink = np.asarray(page.ink_mask) > 0
    layout = register_layout(5, 0)
    pitch = layout.pitch_mm * DPI / 25.4
    continued = 0
    for entry, (_, lines) in zip(page.entries, layout.spans, strict=True):
        left, top, _, bottom = entry.box
        key_right = left + round(KEY_MM * DPI / 25.4) - 2
        assert ink[top : top + round(pitch), left:key_right].sum() > 5, entry.number
        if lines > 1:
            continued += 1
            rest = ink[top + round(pitch) + 2 : bottom, left + 2 : key_right]
            assert rest.sum() == 0, entry.number
            assert ink[top + round(pitch) + 2 : bottom, key_right:].sum() > 20  # still written
    assert continued >= 2


def test_a_bent_page_keeps_each_entry_ink_inside_its_polygon() -> None:
    # Seed 5's page leaves blank lines between entries: ink bent into one is caught.
    page = render(
        profile="spread-table", seed=5, camera=True, bend_max_mm=18.0, hand_probability=1.0
    )
    assert page.bend is not None and abs(page.bend["amplitude"]) > 0.5 * 18 * DPI / 25.4
    ink = np.asarray(page.ink_mask) > 0
    kernel = np.ones((3, 3), np.uint8)
    bent = np.zeros(ink.shape, np.uint8)
    straight = np.zeros(ink.shape, np.uint8)
    for entry in page.entries:
        own = polygon_mask(page, entry.polygon)
        assert ink[own > 0].sum() > 50, entry.number  # every entry has its writing inside
        bent |= own
        half = len(entry.polygon) // 2  # corners alone: the polygon a flat page would have
        corners = [entry.polygon[i] for i in (0, half - 1, half, len(entry.polygon) - 1)]
        straight |= polygon_mask(page, corners)
    inside = ink[cv2.dilate(bent, kernel) > 0].sum() / ink.sum()
    assert inside > 0.999
    # The check has teeth: the corners alone, ignoring the bend, leave ink in the gaps.
    assert ink[cv2.dilate(straight, kernel) > 0].sum() / ink.sum() < 0.97


def test_the_hand_covers_no_entry() -> None:
    common = {"profile": "stacked", "seed": 9, "skew_max_deg": 0.0}
    held, free = render(hand_probability=1.0, **common), render(**common)
    changed = np.any(np.asarray(held.image) != np.asarray(free.image), axis=2)
    assert changed.sum() > 500  # a hand was drawn
    for entry in held.entries:
        assert not changed[polygon_mask(held, entry.polygon) > 0].any()


def test_register_needs_a_stacked_profile_and_a_sane_bend() -> None:
    with pytest.raises(UsageError):
        render(profile="page-1")
    with pytest.raises(UsageError):
        render(profile="stacked", bend_max_mm=40.0)
    with pytest.raises(UsageError):
        render(profile="stacked", style="scroll")
