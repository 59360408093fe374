"""The station's store: the only code that touches TinyDB.

Layout under the data folder::

    station.lock                       flock + PID of the process holding the folder
    db/station.json                    settings and operators
    db/books/<BOOKKEY>.json            one TinyDB per book: book, captures, pages, entries
    db/feed/meta.json, 000000.json...  the change feed in segments
    db/publishing.json                 the publish in progress (crash journal)
    withdrawn/<entry id>.json          tombstones of withdrawn entries (kept by reindex)
    published/<folder>/<file>.pdf      current version of every entry
    published/<folder>/_versions/<stem>.v<N>.pdf   earlier versions, kept forever

The book registry is the set of files in ``db/books`` (one source of truth, so a reindex
that rebuilds that folder can never disagree with a list kept elsewhere).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

from tinydb import TinyDB

from station.core.models import Entry, EntryVersion, FeedEvent
from station.store.base import Namer, StoreBase, synchronized
from station.store.bookdb import BookDB
from station.store.feed import Feed
from station.store.publish import PublishPlan, plan_publish, publish, vacate
from station.store.recovery import RecoveryReport, recover
from station.store.reindex import complete_pending_swap
from station.store.storage import SafeJSONStorage
from station.store.withdraw import withdraw

log = logging.getLogger(__name__)

__all__ = ["Namer", "Store"]


class Store(StoreBase):
    """Books, captures, pages, entries, published files and the change feed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_recovery = RecoveryReport()

    @synchronized
    def open(self) -> None:
        """Lock the data folder, load the index and repair what a crash left behind."""
        if self._lock.held:
            return
        self._lock.acquire()
        try:
            complete_pending_swap(self.db_dir)
            self.books_dir.mkdir(parents=True, exist_ok=True)
            self.published_dir.mkdir(parents=True, exist_ok=True)
            self._station_db = TinyDB(self.db_dir / "station.json", storage=SafeJSONStorage)
            self._feed = Feed(self.db_dir / "feed", self._segment_size)
            for path in sorted(self.books_dir.glob("*.json")):
                self._attach(BookDB(path))
            self.recover()
        except BaseException:
            self.close()
            raise

    @synchronized
    def recover(self) -> RecoveryReport:
        """Remove crash leftovers and index published files the index lacks (run by open)."""
        report = recover(self)
        if report.changed:
            log.warning("recovery after an interruption: %s", report)
        self.last_recovery = report
        return report

    def __enter__(self) -> Store:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @synchronized
    def plan_publish(self, entry: Entry, encoding: str) -> PublishPlan:
        """The next version of ``entry`` (name, number, feed seq) and the record its PDF
        must carry; nothing is written (see :mod:`station.store.publish`)."""
        return plan_publish(self, entry, encoding)

    @synchronized
    def publish(self, plan: PublishPlan, pdf_bytes: bytes) -> EntryVersion:
        """Publish the finished PDF of ``plan`` (it must carry ``plan.record``)."""
        return publish(self, plan, pdf_bytes)

    @synchronized
    def vacate(self, entry_id: str) -> Entry:
        """Move an entry's current file into ``_versions`` so its next publish is named
        anew (renumbering); see :func:`.publish.vacate`."""
        return vacate(self, self.get_entry(entry_id))

    @synchronized
    def withdraw(self, entry_id: str, operator: str = "") -> FeedEvent | None:
        """Withdraw an entry, keeping its files; see :mod:`.withdraw`."""
        return withdraw(self, entry_id, operator)
