"""Entry segmentation: propose one region per ledger entry on a captured image.

Pure functions of an image and a layout profile. The page is normalised on a small
copy (:mod:`station.processing.imaging.normalise`), each page's table frame is found and fitted
(:mod:`station.processing.imaging.frames`), and a homography per page takes the capture's pixels
to a *page frame* in which that table is an upright rectangle at the capture's own
resolution, offset by a margin. Entries are the bands between the frame's top, the
ruled lines across it and its bottom (a short first band is the column-heading row of
a stacked table, not an entry). A region is a box in its page frame plus that
homography, so cutting it out is one perspective warp of just the box's pixels
(:func:`crop_region`), straight from the full-resolution capture.

Edges: inner cuts lie on the centre of the ruled line between two entries, so nothing
of the neighbour comes along; the frame's own edges get a small outer margin, as
nothing but paper lies beyond them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from station.core.layouts import LayoutProfile
from station.processing.imaging import boundaries
from station.processing.imaging import dewarp as dw
from station.processing.imaging import entries as keyed
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging import outside as out
from station.processing.imaging import template as tp
from station.processing.imaging.frames import (
    Frame,
    find_frame,
    line_masks,
    page_columns,
    ruled_rows,
)
from station.processing.imaging.regions import (
    CONTINUED_FLAG,
    Box,
    ProposedRegion,
    crop_region,
    keyed_regions,
    region_polygon,
)
from station.processing.imaging.templated import TEMPLATE_FLAG, Registered, templated

__all__ = [
    "BELOW_FLAG",
    "BLANK_FLAG",
    "CONTINUED_FLAG",
    "DEWARP_FLAG",
    "NO_FRAME_FLAG",
    "ORIENTATION_FLAG",
    "OUTLINE_FLAG",
    "TEMPLATE_FLAG",
    "Box",
    "ProposedRegion",
    "Segmentation",
    "crop_region",
    "learn_template",
    "normalised",
    "region_polygon",
    "segment",
]

log = logging.getLogger(__name__)

OUTER_MARGIN_MM = 1.5  # paper kept beyond the table frame
HEADING_SHARE = 0.08  # a first band shorter than this share of the frame: column headings
MIN_CONFIDENCE = 0.6
LOW_CONFIDENCE_FLAG = "low_confidence"
#: A page of several entries that gives none is read again as if captured at this
#: share of its stated resolution (see :func:`segment`). Measured on the tuning images
#: resized to 0.7 and 0.6 of their resolution with the tag kept (bench/real_variations.py).
LOWER_DPI = 2 / 3
#: The paper's outline cut ink and was widened to hold it (see ``normalise.check_outline``).
OUTLINE_FLAG = "page_outline_uncertain"
#: No rules between the entries: they were cut at their start marks, which an operator
#: confirms (a page whose cuts are wrong must not publish on its own).
NO_FRAME_FLAG = "no_frame"
#: Run lengths and the sheet's shape disagreed on which way the text runs (the
#: letters were asked when the detector is installed): a person checks the page.
ORIENTATION_FLAG = "orientation_uncertain"
#: Writing below the last entry of a page, in no region: a last line or a note under the
#: table that no file would hold. The page goes to a person.
BELOW_FLAG = "ink_below_entries"
#: Share of the page's ink below its last entry from which :data:`BELOW_FLAG` is set
#: (specks and the page's own edge stay under it; a handwritten line is ~1%).
BELOW_SHARE = 0.005
#: Ink this close under the last entry's lower edge (inches) is its own descenders.
BELOW_MARGIN_IN = 0.08
#: A spread's gutter not sure (:func:`frames.page_columns`): no fold shading, and the
#: emptiest column no emptier than the writing around it (a table running across an
#: unshaded fold, an uncut page): which entry lies on which page is in doubt.
GUTTER_FLAG = "gutter_uncertain"
#: The page was curved and its lines were straightened (:mod:`.dewarp`): every cut
#: follows the bent lines, which a person glances over.
DEWARP_FLAG = "dewarped"
#: A page holds no writing beside one that does: no entry was cut from it (its ink, if any, is
#: accounted for outside every entry as ``blank_page``); a person confirms it is blank.
BLANK_FLAG = "blank_page"


@dataclass(frozen=True)
class Segmentation:
    """What segmentation found on one image."""

    regions: list[ProposedRegion]
    angle: float
    flags: list[str] = field(default_factory=list)
    gutter_x: int | None = None
    turns: int = 0  # clockwise quarter turns that made the page upright
    camera: bool = False
    #: The page's ink outside every region, by reason (:mod:`.outside`).
    outside: out.Accounting = field(default_factory=lambda: out.Accounting([], {}, 1.0))
    #: The figures behind some flags (flag -> field -> value), for their words:
    #: ``core.flagtext``.
    details: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Why the book's template was not used on this page ("" when it was, or none given).
    template_refused: str = ""

    @property
    def confidence(self) -> float:
        return min((r.confidence for r in self.regions), default=0.0)


def segment(
    rgb: NDArray[np.uint8],
    dpi: int,
    profile: LayoutProfile,
    template: tp.BookTemplate | None = None,
) -> Segmentation:
    """Propose entry regions on ``rgb`` (H x W x 3) according to ``profile``, and to
    the book's ``template`` when the page registers to it.

    A page of several entries that gives none (the whole page for review) is read once
    more as if its resolution were :data:`LOWER_DPI` of ``dpi``: a capture resized
    after its resolution was written (a phone's photo scaled down, a tag copied from
    another scan) shows its letters and thin rules smaller than every level expects,
    and the numbers' column bounded by thin rules is not found. That reading is kept
    only when it finds the entries.
    """
    found = _segment_at(rgb, dpi, profile, template)
    if LOW_CONFIDENCE_FLAG not in found.flags or profile.entries_max <= 1:
        return found
    lower = round(dpi * LOWER_DPI)
    again = _segment_at(rgb, lower, profile, template)
    if LOW_CONFIDENCE_FLAG in again.flags:
        return found
    log.info(
        "no entries at %d dpi; %d found reading the page at %d dpi", dpi, len(again.regions), lower
    )
    return again


def _segment_at(
    rgb: NDArray[np.uint8],
    dpi: int,
    profile: LayoutProfile,
    template: tp.BookTemplate | None,
) -> Segmentation:
    """:func:`segment`, the page read at ``dpi``."""
    norm, ink, frames, gutter, gutter_sure = normalised(rgb, dpi, profile)
    work_dpi = dpi * norm.work_scale
    fold = None if gutter is None else (gutter, max(1, round(work_dpi * FOLD_HALF_IN)))
    sides = [columns for _, columns in frames]
    page = _Page(norm, _blank_fold(ink, fold, 0), rgb, work_dpi, sides, fold)
    fit = None
    if template is not None and profile.table_across:
        # A template's cuts are a page side's; a table across the spread is cut whole.
        page.refused = ACROSS_REFUSED
    elif template is not None:
        fit = tp.register(template, ink, tp.writing_mask(page.writing), profile.pages_per_image)
    if fit is not None and fit.registration is None:
        log.info("template refused: %s %s", fit.reason, fit.details)
    registered = Registered(template, fit.registration) if template and fit else None
    regions: list[ProposedRegion] = []
    flags: set[str] = set()
    counts = []
    if profile.table_across and len(frames) == 2:
        cuts = [_across(page, frames, dpi)]  # the spread is read as one page
    else:
        cuts = [
            _page_regions(page, frame, columns, dpi, side, profile, registered)
            for side, (frame, columns) in enumerate(frames)
        ]
    for side, (found, unruled) in enumerate(cuts):
        counts.append(len(found))
        templated = any(TEMPLATE_FLAG in r.flags for r in found)
        fixed = templated and template is not None and template.kind == tp.FIXED
        if side in page.blank:
            flags.add(BLANK_FLAG)
        elif not fixed and not profile.entries_min <= len(found) <= profile.entries_max:
            flags.add("count_mismatch")
        if unruled and not fixed:
            flags.add(NO_FRAME_FLAG)
        if templated:
            flags.add(TEMPLATE_FLAG)
        if _ink_below(norm, ink, found, work_dpi) > BELOW_SHARE:
            flags.add(BELOW_FLAG)
        regions += found
    if not regions or any(r.confidence < MIN_CONFIDENCE for r in regions):
        flags.add(LOW_CONFIDENCE_FLAG)
    if norm.outline_uncertain:
        flags.add(OUTLINE_FLAG)
    if norm.orientation_uncertain:
        flags.add(ORIENTATION_FLAG)
    polygons = [(r.page_side, region_polygon(r.box, r.warp, shape=r.shape)) for r in regions]
    blank_columns = [page.columns[side] for side in page.blank]
    accounting = out.account_page(norm, polygons, work_dpi, gutter, blank_columns)
    if accounting.flagged_share > out.FLAG_SHARE:
        flags.add(out.OUTSIDE_FLAG)
    gutter_x = None
    if not gutter_sure:
        flags.add(GUTTER_FLAG)
    if gutter is not None:
        middle = norm.flat.shape[0] / 2
        gutter_x = round(float(norm.to_source(np.array([[gutter, middle]]))[0, 0]))
    if norm.bend is not None:
        flags.add(DEWARP_FLAG)
        regions = [_bent(r, norm.bend, dpi) for r in regions]
    refused = fit.reason if fit is not None and fit.registration is None else page.refused
    return Segmentation(
        regions, norm.angle, sorted(flags), gutter_x, norm.turns, norm.camera,
        outside=accounting,
        details=out.details(accounting, (profile.entries_min, profile.entries_max), counts, flags),
        template_refused=refused,
    )  # fmt: skip


def _bent(region: ProposedRegion, bend: dw.Bend, dpi: int) -> ProposedRegion:
    """``region`` of a dewarped page with the grid its cut and outline follow."""
    if region.warp is None:
        return region
    grid = dw.region_grid(region.box, region.warp, bend, dpi * dw.GRID_IN)
    return replace(region, bend=grid)


def normalised(
    rgb: NDArray[np.uint8], dpi: int, profile: LayoutProfile
) -> tuple[nm.Normalised, nm.Gray, list[tuple[Frame | None, tuple[int, int]]], int | None, bool]:
    """The page normalised as segmentation sees it (upright by its header too), its
    ink with the border blanked, each page's frame and columns, the gutter and whether
    it is sure (:func:`frames.page_columns`)."""
    norm = nm.normalise(rgb, dpi, landscape=profile.pages_per_image == 2)
    work_dpi = dpi * norm.work_scale
    ink = _inner(norm.ink, 0)
    frames, gutter, sure = _frames(ink, profile.pages_per_image, work_dpi, norm.shade)
    if not norm.turned_by_text and _upside_down(norm, frames):
        norm = nm.turn_half(norm)
        ink = _inner(norm.ink, 0)
        frames, gutter, sure = _frames(ink, profile.pages_per_image, work_dpi, norm.shade)
    return norm, ink, frames, gutter, sure


def learn_template(
    rgb: NDArray[np.uint8],
    dpi: int,
    profile: LayoutProfile,
    outlines: Sequence[tuple[int | None, NDArray[np.float64]]],
    source: str = "",
    created_at: str = "",
) -> tp.BookTemplate:
    """The template a confirmed page teaches: ``outlines`` are its entries (page side,
    None when unknown: then the side of the gutter it lies on; corners in the capture's
    decoded pixels, or a dewarped region's bowed outline: taken back to the page's
    straight capture), normalised the way :func:`segment` does."""
    norm, ink, _, gutter, _ = normalised(rgb, dpi, profile)
    writing = tp.writing_mask(_inner(norm.writing, 255))
    mapped: list[tuple[int, NDArray[np.float64]]] = []
    for side, points in outlines:
        straight = points if norm.bend is None else norm.bend.to_straight(points)
        moved = geo.apply(norm.matrix, straight)
        if side is None:
            side = int(gutter is not None and float(moved[:, 0].mean()) > gutter)
        mapped.append((side, moved))
    work_dpi = dpi * norm.work_scale
    return tp.build(ink, writing, mapped, work_dpi, source, created_at, profile.pages_per_image)


def _ink_below(
    norm: nm.Normalised, ink: nm.Gray, regions: Sequence[ProposedRegion], work_dpi: float
) -> float:
    """Share of the page's ink (``ink``, border blanked) that lies below all of one
    page's ``regions``, across their width, in the normalised frame."""
    total = cv2.countNonZero(ink)
    if not regions or not total:
        return 0.0
    outlines = np.vstack([geo.apply(norm.matrix, region_polygon(r.box, r.warp)) for r in regions])
    height, width = ink.shape
    left = max(0, int(outlines[:, 0].min()))
    right = min(width, int(np.ceil(outlines[:, 0].max())))
    below = int(np.ceil(outlines[:, 1].max() + BELOW_MARGIN_IN * work_dpi))
    if below >= height or right <= left:
        return 0.0
    return cv2.countNonZero(ink[below:, left:right]) / total


