"""The real-like register style: a hand-ruled table of 10-30 entries a page.

Real books seldom look like the printed forms of :mod:`ledger_form`: a clerk rules
columns by hand, writes the column headings, and fills rows one after another. Each
entry starts with its number in the first (key) column and runs over 1-4 lines with
the key column empty on its continuation lines; some entries leave a blank line
before the next. Between entries there is no rule across the page: either none, a
short rule under the key column only, or faint dashed guides under every row. On a
spread the table runs across both pages, so an entry's row continues past the fold.

Rows come from :mod:`ledger_register_rows`; this module plans the entries and draws
the page. Each entry's writing is drawn on a layer the size of its own region, so its
ink can never stray into a neighbour's truth.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from PIL import Image, ImageDraw

from station.capture.drivers.simulated.render import content
from station.capture.drivers.simulated.render.form import (
    PROFILES,
    Canvas,
    EntryPlan,
    PagePlan,
    Rect,
    RenderSpec,
)
from station.capture.drivers.simulated.render.ink import Pen, load_font, make_pen, merge, write
from station.capture.drivers.simulated.render.register_rows import (
    HEADING_MM,
    HEADING_TOP_MM,
    TITLE_MM,
    RegisterLayout,
    register_layout,
)

log = logging.getLogger(__name__)

KEY_MM = 11.0  # width of the key (entry number) column
PAD_MM = 1.2  # writing keeps this far from a column rule
#: (page width, outer margin, inner margin) in mm; the outer margin leaves room for
#: the stack of page edges and a holding hand, which never reach the table.
SINGLE_MARGINS = (13.0, 13.0)
SPREAD_MARGINS = (14.0, 7.0)
RULING_RGB = ((58, 56, 68), (44, 50, 96), (88, 76, 66))
GUIDE_RGB = (150, 147, 158)

Column = tuple[str, str, float]  # heading, field key, relative width
KEY: Column = ("Số", "so", 0.0)

#: Columns per ledger: a single page, then the left and right pages of a spread.
COLUMNS: dict[str, dict[str, tuple[Column, ...]]] = {
    "KS": {
        "single": (
            KEY, ("Họ và tên", "ho_ten", 3.0), ("Ngày sinh", "ngay_sinh", 1.9),
            ("Nơi sinh", "noi_sinh", 3.0), ("Họ tên mẹ", "me_ho_ten", 2.8),
            ("Nơi cư trú", "me_cu_tru", 3.4), ("Ngày ĐK", "ngay_dang_ky", 1.9),
        ),
        "left": (
            KEY, ("Họ và tên", "ho_ten", 3.0), ("Giới tính", "gioi_tinh", 1.2),
            ("Ngày sinh", "ngay_sinh", 1.9), ("Nơi sinh", "noi_sinh", 3.4),
            ("Quê quán", "que_quan", 2.8),
        ),
        "right": (
            ("Họ tên cha", "cha_ho_ten", 2.6), ("Họ tên mẹ", "me_ho_ten", 2.6),
            ("Nơi cư trú", "me_cu_tru", 3.4), ("Người đi khai", "nguoi_khai", 2.4),
            ("Ngày đăng ký", "ngay_dang_ky", 1.8), ("Ghi chú", "ghi_chu", 1.5),
        ),
    },
    "KH": {
        "single": (
            KEY, ("Họ tên chồng", "chong_ho_ten", 2.8), ("Ngày sinh", "chong_ngay_sinh", 1.9),
            ("Họ tên vợ", "vo_ho_ten", 2.8), ("Ngày sinh", "vo_ngay_sinh", 1.9),
            ("Nơi cư trú", "chong_cu_tru", 3.4), ("Ngày ĐK", "ngay_dang_ky", 1.9),
        ),
        "left": (
            KEY, ("Họ tên chồng", "chong_ho_ten", 3.0), ("Ngày sinh", "chong_ngay_sinh", 1.9),
            ("Dân tộc", "chong_dan_toc", 1.3), ("Nơi cư trú", "chong_cu_tru", 3.6),
        ),
        "right": (
            ("Họ tên vợ", "vo_ho_ten", 3.0), ("Ngày sinh", "vo_ngay_sinh", 1.9),
            ("Dân tộc", "vo_dan_toc", 1.3), ("Nơi cư trú", "vo_cu_tru", 3.6),
            ("Ngày đăng ký", "ngay_dang_ky", 1.9), ("Ghi chú", "ghi_chu", 1.5),
        ),
    },
    "KT": {
        "single": (
            KEY, ("Họ và tên", "ho_ten", 3.0), ("Ngày sinh", "ngay_sinh", 1.9),
            ("Ngày chết", "ngay_chet", 1.9), ("Nơi cư trú cuối cùng", "cu_tru_cuoi", 3.6),
            ("Nguyên nhân", "nguyen_nhan", 2.0), ("Ngày ĐK", "ngay_dang_ky", 1.9),
        ),
        "left": (
            KEY, ("Họ và tên", "ho_ten", 3.0), ("Giới tính", "gioi_tinh", 1.2),
            ("Ngày sinh", "ngay_sinh", 1.9), ("Dân tộc", "dan_toc", 1.3),
            ("Nơi cư trú cuối cùng", "cu_tru_cuoi", 3.6),
        ),
        "right": (
            ("Ngày chết", "ngay_chet", 1.9), ("Nơi chết", "noi_chet", 3.4),
            ("Nguyên nhân", "nguyen_nhan", 2.2), ("Người khai", "nguoi_khai", 2.6),
            ("Ngày đăng ký", "ngay_dang_ky", 1.9), ("Ghi chú", "ghi_chu", 1.5),
        ),
    },
}  # fmt: skip


def table_rects(spec: RenderSpec, canvas: Canvas) -> list[tuple[Rect, Rect]]:
    """(page, table) for each page side, in flat pixels; tables end at the last row."""
    width, height = canvas.content.size
    pages = PROFILES[spec.profile].pages
    outer, inner = SINGLE_MARGINS if pages == 1 else SPREAD_MARGINS
    layout = register_layout(spec.seed, spec.page_index)
    top = canvas.mm(HEADING_TOP_MM)
    bottom = canvas.mm(layout.rows_top_mm + layout.rows * layout.pitch_mm)
    page_w = width / pages
    result = []
    for side in range(pages):
        page = Rect(side * page_w, 0.0, (side + 1) * page_w, float(height))
        left = canvas.mm(inner if pages == 2 and side == 1 else outer)
        right = canvas.mm(inner if pages == 2 and side == 0 else outer)
        result.append((page, Rect(page.left + left, top, page.right - right, bottom)))
    return result


def column_edges(table: Rect, columns: tuple[Column, ...], canvas: Canvas) -> list[float]:
    """x of every column rule of one page's table, left to right (both outer edges too)."""
    key = canvas.mm(KEY_MM) if columns[0] is KEY else 0.0
    weights = [w for _, _, w in columns if w > 0]
    free = table.width - key
    edges = [table.left] + ([table.left + key] if key else [])
    for weight in weights:
        edges.append(edges[-1] + free * weight / sum(weights))
    return edges


