"""The C library, reached once, and a guard for libraries that cancel their threads.

Both exist for libsane. Its ``sanei_thread`` runs a backend's reader as a thread in
*asynchronous* cancel mode and ends it with ``pthread_exit``; ``sane_cancel`` cancels
that thread. The first ``pthread_exit`` or ``pthread_cancel`` of a process makes glibc
``dlopen`` libgcc_s (to unwind the thread), under the dynamic loader's global lock. If
the cancel lands while the reader is inside that ``dlopen``, the reader dies holding the
lock, and every later ``dlopen`` in the process (a ``ctypes.CDLL``, an extension module
imported late) waits for ever. Measured here: ``station scan --device test:0`` hung in 1
of about 5 runs, the main thread in ``_dl_open`` waiting on ``_rtld_global._dl_load_lock``
whose owner was the vanished reader thread.

:func:`prepare_thread_cancellation` makes glibc load and keep libgcc_s before any such
thread exists, by cancelling a thread of our own once; after it no thread exit or
cancel needs the loader. :data:`LIBC` is resolved at import so that code running around
a scan never calls ``dlopen`` itself.
"""

from __future__ import annotations

import ctypes
import logging
import threading

log = logging.getLogger(__name__)


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # not a C library we can reach (a static or foreign runtime)
        return None


#: The process's C library, or None where it cannot be reached.
LIBC = _load_libc()
#: The value pthread_join() reports for a cancelled thread.
_PTHREAD_CANCELED = ctypes.c_void_p(-1).value
_prepared = False
_lock = threading.Lock()


def prepare_thread_cancellation(attempts: int = 3) -> bool:
    """Start a native thread, cancel it, join it: once per process, from any thread.

    glibc keeps the unwinder it loads for the first cancellation for the life of the
    process. True when that happened (now or before), False where it cannot be done
    (no glibc functions reachable), which is logged.
    """
    global _prepared
    with _lock:
        if _prepared:
            return True
        _prepared = _cancel_a_thread(attempts)
        return _prepared


def _cancel_a_thread(attempts: int) -> bool:
    try:
        create = LIBC.pthread_create  # type: ignore[union-attr]
        cancel = LIBC.pthread_cancel  # type: ignore[union-attr]
        join = LIBC.pthread_join  # type: ignore[union-attr]
        sleep = LIBC.sleep  # type: ignore[union-attr]
    except AttributeError:  # LIBC is None or lacks POSIX threads
        log.warning("no POSIX thread functions reachable; thread cancellation not prepared")
        return False
    create.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
    create.restype = ctypes.c_int
    cancel.argtypes = (ctypes.c_ulong,)
    cancel.restype = ctypes.c_int
    join.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
    join.restype = ctypes.c_int
    # The thread runs sleep(3600): a cancellation point it stays in until cancelled.
    start = ctypes.cast(sleep, ctypes.c_void_p)
    for _ in range(attempts):
        thread = ctypes.c_ulong()
        if create(ctypes.byref(thread), None, start, ctypes.c_void_p(3600)) != 0:
            break
        cancel(thread.value)
        result = ctypes.c_void_p()
        if join(thread.value, ctypes.byref(result)) == 0 and result.value == _PTHREAD_CANCELED:
            return True
        # sleep() returned early (a signal reached that thread first): try again
    log.warning("could not cancel a native thread; thread cancellation not prepared")
    return False
