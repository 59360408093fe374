"""``station-collect`` pair, once and status through its command line, against the fake."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.collector import pairing
from station.collector.cli import main
from station.collector.client import Address
from station.collector.discovery import advert_from
from station.collector.paths import default_state_dir, unsafe_reason, versioned_name
from station.collector.state import State
from tests.support.fake_station import Certificate, FakeStation, make_certificate, running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture
def fake(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStation]:
    monkeypatch.setattr(pairing, "POLL_SECONDS", 0.02)
    with running(certificate) as station:
        yield station


def collect(state: Path, *args: str) -> int:
    return main(["--state-dir", str(state), "--lang", "en", *args])


def test_pair_shows_the_code_and_fingerprint_and_keeps_the_token_private(
    fake: FakeStation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.approve_after = 3
    state = tmp_path / "state"
    code = collect(
        state, "pair", "--station", str(fake.address), "--name", "PC-01", "--timeout", "5"
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "482-913" in out and fake.certificate.fingerprint in out
    [(request_id, request)] = fake.pairs.items()
    assert request["name"] == "PC-01" and request["polls"] == 3  # every poll had the secret
    log = (state / "collect.log").read_text(encoding="utf-8")
    assert request_id not in out + log and request["secret"] not in out + log
    with State(state) as st:
        [pairing] = st.pairings()
        assert pairing.fingerprint == fake.certificate.fingerprint
        assert pairing.office_code == "xa-dong-hoa"
        assert st.token(pairing.id) in fake.tokens
    token_file = state / "tokens" / f"{pairing.id}.token"
    if os.name != "nt":
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert "482-913" in (state / "collect.log").read_text(encoding="utf-8")


def test_pair_refused_or_expired_says_so(
    fake: FakeStation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.deny = True
    assert collect(tmp_path / "s1", "pair", "--station", str(fake.address)) == 69
    assert "denied" in capsys.readouterr().out
    fake.deny = False
    fake.expire = True
    assert collect(tmp_path / "s2", "pair", "--station", str(fake.address)) == 69
    assert "expired" in capsys.readouterr().out
    fake.expire = False
    fake.taken = True
    assert collect(tmp_path / "s3", "pair", "--station", str(fake.address)) == 69
    out = capsys.readouterr().out
    assert "already received" in out and "revoke" in out


def test_pair_checks_the_office(fake: FakeStation, tmp_path: Path) -> None:
    args = ["pair", "--station", str(fake.address), "--office", "phuong-1"]
    assert collect(tmp_path / "state", *args) == 69
    assert fake.pairs == {}


def test_once_then_status(
    fake: FakeStation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, dest = tmp_path / "state", tmp_path / "dest"
    assert collect(state, "pair", "--station", str(fake.address)) == 0
    fake.publish("e1", b"%PDF-1 one", "KS/2007.01/KS.2007.01.1.pdf")
    fake.publish("e2", b"%PDF-1 two", "KS/2007.01/KS.2007.01.2.pdf")
    fake.publish("e1", b"%PDF-1 one, again", "KS/2007.01/KS.2007.01.1.pdf")
    assert collect(state, "once", "--dest", str(dest), "--no-browse", "--timeout", "5") == 0
    assert "Every file has been collected" in capsys.readouterr().out
    assert collect(state, "status", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    [station] = report["stations"]
    assert station["id"] == "st-fake01" and station["last_success"]
    [where] = station["destinations"]
    assert where["dest"] == str(dest.resolve())
    assert (where["cursor"], where["files"], where["pending"], where["unacked"]) == (3, 2, 0, 0)
    assert collect(state, "--lang", "vi", "status") == 0
    text = capsys.readouterr().out
    assert "Trạm giả" in text and "con trỏ 3" in text


def test_once_without_pairing_says_how_to_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert collect(tmp_path / "state", "once", "--dest", str(tmp_path / "d"), "--no-browse") == 64
    assert "station-collect pair" in capsys.readouterr().out


def test_once_when_the_station_is_gone(fake: FakeStation, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert collect(state, "pair", "--station", str(fake.address)) == 0
    fake.stop()
    args = [
        "once",
        "--dest",
        str(tmp_path / "d"),
        "--no-browse",
        "--retries",
        "0",
        "--timeout",
        "2",
    ]
    assert collect(state, *args) == 75


def test_the_collector_imports_nothing_but_the_standard_library_and_zeroconf() -> None:
    code = (
        "import sys, station.collector.cli, station.collector.runner, station.collector.pairing\n"
        "heavy = {'numpy', 'cv2', 'flask', 'PIL', 'pikepdf', 'tinydb', 'waitress', 'werkzeug',"
        " 'usb', 'watchdog', 'sane'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "print(sorted(m for m in sys.modules if m.startswith('station')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, ours = done.stdout.splitlines()
    assert heavy == "[]"
    allowed = {
        "station",
        "station.core",
        "station.core.errors",
        "station.core.messages",
        "station.core.models",
    }
    assert {m for m in eval(ours) if not m.startswith("station.collector")} <= allowed


def test_state_folder_per_platform() -> None:
    windows = default_state_dir({"LOCALAPPDATA": r"C:\Users\a\AppData\Local"}, "win32")
    assert windows.name == "ledger-station-collect" and str(windows).startswith("C:")
    linux = default_state_dir({}, "linux")
    assert linux.parts[-3:] == (".local", "state", "ledger-station-collect")
    assert default_state_dir({"XDG_STATE_HOME": "/x"}, "linux") == Path("/x/ledger-station-collect")


def test_names_and_addresses() -> None:
    assert unsafe_reason("KS/2007.01/KS.2007.01.3.pdf") is None
    assert unsafe_reason("KS/2007.01/Giấy khai sinh 12a.pdf") is None
    assert unsafe_reason("KS/LPT1.pdf") == "Windows device name"
    assert versioned_name("KS/2007.01/KS.2007.01.3.pdf", "v1") == "KS/2007.01/KS.2007.01.3.v1.pdf"
    assert Address.parse("192.168.1.20:8443") == Address("192.168.1.20", 8443)
    assert Address.parse("10.0.0.5") == Address("10.0.0.5", 8443)
    assert Address.parse("[fe80::1%eth0]:9000") == Address("fe80::1%eth0", 9000)
    assert Address.parse("station.local:8443") == Address("station.local", 8443)
    assert Address.parse("Trạm 1") is None
    assert str(Address("fe80::1", 8443)) == "[fe80::1]:8443"


def test_announcements_are_checked_before_use() -> None:
    txt: dict[str, str | None] = {
        "id": "st-1a2b3c4d5e6f", "name": "Trạm 1", "office": "xa-dong-hoa", "api": "1",
        "path": "/api/v1", "tls": "1", "fp": "AB" * 32, "version": "0.1.0",
    }  # fmt: skip
    addresses = ["fe80::1%eth0", "10.0.0.5"]
    advert = advert_from("Trạm 1._ledgerstation._tcp.local.", txt, addresses, 8443)
    assert advert is not None
    assert advert.fingerprint == "ab" * 32
    assert advert.addresses == (Address("10.0.0.5", 8443), Address("fe80::1%eth0", 8443))
    for bad in ({"api": "2"}, {"tls": "0"}, {"fp": "12"}, {"id": "../x"}, {"id": None}):
        assert advert_from("x", {**txt, **bad}, ["10.0.0.5"], 8443) is None
    assert advert_from("x", txt, ["10.0.0.5"], 0) is None
