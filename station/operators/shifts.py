"""Operators, their PINs, shifts with handover notes, and the admin PIN.

Scanning needs no password, but each operator signs in to a shift with a PIN so the
station records who captured what (DESIGN.md, security model). PINs are 4 to 8
digits, stored only as salted scrypt hashes (:func:`hash_pin`). Wrong PINs are
rate-limited per operator (and for the admin PIN): after :data:`MAX_TRIES` wrong
tries, that sign-in is refused for :data:`LOCK_SECONDS`.

Operators and shifts live in the station database (``db/station.json``) through the
store. The shift in progress survives a restart of the station; starting a shift
while another runs ends that one first (the operator walked away).
"""

from __future__ import annotations

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

from station.core.errors import AuthError, ConflictError, LockedOutError, NotFoundError, UsageError
from station.core.events import EventBus
from station.core.models import Operator, Shift, new_id, utc_now
from station.store import Store

log = logging.getLogger(__name__)


PIN = re.compile(r"^[0-9]{4,8}$")
MAX_TRIES = 5
LOCK_SECONDS = 60.0
NAME_LIMIT = 60
NOTE_LIMIT = 2000
ADMIN_KEY = "admin_pin_hash"
#: Station setting: PIN locks still running, {key: wall-clock end}, kept through restarts.
PIN_LOCKS = "pin_locks"
#: The client name of the station's own screen in lock keys.
LOCAL = "local"
#: Clients whose wrong PINs are counted at once (the oldest is forgotten beyond).
MAX_COUNTED = 1000
# scrypt cost: 16 MiB and ~0.1 s on a Raspberry Pi 4 per check; PINs are short, so the
# rate limit, not the hash, is what stops guessing on the touch screen.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def check_pin(pin: Any) -> str:
    """A PIN of 4 to 8 digits, or UsageError."""
    if not isinstance(pin, str) or not PIN.match(pin):
        raise UsageError("shift.bad_pin")
    return pin


def hash_pin(pin: str) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>`` for a valid PIN."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        check_pin(pin).encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches a hash made by :func:`hash_pin` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        log.error("a stored PIN hash is malformed")
        return False
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


@dataclass(frozen=True)
class OperatorView:
    """An operator as the UI sees it (never the PIN hash)."""

    id: str
    name: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at}


