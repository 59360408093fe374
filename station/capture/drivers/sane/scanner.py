"""SANE scanners through python-sane: flatbeds, document feeders, A3 book scanners.

Works with Debian's python3-sane and the PyPI build alike: only the ``sane`` module's
public calls are used (init, get_devices, open, start, snap, cancel, close and option
attributes), and the optional ``progress`` argument of ``snap`` only when present.

A batch yields each page as soon as it is read, so intake has made it safe before the
next sheet is fed; a SANE status that ends the batch becomes a :class:`DeviceError`
with its own message (:mod:`station.capture.drivers.sane.status`), raised only after every page
before it was handed over. A feeder running empty after at least one page is the
normal end of a batch, not an error.

Thread safety: one lock serialises the calls on a device handle. :meth:`cancel` may
come from any thread: between pages it stops the batch; during a page it calls
``sane_cancel``, which the SANE standard allows asynchronously, and the partial page
is dropped. A python-sane progress callback must never raise (python-sane 2.9 crashes
the process on an exception there), so cancelling never goes through it.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from PIL import Image

from station.capture.drivers.base import (
    Capabilities,
    CaptureContext,
    CapturedImage,
    DeviceInfo,
    DeviceState,
    Driver,
    DriverEvent,
    EventCallback,
)
from station.capture.drivers.sane.buttons import ButtonPoller
from station.capture.drivers.sane.library import (
    _LIBRARY,
    SANE_ERRORS,
    close_handle,
    first_device,
    open_handle,
    pause_pollers,
    reset_library,
    resume_pollers,
)
from station.capture.drivers.sane.options import (
    Applied,
    apply,
    capabilities,
    parse_options,
    set_option,
)
from station.capture.drivers.sane.status import SaneStatus, classify, state_after
from station.core import sigpipe
from station.core.errors import DeviceError

log = logging.getLogger(__name__)
_PARAMETER_ERRORS: tuple[type[Exception], ...] = (*SANE_ERRORS, IndexError, TypeError, ValueError)

__all__ = ["SANE_ERRORS", "SaneScanner", "reset_library"]


class SaneScanner(Driver):
    """One SANE device: options from the station's settings, pages from its scans."""

    kind: ClassVar[str] = "sane"

    def __init__(
        self,
        options: Mapping[str, Any],
        on_event: EventCallback | None = None,
        context: CaptureContext | None = None,
    ):
        super().__init__(options, on_event, context)
        self.settings = parse_options(self.options)
        self._device_id = self.settings.device
        self._handle: Any = None
        self._pausing = False  # this driver paused the button pollers to open the device
        self._lock = threading.RLock()  # one sequence of calls on the handle at a time
        self._read_lock = threading.Lock()  # guards _reading for an asynchronous cancel
        self._reading = False
        self._with_progress = False
        #: Longest a page may take (an A3 colour page at 600 dpi on a slow USB 2 book
        #: scanner takes about a minute); past it a stuck backend is cancelled.
        self._page_timeout = float(self.settings.page_timeout_s)

    @classmethod
    def probe(cls) -> list[DeviceInfo]:
        """The SANE devices present now (network backends can make this take seconds)."""
        return [
            DeviceInfo(cls.kind, name, f"{vendor} {model}".strip() or name, vendor, model)
            for name, vendor, model, _ in _LIBRARY.devices()
        ]

    @classmethod
    def watch_buttons(
        cls,
        options: Mapping[str, Any],
        on_press: Callable[[str, str], None],
        interval: float,
    ) -> ButtonPoller:
        """Poll the device's button sensors between captures (buttons.py)."""
        settings = parse_options(options)
        return ButtonPoller(settings.device, on_press, interval, settings.options).start()

    @classmethod
    def rescan(cls) -> list[DeviceInfo]:
        """The SANE devices present now, from a new libsane session when none is open:
        libsane reads its configuration, and some backends list their USB devices, only
        at sane_init()."""
        pause_pollers()  # their handles would keep the old session
        try:
            _LIBRARY.reset()  # refused (and harmless) while a capture holds a device
            return cls.probe()
        finally:
            resume_pollers()

    @property
    def device(self) -> str:
        return self._device_id or "sane"

    # connection -----------------------------------------------------------
    def open(self) -> None:
        """Open the configured device (or the first found); state becomes IDLE."""
        with self._lock:
            if self._handle is None:
                if not self._pausing:
                    pause_pollers()  # the scanner's buttons let go of the device first
                    self._pausing = True
                try:
                    if not self._device_id:
                        self._device_id = first_device()
                    self._handle = open_handle(self._device_id)
                except BaseException:
                    self._pausing = False
                    resume_pollers()
                    raise
                self._with_progress = "progress" in inspect.signature(self._handle.snap).parameters
            self._set_state(DeviceState.IDLE)

    def close(self) -> None:
        """Stop any scan and release the device; state becomes OFFLINE."""
        self.cancel()
        with self._lock:
            self._drop_handle()
            self._set_state(DeviceState.OFFLINE)
            if self._pausing:
                self._pausing = False
                resume_pollers()  # the scanner's buttons are read again

    def _drop_handle(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            close_handle(handle)

    def _require_handle(self) -> Any:
        if self._handle is None:
            raise DeviceError("sane.not_open", device=self.device)
        return self._handle

    # options --------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        """Sources, resolutions and the largest area, read from the device's options."""
        with self._lock:
            return capabilities(self._require_handle())

    def set_device_option(self, name: str, value: Any) -> None:
        """Set one backend option by its SANE name now (a quirk; the test backend's
        ``read-return-value`` fault). Waits for a page being read to finish."""
        with self._lock:
            set_option(self._require_handle(), name, value, self.device)

    # capture --------------------------------------------------------------
    def capture(self, count: int | None = 1) -> Iterator[CapturedImage]:
        """Yield up to ``count`` pages (None: until the feeder is empty; one on a flatbed).

        The settings are applied first, so a scan area that does not fit is refused
        before any sheet moves.
        """
        with self._lock:
            handle = self._require_handle()
            if self._state is DeviceState.CAPTURING:
                raise DeviceError("sane.in_use", device=self.device)
            applied = apply(handle, self.settings, self.device)
        return self._run(count, applied)

    def _run(self, count: int | None, applied: Applied) -> Iterator[CapturedImage]:
        with self._lock:
            if self._state is DeviceState.CAPTURING:
                raise DeviceError("sane.in_use", device=self.device)
            self._cancel.clear()
            self._set_state(DeviceState.CAPTURING)
        feeder = applied.source.startswith("adf")
        total = count if count is not None else (None if feeder else 1)
        done = 0
        try:
            while (total is None or done < total) and not self._cancel.is_set():
                page = self._scan_page(applied, feeder, done)
                if page is None:
                    break
                done += 1
                self._progress("sane.progress", done=done, total=total or "?")
                yield page
        finally:
            self._end_batch()

    def _progress(self, key: str, **values: Any) -> None:
        self._emit(DriverEvent("progress", self.device, self._state, key, values))

    def _end_batch(self) -> None:
        with self._lock, sigpipe.actions_kept():
            self._sane_cancel()  # ends a feeder batch; harmless after a flatbed page
            if self._state is DeviceState.CAPTURING:  # else a failure set it already
                self._set_state(DeviceState.IDLE)

    def _sane_cancel(self) -> None:
        """sane_cancel(): every scan must end with it, even a failed one (a backend may
        keep a reader running otherwise; python-sane skips it in feeder mode)."""
        if self._handle is None:
            return
        try:
            self._handle.cancel()
        except SANE_ERRORS as exc:
            log.debug("cancel on %s: %s", self.device, exc)

    def _scan_page(self, applied: Applied, feeder: bool, done: int) -> CapturedImage | None:
        """Feed and read one page; None at the normal end (feeder empty, cancelled)."""
        # libsane resets the stop signals' handlers while scanning (station.system.sigpipe).
        with self._lock, sigpipe.actions_kept():
            handle = self._require_handle()
            try:
                handle.start()
            except SANE_ERRORS as exc:
                status = classify(exc)
                if status is SaneStatus.NO_DOCS and feeder and done > 0:
                    return None
                raise self._fail(status, exc, done) from exc
            expected = _expected_lines(handle)
            image = self._read(handle, feeder, done)
            if image is None:
                return None
            if image.height < expected:
                detail = f"page cut short at line {image.height} of {expected}"
                raise self._fail(SaneStatus.EOF, RuntimeError(detail), done)
        meta = {
            "source": applied.source,
            "source_name": applied.source_name,
            "mode": applied.mode,
            "area_mm": list(applied.area_mm) if applied.area_mm else None,
            "page_in_batch": done + 1,
        }
        return CapturedImage(
            dpi=applied.dpi, source=self.kind, device=self.device, image=image, meta=meta
        )

    def _read(self, handle: Any, feeder: bool, done: int) -> Image.Image | None:
        """Read the started page; None when it was cancelled."""
        with self._read_lock:
            self._reading = True
        failure: Exception | None = None
        image: Image.Image | None = None
        stalled = threading.Event()
        watchdog = threading.Timer(self._page_timeout, self._stall, (handle, stalled))
        watchdog.name = f"sane-watchdog-{self.device}"
        watchdog.daemon = True
        watchdog.start()
        try:
            image = self._snap(handle, feeder, done + 1)
        except SANE_ERRORS as exc:
            failure = exc
        finally:
            watchdog.cancel()
            watchdog.join()
            sigpipe.reassert()  # libsane resets SIGPIPE at the end of each scan
            with self._read_lock:
                self._reading = False
        if stalled.is_set():
            raise DeviceError(
                "sane.stalled", device=self.device, pages=done, seconds=round(self._page_timeout)
            )
        if self._cancel.is_set():
            return None  # a partial page, or the CANCELLED status our cancel caused
        if failure is not None:
            raise self._fail(classify(failure), failure, done) from failure
        return image

    def _snap(self, handle: Any, feeder: bool, page: int) -> Image.Image:
        if not self._with_progress:
            return _as_image(handle.snap(no_cancel=feeder))
        reported = [-1]

        def on_line(line: int, lines: int) -> None:
            # python-sane cannot cope with an exception here: never let one out.
            try:
                percent = 100 * line // lines if lines > 0 else -1
                if percent >= reported[0] + 10 or (percent == 100 and reported[0] < 100):
                    reported[0] = percent
                    self._progress("sane.reading", page=page, percent=percent)
            except Exception:
                log.exception("progress report failed")

        return _as_image(handle.snap(no_cancel=feeder, progress=on_line))

    def _stall(self, handle: Any, stalled: threading.Event) -> None:
        """The page took longer than any scanner should: stop waiting for it."""
        stalled.set()
        log.warning("%s: no page after %.0f s; cancelling", self.device, self._page_timeout)
        try:
            handle.cancel()
        except SANE_ERRORS as exc:
            log.debug("cancel of a stalled page: %s", exc)

    def cancel(self) -> None:
        """Stop the batch: after this page, or at once when a page is being read."""
        super().cancel()
        with self._read_lock:
            if self._reading and self._handle is not None:
                try:
                    self._handle.cancel()
                except SANE_ERRORS as exc:
                    log.debug("cancel during a page: %s", exc)

    def _fail(self, status: SaneStatus, exc: Exception, pages: int) -> DeviceError:
        """Report a status that ends the batch; close a handle that is lost."""
        log.warning("%s: scan stopped after %d pages: %s", self.device, pages, exc)
        state = state_after(status)
        self._sane_cancel()
        if state is DeviceState.OFFLINE:
            self._drop_handle()
        values = {"device": self.device, "pages": pages, "detail": str(exc)}
        self._set_state(state, status.key, **values)
        return DeviceError(status.key, **values)


def _expected_lines(handle: Any) -> int:
    """Lines of the started page, or -1 when the device does not know (hand scanners)."""
    try:
        parameters = handle.get_parameters()
        return int(parameters[2][1])
    except _PARAMETER_ERRORS:
        return -1


def _as_image(value: Any) -> Image.Image:
    if not isinstance(value, Image.Image):
        raise RuntimeError(f"python-sane returned {type(value).__name__}, not an image")
    return value
