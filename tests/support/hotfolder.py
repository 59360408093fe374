"""A hot folder's sink driven by hand."""

from __future__ import annotations

from station.capture.drivers.base import CapturedImage
from station.capture.drivers.folder.watcher import Sink


class Taker:
    """A sink recording what it is handed; ``ready`` and a failure can be switched."""

    def __init__(self) -> None:
        self.pages: list[CapturedImage] = []
        self.ready = True
        self.fail: Exception | None = None
        self.held: set[bytes] = set()

    def deliver(self, captured: CapturedImage) -> None:
        if self.fail is not None:
            raise self.fail
        self.pages.append(captured)

    def sink(self) -> Sink:
        return Sink(self.deliver, ready=lambda: self.ready, holds=lambda data: data in self.held)
