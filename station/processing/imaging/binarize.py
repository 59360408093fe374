"""Ink and stamp masks of an entry: the imaging half of the encoding ladder.

Pure functions of uint8 arrays (OpenCV box filters, no float64 full-page arrays).
The ink mask is Sauvola on the red channel, which drops a red seal from the ink; a
background-divided "darkness" map detects faded ink and, when needed, lets a
hysteresis threshold recover it (IMAGING_NOTES.md: the threshold, not the codec,
decides whether faded ink survives).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

_BAND_ROWS = 512  # band height for per-pixel float temporaries (a few MB each)
_PAPER_DPI = 25  # paper tone varies over centimetres; estimate it on a coarse grid


@dataclass(frozen=True)
class BinarizeParams:
    """Tuning of the ink and stamp masks; defaults measured in IMAGING_NOTES.md."""

    #: Sauvola's k for the ink mask. 0.4 keeps a stroke near its half-darkness width;
    #: the textbook 0.1 also took in the blur around camera-shot print, closing
    #: letters and merging Vietnamese diacritics. bench/imaging.py's printed CER on
    #: 46 entries: 7.5% at 0.1, 5.6% at 0.25, 4.6% at 0.35, 4.1% at 0.4, 3.7% at 0.5
    #: (lossless crop 5.0%), against handwriting ink recall 98.8, 97.7, 96.8, 96.3,
    #: 95.0%. Painting the 0.1 shape under the ink in a pale tint (a two-tone edge)
    #: gave 3.8% and 98.5%, but cost +70% bytes (full-page median 46-50 KB). On a
    #: held-out corpus (--seed 700), entries without faded ink: 2.6% at 0.4, 4.3% at
    #: 0.1, lossless 3.4%.
    sauvola_k: float = 0.4
    window_inches: float = 1 / 8
    #: A pixel at most this fraction as bright as its paper is ink whatever Sauvola says
    #: (keeps the inside of bold strokes wider than the window).
    solid_ink_darkness: int = 128
    stamp_min_excess: int = 55  # R - max(G, B)
    stamp_min_saturation: float = 0.3  # (R - min(G, B)) / R
    stamp_min_pixels: int = 50
    #: Darkness (0-255 below paper) under which ink counts as faint.
    faint_darkness: int = 100
    #: Share of ink-bearing tiles holding only faint ink that makes an entry "faded".
    faded_tile_share: float = 0.12
    tile_inches: float = 1 / 4
    #: Hysteresis thresholds in units of the paper noise (sigma), with floors.
    low_sigmas: float = 4.0
    high_sigmas: float = 7.0
    low_floor: int = 8
    high_floor: int = 16
    #: None: enhance when faded ink is detected; True/False force it.
    enhance: bool | None = None
    #: The faint layer is painted at least this many luma levels below its paper, in
    #: its own hue: whole, crisp strokes instead of the patchy, pale original, and
    #: paper fibres as a pale tone rather than black specks. Darker paint made faded
    #: handwriting as dark as the print, and tesseract then read each printed label
    #: together with it: on a held-out corpus with 26 faded entries (--seed 700) the
    #: printed CER was 6.2% at 110 without the whole-stroke rule below; with it, 4.5%
    #: at 70, 2.6% at 60, 1.6% at 50 (lossless crop 2.2%); on the default corpus 3.4%
    #: at 60 (lossless 5.0%). Recall of faded ink stayed 93-96% throughout (the rule
    #: needs 20 levels); 60 is the darkest step that passed on both corpora.
    faint_min_step: int = 60
    #: In an entry with faded ink, a stroke whose mean darkness is below this is faded
    #: writing and goes on the faint layer whole, even where a few pixels are darker
    #: (half dark, half pale strokes read worse than either).
    faded_stroke_darkness: int = 100
    #: Faint components that are not pen strokes stay in the background layer (soft,
    #: at its own tone) instead of being painted as ink: any part wider than this
    #: (show-through of the reverse, page-stack bands, the body of a stain) ...
    faint_max_half_width_mm: float = 0.75
    #: ... small pieces whose surroundings are nearly as dark as they are (a soft
    #: edge: fragments of a stain's tide line), (mean - ring) / mean below this ...
    faint_min_edge: float = 0.5
    faint_soft_area_mm2: float = 1.2
    #: ... and thin lines that never get this dark (a guilloche's fine curves, fibres).
    faint_min_peak: int = 34


@dataclass(frozen=True)
class InkAssessment:
    """How dark the ink is against its paper (darkness units: 0-255 below paper)."""

    noise_sigma: float
    ink_tiles: int
    faint_tiles: int
    faded: bool


@dataclass(frozen=True)
class InkMasks:
    """The masks of one entry at the resolution they were computed at."""

    ink: Mask
    stamp: Mask
    darkness: U8
    assessment: InkAssessment
    enhanced: bool
    #: The part of ``ink`` in strokes that are faint throughout (no pixel reaches
    #: ``faint_darkness``): faded writing, and also paper fibres and stain rims.
    faint: Mask


def window_px(dpi: float, inches: float) -> int:
    """An odd window size of about ``inches`` at ``dpi`` (at least 3 pixels)."""
    size = max(3, round(dpi * inches))
    return size | 1


def stamp_mask(rgb: U8, params: BinarizeParams) -> Mask:
    """Pixels of a red seal: red well above green and blue, and saturated.

    Saturating uint8 OpenCV arithmetic: no wide temporaries of the full entry.
    """
    red, green, blue = cv2.split(rgb)
    excess = cv2.subtract(red, cv2.max(green, blue))
    mask: Mask = excess > params.stamp_min_excess
    # Saturation only takes pixels away: most entries have no seal, and end here.
    if int(np.count_nonzero(mask)) < params.stamp_min_pixels:
        mask[:] = False
        return mask
    spread = cv2.subtract(red, cv2.min(green, blue))
    mask &= spread > cv2.convertScaleAbs(red, alpha=params.stamp_min_saturation)
    if int(np.count_nonzero(mask)) < params.stamp_min_pixels:
        mask[:] = False
    return mask


def paper_level(channel: U8, dpi: float) -> U8:
    """Estimate of the bare paper under every pixel (ink removed, shading kept).

    Works on a ~25-dpi copy: a morphological closing removes strokes narrower than
    about 7 mm, which keeps stains and shading (wider) while dropping writing.
    """
    height, width = channel.shape
    factor = max(1, round(dpi / _PAPER_DPI))
    small_size = (max(1, width // factor), max(1, height // factor))
    small = cv2.resize(channel, small_size, interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
    small = cv2.blur(small, (5, 5))
    paper: U8 = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    np.maximum(paper, 1, out=paper)
    return paper


def darkness(channel: U8, paper: U8) -> U8:
    """How far below its paper each pixel is, scaled so 255 = black, 0 = paper."""
    normalised: U8 = cv2.divide(channel, paper, scale=255.0)
    return np.subtract(255, normalised, dtype=np.uint8)


def sauvola(channel: U8, window: int, k: float, dynamic_range: float = 128.0) -> Mask:
    """Sauvola threshold (True = darker than the local threshold) with box filters.

    Computed in bands with a half-window overlap, so the result equals the
    whole-image computation while float32 temporaries stay small.
    """
    height = channel.shape[0]
    out = np.empty(channel.shape, dtype=bool)
    half = window // 2
    for top in range(0, height, _BAND_ROWS):
        bottom = min(height, top + _BAND_ROWS)
        start, stop = max(0, top - half), min(height, bottom + half)
        part = channel[start:stop]
        threshold = _sauvola_threshold(part, window, k, dynamic_range)
        rows = slice(top - start, bottom - start)
        out[top:bottom] = part[rows] < threshold[rows]
    return out


def _sauvola_threshold(
    part: U8, window: int, k: float, dynamic_range: float
) -> npt.NDArray[np.float32]:
    size = (window, window)
    mean = cv2.boxFilter(part, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)
    spread: npt.NDArray[np.float32] = cv2.sqrBoxFilter(
        part, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT
    )
    spread -= mean * mean
    np.maximum(spread, 0.0, out=spread)
    cv2.sqrt(spread, dst=spread)
    # T = m * (1 + k * (s / R - 1)), built in place in the std-dev buffer.
    spread *= k / dynamic_range
    spread += 1.0 - k
    spread *= mean
    return spread


def paper_noise(channel: U8, paper: U8) -> float:
    """Robust standard deviation of the paper, in darkness units (0-255 below paper).

    Median absolute deviation on every 4th pixel: robust while ink covers well under
    half the entry, and cheap.
    """
    sample = channel[::4, ::4].astype(np.float32)
    base = paper[::4, ::4].astype(np.float32)
    relative = (base - sample) * (255.0 / base)
    centre = float(np.median(relative))
    return 1.4826 * float(np.median(np.abs(relative - centre)))


def assess_ink(dark: U8, sigma: float, dpi: float, params: BinarizeParams) -> InkAssessment:
    """Decide whether the entry holds faded ink.

    The entry is cut into tiles of ``tile_inches``; a tile bears ink when more than
    1% of it is clearly above the paper noise, and is faint when almost none of that
    ink reaches ``faint_darkness``. Tiles, not whole-entry statistics, because dark
    printed form text usually sits beside faded handwriting.
    """
    candidate = max(5.0 * sigma, 15.0)
    tile = window_px(dpi, params.tile_inches)
    height, width = dark.shape
    grid = (max(1, width // tile), max(1, height // tile))
    some = _tile_share(dark, candidate, grid)
    strong = _tile_share(dark, params.faint_darkness, grid)
    bearing = some > 0.01
    faint = bearing & (strong < 0.05 * some)
    ink_tiles, faint_tiles = int(np.count_nonzero(bearing)), int(np.count_nonzero(faint))
    faded = ink_tiles > 0 and faint_tiles >= params.faded_tile_share * ink_tiles
    return InkAssessment(sigma, ink_tiles, faint_tiles, faded)


def _tile_share(dark: U8, level: float, grid: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Share of pixels darker than ``level`` in each tile of a ``grid`` (columns, rows)."""
    # 255 where dark > level: cv2 compares a uint8 image with floor(level), which for
    # integer pixels is the same test, without a boolean mask and a product.
    scaled = cv2.threshold(dark, level, 255, cv2.THRESH_BINARY)[1]
    share: U8 = cv2.resize(scaled, grid, interpolation=cv2.INTER_AREA)
    return share.astype(np.float32) / np.float32(255.0)


