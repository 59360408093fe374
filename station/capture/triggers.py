"""Capture triggers: a foot pedal or a key.

A volunteer turning the pages of a bound ledger has no hand free for the touch screen,
so a press of a pedal (which is a keyboard to the computer) starts the capture. Each
source calls ``on_press`` with a :class:`TriggerEvent`; the callback must return
quickly (the station runs the capture on its own thread). Presses closer together
than the debounce time count once: pedal contacts bounce and people press twice to
be sure.

- :class:`KeyReader` reads key events from input devices (:mod:`station.capture.inputdev`) on
  one thread, waiting in ``select`` so it costs nothing between presses; a device
  plugged in later, or back in, is picked up at the next rescan.
- :class:`Triggers` builds the reader from the ``[triggers]`` configuration.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from station.capture.inputdev import (
    DEV_INPUT,
    EV_KEY,
    EVIOCGRAB,
    INPUT_EVENT,
    KEY_DOWN,
    SYSFS_INPUT,
    InputDevice,
    key_code,
    key_name,
    list_input_devices,
)
from station.core import messages
from station.core.config import TriggersSection

log = logging.getLogger(__name__)

#: Seconds between looks for input devices plugged in (or back in) since the start.
RESCAN_SECONDS = 5.0


@dataclass(frozen=True)
class TriggerEvent:
    """A press that should start a capture."""

    source: str  # "key"
    device: str  # the input device's path
    detail: str  # the key's name, e.g. "KEY_B"
    time: float  # seconds (the kernel's timestamp for keys)


TriggerCallback = Callable[[TriggerEvent], None]


class _Debounce:
    """Lets a press through unless the last one let through was under ``seconds`` ago."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: float | None = None

    def accept(self, when: float) -> bool:
        if self._last is not None and 0 <= when - self._last < self.seconds:
            return False
        self._last = when
        return True


def _call(callback: TriggerCallback, event: TriggerEvent) -> None:
    log.info("capture trigger: %s %s %s", event.source, event.device, event.detail)
    try:
        callback(event)
    except Exception:  # a failing listener must not stop the pedal
        log.exception("trigger callback failed for %s", event)


