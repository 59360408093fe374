"""Page normalisation: find the paper, turn it upright, deskew, flatten the light.

Pure functions of an image. Detection runs on a small copy at about ``WORK_DPI``;
the result is a homography from the small copy of the capture to an upright,
deskewed, perspective-corrected *normalised* frame, so the full-resolution pixels are
only touched once, when an entry is finally cut out (:mod:`station.processing.imaging.segment`).

Steps, each chosen because it fails softly:
1. camera shots: the paper is the largest bright region on a darker table; its
   outline simplifies to four corners and is warped to a rectangle (a scanner image is
   all paper or lid, so nothing is warped). A dark border alone does not make a photo:
   a flat scan on its dark cover, shaded towards the fold, looks the same to the
   brightness threshold. The evidence is the ink: the outline must hold all the ink
   that lies on paper-bright ground, see :func:`check_outline`. A little ink outside
   widens the outline and flags it; much ink outside means the bright region is not
   the page, and the whole image is kept unwarped. The lines are evidence too: a
   photo in perspective fans its rules out and the warp makes them parallel, while
   warping a scanned leaf beside its lid (a slanted edge, a side cut by the scan's
   border) fans parallel rules out. Such a leaf is cut out as it lies, its lid
   painted white (:func:`_fans_out`);
2. quarter turns: text lines, dotted leaders and ruled lines run along the page, so
   smearing the ink along rows leaves long runs on an upright page and few on a page
   turned by 90°. When that answer contradicts the sheet's expected shape, the letters
   decide (tesseract's orientation detector, :mod:`station.processing.imaging.textdir`)
   and the page is flagged. Upside-down is decided later from the table frame (the
   header is above the table on every ledger page), see :func:`header_below`, unless
   the letters already said which way is up;
3. deskew from the long ruled lines (Hough);
4. illumination: the red channel divided by its local paper level, which removes
   camera vignetting and the binding's shadow and hides the red seal over ruled lines;
5. a curved page's bend, measured from its lines once it is upright
   (:mod:`station.processing.imaging.dewarp`): the small images are straightened and
   the bend is kept, for the cuts to follow it back into the capture.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.processing.imaging import dewarp as dw
from station.processing.imaging import geometry as geo
from station.processing.imaging import textdir

log = logging.getLogger(__name__)

WORK_DPI = 100
#: Share of the sheet's width and height at each edge the run-length orientation test
#: leaves out.
RUNS_EDGE_SHARE = 0.1
Gray = NDArray[np.uint8]
INK_LEVEL = 150  # flattened level under which a pixel is printed or written ink
CAMERA_PAPER_SHARE = 0.93  # paper covering less of the image than this: a camera shot
#: A side of the picture is table when this share of its edge is darker than the paper;
#: a camera shot shows table on at least ``TABLE_SIDES`` sides (before: 60% of the
#: whole border, which a page framed tightly on two sides failed).
DARK_SIDE = 0.6
TABLE_SIDES = 2
#: Around a paper edge, flattening turns the table beside the bright paper into false
#: ink: this band (inches) each side of the outline and at the image border is not read.
EDGE_BAND_IN = 0.3
#: Ground at least this share of the page's paper level can carry ink (paper in the
#: fold's shade does; a table or cover several times darker than the paper does not).
PAPER_GROUND = 0.5
#: Paper-bright ground outside the outline, as a share of the outline's area, above
#: which the outline is not the paper's (a lit part of a page shaded towards the fold).
GROUND_NOT_PAGE = 0.1
#: Share of the ink outside the outline above which it is widened and flagged ...
OUTSIDE_WIDEN = 0.003
#: ... and above which the outline is no page outline at all: the image is kept whole.
OUTSIDE_NOT_PAGE = 0.08
#: A paper outline is simplified within this share of its perimeter to find torn
#: corners (:func:`_corners_past_tears`); a side up to ``TEAR_SIDE`` of the shortest
#: edge is a missing corner, and the edges met past it may add up to ``TEAR_AREA`` - 1
#: of the outline's area.
TEAR_SIMPLIFY = 0.005
TEAR_SIDE = 0.5
TEAR_AREA = 1.08
# line_fan: a line family needs this many long lines, spread over this share of the image.
FAN_LINES = 3
FAN_SPREAD = 0.3
# An outline whose warp leaves the long lines fanned out by this many degrees more than
# the capture shows them is not the page's outline (_fans_out).
FAN_WORSE = 1.0
# ... or that turns its level lines against its upright ones (the angle between the two
# families off square) by this many degrees more than the capture shows them
# (_fans_out, _off_square).
SQUARE_WORSE = 0.75
# ... the capture's lines measured inside the outline drawn this share closer to its
# centre, off its edges.
EDGE_INSET = 0.02
#: A page that shows no long line at the ink level is read again with its lines' gaps
#: up to this long (inches): a faded rule breaks into dashes (the simulator's faded
#: scans of registers, hand-ruled in thin strokes: not one long line, so they were not
#: deskewed at all, 2.5 degrees off).
DASH_GAP_IN = 0.1
#: Lines this many degrees or less from level or upright are the page's (skew, fan).
SKEW_RANGE = 8.0
#: A page whose ink mask (:func:`ink_of` its flattened red channel) holds less than
#: this share of the pixels of its middle (``PALE_SIDE_SHARE`` of its width left out
#: each side, where a book block's stacked leaves and the cover are dark) is written
#: in pale ink: brown, faded iron-gall, or a pale capture.
PALE_SHARE = 0.015
PALE_SIDE_SHARE = 0.15
#: A page in pale ink is darkened (:func:`toned`) until the darkest ``TONE_SHARE``
#: percent of its flattened darkest channel, away from its sides, lies at
#: ``TONE_LEVEL``: the darkness every later threshold (ink, marks, rules) was set on.
#: The real pages lie at 3-102 (Bronod's brown ink 47-71), captures of Bronod's pages
#: made paler (gamma 0.6) at 94-120. The curve is a gamma, at most ``TONE_MAX``, which
#: leaves the paper white; a page whose darkest pixels are paler than ``TONE_PAPER``
#: holds no writing to go by (a blank leaf) and is left.
TONE_LEVEL = 90
TONE_SHARE = 0.3
TONE_MAX = 1.5
TONE_PAPER = 200
#: Writing paler than that (:func:`_faded`): a register ruled and headed in dark ink
#: whose handwriting has faded holds its dark ink in its print, and no gamma set by
#: its darkest tones brings its writing out. When what lies off the dark ink (the ink
#: mask widened by two pixels, under the paper's 250) parts from the paper at an
#: Otsu level over ``FADED_FROM``, under ``FADED_PAPER`` (above it, the paper's own
#: grain is what parts), and the ink mask holds under ``FADED_DARK`` as many
#: letter-sized pieces (``LETTER_PX`` high on the working copy, below the page's top
#: fifth, long lines left out) as that level gives, the page is darkened linearly from
#: the paper's white until that level lies at ``FADED_TO`` (the gain at most
#: ``FADED_MOST``). The simulator's faded registers part at 217-233; the palest real
#: captures the fixed levels read (Bronod's pages captured paler or blurred) at
#: 214-221, and darkening those too (``FADED_FROM`` 215) split a blurred
#: ``bronod1_0003`` into 20 regions for 14 and lost an entry's ink on a paler
#: ``bronod1_0033`` (``bench/real_variations.py --variations paler blur darker``), so
#: only writing paler than every real capture is darkened. Real pages in dark ink part
#: anywhere from 164 to 239, and hold 0.2-3 dark letters for each pale one (0.02-0.5
#: captured paler or blurred); the simulator's faded pages under 0.01, Bronod's 0-0.13.
FADED_FROM = 222
FADED_PAPER = 240
FADED_TO = 185
FADED_MOST = 4.0
FADED_DARK = 0.05
LETTER_PX = (6, 40)


def u8(array: object) -> Gray:
    """View OpenCV's loosely typed result as the uint8 array it is (no copy)."""
    return np.asarray(array, dtype=np.uint8)


