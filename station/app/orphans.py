"""Raw captures without a job (``orphans/``), queued again on request.

A power cut between writing a raw capture and its job leaves a raw file nobody will
process; at the next start intake moves it to ``orphans/<book>/`` (never deletes it).
``station resume --orphans`` hands each one back to intake as a new capture of its
book, checked like any file from outside, then moves the orphan to
``orphans/.requeued/<book>/``: intake holds its own fsynced copy by then.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from station.app.station import Station
from station.capture.image_file import captured_from_bytes, utc_from_timestamp
from station.capture.intake import ORPHANS_DIR, list_orphans
from station.core.errors import StationError
from station.core.fsutil import fsync_dir

log = logging.getLogger(__name__)

#: Where orphans go once queued again (hidden from :func:`list_orphans`).
REQUEUED_DIR = ".requeued"


@dataclass
class Requeued:
    """One orphan: queued again as ``capture_id``, or the error that kept it."""

    path: Path
    capture_id: str = ""
    error: StationError | None = None


def requeue_orphans(station: Station) -> list[Requeued]:
    """Queue every orphan again into its book; an orphan that cannot be is left."""
    return [_requeue(station, path) for path in list_orphans(station.data_dir)]


def _requeue(station: Station, path: Path) -> Requeued:
    try:
        book = station.get_book(path.parent.name)
        captured = captured_from_bytes(
            path.read_bytes(),
            path.name,
            source="orphan",
            device="orphan",
            default_dpi=station.config.capture.dpi,
            captured_at=utc_from_timestamp(path.stat().st_mtime),
        )
        job = station.intake.save(captured, book.ref, book.profile)
    except StationError as exc:
        log.warning("orphan %s not queued: %s", path, exc.message("en"))
        return Requeued(path, error=exc)
    target = station.data_dir / ORPHANS_DIR / REQUEUED_DIR / path.parent.name / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    fsync_dir(target.parent)
    log.info("orphan %s queued again as %s", path, job.capture.id)
    return Requeued(path, capture_id=job.capture.id)
