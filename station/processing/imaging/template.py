"""Book templates: what a confirmed page teaches about its book's form.

Printed ledgers repeat one form on every page. A template holds a confirmed page's
entry outlines in *page-relative* coordinates of the normalised page (upright,
deskewed, perspective corrected; 0..1 across its width and height) and the ink
profiles that later pages are registered by. Pure functions: the store keeps a
template as the plain dict :meth:`BookTemplate.to_dict` gives.

Two kinds, decided from the confirmed page's own evidence (:func:`kind_of`):

- ``fixed``: most boundaries between the confirmed entries lie on a rule across them
  (a printed form's entry boxes). A later page takes the boxes whole, each edge moved
  to the page's own rule when one lies near it.
- ``rows``: a handwritten register (entry heights vary page to page). A later page
  keeps the table's span, its key column and where its first entry starts; the rows
  come from the page's own start marks, sought only inside that span and below that
  top.

Registration: the normalised page's row and column ink profiles against the
template's, a scale and shift per axis found by normalised cross-correlation. A page
whose best correlation stays under :data:`MIN_SCORE` on either axis is not of the
template's form (or too different to trust): the template is refused with a reason
and the page is cut on its own evidence alone.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm

log = logging.getLogger(__name__)

FIXED = "fixed"
ROWS = "rows"
#: Bins of a stored profile (relative position 0..1).
BINS = 400
#: Scales and shifts (share of the page) searched per axis: the pages of one book
#: captured the same way; a page needing more is registered too poorly to be cut by it.
SCALES = np.linspace(0.95, 1.05, 11)
MAX_SHIFT = 0.06
#: Darkest-channel level under which a pixel is writing or a rule (red rules and pale
#: ink included, which the red channel's ink drops).
WRITING_LEVEL = 170
#: Share of the page below a register's headings its rows are registered by too.
BELOW_HEADINGS = 0.1
#: Least correlation of both profiles for a page to be cut by the template.
MIN_SCORE = 0.5
#: Share of inner boundaries lying on a rule from which a page is a printed form.
RULED_SHARE = 0.8
#: An edge of a ``fixed`` template moves to the page's own rule within this share of
#: the page's height.
SNAP_SHARE = 0.012
FORMAT = 1


@dataclass(frozen=True)
class TemplateRegion:
    """One confirmed entry: its page side and outline (TL, TR, BR, BL), page-relative."""

    side: int
    quad: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class BookTemplate:
    """A confirmed page's cuts and the profiles later pages are registered by."""

    kind: str
    pages: int  # pages per image of the confirmed page
    aspect: float  # width / height of the normalised page
    regions: tuple[TemplateRegion, ...]
    rows: tuple[float, ...]  # ink per row band, page-relative bins
    columns: tuple[float, ...]
    #: The same of the darkest channel's writing (red rules, pale ink).
    writing_rows: tuple[float, ...]
    writing_columns: tuple[float, ...]
    source: str = ""  # what it was taken from (capture id or file name)
    created_at: str = ""

    def sides(self) -> list[int]:
        """The page sides that hold confirmed entries."""
        return sorted({r.side for r in self.regions})

    def span(self, side: int) -> tuple[float, float, float, float]:
        """Left, top, right, bottom of a side's entries, page-relative."""
        points = np.array([p for r in self.regions if r.side == side for p in r.quad])
        return (
            float(points[:, 0].min()),
            float(points[:, 1].min()),
            float(points[:, 0].max()),
            float(points[:, 1].max()),
        )

    def heading_window(self) -> tuple[float, float]:
        """The rows a page is registered by down the page: all of a printed form; on a
        register, whose rows of writing differ from page to page, the headings above
        its first entry and :data:`BELOW_HEADINGS` of the page below them."""
        if self.kind == FIXED:
            return (0.0, 1.0)
        top = min(y for r in self.regions for _, y in r.quad)
        return (0.0, min(1.0, top + BELOW_HEADINGS))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the store and for export."""
        return {
            "format": FORMAT,
            "kind": self.kind,
            "pages": self.pages,
            "aspect": round(self.aspect, 5),
            "regions": [
                {"side": r.side, "quad": [[round(x, 5), round(y, 5)] for x, y in r.quad]}
                for r in self.regions
            ],
            "rows": [round(v, 5) for v in self.rows],
            "columns": [round(v, 5) for v in self.columns],
            "writing_rows": [round(v, 5) for v in self.writing_rows],
            "writing_columns": [round(v, 5) for v in self.writing_columns],
            "source": self.source,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BookTemplate:
        """The template :meth:`to_dict` gave; ValueError when it is not one."""
        try:
            if data.get("format") != FORMAT or data["kind"] not in (FIXED, ROWS):
                raise ValueError("not a book template of this station")
            regions = tuple(
                TemplateRegion(int(r["side"]), tuple((float(x), float(y)) for x, y in r["quad"]))
                for r in data["regions"]
            )
            if not regions or any(len(r.quad) != 4 for r in regions):
                raise ValueError("a template needs entries of four corners")
            return cls(
                data["kind"], int(data["pages"]), float(data["aspect"]), regions,
                tuple(float(v) for v in data["rows"]), tuple(float(v) for v in data["columns"]),
                tuple(float(v) for v in data["writing_rows"]),
                tuple(float(v) for v in data["writing_columns"]),
                str(data.get("source", "")), str(data.get("created_at", "")),
            )  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a book template: {exc}") from exc


@dataclass(frozen=True)
class Registration:
    """Where the template lies on a page: per axis, page = scale * template + shift
    (page-relative), and the worse of the two correlations."""

    scale: tuple[float, float]
    shift: tuple[float, float]
    score: float
    size: tuple[int, int]  # the page's normalised width and height (pixels)

    def to_page(self, quad: Sequence[tuple[float, float]]) -> NDArray[np.float64]:
        """A template outline in the page's normalised pixels."""
        points = np.asarray(quad, np.float64)
        x = (self.scale[0] * points[:, 0] + self.shift[0]) * self.size[0]
        y = (self.scale[1] * points[:, 1] + self.shift[1]) * self.size[1]
        return np.stack([x, y], axis=1)

    def x(self, value: float) -> float:
        """A page-relative template column in the page's normalised pixels."""
        return (self.scale[0] * value + self.shift[0]) * self.size[0]

    def y(self, value: float) -> float:
        """A page-relative template row in the page's normalised pixels."""
        return (self.scale[1] * value + self.shift[1]) * self.size[1]


