"""What a running station watches besides its capture device: USB plug and unplug,
and the pedal or keys that start a capture.

:class:`Peripherals` belongs to a :class:`station.app.station.Station`, starts and stops
with it, and keeps a short list of notices (a device plugged in, a press ignored
because no book is open) for the UI. A trigger captures one page into the current
book through the station's one capture at a time (``Station.start_capture``): a press
while any capture runs (the screen's too) is ignored rather than queued, so a nervous
double press never takes the same page twice.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from station.capture.drivers import configured_options, driver_class
from station.capture.drivers.base import ButtonWatch
from station.capture.job import CaptureJob, CaptureRunner
from station.capture.triggers import TriggerEvent, Triggers
from station.capture.usb import UsbEvent, UsbWatcher
from station.capture.usb_table import DeviceTable
from station.core.config import Config
from station.core.errors import StationBusyError, StationError
from station.core.models import utc_now

log = logging.getLogger(__name__)


class Peripherals:
    """USB watcher and capture triggers of one station."""

    def __init__(
        self,
        config: Config,
        captures: CaptureRunner,
        current_book: Callable[[], str | None],
        on_usb: Callable[[], None] | None = None,
    ) -> None:
        """``captures`` is the station's one capture at a time; ``current_book`` says
        which book is open (a trigger with none open only leaves a notice); ``on_usb``
        is called after a USB device was plugged in or out."""
        self.config = config
        self._on_usb_change = on_usb
        self.captures = captures
        self._current_book = current_book
        self.usb: UsbWatcher | None = None
        self.triggers: Triggers | None = None
        self.buttons: ButtonWatch | None = None
        #: Recent notices for the UI, newest last: {"key", "values", "at"}.
        self.notices: collections.deque[dict[str, Any]] = collections.deque(maxlen=20)
        #: Triggered captures finished (saved or failed), for :meth:`wait_triggered`.
        self.triggered = 0
        self._finished = threading.Condition()

    def start(self) -> None:
        """Start watching. A bad device table or key name disables only its part (the
        notice and ``station doctor`` say why), so the station still runs and can be
        fixed from the screen."""
        config = self.config
        try:
            if config.usb.enabled:
                extra = Path(config.usb.devices_file) if config.usb.devices_file else None
                table = DeviceTable.load(extra)
                self.usb = UsbWatcher(table, self._on_usb, config.usb.poll_seconds).start()
        except StationError as exc:
            log.error("USB watching is off: %s", exc.message("en"))
            self._notice(exc.key, **exc.values)
        try:
            self.triggers = Triggers(config.triggers, self._on_trigger).start()
        except StationError as exc:
            log.error("capture triggers are off: %s", exc.message("en"))
            self._notice(exc.key, **exc.values)
        if config.triggers.enabled and config.triggers.scanner_button:
            self._watch_buttons()

    def _watch_buttons(self) -> None:
        """The capture device's own buttons start a capture too, where they can be read."""
        kind = self.config.capture.device
        try:
            self.buttons = driver_class(kind).watch_buttons(
                configured_options(self.config.capture, kind),
                self._on_button,
                self.config.triggers.button_poll_ms / 1000,
            )
        except StationError as exc:
            log.error("scanner buttons are off: %s", exc.message("en"))
            self._notice(exc.key, **exc.values)

    def _on_button(self, device: str, button: str) -> None:
        self._on_trigger(TriggerEvent("button", device, button, time.monotonic()))

    def stop(self) -> None:
        """Stop watching (the station then ends a capture still running)."""
        if self.buttons is not None:
            self.buttons.stop()
            self.buttons = None
        if self.triggers is not None:
            self.triggers.stop()
            self.triggers = None
        if self.usb is not None:
            self.usb.stop()
            self.usb = None

    def wait_triggered(self, count: int, timeout: float = 60.0) -> bool:
        """Wait until ``count`` triggered captures have finished (saved or failed)."""
        with self._finished:
            return self._finished.wait_for(lambda: self.triggered >= count, timeout)

    def status(self) -> dict[str, Any]:
        """USB devices with the driver that applies, triggers, and recent notices."""
        usb = self.usb
        return {
            "usb": [r.to_dict() for r in usb.devices()] if usb else [],
            "usb_problem": usb.problem[0] if usb and usb.problem else "",
            "triggers": self.triggers.status() if self.triggers else {"enabled": False},
            "buttons": self.buttons is not None,
            "notices": list(self.notices),
        }

    def _notice(self, key: str, /, **values: Any) -> None:
        self.notices.append({"key": key, "values": values, "at": utc_now()})

    def _on_usb(self, event: UsbEvent) -> None:
        self._notice(event.message_key, **event.values)
        if self._on_usb_change is not None:
            try:
                self._on_usb_change()
            except Exception:  # the USB watcher must keep watching
                log.exception("USB change listener failed")

    def _on_trigger(self, event: TriggerEvent) -> None:
        if self._current_book() is None:
            self._notice("trigger.no_book", device=event.device)
            return
        try:
            job = self.captures.start(1)
        except StationBusyError:
            self._notice("trigger.busy", device=event.device)
            return
        except StationError as exc:
            log.warning("triggered capture refused: %s", exc.message("en"))
            self._notice(exc.key, **exc.values)
            return
        job.source = f"trigger:{event.device}"
        job.add_done_callback(partial(self._captured, event))

    def _captured(self, event: TriggerEvent, job: CaptureJob) -> None:
        if job.error is not None:
            self._notice(job.error.key, **job.error.values)
        else:
            self._notice("trigger.captured", count=job.pages_saved, device=event.device)
        with self._finished:
            self.triggered += 1
            self._finished.notify_all()
