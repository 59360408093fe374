"""Downloading the next files of a feed page on a few extra connections.

Per small file, most of the time goes to waiting for the station's answer and to the
fsync; with several downloads in flight the station's threads and the disk work at the
same time. Only downloads run ahead: the pass still places the files, records them and
moves its cursor strictly in feed order, and a download's error surfaces when the pass
reaches that file, exactly as if it had been fetched then. A download left unfinished
(the pass stopped, the link died) keeps its ``.part`` for the next pass.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from station.collector.client import StationClient
from station.collector.download import download
from station.core.models import FeedEvent

log = logging.getLogger(__name__)

#: How long the pass waits for a download at a time, so Ctrl+C is seen on Windows too.
WAIT_SLICE = 0.5


class Prefetcher:
    """Runs downloads of a page's files on ``workers`` connections cloned from ``client``."""

    def __init__(self, client: StationClient, stop: threading.Event, workers: int) -> None:
        self.client = client
        self.stop = stop
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="collect-download")
        self._local = threading.local()
        self._futures: dict[tuple[str, int], Future[None]] = {}

    def start(self, jobs: list[tuple[FeedEvent, Path]]) -> None:
        """Queue the downloads, in feed order."""
        for event, part in jobs:
            key = (event.entry_id, event.version)
            if key not in self._futures:
                self._futures[key] = self._executor.submit(self._download, event, part)

    def _download(self, event: FeedEvent, part: Path) -> None:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client.clone()
        download(client, event, part, self.stop)

    def wait(self, event: FeedEvent) -> bool:
        """Wait for ``event``'s download (re-raising its error); False if none was queued."""
        future = self._futures.pop((event.entry_id, event.version), None)
        if future is None:
            return False
        while not future.done():
            _wait(future)
        future.result()
        return True

    def close(self) -> None:
        """Drop what has not started, let running downloads end, close the connections."""
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.client.close_clones()


def _wait(future: Future[None]) -> None:
    """Wait a slice; a bare blocking wait would hold off Ctrl+C on Windows."""
    with contextlib.suppress(TimeoutError):
        future.exception(WAIT_SLICE)
