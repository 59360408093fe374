"""Render realistic synthetic ledger pages with exact ground truth.

``render_page(spec)`` is pure and deterministic: the same :class:`RenderSpec` gives
the same pixels. It plans the page (:mod:`ledger_form`), draws the printed form and
each entry flat (:mod:`ledger_entry`), lays the ink and seals on lit paper
(:mod:`ledger_paper`), then skews the sheet as on a scanner or puts it on a desk in
perspective as a phone photo. The entry regions, ink mask and seal mask go through
the same transform, so the truth is in final image pixels.

``style="register"`` draws the real-like register of :mod:`ledger_register` instead
of the printed forms, with a stack of page edges at the outer sides and, on spreads,
shading into the fold. Any style can have its page bent (``bend_max_mm``: rows bow
near the fold, and entry polygons gain points along their top and bottom edges so
they follow) and a hand holding an outer margin (``hand_probability``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image

from station.capture.drivers.simulated.render import content, defects, photo
from station.capture.drivers.simulated.render.entry import draw_entry
from station.capture.drivers.simulated.render.form import (
    LEDGERS,
    PROFILES,
    Canvas,
    EntryPlan,
    PagePlan,
    Rect,
    RenderSpec,
    draw_page_print,
    entry_counts,
    plan_page,
    rule_width,
    sheet_size,
)
from station.capture.drivers.simulated.render.paper import make_paper, make_table, vignette
from station.capture.drivers.simulated.render.register import draw_register, plan_register
from station.core.errors import UsageError

log = logging.getLogger(__name__)

__all__ = ["PROFILES", "EntryTruth", "RenderSpec", "RenderedPage", "entry_counts", "render_page"]

INK_COLOURS = ((24, 42, 128), (20, 30, 95), (32, 32, 48), (40, 52, 150))
FADED_COLOURS = ((118, 132, 182), (140, 132, 168), (128, 128, 140))
SEAL_RGB = (200, 26, 40)
SCANNER_LID = (246, 246, 243)
MASK_LEVEL = 128  # coverage at which a pixel counts as ink (half the pen's width)
SEAL_LEVEL = 160  # seal coverage counted as seal: its thin edges are pink, not red
STYLES = ("form", "register")
BEND_MAX_MM = 20.0  # beyond this the bend's inverse would need more steps
OUTLINE_STEP_MM = 3.0  # bent edges: a polygon point this often (chords stay < 0.3 px off)


@dataclass
class EntryTruth:
    """Where one entry is in the final image and what it says."""

    number: str
    box: tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)
    # Top-left, top-right, bottom-right, bottom-left; on a bent page the top edge has
    # points from left to right between its corners and the bottom edge right to left.
    polygon: list[tuple[float, float]]
    page_side: int
    printed_text: str  # printed labels, one per line, in reading order
    handwritten: dict[str, str]  # field key -> value written by hand
    has_stamp: bool
    stamp_center: tuple[float, float] | None
    stamp_radius: float | None
    faded: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "number": self.number,
            "box": list(self.box),
            "polygon": [list(p) for p in self.polygon],
            "page_side": self.page_side,
            "printed_text": self.printed_text,
            "handwritten": dict(self.handwritten),
            "has_stamp": self.has_stamp,
            "stamp_center": list(self.stamp_center) if self.stamp_center else None,
            "stamp_radius": self.stamp_radius,
            "faded": self.faded,
        }


@dataclass
class RenderedPage:
    """A rendered image with its ground truth and masks (masks are "L", 0 or 255)."""

    image: Image.Image
    dpi: int
    profile: str
    seed: int
    page_index: int
    skew_deg: float  # counter-clockwise rotation applied to the sheet
    camera: bool
    gutter_x: int | None  # x of the fold in final pixels, for spreads
    entries: list[EntryTruth]
    ink_mask: Image.Image
    stamp_mask: Image.Image
    transform: list[list[float]]  # 3x3, (bent) flat-sheet pixels -> final pixels
    pages: list[dict[str, Any]] = field(default_factory=list)
    style: str = "form"
    bend: dict[str, float] | None = None  # photo.Bend's fields, applied before transform

    def truth_dict(self) -> dict[str, Any]:
        """JSON-safe ground truth, without the image and masks."""
        return {
            "profile": self.profile,
            "dpi": self.dpi,
            "seed": self.seed,
            "page_index": self.page_index,
            "size": list(self.image.size),
            "skew_deg": self.skew_deg,
            "camera": self.camera,
            "gutter_x": self.gutter_x,
            "transform": self.transform,
            "style": self.style,
            "bend": self.bend,
            "pages": self.pages,
            "entries": [e.to_dict() for e in self.entries],
        }


def validate(spec: RenderSpec) -> None:
    """Refuse specs that cannot be drawn, naming the field."""
    checks: list[tuple[str, Any, bool, str]] = [
        ("profile", spec.profile, spec.profile in PROFILES, f"one of {sorted(PROFILES)}"),
        ("dpi", spec.dpi, 50 <= spec.dpi <= 1200, "between 50 and 1200"),
        ("ledger", spec.ledger, spec.ledger in LEDGERS, f"one of {list(LEDGERS)}"),
        ("skew_max_deg", spec.skew_max_deg, 0 <= spec.skew_max_deg <= 10, "0 to 10 degrees"),
        ("page_index", spec.page_index, spec.page_index >= 0, "0 or more"),
        ("year", spec.year, 1900 <= spec.year <= 2100, "a year"),
        ("style", spec.style, spec.style in STYLES, f"one of {list(STYLES)}"),
        ("bend_max_mm", spec.bend_max_mm, 0 <= spec.bend_max_mm <= BEND_MAX_MM,
         f"0 to {BEND_MAX_MM:g} mm"),
        ("torn_corner_mm", spec.torn_corner_mm, 0 <= spec.torn_corner_mm <= 80, "0 to 80 mm"),
    ]  # fmt: skip
    if spec.style == "register" and spec.profile in PROFILES:
        # A register's spread runs one table across both pages: "spread-table".
        shape = PROFILES[spec.profile]
        drawable = shape.stacked and shape.across == (shape.pages == 2)
        checks.append(("profile", spec.profile, drawable, "stacked or spread-table for a register"))
    elif spec.profile in PROFILES and PROFILES[spec.profile].across:
        checks.append(("style", spec.style, False, "register for a table across the spread"))
    for name in ("stamp_probability", "faded_probability", "hand_probability"):
        value = getattr(spec, name)
        checks.append((name, value, 0.0 <= value <= 1.0, "between 0 and 1"))
    for key, value, ok, detail in checks:
        if not ok:
            raise UsageError("sim.bad_option", key=key, value=value, detail=detail)


def render_page(spec: RenderSpec) -> RenderedPage:
    """Render one ledger image and its ground truth (pure; equal specs, equal pixels)."""
    validate(spec)
    size = sheet_size(spec)
    canvas = Canvas(
        Image.new("RGB", size, "white"), Image.new("L", size, 0), Image.new("L", size, 0),
        spec.dpi / 25.4,
    )  # fmt: skip
    office = content.make_office(spec.seed)
    pages = draw_pages(spec, canvas, office)
    if spec.margin_note:
        defects.margin_note(canvas, pages, spec.seed)
    gutter = size[0] / 2 if PROFILES[spec.profile].pages == 2 else None
    flat = compose(canvas, pages, np.random.default_rng([spec.seed, spec.page_index, 0xAA]), gutter)
    ink_layer, seal_layer = np.asarray(canvas.ink), np.asarray(canvas.stamp)
    bend = photograph(spec, canvas, pages, flat, gutter)
    if bend is not None:
        flat, ink_layer, seal_layer = (bend.apply(a) for a in (flat, ink_layer, seal_layer))
    geo_rng = np.random.default_rng([spec.seed, spec.page_index, 0x6E])
    matrix, out_size, angle = placement(spec, size, geo_rng)
    image = warp_image(flat, matrix, out_size, spec, canvas.px_per_mm, geo_rng)
    ink = warp_mask(ink_layer, matrix, out_size, spec.camera, MASK_LEVEL)
    seal = warp_mask(seal_layer, matrix, out_size, spec.camera, SEAL_LEVEL)
    step = canvas.mm(OUTLINE_STEP_MM)
    entries = [_entry_truth(e, matrix, out_size, bend, step) for p in pages for e in p.entries]
    return RenderedPage(
        image=Image.fromarray(image, "RGB"),
        dpi=spec.dpi,
        profile=spec.profile,
        seed=spec.seed,
        page_index=spec.page_index,
        skew_deg=round(angle, 4),
        camera=spec.camera,
        gutter_x=None if gutter is None else round(_apply(matrix, [(gutter, size[1] / 2)])[0][0]),
        entries=entries,
        ink_mask=ink,
        stamp_mask=seal,
        transform=[[float(v) for v in row] for row in matrix],
        pages=[_page_truth(p, matrix) for p in pages],
        style=spec.style,
        bend=None if bend is None else {k: round(v, 3) for k, v in vars(bend).items()},
    )


def draw_pages(spec: RenderSpec, canvas: Canvas, office: content.Office) -> list[PagePlan]:
    """Plan the image and draw its print and entries flat, in the spec's style."""
    draw_rng = np.random.default_rng([spec.seed, spec.page_index, 0xD2])
    if spec.style == "register":
        pages = plan_register(spec, canvas, office)
        draw_register(spec, canvas, pages, draw_rng)
        return pages
    pages = plan_page(spec, canvas, office)
    for page in pages:
        draw_page_print(spec, canvas, page)
        for entry in page.entries:
            draw_entry(canvas, entry, spec.ledger, office, draw_rng)
    return pages


