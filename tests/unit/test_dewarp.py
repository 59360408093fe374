"""Dewarping of curved pages (:mod:`station.processing.imaging.dewarp`).

The simulator bends a phone photo of a register page with a known bend, so its true
entry outlines are curves in the capture's pixels: the cuts of the dewarped page must
follow them (and do not without dewarping). A flat page is not touched. A real curved
photo (``../shared/real-pages``; MIT, mzucker/page_dewarp, see its ``SOURCES.md``) is
flagged and keeps all its ink.
"""

from __future__ import annotations

import json
from functools import cache

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core.layouts import get_profile
from station.core.models import Region
from station.processing.batch.inputs import resolve_dpi
from station.processing.imaging import dewarp as dw
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging.cutcheck import share_inside
from station.processing.imaging.load import load_image, load_rgb
from station.processing.imaging.segment import (
    DEWARP_FLAG,
    ProposedRegion,
    Segmentation,
    crop_region,
    region_polygon,
    segment,
)
from station.processing.page import cut_entry, make_region
from tests.support.real_pages import REAL_PAGES

PAGES = REAL_PAGES
CURVED = "dewarp_boston_cooking_a"  # a tuning image (its facing page _b is held out)
#: A cut edge this close to a true edge (median, pixels at 300 dpi) is measured against it.
MATCH_PX = 90
#: The residual bend the cuts of the simulated bent page keep (median over edges):
#: 1/30 inch (4 px measured); without dewarping the same cuts stray 0.15 inch.
TOLERANCE_PX = 10


@cache
def _bent_page() -> RenderedPage:
    """A stacked register page photographed bent by up to 10 mm at its bound edge."""
    spec = RenderSpec(
        profile="stacked", dpi=300, seed=702, page_index=0, style="register",
        skew_max_deg=3.0, camera=True, faded_probability=0.35, bend_max_mm=10.0,
    )  # fmt: skip
    return render_page(spec)


def _rgb(page: RenderedPage) -> NDArray[np.uint8]:
    return np.asarray(page.image.convert("RGB"))


def _residuals(found: Segmentation, page: RenderedPage) -> list[float]:
    """How far each cut edge strays from the true edge it lies on, past their mean
    offset (pixels): the bend the cut fails to follow."""
    truth = []
    for entry in page.entries:
        polygon = np.asarray(entry.polygon, np.float64)
        half = len(polygon) // 2
        truth += [polygon[:half], polygon[half:][::-1]]
    values = []
    for region in found.regions:
        for edge in _edges(region):
            fits = [r for t in truth if (r := _residual(edge, t)) is not None]
            if fits:
                values.append(min(fits))
    return values


def _edges(region: ProposedRegion) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The cut's top and bottom edges, left to right, in capture pixels."""
    if region.bend is None:
        corners = region_polygon(region.box, region.warp)
        return corners[[0, 1]], corners[[3, 2]]
    rows, cols = int(region.bend[0]), int(region.bend[1])
    values = np.asarray(region.bend[2:], np.float64)
    grid = np.stack([values[: rows * cols], values[rows * cols :]], axis=-1).reshape(rows, cols, 2)
    return grid[0], grid[-1]


def _residual(cut: NDArray[np.float64], truth: NDArray[np.float64]) -> float | None:
    low, high = max(cut[:, 0].min(), truth[:, 0].min()), min(cut[:, 0].max(), truth[:, 0].max())
    if high - low < 300:
        return None
    xs = np.linspace(low, high, 200)
    difference = np.interp(xs, cut[:, 0], cut[:, 1]) - np.interp(xs, truth[:, 0], truth[:, 1])
    offset = float(np.median(difference))
    return None if abs(offset) > MATCH_PX else float(np.abs(difference - offset).max())


@pytest.mark.slow
def test_the_cuts_of_a_bent_photo_follow_its_known_bend(monkeypatch: pytest.MonkeyPatch) -> None:
    page = _bent_page()
    found = segment(_rgb(page), page.dpi, get_profile("stacked"))
    assert DEWARP_FLAG in found.flags
    assert all(r.bend is not None for r in found.regions)
    dewarped = _residuals(found, page)
    assert len(dewarped) >= 20
    assert np.median(dewarped) < TOLERANCE_PX, dewarped
    monkeypatch.setattr(dw, "BEND_IN", float("inf"))
    straight = segment(_rgb(page), page.dpi, get_profile("stacked"))
    assert DEWARP_FLAG not in straight.flags
    assert np.median(_residuals(straight, page)) > 2 * TOLERANCE_PX


