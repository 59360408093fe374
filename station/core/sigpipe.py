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
"""

from __future__ import annotations

import ctypes
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

_SIG_IGN = ctypes.c_void_p(1)


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
        libc = ctypes.CDLL(None)
        libc.signal.restype = ctypes.c_void_p
        libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
        libc.signal(int(signal.SIGPIPE), _SIG_IGN)
    except (OSError, AttributeError) as exc:  # not a C library we can reach
        log.warning("cannot restore the SIGPIPE ignore: %s", exc)
        return
    log.debug("SIGPIPE had been reset to its default action; ignored again")
