"""Phones paired by QR code: the state machine of codes and sessions, on a test clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from station.app.phones import (
    CODE_TTL,
    MAX_OFFERS,
    MAX_PENDING,
    REQUEST_TTL,
    SESSION_HOURS,
    CodeGoneError,
    PhonePairing,
)
from station.core import config
from station.core.errors import AuthError, ConflictError, NotFoundError
from station.lan.interfaces import Address
from station.ui.phone_link import qr_svg, station_base_url
from tests.support.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def phones(tmp_path: Path, clock: Clock) -> PhonePairing:
    return PhonePairing(tmp_path / "phones.json", clock)


def test_a_claimed_code_waits_for_the_screen_then_sends(phones: PhonePairing) -> None:
    offer = phones.offer()
    phone, token = phones.claim(offer.code, "10.0.0.7")
    assert phone.status == "pending" and phone.ip == "10.0.0.7"
    assert len(phone.compare) == 4 and phone.compare.isdigit()
    assert [p.id for p in phones.pending()] == [phone.id]
    with pytest.raises(AuthError) as waiting:
        phones.check(token)
    assert waiting.value.key == "phone.not_confirmed"
    phones.confirm(phone.id)
    assert phones.check(token).device == f"phone:{phone.name}"
    assert phones.pending() == [] and [p.id for p in phones.paired()] == [phone.id]


def test_a_code_works_once(phones: PhonePairing) -> None:
    offer = phones.offer()
    phones.claim(offer.code, "10.0.0.7")
    with pytest.raises(CodeGoneError) as again:
        phones.claim(offer.code, "10.0.0.8")
    assert again.value.key == "phone.code_spent" and again.value.http_status == 410
    assert phones.code_state(offer.code) == "spent"


def test_a_code_expires(phones: PhonePairing, clock: Clock) -> None:
    offer = phones.offer()
    clock.now += CODE_TTL - 1
    assert phones.code_state(offer.code) == "live"
    clock.now += 1
    assert phones.code_state(offer.code) == "expired"
    with pytest.raises(CodeGoneError) as late:
        phones.claim(offer.code, "10.0.0.7")
    assert late.value.key == "phone.code_expired"


@pytest.mark.parametrize("code", ["", "x", "A" * 22, "é" * 22])
def test_an_unknown_code_is_not_found(phones: PhonePairing, code: str) -> None:
    phones.offer()
    with pytest.raises(NotFoundError):
        phones.claim(code, "10.0.0.7")
    with pytest.raises(NotFoundError):
        phones.check_code(code)


def test_codes_are_random_and_long(phones: PhonePairing) -> None:
    codes = {phones.offer().code for _ in range(MAX_OFFERS)}
    assert len(codes) == MAX_OFFERS and min(len(c) for c in codes) >= 20


def test_only_the_newest_offers_stay_live(phones: PhonePairing) -> None:
    first = phones.offer()
    for _ in range(MAX_OFFERS):
        phones.offer()
    assert phones.code_state(first.code) == "unknown"


def test_an_unanswered_request_expires(phones: PhonePairing, clock: Clock) -> None:
    phone, token = phones.claim(phones.offer().code, "10.0.0.7")
    clock.now += REQUEST_TTL
    assert phones.pending() == []
    with pytest.raises(NotFoundError):
        phones.confirm(phone.id)
    with pytest.raises(AuthError) as over:
        phones.check(token)
    assert over.value.key == "phone.session_over"


def test_a_refused_phone_may_not_send(phones: PhonePairing) -> None:
    phone, token = phones.claim(phones.offer().code, "10.0.0.7")
    phones.refuse(phone.id)
    with pytest.raises(AuthError) as refused:
        phones.check(token)
    assert refused.value.key == "phone.refused"
    with pytest.raises(NotFoundError):
        phones.confirm(phone.id)  # an answer is final


def test_revoking_ends_the_session_at_once(phones: PhonePairing) -> None:
    phone, token = phones.claim(phones.offer().code, "10.0.0.7")
    phones.confirm(phone.id)
    phones.revoke(phone.id)
    with pytest.raises(AuthError) as revoked:
        phones.check(token)
    assert revoked.value.key == "phone.revoked"
    assert phones.paired() == []
    with pytest.raises(NotFoundError):
        phones.revoke(phone.id)


def test_a_session_lasts_a_working_day(phones: PhonePairing, clock: Clock) -> None:
    phone, token = phones.claim(phones.offer().code, "10.0.0.7")
    phones.confirm(phone.id)
    clock.now += SESSION_HOURS * 3600 - 1
    phones.check(token)
    clock.now += 1
    with pytest.raises(AuthError) as over:
        phones.check(token)
    assert over.value.key == "phone.session_over"


def test_an_unknown_token_is_not_paired(phones: PhonePairing) -> None:
    for token in ("", "nonsense"):
        with pytest.raises(AuthError) as unknown:
            phones.check(token)
        assert unknown.value.key == "phone.not_paired"


def test_waiting_phones_are_limited(phones: PhonePairing) -> None:
    for _ in range(MAX_PENDING):
        phones.claim(phones.offer().code, "10.0.0.7")
    with pytest.raises(ConflictError):
        phones.claim(phones.offer().code, "10.0.0.7")


def test_paired_phones_survive_a_restart_and_only_hashes_are_kept(
    tmp_path: Path, phones: PhonePairing, clock: Clock
) -> None:
    kept, kept_token = phones.claim(phones.offer().code, "10.0.0.7")
    phones.confirm(kept.id)
    gone, gone_token = phones.claim(phones.offer().code, "10.0.0.8")
    phones.confirm(gone.id)
    phones.revoke(gone.id)
    stored = (tmp_path / "phones.json").read_text(encoding="utf-8")
    assert kept_token not in stored and gone_token not in stored
    again = PhonePairing(tmp_path / "phones.json", clock)
    assert again.check(kept_token).name == kept.name
    with pytest.raises(AuthError):
        again.check(gone_token)
    third, _ = again.claim(again.offer().code, "10.0.0.9")
    assert third.name not in (kept.name, gone.name)  # names are never reused


def test_an_unreadable_file_means_no_phone(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "phones.json"
    path.write_text("{not json", encoding="utf-8")
    assert PhonePairing(path, clock).paired() == []
    path.write_text(json.dumps({"phones": [{"id": 1}]}), encoding="utf-8")
    assert PhonePairing(path, clock).paired() == []


def test_every_change_is_told(phones: PhonePairing) -> None:
    told: list[int] = []
    phones.on_change = lambda: told.append(1)
    phone, _ = phones.claim(phones.offer().code, "10.0.0.7")
    phones.confirm(phone.id)
    phones.revoke(phone.id)
    assert len(told) == 3


# -- the address in the QR code ---------------------------------------------------------


def web_config(host: str, interfaces: str = "[]") -> config.Config:
    text = f'[web]\nhost = "{host}"\nport = 8080\n[lan]\ninterfaces = {interfaces}\n'
    return config.parse(text, "test", environ={})


def test_the_url_uses_a_lan_address_never_loopback() -> None:
    found = [Address("eth0", "169.254.3.4"), Address("wlan0", "192.168.1.20")]
    assert station_base_url(web_config("0.0.0.0"), found) == "http://192.168.1.20:8080"
    assert station_base_url(web_config("0.0.0.0"), found[:1]) == "http://169.254.3.4:8080"
    assert station_base_url(web_config("0.0.0.0"), []) is None
    assert station_base_url(web_config("10.1.2.3"), found) == "http://10.1.2.3:8080"
    assert station_base_url(web_config("fd00::5"), found) == "http://[fd00::5]:8080"
    for host in ("127.0.0.1", "::1", "localhost"):
        assert station_base_url(web_config(host), found) is None


def test_the_qr_code_is_an_svg_of_the_url() -> None:
    svg = qr_svg("http://192.168.1.20:8080/phone/j/abc")
    assert svg.startswith("<svg") and 'class="qr"' in svg and "viewBox" in svg