class PinLimiter:
    """Counts wrong PINs per key and locks the key for a while after too many.

    Keys name who tries as well as what (``admin@192.168.1.20``): five wrong PINs from
    one machine lock that machine, not the station's own screen. Locks are kept through
    ``save`` (wall-clock deadlines) so a restart does not lift them.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        load: Callable[[], Any] | None = None,
        save: Callable[[dict[str, float]], None] | None = None,
    ) -> None:
        """``load`` gives the saved locks (asked at the first PIN, once the store is
        open); ``save`` keeps them."""
        self.clock = clock
        self._failures: dict[str, int] = {}
        self._locked: dict[str, float] | None = None
        self._load = load
        self._save = save

    @property
    def _locked_until(self) -> dict[str, float]:
        if self._locked is None:
            saved = self._load() if self._load is not None else {}
            now = self.clock()
            self._locked = {
                str(k): float(v)
                for k, v in (saved if isinstance(saved, dict) else {}).items()
                if isinstance(v, int | float) and not isinstance(v, bool) and v > now
            }
        return self._locked

    @_locked_until.setter
    def _locked_until(self, value: dict[str, float]) -> None:
        self._locked = value

    def _store(self) -> None:
        if self._save is not None:
            now = self.clock()
            self._locked_until = {k: v for k, v in self._locked_until.items() if v > now}
            self._save(dict(self._locked_until))

    def check(self, key: str) -> None:
        """Raise LockedOutError while ``key`` is locked."""
        remaining = self._locked_until.get(key, 0.0) - self.clock()
        if remaining > 0:
            raise LockedOutError(seconds=max(1, round(remaining)))

    def failed(self, key: str) -> int:
        """Count a wrong PIN; returns tries left, or raises LockedOutError at the limit."""
        count = self._failures.get(key, 0) + 1
        if count >= MAX_TRIES:
            self._failures.pop(key, None)
            self._locked_until[key] = self.clock() + LOCK_SECONDS
            self._store()
            log.warning("too many wrong PINs for %s: locked for %d s", key, LOCK_SECONDS)
            raise LockedOutError(seconds=round(LOCK_SECONDS))
        if len(self._failures) >= MAX_COUNTED and key not in self._failures:
            self._failures.pop(next(iter(self._failures)))  # memory stays bounded
        self._failures[key] = count
        return MAX_TRIES - count

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
        if self._locked_until.pop(key, None) is not None:
            self._store()


class Shifts:
    """Operators, shifts and the admin PIN of one station (thread-safe)."""

    def __init__(
        self, store: Store, events: EventBus, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.events = events
        self.limiter = PinLimiter(
            clock,
            lambda: store.get_setting(PIN_LOCKS, {}),
            lambda locks: store.set_setting(PIN_LOCKS, locks),
        )
        self._lock = threading.RLock()

    # -- operators --------------------------------------------------------------

    def add_operator(self, name: str, pin: str) -> OperatorView:
        """Add an operator with a PIN (4-8 digits); names are unique, ignoring case."""
        clean = _clean_name(name)
        pin_hash = hash_pin(pin)
        with self._lock:
            if any(o.name.casefold() == clean.casefold() for o in self._operators()):
                raise ConflictError("shift.name_taken", name=clean)
            operator = Operator(id=new_id("op"), name=clean, pin_hash=pin_hash)
            self.store.add_operator(operator)
        log.info("operator %s (%s) added", operator.id, clean)
        return _view(operator)

    def list_operators(self) -> list[OperatorView]:
        """Every operator, by name."""
        return sorted(
            (_view(o) for o in self._operators()), key=lambda o: (o.name.casefold(), o.id)
        )

    def operator_name(self, operator: str) -> str:
        """The name to record for ``operator``: an operator id's name, the text itself,
        or (when empty) the operator of the shift in progress."""
        if not isinstance(operator, str):
            raise UsageError("review.bad_value", name="operator")
        if not operator:
            shift = self.current_shift()
            return shift.operator_name if shift else ""
        found = next((o for o in self._operators() if o.id == operator), None)
        return found.name if found else operator.strip()[:NAME_LIMIT]

    # -- shifts -----------------------------------------------------------------------

    def start_shift(self, operator_id: str, pin: str, client: str = LOCAL) -> Shift:
        """Sign ``operator_id`` in with their PIN; ends a shift still running. Wrong
        PINs lock that operator for ``client`` (an address) only."""
        with self._lock:
            operator = next((o for o in self._operators() if o.id == operator_id), None)
            if operator is None:
                raise NotFoundError("shift.unknown_operator", operator=str(operator_id)[:60])
            self._verify(f"operator:{operator.id}@{client}", pin, operator.pin_hash)
            running = self.current_shift()
            if running is not None:
                self._end(running, "")
            shift = Shift(id=new_id("s"), operator_id=operator.id, operator_name=operator.name)
            self.store.save_shift(shift)
        log.info("shift %s started by %s", shift.id, operator.name)
        self.events.publish("shift", {"phase": "started", "shift": shift.to_dict()})
        return shift

    def current_shift(self) -> Shift | None:
        """The shift in progress, or None."""
        running = [s for s in self.store.list_shifts() if not s.ended_at]
        return running[-1] if running else None

    def end_shift(self, note: str = "") -> Shift:
        """End the shift in progress, leaving ``note`` (at most 2000 characters) for the
        next one."""
        text = _clean_note(note)
        with self._lock:
            shift = self.current_shift()
            if shift is None:
                raise UsageError("shift.none")
            ended = self._end(shift, text)
        return ended

    def last_handover(self) -> dict[str, Any] | None:
        """The note the last shift left, with who left it and when (None: no note)."""
        ended = [s for s in self.store.list_shifts() if s.ended_at]
        if not ended or not ended[-1].note:
            return None
        last = ended[-1]
        return {
            "shift_id": last.id,
            "operator_id": last.operator_id,
            "operator_name": last.operator_name,
            "ended_at": last.ended_at,
            "note": last.note,
        }

    def _end(self, shift: Shift, note: str) -> Shift:
        shift.ended_at, shift.note = utc_now(), note
        self.store.save_shift(shift)
        log.info("shift %s ended", shift.id)
        self.events.publish("shift", {"phase": "ended", "shift": shift.to_dict()})
        return shift

    # -- admin PIN -------------------------------------------------------------------

    def set_admin_pin(self, pin: str) -> None:
        """Set (or change) the admin PIN; the UI asks for the old one first."""
        self.store.set_setting(ADMIN_KEY, hash_pin(pin))
        log.info("admin PIN set")

    def admin_pin_set(self) -> bool:
        """Whether an admin PIN exists (else the first-boot wizard must set one)."""
        return bool(self.store.get_setting(ADMIN_KEY))

    def check_admin_pin(self, pin: str, client: str = LOCAL) -> bool:
        """Whether ``pin`` is the admin PIN; False when none is set. Too many wrong
        tries from ``client`` (an address; the station's own screen by default) raise
        LockedOutError for a minute, for that client only."""
        stored = self.store.get_setting(ADMIN_KEY)
        if not stored or not isinstance(pin, str):
            return False
        key = f"admin@{client}"
        with self._lock:
            self.limiter.check(key)
            if verify_pin(pin, stored):
                self.limiter.succeeded(key)
                return True
            self.limiter.failed(key)
            return False

    # -- helpers ---------------------------------------------------------------------

    def _verify(self, key: str, pin: str, stored: str) -> None:
        self.limiter.check(key)
        if isinstance(pin, str) and stored and verify_pin(pin, stored):
            self.limiter.succeeded(key)
            return
        left = self.limiter.failed(key)
        raise AuthError("shift.wrong_pin", left=left)

    def _operators(self) -> list[Operator]:
        return self.store.list_operators()


def _view(operator: Operator) -> OperatorView:
    return OperatorView(operator.id, operator.name, operator.created_at)


def _clean_name(name: Any) -> str:
    text = " ".join(str(name if isinstance(name, str) else "").split())
    text = unicodedata.normalize("NFC", text)
    if not text or len(text) > NAME_LIMIT or any(unicodedata.category(c) == "Cc" for c in text):
        raise UsageError("shift.bad_name", limit=NAME_LIMIT)
    return text


def _clean_note(note: Any) -> str:
    if not isinstance(note, str):
        raise UsageError("review.bad_value", name="note")
    text = unicodedata.normalize("NFC", note).strip()
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    if len(text) > NOTE_LIMIT:
        raise UsageError("shift.note_too_long", limit=NOTE_LIMIT)
    return text