def page_columns(spec: RenderSpec) -> list[tuple[Column, ...]]:
    """The columns of each page side."""
    sets = COLUMNS[spec.ledger]
    return [sets["single"]] if PROFILES[spec.profile].pages == 1 else [sets["left"], sets["right"]]


def plan_register(spec: RenderSpec, canvas: Canvas, office: content.Office) -> list[PagePlan]:
    """Every page and entry of a register image; a spread's entries sit on side 0."""
    rng = np.random.default_rng([spec.seed, spec.page_index, 0xE8])
    layout = register_layout(spec.seed, spec.page_index)
    sides = table_rects(spec, canvas)
    faded = bool(rng.random() < spec.faded_probability)
    left, right = sides[0][1].left, sides[-1][1].right
    entries = []
    for offset, (row, lines) in enumerate(layout.spans):
        number = spec.first_entry + offset
        top = canvas.mm(layout.rows_top_mm + row * layout.pitch_mm)
        bottom = canvas.mm(layout.rows_top_mm + (row + lines) * layout.pitch_mm)
        rect = Rect(math.ceil(left + 1), math.ceil(top + 1), math.floor(right - 1),
                    math.floor(bottom - 1))  # fmt: skip
        values = content.entry_values(spec.ledger, rng, office, spec.year, number)
        pen = make_pen(rng, canvas.mm(layout.pitch_mm * 0.5), thin=faded)
        entry = EntryPlan(str(number), rect, 0, True, values, False, faded, pen)
        entry.ink_box = (int(rect.left), int(rect.top), int(rect.right), int(rect.bottom))
        entries.append(entry)
    pages = []
    for side, (page, table) in enumerate(sides):
        number = spec.page_index * len(sides) + side + 1
        pages.append(PagePlan(side, page, table, number, faded, entries if side == 0 else []))
    return pages


