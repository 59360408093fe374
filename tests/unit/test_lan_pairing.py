"""Pairing requests, approval, tokens and revocation, with a clock the test turns."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from station.lan.db import LanDB
from station.lan.errors import LanError
from station.lan.pairing import PENDING_PER_ADDRESS, REQUEST_TTL, Pairing
from station.lan.ratelimit import RateLimit
from tests.support.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock(1_700_000_000.0)


@pytest.fixture
def pairing(tmp_path: Path, clock: Clock) -> Pairing:
    return Pairing(LanDB(tmp_path / "lan"), clock)


def test_token_once_then_collected_and_revocable(pairing: Pairing) -> None:
    made = pairing.request("  Máy 1 ", "192.0.2.7")
    request = made.request
    assert request.name == "Máy 1" and len(request.code) == 6
    assert pairing.poll(request.id, made.secret) == {"status": "pending"}
    pairing.approve(request.code)
    answer = pairing.poll(request.id, made.secret)
    assert answer["status"] == "approved"
    collector = pairing.authenticate(answer["token"])
    assert collector is not None and collector.id == answer["collector_id"]
    assert pairing.poll(request.id, made.secret) == {"status": "collected"}
    assert pairing.authenticate(answer["token"][:-1] + "x") is None
    pairing.revoke(collector.id)
    assert pairing.authenticate(answer["token"]) is None
    assert pairing.collectors() == [] and len(pairing.collectors(include_revoked=True)) == 1


@pytest.mark.parametrize("secret", ["", "x", "A" * 43, "../../etc/passwd"])
def test_only_the_requester_s_secret_releases_the_token(pairing: Pairing, secret: str) -> None:
    made = pairing.request("Máy 1", "192.0.2.7")
    pairing.approve(made.request.code)
    with pytest.raises(LanError) as refused:
        pairing.poll(made.request.id, secret)  # another host that learnt the id
    assert (refused.value.status, refused.value.code) == (404, "unknown_request")
    assert pairing.collectors() == []  # nothing consumed
    assert pairing.poll(made.request.id, made.secret)["status"] == "approved"


def test_polls_without_the_secret_are_logged_once(
    pairing: Pairing, caplog: pytest.LogCaptureFixture
) -> None:
    made = pairing.request("Máy 1", "192.0.2.7")
    for _ in range(50):
        with pytest.raises(LanError):
            pairing.poll(made.request.id, "")
    warned = [r for r in caplog.records if "without its secret" in r.getMessage()]
    assert len(warned) == 1 and made.request.label in warned[0].getMessage()


def test_the_log_never_shows_request_ids_codes_or_secrets(
    pairing: Pairing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="station.lan")
    made = pairing.request("Máy 1", "192.0.2.7")
    pairing.approve(made.request.code)
    pairing.poll(made.request.id, made.secret)
    for secret in (made.request.id, made.request.code, made.secret):
        assert secret not in caplog.text
    assert made.request.label in caplog.text


def test_pending_requests_are_capped_per_address(pairing: Pairing) -> None:
    hostile = [pairing.request("PC", "192.0.2.66") for _ in range(5)]
    assert [r.id for r in pairing.pending()] == [m.request.id for m in hostile[-2:]]
    # The cap is per address: a crowd of hosts cannot shut out a real entry PC.
    for host in range(1, 11):
        for _ in range(PENDING_PER_ADDRESS):
            pairing.request("PC", f"192.0.2.{host}")
    real = pairing.request("Máy thật", "192.0.2.200")
    pairing.approve(real.request.code)
    assert pairing.poll(real.request.id, real.secret)["status"] == "approved"


def test_the_global_cap_only_bounds_memory(
    pairing: Pairing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("station.lan.pairing.MAX_PENDING", 3)
    for host in (1, 2, 1):
        pairing.request("PC", f"192.0.2.{host}")
    with pytest.raises(LanError) as full:
        pairing.request("PC", "192.0.2.9")
    assert (full.value.status, full.value.code) == (429, "too_many_pending")
    pairing.request("PC", "192.0.2.1")  # replaces its own oldest: still room


def test_requests_expire_and_decisions_are_final(pairing: Pairing, clock: Clock) -> None:
    old = pairing.request("Máy cũ", "192.0.2.7")
    clock.now += REQUEST_TTL + 1
    with pytest.raises(LanError) as expired:
        pairing.poll(old.request.id, old.secret)
    assert expired.value.status == 404
    fresh = pairing.request("Máy mới", "192.0.2.7")
    pairing.deny(fresh.request.id)
    with pytest.raises(LanError) as decided:
        pairing.approve(fresh.request.id)
    assert decided.value.status == 409 and decided.value.code == "not_pending"
    assert pairing.poll(fresh.request.id, fresh.secret) == {"status": "denied"}
    approved = pairing.request("Máy chậm", "192.0.2.8")
    clock.now += REQUEST_TTL - 10
    pairing.approve(approved.request.id)
    clock.now += REQUEST_TTL - 10  # approval gives a new ten minutes to fetch the token
    assert pairing.poll(approved.request.id, approved.secret)["status"] == "approved"


def test_another_process_sees_decisions_at_once(
    pairing: Pairing, tmp_path: Path, clock: Clock
) -> None:
    cli = Pairing(LanDB(tmp_path / "lan"), clock)  # `station pairing` in its own process
    made = pairing.request("Máy 2", "192.0.2.9")
    assert [r.id for r in cli.pending()] == [made.request.id]
    cli.approve(made.request.id)
    token = pairing.poll(made.request.id, made.secret)["token"]
    assert pairing.authenticate(token) is not None
    cli.revoke(cli.collectors()[0].id)
    assert pairing.authenticate(token) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "a\nb", "a\x00b", 42, None])
def test_names_must_be_short_printable_text(pairing: Pairing, name: object) -> None:
    with pytest.raises(LanError) as refused:
        pairing.request(name, "192.0.2.7")
    assert refused.value.status == 400


def test_rate_limit_per_address_slides(clock: Clock) -> None:
    limit = RateLimit(2, 60.0, clock)
    assert limit.hit("a") == 0 and limit.hit("a") == 0
    assert limit.hit("a") == 60 and limit.hit("b") == 0
    clock.now += 30
    assert limit.hit("a") == 30
    clock.now += 31
    assert limit.hit("a") == 0


def test_unknown_references_are_refused(pairing: Pairing) -> None:
    for ref in ("123456", "AAAAAAAAAAAA", "../../etc"):
        with pytest.raises(LanError) as refused:
            pairing.approve(ref)
        assert refused.value.status == 404
    with pytest.raises(LanError):
        pairing.revoke("pc-000000000000")


def test_request_ids_never_read_as_command_line_options(
    pairing: Pairing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # token_urlsafe draws "-" first one time in 64; `station pairing approve <id>` then
    # took the id for an option (seen once in a test run).
    monkeypatch.setattr("secrets.token_urlsafe", lambda size: "-" + "a" * (size - 1))
    made = pairing.request("Máy kế toán", "192.0.2.7")
    assert not made.request.id.startswith("-")
    assert pairing.poll(made.request.id, made.secret)["status"] == "pending"