def _frames(
    ink: nm.Gray, pages: int, work_dpi: float, shade: NDArray[np.float32] | None = None
) -> tuple[list[tuple[Frame | None, tuple[int, int]]], int | None, bool]:
    """Each page's table frame (None when none is ruled) and its columns, on the ink
    without its border (:func:`_inner`), and the gutter (``shade`` shows a spread's
    fold) with whether it is sure."""
    columns, gutter, sure = page_columns(ink, pages, shade, work_dpi)
    horizontal, vertical = line_masks(ink, work_dpi)
    frames = [(find_frame(horizontal, vertical, x0, x1), (x0, x1)) for x0, x1 in columns]
    return frames, gutter, sure


#: Why a book's template is not used on a spread whose one table runs across both pages.
ACROSS_REFUSED = "a table across the spread is cut from its own entry numbers, not by a template"

#: Half the width of the band down a spread's fold that is no page's writing (inches).
FOLD_HALF_IN = 0.08


class _Page:
    """The normalised image with its border blanked, read by every page of a spread:
    the ink at once, the darkest channel the first time entries are sought by marks."""

    def __init__(
        self,
        norm: nm.Normalised,
        ink: nm.Gray,
        rgb: NDArray[np.uint8],
        work_dpi: float,
        columns: Sequence[tuple[int, int]],
        fold: tuple[int, int] | None = None,
    ) -> None:
        self.norm = norm
        self.ink = ink
        self.rgb = rgb  # the capture, where the boundaries found are refined
        self.work_dpi = work_dpi
        self.fold = fold
        self._writing: nm.Gray | None = None
        self.refused = ""  # why a side refused the book's template
        self.blank: list[int] = []  # the sides found blank (no entry cut from them)
        self.columns = list(columns)  # each page side's columns
        self._sides: dict[int, keyed.Writing] = {}
        self._letters: list[keyed.Letters] | None = None  # each side's (is_blank)

    @property
    def writing(self) -> nm.Gray:
        if self._writing is None:
            self._writing = _blank_fold(_inner(self.norm.writing, 255), self.fold, 255)
        return self._writing

    def writing_of(self, side: int) -> keyed.Writing:
        """A page side's writing as entries are sought in it (taken once)."""
        if side not in self._sides:
            x0, x1 = self.columns[side]
            self._sides[side] = keyed.writing_of(
                self.ink, self.writing, x0, x1, self.work_dpi, red=self.norm.flat
            )
        return self._sides[side]

    def is_blank(self, side: int) -> bool:
        """Whether a page side holds no writing while another does: a book opens on a
        blank page beside a written one, whose few marks may be what shows through its
        leaf (:meth:`keyed.Letters.show_through_beside`). A capture with no writing on
        any page goes whole to a person, as nothing says what it holds."""
        if len(self.columns) < 2:
            return False  # a single page has no other
        if self._letters is None:
            sides = range(len(self.columns))
            self._letters = [keyed.letters_of(self.writing_of(s), self.work_dpi) for s in sides]
        mine = self._letters[side]
        written = [o for s, o in enumerate(self._letters) if s != side and o.written]
        if not written:
            return False
        return not mine.written or any(mine.show_through_beside(o) for o in written)


