"""The report of a ``station process`` run: small rows, kept in order, saved as JSON.

One row per image and one per entry. Rows hold only numbers and short strings, so a
run over thousands of photos keeps a report of a few hundred bytes per entry and
nothing else grows with the run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from station import __version__
from station.core.errors import StationError
from station.core.fsutil import write_atomic
from station.core.models import OVER_BUDGET, plain_dict, utc_now

log = logging.getLogger(__name__)

SCHEMA = 1
#: Exit status of a run that wrote a file over its budget (no sysexits code fits):
#: the files are kept, flagged for review and named on the console; a script must not
#: take the run as clean.
OVER_BUDGET_EXIT = 4


@dataclass(frozen=True)
class Problem:
    """A reported error: its message key, both languages, and its exit code."""

    key: str
    vi: str
    en: str
    exit_code: int

    @classmethod
    def of(cls, error: StationError) -> Problem:
        return cls(error.key, error.message("vi"), error.message("en"), error.exit_code)


@dataclass
class EntryRow:
    """One entry: its number, its file (if written) and how it was made."""

    number: str
    image: int  # 1-based index of the source image in this run
    source: str
    page_side: int
    page_number: int
    # The entry's outline (TL, TR, BR, BL) in the source file's pixel grid as stored,
    # before EXIF orientation (the image row's ``orientation``), to draw the cut on it.
    polygon: list[list[float]] = field(default_factory=list)
    file: str = ""  # relative to the output folder, "/" separated; "" when not written
    bytes: int = 0
    sha256: str = ""
    encoding: str = ""
    flags: list[str] = field(default_factory=list)
    review: bool = False  # written, but a person should check it (see flags)
    error: Problem | None = None


@dataclass
class ImageRow:
    """One source image: what it gave and how long each step took (seconds)."""

    index: int
    source: str
    sha256: str = ""
    width: int = 0
    height: int = 0
    dpi: int = 0
    dpi_source: str = ""  # "metadata" or "estimated"
    # width and height above are as decoded, EXIF orientation applied; polygons are not
    orientation: int = 1  # EXIF orientation of the file, 1 when it has none
    upright_turns: int = 0  # clockwise quarter turns, from the stored pixels to upright
    entries: int = 0
    first_number: str = ""
    flags: list[str] = field(default_factory=list)
    #: Each flag with its words in both languages: ``{"flag", "vi", "en"}``.
    flag_text: list[dict[str, str]] = field(default_factory=list)
    #: Ink outside every entry, ``{"reason", "share", "box"}`` each (share of the
    #: page's ink; box in decoded pixels, EXIF orientation applied).
    outside: list[dict[str, Any]] = field(default_factory=list)
    #: Share of the page's ink outside every entry by reason, specks included.
    outside_shares: dict[str, float] = field(default_factory=dict)
    #: The figures behind some flags (``count_mismatch``: expected and found, ...).
    flag_details: dict[str, dict[str, str]] = field(default_factory=dict)
    template_refused: str = ""  # why --template was not used on this image
    reserved_numbers: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: Problem | None = None


@dataclass
class BatchReport:
    """Everything a run produced, in reading order."""

    book: str
    profile: str
    first_entry: int
    out_dir: str
    budget_bytes: int
    started_at: str = field(default_factory=utc_now)
    finished_at: str = ""
    images: list[ImageRow] = field(default_factory=list)
    entries: list[EntryRow] = field(default_factory=list)

    @property
    def problems(self) -> list[tuple[ImageRow | EntryRow, Problem]]:
        """Every error of the run, images first then entries, each with its row."""
        rows: list[ImageRow | EntryRow] = [*self.images, *self.entries]
        return [(row, row.error) for row in rows if row.error is not None]

    @property
    def over_budget(self) -> list[EntryRow]:
        """Entries written over the byte budget (flagged, kept for review)."""
        return [e for e in self.entries if e.file and OVER_BUDGET in e.flags]

    @property
    def exit_code(self) -> int:
        """0 when every image and entry went through within budget, else the first
        error's code, else :data:`OVER_BUDGET_EXIT`."""
        found = self.problems
        if found:
            return found[0][1].exit_code
        return OVER_BUDGET_EXIT if self.over_budget else 0

    def to_dict(self) -> dict[str, Any]:
        written = [e for e in self.entries if e.file]
        return {
            "schema": SCHEMA,
            "tool": f"ledger-station {__version__}",
            "book": self.book,
            "profile": self.profile,
            "first_entry": self.first_entry,
            "out_dir": self.out_dir,
            "budget_bytes": self.budget_bytes,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "summary": {
                "images": len(self.images),
                "images_failed": sum(1 for i in self.images if i.error is not None),
                "entries": len(self.entries),
                "files": len(written),
                "review": sum(1 for e in written if e.review),
                "over_budget": len(self.over_budget),
                "errors": len(self.problems),
            },
            "images": [plain_dict(i) for i in self.images],
            "entries": [plain_dict(e) for e in self.entries],
            "errors": [_error_dict(row, problem) for row, problem in self.problems],
        }

    def save(self, path: Path) -> None:
        """Write the report atomically (a run interrupted later keeps the last one)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        write_atomic(path, text.encode("utf-8") + b"\n")
        log.debug("report written to %s", path)


def _error_dict(row: ImageRow | EntryRow, problem: Problem) -> dict[str, Any]:
    where: dict[str, Any] = {"source": row.source}
    if isinstance(row, EntryRow):
        where.update(image=row.image, entry=row.number)
    else:
        where.update(image=row.index)
    return {**where, **asdict(problem)}
