"""The LAN listener's TLS front: idle and slow clients hold no worker, heads arrive in
time or not at all, one address holds a bounded number of connections, only modern
TLS, and clients cannot claim another address.

Against the real listener (front + cheroot on its unix socket) on loopback with two
workers and a small WSGI app that echoes what it saw.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from station.lan import front
from station.lan.front import PEER_HEADER, Refusal, rewrite_head
from station.lan.server import TlsListener
from station.lan.tls import Certificate, ensure_certificate

BIG = 3 * 1024 * 1024 + 17


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Length", str(BIG))])
        return [bytes(range(256)) * (BIG // 256) + b"x" * (BIG % 256)]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {
        "peer": environ["REMOTE_ADDR"],
        "scheme": environ["wsgi.url_scheme"],
        "claimed": environ.get("HTTP_" + PEER_HEADER.upper().replace("-", "_")),
        "body": environ["wsgi.input"].read(length).decode(),
    }
    body = json.dumps(seen).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return ensure_certificate(tmp_path / "tls", "st-0123456789ab", ["localhost"], ["127.0.0.1"])


@pytest.fixture
def listener(certificate: Certificate) -> Iterator[TlsListener]:
    served = TlsListener(echo, "127.0.0.1", 0, 2, certificate)  # type: ignore[arg-type]
    served.start()
    try:
        yield served
    finally:
        served.stop()


def client_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=certificate.cert_path.read_text())
    context.check_hostname = False
    return context


def get(listener: TlsListener, certificate: Certificate, path: str = "/", **kw: Any) -> Any:
    conn = http.client.HTTPSConnection(
        "127.0.0.1", listener.port, context=client_context(certificate), timeout=5
    )
    try:
        conn.request(kw.pop("method", "GET"), path, **kw)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def tls_socket(listener: TlsListener, certificate: Certificate) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", listener.port), timeout=5)
    return client_context(certificate).wrap_socket(raw)


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Whether the station ends the connection within ``timeout`` (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """The front's bookkeeping changes on its own thread: look every 10 ms."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_idle_sockets_and_slow_headers_hold_no_worker(
    listener: TlsListener, certificate: Certificate
) -> None:
    with ExitStack() as held:
        for _ in range(10):  # TCP only: no TLS hello (cheroot handshook in its accept thread)
            held.enter_context(socket.create_connection(("127.0.0.1", listener.port)))
        for _ in range(10):  # slowloris: a head begun and never finished (2 workers)
            slow = held.enter_context(tls_socket(listener, certificate))
            slow.sendall(b"GET / HTTP/1.1\r\nHost: station\r\nX-Slow: 1\r\n")
        started = time.monotonic()
        for _ in range(10):
            status, body = get(listener, certificate, "/")
            assert status == 200 and json.loads(body)["peer"] == "127.0.0.1"
        # Well inside the head and handshake timeouts (10 s) the held sockets would cost.
        assert time.monotonic() - started < front.HEAD_TIMEOUT / 2


def test_heads_and_handshakes_have_deadlines(
    listener: TlsListener, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(front, "HEAD_TIMEOUT", 0.3)
    monkeypatch.setattr(front, "HANDSHAKE_TIMEOUT", 0.3)
    with tls_socket(listener, certificate) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: station\r\n")
        assert closed_by_peer(slow)
    with tls_socket(listener, certificate) as silent:  # handshook, never asks
        assert closed_by_peer(silent)
    with socket.create_connection(("127.0.0.1", listener.port)) as idle:
        assert closed_by_peer(idle)


def test_one_address_holds_a_bounded_number_of_connections(
    listener: TlsListener, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(front, "PER_ADDRESS", 3)
    with ExitStack() as held:
        idle = [held.enter_context(socket.create_connection(("127.0.0.1", listener.port)))]
        idle += [held.enter_context(socket.create_connection(("127.0.0.1", listener.port)))]
        idle += [held.enter_context(socket.create_connection(("127.0.0.1", listener.port)))]
        # Accepted in order: the fourth finds the address's three places taken.
        with socket.create_connection(("127.0.0.1", listener.port)) as fourth:
            assert closed_by_peer(fourth)
    assert listener._front is not None
    wait_until(lambda: listener._front is not None and not listener._front._held)
    assert get(listener, certificate, "/")[0] == 200


def test_keep_alive_bodies_and_large_answers_pass_through_whole(
    listener: TlsListener, certificate: Certificate
) -> None:
    conn = http.client.HTTPSConnection(
        "127.0.0.1", listener.port, context=client_context(certificate), timeout=10
    )
    try:
        for number in range(3):
            body = json.dumps({"n": number, "text": "Trạm" * 2000})
            conn.request("POST", "/", body=body, headers={PEER_HEADER: "192.0.2.9"})
            seen = json.loads(conn.getresponse().read())
            assert seen == {"peer": "127.0.0.1", "scheme": "https", "claimed": None, "body": body}
        conn.request("GET", "/big")
        data = conn.getresponse().read()
        assert len(data) == BIG and data[:256] == bytes(range(256))
    finally:
        conn.close()


def test_chunked_bodies_are_refused_with_411(
    listener: TlsListener, certificate: Certificate
) -> None:
    with tls_socket(listener, certificate) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 411 ")


@pytest.mark.parametrize(
    ("version", "ciphers", "works"),
    [
        (ssl.TLSVersion.TLSv1_3, None, True),
        (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256", True),
        (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-CHACHA20-POLY1305", True),
        (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA", False),
        (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA256", False),
    ],
)
def test_only_tls_1_2_with_ecdhe_and_aead_or_tls_1_3(
    listener: TlsListener,
    certificate: Certificate,
    version: ssl.TLSVersion,
    ciphers: str | None,
    works: bool,
) -> None:
    context = client_context(certificate)
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    raw = socket.create_connection(("127.0.0.1", listener.port), timeout=5)
    try:
        if works:
            with context.wrap_socket(raw) as sock:
                assert sock.version() == version.name.replace("_", ".")
        else:
            with pytest.raises(ssl.SSLError):
                context.wrap_socket(raw)
    finally:
        raw.close()


def test_clients_cannot_claim_another_address() -> None:
    head = (
        b"GET /status HTTP/1.1\r\nHost: s\r\nX-Ledger-Station-Peer: 127.0.0.1\r\n"
        b"x_ledger_station_peer: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    )
    rewritten = rewrite_head(head, "192.0.2.7")
    assert rewritten.length == 0
    lines = rewritten.head.lower().split(b"\r\n")
    assert [line for line in lines if b"peer" in line] == [b"x-ledger-station-peer: 192.0.2.7"]


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length : 3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: s\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
    ],
)
def test_ambiguous_heads_are_refused(head: bytes, status: int) -> None:
    with pytest.raises(Refusal) as refused:
        rewrite_head(head, "192.0.2.7")
    assert refused.value.status == status


def test_a_local_process_bypassing_the_front_is_nobody(listener: TlsListener) -> None:
    # The backend's abstract socket is visible in /proc/net/unix; without the listener's
    # secret, whatever address it claims, the app sees an unknown peer, never loopback.
    assert listener._front is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(listener._front.backend)
        for claim in ("127.0.0.1", "guess 127.0.0.1"):
            sock.sendall(f"GET / HTTP/1.1\r\nHost: s\r\n{PEER_HEADER}: {claim}\r\n\r\n".encode())
            answer = b""
            while not answer.endswith(b"}"):
                answer += sock.recv(4096)
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["peer"] == ""
