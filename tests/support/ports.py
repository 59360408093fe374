"""Loopback ports for tests that start a real station process."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Return once ``process`` accepts connections on ``port``; fail with its output
    if it exits first, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                out = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise AssertionError(f"station did not start:\n{out}") from None
            assert time.monotonic() < deadline, f"station did not start in {seconds:g} s"
            time.sleep(0.05)  # another process's socket: there is no event to wait on
