"""Rows of a simulated register page: which rows each entry fills, in millimetres.

A register (``RenderSpec.style = "register"``) is a hand-ruled table whose entries
follow each other down the page, each on 1-4 lines of writing, some with a blank
line before the next. This module decides only the rows, from the seed and page
index, so the number of entries is known without drawing (as
:func:`ledger_form.entry_counts` needs) and does not depend on the dpi.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

SHEET_HEIGHT_MM = 297.0
TITLE_MM = 26.0  # baseline of the handwritten title
HEADING_TOP_MM = 32.0  # top rule of the column-heading row
HEADING_MM = 11.0  # height of the column-heading row
BOTTOM_MM = 286.0  # last usable row ends here
ENTRIES = (10, 30)  # entries a page, inclusive
#: How many lines an entry would like; a full page squeezes the longest.
LINE_WISHES = (1, 2, 3, 4)
LINE_ODDS = (0.3, 0.35, 0.2, 0.15)
GAP_ODDS = 0.3  # chance of a blank line before an entry
RULE_STYLES = ("none", "key", "dashed")


@dataclass(frozen=True)
class RegisterLayout:
    """Rows of one register table (both pages of a spread share it)."""

    pitch_mm: float  # height of one line of writing
    spans: tuple[tuple[int, int], ...]  # (first row, rows) of each entry, top down
    rules: str  # "none": column rules only; "key": a rule under each entry in the
    # key column; "dashed": faint dashed guides under every row

    @property
    def rows_top_mm(self) -> float:
        """Top of the first row of writing, under the heading row."""
        return HEADING_TOP_MM + HEADING_MM

    @property
    def rows(self) -> int:
        """Rows of writing the page has room for."""
        return int((BOTTOM_MM - self.rows_top_mm) // self.pitch_mm)


def register_layout(seed: int, page_index: int) -> RegisterLayout:
    """The rows of register page ``page_index`` of the book with ``seed``."""
    rng = np.random.default_rng([seed, page_index, 0xC1])
    pitch = float(rng.uniform(6.6, 8.4))
    rows = int((BOTTOM_MM - HEADING_TOP_MM - HEADING_MM) // pitch)
    count = min(int(rng.integers(ENTRIES[0], ENTRIES[1] + 1)), rows)
    lines = [int(v) for v in rng.choice(LINE_WISHES, size=count, p=LINE_ODDS)]
    gaps = [0] + [int(rng.random() < GAP_ODDS) for _ in range(count - 1)]
    rules = RULE_STYLES[int(rng.integers(len(RULE_STYLES)))]
    _squeeze(lines, gaps, rows)
    spans, row = [], 0
    for wish, gap in zip(lines, gaps, strict=True):
        row += gap
        spans.append((row, wish))
        row += wish
    return RegisterLayout(pitch, tuple(spans), rules)


def _squeeze(lines: list[int], gaps: list[int], rows: int) -> None:
    """Fit the page: shorten the longest entries down to two lines, then drop blank
    lines from the bottom up, then shorten entries down to one line."""

    def over() -> bool:
        return sum(lines) + sum(gaps) > rows

    while over() and max(lines) > 2:
        lines[lines.index(max(lines))] -= 1
    index = len(gaps) - 1
    while over() and index > 0:
        gaps[index] = 0
        index -= 1
    while over():
        lines[lines.index(max(lines))] -= 1