def hysteresis(dark: U8, low: float, high: float) -> Mask:
    """Pixels above ``low`` that are 8-connected to a pixel above ``high``.

    A low threshold alone would print paper fibre; tying weak pixels to a stroke's
    stronger core keeps faint strokes whole and leaves isolated specks out.
    """
    weak = (dark > low).view(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[labels[dark > high]] = True
    keep[0] = False
    kept: Mask = keep[labels]
    return kept


def enhanced_ink(red: U8, paper: U8, params: BinarizeParams) -> Mask:
    """Faint strokes: hysteresis on the paper-divided darkness of a lightly smoothed
    red channel.

    A 3x3 mean cuts the paper grain about threefold while a pen stroke (3+ pixels
    wide at 300 dpi) keeps its darkness, so the thresholds, set in units of the
    smoothed paper noise, can sit far lower than Sauvola's ~10% of the paper.
    """
    smooth = cv2.blur(red, (3, 3))
    sigma = paper_noise(smooth, paper)
    low = max(params.low_sigmas * sigma, params.low_floor)
    high = max(params.high_sigmas * sigma, params.high_floor)
    log.debug("faint ink: noise %.2f, thresholds %.1f/%.1f", sigma, low, high)
    dark = darkness(smooth, paper)
    faint = hysteresis(dark, low, high)
    # Beside dark strokes the low threshold would only add their blurred halo (bold,
    # smudged print); enhancement is for places where no strong ink is near.
    strong = (dark > params.faint_darkness).view(np.uint8)
    near_strong = cv2.dilate(strong, np.ones((7, 7), np.uint8)).view(bool)
    faint &= ~near_strong
    # Keep a stroke at its half-maximum width: the smoothing and the low threshold
    # would otherwise widen a faint stroke by a pixel or two on each side.
    peak = cv2.dilate(dark, np.ones((5, 5), np.uint8))
    faint &= dark >= (peak >> 1)
    return faint


def ink_masks(rgb: U8, dpi: float, params: BinarizeParams | None = None) -> InkMasks:
    """Ink and stamp masks of an RGB entry image at ``dpi``.

    Ink: Sauvola on the red channel, plus solid-dark pixels, plus (for faded ink)
    a hysteresis threshold on the paper-divided darkness; seal pixels are removed.
    """
    params = params or BinarizeParams()
    red = np.ascontiguousarray(rgb[..., 0])
    paper = paper_level(red, dpi)
    dark = darkness(red, paper)
    sigma = paper_noise(red, paper)
    stamp = stamp_mask(rgb, params)
    # A seal is pale in the red channel, like faded ink: keep it (and its soft rim)
    # out of the faded-ink decision and out of the enhanced strokes.
    grown = cv2.dilate(stamp.view(np.uint8), np.ones((5, 5), np.uint8))
    off_stamp = cv2.compare(grown, 0, cv2.CMP_EQ)
    assessment = assess_ink(cv2.bitwise_and(dark, off_stamp), sigma, dpi, params)
    ink = sauvola(red, window_px(dpi, params.window_inches), params.sauvola_k)
    ink |= dark > params.solid_ink_darkness
    enhanced = assessment.faded if params.enhance is None else params.enhance
    if enhanced:
        ink |= enhanced_ink(red, paper, params) & (off_stamp > 0)
    ink &= ~stamp
    faded_mean = params.faded_stroke_darkness if enhanced else 0
    faint = faint_strokes(ink, dark, params.faint_darkness, faded_mean)
    structure = not_strokes(faint, dark, dpi, params)
    ink &= ~structure
    faint &= ~structure
    log.debug("ink: %s, enhanced=%s", assessment, enhanced)
    return InkMasks(ink, stamp, dark, assessment, enhanced, faint)


def faint_strokes(ink: Mask, dark: U8, strong: int, mean_below: int = 0) -> Mask:
    """Pixels of the 8-connected ``ink`` components in which no pixel exceeds
    ``strong``, or (when ``mean_below``) whose mean darkness is below ``mean_below``.

    Painting these in the full ink colour would turn every paper fibre into a black
    speck (a false diacritic beside printed text); they get a paler layer of their own.
    """
    count, labels = cv2.connectedComponents(ink.view(np.uint8), connectivity=8)
    dark_component = np.zeros(count, dtype=bool)
    sums = np.zeros(count, dtype=np.float64)
    sizes = np.zeros(count, dtype=np.int64)
    # Band by band: bincount's weights are float64, eight bytes a pixel for the whole
    # entry at once. The sums are of integers, so they come out exactly the same.
    # Over the ink's pixels only (the background, label 0, is set dark below).
    for top in range(0, labels.shape[0], _BAND_ROWS):
        part, shade = labels[top : top + _BAND_ROWS], dark[top : top + _BAND_ROWS]
        on = np.flatnonzero(part)
        pieces, shades = part.ravel().take(on), shade.ravel().take(on)
        dark_component[pieces[shades > strong]] = True
        if mean_below:
            sums += np.bincount(pieces, weights=shades, minlength=count)
            sizes += np.bincount(pieces, minlength=count)
    if mean_below:
        dark_component &= sums >= mean_below * np.maximum(sizes, 1)
    dark_component[0] = True  # the background is not a faint stroke
    faint: Mask = np.logical_not(dark_component)[labels]
    return faint


def not_strokes(faint: Mask, dark: U8, dpi: float, params: BinarizeParams) -> Mask:
    """The parts of the faint layer that are paper, not writing: wide parts
    (show-through, page stacks, stains), small soft-edged pieces (a tide line's
    fragments) and pale thin lines (guilloche, fibres). Painted as ink they became specks
    and dark bands; left out of the masks, the background layer carries them at their
    own tone.

    Wide parts are cut out pixel by pixel (an opening by a disk of 0.75 mm radius),
    so a faded stroke crossing a stain keeps its own pixels; the rest is decided per
    8-connected piece, its edge from the darkness of the paper within 2 px around each
    of its pixels.
    """
    if not faint.any():
        return np.zeros(faint.shape, dtype=bool)
    px_mm = dpi / 25.4
    wide = _wide_parts(faint, max(1, round(params.faint_max_half_width_mm * px_mm)))
    # What is left beside a wide part is judged as a piece of its own: the paper
    # around it then lies in the wide part, as dark as it is, and it reads as soft.
    rest = faint & ~wide
    count, labels = piece_labels(rest)
    sums = _piece_sums(rest, labels, count, dark, params.faint_min_peak)
    inside, around, size, peak = sums
    mean = inside / np.maximum(size, 1)
    edge = (mean - around / np.maximum(size, 1)) / np.maximum(mean, 1.0)
    small = size < params.faint_soft_area_mm2 * px_mm * px_mm
    # Pale alone is not enough: faded strokes can be as pale as a guilloche's curves,
    # but not as thin (a quarter of a pen stroke survives a 3x3 erosion; of a fine
    # line, only where two cross).
    cored = cv2.erode(rest.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    thick = np.bincount(labels[cored], minlength=count) >= 0.25 * size
    paper = (~peak & ~thick) | (small & (edge < params.faint_min_edge))
    paper[0] = False
    drop: Mask = paper[labels]
    drop &= rest
    drop |= wide
    return drop


def _wide_parts(mask: Mask, radius: int) -> Mask:
    """The pixels of ``mask`` that a disk of ``radius`` covers while lying wholly in
    it (an opening by the disk)."""
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    # The disk holds a square: where even the square fits nowhere, neither does the
    # disk. Most entries' faint strokes are thin and stop here, and a square's
    # erosion is separable, a fraction of the disk's cost on a whole entry.
    inner = max(
        h
        for h in range(radius + 1)
        if disk[radius - h : radius + h + 1, radius - h : radius + h + 1].all()
    )
    square = np.ones((2 * inner + 1, 2 * inner + 1), np.uint8)
    if not cv2.countNonZero(cv2.erode(mask.view(np.uint8), square)):
        return np.zeros(mask.shape, dtype=bool)
    wide = cv2.erode(mask.view(np.uint8), disk)
    if not cv2.countNonZero(wide):
        return np.zeros(mask.shape, dtype=bool)
    opened: Mask = cv2.dilate(wide, disk).view(bool) & mask
    return opened


def piece_labels(mask: Mask) -> tuple[int, npt.NDArray[np.integer]]:
    """8-connected labels of ``mask``, in 16 bits when there are few enough (half the
    memory of a whole page's 32-bit labels; OpenCV refuses an overflow)."""
    try:
        count, labels = cv2.connectedComponents(
            mask.view(np.uint8), connectivity=8, ltype=cv2.CV_16U
        )
    except cv2.error:
        count, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    return int(count), np.asarray(labels)


def _piece_sums(
    pieces: Mask, labels: npt.NDArray[np.integer], count: int, dark: U8, peak_level: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], Mask]:
    """Per label: darkness summed over its pixels, the mean darkness of the bare
    paper within 2 px summed over its pixels, its size, and whether any pixel reaches
    ``peak_level``. Band by band, with float32 temporaries of a band only."""
    inside = np.zeros(count, np.float64)
    around = np.zeros(count, np.float64)
    size = np.zeros(count, np.int64)
    peak = np.zeros(count, bool)
    (height, width), half = labels.shape, 2
    for top in range(0, height, _BAND_ROWS):
        band = pieces[top : top + _BAND_ROWS]
        # Only the box around the band's pieces, with the 5x5 window's margin: the
        # pieces are few and small (faint strokes), the band a whole entry wide. At
        # the entry's edges the margin is clipped as the whole-entry filter's would be.
        rows, columns = np.flatnonzero(band.any(axis=1)), np.flatnonzero(band.any(axis=0))
        if not rows.size:
            continue
        y0, y1 = top + int(rows[0]), top + int(rows[-1]) + 1
        x0, x1 = int(columns[0]), int(columns[-1]) + 1
        start, stop = max(0, y0 - half), min(height, y1 + half)
        left, right = max(0, x0 - half), min(width, x1 + half)
        bare = (~pieces[start:stop, left:right]).view(np.uint8)
        shade = dark[start:stop, left:right]
        # Sums over 5x5 fit 16 bits (25 x 255), cheaper than float boxes.
        paper = cv2.bitwise_and(shade, shade, mask=bare).astype(np.uint16)
        total = cv2.boxFilter(paper, -1, (5, 5), normalize=False)
        share = cv2.boxFilter(bare.astype(np.uint16), -1, (5, 5), normalize=False)
        inner = (slice(y0 - start, y1 - start), slice(x0 - left, x1 - left))
        ring = total[inner] / np.maximum(share[inner], 1).astype(np.float32)
        part, on, level = labels[y0:y1, x0:x1], pieces[y0:y1, x0:x1], shade[inner]
        inside += np.bincount(part[on], weights=level[on], minlength=count)
        around += np.bincount(part[on], weights=ring[on], minlength=count)
        size += np.bincount(part[on], minlength=count)
        peak[part[on & (level >= peak_level)]] = True
    return inside, around, size, peak


def mean_colour(rgb: U8, mask: Mask, step: int = 2) -> tuple[int, int, int] | None:
    """Median colour of the ``mask`` pixels (sampled every ``step`` pixels), or None."""
    rows, columns = np.nonzero(mask[::step, ::step])
    if not rows.size:
        return None
    sample = rgb[rows * step, columns * step]
    red, green, blue = (_median_level(sample[:, channel]) for channel in range(3))
    return (red, green, blue)


def _median_level(levels: U8) -> int:
    """``int(np.median(levels))`` of 8-bit levels, read off their histogram (a
    median by sorting costs many times more on a whole page's paper)."""
    below = np.bincount(levels, minlength=256).cumsum()
    # The level at sorted position k is the first whose running count exceeds k.
    low, high = np.searchsorted(below, [(below[-1] - 1) // 2, below[-1] // 2], side="right")
    return (int(low) + int(high)) // 2


def _luma(colour: tuple[int, int, int]) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def _darkened(colour: tuple[int, int, int], max_luma: float) -> tuple[int, int, int]:
    """``colour`` with its hue kept and its luma at most ``max_luma``."""
    luma = _luma(colour)
    if luma <= max_luma:
        return colour
    scale = max(0.0, max_luma) / luma
    return (round(colour[0] * scale), round(colour[1] * scale), round(colour[2] * scale))


def ink_colour(
    rgb: U8, masks: InkMasks, max_luma: float = 80.0, part: Mask | None = None
) -> tuple[int, int, int]:
    """The colour to paint the strong ink (or ``part`` of it) in: the ink's own hue,
    never lighter than ``max_luma``, so it prints legibly dark (legibility first)."""
    strong = masks.ink & ~masks.faint if part is None else part
    core = strong & (masks.darkness >= np.uint8(60))
    colour = mean_colour(rgb, core) or mean_colour(rgb, strong) or (0, 0, 0)
    return _darkened(colour, max_luma)


def faint_colour(
    rgb: U8, masks: InkMasks, params: BinarizeParams | None = None, part: Mask | None = None
) -> tuple[int, int, int] | None:
    """The colour of the faint layer (or ``part`` of it): its own median colour,
    darkened to at least ``faint_min_step`` luma levels below the paper (None when
    there is no faint ink).

    Faded writing keeps its look and gains contrast where it had little; paper fibres
    stay a pale tone instead of becoming black specks.
    """
    params = params or BinarizeParams()
    colour = mean_colour(rgb, masks.faint if part is None else part)
    if colour is None:
        return None
    # Only every 4th pixel is sampled: make the paper mask on that grid alone.
    step = 4
    bare = ~(masks.ink[::step, ::step] | masks.stamp[::step, ::step])
    paper = mean_colour(rgb[::step, ::step], bare, step=1) or (255, 255, 255)
    return _darkened(colour, _luma(paper) - params.faint_min_step)