@dataclass(frozen=True)
class Fit:
    """The outcome of registering a page: a registration, or the reason there is none."""

    registration: Registration | None
    reason: str = ""
    details: dict[str, float] = field(default_factory=dict)


def profiles(ink: nm.Gray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The ink's row and column profiles, :data:`BINS` page-relative bins each, smoothed
    over about 1% of the page (a pixel of misregistration costs nothing)."""
    mask = (ink > 0).astype(np.float32)
    return _binned(mask.mean(axis=1)), _binned(mask.mean(axis=0))


def _binned(profile: NDArray[np.float32]) -> tuple[float, ...]:
    positions = (np.arange(BINS) + 0.5) / BINS * len(profile)
    values = np.interp(positions, np.arange(len(profile)) + 0.5, profile)
    smooth = np.asarray(cv2.GaussianBlur(values.reshape(1, -1), (0, 0), BINS / 200)).ravel()
    return tuple(float(v) for v in smooth)


def writing_mask(writing: nm.Gray) -> nm.Gray:
    """Writing and rules of the darkest channel (normalise's ``writing``, border
    blanked to paper) as a mask."""
    return nm.u8((writing < WRITING_LEVEL) * 255)


def build(
    ink: nm.Gray,
    writing: nm.Gray,
    outlines: Sequence[tuple[int, NDArray[np.float64]]],
    work_dpi: float,
    source: str = "",
    created_at: str = "",
    pages: int = 1,
) -> BookTemplate:
    """The template of a confirmed page from its entries' outlines (page side, points
    in the normalised pixels of ``ink``, the page's ink with its border blanked;
    ``writing``: :func:`writing_mask` of the same page).

    Each outline becomes its bounding box: a template keeps boxes, which later pages
    move and scale but never bend.
    """
    height, width = ink.shape
    regions = []
    for side, points in outlines:
        x0, y0 = float(points[:, 0].min()) / width, float(points[:, 1].min()) / height
        x1, y1 = float(points[:, 0].max()) / width, float(points[:, 1].max()) / height
        quad = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        regions.append(TemplateRegion(side, quad))
    regions.sort(key=lambda r: (r.side, r.quad[0][1]))
    rows, columns = profiles(ink)
    writing_rows, writing_columns = profiles(writing)
    kind = kind_of(ink, regions, work_dpi)
    return BookTemplate(
        kind, pages, width / height, tuple(regions), rows, columns,
        writing_rows, writing_columns, source, created_at,
    )  # fmt: skip


def kind_of(ink: nm.Gray, regions: Sequence[TemplateRegion], work_dpi: float) -> str:
    """``fixed`` when at least :data:`RULED_SHARE` of the boundaries between entries
    lie on a rule across them, or when no side holds two entries (one box a page is a
    form: a handwritten register holds many); ``rows`` otherwise."""
    height, width = ink.shape
    horizontal, _ = _line_masks(ink, work_dpi)
    ruled = total = 0
    for side in sorted({r.side for r in regions}):
        mine = [r for r in regions if r.side == side]
        for upper, lower in itertools.pairwise(mine):
            row = (upper.quad[2][1] + lower.quad[0][1]) / 2 * height
            x0, x1 = round(upper.quad[0][0] * width), round(upper.quad[1][0] * width)
            reach = max(2, round(work_dpi * 0.04))
            band = horizontal[max(0, round(row) - reach) : round(row) + reach + 1, x0:x1]
            total += 1
            if band.size and float((band.max(axis=0) > 0).mean()) >= 0.6:
                ruled += 1
    return FIXED if ruled >= RULED_SHARE * total else ROWS


def _line_masks(ink: nm.Gray, dpi: float) -> tuple[nm.Gray, nm.Gray]:
    """Rules of at least an inch (the frames module asks 1.5 for a frame's sides)."""
    run = max(15, round(dpi))
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    return nm.u8(horizontal), nm.u8(vertical)


def register(template: BookTemplate, ink: nm.Gray, writing: nm.Gray, pages: int) -> Fit:
    """Register a page (its normalised ink, border blanked, and :func:`writing_mask`)
    to ``template``: per axis, the better aligned of the ink's and the writing's
    profiles (the ink holds a printed form's rules; the writing a register's red rules
    and pale ink)."""
    height, width = ink.shape
    if pages != template.pages:
        return Fit(None, f"{pages} page(s) per image, the template has {template.pages}")
    aspect = width / height
    if abs(np.log(aspect / template.aspect)) > 0.2:
        return Fit(None, f"page shape {aspect:.2f}, the template's {template.aspect:.2f}")
    rows, columns = profiles(ink)
    writing_rows, writing_columns = profiles(writing)
    # A register's headings are too short a stretch to tell a scale from a shift by.
    window = template.heading_window()
    scales = tuple(SCALES) if window == (0.0, 1.0) else (1.0,)
    sy, dy, score_y = max(
        _align(np.asarray(template.rows), np.asarray(rows), window, scales),
        _align(np.asarray(template.writing_rows), np.asarray(writing_rows), window, scales),
        key=lambda found: found[2],
    )
    sx, dx, score_x = max(
        _align(np.asarray(template.columns), np.asarray(columns)),
        _align(np.asarray(template.writing_columns), np.asarray(writing_columns)),
        key=lambda found: found[2],
    )
    details = {"rows": round(score_y, 3), "columns": round(score_x, 3)}
    score = min(score_x, score_y)
    if score < MIN_SCORE:
        reason = f"the page's ink does not match the template's (correlation {score:.2f})"
        return Fit(None, reason, details)
    return Fit(Registration((sx, sy), (dx, dy), score, (width, height)), "", details)


def _align(
    template: NDArray[np.float64],
    page: NDArray[np.float64],
    window: tuple[float, float] = (0.0, 1.0),
    scales: Sequence[float] = tuple(SCALES),
) -> tuple[float, float, float]:
    """Scale (among ``scales``) and shift (page = scale * template + shift, relative)
    with the best normalised cross-correlation of the two profiles over the template's
    ``window`` (relative positions), and that correlation."""
    positions = (np.arange(BINS) + 0.5) / BINS
    low, high = window
    best = (1.0, 0.0, -1.0)
    for scale in scales:
        for shift in np.arange(-MAX_SHIFT, MAX_SHIFT + 1e-9, 1 / BINS):
            back = (positions - shift) / scale  # template position of each page bin
            inside = (back >= low) & (back <= high)
            if inside.sum() < 0.8 * (high - low) * scale * BINS:
                continue
            moved = np.interp(back[inside], positions, template)
            a, b = page[inside] - page[inside].mean(), moved - moved.mean()
            norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
            score = float((a * b).sum()) / norm if norm else 0.0
            if score > best[2]:
                best = (float(scale), float(shift), score)
    return best


def snap_rows(
    registration: Registration,
    ink: nm.Gray,
    rows: Sequence[float],
    work_dpi: float,
    x0: float,
    x1: float,
) -> list[float | None]:
    """Each of ``rows`` (normalised pixels) on the page's own rule across ``x0``..``x1``
    that lies within :data:`SNAP_SHARE` of the page's height; None where none does."""
    horizontal, _ = _line_masks(ink, work_dpi)
    part = horizontal[:, max(0, round(x0)) : max(1, round(x1))]
    if part.size == 0:
        return [None for _ in rows]
    covered = (part > 0).mean(axis=1)
    lines = np.nonzero(covered >= 0.5)[0]
    reach = SNAP_SHARE * registration.size[1]
    snapped = []
    for row in rows:
        near = lines[np.abs(lines - row) <= reach]
        snapped.append(float(near.mean()) if near.size else None)
    return snapped


def capture_quad(
    norm: nm.Normalised, quad: NDArray[np.float64]
) -> tuple[tuple[int, int, int, int], tuple[float, ...]]:
    """Box and warp (capture -> page frame) of a quad of normalised pixels, as the
    segmenter's own regions carry them."""
    corners = norm.to_capture(quad)
    width, height = geo.quad_size(corners)
    warp = geo.quad_to_rect(corners, (0, 0, width, height))
    return (0, 0, round(width), round(height)), tuple(float(v) for v in warp.ravel())