class KeyReader:
    """Watches input devices on one thread; a trigger key going down calls ``on_press``."""

    def __init__(
        self,
        resolve: Callable[[], list[str]],
        codes: set[int],
        on_press: TriggerCallback,
        debounce: float = 0.4,
        grab: bool = False,
        rescan: float = RESCAN_SECONDS,
    ) -> None:
        self._resolve = resolve
        self.codes = set(codes)
        self._on_press = on_press
        self._debounce = _Debounce(debounce)
        self._grab = grab
        self._rescan = rescan
        self._lock = threading.Lock()  # guards _open and problems for other threads
        self._open: dict[int, str] = {}  # fd -> path
        self._partial: dict[int, bytes] = {}  # bytes of an event split across reads
        self._warned: set[str] = set()
        self.problems: dict[str, tuple[str, dict[str, Any]]] = {}  # path -> message
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None

    @property
    def paths(self) -> list[str]:
        """The devices being read now."""
        with self._lock:
            return sorted(self._open.values())

    def problem_list(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Devices that cannot be read: path -> (message key, values)."""
        with self._lock:
            return dict(self.problems)

    def start(self) -> KeyReader:
        """Open the devices now (so problems show at once), then read on a thread."""
        if self._thread is not None:
            return self
        self._open_new()
        self._stop.clear()
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._run, name="key-trigger", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reading and release every device; returns once the thread has ended."""
        self._stop.set()
        if self._thread is not None and self._wake is not None:
            os.write(self._wake[1], b"x")
            self._thread.join()
        self._thread = None
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
            self._wake = None
        for fd in list(self._open):
            self._close(fd)

    def _run(self) -> None:
        assert self._wake is not None
        next_scan = time.monotonic() + self._rescan
        while not self._stop.is_set():
            timeout = max(0.0, next_scan - time.monotonic())
            try:
                ready, _, _ = select.select([self._wake[0], *self._open], [], [], timeout)
            except OSError:  # a device closed under us; the next pass sees why
                ready = []
            if self._stop.is_set():
                return
            for fd in ready:
                if fd in self._open:
                    self._read(fd)
            if time.monotonic() >= next_scan:
                self._open_new()
                next_scan = time.monotonic() + self._rescan

    def _open_new(self) -> None:
        """Open the devices that are wanted and not open yet."""
        try:
            wanted = self._resolve()
        except Exception:
            log.exception("listing input devices failed")
            return
        reading = set(self._open.values())
        for path in wanted:
            if path not in reading:
                self._open_path(path)

    def _open_path(self, path: str) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except PermissionError:
            self._problem(path, "triggers.no_access")
            return
        except OSError as exc:
            if path not in self._warned:
                log.warning("cannot open input device %s: %s", path, exc)
                self._warned.add(path)
            return
        if self._grab:
            try:
                fcntl.ioctl(fd, EVIOCGRAB, 1)
            except OSError as exc:
                log.warning("cannot take input device %s for the station alone: %s", path, exc)
        with self._lock:
            self._open[fd], self._partial[fd] = path, b""
            self.problems.pop(path, None)
        self._warned.discard(path)
        log.info("listening for capture keys on %s", path)

    def _problem(self, path: str, key: str) -> None:
        with self._lock:
            self.problems[path] = (key, {"path": path})
        if path not in self._warned:
            log.warning(messages.render(key, "en", path=path))
            self._warned.add(path)

    def _read(self, fd: int) -> None:
        try:
            data = os.read(fd, INPUT_EVENT.size * 64)
        except BlockingIOError:
            return
        except OSError as exc:  # ENODEV: the pedal was unplugged
            level = logging.INFO if exc.errno == errno.ENODEV else logging.WARNING
            log.log(level, "input device %s went away: %s", self._open[fd], exc)
            self._close(fd)
            return
        if not data:
            log.info("input device %s ended", self._open[fd])
            self._close(fd)
            return
        buffer = self._partial[fd] + data
        whole = len(buffer) - len(buffer) % INPUT_EVENT.size
        self._partial[fd] = buffer[whole:]
        for seconds, micros, kind, code, value in INPUT_EVENT.iter_unpack(buffer[:whole]):
            self._handle(self._open[fd], seconds + micros / 1e6, kind, code, value)

    def _handle(self, path: str, when: float, kind: int, code: int, value: int) -> None:
        # Only the key going down counts: not its release, nor the auto-repeat of a
        # pedal held down.
        if kind != EV_KEY or value != KEY_DOWN or code not in self.codes:
            return
        if not self._debounce.accept(when):
            log.debug("ignored %s from %s: within the debounce time", key_name(code), path)
            return
        _call(self._on_press, TriggerEvent("key", path, key_name(code), when))

    def _close(self, fd: int) -> None:
        with self._lock:
            self._open.pop(fd, None)
            self._partial.pop(fd, None)
        with contextlib.suppress(OSError):
            os.close(fd)


def parse_keys(names: tuple[str, ...] | list[str]) -> set[int]:
    """The key codes of ``triggers.keys``; ConfigError names a key it does not know."""
    return {key_code(name) for name in names}


def wanted_devices(
    settings: TriggersSection, codes: set[int], devices: list[InputDevice]
) -> list[str]:
    """Paths to read: those configured (by path or name), else every keyboard with a key."""
    if not settings.devices:
        return [device.path for device in devices if device.can_send(codes)]
    paths = []
    for wanted in settings.devices:
        if "/" in wanted:
            paths.append(os.path.realpath(wanted))  # /dev/input/by-id/... links
        else:
            paths += [d.path for d in devices if d.name.casefold() == wanted.casefold()]
    return list(dict.fromkeys(paths))


class Triggers:
    """The configured triggers, started and stopped together."""

    def __init__(
        self,
        settings: TriggersSection,
        on_trigger: TriggerCallback,
        list_devices: Callable[[], list[InputDevice]] | None = None,
    ) -> None:
        self.settings = settings
        self._on_trigger = on_trigger
        self._list = list_devices or (lambda: list_input_devices(SYSFS_INPUT, DEV_INPUT))
        self.codes = parse_keys(settings.keys)  # a bad key name is a config error
        self.keys: KeyReader | None = None

    def start(self) -> Triggers:
        """Start reading the keys (when enabled)."""
        if self.settings.enabled and self.keys is None:
            self.keys = KeyReader(
                lambda: wanted_devices(self.settings, self.codes, self._list()),
                self.codes,
                self._on_trigger,
                self.settings.debounce_ms / 1000,
                self.settings.grab,
            ).start()
        return self

    def stop(self) -> None:
        if self.keys is not None:
            self.keys.stop()
            self.keys = None

    def status(self) -> dict[str, Any]:
        """What the UI and ``station doctor`` show."""
        return {
            "enabled": self.settings.enabled,
            "keys": sorted(key_name(code) for code in self.codes),
            "devices": self.keys.paths if self.keys else [],
            "problems": self.keys.problem_list() if self.keys else {},
        }
