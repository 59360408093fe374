"""The TLS front of the LAN listener: slow and idle clients cost memory, never a worker.

cheroot handshakes TLS in its accepting thread, so one idle socket stalls every new
connection for its timeout, and a worker waits byte by byte for a request's headers,
so a few slow clients hold every worker. The front faces the network instead: one
asyncio loop on its own thread accepts TCP, refuses an address that holds too many
connections, handshakes TLS within HANDSHAKE_TIMEOUT, reads each request's head within
HEAD_TIMEOUT of its first byte and its body at a minimum rate. Only then does the
request go on, whole, to cheroot on a unix socket, with the peer's address and the
listener's secret in PEER_HEADER (set by the front, stripped from what clients send). Answers
flow back unparsed. cheroot's workers thus only see requests that have arrived, and
idle keep-alive connections wait in cheroot's selector, not in a worker.

Request bodies need ``Content-Length`` (411 for ``Transfer-Encoding``): every client
of the station sends one, and a front that never parses chunked bodies cannot be
fooled into framing a request differently from cheroot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: The header carrying the client's address to the WSGI app (see ``server.py``).
PEER_HEADER = "X-Ledger-Station-Peer"
#: Seconds for a TLS handshake, from the accepted connection.
HANDSHAKE_TIMEOUT = 10.0
#: Seconds for a request's line and headers, from their first byte (from the
#: handshake for a connection's first request).
HEAD_TIMEOUT = 10.0
#: A request body must arrive at this many bytes a second, after BODY_GRACE seconds.
MIN_BODY_RATE = 32 * 1024
BODY_GRACE = 10.0
#: Seconds a client may take to accept a block of an answer before it is dropped.
WRITE_TIMEOUT = 60.0
#: Connections held at once by one address, and by everyone.
PER_ADDRESS = 32
MAX_CONNECTIONS = 512
#: Request line and headers, in all (cheroot's own limit is the same).
MAX_HEAD = 64 * 1024
BLOCK = 256 * 1024


class Refusal(Exception):
    """A request the front answers itself (and then closes the connection)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason

    def response(self) -> bytes:
        body = f"{self.status} {self.reason}\n".encode()
        head = (
            f"HTTP/1.1 {self.status} {self.reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode("latin-1") + body


@dataclass(frozen=True)
class Request:
    """A request's head as cheroot will receive it, and how long its body is."""

    head: bytes
    length: int


def rewrite_head(head: bytes, peer: str) -> Request:
    """``head`` (up to and with its blank line) with PEER_HEADER set to ``peer`` (the
    listener's secret and the client's address);
    raises :class:`Refusal` for what the front will not pass on."""
    lines = head[:-4].split(b"\r\n")
    ours = PEER_HEADER.lower().encode()
    kept, length = [lines[0]], None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in b" \t":
            raise Refusal(400, "Bad Request")
        key = name.lower().replace(b"_", b"-")  # WSGI reads "_" as "-"
        if key == ours:
            continue
        if key == b"transfer-encoding":
            raise Refusal(411, "Length Required")
        if key == b"content-length":
            text = value.strip()
            if not text.isdigit() or len(text) > 15 or (length is not None and length != text):
                raise Refusal(400, "Bad Request")
            length = text
        kept.append(line)
    kept.append(f"{PEER_HEADER}: {peer}".encode("latin-1"))
    return Request(b"\r\n".join(kept) + b"\r\n\r\n", int(length or 0))


class TlsFront:
    """Accepts TLS on ``host:port`` and passes whole requests to ``backend`` (a unix
    socket's address; a leading NUL makes it abstract)."""

    def __init__(
        self, host: str, port: int, context: ssl.SSLContext, backend: str, secret: str
    ) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.backend = backend
        self._secret = secret
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: Counter[str] = Counter()

    def start(self) -> int:
        """Bind and serve on a thread; returns the port. Raises OSError when busy."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server(
            (self.host, self.port), family=family, backlog=128, dualstack_ipv6=self.host == "::"
        )
        sock.setblocking(False)
        self.port = int(sock.getsockname()[1])
        loop = asyncio.new_event_loop()
        self._tasks.add(loop.create_task(self._accept(sock)))
        self._loop, self._socket = loop, sock
        self._thread = threading.Thread(target=loop.run_forever, name="lan-front", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop accepting, drop the connections, end the thread."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        loop.close()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, address = await loop.sock_accept(listener)
            except OSError as exc:  # out of descriptors, say: the next one may do
                log.warning("accepting a connection failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            peer = str(address[0])
            if self._held[peer] >= PER_ADDRESS or self._held.total() >= MAX_CONNECTIONS:
                log.debug("refused a connection from %s: too many held", peer)
                conn.close()
                continue
            self._held[peer] += 1
            task = loop.create_task(self._serve(conn, peer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- one connection -----------------------------------------------------------

    async def _serve(self, conn: socket.socket, peer: str) -> None:
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await self._handshake(conn)
            await self._converse(reader, writer, peer)
        except (OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError) as exc:
            log.debug("connection from %s ended: %r", peer, exc)
        except asyncio.LimitOverrunError:
            log.debug("connection from %s sent headers over %d bytes", peer, MAX_HEAD)
        except Exception:  # a bug here must not take the listener down
            log.exception("unexpected error on a connection from %s", peer)
        finally:
            self._held[peer] -= 1
            if self._held[peer] <= 0:
                del self._held[peer]
            if writer is not None:
                await _close(writer)
            conn.close()

    async def _handshake(
        self, conn: socket.socket
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """TLS on the accepted socket, within HANDSHAKE_TIMEOUT; streams over it."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_HEAD, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        transport, _ = await loop.connect_accepted_socket(
            lambda: protocol, conn, ssl=self.context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        backend: asyncio.StreamWriter | None = None
        pump: asyncio.Task[None] | None = None
        try:
            while True:
                head = await self._read_head(reader, first=backend is None)
                if head is None:  # the client is done: let the last answer through
                    if backend is not None and pump is not None:
                        backend.write_eof()
                        await asyncio.wait_for(asyncio.shield(pump), WRITE_TIMEOUT)
                    return
                try:
                    request = rewrite_head(head, f"{self._secret} {peer}")
                except Refusal as refusal:
                    if backend is None:  # nothing of the backend's on the wire yet
                        writer.write(refusal.response())
                        await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
                    return
                if backend is None:
                    answers, backend = await asyncio.open_unix_connection(self.backend)
                    pump = asyncio.create_task(self._pump(answers, writer))
                backend.write(request.head)
                await self._forward_body(reader, backend, request.length)
        finally:
            if backend is not None:
                backend.close()
            if pump is not None:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)

    async def _read_head(self, reader: asyncio.StreamReader, first: bool) -> bytes | None:
        """The next request's line and headers; None at a clean end of the connection.

        The first request must come within HEAD_TIMEOUT; later ones may wait while the
        connection is kept alive (cheroot closes idle ones, which ends the pump and this
        connection), but once begun, a head has HEAD_TIMEOUT to arrive."""
        wait = HEAD_TIMEOUT if first else None
        start = await asyncio.wait_for(reader.read(1), wait)
        if not start:
            return None
        rest = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        return start + rest

    async def _forward_body(
        self, reader: asyncio.StreamReader, backend: asyncio.StreamWriter, length: int
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BODY_GRACE + length / MIN_BODY_RATE
        while length > 0:
            block = await asyncio.wait_for(
                reader.read(min(length, BLOCK)), max(0.0, deadline - loop.time())
            )
            if not block:
                raise asyncio.IncompleteReadError(block, length)
            backend.write(block)
            await backend.drain()
            length -= len(block)

    async def _pump(self, answers: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """cheroot's answers to the client, as they come; closes the client at their end."""
        try:
            while block := await answers.read(BLOCK):
                writer.write(block)
                await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.debug("answer to a client cut short: %r", exc)
        finally:
            writer.close()  # flushes what is left, then ends the client's connection


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close gracefully (the end of the last answer goes out), then for good."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 2.0)
    except asyncio.CancelledError:
        _abort(writer)
        raise
    except Exception:  # timed out, or the connection broke: drop it
        _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):  # sslproto's abort fails once it is closed
        writer.transport.abort()
