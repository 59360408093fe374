"""sd_notify over a real datagram socket, as systemd listens for it."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.system import sdnotify


class Listener:
    """systemd's side: a datagram socket collecting notifications."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(10)

    def next(self) -> str:
        return self.sock.recv(4096).decode()


@pytest.fixture
def abstract() -> Iterator[tuple[Listener, dict[str, str]]]:
    name = f"ledger-station-test-{secrets.token_hex(6)}"
    listener = Listener("\0" + name)
    try:
        yield listener, {"NOTIFY_SOCKET": "@" + name}
    finally:
        listener.sock.close()


def test_notify_reaches_an_abstract_socket(abstract: tuple[Listener, dict[str, str]]) -> None:
    listener, env = abstract
    assert sdnotify.notify("READY=1\nSTATUS=up", env)
    assert listener.next() == "READY=1\nSTATUS=up"


def test_notify_reaches_a_path_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    listener = Listener(str(path))
    try:
        assert sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": str(path)})
        assert listener.next() == "WATCHDOG=1"
    finally:
        listener.sock.close()


def test_without_systemd_nothing_is_sent() -> None:
    assert sdnotify.socket_address({}) is None
    assert not sdnotify.notify("READY=1", {})
    assert not sdnotify.notify("READY=1", {"NOTIFY_SOCKET": "vsock:2:1"})


def test_a_vanished_socket_is_reported_not_raised(tmp_path: Path) -> None:
    assert not sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_watchdog_period() -> None:
    pid = str(os.getpid())
    assert sdnotify.watchdog_seconds({"WATCHDOG_USEC": "60000000"}) == 60.0
    assert sdnotify.watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": pid}) == 30.0
    assert sdnotify.watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_seconds({"WATCHDOG_USEC": "x"}) is None
    assert sdnotify.watchdog_seconds({}) is None


def test_heartbeat_says_ready_once_healthy_then_pings_while_healthy(
    abstract: tuple[Listener, dict[str, str]],
) -> None:
    listener, env = abstract
    healthy = threading.Event()
    checked = threading.Event()

    def probe() -> bool:
        checked.set()
        return healthy.is_set()

    heartbeat = sdnotify.Heartbeat(probe, {**env, "WATCHDOG_USEC": "100000"}, "serving")
    assert heartbeat.interval == 0.05
    with heartbeat:
        assert checked.wait(5)
        assert not heartbeat.ready.is_set()  # not ready while the server does not answer
        healthy.set()
        assert listener.next() == "READY=1\nSTATUS=serving"
        assert heartbeat.ready.wait(5)
        assert listener.next() == "WATCHDOG=1"
        assert listener.next() == "WATCHDOG=1"
    messages = []
    while (message := listener.next()) != "STOPPING=1":
        messages.append(message)
    assert set(messages) <= {"WATCHDOG=1"}


def test_heartbeat_does_nothing_outside_systemd() -> None:
    before = threading.active_count()
    with sdnotify.Heartbeat(lambda: True, {}) as heartbeat:
        assert not heartbeat.active
        assert threading.active_count() == before


def test_http_answers_needs_a_status_line() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    replies = [b"HTTP/1.1 302 FOUND\r\n\r\n", b"garbage"]

    def serve() -> None:
        for reply in replies:
            conn, _ = server.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(reply)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert sdnotify.http_answers("0.0.0.0", port, timeout=5)
        assert not sdnotify.http_answers("127.0.0.1", port, timeout=5)
    finally:
        thread.join(10)
        server.close()
    assert not sdnotify.http_answers("127.0.0.1", port, timeout=5)  # refused
