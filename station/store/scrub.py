"""The scrub: published files checked, slowly, against the SHA-256 recorded when each
was published.

A published file is never changed in place, so a file whose content no longer has
its recorded hash has rotted (a failing SD card, a bad sector). The LAN API remembers
hashes it has checked by inode, size and time, which bit rot does not change; the
scrub reads every published file again, at a low rate, every ``interval`` seconds,
and keeps what it found in ``scrub.json`` in the data folder. A damaged file is then
never served (:meth:`Scrub.is_damaged`), ``station doctor`` and the screen say so,
and the next scrub forgets it once the entry is published again or the file is
right again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from station.core.fsutil import write_atomic
from station.core.models import utc_now
from station.store.store import Store

log = logging.getLogger(__name__)

#: The scrub's findings, in the data folder.
REPORT_NAME = "scrub.json"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Damage:
    """A published file whose content does not have its recorded SHA-256."""

    entry: str
    version: int
    file: str  # relative to the published folder
    sha256: str  # as recorded at publishing
    found: str  # "missing" or the SHA-256 found
    at: str


@dataclass
class ScrubReport:
    """What the last scrub found."""

    finished_at: str = ""
    checked: int = 0
    damaged: list[Damage] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1).encode()


def load_report(data_dir: Path) -> ScrubReport:
    """The last scrub's findings (an empty report if none ran or the file is unreadable)."""
    try:
        data = json.loads((data_dir / REPORT_NAME).read_text(encoding="utf-8"))
        damaged = [Damage(**item) for item in data.get("damaged", [])]
        return ScrubReport(str(data.get("finished_at", "")), int(data.get("checked", 0)), damaged)
    except (OSError, ValueError, TypeError, AttributeError):
        return ScrubReport()


class Scrub:
    """Checks published files in the background; see the module docstring.

    ``interval``: seconds between two scrubs (0: never in the background);
    ``rate``: bytes read per second at most, so serving and processing are not slowed.
    """

    def __init__(self, store: Store, data_dir: Path, interval: float, rate: float) -> None:
        self.store = store
        self.data_dir = data_dir
        self.interval = interval
        self.rate = rate
        self.report = load_report(data_dir)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def is_damaged(self, file: str, sha256: str) -> bool:
        """Whether the last scrub found ``file`` (published with ``sha256``) damaged."""
        with self._lock:
            return any(d.file == file and d.sha256 == sha256 for d in self.report.damaged)

    def damaged(self) -> list[Damage]:
        with self._lock:
            return list(self.report.damaged)

    def run_once(self) -> ScrubReport:
        """Check every published version now; keep and return the findings."""
        report = ScrubReport()
        for entry_id, version, file, sha256 in self._versions():
            if self._stop.is_set():
                return self.report  # stopped half-way: the last full findings stand
            found = self._hash(self.store.published_path(file))
            report.checked += 1
            if found != sha256:
                damage = Damage(entry_id, version, file, sha256, found, utc_now())
                report.damaged.append(damage)
                log.error(
                    "published file %s (entry %s version %d) is damaged: SHA-256 %s, "
                    "recorded %s; it is no longer served",
                    file, entry_id, version, found, sha256,
                )  # fmt: skip
        report.finished_at = utc_now()
        with self._lock:
            self.report = report
        try:
            write_atomic(self.data_dir / REPORT_NAME, report.to_json())
        except OSError as exc:  # a full disk: the findings hold in memory until the next
            log.warning("scrub findings not saved: %s", exc)
        return report

    def _versions(self) -> Iterator[tuple[str, int, str, str]]:
        for entry in self.store.all_entries():
            for version in entry.versions:
                yield entry.id, version.version, version.file, version.sha256

    def _hash(self, path: Path) -> str:
        """The file's SHA-256, read at :attr:`rate` at most; "missing" if it is gone."""
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(CHUNK), b""):
                    digest.update(block)
                    if self.rate > 0 and self._stop.wait(len(block) / self.rate):
                        break
        except FileNotFoundError:
            return "missing"
        return digest.hexdigest()

    # the background thread ------------------------------------------------------------
    def start(self) -> None:
        """Scrub every :attr:`interval` seconds in the background (not when it is 0)."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="station-scrub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._until_due()):
            try:
                self.run_once()
            except Exception:  # the scrub must outlive any fault; it tries again later
                log.exception("scrub failed")
                self._stop.wait(self.interval)

    def _until_due(self) -> float:
        """Seconds until the next scrub: ``interval`` after the last one finished."""
        last = self.report.finished_at
        if not last:
            return min(60.0, self.interval)  # a first look soon after start-up
        try:
            elapsed = time.time() - _epoch(last)
        except ValueError:
            return 0.0
        return max(0.0, self.interval - elapsed)


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
