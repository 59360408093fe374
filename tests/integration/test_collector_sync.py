"""The collector's passes against the fake station: what lands in the destination."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.collector import sync
from station.collector.console import Console
from station.collector.errors import StoppedError, UnreachableError
from station.collector.runner import Collector, Options, _Worker
from station.collector.state import Pairing, State, dest_key
from station.collector.sync import PassResult
from tests.support.fake_station import Certificate, FakeStation, make_certificate, running


class RecordingConsole(Console):
    """Keeps what was said and lets a test wait for a message key."""

    def __init__(self) -> None:
        super().__init__("en")
        self.said: list[tuple[str, dict[str, object]]] = []
        self.changed = threading.Condition()

    def say(self, key: str, level: int, /, **values: object) -> None:
        super().say(key, level, **values)
        with self.changed:
            self.said.append((key, values))
            self.changed.notify_all()

    def said_keys(self) -> list[str]:
        return [key for key, _ in self.said]

    def wait_for(self, key: str, count: int = 1, timeout: float = 20) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.said_keys().count(key) >= count, timeout)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture
def fake(certificate: Certificate) -> Iterator[FakeStation]:
    with running(certificate) as station:
        yield station


def pair_with(fake: FakeStation, state_dir: Path, fingerprint: str | None = None) -> None:
    with State(state_dir) as state:
        state.save_pairing(
            Pairing(
                id=str(fake.info["id"]),
                name="fake",
                office_code="xa-dong-hoa",
                office_name="",
                fingerprint=fingerprint or fake.certificate.fingerprint,
                collector_id="c-1",
                paired_at="2026-01-01T00:00:00Z",
                host=fake.address.host,
                port=fake.address.port,
                api_path="/api/v1",
            ),
            fake.issue_token(),
        )


@pytest.fixture
def options(tmp_path: Path, fake: FakeStation) -> Options:
    pair_with(fake, tmp_path / "state")
    return Options(
        state_dir=tmp_path / "state",
        dest=tmp_path / "dest",
        timeout=5,
        browse=False,
        retries=0,
        backoff_first=0.05,
        backoff_max=0.2,
        interval=0.05,
    )


def once(options: Options, console: Console | None = None) -> int:
    return Collector(options, console or RecordingConsole()).once()


def pdf(n: int, size: int = 3000) -> bytes:
    body = hashlib.sha256(str(n).encode()).digest() * (size // 32 + 1)
    return b"%PDF-1.7\n" + body[:size]


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_collects_every_file_verifies_and_acknowledges(fake: FakeStation, options: Options) -> None:
    names = ["KS/2007.01/KS.2007.01.1.pdf", "KS/2007.01/KS.2007.01.2.pdf", "KT/2010.03/KT.1.pdf"]
    for n, name in enumerate(names):
        fake.publish(f"e{n}", pdf(n), name)
    assert once(options) == 0
    assert files_under(options.dest) == {name: pdf(n) for n, name in enumerate(names)}
    assert sorted(a["entry_id"] for a in fake.acks) == ["e0", "e1", "e2"]
    assert all(
        a["sha256"] == hashlib.sha256(pdf(int(a["entry_id"][1:]))).hexdigest() for a in fake.acks
    )
    with State(options.state_dir) as state:
        assert state.cursor("st-fake01", dest_key(options.dest)) == 3
    # A second pass finds nothing new and downloads nothing.
    downloads = len(fake.downloads())
    assert once(options) == 0
    assert len(fake.downloads()) == downloads


def test_replaced_entry_arrives_and_old_versions_are_kept_aside(
    fake: FakeStation, options: Options
) -> None:
    name = "KS/2007.01/KS.2007.01.3.pdf"
    fake.publish("e3", pdf(1), name)
    assert once(options) == 0
    fake.publish("e3", pdf(2), name)
    console = RecordingConsole()
    assert once(options, console) == 0
    assert "collect.replaced" in console.said_keys()
    fake.publish("e3", pdf(3), name)
    assert once(options) == 0
    assert files_under(options.dest) == {
        name: pdf(3),
        "_replaced/KS/2007.01/KS.2007.01.3.v1.pdf": pdf(1),
        "_replaced/KS/2007.01/KS.2007.01.3.v2.pdf": pdf(2),
    }
    assert [(a["entry_id"], a["version"]) for a in fake.acks] == [("e3", 1), ("e3", 2), ("e3", 3)]


def test_versions_replaced_before_the_first_pass_are_fetched_once(
    fake: FakeStation, options: Options
) -> None:
    fake.publish("e1", pdf(1), "A/a.pdf")
    fake.publish("e1", pdf(2), "A/a.pdf")
    assert once(options) == 0
    assert files_under(options.dest) == {"A/a.pdf": pdf(2)}
    assert len(fake.downloads()) == 1


def test_an_interrupted_download_resumes_with_range(fake: FakeStation, options: Options) -> None:
    big = os.urandom(1_000_000)
    fake.publish("big", big, "B/big.pdf")
    fake.faults.cut_after = 300_000
    options.retries = 2
    console = RecordingConsole()
    assert once(options, console) == 0
    assert (options.dest / "B/big.pdf").read_bytes() == big
    first, second = fake.downloads()
    assert "Range" not in first
    offset = int(second["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < offset <= 300_000
    assert second["If-Range"] == f'"{hashlib.sha256(big).hexdigest()}"'
    assert "collect.station_down" in console.said_keys()
    assert not list((options.dest / ".partial").iterdir())


def test_a_part_left_by_a_crash_is_resumed(fake: FakeStation, options: Options) -> None:
    data = os.urandom(200_000)
    fake.publish("e7", data, "C/c.pdf")
    part = options.dest / ".partial" / "e7.v1.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:123_456])
    assert once(options) == 0
    assert (options.dest / "C/c.pdf").read_bytes() == data
    assert fake.downloads()[0]["Range"] == "bytes=123456-"


def test_a_station_that_ignores_range_still_gives_a_whole_file(
    fake: FakeStation, options: Options
) -> None:
    data = os.urandom(50_000)
    fake.publish("e8", data, "C/d.pdf")
    part = options.dest / ".partial" / "e8.v1.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage that is not the start of the file")
    fake.faults.ignore_range = True
    assert once(options) == 0
    assert (options.dest / "C/d.pdf").read_bytes() == data


def test_a_garbled_partial_is_caught_by_the_checksum(fake: FakeStation, options: Options) -> None:
    data = os.urandom(50_000)
    fake.publish("e9", data, "C/e.pdf")
    part = options.dest / ".partial" / "e9.v1.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 10_000)  # the length a power cut may leave, without the data
    assert once(options) == 0
    assert (options.dest / "C/e.pdf").read_bytes() == data
    ranges = [h.get("Range") for h in fake.downloads()]
    assert ranges == ["bytes=10000-", None]


def test_a_corrupt_file_is_never_placed_and_is_retried_later(
    fake: FakeStation, options: Options
) -> None:
    fake.publish("good", pdf(1), "D/good.pdf")
    fake.publish("bad", pdf(2), "D/bad.pdf")
    fake.publish("later", pdf(3), "D/later.pdf")
    fake.faults.corrupt_entries = {"bad"}
    console = RecordingConsole()
    assert once(options, console) == 65
    assert not (options.dest / "D/bad.pdf").exists()
    assert (options.dest / "D/later.pdf").read_bytes() == pdf(3)
    assert "collect.file_failed" in console.said_keys()
    with State(options.state_dir) as state:
        [pending] = state.pending("st-fake01", dest_key(options.dest))
        assert pending.entry_id == "bad" and "SHA-256" in pending.error
        assert state.cursor("st-fake01", dest_key(options.dest)) == 3
    assert {a["entry_id"] for a in fake.acks} == {"good", "later"}
    fake.faults.corrupt_entries = set()
    assert once(options) == 0
    assert (options.dest / "D/bad.pdf").read_bytes() == pdf(2)
    with State(options.state_dir) as state:
        assert state.pending("st-fake01", dest_key(options.dest)) == []


def test_bytes_corrupted_in_transit_are_downloaded_again(
    fake: FakeStation, options: Options
) -> None:
    fake.publish("e1", pdf(1), "E/a.pdf")
    fake.faults.corrupt = 1
    assert once(options) == 0
    assert (options.dest / "E/a.pdf").read_bytes() == pdf(1)
    assert len(fake.downloads()) == 2


def test_a_foreign_file_at_the_name_is_moved_aside_never_overwritten(
    fake: FakeStation, options: Options
) -> None:
    target = options.dest / "F/f.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"someone's own file")
    fake.publish("e1", pdf(1), "F/f.pdf")
    assert once(options) == 0
    assert files_under(options.dest) == {
        "F/f.pdf": pdf(1),
        "_replaced/F/f.old.pdf": b"someone's own file",
    }


def test_a_file_already_there_is_adopted_without_downloading(
    fake: FakeStation, options: Options
) -> None:
    target = options.dest / "G/g.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(pdf(5))
    fake.publish("e5", pdf(5), "G/g.pdf")
    assert once(options) == 0
    assert fake.downloads() == []
    assert [a["entry_id"] for a in fake.acks] == ["e5"]


def test_a_withdrawn_entry_is_moved_aside(fake: FakeStation, options: Options) -> None:
    fake.publish("e1", pdf(1), "H/h.pdf")
    assert once(options) == 0
    fake.withdraw("e1")
    assert once(options) == 0
    assert files_under(options.dest) == {"_withdrawn/H/h.v1.pdf": pdf(1)}


@pytest.mark.parametrize(
    "name",
    ["../escape.pdf", "/etc/x.pdf", "A/../../x.pdf", "A\\..\\x.pdf", "C:/x.pdf", "A/CON.pdf",
     "_replaced/x.pdf", ".partial/x.pdf", "A/x.exe", "A /y.pdf", "A./y.pdf", ""],
)  # fmt: skip
def test_unsafe_names_are_refused_and_the_rest_still_arrives(
    fake: FakeStation, options: Options, name: str
) -> None:
    fake.publish("evil", b"%PDF evil", name)
    fake.publish("fine", pdf(1), "I/fine.pdf")
    assert once(options) == 65
    assert files_under(options.dest) == {"I/fine.pdf": pdf(1)}
    assert not (options.dest.parent / "escape.pdf").exists()


def test_a_revoked_token_stops_collection(fake: FakeStation, options: Options) -> None:
    fake.publish("e1", pdf(1), "J/j.pdf")
    fake.tokens.clear()
    console = RecordingConsole()
    assert once(options, console) == 77
    assert not (options.dest / "J/j.pdf").exists()


def test_an_impostor_certificate_gets_no_request_and_no_token(
    fake: FakeStation, options: Options, tmp_path: Path
) -> None:
    pair_with(fake, options.state_dir, fingerprint="0" * 64)
    fake.publish("e1", pdf(1), "K/k.pdf")
    assert once(options) == 77
    assert fake.requests == []


def test_the_cursor_only_covers_files_that_arrived(fake: FakeStation, options: Options) -> None:
    for n in range(4):
        fake.publish(f"e{n}", pdf(n, 50_000), f"L/{n}.pdf")
    # The connection drops in the middle of the third file (the fourth may be on its
    # way already: downloads run ahead on extra connections).
    fake.faults.cut_entries = {"e2": 10_000}
    assert once(options) == 75
    with State(options.state_dir) as state:
        assert state.cursor("st-fake01", dest_key(options.dest)) == 2
    placed = [name for name in files_under(options.dest) if not name.startswith(".partial/")]
    assert sorted(placed) == ["L/0.pdf", "L/1.pdf"]
    assert (options.dest / ".partial" / "e2.v1.part").stat().st_size == 10_000
    assert once(options) == 0
    assert sorted(files_under(options.dest)) == ["L/0.pdf", "L/1.pdf", "L/2.pdf", "L/3.pdf"]
    ranges = [h.get("Range") for h in fake.downloads() if "/e2/" in h["path"]]
    assert ranges == [None, "bytes=10000-"]


def test_a_file_the_station_cannot_serve_waits_without_holding_up_others(
    fake: FakeStation, options: Options
) -> None:
    for n in range(3):
        fake.publish(f"e{n}", pdf(n), f"O/{n}.pdf")
    fake.faults.status = {"/entries/e1/": 500}
    console = RecordingConsole()
    assert once(options, console) == 65
    assert sorted(files_under(options.dest)) == ["O/0.pdf", "O/2.pdf"]
    [(_, failed)] = [(k, v) for k, v in console.said if k == "collect.file_failed"]
    assert "HTTP 500: Forced failure" in str(failed["detail"])
    fake.faults.status = {}
    assert once(options) == 0
    assert sorted(files_under(options.dest)) == ["O/0.pdf", "O/1.pdf", "O/2.pdf"]


def test_the_feed_is_read_page_by_page(fake: FakeStation, options: Options) -> None:
    for n in range(7):
        fake.publish(f"e{n}", pdf(n), f"M/{n}.pdf")
    options.page_size = 3
    assert once(options) == 0
    assert len(files_under(options.dest)) == 7
    feeds = [path for method, path, _ in fake.requests if "/feed" in path]
    assert [p.split("since=")[1].split("&")[0] for p in feeds] == ["0", "3", "6"]


@contextlib.contextmanager
def running_collector(options: Options) -> Iterator[RecordingConsole]:
    """``Collector.run`` in a thread, with the console it speaks to; aborted and
    joined on leaving (it must have stopped)."""
    console = RecordingConsole()
    collector = Collector(options, console)
    thread = threading.Thread(target=collector.run, name="test-run")
    thread.start()
    try:
        yield console
    finally:
        collector.abort()
        thread.join(10)
    assert not thread.is_alive()


def test_a_fault_told_is_followed_by_back_once_a_pass_goes_through(
    fake: FakeStation, options: Options
) -> None:
    """A station that answers wrongly (here a forced error; a station stopped in the
    middle of an answer gives a broken one) is not unreachable, but the person was told
    of a fault, so they are told when it is over."""
    fake.publish("e1", pdf(1), "P/1.pdf")
    fake.faults.status = {"/feed": 500}
    with running_collector(options) as console:
        assert console.wait_for("collect.station_down")
        fake.faults.status = {}
        assert console.wait_for("collect.got")
        assert console.wait_for("collect.station_back")
    assert console.said_keys().count("collect.station_back") == 1


def test_run_keeps_collecting_through_a_station_reboot(fake: FakeStation, options: Options) -> None:
    fake.publish("e1", pdf(1), "N/1.pdf")
    with running_collector(options) as console:
        assert console.wait_for("collect.got")
        port = fake.address.port
        fake.stop()
        assert console.wait_for("collect.station_down")
        fake.publish("e1", pdf(2), "N/1.pdf")
        fake.publish("e2", pdf(3), "N/2.pdf")
        fake.start(port)
        assert console.wait_for("collect.station_back")
        assert console.wait_for("collect.got", 2)
        assert console.wait_for("collect.replaced")
    assert files_under(options.dest) == {
        "N/1.pdf": pdf(2),
        "N/2.pdf": pdf(3),
        "_replaced/N/1.v1.pdf": pdf(1),
    }


def test_an_entry_renamed_on_the_station_keeps_its_old_file_aside(
    fake: FakeStation, options: Options
) -> None:
    fake.publish("e1", pdf(1), "P/12.pdf")
    assert once(options) == 0
    fake.publish("e1", pdf(2), "P/12a.pdf")  # renumbered: the next version has a new name
    assert once(options) == 0
    assert files_under(options.dest) == {"P/12a.pdf": pdf(2), "_replaced/P/12.v1.pdf": pdf(1)}


def test_a_file_that_cannot_be_moved_waits_and_the_rest_arrives(
    fake: FakeStation, options: Options, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.publish("e1", pdf(1), "Q/1.pdf")
    assert once(options) == 0
    fake.publish("e1", pdf(2), "Q/1.pdf")
    fake.publish("e2", pdf(3), "Q/2.pdf")

    def in_use(source: Path, target: Path) -> Path:
        raise PermissionError(13, "being used by another process", str(source))

    monkeypatch.setattr(sync, "move_aside", in_use)  # as Windows does for an open file
    assert once(options) == 65
    assert files_under(options.dest) == {
        "Q/1.pdf": pdf(1),
        "Q/2.pdf": pdf(3),
        ".partial/e1.v2.part": pdf(2),  # verified, waiting to be put in place
    }
    monkeypatch.undo()
    downloads = len(fake.downloads())
    assert once(options) == 0
    assert len(fake.downloads()) == downloads  # the verified part is used, not fetched again
    assert files_under(options.dest) == {
        "Q/1.pdf": pdf(2),
        "Q/2.pdf": pdf(3),
        "_replaced/Q/1.v1.pdf": pdf(1),
    }


class FlappingCollector(Collector):
    """A link that fails again and again: (connected first?) per pass; sleeps recorded."""

    def __init__(self, options: Options, passes: list[bool]) -> None:
        super().__init__(options, RecordingConsole())
        self.passes = passes
        self.delays: list[float] = []

    def sync(self, state: State, pairing: Pairing, on_connected: object = None) -> PassResult:
        if not self.passes:
            self.stop.set()
            raise StoppedError()
        if self.passes.pop(0) and callable(on_connected):
            on_connected()  # the station answered, then the link dropped mid-pass
        raise UnreachableError(station=pairing.name, detail="link down")

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_the_backoff_starts_again_after_a_reconnect(options: Options) -> None:
    # Four passes that cannot connect wait longer each time; on a flapping link that
    # comes back, each pass connects first, so the next wait is short again (it was
    # 38 s after a few flaps).
    options = dataclasses.replace(options, backoff_first=1.0, backoff_max=60.0)
    collector = FlappingCollector(options, [False] * 4 + [True] * 3)
    with State(options.state_dir) as state:
        [pairing] = state.pairings()
        _Worker(collector, state, pairing.id).loop()
    growing, after_reconnects = collector.delays[:4], collector.delays[4:]
    assert [0.8 * 2**n <= d <= 1.2 * 2**n for n, d in enumerate(growing)] == [True] * 4
    assert len(after_reconnects) == 3 and max(after_reconnects) <= 1.2, collector.delays