@dataclass(frozen=True)
class Normalised:
    """The small normalised page and how it relates to the capture.

    ``matrix`` maps capture pixels (full resolution) to the normalised small frame.
    """

    flat: Gray  # illumination-flattened red channel, normalised frame, ~WORK_DPI
    ink: Gray  # 255 where flat is dark ink or print
    #: The darkest channel, flattened the same way: pale brown and iron-gall writing,
    #: which the red channel (chosen to hide red rules and seals) nearly loses.
    writing: Gray
    matrix: geo.Matrix
    work_scale: float  # small pixels per capture pixel
    angle: float  # deskew applied, degrees counter-clockwise
    turns: int  # clockwise quarter turns applied
    camera: bool  # the paper was found on a table and warped
    outline_uncertain: bool = False  # the found outline cut ink and was widened
    #: The run lengths and the sheet's expected shape disagreed on the quarter turn.
    orientation_uncertain: bool = False
    #: The letters (OSD) gave the turn, direction included: no header vote after it.
    turned_by_text: bool = False
    #: The paper's brightness down each column of the normalised frame, unflattened
    #: (the 90th percentile of the grey over the middle rows): the shading and the
    #: crease of a spread's fold, which flattening takes away. None when not measured
    #: (a sheet expected to be a single page).
    shade: NDArray[np.float32] | None = None
    #: The page's bend when it was curved (:mod:`.dewarp`): the small images are
    #: straightened, and ``matrix`` maps the *straight* capture (the capture as if the
    #: page were flat) to them; None for a flat page, whose straight capture is the
    #: capture itself.
    bend: dw.Bend | None = None

    def to_capture(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map normalised small-frame points back to (straight) capture pixels: where
        the homographies of the page's regions start."""
        return geo.apply(geo.invert(self.matrix), points)

    def to_source(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map normalised small-frame points back to where the capture shows them,
        the page's bend included."""
        straight = self.to_capture(points)
        return straight if self.bend is None else self.bend.to_capture(straight)


def downscale(rgb: NDArray[np.uint8], dpi: int) -> tuple[Gray, Gray, float]:
    """Grey and red channels at about WORK_DPI, and the scale used."""
    grey, red, _, factor = _channels(rgb, dpi)
    return grey, red, factor


def _channels(rgb: NDArray[np.uint8], dpi: int) -> tuple[Gray, Gray, Gray, float]:
    """Grey, red and darkest channels at about WORK_DPI, and the scale used."""
    factor = min(1.0, WORK_DPI / dpi)
    small = u8(cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA))
    grey = u8(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    red = np.ascontiguousarray(small[:, :, 0])
    channels = cv2.split(small)  # numpy's min over the colour axis is ~50x slower
    darkest = u8(cv2.min(cv2.min(channels[0], channels[1]), channels[2]))
    return grey, red, darkest, factor


def paper_level(channel: Gray, dpi: float) -> Gray:
    """The local paper level: strokes removed by a grey dilation, then blurred."""
    stroke = max(3, round(dpi * 0.1)) | 1
    paper = cv2.dilate(channel, np.ones((stroke, stroke), np.uint8))
    blur = max(3, round(dpi * 0.4)) | 1
    return u8(cv2.blur(paper, (blur, blur)))


def flatten(channel: Gray, dpi: float) -> Gray:
    """Divide by the local paper level."""
    return u8(cv2.divide(channel, paper_level(channel, dpi), scale=255))


def ink_of(flat: Gray) -> Gray:
    """Dark ink on the flattened page as a 0/255 mask."""
    return u8(cv2.threshold(flat, INK_LEVEL, 255, cv2.THRESH_BINARY_INV)[1])


def find_paper(grey: Gray, past_tears: bool = False) -> NDArray[np.float64] | None:
    """The paper's corners (TL, TR, BR, BL) when it lies on a darker table, else None.

    ``past_tears``: the corners of the paper's four edges met past cut-off corners
    (:func:`_corners_past_tears`), None when the outline shows none.
    """
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    level, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edge = max(2, min(grey.shape) // 100)
    sides = [blurred[:edge], blurred[-edge:], blurred[:, :edge], blurred[:, -edge:]]
    # A scanner image is paper or lid up to its edges; a photo has table round the
    # paper, though a page framed tightly runs off the picture on a side or two. The
    # outline found must then still agree with the ink (check_outline), as a dark
    # lid or cover beside a scan does not.
    dark = [float(np.mean(side < level)) >= DARK_SIDE for side in sides]
    if sum(dark) < TABLE_SIDES:
        return None
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = float(grey.shape[0] * grey.shape[1])
    # The binding's shadow can split a spread into two bright pages: hull them together.
    big = [c for c in contours if cv2.contourArea(c) > 0.05 * area]
    if not big:
        return None
    hull = cv2.convexHull(np.concatenate(big))
    if not 0.25 < float(cv2.contourArea(hull)) / area < CAMERA_PAPER_SHARE:
        return None
    perimeter = float(cv2.arcLength(hull, True))
    if past_tears:
        return _corners_past_tears(hull, perimeter)
    for fraction in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, fraction * perimeter, True)
        if len(approx) == 4:
            return geo.order_corners(np.asarray(approx, dtype=np.float64))
    box = cv2.boxPoints(cv2.minAreaRect(hull))
    return geo.order_corners(np.asarray(box, dtype=np.float64))


def _corners_past_tears(hull: NDArray[np.int32], perimeter: float) -> NDArray[np.float64] | None:
    """The paper's corners when its outline is a quadrilateral with corners cut off
    (torn or missing corners), else None.

    The outline is simplified finely; its four longest sides are the paper's edges,
    and each short side between two of them is a missing corner: the two edges are
    met where they cross. Simplifying coarsely instead would cut the corner with a
    diagonal through the page, and the warp would pull that line into the text.
    """
    approx = cv2.approxPolyDP(hull, TEAR_SIMPLIFY * perimeter, True).reshape(-1, 2)
    if len(approx) <= 4 or len(approx) > 8:
        return None
    points = approx.astype(np.float64)
    sides = np.roll(points, -1, axis=0) - points
    lengths = np.hypot(sides[:, 0], sides[:, 1])
    edges = sorted(np.argsort(lengths)[-4:])
    if lengths[[i for i in range(len(points)) if i not in edges]].max() > TEAR_SIDE * min(
        lengths[edges]
    ):
        return None
    corners = []
    for a, b in zip(edges, edges[1:] + edges[:1], strict=True):
        corners.append(geo.intersect((points[a], sides[a]), (points[b], sides[b])))
    quad = np.array(corners, np.float64)
    hull_area = float(cv2.contourArea(hull))
    if not np.isfinite(quad).all() or geo.polygon_area(quad) > TEAR_AREA * hull_area:
        return None
    return geo.order_corners(quad)


@dataclass(frozen=True)
class Outline:
    """A page outline the ink agrees with: the small copy -> rectified page frame."""

    matrix: geo.Matrix
    size: tuple[int, int]
    widened: bool  # ink lay outside the found outline, which was widened to hold it


def check_outline(red: Gray, quad: NDArray[np.float64], dpi: float) -> Outline | None:
    """The rectified frame of ``quad`` (corners on the small red channel ``red``), or
    None when the ink says ``quad`` is not the page's outline.

    Paper-bright ground outside the quad (beyond the edge band) means the quad is a
    lit part of the paper, not the paper: nothing is warped. Ink on that ground is
    content the warp would cut off: a trace of it (noise) is ignored; up to
    ``OUTSIDE_NOT_PAGE`` of the ink widens the rectified frame to hold it, flagged;
    more, again, means no page outline.
    """
    ground, outside = _outside(red, quad, dpi)
    area = max(1.0, geo.polygon_area(quad))
    if ground > GROUND_NOT_PAGE * area:
        log.debug(
            "outline: paper-bright ground outside it, %.0f%% of its area", 100 * ground / area
        )
        return None
    ys, xs = np.nonzero(outside)
    inside = _count_inside(red, quad, dpi)
    share = xs.size / max(1, xs.size + inside)
    width, height = geo.quad_size(quad)
    to_rect = geo.quad_to_rect(quad, (0, 0, width, height))
    log.debug("outline: %.4f of the ink outside the paper's outline", share)
    if share <= OUTSIDE_WIDEN:
        return Outline(to_rect, (round(width), round(height)), widened=False)
    if share > OUTSIDE_NOT_PAGE:
        return None
    points = np.column_stack([xs, ys]).astype(np.float64)
    # A point beyond the quad's horizon would map to the wrong side: no sane frame.
    depth = points @ to_rect[2, :2] + to_rect[2, 2]
    if np.any(depth * (to_rect[2, :2] @ quad.mean(axis=0) + to_rect[2, 2]) <= 0):
        return None
    mapped = geo.apply(to_rect, points)
    band = EDGE_BAND_IN * dpi
    left = min(0.0, float(mapped[:, 0].min()) - band)
    top = min(0.0, float(mapped[:, 1].min()) - band)
    right = max(width, float(mapped[:, 0].max()) + band)
    bottom = max(height, float(mapped[:, 1].max()) + band)
    if (right - left) * (bottom - top) > 2 * width * height:
        return None
    size = (math.ceil(right - left), math.ceil(bottom - top))
    return Outline(geo.translate(-left, -top) @ to_rect, size, widened=True)


def _outside(red: Gray, quad: NDArray[np.float64], dpi: float) -> tuple[int, Gray]:
    """Paper-bright ground outside ``quad``, its edge band and the image border: its
    pixel count and the ink on it (long straight lines, such as the edges of a page
    stack or of the film, left out: they are no content)."""
    level = paper_level(red, dpi)
    ink = ink_of(u8(cv2.divide(red, level, scale=255)))
    run = max(9, round(dpi * 0.5))  # straight for 1.3 cm: a rule or an edge, not script
    lines = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)),
    )
    ink = u8(cv2.subtract(ink, cv2.dilate(lines, np.ones((3, 3), np.uint8))))
    inside = _quad_mask(red.shape, quad)
    # The page's own paper level: the ground that can carry ink is at least half as bright.
    ground = level >= PAPER_GROUND * float(np.median(level[inside > 0]))
    band = max(2, round(EDGE_BAND_IN * dpi))
    keep = ground & (inside == 0)
    edge = np.zeros(red.shape, np.uint8)
    cv2.polylines(edge, [np.round(quad).astype(np.int32)], True, 255, 2 * band)
    keep &= edge == 0
    keep[:band], keep[-band:], keep[:, :band], keep[:, -band:] = False, False, False, False
    return int(np.count_nonzero(keep)), u8(np.where(keep, ink, 0))


