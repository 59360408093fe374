"""``station pairing``: the technician's way to approve, list and revoke entry PCs."""

from __future__ import annotations

import json
from pathlib import Path

from station.lan.db import LanDB
from station.lan.pairing import Pairing
from tests.support.commands import RunStation


def test_list_approve_by_code_and_revoke(run_station: RunStation, data_dir: Path) -> None:
    pairing = Pairing(LanDB.for_data_dir(data_dir))  # what `station serve` would record
    made = pairing.request("Máy kế toán", "192.0.2.7")
    request = made.request

    listed = run_station("pairing", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    pending = json.loads(listed.stdout)["pending"]
    assert [(r["id"], r["code"], r["name"]) for r in pending] == [
        (request.id, request.code, "Máy kế toán")
    ]

    approved = run_station("--lang", "en", "pairing", "approve", request.code)
    assert approved.returncode == 0, approved.stderr
    assert "Approved Máy kế toán" in approved.stdout
    token = pairing.poll(request.id, made.secret)["token"]
    collector = pairing.authenticate(token)
    assert collector is not None

    again = run_station("--lang", "en", "pairing", "approve", request.id)
    assert again.returncode == 64 and "no longer waiting" in again.stderr

    text = run_station("--lang", "vi", "pairing", "list")
    assert collector.id in text.stdout and "Máy kế toán" in text.stdout

    revoked = run_station("pairing", "revoke", collector.id)
    assert revoked.returncode == 0, revoked.stderr
    assert pairing.authenticate(token) is None
    unknown = run_station("pairing", "revoke", "pc-000000000000")
    assert unknown.returncode == 64
