"""Downloading one file version into a ``.part`` file: resumable, size- and hash-checked.

An interrupted download keeps its ``.part``; the next attempt hashes what is there and
asks for the rest with ``Range`` (guarded by ``If-Range`` with the file's ETag, so a
station serving different bytes sends the whole file instead). Nothing reaches the
mirrored folder from here: the caller renames a part only after this returns, which is
only once its size and SHA-256 match the feed and it has been fsynced.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import threading
from pathlib import Path
from typing import BinaryIO

from station.collector.client import FileResponse, StationClient
from station.collector.durable import fsync_file, make_dirs
from station.collector.errors import HttpStatusError, StoppedError, TransferError
from station.core.models import FeedEvent

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def sha256_of(path: Path, limit: int | None = None) -> str:
    """SHA-256 of a file (or of its first ``limit`` bytes)."""
    return _hash_file(path, limit).hexdigest()


def _hash_file(path: Path, limit: int | None = None) -> hashlib._Hash:
    hasher = hashlib.sha256()
    remaining = limit
    with open(path, "rb") as handle:
        while remaining is None or remaining > 0:
            block = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not block:
                break
            hasher.update(block)
            if remaining is not None:
                remaining -= len(block)
    return hasher


def download(client: StationClient, event: FeedEvent, part: Path, stop: threading.Event) -> None:
    """Make ``part`` hold exactly the file of ``event``, verified and fsynced."""
    make_dirs(part.parent)
    try:
        _attempt(client, event, part, stop)
    except HttpStatusError as exc:
        if exc.status != 416:
            raise
        # The partial is longer than or unlike the file: start again from nothing.
        log.info("%s: range refused, downloading %s again", client.label, event.file)
        _truncate(part)
        _attempt(client, event, part, stop)


def _attempt(client: StationClient, event: FeedEvent, part: Path, stop: threading.Event) -> None:
    offset = part.stat().st_size if part.exists() else 0
    if offset > event.bytes:
        _truncate(part)
        offset = 0
    hasher = _hash_file(part) if offset else hashlib.sha256()
    if offset == event.bytes and offset:
        if hasher.hexdigest() == event.sha256:
            with open(part, "rb+") as handle:
                fsync_file(handle)
            return
        _truncate(part)
        offset, hasher = 0, hashlib.sha256()
    if offset:
        log.info("%s: resuming %s at byte %d of %d", client.label, event.file, offset, event.bytes)
    response = client.open_file(
        event.entry_id, event.version, offset=offset, etag=f'"{event.sha256}"'
    )
    complete = False
    try:
        start = _start_of(response, event, offset)
        if start == 0 and offset:
            log.info("%s: %s is sent whole, not resumed", client.label, event.file)
            hasher = hashlib.sha256()
        received = _receive(response, event, part, start, hasher, stop)
        complete = True
    finally:
        response.close(complete)
    if received != event.bytes:
        _truncate(part)
        raise TransferError(file=event.file, detail=f"{received} bytes, expected {event.bytes}")
    if hasher.hexdigest() != event.sha256:
        _truncate(part)
        raise TransferError(file=event.file, detail="SHA-256 does not match the feed")


def _start_of(response: FileResponse, event: FeedEvent, offset: int) -> int:
    """Where the body starts in the file; checks the station's own claims about it."""
    claimed = response.headers.get("X-Content-SHA256")
    if claimed is not None and claimed.strip().lower() != event.sha256:
        raise TransferError(
            file=event.file, detail="the station serves other content for this version"
        )
    if response.status == 200:
        return 0
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
    if not match or int(match[1]) != offset or int(match[3]) != event.bytes:
        raise TransferError(
            file=event.file,
            detail=f"unexpected Content-Range {response.headers.get('Content-Range')!r}",
        )
    return offset


def _receive(
    response: FileResponse,
    event: FeedEvent,
    part: Path,
    start: int,
    hasher: hashlib._Hash,
    stop: threading.Event,
) -> int:
    received = start
    buffer = memoryview(bytearray(CHUNK))
    with open(part, "ab", buffering=0) as handle:
        handle.truncate(start)
        while True:
            if stop.is_set():
                raise StoppedError()
            count = response.readinto(buffer)
            if not count:
                break
            received += count
            if received > event.bytes:
                handle.truncate(0)
                raise TransferError(file=event.file, detail="more bytes than the feed announced")
            block = buffer[:count]
            _write_all(handle, block)
            hasher.update(block)
        os.fsync(handle.fileno())
    return received


def _write_all(handle: BinaryIO, block: memoryview) -> None:
    """An unbuffered write may be partial: write until all of ``block`` is out."""
    while block:
        written = handle.write(block)
        block = block[written or 0 :]


def _truncate(part: Path) -> None:
    with contextlib.suppress(FileNotFoundError), open(part, "r+b") as handle:
        handle.truncate(0)
