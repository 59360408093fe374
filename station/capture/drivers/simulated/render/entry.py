"""Drawing one ledger entry: printed labels, handwritten values, signature and seal.

An entry is either a whole page frame (one entry per page, with a printed "Số: N"
box) or a band of a stacked table (handwritten number in the number column, notes in
the notes column). Rows of fields come from :mod:`station.capture.drivers.simulated.render.content`.
What was printed and written is recorded on the :class:`EntryPlan` as ground truth.
"""

from __future__ import annotations

import logging

import numpy as np

from station.capture.drivers.simulated.render import content
from station.capture.drivers.simulated.render.form import (
    Canvas,
    EntryPlan,
    Rect,
    dotted,
    note_column,
    number_column,
    print_text,
    rule,
    rule_width,
)
from station.capture.drivers.simulated.render.ink import (
    merge,
    signature,
    stamp_image,
    stamp_text,
    write,
)

log = logging.getLogger(__name__)

SIGN_ROWS = 3.0  # the signature block is three row units tall


def draw_entry(
    canvas: Canvas, entry: EntryPlan, ledger: str, office: content.Office, rng: np.random.Generator
) -> None:
    """Draw every part of ``entry`` and record its printed and handwritten text."""
    if entry.banded:
        body = _draw_margins(canvas, entry, rng)
        rows = content.COMPACT_ROWS[ledger]
        unit = min(canvas.mm(9), body.height / (len(rows) + SIGN_ROWS + 0.2))
    else:
        body = _draw_number_box(canvas, entry)
        rows = content.FULL_ROWS[ledger]
        unit = min(canvas.mm(14), body.height / (len(rows) + SIGN_ROWS + 0.2))
    y = body.top
    for row in rows:
        _draw_row(canvas, entry, row, body.left, body.right, y, unit, rng)
        y += unit
    sign = Rect(body.left, body.bottom - SIGN_ROWS * unit, body.right, body.bottom)
    _draw_sign_block(canvas, entry, sign, unit, office, rng)


def _draw_number_box(canvas: Canvas, entry: EntryPlan) -> Rect:
    """The pre-printed "Số: N" of a one-entry page; returns the area left for fields."""
    mm, rect = canvas.mm, entry.rect
    pad = mm(4)
    label = f"Số: {entry.number}"
    right = print_text(canvas, (rect.left + pad, rect.top + pad + mm(5)), label, mm(4.6), True)
    entry.printed.append(label)
    under = rect.top + pad + mm(7.5)
    rule(canvas, rect.left + pad / 2, under, right + pad, under, max(1, rule_width(canvas) // 2))
    return Rect(rect.left + pad, rect.top + pad + mm(10), rect.right - pad, rect.bottom - pad)


def _draw_margins(canvas: Canvas, entry: EntryPlan, rng: np.random.Generator) -> Rect:
    """Handwritten number and marginal note of a stacked band; returns the body area."""
    mm, rect, line = canvas.mm, entry.rect, rule_width(canvas)
    num_right = rect.left - line + number_column(canvas)
    note_left = rect.right + line - note_column(canvas)
    column = num_right - rect.left
    write(canvas.ink, (rect.left + mm(2.5), rect.top + mm(7)), entry.number, entry.pen, rng, column)
    entry.handwritten["so"] = entry.number
    note = entry.values.get("ghi_chu", "")
    if note:
        width = rect.right - note_left - mm(3)
        write(canvas.ink, (note_left + mm(1.5), rect.top + mm(12)), note, entry.pen, rng, width)
        entry.handwritten["ghi_chu"] = note
    pad = mm(2.5)
    return Rect(num_right + pad, rect.top + pad, note_left - pad, rect.bottom - pad)


def _draw_row(
    canvas: Canvas,
    entry: EntryPlan,
    row: tuple[str, ...],
    left: float,
    right: float,
    top: float,
    unit: float,
    rng: np.random.Generator,
) -> None:
    x = left
    weights = [content.SHORT_FIELDS.get(key, content.LONG_FIELD) for key in row]
    for key, weight in zip(row, weights, strict=True):
        width = (right - left) * weight / sum(weights)
        _draw_field(canvas, entry, key, x, x + width, top + unit * 0.72, unit, rng)
        x += width


def _draw_field(
    canvas: Canvas,
    entry: EntryPlan,
    key: str,
    x0: float,
    x1: float,
    baseline: float,
    unit: float,
    rng: np.random.Generator,
) -> None:
    """Printed label, dotted leader and the handwritten value on it."""
    mm = canvas.mm
    label = content.LABELS[key]
    end = print_text(canvas, (x0, baseline), label, min(unit * 0.4, mm(3.6)))
    entry.printed.append(label)
    dotted(canvas, end + mm(1), x1 - mm(2), baseline + mm(0.3))
    value = entry.values.get(key, "")
    if entry.banded and key == "ghi_chu":
        return  # notes of stacked entries go in the notes column
    if value and write(canvas.ink, (end + mm(2), baseline - mm(0.4)), value, entry.pen, rng,
                       x1 - end - mm(4)):  # fmt: skip
        entry.handwritten[key] = value


def _draw_sign_block(
    canvas: Canvas,
    entry: EntryPlan,
    area: Rect,
    unit: float,
    office: content.Office,
    rng: np.random.Generator,
) -> None:
    """Registration date and clerk on the left; signer, title, signature and seal right."""
    middle = area.left + area.width * 0.58
    for index, key in enumerate(content.SIGN_LEFT):
        _draw_field(
            canvas, entry, key, area.left, middle, area.top + unit * (index + 0.72), unit, rng
        )
    for index, key in enumerate(content.SIGN_RIGHT):
        _draw_field(
            canvas, entry, key, middle, area.right, area.top + unit * (index + 0.72), unit, rng
        )
    span = area.right - middle
    scribble = (middle + span * 0.3, area.top + unit * 1.9, middle + span * 0.8, area.bottom)
    signature(canvas.ink, scribble, entry.pen, rng)
    if entry.stamp:
        centre = (scribble[0] + span * 0.05, area.top + unit * 1.6)
        _draw_stamp(canvas, entry, centre, office, rng)


def _draw_stamp(
    canvas: Canvas,
    entry: EntryPlan,
    centre: tuple[float, float],
    office: content.Office,
    rng: np.random.Generator,
) -> None:
    """A seal over the left of the signature, kept inside the entry's own region."""
    rect = entry.rect
    room = min(centre[0] - rect.left, rect.right - centre[0], centre[1] - rect.top)
    room = min(room, rect.bottom - centre[1]) - 3
    radius = int(min(canvas.mm(16 if not entry.banded else 13), room))
    if radius < canvas.mm(6):
        entry.stamp = False  # no room for a readable seal: leave the entry unsealed
        return
    seal = stamp_image(radius, stamp_text(office.commune, office.district), rng)
    left = int(centre[0]) - seal.width // 2
    top = int(centre[1]) - seal.height // 2
    merge(canvas.stamp, seal, (left, top, left + seal.width, top + seal.height))
    entry.stamp_circle = (left + seal.width / 2, top + seal.height / 2, float(radius))
