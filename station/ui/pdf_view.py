"""An entry's PDF shown inside the touch screens, as a picture of each page.

The kiosk's Chromium may have no PDF viewer (headless, kiosk mode), and a PDF opened in
a new window leaves the volunteer with no way back. So the station renders the page
itself with poppler's ``pdftoppm`` (already needed by the legibility checks) and the
screen shows it as an image under a big back button.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import pikepdf

from station.core.errors import StationError
from station.core.messages import N_

log = logging.getLogger(__name__)

#: Seconds allowed for rendering one page.
TIMEOUT = 30
#: Widest picture sent to a screen (CSS pixels of the larger screen, 1280 wide).
MAX_WIDTH = 1600


class PdfViewError(StationError):
    """The PDF cannot be shown on the screen (the file itself is kept)."""

    exit_code = 69
    default_key = N_("ui.pdf_unavailable")
    http_status = 503


def page_count(path: Path) -> int:
    """How many pages the PDF has."""
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def render_page(path: Path, page: int, width: int) -> bytes:
    """Page ``page`` (from 1) of the PDF as a PNG ``width`` pixels wide."""
    program = shutil.which("pdftoppm")
    if program is None:
        raise PdfViewError()
    width = max(200, min(width, MAX_WIDTH))
    with tempfile.TemporaryDirectory(prefix="station-pdf-") as folder:
        out = Path(folder) / "page"
        command = [program, "-png", "-singlefile", "-f", str(page), "-l", str(page)]
        command += ["-scale-to-x", str(width), "-scale-to-y", "-1", str(path), str(out)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("pdftoppm failed on %s: %s", path, exc)
            raise PdfViewError() from exc
        picture = out.with_suffix(".png")
        if done.returncode != 0 or not picture.exists():
            log.warning("pdftoppm failed on %s: %s", path, done.stderr.decode(errors="replace"))
            raise PdfViewError()
        return picture.read_bytes()