def _count_inside(red: Gray, quad: NDArray[np.float64], dpi: float) -> int:
    """Ink pixels inside ``quad``."""
    ink = ink_of(flatten(red, dpi))
    return int(cv2.countNonZero(cv2.bitwise_and(ink, _quad_mask(red.shape, quad))))


def _quad_mask(shape: tuple[int, ...], quad: NDArray[np.float64]) -> Gray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(quad).astype(np.int32)], 255)
    return mask


def _long_segments(ink: Gray, gap: int = 4) -> NDArray[np.float64]:
    """Straight runs of ink a fifth of the image's short side long or more (Hough),
    broken by at most ``gap`` pixels, one row ``x0, y0, x1, y1`` each: the ruled lines
    and the paper's edges."""
    min_length = min(ink.shape) // 5
    # Angles come from the segments' end points, so coarse voting bins cost no precision.
    lines = cv2.HoughLinesP(ink, 1, np.pi / 360, 80, minLineLength=min_length, maxLineGap=gap)
    if lines is None:
        return np.zeros((0, 4), np.float64)
    return np.asarray(lines, dtype=np.float64).reshape(-1, 4)


def line_fan(ink: Gray) -> float | None:
    """How far the page's long lines are from parallel: the largest change of their
    angle, in degrees, from one side of the image to the other, for the level lines
    (top to bottom) and the upright ones (left to right); None when neither family
    has three lines spread over a third of the image.

    A page seen in perspective fans its rules out: the ones near the camera are
    longer. Rectified, its rules are parallel again. A flat scan's rules are parallel
    already, and a warp of a wrong outline fans them out.
    """
    return _fan_of(_long_segments(ink), ink.shape)