def _blank_fold(image: nm.Gray, fold: tuple[int, int] | None, fill: int) -> nm.Gray:
    """``image`` with the columns of a spread's fold (column, half width) set to
    ``fill``: the crease's shadow is a dark line down the page, which the pages on
    either side would take for a rule or for their table's edge."""
    if fold is None:
        return image
    image = image.copy()
    column, half = fold
    image[:, max(0, column - half) : column + half + 1] = fill
    return image


def _inner(image: nm.Gray, fill: int) -> nm.Gray:
    """``image`` with a thin border set to ``fill``: paper edges and table slivers at
    the border of a warped photo look like long lines and like writing."""
    image = image.copy()
    border = max(3, round(min(image.shape) * 0.02))
    image[:border], image[-border:], image[:, :border], image[:, -border:] = fill, fill, fill, fill
    return image


def _upside_down(
    norm: nm.Normalised, frames: Sequence[tuple[Frame | None, tuple[int, int]]]
) -> bool:
    """Whether most frames have their page header below them."""
    votes = []
    for frame, _ in frames:
        if frame is not None:
            xs, ys = frame.corners[:, 0], frame.corners[:, 1]
            votes.append(
                nm.header_below(norm.ink, ys.min(), ys.max(), float(xs.min()), float(xs.max()))
            )
    return bool(votes) and sum(votes) * 2 > len(votes)


