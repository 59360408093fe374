"""The process's one libsane session and its device handles, shared by the driver
and the scanner's button poller.

sane_init() and sane_exit() act on the whole process, and a device is usually open in
one handle at a time, so the session, the count of open handles and the pollers that
hold a device between captures live here, below both users.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import sane

from station.capture.drivers.sane.status import SaneStatus, classify
from station.core import native, sigpipe
from station.core.errors import DeviceError

log = logging.getLogger(__name__)

#: What python-sane raises: its ``_sane.error`` (status text) and RuntimeError
#: ("Scanner returned no data" when a page ends before its first line).
_SANE_ERROR: type[Exception] = getattr(getattr(sane, "_sane", None), "error", RuntimeError)
SANE_ERRORS: tuple[type[Exception], ...] = (_SANE_ERROR, RuntimeError)


class _Library:
    """sane_init() and sane_exit() act on the whole process: one session for all."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ready = False
        self.open_handles = 0

    def start(self) -> None:
        with self.lock:
            if self.ready:
                return
            # Before any backend starts a reader thread (station.core.native).
            native.prepare_thread_cancellation()
            try:
                sane.init()
            except SANE_ERRORS as exc:
                raise DeviceError("sane.init_failed", detail=str(exc)) from exc
            self.ready = True

    def devices(self) -> list[tuple[str, str, str, str]]:
        with self.lock:
            self.start()
            try:
                found = sane.get_devices()
            except SANE_ERRORS as exc:
                raise DeviceError("sane.init_failed", detail=str(exc)) from exc
            return [(str(d[0]), str(d[1]), str(d[2]), str(d[3])) for d in found]

    def reset(self) -> bool:
        """End the session unless a device is open; the next use reads the config again."""
        with self.lock:
            if self.open_handles:
                return False
            if self.ready:
                sane.exit()
                self.ready = False
            return True


_LIBRARY = _Library()


class Poller(Protocol):
    """Something holding a device open between captures (the scanner's buttons)."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...


_POLLERS: list[Poller] = []
_POLLERS_LOCK = threading.Lock()


def register_poller(poller: Poller) -> None:
    """``poller`` closes its handle whenever a capture opens a device."""
    with _POLLERS_LOCK:
        _POLLERS.append(poller)


def unregister_poller(poller: Poller) -> None:
    with _POLLERS_LOCK:
        if poller in _POLLERS:
            _POLLERS.remove(poller)


def pause_pollers() -> None:
    with _POLLERS_LOCK:
        pollers = list(_POLLERS)
    for poller in pollers:
        poller.pause()


def resume_pollers() -> None:
    with _POLLERS_LOCK:
        pollers = list(_POLLERS)
    for poller in pollers:
        poller.resume()


def first_device() -> str:
    """The name of the first SANE device found (DeviceError when there is none)."""
    found = _LIBRARY.devices()
    if not found:
        raise DeviceError("sane.no_devices")
    return found[0][0]


def open_handle(name: str) -> Any:
    """Open device ``name`` (DeviceError saying why not); close it with close_handle."""
    _LIBRARY.start()
    with _LIBRARY.lock:
        try:
            handle = sane.open(name)
        except SANE_ERRORS as exc:
            raise _open_error(name, exc) from exc
        _LIBRARY.open_handles += 1
    log.info("opened SANE device %s", name)
    return handle


def _open_error(name: str, exc: Exception) -> DeviceError:
    status = classify(exc)
    if status is SaneStatus.INVAL:  # libsane's answer to an unknown device name
        found = ", ".join(d[0] for d in _LIBRARY.devices()) or "-"
        return DeviceError("sane.not_found", device=name, found=found)
    return DeviceError(status.key, device=name, pages=0, detail=str(exc))


def close_handle(handle: Any) -> None:
    """Close a handle from open_handle (an unplugged device cannot be closed cleanly)."""
    try:
        handle.close()
    except SANE_ERRORS as exc:
        log.debug("closing a SANE device: %s", exc)
    sigpipe.reassert()
    with _LIBRARY.lock:
        _LIBRARY.open_handles -= 1


def reset_library() -> bool:
    """End the SANE session so the next probe or open starts a new one.

    libsane reads its configuration (``SANE_CONFIG_DIR``, dll.conf, backend files) at
    sane_init(); call this after changing it. Refused (False) while a device is open.
    """
    return _LIBRARY.reset()
