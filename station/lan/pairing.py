"""Pairing entry PCs with the station, in the manner of OctoPrint's application keys.

1. A collector asks with its name (``POST /api/v1/pair``); it gets an opaque request
   id, a 6-digit code, which it shows on its screen, and a secret, answered to it
   alone (the station keeps the secret's SHA-256).
2. The touch screen lists the request with the same name and code; a staff member
   approves (or denies) it there, or a technician runs ``station pairing approve``.
3. The collector polls its request with the secret (header ``X-Pairing-Secret``). The
   first such poll after approval creates its token and answers it, once: the station
   keeps only the token's SHA-256, so a lost answer means pairing again. Later polls
   answer ``collected``. A poll without the secret, or with another one, is told the
   request does not exist (404) and changes nothing, so another host on the LAN that
   learnt the id cannot take the token.

Tokens are 256 random bits, so an unsalted SHA-256 is as good as a password hash
here; they are compared with :func:`hmac.compare_digest`. A revoked collector's token
stops working at the next request, also when another process (the CLI) revoked it.
Requests are limited per client address (five a minute, two pending: a third replaces
the address's oldest) and expire after ten minutes; the global cap on pending requests
only bounds memory, so a few hosts cannot block everyone's pairing. Request ids,
codes and secrets never go to the log: it names a request by a short label, a hash
of its id that opens nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinydb import TinyDB, where

from station.core.models import utc_now
from station.lan.db import PAIRING, LanDB
from station.lan.errors import LanError, bad_request, not_found
from station.lan.ratelimit import RateLimit

log = logging.getLogger(__name__)

REQUEST_TTL = 600  # seconds a request waits for approval, and then for its poll
MAX_PENDING = 200  # requests waiting at once, whatever their addresses (a memory bound)
PENDING_PER_ADDRESS = 2  # a third request from one address replaces its oldest
RATE_LIMIT = 5  # pairing requests per client address...
RATE_WINDOW = 60.0  # ...per this many seconds
MAX_NAME = 64
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
COLLECTOR_ID = re.compile(r"^pc-[0-9a-f]{12}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
CODE = re.compile(r"^[0-9]{6}$")
#: The header a collector shows its pairing secret in when polling.
PAIRING_SECRET_HEADER = "X-Pairing-Secret"
SECRET = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


@dataclass
class PairRequest:
    """One collector's request to pair, while it waits and until it is answered."""

    id: str
    name: str
    code: str
    ip: str
    created_at: str
    expires: float  # wall-clock seconds (shared with the CLI process)
    status: str = "pending"  # pending, approved, denied, collected
    collector_id: str = ""
    decided_at: str = ""
    secret_hash: str = ""  # SHA-256 of the secret only the requester was told

    @property
    def label(self) -> str:
        """A short name for the log, which cannot be used to poll the request."""
        return request_label(self.id)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public(self) -> dict[str, Any]:
        """What the UI and the CLI show (never the secret's hash)."""
        data = self.to_dict()
        del data["secret_hash"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairRequest:
        return cls(**data)


@dataclass(frozen=True)
class NewRequest:
    """A request just made, with the secret its requester must show to poll it."""

    request: PairRequest
    secret: str


@dataclass
class Collector:
    """A paired entry PC: its name and the hash of its token."""

    id: str
    name: str
    token_hash: str
    ip: str = ""
    paired_at: str = ""
    revoked_at: str = ""  # "" while the token works
    request_id: str = ""

    @property
    def active(self) -> bool:
        return not self.revoked_at

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public(self) -> dict[str, Any]:
        """What the UI and the CLI show (never the token hash)."""
        data = self.to_dict()
        del data["token_hash"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Collector:
        return cls(**data)


def hash_token(token: str) -> str:
    """What the station stores of a token (and of a pairing secret)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def request_label(request_id: str) -> str:
    """The log's name for a request: 8 hex digits of a hash of its id."""
    return hashlib.sha256(request_id.encode("utf-8")).hexdigest()[:8]


def clean_name(value: Any) -> str:
    """A collector's name as given: text of 1-64 characters, no control characters."""
    if not isinstance(value, str):
        raise bad_request("'name' must be a text")
    name = unicodedata.normalize("NFC", value.strip())
    if not 1 <= len(name) <= MAX_NAME:
        raise bad_request(f"'name' must have 1 to {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise bad_request("'name' must not contain control characters")
    return name


class Pairing:
    """Requests, approvals, tokens and revocations, kept in ``pairing.json``."""

    def __init__(self, db: LanDB, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock
        self.limit = RateLimit(RATE_LIMIT, RATE_WINDOW)
        self._seen: dict[str, tuple[str, str]] = {}  # collector id -> (time, address)
        self._seen_lock = threading.Lock()
        self._probed: set[str] = set()  # requests polled without their secret, warned once

    # -- the collector's side -----------------------------------------------------

    def request(self, name: Any, ip: str) -> NewRequest:
        """Record a new request from ``ip`` (rate limited); raises LanError 429."""
        clean = clean_name(name)
        wait = self.limit.hit(ip or "?")
        if wait:
            raise LanError(429, "rate_limited", seconds=wait)
        now = self._clock()
        secret = secrets.token_urlsafe(32)
        request = PairRequest(
            # A leading letter: a random id starting with "-" read as an option on the
            # command line (`station pairing approve <id>`).
            id="r" + secrets.token_urlsafe(18),
            name=clean,
            code=f"{secrets.randbelow(1_000_000):06d}",
            ip=ip,
            created_at=utc_now(),
            expires=now + REQUEST_TTL,
            secret_hash=hash_token(secret),
        )
        with self.db.session() as db:
            table = _purged(db, now)
            _make_room(table, ip)
            table.insert(request.to_dict())
        log.info("pairing request %s from %s (%s)", request.label, clean, ip)
        return NewRequest(request, secret)

    def poll(self, request_id: str, secret: str) -> dict[str, Any]:
        """The answer to a collector polling its request (the token comes once).

        Only the requester's ``secret`` opens the request: without it, the request is
        unknown (404) and nothing changes."""
        if not REQUEST_ID.match(request_id):
            raise not_found("unknown_request", request=request_id[:64])
        now = self._clock()
        with self.db.session() as db:
            table = _purged(db, now)
            request = _find(table, request_id)
            if not _secret_matches(request, secret):
                self._warn_probe(request)
                raise not_found("unknown_request", request=request_id)
            if request.status != "approved":
                return {"status": request.status}
            token = secrets.token_urlsafe(32)
            collector = Collector(
                id=request.collector_id,
                name=request.name,
                token_hash=hash_token(token),
                ip=request.ip,
                paired_at=utc_now(),
                request_id=request.id,
            )
            db.table("collectors").insert(collector.to_dict())
            table.update({"status": "collected"}, where("id") == request.id)
        log.info("collector %s (%s) received its token", collector.id, collector.name)
        return {"status": "approved", "token": token, "collector_id": collector.id}

    def _warn_probe(self, request: PairRequest) -> None:
        """Say once per request that someone polls it without its secret (a host on
        the LAN that learnt its id); a loop of such polls must not flood the log."""
        with self._seen_lock:
            first = request.id not in self._probed
            if len(self._probed) >= MAX_PENDING:
                self._probed.clear()
            self._probed.add(request.id)
        if first:
            log.warning(
                "pairing request %s (%s) polled without its secret", request.label, request.name
            )

    # -- the staff's side ---------------------------------------------------------

    def approve(self, ref: str) -> PairRequest:
        """Approve a pending request, named by its id or its 6-digit code."""
        return self._decide(ref, "approved")

    def deny(self, ref: str) -> PairRequest:
        """Deny a pending request, named by its id or its 6-digit code."""
        return self._decide(ref, "denied")

    def _decide(self, ref: str, status: str) -> PairRequest:
        now = self._clock()
        with self.db.session() as db:
            table = _purged(db, now)
            request = _pending(table, ref.strip())
            changes: dict[str, Any] = {"status": status, "decided_at": utc_now()}
            if status == "approved":
                changes["collector_id"] = f"pc-{secrets.token_hex(6)}"
                changes["expires"] = now + REQUEST_TTL  # time left to fetch the token
            table.update(changes, where("id") == request.id)
        log.info("pairing request %s (%s) %s", request.label, request.name, status)
        return dataclasses.replace(request, **changes)

    def revoke(self, collector_id: str) -> Collector:
        """Withdraw a collector's token; it fails from the next request on."""
        with self.db.session() as db:
            table = db.table("collectors")
            docs = table.search(where("id") == collector_id)
            if not docs:
                raise not_found("unknown_collector", collector=collector_id[:64])
            collector = Collector.from_dict(dict(docs[0]))
            if collector.active:
                collector.revoked_at = utc_now()
                table.update({"revoked_at": collector.revoked_at}, where("id") == collector_id)
        log.info("collector %s (%s) revoked", collector.id, collector.name)
        return collector

    def pending(self) -> list[PairRequest]:
        """Requests waiting for a decision, oldest first."""
        now = self._clock()
        docs = self.db.snapshot(PAIRING).get("requests", {}).values()
        requests = [PairRequest.from_dict(dict(d)) for d in docs]
        return sorted(
            (r for r in requests if r.status == "pending" and r.expires > now),
            key=lambda r: r.created_at,
        )

    def expires_in(self, request: PairRequest) -> float:
        """Seconds until ``request`` expires."""
        return max(0.0, request.expires - self._clock())

    def collectors(self, include_revoked: bool = False) -> list[Collector]:
        """Paired collectors in the order they paired."""
        docs = self.db.snapshot(PAIRING).get("collectors", {}).values()
        found = [Collector.from_dict(dict(d)) for d in docs]
        return [c for c in found if include_revoked or c.active]

    # -- the request path ---------------------------------------------------------

    def authenticate(self, token: str) -> Collector | None:
        """The active collector holding ``token``, or None."""
        if not TOKEN.match(token):
            return None
        digest = hash_token(token)
        match = None
        for collector in self.collectors():
            if hmac.compare_digest(digest, collector.token_hash):
                match = collector
        return match

    def saw(self, collector: Collector, ip: str) -> None:
        """Remember when a collector was last heard from (memory only: no disk wear)."""
        with self._seen_lock:
            self._seen[collector.id] = (utc_now(), ip)

    def last_seen(self, collector_id: str) -> tuple[str, str]:
        """(time, address) of the collector's last request since start, or empty."""
        with self._seen_lock:
            return self._seen.get(collector_id, ("", ""))


def _purged(db: TinyDB, now: float) -> Any:
    """The requests table without expired requests (removed for good)."""
    table = db.table("requests")
    expired = where("expires") <= now
    if table.search(expired):  # every write rewrites the file: only when needed
        table.remove(expired)
    return table


def _make_room(table: Any, ip: str) -> None:
    """Room for one more pending request from ``ip``: its oldest beyond the per-address
    cap is dropped; raises LanError 429 when the station holds MAX_PENDING in all."""
    pending = [PairRequest.from_dict(dict(d)) for d in table.search(where("status") == "pending")]
    mine = sorted((r for r in pending if r.ip == ip), key=lambda r: r.created_at)
    replaced = mine[: max(0, len(mine) - PENDING_PER_ADDRESS + 1)]
    if len(pending) - len(replaced) >= MAX_PENDING:
        raise LanError(429, "too_many_pending", seconds=REQUEST_TTL)
    for old in replaced:
        table.remove(where("id") == old.id)
        log.info("pairing request %s replaced by a newer one from %s", old.label, ip)


def _secret_matches(request: PairRequest, secret: str) -> bool:
    if not request.secret_hash or not SECRET.match(secret):
        return False
    return hmac.compare_digest(hash_token(secret), request.secret_hash)


def _find(table: Any, request_id: str) -> PairRequest:
    docs = table.search(where("id") == request_id)
    if not docs:
        raise not_found("unknown_request", request=request_id)
    return PairRequest.from_dict(dict(docs[0]))


def _pending(table: Any, ref: str) -> PairRequest:
    """The pending request with id ``ref``, or the only one whose code is ``ref``."""
    if CODE.match(ref):
        docs = table.search((where("code") == ref) & (where("status") == "pending"))
        if len(docs) > 1:
            raise LanError(409, "ambiguous_code", code=ref)
        if docs:
            return PairRequest.from_dict(dict(docs[0]))
    if not REQUEST_ID.match(ref):
        raise not_found("unknown_request", request=ref[:64])
    request = _find(table, ref)
    if request.status != "pending":
        raise LanError(409, "not_pending", request=ref, status=request.status)
    return request
