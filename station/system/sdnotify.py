"""Tell systemd how the station is doing: ready, alive (watchdog), stopping.

The unit is ``Type=notify`` with ``WatchdogSec=``: systemd starts the kiosk only once
the station says READY, and restarts the station when the WATCHDOG pings stop. The
protocol is one datagram of ``KEY=value`` lines to the socket named in
``$NOTIFY_SOCKET`` (a path, or ``@name`` for Linux's abstract namespace), so it is
written here with the standard library instead of pulling in libsystemd bindings.

A ping is sent only while the web server answers an HTTP request: a station whose
request threads are all stuck stops pinging and is restarted, which a timer that pings
unconditionally would never notice. Outside systemd (no ``$NOTIFY_SOCKET``) nothing
here starts a thread or opens a socket.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from types import TracebackType

log = logging.getLogger(__name__)

#: Longest wait for one health probe of the web server, in seconds.
PROBE_TIMEOUT = 10.0
#: What the probe asks for: no page, so answering is cheap (the 404 is the answer).
PROBE_PATH = "/.well-known/ledger-station-watchdog"


def socket_address(environ: Mapping[str, str] | None = None) -> str | None:
    """The notification socket from ``$NOTIFY_SOCKET``, abstract names as ``\\0name``."""
    value = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not value or value[0] not in "/@":
        return None  # unset, or a vsock address, which a station never gets
    return "\0" + value[1:] if value[0] == "@" else value


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``) to systemd; False when not run by systemd.

    A failure to send is logged and reported as False, never raised: losing a
    notification must not take the station down.
    """
    address = socket_address(environ)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError as exc:
        log.warning("could not notify systemd (%s): %s", state.split("=", 1)[0], exc)
        return False
    return True


def watchdog_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog period systemd asked for, or None when there is no watchdog.

    ``$WATCHDOG_PID``, when set, must be this process: a child that inherited the
    environment must not ping for its parent.
    """
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


def http_answers(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether an HTTP server at ``host:port`` answers a request with a status line.

    Any status counts (a 404 is an answer); only silence or a refused connection do
    not. The path asked for is no page, so the answer costs the station nothing but a
    request thread. A server bound to every address is asked on loopback.
    """
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    request = (
        f"HEAD {PROBE_PATH} HTTP/1.0\r\nHost: {target}\r\n"
        "User-Agent: ledger-station-watchdog\r\n\r\n"
    )
    try:
        with socket.create_connection((target, port), timeout=timeout) as conn:
            conn.sendall(request.encode("ascii"))
            return conn.recv(12).startswith(b"HTTP/")
    except OSError:
        return False


class Heartbeat:
    """Says READY once ``healthy()`` first holds, then pings the watchdog while it holds.

    Use as a context manager around the server's run; leaving it says STOPPING and
    ends the thread. Under systemd without a watchdog it still says READY.
    """

    def __init__(
        self,
        healthy: Callable[[], bool],
        environ: Mapping[str, str] | None = None,
        status: str = "",
    ) -> None:
        self._healthy = healthy
        self._environ = dict(os.environ if environ is None else environ)
        self._status = status
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        period = watchdog_seconds(self._environ)
        #: Seconds between pings: half the watchdog period, as systemd recommends.
        self.interval = period / 2 if period else None

    @classmethod
    def for_web(cls, host: str, port: int, environ: Mapping[str, str] | None = None) -> Heartbeat:
        """A heartbeat that is healthy while the station's web server answers."""
        return cls(lambda: http_answers(host, port), environ, f"Serving on {host}:{port}")

    @property
    def active(self) -> bool:
        """Whether systemd listens (the thread runs only then)."""
        return socket_address(self._environ) is not None

    def start(self) -> Heartbeat:
        if self.active and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sd-notify", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PROBE_TIMEOUT + 5)
            self._thread = None
            notify("STOPPING=1", self._environ)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        # Until ready, look often: the kiosk waits for READY to show the touch UI.
        while not self._stop.is_set() and not self._healthy():
            self._stop.wait(0.5)
        if self._stop.is_set():
            return
        state = "READY=1\nSTATUS=" + self._status if self._status else "READY=1"
        notify(state, self._environ)
        self.ready.set()
        if self.interval is None:
            return
        while not self._stop.wait(self.interval):
            if self._healthy():
                notify("WATCHDOG=1", self._environ)
            else:
                log.warning("web server did not answer; withholding the watchdog ping")