def _page_regions(
    page: _Page,
    frame: Frame | None,
    columns: tuple[int, int],
    dpi: int,
    side: int,
    profile: LayoutProfile,
    registered: Registered | None = None,
) -> tuple[list[ProposedRegion], bool]:
    """The entries of one page, top to bottom, and whether they were cut without rules
    (:data:`NO_FRAME_FLAG`).

    The book's template when the page registered to it
    (:mod:`station.processing.imaging.templated`); else ruled bands when the page rules
    lines between entries; else, on a layout with several entries a page, the entries
    their start marks show
    (:mod:`station.processing.imaging.entries`); else the whole page for review. A
    blank page beside a written one that rules no line between entries gives none
    (:data:`BLANK_FLAG`: it would otherwise take an entry number).
    """
    norm = page.norm
    ruled = _ruled_regions(norm, frame, dpi, side) if frame is not None else []
    if registered is not None and registered.registration is not None:
        templated_cuts = templated(page, registered, dpi, side, columns, ruled)
        if isinstance(templated_cuts, str):
            log.info("template refused on side %d: %s", side, templated_cuts)
            page.refused = page.refused or templated_cuts
        elif templated_cuts is not None:
            return templated_cuts
    if len(ruled) >= 2:  # the page rules a line between entries
        return ruled, False
    if not ruled and page.is_blank(side):
        page.blank.append(side)  # its ink is accounted for as outside every entry
        return [], False
    if profile.entries_max > 1:
        found = keyed.find_entries(
            page.ink, page.writing, columns[0], columns[1], page.work_dpi,
            writing=page.writing_of(side),
        )  # fmt: skip
        if found is not None:
            back = geo.invert(norm.matrix)
            found = boundaries.refine(page.rgb, back, found, norm.work_scale, dpi, norm.bend)
            return keyed_regions(norm, found, columns, dpi, side), True
    if ruled:
        return ruled, False
    return _fallback(norm, columns, side), False