def _fan_of(segments: NDArray[np.float64], shape: tuple[int, ...]) -> float | None:
    """:func:`line_fan` of the long lines ``segments`` of an image of ``shape``."""
    height, width = shape[:2]
    families, lengths = _families(segments)
    weights = np.sqrt(lengths)
    fans = []
    for level, folded in zip((True, False), families, strict=True):
        if level:
            where = (segments[:, 1] + segments[:, 3]) / (2 * height)
        else:
            where = (segments[:, 0] + segments[:, 2]) / (2 * width)
        keep = np.abs(folded) <= SKEW_RANGE
        if np.count_nonzero(keep) < FAN_LINES or np.ptp(where[keep]) < FAN_SPREAD:
            continue
        slope = np.polyfit(where[keep], folded[keep], 1, w=weights[keep])[0]
        fans.append(abs(float(slope)))
    return max(fans) if fans else None


def estimate_skew(ink: Gray, max_angle: float = SKEW_RANGE) -> float:
    """Skew in degrees (positive: counter-clockwise) from the long ruled lines.

    Lines near level and near upright both count (an upright line's angle is folded by
    90°), so the estimate holds before the page's quarter turn is known.
    """
    return _skew_of(_long_segments(ink), max_angle)


def _skew_of(segments: NDArray[np.float64], max_angle: float = SKEW_RANGE) -> float:
    """:func:`estimate_skew` from the long lines ``segments``."""
    if not len(segments):
        return 0.0
    dx, dy = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    angles = (np.degrees(np.arctan2(dy, dx)) + 45.0) % 90.0 - 45.0
    weights = np.hypot(dx, dy)
    keep = np.abs(angles) <= max_angle
    if not keep.any():
        return 0.0
    # A length-weighted median: long ruled lines outvote short strokes.
    return _weighted_median(angles[keep], weights[keep])


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """The value of ``values`` (not empty) at half their total ``weights``."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _families(
    segments: NDArray[np.float64],
) -> tuple[tuple[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]:
    """The angles of the long lines ``segments`` in degrees, folded for the level lines
    (from the x axis) and for the upright ones (from the y axis), and their lengths."""
    dx, dy = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    angles = np.degrees(np.arctan2(dy, dx))
    return ((angles + 90.0) % 180.0 - 90.0, angles % 180.0 - 90.0), np.hypot(dx, dy)


def turned_sideways(ink: Gray, dpi: float, landscape: bool | None = None) -> bool:
    """Whether the lines of text run vertically (a page turned by 90°).

    With the ruled lines taken out, smearing text along its lines (closing gaps of
    ~1.5 mm) joins words into runs of a centimetre or more; across the lines it does
    not, as lines of text lie further apart than that. The expected shape of the sheet
    (``landscape``) tips the balance when text is scarce. The outer tenth of each side
    is left out: on the Bronod spreads the stacked leaves and the cover there were all
    the runs there were (the red channel nearly loses their brown writing), and a
    tighter crop of the same spread turned it sideways.
    """
    run = max(15, round(dpi * 1.5))
    lines = cv2.bitwise_or(
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)),
        cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)),
    )
    text = u8(cv2.subtract(ink, cv2.dilate(lines, np.ones((3, 3), np.uint8))))
    # Read away from the sheet's edges: the stacked leaves of a book block, a cover's
    # edge or a hand there smear into long runs of no text.
    height, width = text.shape
    dy, dx = round(height * RUNS_EDGE_SHARE), round(width * RUNS_EDGE_SHARE)
    text = np.ascontiguousarray(text[dy : height - dy, dx : width - dx])
    along, across = _run_ink(text, dpi), _run_ink(np.ascontiguousarray(text.T), dpi)
    score = math.log((along + 10) / (across + 10))
    if landscape is not None:
        height, width = ink.shape
        score += 0.3 if (width > height) == landscape else -0.3
    return score < 0


def _run_ink(ink: Gray, dpi: float) -> int:
    """Ink left after smearing along rows and keeping only runs of ~1 cm or more."""
    gap = max(3, round(dpi * 0.06))
    run = max(9, round(dpi * 0.4))
    smeared = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8))
    runs = cv2.morphologyEx(smeared, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    return int(cv2.countNonZero(runs))


def _warp(image: Gray, matrix: geo.Matrix, size: tuple[int, int]) -> Gray:
    return u8(cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255))


def normalise(rgb: NDArray[np.uint8], dpi: int, landscape: bool | None = None) -> Normalised:
    """Upright, deskewed, flattened small copy of ``rgb`` and its homography.

    ``landscape``: the sheet's expected shape (a spread is landscape), a hint for the
    quarter turn; None when unknown.
    """
    grey, red, darkest, factor = _channels(rgb, dpi)
    work_dpi = dpi * factor
    height, width = grey.shape
    matrix, size = geo.scale(factor), (width, height)
    quad = find_paper(grey)
    outline = check_outline(red, quad, work_dpi) if quad is not None else None
    if quad is not None and (outline is None or outline.widened):
        outline = _past_tears(grey, red, work_dpi) or outline
    paper = None  # the paper's outline (small copy) when it is cut out, not warped
    if outline is not None:
        warped = _rewarp(red, outline.matrix @ matrix, factor, outline.size, work_dpi)
        segments = _long_segments(ink_of(warped))
        w, h = outline.size
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
        page = geo.apply(geo.invert(outline.matrix), corners)  # the outline on the copy
        if not _fans_out(warped, segments, red, factor, work_dpi, page):
            size, matrix, flat = outline.size, outline.matrix @ matrix, warped
        else:
            if not outline.widened:  # the ink is all inside it: cut it out as it lies
                paper = page
            outline = None

    def rewarp(channel: Gray) -> Gray:
        """``channel`` by the matrix and size as they stand, the lid white."""
        warped = _rewarp(channel, matrix, factor, size, work_dpi)
        if paper is None:
            return warped
        return _paper_only(warped, geo.apply(matrix @ geo.scale(1 / factor), paper))

    if outline is None:
        if paper is not None:
            (x0, y0), (x1, y1) = np.floor(paper.min(axis=0)), np.ceil(paper.max(axis=0))
            x0, y0 = max(0, int(x0)), max(0, int(y0))
            x1, y1 = min(width, int(x1)), min(height, int(y1))
            matrix, size = geo.translate(-x0, -y0) @ matrix, (x1 - x0, y1 - y0)
        flat = rewarp(red)
        segments = _long_segments(ink_of(flat))
        if not len(segments):
            segments = _long_segments(ink_of(flat), round(DASH_GAP_IN * work_dpi))
    angle = _skew_of(segments)
    if abs(angle) >= 0.05:
        matrix = geo.rotation(angle, (size[0] / 2, size[1] / 2)) @ matrix
        flat = rewarp(red)

    def letters() -> Gray:
        """The page as it stands at the detector's resolution (:func:`_letters_of`)."""
        return _letters_of(rgb, dpi, matrix, size, work_dpi)

    # Pale and faded writing is toned before the quarter turn and the bend are read
    # off the lines of writing, which a faded page shows only once darkened (its
    # rules alone run down the page).
    writing = rewarp(darkest)
    curve = toned(writing, ink_of(flat))
    if curve is not None:
        flat = curve[flat]
    turn = quarter_turns(flat, work_dpi, landscape, letters)
    if turn.turns:
        matrix = geo.quarter_turn(turn.turns, size[0], size[1]) @ matrix
        if turn.turns % 2:
            size = (size[1], size[0])
        flat = np.ascontiguousarray(np.rot90(flat, -turn.turns))
        writing = rewarp(darkest)
    if curve is not None:
        writing = curve[writing]
    bend = dw.estimate(ink_of(flat), work_dpi, matrix)
    if bend is not None:
        flat = bend.straighten(flat, 255)
    camera, widened = outline is not None, outline is not None and outline.widened
    log.debug(
        "normalised: camera=%s widened=%s turns=%d (%s) angle=%.2f",
        camera, widened, turn.turns, turn.how, angle,
    )  # fmt: skip
    if bend is not None:
        writing = bend.straighten(writing, 255)
    # Only a spread has a fold to find (frames.page_columns); a single page skips it.
    shade = (
        None
        if landscape is False
        else column_shade(_warp(grey, matrix @ geo.scale(1 / factor), size))
    )
    return Normalised(
        flat, ink_of(flat), writing, matrix, factor, angle, turn.turns, camera, widened,
        orientation_uncertain=turn.uncertain, turned_by_text=turn.how == "text", shade=shade,
        bend=bend,
    )  # fmt: skip


