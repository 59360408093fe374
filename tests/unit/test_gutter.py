"""A spread's gutter is found at its fold, by the paper's shading, not at a blank column."""

from __future__ import annotations

import numpy as np

from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.processing.imaging import geometry as geo
from station.processing.imaging import normalise as nm
from station.processing.imaging.frames import find_fold, find_gutter, page_columns

DPI = 150


def normalised_spread(seed: int) -> tuple[nm.Normalised, float, np.ndarray]:
    page = render_page(RenderSpec(profile="spread-table", dpi=DPI, seed=seed, style="register"))
    rgb = np.asarray(page.image.convert("RGB"))
    norm = nm.normalise(rgb, DPI, landscape=True)
    assert page.gutter_x is not None
    fold = geo.apply(norm.matrix, np.array([[page.gutter_x, rgb.shape[0] / 2]], np.float64))
    return norm, float(fold[0, 0]), rgb


def test_the_gutter_is_the_shaded_fold_not_the_emptiest_column() -> None:
    norm, fold, _ = normalised_spread(seed=2)
    work_dpi = DPI * norm.work_scale
    ink = norm.ink.copy()
    width = ink.shape[1]
    # A table running across the fold (writing over it) and a blank column band
    # elsewhere in the middle third: the emptiest column is no longer the fold.
    ink[:, int(fold) - 10 : int(fold) + 10] = np.where(
        np.arange(ink.shape[0])[:, None] % 9 < 3, 255, ink[:, int(fold) - 10 : int(fold) + 10]
    )
    blank = int(width * 0.4)
    ink[:, blank - 15 : blank + 15] = 0
    assert abs(find_gutter(ink) - fold) > 0.1 * work_dpi  # the old rule is fooled
    assert norm.shade is not None
    found = find_fold(norm.shade, work_dpi)
    assert found is not None and abs(found - fold) <= 0.06 * work_dpi
    columns, gutter, _ = page_columns(ink, 2, norm.shade, work_dpi)
    assert gutter == found and columns == [(0, found), (found, width)]


def test_an_evenly_lit_sheet_shows_no_fold() -> None:
    norm, _, rgb = normalised_spread(seed=3)
    flat = nm.normalise(np.full_like(rgb, 235), DPI, landscape=True)
    assert flat.shade is not None
    assert find_fold(flat.shade, DPI * flat.work_scale) is None
    assert norm.shade is not None and find_fold(norm.shade, DPI * norm.work_scale) is not None