def _across(
    page: _Page, frames: Sequence[tuple[Frame | None, tuple[int, int]]], dpi: int
) -> tuple[list[ProposedRegion], bool]:
    """The entries of a spread whose one table runs across both pages (a profile's
    ``table_across``), and whether they were cut without rules: each entry from its
    start mark in the left page's key column to the next, cut across both pages, as
    one region (page side 0). The pages' rules are not read: rows ruled across the
    spread stop at the fold, so each page would give its halves of the entries. When
    no key column with start marks is found on the left page, the whole spread goes
    to a person (low confidence), never a page's half of each entry."""
    norm = page.norm
    x0, x1 = frames[0][1][0], frames[-1][1][1]
    fold = frames[1][1][0]
    writing = keyed.writing_of(page.ink, page.writing, x0, x1, page.work_dpi, red=norm.flat)
    # The two pages of a bound book seldom lie in one plane: the right page's rows are
    # brought level with the left page's, and each half is cut along its own rows.
    turn = keyed.turn_at(writing, fold - x0)
    found = keyed.find_entries(
        page.ink, page.writing, x0, x1, page.work_dpi,
        writing=keyed.level_across(writing, fold - x0, turn), fold=fold,
    )  # fmt: skip
    if found is not None and found.key[1] <= fold:
        found = replace(found, fold=float(fold), turn=turn)
        back = geo.invert(norm.matrix)
        found = boundaries.refine(page.rgb, back, found, norm.work_scale, dpi, norm.bend)
        return keyed_regions(norm, found, (x0, x1), dpi, 0), True
    log.info("no key column on the left page of a table across the spread")
    return _fallback(norm, (x0, x1), 0), True