def photograph(
    spec: RenderSpec, canvas: Canvas, pages: list[PagePlan], flat: np.ndarray,
    gutter: float | None,
) -> photo.Bend | None:  # fmt: skip
    """A book's look on the flat sheet (in place): page stack, fold, hand; its bend.

    Only drawn when asked (the register style, a bend or a hand), from a random stream
    of its own, so the printed forms keep their pixels.
    """
    if spec.style == "form" and spec.bend_max_mm == 0 and spec.hand_probability == 0:
        return None
    rng = np.random.default_rng([spec.seed, spec.page_index, 0xB1])
    if spec.style == "register":
        sides = ("left", "right") if gutter is not None else ("right",)
        photo.page_stack(flat, canvas.px_per_mm, sides, rng)
        if gutter is not None:
            photo.shade_fold(flat, gutter, canvas.px_per_mm, rng)
    if rng.random() < spec.hand_probability:
        side = "left" if gutter is not None and rng.random() < 0.5 else "right"
        frame = pages[0].frame if side == "left" else pages[-1].frame
        reach = frame.left if side == "left" else flat.shape[1] - frame.right
        photo.hold_by_hand(flat, canvas.px_per_mm, side, reach, rng)
    return photo.make_bend(spec.bend_max_mm, canvas.content.size, canvas.px_per_mm, gutter, rng)


