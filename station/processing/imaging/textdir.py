"""Which way the text runs, asked of tesseract's orientation detector (OSD).

:func:`station.processing.imaging.normalise.turned_sideways` decides the quarter turn
from run lengths of smeared writing: fast, and right on most pages, but dense cursive
in a ruled table can fool it with confidence (a portrait repertory page was taken
for a sideways one, score -1.10). When its answer contradicts the sheet's expected
shape, normalise asks this second opinion. OSD classifies the letters themselves, so
it was right on whether the text runs sideways on every real page it answered (11
of the 14 normalised 100-dpi pages of ``../shared/real-pages``), but its 180° answer
is unreliable on handwriting (wrong on 4 of those 11), and it costs 0.4-1.1 s of CPU
per page here: too much for every page on a Raspberry Pi, affordable for the rare
page in doubt. It reads a copy of the page at :data:`DPI`, not the 100-dpi working
copy, whose small print it misread.

The detector is a separate program (Debian ``tesseract-ocr``, whose ``osd`` model
comes with it); without it, :func:`text_turns` answers None and the page keeps the
run-length decision, flagged as uncertain.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

PROGRAM = "tesseract"
#: Seconds an answer may take before the page is left undecided (a Pi 4 is ~3x slower
#: than the 1.1 s measured here).
TIMEOUT_S = 30.0
#: Characters OSD needs before it answers (tesseract's default is 50; register pages
#: with a few long handwritten lines have fewer well-formed ones). Measured on the
#: real pages: with 20, every page in doubt got an answer.
MIN_CHARACTERS = 20

#: The resolution the detector reads the page at. At the working copy's 100 dpi it
#: read printed text wrong: the sideways table of ``dewarp_linguistics_thesis_b``,
#: made upright and turned each of four ways, got one right answer (confidence
#: 0.3-1.8); at 150 and 200 dpi all four (3.4-4.3 and 5.2-6.2). On the handwritten
#: real pages it tells sideways from upright about as well at any resolution (47, 48,
#: 48 of 52 turned copies at 100, 150, 200 dpi) and which end is up no better than
#: chance. 0.5-1.0 s of CPU a page here at 200 dpi, asked only for a page in doubt.
DPI = 200.0

#: OSD's confidence from which its direction (90° vs 270°) is taken too. On turned
#: simulator spreads every wrong direction came with 0.44 or less (5 of 16), right
#: ones with 0.1-1.9; the sideways real page in doubt was right with 0.54.
DIRECTION_CONFIDENCE = 0.5

_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_CONFIDENCE = re.compile(r"Orientation confidence:\s*([\d.]+)")


@dataclass(frozen=True)
class TextTurns:
    """OSD's answer: clockwise quarter turns that make the text upright, and how sure."""

    turns: int
    confidence: float

    @property
    def sideways(self) -> bool:
        return self.turns % 2 == 1

    @property
    def direction_sure(self) -> bool:
        """Whether the half turn (which end is up) may be taken from this answer."""
        return self.confidence >= DIRECTION_CONFIDENCE


def available() -> bool:
    """Whether the detector is installed."""
    return shutil.which(PROGRAM) is not None


def text_turns(gray: NDArray[np.uint8]) -> TextTurns | None:
    """OSD's reading of ``gray`` (a page at about :data:`DPI`), or None without an answer
    (detector missing, too few characters, an error or a timeout: each logged)."""
    program = shutil.which(PROGRAM)
    if program is None:
        log.warning("orientation in doubt and %s is not installed", PROGRAM)
        return None
    ok, png = cv2.imencode(".png", gray)
    if not ok:
        return None
    command = [program, "stdin", "stdout", "--psm", "0"]
    command += ["-c", f"min_characters_to_try={MIN_CHARACTERS}"]
    try:
        done = subprocess.run(
            command, input=png.tobytes(), capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("orientation detector failed: %s", exc)
        return None
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    rotate, confidence = _ROTATE.search(output), _CONFIDENCE.search(output)
    if rotate is None or confidence is None:
        log.info("orientation detector gave no answer (exit %d)", done.returncode)
        return None
    return TextTurns(int(rotate.group(1)) // 90 % 4, float(confidence.group(1)))