def middle(image: Gray) -> Gray:
    """``image`` without :data:`PALE_SIDE_SHARE` of its width on either side."""
    side = round(image.shape[1] * PALE_SIDE_SHARE)
    return image[:, side : image.shape[1] - side]


def in_pale_ink(ink: Gray) -> bool:
    """Whether a page's ink mask ``ink`` holds under :data:`PALE_SHARE` of its
    :func:`middle`: the page is written in pale ink."""
    inner = middle(ink)
    return inner.size > 0 and bool(np.count_nonzero(inner) < PALE_SHARE * inner.size)


def toned(writing: Gray, ink: Gray) -> NDArray[np.uint8] | None:
    """The tone curve (a 256-entry table) that darkens a page in pale ink (its ink
    mask ``ink`` under :data:`PALE_SHARE`), its flattened darkest channel
    ``writing``, to :data:`TONE_LEVEL`, and then its faded writing (:func:`_faded`);
    None for a page dark enough already, or with no writing to go by.

    Faded ink, pale brown ink and a pale capture leave the numbers and the rules
    broken at the levels the page is read at (``bronod1_0015`` captured paler, gamma
    0.6, lost its left page's pale rules and numbers: 21 regions for 55). The curve
    brings the writing back to the darkness those levels were set on; a gamma keeps
    paper white and the order of every tone, so nothing paler than the writing
    (show-through, stains) passes the writing. A page with enough dark ink is read by
    it: darkening it too raised the grain of ``rep_randomset2_2674_L-1``'s margin into
    marks where its numbers were looked for.
    """
    inner = middle(writing)
    if inner.size < 100:
        return None  # too small
    curve = None
    level = float(np.percentile(inner, TONE_SHARE))
    if in_pale_ink(ink) and TONE_LEVEL < level < TONE_PAPER:
        gamma = min(TONE_MAX, math.log(TONE_LEVEL / 255) / math.log(level / 255))
        log.debug("pale writing at %.0f: darkened by a gamma of %.2f", level, gamma)
        steps = np.arange(256, dtype=np.float64) / 255
        curve = np.round(255 * steps**gamma).astype(np.uint8)
    faded = _faded(inner if curve is None else curve[inner], middle(ink))
    if faded is None:
        return curve
    return faded if curve is None else faded[curve]