def compose(
    canvas: Canvas, pages: list[PagePlan], rng: np.random.Generator, gutter: float | None
) -> np.ndarray:
    """Printed matter, ink and seals laid on lit paper: the flat sheet, HxWx3 uint8."""
    paper = make_paper(canvas.content.size, canvas.px_per_mm, rng, gutter)
    for page in pages:
        for entry in page.entries:
            _paint_ink(canvas, page, entry, rng)
    flat: np.ndarray = cv2.multiply(paper, np.asarray(canvas.content), scale=1 / 255)
    for page in pages:
        for entry in page.entries:
            if entry.stamp_circle is not None:
                _press_seal(flat, canvas.stamp, entry.stamp_circle, rng)
    return flat


def _ink_region(canvas: Canvas, page: PagePlan, entry: EntryPlan) -> tuple[int, int, int, int]:
    """The part of the page whose ink belongs to ``entry`` (regions of one page tile)."""
    if entry.ink_box is not None:
        return entry.ink_box
    if not entry.banded:
        rect = page.rect
        return int(rect.left), int(rect.top), int(rect.right), int(rect.bottom)
    line = rule_width(canvas)
    first, last = entry is page.entries[0], entry is page.entries[-1]
    top = page.rect.top if first else entry.rect.top - line
    bottom = page.rect.bottom if last else entry.rect.bottom + line
    return int(page.rect.left), int(top), int(page.rect.right), int(bottom)


