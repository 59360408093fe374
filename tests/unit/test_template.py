"""Book templates: built from a confirmed page, registered to later pages, refused on
pages of another form (simulated pages at 150 dpi with their ground truth)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.imaging import template as tp
from station.processing.imaging.cutcheck import check_cut
from station.processing.imaging.segment import (
    TEMPLATE_FLAG,
    Segmentation,
    learn_template,
    region_polygon,
    segment,
)

DPI = 150


@cache
def render(
    profile: str, index: int, camera: bool = False, style: str = "form", seed: int = 7
) -> RenderedPage:
    spec = RenderSpec(
        profile=profile, dpi=DPI, seed=seed, page_index=index, camera=camera, style=style
    )
    return render_page(spec)


@cache
def confirmed(profile: str, style: str = "form") -> tp.BookTemplate:
    """The template of the book's first page, its truth taken as the confirmed cuts."""
    page = render(profile, 0, style=style)
    outlines = [(e.page_side, np.asarray(e.polygon, np.float64)) for e in page.entries]
    return learn_template(np.asarray(page.image), DPI, get_profile(profile), outlines, "p0")


def clean_cuts(page: RenderedPage, found: Segmentation) -> int:
    """How many true entries one region each cuts cleanly, in reading order."""
    polygons = [np.asarray(e.polygon) for e in page.entries]
    if len(found.regions) != len(polygons):
        return 0
    clean = 0
    for index, region in enumerate(found.regions):
        others = polygons[:index] + polygons[index + 1 :]
        outline = region_polygon(region.box, region.warp)
        clean += check_cut(outline, polygons[index], others, page.image.size).clean
    return clean


@pytest.mark.parametrize("profile", ["spread-2", "page-1"])
def test_a_printed_form_teaches_fixed_boxes(profile: str) -> None:
    template = confirmed(profile)
    assert template.kind == tp.FIXED
    assert template.pages == get_profile(profile).pages_per_image
    assert len(template.regions) == len(render(profile, 0).entries)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for r in template.regions for x, y in r.quad)


def test_a_handwritten_register_teaches_rows() -> None:
    template = confirmed("stacked", style="register")
    assert template.kind == tp.ROWS
    left, top, right, bottom = template.span(0)
    assert 0 < left < right < 1 and 0 < top < bottom < 1


def test_a_template_survives_the_store_as_plain_data() -> None:
    template = confirmed("spread-2")
    again = tp.BookTemplate.from_dict(template.to_dict())
    assert again.kind == template.kind and again.pages == template.pages
    assert len(again.regions) == len(template.regions)
    assert np.allclose(again.rows, template.rows, atol=1e-4)
    with pytest.raises(ValueError):
        tp.BookTemplate.from_dict({"format": 1, "kind": "fixed"})
    with pytest.raises(ValueError):
        tp.BookTemplate.from_dict({**template.to_dict(), "format": 99})


@pytest.mark.parametrize("camera", [False, True])
@pytest.mark.parametrize("profile", ["spread-2", "page-1"])
def test_later_pages_of_a_printed_book_are_cut_by_its_template(profile: str, camera: bool) -> None:
    template = confirmed(profile)
    for index in (1, 2):
        page = render(profile, index, camera=camera)
        found = segment(np.asarray(page.image), DPI, get_profile(profile), template)
        assert TEMPLATE_FLAG in found.flags and not found.template_refused
        assert all(TEMPLATE_FLAG in r.flags for r in found.regions)
        assert not {"count_mismatch", "low_confidence"} & set(found.flags)
        assert clean_cuts(page, found) == len(page.entries)


def test_a_page_of_another_form_refuses_the_template() -> None:
    template = confirmed("spread-2")
    profile = get_profile("spread-2")
    for page in (render("spread-stacked", 1), render("spread-table", 1, style="register")):
        rgb = np.asarray(page.image)
        found = segment(rgb, DPI, profile, template)
        assert found.template_refused
        assert TEMPLATE_FLAG not in found.flags
        assert all(TEMPLATE_FLAG not in r.flags for r in found.regions)
        own = segment(rgb, DPI, profile)
        assert [r.box for r in found.regions] == [r.box for r in own.regions]


def test_a_stacked_form_with_other_boxes_is_refused_by_its_own_rules() -> None:
    """Stacked forms hold 2-4 entries a page: a page whose rules put boundaries where the
    confirmed page had none is not cut by the template's boxes."""
    template = confirmed("stacked")
    refused = 0
    for index in range(1, 6):
        page = render("stacked", index)
        found = segment(np.asarray(page.image), DPI, get_profile("stacked"), template)
        if len(page.entries) != len(template.regions):
            assert found.template_refused and TEMPLATE_FLAG not in found.flags
            refused += 1
        assert clean_cuts(page, found) == len(page.entries)
    assert refused  # the draw of counts has pages unlike the first


def test_registration_finds_a_shift_and_refuses_unrelated_ink() -> None:
    rng = np.random.default_rng(3)
    ink = np.zeros((400, 300), np.uint8)
    for row in range(40, 380, 23):  # rules of uneven lengths and a column rule
        ink[row : row + 2, 30 : 30 + int(rng.integers(150, 260))] = 255
    ink[30:390, 60:62] = 255
    template = tp.build(ink, ink, [(0, np.array([[30.0, 40], [290, 40], [290, 380], [30, 380]]))],
                        100)  # fmt: skip
    moved = np.zeros_like(ink)
    moved[12:, 9:] = ink[:-12, :-9]
    fit = tp.register(template, moved, moved, 1)
    assert fit.registration is not None, fit
    assert fit.registration.shift[1] * 400 == pytest.approx(12, abs=3)
    assert fit.registration.shift[0] * 300 == pytest.approx(9, abs=3)
    noise = ((rng.random(ink.shape) > 0.97) * 255).astype(np.uint8)
    refused = tp.register(template, noise, noise, 1)
    assert refused.registration is None and "does not match" in refused.reason
    assert tp.register(template, ink, ink, 2).registration is None  # a spread's template
