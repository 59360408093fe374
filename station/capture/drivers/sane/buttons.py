"""A SANE scanner's own buttons as capture triggers, read by polling its sensors.

SANE has no button events: a backend that knows the device's buttons exposes each as
a *sensor*, a boolean option the frontend may read but not set (capability
SOFT_DETECT without SOFT_SELECT), which reads true while the button is held (or
until read, on some backends). :class:`ButtonPoller` keeps the device open between
captures, reads those sensors every ``interval`` seconds on its own thread, and calls
``on_press`` with the sensor's name on each change from false to true, as scanbd does.

A device can be opened by one program (often one handle) at a time, so the poller
yields it: a capture's :meth:`SaneScanner.open` pauses every poller (closing its
handle) before opening, and its close resumes them. A device without sensors, or
that cannot be opened now, is tried again every :data:`RETRY_SECONDS`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from station.capture.drivers.sane import library
from station.capture.drivers.sane.options import set_option
from station.core.errors import DeviceError

log = logging.getLogger(__name__)

#: SANE option capabilities and type (python-sane keeps them in its private _sane).
CAP_SOFT_SELECT = 1
CAP_SOFT_DETECT = 4
CAP_INACTIVE = 32
TYPE_BOOL = 0
#: Seconds before a device without sensors, or that did not open, is tried again.
RETRY_SECONDS = 30.0

PressCallback = Callable[[str, str], None]  # (device, sensor name)
#: What reading a sensor may raise: libsane's errors, or a sensor gone with its option.
_READ_ERRORS: tuple[type[Exception], ...] = (*library.SANE_ERRORS, AttributeError)


def sensors(handle: Any) -> list[str]:
    """The names of the device's active boolean sensors (its buttons and switches)."""
    found = []
    for option in handle.opt.values():
        cap = int(option.cap)
        if (
            option.type == TYPE_BOOL
            and cap & CAP_SOFT_DETECT
            and not cap & CAP_SOFT_SELECT
            and not cap & CAP_INACTIVE
        ):
            found.append(str(option.name))
    return sorted(found)


class ButtonPoller:
    """Polls one SANE device's sensors while no capture uses it."""

    def __init__(
        self,
        device: str,
        on_press: PressCallback,
        interval: float = 0.2,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """``device``: the SANE name ("" the first found); ``options``: raw backend
        options set after opening, as a scan sets them (device quirks)."""
        self.device = device
        self.on_press = on_press
        self.interval = interval
        self.options = dict(options or {})
        self.sensors: list[str] = []
        #: Reads done (for tests: a reading loop that does not read is a dead one).
        self.reads = 0
        self._handle: Any = None
        self._values: dict[str, bool] = {}
        self._paused = 0
        self._lock = threading.Lock()  # guards the handle and the pause count
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._read = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> ButtonPoller:
        library.register_poller(self)
        self._thread = threading.Thread(target=self._run, name="sane-buttons", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        library.unregister_poller(self)
        with self._lock:
            self._close()

    def wait_reads(self, count: int, timeout: float) -> bool:
        """Wait until the sensors were read ``count`` times in all (False on timeout)."""
        with self._read:
            return self._read.wait_for(lambda: self.reads >= count, timeout)

    def pause(self) -> None:
        """Close the device for a capture (called before the capture opens it)."""
        with self._lock:
            self._paused += 1
            self._close()

    def resume(self) -> None:
        with self._lock:
            self._paused = max(0, self._paused - 1)
        self._wake.set()

    # -- the polling thread ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.interval
            with self._lock:
                if not self._paused:
                    wait = self._tick()
            self._wake.wait(wait)
            self._wake.clear()

    def _tick(self) -> float:
        """One look at the sensors; returns how long to wait before the next."""
        if self._handle is None and not self._open():
            return RETRY_SECONDS
        pressed = []
        try:
            for name in self.sensors:
                value = bool(getattr(self._handle, name.replace("-", "_")))
                if value and not self._values.get(name, False):
                    pressed.append(name)
                self._values[name] = value
        except _READ_ERRORS as exc:
            log.info("scanner buttons of %s unreadable (%s): opened again later", self.device, exc)
            self._close()
            return RETRY_SECONDS
        with self._read:
            self.reads += 1
            self._read.notify_all()
        for name in pressed:
            log.info("scanner button %s pressed on %s", name, self.device)
            try:
                self.on_press(self.device, name)
            except Exception:  # the poller must keep polling
                log.exception("scanner button listener failed")
        return self.interval

    def _open(self) -> bool:
        try:
            name = self.device or library.first_device()
            handle = library.open_handle(name)
        except DeviceError as exc:
            log.debug("scanner buttons: %s", exc.message("en"))
            return False
        try:
            for key, value in self.options.items():
                set_option(handle, key, value, name)
            found = sensors(handle)
        except DeviceError as exc:
            log.warning("scanner buttons of %s off: %s", name, exc.message("en"))
            library.close_handle(handle)
            return False
        if not found:
            log.info("scanner %s exposes no button sensors: its buttons start nothing", name)
            library.close_handle(handle)
            return False
        self.device, self._handle, self.sensors = name, handle, found
        # What the buttons read now is no press: only a change to pressed is one.
        self._values = {}
        for sensor in found:
            try:
                self._values[sensor] = bool(getattr(handle, sensor.replace("-", "_")))
            except _READ_ERRORS:
                self._values[sensor] = False
        log.info("watching the buttons of %s: %s", name, ", ".join(found))
        return True

    def _close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            library.close_handle(handle)