def _ruled_regions(norm: nm.Normalised, frame: Frame, dpi: int, side: int) -> list[ProposedRegion]:
    """The bands between the table frame's ruled lines."""
    corners = norm.to_capture(frame.corners)
    width, height = geo.quad_size(corners)
    margin = round(dpi * 3 / 25.4)
    warp = geo.quad_to_rect(corners, (margin, margin, margin + width, margin + height))
    rows = _rules_in_frame(norm, warp, (width, height), margin, dpi)
    bounds = [0.0, *[r for r in rows if 0.02 * height < r < 0.98 * height], height]
    bands = list(itertools.pairwise(bounds))
    if len(bands) > 1 and bands[0][1] - bands[0][0] < HEADING_SHARE * height:
        bands = bands[1:]
    outer = dpi * OUTER_MARGIN_MM / 25.4
    confidence = 0.95 if frame.residual < 1.5 else max(0.3, 0.95 - 0.1 * frame.residual)
    flat = tuple(float(v) for v in warp.ravel())
    regions = []
    for top, bottom in bands:
        top_px = top - outer if top == 0.0 else top
        bottom_px = bottom + outer if bottom == height else bottom
        box = (
            round(margin - outer),
            round(margin + top_px),
            round(margin + width + outer),
            round(margin + bottom_px),
        )
        regions.append(ProposedRegion(box, side, confidence, flat))
    return regions


def _rules_in_frame(
    norm: nm.Normalised, warp: geo.Matrix, size: tuple[float, float], margin: int, dpi: int
) -> list[float]:
    """Ruled lines across the frame, as offsets below its top in page-frame pixels."""
    factor = norm.work_scale
    small = geo.scale(factor) @ warp @ geo.invert(norm.matrix)
    out = (round((size[0] + 2 * margin) * factor), round((size[1] + 2 * margin) * factor))
    warped = cv2.warpPerspective(norm.ink, small, out, flags=cv2.INTER_LINEAR)
    ink = nm.u8(cv2.threshold(warped, 95, 255, cv2.THRESH_BINARY)[1])
    left, right = margin * factor, (margin + size[0]) * factor
    rows = ruled_rows(
        ink, left + 0.03 * (right - left), right - 0.03 * (right - left), dpi * factor
    )
    return [row / factor - margin for row in rows]


def _fallback(norm: nm.Normalised, columns: tuple[int, int], side: int) -> list[ProposedRegion]:
    """No ruled frame: the page's ink extent, with a low confidence for review."""
    x0, x1 = columns
    ys, xs = np.nonzero(norm.ink[:, x0:x1])
    if xs.size == 0:
        return []
    quad = np.array(
        [
            [x0 + xs.min(), ys.min()],
            [x0 + xs.max() + 1, ys.min()],
            [x0 + xs.max() + 1, ys.max() + 1],
            [x0 + xs.min(), ys.max() + 1],
        ],
        dtype=np.float64,
    )
    corners = norm.to_capture(quad)
    width, height = geo.quad_size(corners)
    warp = geo.quad_to_rect(corners, (0, 0, width, height))
    box = (0, 0, round(width), round(height))
    return [ProposedRegion(box, side, 0.3, tuple(float(v) for v in warp.ravel()))]