def _faded(writing: Gray, ink: Gray) -> NDArray[np.uint8] | None:
    """The tone curve that brings a page's faded writing, its flattened darkest channel
    ``writing`` off its dark print (``ink``, dilated), to :data:`FADED_TO`: linear
    from the paper's white, by at most :data:`FADED_MOST`; None when that writing lies
    no paler than :data:`FADED_FROM`."""
    off_print = cv2.dilate(ink, np.ones((5, 5), np.uint8)) == 0
    rest = writing[(writing < 250) & off_print]
    if rest.size < 100:
        return None
    level = otsu(rest)
    if not FADED_FROM < level < FADED_PAPER or not _no_dark_writing(writing, ink, level):
        return None
    gain = min(FADED_MOST, (255 - FADED_TO) / (255 - level))
    log.debug("faded writing at %.0f: darkened by %.2f", level, gain)
    steps = np.arange(256, dtype=np.float64)
    return np.clip(np.round(255 - (255 - steps) * gain), 0, 255).astype(np.uint8)


def _no_dark_writing(writing: Gray, ink: Gray, level: float) -> bool:
    """Whether, below the page's top fifth (its title and column headings), the ink
    mask ``ink`` without its long lines holds under :data:`FADED_DARK` as many
    letter-sized pieces as ``writing`` holds under ``level``: the page's dark ink is
    its print, and its writing lies paler."""
    top = writing.shape[0] // 5
    dark = np.ascontiguousarray(ink[top:])
    long = max(10, round(dark.shape[1] * 0.04))
    lines = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, long), np.uint8))
    lines |= cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((long, 1), np.uint8))
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    pale = u8(cv2.threshold(writing[top:], level, 255, cv2.THRESH_BINARY_INV)[1])
    pieces = [_letter_pieces(cv2.subtract(mask, lines)) for mask in (dark, pale)]
    return pieces[0] < FADED_DARK * pieces[1]


