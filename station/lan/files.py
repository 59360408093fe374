"""Serving one version of one entry's PDF: by entry id and version, never by path.

The file is opened first and checked against the version's SHA-256 before a byte is
sent, so a replacement landing between the lookup and the open is noticed (the entry
is then looked up again: the earlier version has moved to ``_versions``). A file's
hash is remembered by (device, inode, size, mtime): published files are never changed
in place, only replaced by a rename, so a remembered hash stays true, except for bit
rot, which changes none of these: a file the scrub (:mod:`station.store.scrub`) found
damaged is never served, whatever is remembered.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import BinaryIO

from flask import Request
from werkzeug.wrappers.response import Response
from werkzeug.wsgi import wrap_file

from station.core.models import EntryVersion
from station.lan.errors import LanError, bad_request, not_found
from station.store import Store
from station.store.record import version_of

log = logging.getLogger(__name__)

ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
CHUNK = 64 * 1024
REMEMBERED = 16384


#: Whether a published file (relative name, recorded SHA-256) is known to be damaged.
DamageCheck = Callable[[str, str], bool]


class Verifier:
    """Checks files against their SHA-256, remembering files already checked."""

    def __init__(self, damaged: DamageCheck = lambda file, sha256: False) -> None:
        self.damaged = damaged
        self._known: OrderedDict[tuple[int, int, int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def matches(self, handle: BinaryIO, sha256: str) -> bool:
        """Whether the open file's content has ``sha256`` (the file is left at 0)."""
        st = os.fstat(handle.fileno())
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            known = self._known.get(key)
        if known is None:
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(CHUNK), b""):
                digest.update(block)
            handle.seek(0)
            known = digest.hexdigest()
            with self._lock:
                self._known[key] = known
                while len(self._known) > REMEMBERED:
                    self._known.popitem(last=False)
        return known == sha256


def check_entry_id(entry_id: str) -> str:
    """Refuse anything that is not an entry id (no paths, dots first or odd bytes)."""
    if not ENTRY_ID.match(entry_id):
        raise bad_request("malformed entry id")
    return entry_id


def open_version(
    store: Store, entry_id: str, number: int, verifier: Verifier
) -> tuple[BinaryIO, EntryVersion]:
    """The open, verified file of version ``number`` of ``entry_id``, and the version."""
    check_entry_id(entry_id)
    for _attempt in range(3):
        entry = store.find_entry(entry_id)
        if entry is None:
            raise not_found("unknown_entry", entry=entry_id)
        version = version_of(entry, number)
        if version is None:
            raise not_found("unknown_version", entry=entry_id, version=number)
        try:
            handle = open(store.published_path(version.file), "rb")  # noqa: SIM115
        except FileNotFoundError:
            continue  # moved to _versions by a replacement just now: look again
        if verifier.damaged(version.file, version.sha256):
            handle.close()
            break
        if verifier.matches(handle, version.sha256):
            return handle, version
        handle.close()
    log.error("entry %s version %d: the file does not match its SHA-256", entry_id, number)
    raise LanError(500, "file_damaged", entry=entry_id, version=number)


def file_response(request: Request, handle: BinaryIO, version: EntryVersion) -> Response:
    """The file with its ETag and SHA-256; 304, 206 and 416 as the request asks."""
    etag = version.sha256
    if request.if_none_match.contains(etag):
        handle.close()
        response = Response(status=304)
        response.set_etag(etag)
        return response
    response = Response(
        wrap_file(request.environ, handle, buffer_size=CHUNK),
        mimetype="application/pdf",
        direct_passthrough=True,
    )
    response.set_etag(etag)
    response.headers["X-Content-SHA256"] = version.sha256
    response.headers["Content-Length"] = str(version.bytes)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers.set(
        "Content-Disposition", "attachment", filename=PurePosixPath(version.file).name
    )
    try:
        response.make_conditional(request, accept_ranges=True, complete_length=version.bytes)
    except Exception:
        response.close()
        raise
    return response
