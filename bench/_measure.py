"""Measurements for bench/imaging.py: comparison PDFs, rendering, OCR and the CER.

Printed-text CER (implemented here, no library): the truth is the entry's printed
labels, one per line. OCR output also holds the handwriting (which tesseract cannot
read, so it comes out as noise) and dotted leaders, in an order that depends on the
page segmentation; a plain whole-text distance would mostly count that noise. So each
truth line is matched to its best place in the OCR text: the Levenshtein distance
from the line to the closest *substring* of the OCR text (Sellers' variant of the
Levenshtein recurrence: free start and end in the OCR text). CER = sum of those
distances / sum of truth line lengths. Both sides are NFC-normalised, lower-cased,
with runs of white space collapsed and dots, ellipses and underscores removed (the
leaders). The same rule scores every method, so the comparison is fair.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tempfile
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pikepdf
from numpy.typing import NDArray
from PIL import Image

PDFTOPPM = "pdftoppm"
TESSERACT = "/usr/bin/tesseract"
#: Page segmentation mode 6, "a single uniform block of text": an entry crop is one
#: block. The default automatic layout analysis (3) is too brittle to measure
#: legibility with: on a clean stacked entry it returned no text at all, and
#: repainting 579 paper-fibre pixels (0.1% of the entry) flipped it between no text
#: and the full text. Every method is read with the same mode.
PSM = "6"


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[.…_·]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute, each 1)."""
    return int(_distances(a, b, free_ends=False)[-1])


def substring_distance(needle: str, haystack: str) -> int:
    """Least edit distance from ``needle`` to any substring of ``haystack``."""
    if not needle:
        return 0
    return int(_distances(needle, haystack, free_ends=True).min())


def _distances(a: str, b: str, free_ends: bool) -> NDArray[np.int32]:
    """Last row of the Levenshtein table of ``a`` (rows) against ``b`` (columns)."""
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    row = np.zeros(len(codes) + 1, np.int32) if free_ends else np.arange(len(codes) + 1)
    row = row.astype(np.int32)
    for index, char in enumerate(a, start=1):
        substitute = row[:-1] + (codes != ord(char))
        diagonal_or_up = np.minimum(substitute, row[1:] + 1)
        new = np.empty_like(row)
        new[0] = index
        # Insertions run along the row: a running minimum of (cost - position).
        new[1:] = diagonal_or_up
        positions = np.arange(len(new), dtype=np.int32)
        new = np.minimum.accumulate(new - positions) + positions
        row = new
    return row


def printed_cer(truth: str, ocr: str) -> tuple[int, int]:
    """(errors, characters) of the printed-text CER rule in the module docstring."""
    haystack = _normal(ocr)
    errors = chars = 0
    for line in truth.splitlines():
        needle = _normal(line)
        errors += substring_distance(needle, haystack)
        chars += len(needle)
    return errors, chars


def lossless_pdf(crop: NDArray[np.uint8], dpi: int) -> bytes:
    """The entry crop as one Flate-compressed RGB image (img2pdf-style, lossless)."""
    height, width = crop.shape[:2]
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, zlib.compress(np.ascontiguousarray(crop).tobytes(), 6))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, 8
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.FlateDecode
    return _one_image_page(pdf, image, width * 72 / dpi, height * 72 / dpi, None)


def field_pdf(page: NDArray[np.uint8], box: tuple[int, int, int, int], quality: int = 80) -> bytes:
    """Today's practice: the whole 300-dpi spread as JPEG, a CropBox over the entry."""
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "JPEG", quality=quality)
    height, width = page.shape[:2]
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, buffer.getvalue())
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, 8
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    left, top, right, bottom = (v * 72 / 300 for v in box)
    page_h = height * 72 / 300
    crop = [left, page_h - bottom, right, page_h - top]
    return _one_image_page(pdf, image, width * 72 / 300, page_h, crop)


def _one_image_page(
    pdf: pikepdf.Pdf, image: pikepdf.Stream, width: float, height: float, crop: list[float] | None
) -> bytes:
    content = f"q {width:.4f} 0 0 {height:.4f} 0 0 cm /Im0 Do Q".encode()
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, width, height],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=pikepdf.Stream(pdf, content),
    )
    if crop is not None:
        page.CropBox = crop
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def render(data: bytes, dpi: int) -> NDArray[np.uint8]:
    """The PDF's first page rendered by pdftoppm at ``dpi``, RGB."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(
            [
                PDFTOPPM,
                "-cropbox",
                "-r",
                str(dpi),
                "-png",
                "-singlefile",
                str(source),
                f"{folder}/out",
            ],
            check=True,
            capture_output=True,
        )
        with Image.open(f"{folder}/out.png") as image:
            return np.asarray(image.convert("RGB"))


def ocr(image: NDArray[np.uint8]) -> str:
    """Tesseract's Vietnamese reading of ``image`` (one thread: the bench runs two)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.png"
        Image.fromarray(image).save(path, compress_level=1)
        result = subprocess.run(
            [TESSERACT, str(path), "stdout", "-l", "vie", "--dpi", "300", "--psm", PSM],
            check=True,
            capture_output=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    return result.stdout.decode("utf-8", "replace")