def _paint_ink(canvas: Canvas, page: PagePlan, entry: EntryPlan, rng: np.random.Generator) -> None:
    """Colour the entry's handwriting coverage; faded ink is pale and patchy."""
    palette = FADED_COLOURS if entry.faded else INK_COLOURS
    colour = palette[int(rng.integers(len(palette)))]
    low, high = (0.45, 0.8) if entry.faded else (0.85, 1.0)
    box = _ink_region(canvas, page, entry)
    coverage = np.asarray(canvas.ink.crop(box))
    pressure = rng.uniform(low, high, (6, 4)).astype(np.float32) * 255
    field_ = cv2.resize(pressure.astype(np.uint8), (coverage.shape[1], coverage.shape[0]))
    alpha = cv2.multiply(coverage, field_, scale=1 / 255)
    canvas.content.paste(colour, box, Image.fromarray(alpha, "L"))


def _press_seal(
    flat: np.ndarray,
    stamp: Image.Image,
    circle: tuple[float, float, float],
    rng: np.random.Generator,
) -> None:
    """Multiply red seal ink over the sheet (seal ink is translucent over writing)."""
    cx, cy, radius = circle
    r = int(radius) + 3
    left, top = max(0, int(cx) - r), max(0, int(cy) - r)
    right, bottom = min(flat.shape[1], int(cx) + r), min(flat.shape[0], int(cy) + r)
    alpha = np.asarray(stamp.crop((left, top, right, bottom)), dtype=np.float32)[..., None] / 255
    colour = np.array(SEAL_RGB, np.float32) + rng.normal(0, 6, 3).astype(np.float32)
    factor = 1.0 - alpha * (1.0 - np.clip(colour, 0, 255) / 255)
    part = flat[top:bottom, left:right].astype(np.float32) * factor
    flat[top:bottom, left:right] = np.clip(part, 0, 255).astype(np.uint8)


def placement(
    spec: RenderSpec, size: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, tuple[int, int], float]:
    """Where the flat sheet lands: a 3x3 matrix, the output size and the skew angle."""
    width, height = size
    angle = float(rng.uniform(-spec.skew_max_deg, spec.skew_max_deg))
    if not spec.camera:
        matrix = np.vstack(
            [cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0), [0, 0, 1]]
        )
        return matrix, size, angle
    out = (round(width * 1.12), round(height * 1.12))
    scale = rng.uniform(0.9, 0.95)
    theta = math.radians(-angle)  # image y points down: negate for a counter-clockwise turn
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    rel = (src - [width / 2, height / 2]) * scale
    keystone = rng.uniform(0.01, 0.04) * width * scale
    edge = int(rng.integers(4))  # which edge is farther from the phone, so shorter
    shrink = {0: (0, 1), 1: (1, 2), 2: (2, 3), 3: (3, 0)}[edge]
    for corner in shrink:
        other = shrink[1] if corner == shrink[0] else shrink[0]
        direction = rel[other] - rel[corner]
        rel[corner] += direction / np.linalg.norm(direction) * keystone
    rel += rng.normal(0, 0.004 * min(width, height), rel.shape)
    dst = rel @ rotation.T + [out[0] / 2, out[1] / 2]
    matrix = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    return matrix, out, angle


