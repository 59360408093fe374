"""Ink of several colours: a mask split by hue, so each part is painted in its own.

One colour for all the ink of an entry made a form's black print and its blue
writing one dark blue-grey (measured: the writing's blue minus red fell from 103 to
59 levels, the print's rose from 4 to 59), and a page's red rules the brown of its
ink. Each 8-connected piece of a mask is classed by the hue of its core (the pixels
at least 60 levels below the paper: a stroke's edge is mostly paper); pieces of too
little colour are neutral.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from station.processing.imaging.binarize import piece_labels

log = logging.getLogger(__name__)

U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]

_BAND_ROWS = 512
#: A piece has a hue when its core's saturation ((max - min) / max) and its spread
#: (max - min, in levels) reach these: dark print on yellowed paper stays neutral.
MIN_SATURATION = 0.3
MIN_SPREAD = 40
#: A hue holding less than this share of the mask's pixels joins the main one (a
#: separate layer for a few pieces costs bytes and reads no better).
MIN_SHARE = 0.03
#: Upper ends of the hue sectors on OpenCV's 0-180 hue scale: red, brown to yellow,
#: green, blue, violet, red again (classes 1-6; 0 is neutral).
_SECTORS = np.array([10, 35, 80, 135, 160, 181])
_RED_AGAIN = 6


def hue_groups(rgb: U8, mask: Mask, dark: U8, core_darkness: int = 60) -> list[Mask]:
    """``mask`` split into parts of one hue each, the largest first; ``[mask]`` when
    it holds one hue (no copy)."""
    if not mask.any():
        return [mask]
    count, labels = piece_labels(mask)
    classes, sizes = _piece_classes(rgb, mask, dark, labels, count, core_darkness)
    totals = np.bincount(classes, weights=sizes, minlength=_RED_AGAIN + 1)
    main = int(np.argmax(totals))
    minor = totals < MIN_SHARE * totals.sum()
    classes[minor[classes]] = main
    kept = [int(k) for k in np.argsort(-totals) if totals[k] > 0 and not minor[k]]
    if len(kept) <= 1:
        return [mask]
    classes[0] = 255
    image = classes.astype(np.uint8)[labels]
    log.debug("ink in %d hues: %s", len(kept), kept)
    return [image == k for k in kept]


def _piece_classes(
    rgb: U8,
    mask: Mask,
    dark: U8,
    labels: npt.NDArray[np.integer],
    count: int,
    core_darkness: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The hue class of every piece (from its core's mean colour, or all of it when
    it has no core) and its size in pixels."""
    # Per piece and per side (0: the rim, 1: the core): one bincount over both.
    sums = np.zeros((3, 2 * count), np.float64)
    sizes = np.zeros(2 * count, np.float64)
    for top in range(0, labels.shape[0], _BAND_ROWS):
        rows = slice(top, top + _BAND_ROWS)
        # Gathered by flat index: a boolean selection of the colour pixels copies
        # them one at a time, ten times slower on a whole entry's band.
        chosen = np.flatnonzero(mask[rows])
        part = labels[rows].ravel().take(chosen).astype(np.int64)
        colours = rgb[rows].reshape(-1, 3).take(chosen, axis=0)
        slot = 2 * part + (dark[rows].ravel().take(chosen) >= core_darkness)
        sizes += np.bincount(slot, minlength=2 * count)
        for channel in range(3):
            sums[channel] += np.bincount(slot, weights=colours[:, channel], minlength=2 * count)
    core_sums, core_sizes = sums[:, 1::2], sizes[1::2]
    all_sums, all_sizes = core_sums + sums[:, 0::2], core_sizes + sizes[0::2]
    has_core = core_sizes > 0
    mean = np.where(
        has_core, core_sums / np.maximum(core_sizes, 1), all_sums / np.maximum(all_sizes, 1)
    )
    colours = np.clip(mean.T, 0, 255).astype(np.uint8).reshape(count, 1, 3)
    hsv = cv2.cvtColor(colours, cv2.COLOR_RGB2HSV).reshape(count, 3).astype(np.int64)
    high = colours.reshape(count, 3).max(axis=1).astype(np.int64)
    spread = high - colours.reshape(count, 3).min(axis=1)
    coloured = (hsv[:, 1] >= MIN_SATURATION * 255) & (spread >= MIN_SPREAD)
    classes = np.searchsorted(_SECTORS, hsv[:, 0], side="right") + 1
    classes[classes == _RED_AGAIN] = 1
    classes = np.where(coloured, classes, 0)
    classes[0] = 0
    return classes, all_sizes
