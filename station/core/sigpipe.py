"""Keep SIGPIPE from killing the station.

Python ignores SIGPIPE, so a client that hangs up mid-answer only raises
BrokenPipeError. libsane undoes that: at the end of every scan its thread helper
(``sanei_thread``) resets an *ignored* SIGPIPE to the default action, after which the
next write to a closed socket (a browser closing its event stream, a collector losing
its cable) kills the whole station. Measured here: the SIGPIPE bit leaves
``/proc/self/status`` SigIgn after the first ``scan()`` of the SANE ``test`` backend.

:func:`install` (main thread, at start) gives SIGPIPE a real, do-nothing handler,
which libsane leaves alone. :func:`reassert` is for code that cannot rely on that
(a driver used in a program that did not call :func:`install`): from any thread it
puts the ignore back if the action was reset to the default.

libsane resets more than SIGPIPE: after a scan of the SANE ``test`` backend SIGTERM
had its default action again (SigCgt lost the bit), so systemd's stop killed the station
instead of letting it finish the page and close the store. :func:`actions_kept` saves
the actions of the stop signals before a scan and puts them back after, from any thread.
Both reach the C library through :data:`station.core.native.LIBC`, never a ``dlopen``
of their own (see :mod:`station.core.native` for why that matters around a scan).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, cast

from station.core import native

log = logging.getLogger(__name__)

_SIG_IGN = ctypes.c_void_p(1)
#: Signals whose handlers stop the station cleanly; a scan must not take them away.
KEPT_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
#: Room for a C ``struct sigaction`` (152 bytes on x86-64 and arm64 glibc), which is
#: saved and restored as it is, never read.
_ACTION_BYTES = 512


def _harmless(signum: int, frame: FrameType | None) -> None:
    """SIGPIPE arrived: the write that caused it fails with EPIPE, which is enough."""


def install() -> bool:
    """Give SIGPIPE a do-nothing handler; only possible from the main thread."""
    if not hasattr(signal, "SIGPIPE") or threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGPIPE, _harmless)
    return True


def is_default() -> bool:
    """Whether SIGPIPE currently has its default action (terminate the process)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    bit = 1 << (signal.SIGPIPE - 1)
    masks = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("SigIgn", "SigCgt"):
            masks[name] = int(value.strip(), 16)
    return not (masks.get("SigIgn", 0) & bit or masks.get("SigCgt", 0) & bit)


def reassert() -> None:
    """Ignore SIGPIPE again if a library reset it to the default (any thread)."""
    if not hasattr(signal, "SIGPIPE") or not is_default():
        return
    try:
        function = native.LIBC.signal  # type: ignore[union-attr]
        function.restype = ctypes.c_void_p
        function.argtypes = (ctypes.c_int, ctypes.c_void_p)
        function(int(signal.SIGPIPE), _SIG_IGN)
    except AttributeError as exc:  # not a C library we can reach
        log.warning("cannot restore the SIGPIPE ignore: %s", exc)
        return
    log.debug("SIGPIPE had been reset to its default action; ignored again")


@contextlib.contextmanager
def actions_kept() -> Iterator[None]:
    """Put back, after the block, the actions :data:`KEPT_SIGNALS` had before it."""
    saved = _save_actions()
    try:
        yield
    finally:
        _restore_actions(saved)


def _sigaction() -> Callable[[int, Any, Any], int] | None:
    try:
        function = native.LIBC.sigaction  # type: ignore[union-attr]
    except AttributeError:  # not a C library we can reach
        return None
    function.restype = ctypes.c_int
    function.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    return cast(Callable[[int, Any, Any], int], function)


def _save_actions() -> list[tuple[int, ctypes.Array[ctypes.c_char]]]:
    sigaction = _sigaction()
    saved: list[tuple[int, ctypes.Array[ctypes.c_char]]] = []
    for name in KEPT_SIGNALS:
        number = getattr(signal, name, None)
        if sigaction is None or number is None:
            continue
        action = ctypes.create_string_buffer(_ACTION_BYTES)
        if sigaction(int(number), None, action) == 0:
            saved.append((int(number), action))
    return saved


def _restore_actions(saved: list[tuple[int, ctypes.Array[ctypes.c_char]]]) -> None:
    sigaction = _sigaction()
    if sigaction is None:
        return
    for number, action in saved:
        if sigaction(number, action, None) != 0:
            log.warning("cannot restore the action of signal %s", number)
