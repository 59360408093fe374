"""Build a one-page PDF from already-compressed image layers.

The page is exactly the entry: ``MediaBox`` is the entry's pixels at its dpi. A
background image (JPEG) fills the page; stencil masks (CCITT G4) are painted over it
in their own colours, in order. No stream is re-encoded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name

from station.processing.pdf.g4 import G4Image
from station.processing.pdf.jpeg import JpegImage

log = logging.getLogger(__name__)

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Stencil:
    """A bilevel mask painted in one colour (True pixels of the mask get the colour)."""

    image: G4Image
    colour: RGB


def compose_page(
    width_pt: float,
    height_pt: float,
    background: JpegImage | None,
    stencils: Sequence[Stencil],
    info: Mapping[str, str] | None = None,
) -> pikepdf.Pdf:
    """A PDF whose single page is ``width_pt`` x ``height_pt`` points.

    ``background`` (if any) is stretched over the whole page, then each stencil in
    turn; ``info`` becomes the document information dictionary (keys without "/").
    """
    pdf = pikepdf.new()
    xobjects = Dictionary()
    content: list[str] = []
    if background is not None:
        xobjects.Bg = _jpeg_xobject(pdf, background)
        content.append(_draw("/Bg", width_pt, height_pt))
    for index, stencil in enumerate(stencils):
        name = f"/M{index}"
        xobjects[name] = _stencil_xobject(pdf, stencil.image)
        content.append(_draw(name, width_pt, height_pt, stencil.colour))
    page = pikepdf.Page(
        Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, round(width_pt, 3), round(height_pt, 3)]),
            Resources=Dictionary(XObject=xobjects),
            Contents=pdf.make_stream("\n".join(content).encode("ascii")),
        )
    )
    pdf.pages.append(page)
    for key, value in (info or {}).items():
        pdf.docinfo[Name("/" + key.lstrip("/"))] = value
    return pdf


def _num(value: float) -> str:
    """A compact PDF number for the content stream (3 decimals at most)."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _draw(name: str, width_pt: float, height_pt: float, colour: RGB | None = None) -> str:
    """Content-stream operators placing image ``name`` over the whole page."""
    fill = ""
    if colour is not None:
        fill = " ".join(f"{c / 255:.3f}" for c in colour) + " rg "
    return f"q {fill}{_num(width_pt)} 0 0 {_num(height_pt)} 0 0 cm {name} Do Q"


def _jpeg_xobject(pdf: pikepdf.Pdf, jpeg: JpegImage) -> pikepdf.Stream:
    """An image XObject holding the JPEG bytes as they are (``/DCTDecode``)."""
    stream = pdf.make_stream(jpeg.data)
    stream.Type = Name.XObject
    stream.Subtype = Name.Image
    stream.Width = jpeg.width
    stream.Height = jpeg.height
    stream.ColorSpace = Name.DeviceGray if jpeg.grey else Name.DeviceRGB
    stream.BitsPerComponent = 8
    stream.Filter = Name.DCTDecode
    return stream


def _stencil_xobject(pdf: pikepdf.Pdf, g4: G4Image) -> pikepdf.Stream:
    """A stencil ``/ImageMask`` holding the G4 strip as it is (``/CCITTFaxDecode``).

    The mask's True pixels are coded as fax black; with ``BlackIs1 false`` they
    decode to 0, and an image mask paints its 0 samples (default ``Decode [0 1]``).
    """
    stream = pdf.make_stream(g4.data)
    stream.Type = Name.XObject
    stream.Subtype = Name.Image
    stream.Width = g4.width
    stream.Height = g4.height
    stream.ImageMask = True
    stream.BitsPerComponent = 1
    stream.Filter = Name.CCITTFaxDecode
    stream.DecodeParms = Dictionary(K=-1, Columns=g4.width, Rows=g4.height, BlackIs1=False)
    return stream
