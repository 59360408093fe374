"""Where ``station process`` puts each entry PDF, and what record goes inside it.

The output folder may already hold files (an earlier run, another book): nothing in it
is ever overwritten. A name that is taken, compared case-insensitively as on the
Windows entry PCs, is an error for that entry, not a ``_2`` copy: the usual cause is
running the same photos twice, and a second copy would reach the collectors as a
duplicate entry.

Each file carries the same metadata record the store writes
(:func:`station.store.record.build_record`), so the files could later be indexed. A
batch file has not been through a station's change feed: its version's ``seq`` is 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from station.core import naming
from station.core.errors import StationError
from station.core.fsutil import write_atomic
from station.core.messages import N_
from station.core.models import Book, Capture, Entry, EntryVersion, Page, StationInfo, utc_now
from station.core.naming import NameValues, NamingPreset
from station.store.names import check_relpath
from station.store.record import build_record, measure

log = logging.getLogger(__name__)

#: ``seq`` of a version that no station feed has numbered yet.
UNFED_SEQ = 0


class OutputExistsError(StationError):
    """The name an entry should get is already used in the output folder."""

    exit_code = 73  # EX_CANTCREAT
    default_key = N_("batch.exists")


@dataclass
class Written:
    """One entry file as written: where, how big, its hash."""

    relpath: PurePosixPath
    size: int
    sha256: str


@dataclass
class OutputFolder:
    """The output folder and the names taken in it (casefolded, per sub-folder).

    A sub-folder is listed once, when first used, then kept up to date as files are
    written; the sets hold short strings only, one per file.
    """

    root: Path
    preset: NamingPreset
    office_code: str = ""
    _taken: dict[str, set[str]] = field(default_factory=dict)

    def name_for(self, book: Book, number: str, page: int | None) -> PurePosixPath:
        """The preset's relative path for an entry (raises NamingError)."""
        values = NameValues(
            code=book.ref.code,
            year=book.ref.year,
            book=book.ref.number,
            entry=number,
            page=page,
            office=self.office_code,
        )
        return check_relpath(naming.render(self.preset, values))

    def check_free(self, relpath: PurePosixPath, entry: str) -> None:
        """Raise :class:`OutputExistsError` if ``relpath`` is taken (any case)."""
        if self._key(relpath) in self._folder(relpath.parent):
            raise OutputExistsError(path=str(self.root / relpath), entry=entry)

    def write(self, relpath: PurePosixPath, data: bytes, entry: str) -> Written:
        """Write ``data`` atomically at ``relpath``, never over an existing file."""
        self.check_free(relpath, entry)
        try:
            write_atomic(self.root / relpath, data, replace=False)
        except FileExistsError as exc:  # created by someone else since the check
            raise OutputExistsError(path=str(self.root / relpath), entry=entry) from exc
        self._folder(relpath.parent).add(self._key(relpath))
        sha, size = measure(data)
        return Written(relpath, size, sha)

    def _folder(self, folder: PurePosixPath) -> set[str]:
        key = naming.name_key(folder)
        if key not in self._taken:
            directory = self.root / folder
            names = directory.iterdir() if directory.is_dir() else iter(())
            self._taken[key] = {naming.name_key(folder / p.name) for p in names}
        return self._taken[key]

    @staticmethod
    def _key(relpath: PurePosixPath) -> str:
        return naming.name_key(relpath)


def entry_record(
    station: StationInfo,
    book: Book,
    entry: Entry,
    capture: Capture,
    page: Page,
    relpath: PurePosixPath,
    encoding: str,
) -> dict[str, Any]:
    """The store's record shape for ``entry`` written at ``relpath`` (version 1)."""
    version = EntryVersion(1, str(relpath), "", 0, UNFED_SEQ, utc_now(), encoding)
    entry.versions = [version]
    return build_record(station, book, entry, [capture], [page])
