"""Polygon helpers the cuts are judged with (station.processing.imaging.geometry)."""

from __future__ import annotations

import numpy as np
import pytest

from station.processing.imaging import geometry as geo
from station.processing.imaging.cutcheck import share_inside


def _stepped(turn: float) -> np.ndarray:
    """A band 600 wide and 100 high whose top and bottom edges step round writing
    (as an entry's outline with stepped boundaries), turned by ``turn`` radians."""
    top = [(0, 0), (150, 0), (160, -12), (260, -12), (270, 0), (600, 0)]
    bottom = [(600, 100), (505, 100), (500, 108), (425, 108), (420, 100), (0, 100)]
    ring = np.array(top + bottom, np.float64)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return ring @ rotation.T + np.array([700.0, 700.0])


@pytest.mark.parametrize("turn", [0.0, 0.02, 1.5708, 3.0])
def test_a_stepped_band_is_cut_into_convex_pieces_that_tile_it(turn: float) -> None:
    band = _stepped(turn)
    pieces = geo.convex_pieces(band)
    assert len(pieces) > 1
    assert sum(geo.polygon_area(p) for p in pieces) == pytest.approx(geo.polygon_area(band))
    for piece in pieces:  # each piece convex
        assert len(geo.convex_pieces(piece)) == 1
    # A box over the raised step holds its area and no more: 100 x 12 above the band.
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    notch = np.array([[160, -12], [260, -12], [260, 0], [160, 0]], np.float64)
    notch = notch @ rotation.T + np.array([700.0, 700.0])
    assert share_inside(notch, band, (2000, 2000)) == pytest.approx(1.0)
    above = notch - rotation @ np.array([0.0, 12.0])
    assert share_inside(above, band, (2000, 2000)) == pytest.approx(0.0, abs=1e-9)
