"""Page layout of the simulated ledgers: where pages, entries, rows and labels go.

Everything is planned and drawn on the *flat* page (before skew or perspective) in
final pixels. The plan depends only on the spec's seed and page index, so the number
of entries on any page can be known without drawing it (the driver numbers entries
across pages that way).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from station.capture.drivers.simulated.render import content
from station.capture.drivers.simulated.render.ink import SERIF, SERIF_BOLD, Pen, load_font, make_pen
from station.capture.drivers.simulated.render.register_rows import register_layout

log = logging.getLogger(__name__)

MM_PER_INCH = 25.4
PRINT_RGB = (28, 27, 32)


@dataclass(frozen=True)
class Profile:
    """A layout profile: the sheet photographed and how entries sit on its pages."""

    sheet_mm: tuple[float, float]  # width, height of the whole image
    pages: int  # 1 page or a 2-page spread
    stacked: bool  # several entries per page between ruled lines
    across: bool = False  # one table across the spread (the register style only)


PROFILES = {
    "spread-2": Profile((420.0, 297.0), 2, False),
    "page-1": Profile((210.0, 297.0), 1, False),
    "stacked": Profile((210.0, 297.0), 1, True),
    "spread-stacked": Profile((420.0, 297.0), 2, True),
    "spread-table": Profile((420.0, 297.0), 2, True, across=True),
}
LEDGERS = tuple(content.TITLES)


@dataclass(frozen=True)
class RenderSpec:
    """Everything that decides one rendered page; equal specs give equal pixels."""

    profile: str = "spread-2"
    dpi: int = 300
    seed: int = 0
    page_index: int = 0
    first_entry: int = 1
    stamp_probability: float = 0.5
    faded_probability: float = 0.2
    skew_max_deg: float = 1.5
    camera: bool = False
    ledger: str = "KS"
    year: int = 2017
    book: int = 1
    #: "form": the printed forms of the profile; "register": a hand-ruled register
    #: table of 10-30 entries a page (stacked profiles only; see ledger_register).
    style: str = "form"
    bend_max_mm: float = 0.0  # page curvature: the largest vertical displacement
    hand_probability: float = 0.0  # a hand holding the sheet at an outer margin
    margin_note: bool = False  # a note written later in the outer margin, in no entry
    torn_corner_mm: float = 0.0  # the sheet's top-right corner torn off, legs this long


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle on the flat page, in pixels."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def corners(self) -> list[tuple[float, float]]:
        """Top-left, top-right, bottom-right, bottom-left."""
        return [
            (self.left, self.top),
            (self.right, self.top),
            (self.right, self.bottom),
            (self.left, self.bottom),
        ]


@dataclass
class EntryPlan:
    """One entry to draw: its region, its words and how its ink looks."""

    number: str
    rect: Rect
    page_side: int
    banded: bool  # a band between ruled lines (stacked) or a whole page frame
    values: dict[str, str]
    stamp: bool
    faded: bool
    pen: Pen
    printed: list[str] = field(default_factory=list)  # filled while drawing
    ink_box: tuple[int, int, int, int] | None = None  # its ink's own region, when not banded
    handwritten: dict[str, str] = field(default_factory=dict)
    stamp_circle: tuple[float, float, float] | None = None


@dataclass
class PagePlan:
    """One physical page of the image."""

    side: int
    rect: Rect
    frame: Rect
    number: int  # physical page of the book (trangSo)
    faded: bool
    entries: list[EntryPlan]
    header: list[str] = field(default_factory=list)


@dataclass
class Canvas:
    """The flat layers drawn on: printed matter in colour, ink and stamp coverage."""

    content: Image.Image  # RGB, white where nothing is printed
    ink: Image.Image  # L, handwriting coverage
    stamp: Image.Image  # L, seal coverage
    px_per_mm: float

    def mm(self, value: float) -> float:
        """Millimetres to pixels."""
        return value * self.px_per_mm


def sheet_size(spec: RenderSpec) -> tuple[int, int]:
    """Pixel size of the flat sheet."""
    width_mm, height_mm = PROFILES[spec.profile].sheet_mm
    scale = spec.dpi / MM_PER_INCH
    return round(width_mm * scale), round(height_mm * scale)


def entry_counts(profile: str, seed: int, page_index: int, style: str = "form") -> tuple[int, ...]:
    """Entries on each page side of image ``page_index``, without drawing anything.

    A register spread is one table across both pages: its entries count on side 0.
    """
    shape = PROFILES[profile]
    if style == "register":
        count = len(register_layout(seed, page_index).spans)
        return (count,) + (0,) * (shape.pages - 1)
    if not shape.stacked:
        return (1,) * shape.pages
    rng = np.random.default_rng([seed, page_index, 0xC0])
    return tuple(int(rng.integers(2, 5)) for _ in range(shape.pages))


def page_rects(spec: RenderSpec, canvas: Canvas) -> list[tuple[Rect, Rect]]:
    """(page, table frame) for each page side; the frame leaves room for the header."""
    width, height = canvas.content.size
    shape = PROFILES[spec.profile]
    page_w = width / shape.pages
    mm = canvas.mm
    result = []
    for side in range(shape.pages):
        page = Rect(side * page_w, 0.0, (side + 1) * page_w, float(height))
        inner_left = shape.pages == 2 and side == 1
        inner_right = shape.pages == 2 and side == 0
        left = page.left + mm(20 if inner_left else 15)
        right = page.right - mm(20 if inner_right else 15)
        result.append((page, Rect(left, mm(34), right, height - mm(14))))
    return result


def plan_page(spec: RenderSpec, canvas: Canvas, office: content.Office) -> list[PagePlan]:
    """Decide every page, entry, value, pen, stamp and fading of the image."""
    rng = np.random.default_rng([spec.seed, spec.page_index, 0xE7])
    counts = entry_counts(spec.profile, spec.seed, spec.page_index)
    stacked = PROFILES[spec.profile].stacked
    number = spec.first_entry
    pages = []
    for side, (page, frame) in enumerate(page_rects(spec, canvas)):
        faded = bool(rng.random() < spec.faded_probability)
        rects = band_rects(frame, counts[side], canvas) if stacked else [frame]
        entries = []
        for rect in rects:
            values = content.entry_values(spec.ledger, rng, office, spec.year, number)
            pen = make_pen(rng, canvas.mm(4.2 if not stacked else 3.6), thin=faded)
            stamp = bool(rng.random() < spec.stamp_probability)
            entries.append(EntryPlan(str(number), rect, side, stacked, values, stamp, faded, pen))
            number += 1
        page_number = spec.page_index * len(counts) + side + 1
        pages.append(PagePlan(side, page, frame, page_number, faded, entries))
    return pages


def band_rects(frame: Rect, count: int, canvas: Canvas) -> list[Rect]:
    """Entry regions of a stacked page: equal bands under the column-heading row.

    Each band stops short of the ruled lines on both sides, so neighbours never touch.
    """
    line = rule_width(canvas)
    top = frame.top + heading_height(canvas)
    step = (frame.bottom - top) / count
    return [
        Rect(
            frame.left + line,
            top + k * step + line,
            frame.right - line,
            top + (k + 1) * step - line,
        )
        for k in range(count)
    ]


def rule_width(canvas: Canvas) -> int:
    """Width of ruled lines: about 0.4 mm, never under 2 px."""
    return max(2, round(canvas.mm(0.4)))


def heading_height(canvas: Canvas) -> float:
    """Height of the column-heading row of stacked tables."""
    return canvas.mm(9)


def print_text(
    canvas: Canvas, xy: tuple[float, float], text: str, size: float, bold: bool = False,
    anchor: str = "ls",
) -> float:  # fmt: skip
    """Print ``text`` at ``xy`` (baseline-left by default); returns its right edge."""
    font = load_font(SERIF_BOLD if bold else SERIF, round(size))
    ImageDraw.Draw(canvas.content).text(xy, text, font=font, fill=PRINT_RGB, anchor=anchor)
    return xy[0] + font.getlength(text)


def dotted(canvas: Canvas, x0: float, x1: float, y: float) -> None:
    """A printed dotted leader, the line a clerk writes on."""
    step = max(3.0, canvas.mm(0.9))
    dot = max(1, round(canvas.mm(0.15)))
    xs = np.arange(x0, x1, step)
    points = [(float(x) + dx, y + dy) for x in xs for dx in range(dot) for dy in range(dot)]
    ImageDraw.Draw(canvas.content).point(points, fill=(90, 88, 95))


def rule(canvas: Canvas, x0: float, y0: float, x1: float, y1: float, width: int = 0) -> None:
    """A printed ruled line."""
    draw = ImageDraw.Draw(canvas.content)
    draw.line([(x0, y0), (x1, y1)], fill=PRINT_RGB, width=width or rule_width(canvas))


def draw_page_print(spec: RenderSpec, canvas: Canvas, page: PagePlan) -> None:
    """The printed header and table frame of one page (not part of any entry)."""
    mm, f = canvas.mm, page.frame
    title = content.TITLES[spec.ledger]
    cx = (page.rect.left + page.rect.right) / 2
    print_text(canvas, (cx, mm(17)), title, mm(5.2), bold=True, anchor="ms")
    book = f"Quyển số: {spec.book:02d}/{spec.year}"
    print_text(canvas, (f.left, mm(27)), book, mm(3.4))
    number = f"Trang {page.number}"
    print_text(canvas, (f.right, mm(27)), number, mm(3.4), anchor="rs")
    page.header = [title, book, number]
    draw = ImageDraw.Draw(canvas.content)
    outer = rule_width(canvas) + max(1, round(mm(0.3)))
    draw.rectangle((f.left, f.top, f.right, f.bottom), outline=PRINT_RGB, width=outer)
    if PROFILES[spec.profile].stacked:
        _draw_table_rules(canvas, page)


def _draw_table_rules(canvas: Canvas, page: PagePlan) -> None:
    """Column headings, column lines and the ruled line under every stacked entry."""
    f, mm = page.frame, canvas.mm
    head = f.top + heading_height(canvas)
    num_x, note_x = f.left + number_column(canvas), f.right - note_column(canvas)
    rule(canvas, f.left, head, f.right, head)
    rule(canvas, num_x, f.top, num_x, f.bottom)
    rule(canvas, note_x, f.top, note_x, f.bottom)
    headings = [((f.left + num_x) / 2, "Số"), ((num_x + note_x) / 2, "Nội dung đăng ký")]
    headings.append(((note_x + f.right) / 2, "Ghi chú"))
    for x, text in headings:
        print_text(canvas, (x, head - mm(2.8)), text, mm(3.4), bold=True, anchor="ms")
    page.header += [text for _, text in headings]
    line = rule_width(canvas)
    for entry in page.entries[:-1]:
        y = entry.rect.bottom + line
        rule(canvas, f.left, y, f.right, y)


def number_column(canvas: Canvas) -> float:
    """Width of the entry-number column of stacked tables."""
    return canvas.mm(16)


def note_column(canvas: Canvas) -> float:
    """Width of the marginal-notes column of stacked tables."""
    return canvas.mm(26)