def draw_register(
    spec: RenderSpec, canvas: Canvas, pages: list[PagePlan], rng: np.random.Generator
) -> None:
    """The hand-ruled table, headings and title of every page, then every entry."""
    layout = register_layout(spec.seed, spec.page_index)
    colour = RULING_RGB[int(rng.integers(len(RULING_RGB)))]
    heading_pen = make_pen(rng, canvas.mm(3.4), thin=False)
    columns = page_columns(spec)
    title, year = content.TITLES[spec.ledger], f"Năm {spec.year}"
    titles = [f"{title} - {year}"]
    if len(pages) == 2:  # the title across the spread: one half on each page
        titles = [title, f"Quyển số {spec.book:02d} - {year}"]
    for page, cols, title in zip(pages, columns, titles, strict=True):
        _draw_table(canvas, page, cols, layout, colour, heading_pen, rng)
        _hand_text(canvas, ((page.rect.left + page.rect.right) / 2, canvas.mm(TITLE_MM)),
                   title, heading_pen, colour, rng, centre=True)  # fmt: skip
        page.header = [title] + [heading for heading, _, _ in cols]
    for entry, (_, lines) in zip(pages[0].entries, layout.spans, strict=True):
        _draw_register_entry(canvas, pages, columns, entry, lines, layout.pitch_mm, rng)


def _draw_table(
    canvas: Canvas,
    page: PagePlan,
    columns: tuple[Column, ...],
    layout: RegisterLayout,
    colour: tuple[int, int, int],
    pen: Pen,
    rng: np.random.Generator,
) -> None:
    """Column rules, the heading row and the rules this page's style draws between rows."""
    mm, table = canvas.mm, page.frame
    edges = column_edges(table, columns, canvas)
    for x in edges:
        _hand_rule(canvas, (x, table.top), (x, table.bottom), colour, rng)
    heading_bottom = table.top + mm(HEADING_MM)
    for y in (table.top, heading_bottom, table.bottom):
        _hand_rule(canvas, (table.left, y), (table.right, y), colour, rng)
    baseline = heading_bottom - mm(HEADING_MM) * 0.32
    for (heading, _, _), x0, x1 in zip(columns, edges, edges[1:], strict=False):
        _hand_text(canvas, ((x0 + x1) / 2, baseline), heading, pen, colour, rng, centre=True,
                   max_width=x1 - x0 - mm(2 * PAD_MM))  # fmt: skip
    rows_top = mm(layout.rows_top_mm)
    if layout.rules == "dashed":
        for row in range(1, layout.rows):
            _dashed(canvas, table.left, table.right, rows_top + mm(row * layout.pitch_mm))
    elif layout.rules == "key" and columns[0] is KEY:
        for first, lines in layout.spans:
            y = rows_top + mm((first + lines) * layout.pitch_mm)
            _hand_rule(canvas, (table.left, y), (edges[1], y), colour, rng)


def _draw_register_entry(
    canvas: Canvas,
    pages: list[PagePlan],
    columns: list[tuple[Column, ...]],
    entry: EntryPlan,
    lines: int,
    pitch_mm: float,
    rng: np.random.Generator,
) -> None:
    """The number in the key column, then each column's value wrapped over ``lines``."""
    rect = entry.rect
    layer = Image.new("L", (int(rect.width), int(rect.height)), 0)
    cells = []
    for page, cols in zip(pages, columns, strict=True):
        edges = column_edges(page.frame, cols, canvas)
        cells += [
            (key, x0, x1) for (_, key, _), x0, x1 in zip(cols, edges, edges[1:], strict=False)
        ]
    texts = {key: entry.values.get(key, "") for key, _, _ in cells}
    texts["so"] = entry.number
    longest = max((k for k in texts if k != "so"), key=lambda k: len(texts[k].split()))
    pad = canvas.mm(PAD_MM)
    for key, x0, x1 in cells:
        text = texts[key]
        if not text.strip():
            continue
        width = x1 - x0 - 2 * pad
        parts = _balanced(text, lines) if key == longest else _wrap(text, entry.pen, width, lines)
        for index, part in enumerate(parts):
            baseline = canvas.mm(pitch_mm) * (index + 0.72) - 1  # rect starts 1 px down
            write(layer, (x0 + pad - rect.left, baseline), part, entry.pen, rng, width)
        entry.handwritten[key] = text
    merge(canvas.ink, layer, entry.ink_box or (0, 0, 0, 0))


