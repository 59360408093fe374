"""Operators, PINs (hashed, rate-limited), shifts, handover notes and the admin PIN."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import config
from station.core.errors import AuthError, ConflictError, LockedOutError, NotFoundError, UsageError
from station.core.models import BookRef
from station.operators.shifts import LOCK_SECONDS, MAX_TRIES, hash_pin, verify_pin
from tests.support.clock import Clock
from tests.support.events import next_of
from tests.support.stations import capture, running_station
from tests.support.store import store_index


@pytest.fixture
def station(data_dir: Path) -> Iterator[Station]:
    with running_station(data_dir) as running:
        yield running


def test_pins_are_salted_scrypt_hashes() -> None:
    first, second = hash_pin("1234"), hash_pin("1234")
    assert first.startswith("scrypt$") and first != second  # a salt each
    assert verify_pin("1234", first) and not verify_pin("1235", first)
    assert not verify_pin("1234", "md5$nonsense")
    for bad in ("123", "123456789", "12a4", "", " 1234"):
        with pytest.raises(UsageError):
            hash_pin(bad)


def test_operators_are_stored_without_their_pin(station: Station, data_dir: Path) -> None:
    added = TouchApi(station).add_operator("  Nguyễn   Thị Lan ", "2468")
    assert added.name == "Nguyễn Thị Lan" and "pin_hash" not in added.to_dict()
    assert [o.name for o in TouchApi(station).list_operators()] == ["Nguyễn Thị Lan"]
    with pytest.raises(ConflictError) as taken:
        TouchApi(station).add_operator("nguyễn thị lan", "1357")
    assert taken.value.http_status == 409
    for name in ("", "x" * 61, "a\x07b"):
        with pytest.raises(UsageError):
            TouchApi(station).add_operator(name, "1234")
    stored = (data_dir / "db" / "station.json").read_text(encoding="utf-8")
    (record,) = json.loads(stored)["operators"].values()
    assert verify_pin("2468", record["pin_hash"])
    # The hash's salt and digest and the id's tail are random digits and hex, which
    # hold "2468" by chance about once in a thousand runs: the PIN is looked for
    # everywhere else.
    hashes = re.compile(r"(scrypt\$\d+\$\d+\$\d+)\$[0-9a-f]{32}\$[0-9a-f]{64}")
    masked, count = hashes.subn(r"\1$<salt>$<digest>", stored.replace(record["id"], "<id>"))
    assert "2468" not in masked and count == 1


def test_a_shift_starts_with_the_right_pin_and_ends_with_a_note(station: Station) -> None:
    lan = TouchApi(station).add_operator("Lan", "2468")
    minh = TouchApi(station).add_operator("Minh", "1357")
    assert TouchApi(station).current_shift() is None and TouchApi(station).last_handover() is None
    with pytest.raises(AuthError) as wrong:
        TouchApi(station).start_shift(lan.id, "0000")
    assert wrong.value.http_status == 403 and "4" in wrong.value.message("en")
    with pytest.raises(NotFoundError):
        TouchApi(station).start_shift("op-nobody", "2468")
    events = station.events.subscribe()
    shift = TouchApi(station).start_shift(lan.id, "2468")
    assert TouchApi(station).current_shift() == shift and shift.operator_name == "Lan"
    started = next_of(events, "shift")
    assert started is not None and started.kind == "shift" and started.data["phase"] == "started"
    with pytest.raises(UsageError):
        TouchApi(station).end_shift("x" * 2001)
    ended = TouchApi(station).end_shift("  Sổ KS-2007-01 còn 3 trang mờ, cần chụp lại.\n ")
    assert ended.ended_at and TouchApi(station).current_shift() is None
    handover = TouchApi(station).last_handover()
    assert handover is not None and handover["operator_name"] == "Lan"
    assert handover["note"] == "Sổ KS-2007-01 còn 3 trang mờ, cần chụp lại."
    with pytest.raises(UsageError):
        TouchApi(station).end_shift("")
    # A new sign-in while a shift runs ends it (no note); the last note then is none.
    TouchApi(station).start_shift(minh.id, "1357")
    TouchApi(station).start_shift(lan.id, "2468")
    assert TouchApi(station).current_shift().operator_name == "Lan"  # type: ignore[union-attr]
    assert TouchApi(station).last_handover() is None
    events.close()


def test_five_wrong_pins_lock_that_operator_for_a_minute(station: Station) -> None:
    clock = Clock(1000.0)
    station.shifts.limiter.clock = clock
    lan = TouchApi(station).add_operator("Lan", "2468")
    minh = TouchApi(station).add_operator("Minh", "1357")
    for _ in range(MAX_TRIES - 1):
        with pytest.raises(AuthError) as wrong:
            TouchApi(station).start_shift(lan.id, "9999")
        assert not isinstance(wrong.value, LockedOutError)
    with pytest.raises(LockedOutError) as locked:
        TouchApi(station).start_shift(lan.id, "9999")
    assert locked.value.http_status == 429
    with pytest.raises(LockedOutError):  # even the right PIN, while locked
        TouchApi(station).start_shift(lan.id, "2468")
    assert TouchApi(station).start_shift(minh.id, "1357").operator_name == "Minh"  # others are not
    clock.now += LOCK_SECONDS + 1
    assert TouchApi(station).start_shift(lan.id, "2468").operator_name == "Lan"


def test_the_admin_pin_is_set_once_checked_and_rate_limited(station: Station) -> None:
    station.shifts.limiter.clock = Clock(1000.0)
    assert not TouchApi(station).admin_pin_set() and not TouchApi(station).check_admin_pin("1234")
    assert TouchApi(station).settings_view()["admin_pin_set"] is False
    with pytest.raises(UsageError):
        TouchApi(station).set_admin_pin("12")
    TouchApi(station).set_admin_pin("864200")
    assert TouchApi(station).admin_pin_set() and TouchApi(station).check_admin_pin("864200")
    for _ in range(MAX_TRIES - 1):
        assert not TouchApi(station).check_admin_pin("000000")
    with pytest.raises(LockedOutError):
        TouchApi(station).check_admin_pin("000000")
    with pytest.raises(LockedOutError):
        TouchApi(station).check_admin_pin("864200")


def test_captures_record_the_shift_operator_and_may_require_a_shift(station: Station) -> None:
    station.open_book(BookRef.parse("KS/2007/01"))
    TouchApi(station).update_settings({"require_shift": True})
    with pytest.raises(UsageError) as refused:
        TouchApi(station).start_capture(1)
    assert refused.value.key == "capture.no_shift"
    lan = TouchApi(station).add_operator("Lan", "2468")
    TouchApi(station).start_shift(lan.id, "2468")
    [view] = capture(station)
    assert view.operator == "Lan"
    entry = station.store.get_entry(view.entries[0].entry_id)
    assert entry.operator == "Lan"
    metadata = json.dumps(store_index(station.store)["captures"])
    assert '"operator": "Lan"' in metadata
    progress = TouchApi(station).progress()
    assert progress["shift"] == 2 and progress["today"] == 2
    assert progress["per_hour"]["last_hour"] == 2
    assert progress["book"] == {"key": "KS-2007-01", "entries": 2, "expected": None}
    assert progress["station"] == {"entries": 2, "books": 1}


def test_pin_lockouts_are_per_client_and_survive_a_restart(station_config: config.Config) -> None:
    """Five wrong admin PINs from one address lock that address, not the station's own
    screen nor another machine, and the lock is still there after a restart."""
    with Station(station_config) as station:
        touch = TouchApi(station)
        touch.set_admin_pin("2468")
        for _ in range(MAX_TRIES - 1):
            assert not touch.check_admin_pin("0000", "192.168.1.50")
        with pytest.raises(LockedOutError):
            touch.check_admin_pin("0000", "192.168.1.50")
        with pytest.raises(LockedOutError):
            touch.check_admin_pin("2468", "192.168.1.50")  # even the right PIN, for now
        assert touch.check_admin_pin("2468")  # the station's own screen
        assert touch.check_admin_pin("2468", "192.168.1.51")  # another machine
    with Station(station_config) as station:
        with pytest.raises(LockedOutError):
            TouchApi(station).check_admin_pin("2468", "192.168.1.50")
        assert TouchApi(station).check_admin_pin("2468")
