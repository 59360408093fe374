"""Phones paired by QR code: a phone's browser sends page photos into the open book.

1. The station's own screen (or an admin) asks for an :class:`Offer`: a random
   one-time code, good for :data:`CODE_TTL` seconds, which the screen shows as a QR
   code holding the station's LAN address.
2. A phone opening that address claims the code (:meth:`PhonePairing.claim`): the code
   is spent, and the phone gets a session token (kept in its browser) and a short
   code to compare, shown on both screens. Its session is *pending*.
3. The station's own screen (or an admin) confirms or refuses it. A confirmed phone
   may upload until its session ends (:data:`SESSION_HOURS`) or is revoked.

Codes and tokens are random (128 and 256 bits) and compared with
:func:`hmac.compare_digest`; only a token's SHA-256 is kept, in ``db/phones.json``
(written atomically), so paired phones survive a restart of the station while the
file holds nothing a thief could replay. Offers live in memory only: a restart ends
them, which costs a new QR code at most.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import AuthError, ConflictError, NotFoundError, StationError
from station.core.fsutil import write_atomic
from station.core.messages import N_
from station.core.printable import printable

log = logging.getLogger(__name__)

CODE_TTL = 600  # seconds a QR code may be claimed
REQUEST_TTL = 600  # seconds a claimed code waits for the screen's answer
#: How long a confirmed phone may send photos: a working day, so a phone left paired
#: overnight (lost, lent) needs the QR code again in the morning.
SESSION_HOURS = 12
MAX_OFFERS = 8  # live QR codes at once (each open QR screen holds one)
MAX_PENDING = 10  # phones waiting for an answer at once
KEEP_SPENT = 3600  # seconds a spent or expired code is remembered, to say so
COMPARE_DIGITS = 4

PENDING, ACTIVE, REFUSED, REVOKED = "pending", "active", "refused", "revoked"


class CodeGoneError(StationError):
    """A QR code that was already used or has expired (410: scan a new one)."""

    exit_code = 77
    default_key = N_("phone.code_expired")
    http_status = 410


@dataclass
class Offer:
    """One QR code: claimable once, until ``expires`` (clock seconds)."""

    code: str
    expires: float
    spent: bool = False


@dataclass
class Phone:
    """One phone's session: pending, then active (or refused), until revoked or over."""

    id: str  # names the phone in the screen's forms (never its token)
    name: str  # a short number, for people: "phone:<name>" is the capture's device
    token_hash: str
    ip: str
    compare: str  # the short code both screens show
    status: str
    created: float
    expires: float  # pending: the answer's deadline; active: the session's end
    confirmed: float = 0.0
    revoked: float = 0.0

    @property
    def device(self) -> str:
        """What a capture from this phone records as its device."""
        return f"phone:{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def public(self) -> dict[str, Any]:
        """What the screens show (never the token's hash)."""
        data = self.to_dict()
        del data["token_hash"]
        data["device"] = self.device
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Phone:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