def warp_image(
    flat: np.ndarray,
    matrix: np.ndarray,
    out: tuple[int, int],
    spec: RenderSpec,
    px_per_mm: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """The final image: skewed on a scanner, or in perspective on a desk."""
    torn = None
    if spec.torn_corner_mm > 0:
        size = (flat.shape[1], flat.shape[0])
        torn = defects.tear_mask(size, px_per_mm, spec.torn_corner_mm, spec.seed)
    if spec.camera:
        table = make_table(out, px_per_mm, rng)
        desk = table.copy() if torn is not None else table
        cv2.warpPerspective(
            flat, matrix, out, dst=table, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
        )
        if torn is not None:  # the desk shows where the corner is gone
            gone = cv2.warpPerspective(torn, matrix, out, flags=cv2.INTER_NEAREST) > 0
            table[gone] = desk[gone]
        return vignette(table, rng)
    if torn is not None:
        flat = flat.copy()
        flat[torn > 0] = SCANNER_LID
    if _is_identity(matrix):
        return flat
    skewed: np.ndarray = cv2.warpAffine(
        flat, matrix[:2], out, flags=cv2.INTER_LINEAR, borderValue=SCANNER_LID
    )
    return skewed


def warp_mask(
    coverage: Image.Image | np.ndarray,
    matrix: np.ndarray,
    out: tuple[int, int],
    camera: bool,
    level: int,
) -> Image.Image:
    """A coverage layer moved like the image and cut at ``level`` to 0/255."""
    array = np.asarray(coverage)
    if camera:
        array = cv2.warpPerspective(array, matrix, out, flags=cv2.INTER_LINEAR)
    elif not _is_identity(matrix):
        array = cv2.warpAffine(array, matrix[:2], out, flags=cv2.INTER_LINEAR)
    _, mask = cv2.threshold(array, level - 1, 255, cv2.THRESH_BINARY)
    return Image.fromarray(mask, "L")


def _is_identity(matrix: np.ndarray) -> bool:
    return bool(np.allclose(matrix, np.eye(3)))


def _apply(matrix: np.ndarray, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    array = np.array([points], dtype=np.float64)
    moved = cv2.perspectiveTransform(array, matrix)[0]
    return [(round(float(x), 2), round(float(y), 2)) for x, y in moved]


def _outline(rect: Rect, bend: photo.Bend | None, step: float) -> list[tuple[float, float]]:
    """The rect's outline on the (bent) sheet: its corners, or points along bowed edges."""
    if bend is None:
        return rect.corners()
    xs = np.linspace(rect.left, rect.right, max(2, math.ceil(rect.width / step)) + 1).tolist()
    top = [(x, rect.top) for x in xs]
    return bend.forward(top + [(x, rect.bottom) for x in reversed(xs)])


def _entry_truth(
    entry: EntryPlan, matrix: np.ndarray, out: tuple[int, int], bend: photo.Bend | None,
    step: float,
) -> EntryTruth:  # fmt: skip
    polygon = _apply(matrix, _outline(entry.rect, bend, step))
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    box = (
        max(0, math.floor(min(xs))),
        max(0, math.floor(min(ys))),
        min(out[0], math.ceil(max(xs))),
        min(out[1], math.ceil(max(ys))),
    )
    centre, radius = None, None
    if entry.stamp_circle is not None:
        cx, cy, r = entry.stamp_circle
        if bend is not None:
            cx, cy = bend.forward([(cx, cy)])[0]
        centre = _apply(matrix, [(cx, cy)])[0]
        radius = round(r * math.sqrt(abs(np.linalg.det(_jacobian(matrix, cx, cy)))), 2)
    return EntryTruth(
        number=entry.number,
        box=box,
        polygon=polygon,
        page_side=entry.page_side,
        printed_text="\n".join(entry.printed),
        handwritten=dict(entry.handwritten),
        has_stamp=entry.stamp_circle is not None,
        stamp_center=centre,
        stamp_radius=radius,
        faded=entry.faded,
    )


def _jacobian(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    """Local linear part of the (projective) transform at (x, y)."""
    a, b, c = matrix[0]
    d, e, f = matrix[1]
    g, h, i = matrix[2]
    w = g * x + h * y + i
    u, v = a * x + b * y + c, d * x + e * y + f
    return np.array(
        [
            [(a * w - u * g) / w**2, (b * w - u * h) / w**2],
            [(d * w - v * g) / w**2, (e * w - v * h) / w**2],
        ]
    )


def _page_truth(page: PagePlan, matrix: np.ndarray) -> dict[str, Any]:
    return {
        "side": page.side,
        "page_number": page.number,
        "polygon": [list(p) for p in _apply(matrix, page.rect.corners())],
        "header": list(page.header),
        "faded": page.faded,
    }