@pytest.mark.slow
def test_the_outline_and_the_cut_of_a_dewarped_region_follow_the_curve() -> None:
    page = _bent_page()
    rgb = _rgb(page)
    found = segment(rgb, page.dpi, get_profile("stacked"))
    # A region halfway down the page, where it bows most (every region spans the
    # table, so the widest was one chosen by a pixel, and the last ones bow least).
    region = found.regions[len(found.regions) // 2]
    outline = region_polygon(region.box, region.warp, region.bend, region.shape)
    assert len(outline) > 8  # points along the bent edges, not four corners
    # The bend of the page shows in the outline: the top edge strays from its chord.
    grid_top = _edges(region)[0]
    line = np.interp(grid_top[:, 0], grid_top[[0, -1], 0], grid_top[[0, -1], 1])
    assert float(np.abs(grid_top[:, 1] - line).max()) > 10
    # The model region keeps the grid, through JSON, and cuts the same pixels.
    decoded = load_image(_png_bytes(rgb))
    model = Region.from_dict(make_region("c1", region, found.angle, 1, decoded).to_dict())
    assert model.bend is not None and model.source_polygon is not None
    assert len(model.source_polygon) == len(outline)
    cut = cut_entry(rgb, model)
    assert cut.shape[:2] == (region.box[3] - region.box[1], region.box[2] - region.box[0])
    # (the stored grid is rounded to whole pixels: sharp edges may move a little)
    crop = crop_region(rgb, region.box, 0.0, region.warp, region.bend, region.shape)
    assert np.abs(cut.astype(int) - crop).mean() < 2


def _png_bytes(rgb: NDArray[np.uint8]) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return data.tobytes()


@pytest.mark.slow
def test_a_flat_page_is_not_dewarped_and_comes_out_identical(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = RenderSpec(profile="stacked", dpi=300, seed=500, style="register", skew_max_deg=3.0)
    page = render_page(spec)
    rgb = _rgb(page)
    found = segment(rgb, page.dpi, get_profile("stacked"))
    assert DEWARP_FLAG not in found.flags
    assert all(r.bend is None for r in found.regions)
    monkeypatch.setattr(dw, "estimate", lambda *args: None)
    without = segment(rgb, page.dpi, get_profile("stacked"))
    assert found.regions == without.regions and found.flags == without.flags


def test_a_grid_from_a_homography_cuts_what_the_homography_cuts() -> None:
    """The grid's conventions (nodes at the box's edges, pixel centres) are the warp's."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    rgb = np.asarray(cv2.GaussianBlur(rgb, (9, 9), 3), np.uint8)
    warp = geo.rotation(4.0, (200, 150)) @ geo.translate(-30, -40)
    box = (10, 20, 250, 140)
    flat = dw.Bend(np.eye(3), (400, 300), np.zeros((5, 5), np.float32), 0.0, 0)
    grid = dw.region_grid(box, tuple(warp.ravel()), flat, 16)
    expected = crop_region(rgb, box, 0.0, tuple(warp.ravel()))
    got = crop_region(rgb, box, 0.0, tuple(warp.ravel()), grid)
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected.astype(int))[2:-2, 2:-2].max() <= 3


def test_straightening_takes_a_known_bow_out_of_lines() -> None:
    """Lines drawn bowed by a known field come out straight; the field is measured."""
    width, height, dpi = 800, 1000, 100.0
    xs = np.arange(width)
    bow = 25 * np.sin(np.pi * xs / width)  # 0.25 inch in the middle of every line
    ink = np.zeros((height, width), np.uint8)
    for top in range(60, height - 60, 40):
        for x in range(40, width - 40):
            ink[round(top + bow[x]) : round(top + bow[x]) + 2, x] = 255
    bend = dw.estimate(ink, dpi, np.eye(3))
    assert bend is not None and bend.inches > 0.08
    straight = bend.straighten(ink, 0)
    assert dw.measure(straight, dpi) is not None
    assert float(dw.measure(straight, dpi) or 0.0) < 0.03
    # Flat lines: no bend.
    level = np.zeros_like(ink)
    level[60 : height - 60 : 40, 40 : width - 40] = 255
    assert dw.estimate(level, dpi, np.eye(3)) is None


def test_the_bend_maps_the_straight_capture_back_along_the_field() -> None:
    nodes = np.tile(np.linspace(0, 10, 9, dtype=np.float32), (5, 1))
    bend = dw.Bend(geo.scale(0.5), (100, 80), nodes, 0.1, 10)
    points = np.array([[0.0, 20.0], [200.0, 40.0], [100.0, 100.0]])
    moved = bend.to_capture(points)
    assert np.allclose(moved[:, 0], points[:, 0])
    # x = 0 small: no shift; x = 100 small: 10 small px = 20 capture px; x = 50: 5 -> 10.
    assert np.allclose(moved[:, 1] - points[:, 1], [0.0, 20.0, 10.0])
    assert np.allclose(bend.to_straight(moved), points, atol=1e-3)


@pytest.mark.slow
@pytest.mark.skipif(
    not (PAGES / f"{CURVED}.jpg").is_file(),
    reason=f"real pages not found at {PAGES} (a folder 'shared' beside the repository)",
)
def test_a_real_curved_photo_is_dewarped_and_loses_nothing() -> None:
    path = PAGES / f"{CURVED}.jpg"
    profile = get_profile(json.loads(path.with_suffix(".json").read_text())["profile"])
    rgb, stated = load_rgb(path)
    dpi, _ = resolve_dpi(stated, rgb.shape[1], profile)
    found = segment(rgb, dpi, profile)
    assert DEWARP_FLAG in found.flags
    assert found.regions and all(r.bend is not None for r in found.regions)
    assert found.outside.flagged_share < 0.005  # no ink left outside the cut
    cut = crop_region(
        rgb, found.regions[0].box, found.angle, found.regions[0].warp, found.regions[0].bend
    )
    plain = crop_region(rgb, found.regions[0].box, found.angle, found.regions[0].warp)
    assert _line_bend(cut, dpi) < 0.75 * _line_bend(plain, dpi)


def _line_bend(rgb: NDArray[np.uint8], dpi: int) -> float:
    _, red, factor = nm.downscale(rgb, dpi)
    measured = dw.measure(nm.ink_of(nm.flatten(red, dpi * factor)), dpi * factor)
    assert measured is not None
    return measured


def test_a_bowed_outline_is_judged_by_its_own_area() -> None:
    """The cut check clips by a dewarped region's bowed outline, not by its hull."""
    xs = np.linspace(0, 100, 21)
    top = np.column_stack([xs, 20 * np.sin(np.pi * xs / 100)])
    bottom = top[::-1] + np.array([0.0, 10.0])
    band = np.vstack([top, bottom])  # a bowed band 10 high, 1000 in area
    pieces = geo.convex_pieces(band)
    assert len(pieces) > 1
    assert sum(geo.polygon_area(p) for p in pieces) == pytest.approx(geo.polygon_area(band))
    square = np.array([[0, 0], [100, 0], [100, 40], [0, 40]], np.float64)
    assert share_inside(square, band, (200, 200)) == pytest.approx(0.25)
    assert share_inside(band, square, (200, 200)) == pytest.approx(1.0)


def test_a_flat_page_skips_the_fit_though_a_rule_runs_into_writing() -> None:
    # Ten long straight rules on a 100-dpi page; one of them wanders 0.05 inch where
    # a line of writing touches it. The page's long rules are straight (9 of 10): no
    # fit is needed. All ten wandering (a bent page) and the fit is made.
    xs = np.arange(50.0, 750.0, 10.0)
    points, lines = [], []
    for label, row in enumerate(range(100, 1100, 100)):
        ys = np.full(xs.size, float(row))
        if label == 4:
            ys[30:40] += 5.0
        points += [np.column_stack([xs, ys])]
        lines += [np.full(xs.size, label)]
    flat = np.vstack(points), np.concatenate(lines)
    assert dw._straight_rules(flat[0], flat[1], 100.0)
    bowed = flat[0].copy()
    bowed[:, 1] += 8.0 * np.sin(np.pi * (bowed[:, 0] - 50.0) / 700.0)
    assert not dw._straight_rules(bowed, flat[1], 100.0)
