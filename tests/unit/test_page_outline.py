"""The page outline never cuts ink: a flat scan on a dark cover is not warped to its lit
part, a photo on a table still is, and ink outside a found outline widens and flags it.

Synthetic pages at the working resolution (100 dpi): paper with rows of word-like
strokes, on a dark cover or table.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from station.capture.drivers.simulated.render.form import sheet_size
from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging.segment import OUTLINE_FLAG, segment

DPI = 100
Grey = NDArray[np.uint8]


def _write(paper: Grey, box: tuple[int, int, int, int], seed: int) -> None:
    """Rows of words (dark strokes) inside ``box`` (left, top, right, bottom)."""
    rng = np.random.default_rng(seed)
    left, top, right, bottom = box
    for y in range(top, bottom - 6, 28):
        x = left
        while x < right - 10:
            length = int(rng.integers(10, 40))
            paper[y : y + 5, x : min(right, x + length)] = 25
            x += length + int(rng.integers(8, 16))


def _rgb(grey: Grey) -> NDArray[np.uint8]:
    return np.ascontiguousarray(np.dstack([grey, grey, grey]))


def _inside_frame(norm: nm.Normalised, points: NDArray[np.float64], slack: float = 1.0) -> bool:
    """Whether capture ``points`` land inside the normalised frame."""
    height, width = norm.flat.shape
    mapped = geo.apply(norm.matrix, points)
    return bool(
        (mapped[:, 0] >= -slack).all()
        and (mapped[:, 0] <= width + slack).all()
        and (mapped[:, 1] >= -slack).all()
        and (mapped[:, 1] <= height + slack).all()
    )


def _ink_points(grey: Grey) -> NDArray[np.float64]:
    ys, xs = np.nonzero(grey < 60)
    return np.column_stack([xs, ys]).astype(np.float64)


def test_a_flat_scan_on_a_dark_cover_keeps_the_whole_page() -> None:
    # A spread on its dark cover, lit at the top and shaded towards the bottom (as a
    # flat colour scan of a bound register is): the brightness threshold sees the lit
    # part only, and that part is no page outline.
    height, width = 1000, 1400
    scan = np.full((height, width), 30, np.uint8)
    shade = np.interp(np.arange(40, 960), [40, 400, 960], [228, 228, 95]).astype(np.uint8)
    scan[40:960, 40:1360] = shade[:, None]
    _write(scan, (90, 80, 1320, 930), seed=1)
    grey, _, _ = nm.downscale(_rgb(scan), DPI)
    quad = nm.find_paper(grey)
    assert quad is not None  # the threshold alone takes it for paper on a table
    assert quad[:, 1].max() < 850  # ... and its outline misses the shaded bottom
    norm = nm.normalise(_rgb(scan), DPI, landscape=True)
    assert not norm.camera
    assert not norm.outline_uncertain
    page = np.array([[40, 40], [1360, 40], [1360, 960], [40, 960]], np.float64)
    assert _inside_frame(norm, page)
    assert _inside_frame(norm, _ink_points(scan))


def _photo(tab: bool) -> tuple[Grey, NDArray[np.float64], Grey]:
    """A page photographed in perspective on a darker table; with ``tab``, a shaded slip
    with writing sticks out beyond its right edge. Returns the photo, the page's corners
    in it and the photo's mask of the slip's writing."""
    page_w, page_h = 600, 850
    sheet = np.full((page_h, page_w + 120), 0, np.uint8)
    sheet[:, :page_w] = 235
    _write(sheet, (40, 40, page_w - 40, page_h - 40), seed=2)
    if tab:
        sheet[380:500, page_w : page_w + 70] = 150
        sheet[400:405, page_w + 10 : page_w + 45] = 25
        sheet[440:445, page_w + 12 : page_w + 50] = 25
    corners = np.array([[0, 0], [page_w, 0], [page_w, page_h], [0, page_h]], np.float32)
    placed = np.array([[260, 120], [860, 160], [900, 1040], [200, 1000]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, placed)
    size = (1150, 1150)
    rng = np.random.default_rng(3)
    table = (70 + rng.normal(0, 4, (size[1], size[0]))).clip(0, 255).astype(np.uint8)
    # The sheet is 0 where there is no paper: the table shows there.
    warped = cv2.warpPerspective(sheet, matrix, size, flags=cv2.INTER_LINEAR)
    photo = np.where(warped > 0, warped, table).astype(np.uint8)
    writing = np.zeros_like(sheet)
    writing[395:450, page_w + 5 : page_w + 55] = 255
    writing_in_photo = cv2.warpPerspective(writing, matrix, size, flags=cv2.INTER_NEAREST)
    marks = np.where((writing_in_photo > 0) & (photo < 60), 255, 0).astype(np.uint8)
    page = geo.apply(np.asarray(matrix, np.float64), corners.astype(np.float64))
    return photo, page, marks


def test_a_photo_on_a_darker_table_still_gets_its_perspective_corrected() -> None:
    photo, page, _ = _photo(tab=False)
    norm = nm.normalise(_rgb(photo), DPI, landscape=False)
    assert norm.camera
    assert not norm.outline_uncertain
    height, width = norm.flat.shape
    rectangle = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    # The page's corners land on the normalised frame's corners: perspective undone.
    assert np.abs(geo.apply(norm.matrix, page) - rectangle).max() < 8


def test_a_page_framed_tightly_off_two_sides_of_the_photo_is_still_its_outline() -> None:
    # The same photo framed tighter: the page runs off the picture's top and right,
    # the table shows only along the left and at the bottom (under 60% of the
    # picture's border in all). The page is still found and warped (its bottom-left
    # corner on the frame's), and all its writing stays in the frame.
    photo, page, _ = _photo(tab=False)
    top, left = 350, 150
    tight = np.ascontiguousarray(photo[top:1100, left:870])
    shifted = page - [left, top]
    norm = nm.normalise(_rgb(tight), DPI, landscape=False)
    assert norm.camera
    inner = np.zeros(tight.shape, np.uint8)  # the page, less its edge's dark blend
    cv2.fillPoly(inner, [np.round(shifted).astype(np.int32)], 255)
    inner = cv2.erode(inner, np.ones((11, 11), np.uint8))
    ys, xs = np.nonzero((tight < 40) & (inner > 0))  # the writing (25)
    assert xs.size > 1000
    assert _inside_frame(norm, np.column_stack([xs, ys]).astype(np.float64), slack=2.0)
    corner = geo.apply(norm.matrix, shifted[3:4].astype(np.float64))[0]
    assert abs(corner[0]) < 8 and abs(corner[1] - norm.flat.shape[0]) < 8


def test_ink_outside_the_found_outline_widens_it_and_is_flagged() -> None:
    photo, page, marks = _photo(tab=True)
    grey, _, _ = nm.downscale(_rgb(photo), DPI)
    quad = nm.find_paper(grey)
    assert quad is not None
    assert np.abs(quad - page).max() < 8  # the outline found is the page's, without the slip
    norm = nm.normalise(_rgb(photo), DPI, landscape=False)
    assert norm.camera
    assert norm.outline_uncertain
    ys, xs = np.nonzero(marks)
    assert xs.size > 100
    assert _inside_frame(norm, np.column_stack([xs, ys]).astype(np.float64))
    found = segment(_rgb(photo), DPI, get_profile("page-1"))
    assert OUTLINE_FLAG in found.flags


def test_without_ink_outside_no_outline_flag() -> None:
    photo, _, _ = _photo(tab=False)
    assert OUTLINE_FLAG not in segment(_rgb(photo), DPI, get_profile("page-1")).flags


def test_a_torn_corner_does_not_pull_the_outline_into_the_text() -> None:
    """A photographed page with its top-right corner torn off (the desk shows there):
    the outline is the paper's four edges met past the tear, not a diagonal across the
    corner, so nothing is cut, nothing is flagged, and every entry is found."""
    spec = RenderSpec(profile="stacked", dpi=150, seed=3, camera=True, torn_corner_mm=45)
    page = render_page(spec)
    rgb = np.asarray(page.image)
    grey, red, factor = nm.downscale(rgb, 150)
    cut = nm.find_paper(grey)  # the plain outline cuts the corner with a diagonal ...
    assert cut is not None and nm.check_outline(red, cut, 150 * factor) is not None
    assert nm.check_outline(red, cut, 150 * factor).widened  # type: ignore[union-attr]
    quad = nm.find_paper(grey, past_tears=True)  # ... the edges met past the tear do not
    assert quad is not None
    # Where the paper's corner would be, torn or not (the renderer's own transform).
    width, _ = sheet_size(spec)
    corner = geo.apply(np.asarray(page.transform), [(float(width), 0.0)])[0] * factor
    assert np.hypot(*(quad[1] - corner)) < 0.1 * factor * 150, (quad[1], corner)  # 0.1 inch
    outline = nm.check_outline(red, quad, 150 * factor)
    assert outline is not None and not outline.widened
    assert nm.normalise(rgb, 150).camera and not nm.normalise(rgb, 150).outline_uncertain
    found = segment(rgb, 150, get_profile("stacked"))
    assert OUTLINE_FLAG not in found.flags and "count_mismatch" not in found.flags
    assert len(found.regions) == len(page.entries)


def _page_beside_its_lid(leaf: list[list[int]] | None = None, right: int = 1040) -> Grey:
    """A flat scan of a ruled page on a dark lid, its rules level and upright up to
    column ``right``: by default the leaf's top edge slants and the page runs off the
    scan's right side; ``leaf``: the leaf's corners instead."""
    height, width = 1400, 1100
    scan = np.full((height, width), 35, np.uint8)
    corners = leaf or [[70, 130], [width, 40], [width, 1360], [100, 1370]]
    cv2.fillPoly(scan, [np.array(corners, np.int32)], 232)
    for y in range(220, 1321, 110):
        scan[y : y + 3, 160:right] = 30
    for x in (160, 330, right):
        scan[220:1323, x : x + 3] = 30
    for y in range(220, 1210, 110):
        _write(scan, (345, y + 20, right - 20, y + 100), seed=y)
    return scan


def _warped_to_its_outline(scan: Grey) -> Grey:
    """The small red channel of ``scan`` warped to the page outline found on it (one
    that holds all the ink, so ``check_outline`` accepts it)."""
    grey, red, factor = nm.downscale(_rgb(scan), DPI)
    quad = nm.find_paper(grey)
    assert quad is not None
    outline = nm.check_outline(red, quad, DPI * factor)
    assert outline is not None and not outline.widened  # the ink is all on the leaf
    return nm._rewarp(red, outline.matrix @ geo.scale(factor), factor, outline.size, DPI)


def test_a_scanned_leaf_on_its_lid_is_cut_out_not_warped_to_a_rectangle() -> None:
    # Its bright region is no rectangle, and warping it to one fans the level rules
    # out by degrees (as on rep_dufour1_07645_L-0, where cuts then slanted across the
    # next entry's first line): the leaf is cut out as it lies, the lid left white.
    scan = _page_beside_its_lid()
    warped = _warped_to_its_outline(scan)
    assert (nm.line_fan(nm.ink_of(warped)) or 0.0) > 2.0
    norm = nm.normalise(_rgb(scan), DPI, landscape=False)
    assert not norm.camera
    assert nm.line_fan(norm.ink) is not None and nm.line_fan(norm.ink) < 0.3  # type: ignore[operator]
    ys, xs = np.nonzero(scan <= 30)  # the rules and the writing, not the lid (35)
    assert _inside_frame(norm, np.column_stack([xs, ys]).astype(np.float64))
    mapped = geo.apply(norm.matrix, np.array([[20.0, 700.0], [50.0, 60.0]]))
    height, width = norm.flat.shape
    for x, y in mapped:  # where the lid was: white, not an edge taken for a rule
        if 0 <= x < width and 0 <= y < height:
            assert norm.flat[int(y), int(x)] == 255
    found = segment(_rgb(scan), DPI, get_profile("stacked"))
    assert len(found.regions) == 10


def test_a_scanned_leaf_whose_outline_is_no_rectangle_is_not_sheared_square() -> None:
    # A flat scan of a ruled leaf on its lid whose bright region is a parallelogram:
    # its sides lean by 2 degrees, its rules are level and upright. Warped to a
    # rectangle, the level rules stay level and parallel (no fan) but the upright ones
    # lean: the cuts, level in that frame, would run off the writing's rows at the
    # table's sides (rep_dufour1_07645_L-0 captured darker). The leaf is cut out as
    # it lies, its rules square.
    scan = _page_beside_its_lid([[110, 60], [1080, 60], [1040, 1360], [70, 1360]], 1000)
    warped = _warped_to_its_outline(scan)
    assert (nm._off_square(nm._long_segments(nm.ink_of(warped))) or 0.0) > 1.0
    norm = nm.normalise(_rgb(scan), DPI, landscape=False)
    assert not norm.camera
    square = nm._off_square(nm._long_segments(norm.ink))
    assert square is not None and square < 0.3
    ys, xs = np.nonzero(scan <= 30)  # the rules and the writing, not the lid (35)
    assert _inside_frame(norm, np.column_stack([xs, ys]).astype(np.float64))


def test_a_photo_in_perspective_keeps_its_warp_when_its_rules_fan_out() -> None:
    # The same ruled page photographed in perspective on a table: its rules fan out in
    # the photo and are parallel once warped, so the warp is kept.
    sheet = np.full((1100, 800), 232, np.uint8)
    for y in range(100, 1001, 100):
        sheet[y : y + 3, 60:740] = 30
    for x in (60, 200, 740):
        sheet[100:1003, x : x + 3] = 30
    corners = np.array([[0, 0], [800, 0], [800, 1100], [0, 1100]], np.float32)
    placed = np.array([[200, 100], [900, 160], [980, 1200], [120, 1150]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, placed)
    photo = cv2.warpPerspective(sheet, matrix, (1100, 1300), borderValue=60)
    assert (nm.line_fan(nm.ink_of(nm.flatten(photo, DPI))) or 0.0) > 1.0
    norm = nm.normalise(_rgb(photo), DPI, landscape=False)
    assert norm.camera
    assert nm.line_fan(norm.ink) is not None and nm.line_fan(norm.ink) < 0.3  # type: ignore[operator]
