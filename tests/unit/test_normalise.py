"""Page normalisation: paper found on a table, quarter turns, skew, flattened light."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging import textdir
from station.processing.imaging.entries import MARK_LEVEL
from station.processing.imaging.segment import ORIENTATION_FLAG, segment

DPI = 150


def test_paper_on_a_table_is_found_at_its_corners() -> None:
    page = render_page(RenderSpec(profile="page-1", dpi=DPI, seed=4, camera=True, skew_max_deg=5))
    grey, _, factor = nm.downscale(np.asarray(page.image), DPI)
    quad = nm.find_paper(grey)
    assert quad is not None
    # The sheet's corners are where the simulator put the flat sheet's corners.
    sheet = np.asarray(page.transform, dtype=np.float64)
    flat_w, flat_h = round(210 / 25.4 * DPI), round(297 / 25.4 * DPI)
    corners = geo.apply(sheet, [(0, 0), (flat_w, 0), (flat_w, flat_h), (0, flat_h)]) * factor
    assert np.abs(quad - corners).max() < 6  # small pixels, about 1.5 mm


def test_a_scan_is_not_mistaken_for_a_photo() -> None:
    page = render_page(RenderSpec(profile="spread-2", dpi=DPI, seed=4, skew_max_deg=5))
    grey, _, _ = nm.downscale(np.asarray(page.image), DPI)
    assert nm.find_paper(grey) is None
    assert not nm.normalise(np.asarray(page.image), DPI).camera


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_quarter_turns_are_undone(turns: int) -> None:
    page = render_page(RenderSpec(profile="stacked", dpi=DPI, seed=6, skew_max_deg=2))
    turned = np.ascontiguousarray(np.rot90(np.asarray(page.image), -turns))
    norm = nm.normalise(turned, DPI, landscape=False)
    assert norm.turns % 2 == turns % 2
    # A turned page is always portrait again after normalisation.
    assert norm.flat.shape[0] > norm.flat.shape[1]
    # Run lengths and the sheet's shape agreed: nothing in doubt, no detector asked.
    assert not norm.orientation_uncertain and not norm.turned_by_text


@pytest.mark.parametrize("turns", [1, 3])
def test_text_across_the_expected_shape_is_settled_by_the_letters(turns: int) -> None:
    """A table printed sideways on a portrait sheet: the run lengths turn it, which
    contradicts the portrait sheet, so tesseract's orientation detector is asked; the
    page comes out upright and is flagged for a person to check."""
    page = render_page(RenderSpec(profile="spread-2", dpi=DPI, seed=4, skew_max_deg=2))
    turned = np.ascontiguousarray(np.rot90(np.asarray(page.image), -turns))
    norm = nm.normalise(turned, DPI, landscape=False)
    assert norm.orientation_uncertain
    assert norm.turns == 4 - turns and norm.turned_by_text
    found = segment(turned, DPI, get_profile("page-1"))
    assert found.turns == 4 - turns and ORIENTATION_FLAG in found.flags


def test_without_the_detector_the_run_lengths_stand_in_doubt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    assert not textdir.available()
    page = render_page(RenderSpec(profile="spread-2", dpi=DPI, seed=4, skew_max_deg=2))
    turned = np.ascontiguousarray(np.rot90(np.asarray(page.image), -1))
    norm = nm.normalise(turned, DPI, landscape=False)
    assert norm.turns % 2 == 1 and norm.orientation_uncertain and not norm.turned_by_text
    found = segment(turned, DPI, get_profile("page-1"))
    assert found.turns == 3 and ORIENTATION_FLAG in found.flags  # the header decided the end


def test_skew_is_measured_from_the_ruled_lines() -> None:
    page = render_page(RenderSpec(profile="spread-2", dpi=DPI, seed=11, skew_max_deg=5))
    norm = nm.normalise(np.asarray(page.image), DPI, landscape=True)
    assert abs(norm.angle + page.skew_deg) < 0.3  # the fix turns the other way


def test_flattening_removes_a_shadow_but_keeps_ink() -> None:
    paper = np.full((200, 300), 220, np.uint8)
    paper[:, :150] = 120  # the binding's shadow over half the page
    paper[100:102, 20:280] = 30  # a ruled line through both halves
    paper[100:102, 20:150] = 15
    flat = nm.flatten(paper, 100)
    ink = nm.ink_of(flat)
    assert ink[100, 20:280].all()
    assert not ink[20:90, 20:280].any()


def test_header_below_the_table_means_upside_down() -> None:
    ink = np.zeros((400, 300), np.uint8)
    ink[20:40, 50:250] = 255  # header text
    assert not nm.header_below(ink, 60, 380, 40, 260)
    assert nm.header_below(np.ascontiguousarray(ink[::-1, ::-1]), 20, 340, 40, 260)


def test_stacked_leaves_at_the_sides_do_not_turn_an_upright_page() -> None:
    # Sparse writing in rows across the middle of a 100-dpi spread, and beside it the
    # stacked leaves of a book block: many short, close vertical strokes along both
    # sides. Their runs down the page outnumber the writing's runs along it; read
    # away from the sheet's edges, the writing's rows decide.
    ink = np.zeros((1300, 1800), np.uint8)
    rng = np.random.default_rng(5)
    for y in range(250, 1050, 40):
        x = 300
        while x < 1500:
            length = int(rng.integers(15, 45))
            ink[y : y + 3, x : x + length] = 255
            x += length + int(rng.integers(10, 25))
    for x0 in (20, 1700):
        for x in range(x0, x0 + 80, 4):
            top = int(rng.integers(0, 300))
            for y in range(top, 1300 - 120, 140):
                ink[y : y + 120, x : x + 2] = 255  # 1.2 inch: shorter than a rule
    assert not nm.turned_sideways(ink, 100.0)


def _writing(stroke: int, share: float = 0.01) -> np.ndarray:
    """A flattened page: paper 255 with a little texture, ``share`` of it strokes at
    ``stroke``."""
    rng = np.random.default_rng(7)
    page = (255 - rng.integers(0, 12, (400, 600))).astype(np.uint8)
    strokes = rng.random((400, 600)) < share
    page[strokes] = stroke
    return page


def _pale(writing: np.ndarray) -> np.ndarray | None:
    """:func:`nm.toned` for a page whose ink mask holds nothing at the ink level."""
    return nm.toned(writing, np.zeros_like(writing))


def test_a_page_in_pale_ink_is_darkened_to_the_level_the_thresholds_are_set_on() -> None:
    pale = _writing(125)
    curve = _pale(pale)
    assert curve is not None
    darkened = curve[pale]
    assert np.percentile(darkened, nm.TONE_SHARE) == pytest.approx(nm.TONE_LEVEL, abs=2)
    # Paper stays white and no tone changes place with another.
    assert curve[255] == 255 and (np.diff(curve.astype(int)) >= 0).all()
    # The curve is bounded: very faint writing is darkened by at most TONE_MAX.
    faint = _pale(_writing(190))
    assert faint is not None
    assert faint[190] == round(255 * (190 / 255) ** nm.TONE_MAX)


def test_a_page_in_dark_ink_or_a_blank_leaf_is_left_as_it_is() -> None:
    assert _pale(_writing(60)) is None
    assert _pale(_writing(nm.TONE_LEVEL)) is None
    assert _pale(_writing(225)) is None  # no writing darker than paper's texture


def _register(writing: int) -> tuple[np.ndarray, np.ndarray]:
    """A flattened register page (its darkest channel) and its ink mask: dark printed
    rules and headings, and rows of letter-sized strokes at ``writing`` below them."""
    rng = np.random.default_rng(11)
    page = (255 - rng.integers(0, 12, (600, 500))).astype(np.uint8)
    page[40:52, 150:350] = 40  # the printed title
    for y in range(90, 600, 45):
        page[y : y + 2, 20:480] = 50  # rules under the printed headings' row, then rows
    for x in (20, 60, 200, 480):
        page[90:600, x : x + 2] = 50
    for y in range(105, 590, 45):
        for x in range(70, 460, 14):
            if x // 14 % 5:  # words of four letters
                page[y : y + 14, x : x + 3] = writing
                page[y + 10 : y + 13, x : x + 9] = writing
    return page, nm.ink_of(page)


def test_faded_writing_beside_dark_print_is_darkened_until_it_reads_at_the_ink_level() -> None:
    # A register printed (or ruled) in dark ink whose handwriting has faded: its dark
    # ink is all print, and its letters lie at 228, where nothing reads them (the
    # simulator's faded registers hold their writing at 180-245). No gamma brings
    # them out: the print sets the page's darkest tones.
    page, ink = _register(228)
    curve = nm.toned(page, ink)
    assert curve is not None
    assert curve[255] == 255 and (np.diff(curve.astype(int)) >= 0).all()
    letters = page == 228
    assert (curve[page][letters] <= nm.FADED_TO).all()
    assert (curve[page][letters] < MARK_LEVEL).all()
    # The paper's grain stays paper, paler than the level marks are read at.
    assert (curve[page][page >= 243] > MARK_LEVEL).all()


def test_dark_writing_beside_its_print_is_left_as_it_is() -> None:
    # The same page written in dark ink: its letters are in the ink mask, and the
    # paler tones off it (the grain, the edges of strokes) are no writing.
    page, ink = _register(60)
    assert nm.toned(page, ink) is None


def test_a_page_with_enough_dark_ink_is_not_darkened_for_its_paler_writing() -> None:
    # Its darkest 0.3% are pale, but its ink mask holds 2% of the page: it is read by
    # that ink, and darkening it would raise its paper's grain (a margin, a page edge)
    # towards the writing.
    writing = _writing(125)
    ink = np.zeros_like(writing)
    ink[:, 100:112] = 255  # 2% of the page, in its middle
    assert nm.toned(writing, ink) is None


def test_a_page_ruled_in_strokes_broken_into_dashes_is_deskewed_by_them() -> None:
    # A register hand-ruled in thin strokes, written in faded ink and scanned 2.5
    # degrees askew: at the ink level its rules break into dashes a few pixels apart,
    # no long line showed, and the page was left askew (angle 0).
    spec = RenderSpec(
        profile="stacked", dpi=300, seed=601, page_index=1, style="register",
        skew_max_deg=3.0, faded_probability=0.35,
    )  # fmt: skip
    page = render_page(spec)
    sheet = np.asarray(page.transform, dtype=np.float64)
    turned = np.degrees(np.arctan2(sheet[1, 0], sheet[0, 0]))
    assert abs(turned) > 2
    norm = nm.normalise(np.asarray(page.image), 300)
    assert norm.angle == pytest.approx(turned, abs=0.3)