def hash_token(token: str) -> str:
    """What the station keeps of a phone's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PhonePairing:
    """Offers (QR codes), phones' sessions and their answers; thread-safe."""

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        """``path`` keeps the phones across restarts (None: memory only); ``clock``
        gives seconds (tests pass their own)."""
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._offers: list[Offer] = []
        self._phones: dict[str, Phone] = {}
        self._counter = 0
        #: Called (without arguments) after every change, outside the lock.
        self.on_change: Callable[[], None] | None = None
        self._load()

    # -- the QR code -----------------------------------------------------------
    def offer(self) -> Offer:
        """A new one-time code; the oldest live one goes when too many are out."""
        now = self._clock()
        offer = Offer(secrets.token_urlsafe(16), now + CODE_TTL)
        with self._lock:
            self._purge(now)
            live = [o for o in self._offers if not o.spent and o.expires > now]
            if len(live) >= MAX_OFFERS:
                self._offers.remove(live[0])
            self._offers.append(offer)
        return offer

    def code_state(self, code: str) -> str:
        """``live``, ``spent``, ``expired`` or ``unknown`` (nothing is spent)."""
        now = self._clock()
        with self._lock:
            offer = self._find_offer(code)
            if offer is None:
                return "unknown"
            if offer.spent:
                return "spent"
            return "live" if offer.expires > now else "expired"

    def check_code(self, code: str) -> None:
        """Raise the error a phone gets for ``code`` unless it is live."""
        state = self.code_state(code)
        if state == "unknown":
            raise NotFoundError("phone.code_unknown")
        if state == "spent":
            raise CodeGoneError(N_("phone.code_spent"))
        if state == "expired":
            raise CodeGoneError(N_("phone.code_expired"))

    # -- the phone's side -------------------------------------------------------
    def claim(self, code: str, ip: str) -> tuple[Phone, str]:
        """Spend ``code`` for the phone at ``ip``: its pending session and its token."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            offer = self._find_offer(code)
            if offer is None:
                raise NotFoundError("phone.code_unknown")
            if offer.spent:
                raise CodeGoneError(N_("phone.code_spent"))
            if offer.expires <= now:
                raise CodeGoneError(N_("phone.code_expired"))
            if sum(p.status == PENDING for p in self._phones.values()) >= MAX_PENDING:
                raise ConflictError("phone.too_many_waiting")
            offer.spent = True
            token = secrets.token_urlsafe(32)
            self._counter += 1
            phone = Phone(
                id="p" + secrets.token_hex(8),
                name=str(self._counter),
                token_hash=hash_token(token),
                ip=ip,
                compare=f"{secrets.randbelow(10**COMPARE_DIGITS):0{COMPARE_DIGITS}d}",
                status=PENDING,
                created=now,
                expires=now + REQUEST_TTL,
            )
            self._phones[phone.id] = phone
            self._save()
        name = printable(phone.name)
        log.info("phone %s at %s asks to send photos, code %s", name, ip, phone.compare)
        self._changed()
        return phone, token

    def session(self, token: str) -> Phone | None:
        """The phone holding ``token`` in whatever state, or None."""
        if not token:
            return None
        wanted = hash_token(token)
        now = self._clock()
        with self._lock:
            self._purge(now)
            for phone in self._phones.values():
                if hmac.compare_digest(phone.token_hash, wanted):
                    return dataclasses.replace(phone)
        return None

    def check(self, token: str) -> Phone:
        """The confirmed phone holding ``token``; AuthError saying what to do otherwise."""
        phone = self.session(token)
        if phone is None:
            raise AuthError("phone.not_paired")
        now = self._clock()
        if phone.status == REVOKED:
            raise AuthError("phone.revoked")
        if phone.status == REFUSED:
            raise AuthError("phone.refused")
        if phone.expires <= now:
            raise AuthError("phone.session_over")
        if phone.status == PENDING:
            raise AuthError("phone.not_confirmed")
        return phone

    # -- the station's side -----------------------------------------------------
    def confirm(self, phone_id: str) -> Phone:
        """Let a pending phone send photos for :data:`SESSION_HOURS`."""
        return self._answer(phone_id, ACTIVE)

    def refuse(self, phone_id: str) -> Phone:
        """Turn a pending phone away (it must scan a new code to ask again)."""
        return self._answer(phone_id, REFUSED)

    def revoke(self, phone_id: str) -> Phone:
        """End a confirmed phone's session at once: its next photo is refused."""
        now = self._clock()
        with self._lock:
            phone = self._phones.get(phone_id)
            if phone is None or phone.status != ACTIVE:
                raise NotFoundError("phone.unknown")
            phone.status, phone.revoked = REVOKED, now
            self._save()
            done = dataclasses.replace(phone)
        log.info("phone %s (%s) revoked", printable(done.name), done.ip)
        self._changed()
        return done

    def pending(self) -> list[Phone]:
        """Phones waiting for the screen's answer, oldest first."""
        return self._listed(PENDING)

    def paired(self) -> list[Phone]:
        """Phones that may send photos now, oldest first."""
        return self._listed(ACTIVE)

    # -- inside -----------------------------------------------------------------
    def _answer(self, phone_id: str, status: str) -> Phone:
        now = self._clock()
        with self._lock:
            self._purge(now)
            phone = self._phones.get(phone_id)
            if phone is None or phone.status != PENDING or phone.expires <= now:
                raise NotFoundError("phone.unknown")
            phone.status = status
            if status == ACTIVE:
                phone.confirmed, phone.expires = now, now + SESSION_HOURS * 3600
            self._save()
            done = dataclasses.replace(phone)
        log.info("phone %s (%s): %s", printable(done.name), done.ip, status)
        self._changed()
        return done

    def _listed(self, status: str) -> list[Phone]:
        now = self._clock()
        with self._lock:
            self._purge(now)
            found = [dataclasses.replace(p) for p in self._phones.values() if p.status == status]
        return sorted((p for p in found if p.expires > now), key=lambda p: p.created)

    def _find_offer(self, code: str) -> Offer | None:
        # Every offer is compared, so the time taken says nothing about which matched.
        found = None
        for offer in self._offers:
            if hmac.compare_digest(offer.code.encode(), code.encode("utf-8", "replace")):
                found = offer
        return found

    def _purge(self, now: float) -> None:
        """Forget offers and sessions long over (called with the lock held)."""
        self._offers = [o for o in self._offers if o.expires + KEEP_SPENT > now]
        over = [k for k, p in self._phones.items() if p.expires + KEEP_SPENT <= now]
        for key in over:
            del self._phones[key]
        if over:
            self._save()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            phones = [Phone.from_dict(item) for item in data.get("phones", [])]
            self._counter = int(data.get("counter", 0))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Losing the list only means pairing the phones again; never worth a crash.
            log.warning("%s is unreadable (%s): no phone is paired", self.path, exc)
            return
        self._phones = {p.id: p for p in phones}

    def _save(self) -> None:
        if self.path is None:
            return
        data = {"counter": self._counter, "phones": [p.to_dict() for p in self._phones.values()]}
        write_atomic(self.path, json.dumps(data, indent=1).encode("utf-8"))