def _letter_pieces(mask: Gray) -> int:
    """How many pieces of ``mask`` (the working copy's) are letter-sized."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    low, high = LETTER_PX
    return int(np.count_nonzero((heights >= low) & (heights <= high) & (widths >= 3)))


def otsu(values: NDArray[np.uint8]) -> float:
    """Otsu's level between the dark and the light of ``values``."""
    level, _ = cv2.threshold(values.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(level)


def _fans_out(
    warped: Gray,
    segments: NDArray[np.float64],
    red: Gray,
    factor: float,
    dpi: float,
    page: NDArray[np.float64],
) -> bool:
    """Whether the page ``warped`` by its outline (its long lines ``segments``) shows
    its lines further from parallel (by ``FAN_WORSE``), or its level lines further
    from square with its upright ones (by ``SQUARE_WORSE``), than the capture, the
    small red channel ``red``, shows them: the outline is then not the page's, though
    the ink lies inside it. ``page``: the outline's corners on ``red``, inside which
    the capture's lines are measured for squareness.

    A scan of a bound page beside its neighbour's edge, on a dark lid, has a bright
    region whose outline is no rectangle (one side the image's border, one the
    leaf's slanted edge); warping it to a rectangle fanned the level, parallel rules
    of ``rep_dufour1_07645_L-0`` by 3°, and cuts made level in that frame slanted
    across the first line of the entry below them. Captured darker, the same leaf
    gave an outline whose warp left the rules parallel but sheared: level lines 1.5°
    off square with the upright ones, and the numbers' column, at the table's side,
    a third of a row off the rows found across the table.
    """
    skewed, fan = _off_square(segments), _fan_of(segments, warped.shape)
    skewed = skewed if skewed is not None and skewed > SQUARE_WORSE else None
    fans = fan is not None and fan > FAN_WORSE
    if skewed is None and not fans:
        return False  # nothing to compare, or nothing the capture could better by that
    height, width = red.shape
    capture = _rewarp(red, geo.scale(factor), factor, (width, height), dpi)
    if skewed is not None:
        # The capture's own lines, without the outline's edges (a leaf's slanted edge
        # on its lid is a long line the warp makes upright).
        centre = page.mean(axis=0)
        inside = _paper_only(capture, centre + (page - centre) * (1.0 - EDGE_INSET))
        source = _off_square(_long_segments(ink_of(inside)))
        if source is not None and skewed > source + SQUARE_WORSE:
            log.debug("outline: its warp skews the lines, %.1f° against %.1f°", skewed, source)
            return True
    source_fan = line_fan(ink_of(capture)) if fans else None
    if fan is None or source_fan is None or fan <= source_fan + FAN_WORSE:
        return False
    log.debug("outline: its warp fans the lines out, %.1f° against %.1f°", fan, source_fan)
    return True


def _off_square(segments: NDArray[np.float64]) -> float | None:
    """How far, in degrees, the level long lines ``segments`` hold (their length-weighted
    median angle from the x axis) are from square with the upright ones (from the y
    axis); None without both families. A rectangular page's rules are square, in a
    flat scan and in a photo rightly rectified; a photo's perspective, or a warp of a
    wrong outline, skews them."""
    families, lengths = _families(segments)
    medians = []
    for folded in families:
        keep = np.abs(folded) <= SKEW_RANGE
        if np.count_nonzero(keep) < FAN_LINES:
            return None
        medians.append(_weighted_median(folded[keep], lengths[keep]))
    # Both measured the same way round: a page turned by a degrees turns both by a.
    return abs(medians[0] - medians[1])


def _paper_only(image: Gray, paper: NDArray[np.float64]) -> Gray:
    """``image`` (normalised) with all outside the paper's outline ``paper`` white: the
    lid or the next leaf beside a scanned page, whose edges would pass for rules."""
    outside = np.full(image.shape, 255, np.uint8)
    cv2.fillPoly(outside, [np.round(paper).astype(np.int32)], 0)
    return u8(cv2.max(image, outside))


def column_shade(grey: Gray) -> NDArray[np.float32]:
    """The paper's brightness down each column of ``grey``: its 90th percentile over
    the middle 80% of rows (ink and the page's top and bottom edges left out)."""
    height = grey.shape[0]
    band = grey[height // 10 : height - height // 10]
    if band.size == 0:
        band = grey
    return np.asarray(np.percentile(band, 90, axis=0), np.float32)


def _past_tears(grey: Gray, red: Gray, dpi: float) -> Outline | None:
    """The outline of the paper's edges met past a torn or missing corner, when the
    ink agrees with it all round (nothing outside it, so no widening); else None.

    Asked only when the plain outline cut ink or was refused: a page whose outline
    holds its ink keeps it.
    """
    quad = find_paper(grey, past_tears=True)
    outline = check_outline(red, quad, dpi) if quad is not None else None
    if outline is None or outline.widened:
        return None
    log.debug("outline: met past a torn or missing corner")
    return outline


@dataclass(frozen=True)
class Turn:
    """The clockwise quarter turns a page needs, how its direction was decided
    ("text": tesseract's orientation detector, sure of it; "runs": otherwise, the
    header vote may still turn it by 180°) and whether it was in doubt."""

    turns: int
    how: str
    uncertain: bool


def quarter_turns(
    flat: Gray, dpi: float, landscape: bool | None, letters: Callable[[], Gray] | None = None
) -> Turn:
    """The quarter turn of the deskewed page ``flat``: by run lengths
    (:func:`turned_sideways`), and by the letters when that contradicts ``landscape``
    (read on ``letters()``, the same page at the detector's resolution; ``flat``
    without it).

    A portrait register page of dense cursive between many column rules can smear
    into longer runs across its lines than along them; the sheet's expected shape
    catches it, and the letters settle it. Without an answer from them the run
    lengths stand and the page is in doubt.
    """
    sideways = turned_sideways(ink_of(flat), dpi, landscape)
    height, width = flat.shape
    if landscape is None or ((width > height) != sideways) == landscape:
        return Turn(1 if sideways else 0, "runs", False)
    answer = textdir.text_turns(flat if letters is None else letters())
    if answer is None:
        return Turn(1 if sideways else 0, "runs", True)
    log.info("orientation in doubt; the letters say %d quarter turn(s)", answer.turns)
    # Which end is up is taken from the detector only when it is sure of it (see
    # textdir); otherwise the table frame's header decides that, as on any page.
    if answer.sideways:
        return Turn(answer.turns, "text" if answer.direction_sure else "runs", True)
    return Turn(0, "runs", True)


def _letters_of(
    rgb: NDArray[np.uint8],
    dpi: int,
    matrix: geo.Matrix,
    size: tuple[int, int],
    work_dpi: float,
) -> Gray:
    """The page ``matrix`` (capture -> normalised frame of ``size`` at ``work_dpi``)
    makes of the capture, flattened, at :data:`textdir.DPI` (at most the capture's
    own): the red channel, reduced first so that no capture pixel is skipped."""
    target = min(float(dpi), textdir.DPI)
    reduce = min(1.0, target / dpi)
    red = cv2.extractChannel(rgb, 0)
    if reduce < 1.0:
        red = cv2.resize(red, None, fx=reduce, fy=reduce, interpolation=cv2.INTER_AREA)
    up = target / work_dpi
    out = (max(1, round(size[0] * up)), max(1, round(size[1] * up)))
    return _rewarp(u8(red), geo.scale(up) @ matrix, reduce, out, target)


def _rewarp(
    red: Gray, matrix: geo.Matrix, factor: float, size: tuple[int, int], dpi: float
) -> Gray:
    """Warp the small red channel by ``matrix`` (capture -> normalised) and flatten it."""
    return flatten(_warp(red, matrix @ geo.scale(1 / factor), size), dpi)


def turn_half(norm: Normalised) -> Normalised:
    """The same normalisation turned by 180° (for a page found upside down)."""
    height, width = norm.flat.shape
    half = geo.quarter_turn(2, width, height)
    flat = np.ascontiguousarray(norm.flat[::-1, ::-1])
    writing = np.ascontiguousarray(norm.writing[::-1, ::-1])
    return Normalised(
        flat, ink_of(flat), writing, half @ norm.matrix, norm.work_scale, norm.angle,
        (norm.turns + 2) % 4, norm.camera, norm.outline_uncertain,
        norm.orientation_uncertain, norm.turned_by_text,
        None if norm.shade is None else np.ascontiguousarray(norm.shade[::-1]),
        norm.bend,
    )  # fmt: skip


def header_below(ink: Gray, top: float, bottom: float, left: float, right: float) -> bool:
    """Whether more ink lies under the table (``top``..``bottom``) than above it.

    Ledger pages print their title, book and page number above the table; a page
    with that text below the table is upside down.
    """
    band = max(4, round((bottom - top) * 0.12))
    x0, x1 = max(0, round(left)), min(ink.shape[1], round(right))
    above = ink[max(0, round(top) - band - 2) : max(0, round(top) - 2), x0:x1]
    below = ink[round(bottom) + 2 : round(bottom) + band + 2, x0:x1]
    return int(cv2.countNonZero(below)) > 1.5 * int(cv2.countNonZero(above)) + 10