def _balanced(text: str, lines: int) -> list[str]:
    """``text`` split at spaces into up to ``lines`` parts of about equal length."""
    words = text.split()
    parts = min(lines, len(words))
    target = len(text) / parts
    result: list[str] = []
    current: list[str] = []
    for index, word in enumerate(words):
        current.append(word)
        left_words, left_parts = len(words) - index - 1, parts - len(result) - 1
        if left_parts and (len(" ".join(current)) >= target or left_words == left_parts):
            result.append(" ".join(current))
            current = []
    if current:
        result.append(" ".join(current))
    return result


def _wrap(text: str, pen: Pen, width: float, lines: int) -> list[str]:
    """Words filled into lines of ``width``; what overflows the last line stays on it."""
    font = load_font(pen.font, pen.size)
    result: list[str] = []
    for word in text.split():
        fits = bool(result) and font.getlength(f"{result[-1]} {word}") * 1.08 <= width
        if result and (fits or len(result) == lines):
            result[-1] = f"{result[-1]} {word}"
        else:
            result.append(word)
    return result


def _hand_rule(
    canvas: Canvas,
    start: tuple[float, float],
    end: tuple[float, float],
    colour: tuple[int, int, int],
    rng: np.random.Generator,
) -> None:
    """A line ruled by hand: a little tilted, slowly wavy, its width uneven."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    normal = ((y0 - y1) / length, (x1 - x0) / length)
    steps = max(8, int(length / canvas.mm(4)))
    t = np.linspace(0.0, 1.0, steps + 1)
    amplitude = canvas.mm(float(rng.uniform(0.1, 0.45)))
    wave = amplitude * np.sin(2 * math.pi * rng.uniform(0.5, 2.5) * t + rng.uniform(0, 6))
    wave += canvas.mm(float(rng.uniform(-0.4, 0.4))) * t  # the ruler was not quite square
    xs, ys = x0 + (x1 - x0) * t + normal[0] * wave, y0 + (y1 - y0) * t + normal[1] * wave
    draw = ImageDraw.Draw(canvas.content)
    base = max(1.0, canvas.mm(float(rng.uniform(0.22, 0.4))))
    for k in range(steps):
        width = max(1, round(base * rng.uniform(0.75, 1.25)))
        segment = [(float(xs[k]), float(ys[k])), (float(xs[k + 1]), float(ys[k + 1]))]
        draw.line(segment, fill=colour, width=width)


def _dashed(canvas: Canvas, x0: float, x1: float, y: float) -> None:
    """A faint dashed guide across the table."""
    dash, gap = canvas.mm(2.0), canvas.mm(1.5)
    draw = ImageDraw.Draw(canvas.content)
    width = max(1, round(canvas.mm(0.12)))
    for x in np.arange(x0, x1 - dash, dash + gap):
        draw.line([(float(x), y), (float(x) + dash, y)], fill=GUIDE_RGB, width=width)


def _hand_text(
    canvas: Canvas,
    xy: tuple[float, float],
    text: str,
    pen: Pen,
    colour: tuple[int, int, int],
    rng: np.random.Generator,
    centre: bool = False,
    max_width: float = 0.0,
) -> None:
    """Handwriting that belongs to the page, not an entry (title, headings): printed
    matter for the truth, so it goes on the colour layer, not the ink mask."""
    natural = load_font(pen.font, pen.size).getlength(text) * 1.08
    shown = min(natural, max_width) if max_width > 0 else natural
    x = xy[0] - shown / 2 if centre else xy[0]
    # A local layer with room for slant, swash and diacritics around the line.
    left, top = int(x - pen.size * 2), int(xy[1] - pen.size * 2)
    layer = Image.new("L", (int(shown + pen.size * 4), pen.size * 3), 0)
    box = write(layer, (x - left, xy[1] - top), text, pen, rng, max_width)
    if box is not None:
        canvas.content.paste(colour, (left, top, left + layer.width, top + layer.height), layer)
