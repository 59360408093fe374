"""The hot folder in a running station: real watchdog, real intake, real pipeline and PDFs.

Acceptance (issue 4): a file copied slowly in pieces, a non-image, a truncated JPEG, a
decompression bomb and a file present before start-up; none crashes the station or
loses a good page.
"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.capture.drivers.folder.watcher import CLAIM_DIR, HotFolder
from station.capture.image_file import captured_from_bytes
from station.core import config
from station.core.errors import DeviceError
from station.core.models import BookRef
from tests.support.checks import published_pdfs, qpdf_ok, raw_captures
from tests.support.hotfolder import Taker
from tests.support.http_client import Client
from tests.support.images import jpeg_bytes, ledger_jpeg, png_bomb
from tests.support.mounts import tmpfs
from tests.support.server import start_server
from tests.support.watching import wait_for

SETTLE = 0.4
BOOK = BookRef.parse("KS/2007/01")


def folder_config(data_dir: Path, hot: Path, device: str = "simulated") -> config.Config:
    text = f"""
[storage]
data_dir = "{data_dir}"
reserve_mb = 50
[capture]
device = "{device}"
dpi = 150
[capture.folder]
path = "{hot}"
settle_seconds = {SETTLE}
damaged_wait_seconds = 1.0
rescan_seconds = 0.5
[lan]
enabled = false
"""
    return config.parse(text, "test", environ={})


def wait_until(station: Station, done: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for an outcome of the station's own threads, waking on every queue change.

    A file moved aside changes no queue, so the wait is also bounded to short slices.
    """
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        station.intake.queue.wait_for_change(0.05)


def names(folder: Path) -> list[str]:
    """What an operator sees in a folder (the station's hidden .taking/ left out)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


@pytest.fixture
def hot(tmp_path: Path) -> Path:
    folder = tmp_path / "hot"
    folder.mkdir()
    return folder


@pytest.fixture
def station(data_dir: Path, hot: Path) -> Iterator[Station]:
    with Station(folder_config(data_dir, hot)) as running:
        yield running


def test_good_page_among_bad_files_present_before_start_up(data_dir: Path, hot: Path) -> None:
    good = ledger_jpeg()
    (hot / "page 1.jpg").write_bytes(good)
    (hot / "notes.jpg").write_bytes(b"shopping list, not a page\n" * 40)
    (hot / "cut.jpg").write_bytes(good[: len(good) // 2])
    (hot / "bomb.png").write_bytes(png_bomb())
    (hot / "copying.jpg.part").write_bytes(good[:1000])  # a copier's temp name: left alone
    with Station(folder_config(data_dir, hot)) as station:
        # No book is open yet: the files wait and the status says so.
        wait_until(station, lambda: station.status()["folder"]["values"]["waiting"] == 4)
        folder = station.status()["folder"]
        assert folder["message_key"] == "folder.waiting_book"
        assert "mở một sổ" in folder["message"]["vi"] and "open a book" in folder["message"]["en"]
        assert names(hot / "done") == [] and raw_captures(data_dir) == []

        station.open_book(BOOK)
        wait_until(station, lambda: len(names(hot / "rejected")) == 6)
        assert station.wait_idle(120)

        assert names(hot / "done") == ["page 1.jpg"]
        assert names(hot / "rejected") == [
            "bomb.png",
            "bomb.png.reason.txt",
            "cut.jpg",
            "cut.jpg.reason.txt",
            "notes.jpg",
            "notes.jpg.reason.txt",
        ]
        assert names(hot) == ["copying.jpg.part", "done", "rejected"]
        # The good page was kept verbatim and went all the way to its PDFs.
        raws = raw_captures(data_dir)
        assert [hashlib.sha256(p.read_bytes()).digest() for p in raws] == [
            hashlib.sha256(good).digest()
        ]
        pdfs = published_pdfs(data_dir)
        assert pdfs and all(qpdf_ok(pdf) for pdf in pdfs)
        assert station.intake.queue.failed() == []
        status = station.status()
        book = status["books"][0]
        assert (book["pages"], book["published"]) == (1, len(pdfs))
        # Still running and taking pages after all that.
        assert status["folder"]["state"] == "idle"
        assert status["folder"]["values"]["rejected"] == 3
        (hot / "page 2.jpg").write_bytes(jpeg_bytes())
        wait_until(station, lambda: "page 2.jpg" in names(hot / "done"))


def test_a_file_copied_slowly_is_taken_once_complete(
    station: Station, data_dir: Path, hot: Path
) -> None:
    station.open_book(BOOK)
    data = ledger_jpeg(seed=5)
    pieces = 12
    step = len(data) // pieces + 1
    with (hot / "slow scan.jpg").open("wb") as copier:
        for start in range(0, len(data), step):
            copier.write(data[start : start + step])
            copier.flush()
            # The copier's own pace (well under the settle time), not a wait for the station.
            time.sleep(SETTLE / 8)
            assert names(hot / "done") == [] and raw_captures(data_dir) == []
    wait_until(station, lambda: names(hot / "done") == ["slow scan.jpg"])
    raws = raw_captures(data_dir)
    assert len(raws) == 1 and raws[0].read_bytes() == data
    assert station.wait_idle(120)
    assert published_pdfs(data_dir)
    assert station.intake.queue.failed() == []


def test_files_that_arrived_while_the_station_was_down(data_dir: Path, hot: Path) -> None:
    settings = folder_config(data_dir, hot)
    with Station(settings) as station:
        station.open_book(BOOK)
        (hot / "first.jpg").write_bytes(jpeg_bytes(dpi=300))
        wait_until(station, lambda: names(hot / "done") == ["first.jpg"])
    (hot / "while down.jpg").write_bytes(jpeg_bytes(dpi=301))
    with Station(settings) as station:
        station.open_book(BOOK)
        wait_until(station, lambda: len(names(hot / "done")) == 2)
    assert names(hot / "done") == ["first.jpg", "while down.jpg"]
    assert len(raw_captures(data_dir)) == 2


def test_a_crash_between_hand_over_and_done_neither_loses_nor_doubles(
    data_dir: Path, hot: Path
) -> None:
    settings = folder_config(data_dir, hot)
    saved, unsaved = jpeg_bytes(dpi=300), jpeg_bytes(dpi=301)
    with Station(settings) as station:
        station.open_book(BOOK)
        station.deliver(
            captured_from_bytes(saved, "saved.jpg", source="folder", device="x", default_dpi=150)
        )
    # As a crash leaves them: one handed over but not yet moved, one claimed only.
    claim = hot / CLAIM_DIR
    claim.mkdir()
    (claim / "saved.jpg").write_bytes(saved)
    (claim / "unsaved.jpg").write_bytes(unsaved)
    with Station(settings) as station:
        station.open_book(BOOK)
        wait_until(station, lambda: len(names(hot / "done")) == 2)
    assert names(hot / "done") == ["saved.jpg", "unsaved.jpg"] and names(claim) == []
    assert sorted(p.read_bytes() for p in raw_captures(data_dir)) == sorted([saved, unsaved])


def test_a_folder_that_appears_later_is_watched(data_dir: Path, tmp_path: Path) -> None:
    share = tmp_path / "share"  # e.g. a network share not mounted yet at start-up
    with Station(folder_config(data_dir, share)) as station:
        station.open_book(BOOK)
        folder = station.status()["folder"]
        assert folder["state"] == "offline" and folder["message_key"] == "folder.missing"
        share.mkdir()
        (share / "late.jpg").write_bytes(jpeg_bytes())
        wait_until(station, lambda: names(share / "done") == ["late.jpg"])
        assert station.status()["folder"]["state"] == "idle"


def test_the_folder_as_the_capture_device(data_dir: Path, hot: Path) -> None:
    with Station(folder_config(data_dir, hot, device="folder")) as station:
        status = station.status()
        assert status["device"]["kind"] == "folder" and status["device"]["state"] == "idle"
        assert status["device"]["device"] == str(hot)
        driver = station.make_driver()
        book = station.open_book(BOOK)
        with pytest.raises(DeviceError, match="takes pages by itself"):
            station.capture(driver, book, 1)
        station.release(driver)
        assert station.status()["device"]["state"] == "idle"  # the watcher still reports


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_notifications_wake_the_folder_between_rescans(hot: Path, polling: bool) -> None:
    """With rescans a minute apart, only watchdog can bring the new file in this fast."""
    taker = Taker()
    arrived = threading.Event()
    taker.deliver = lambda captured: arrived.set()  # type: ignore[method-assign]
    options = {"path": str(hot), "settle_seconds": 0.2, "rescan_seconds": 60, "polling": polling}
    folder = HotFolder(options)
    folder.watch(taker.sink())
    try:
        folder.poll()  # the first look is done: from here on only a notification wakes it
        (hot / "scan.jpg").write_bytes(jpeg_bytes())
        assert arrived.wait(10)
    finally:
        folder.close()
    assert names(hot / "done") == ["scan.jpg"]


def test_hostile_files_in_a_served_station_are_refused_and_it_still_stops(
    tmp_path: Path,
) -> None:
    """Issue 15 (H2): a link to a secret, a FIFO, a device node and a forged name in the
    hot folder of a running station, its rejected folder on another file system: none is
    read, each has its reason, and SIGTERM still stops the station in time."""
    hot = tmp_path / "hot"
    hot.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("root:the-secret\n", encoding="utf-8")
    with tmpfs(tmp_path / "refused") as refused:
        (hot / "link.jpg").symlink_to(secret)
        os.mkfifo(hot / "fifo.jpg")
        os.mknod(hot / "device.jpg", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        (hot / "forged\nERROR station: x.jpg").write_bytes(jpeg_bytes())
        text = f"""
[capture.folder]
path = "{hot}"
rejected_dir = "{refused}"
settle_seconds = 0.2
rescan_seconds = 0.5
"""
        with start_server(tmp_path, text) as server:
            Client(server.url).set_up("2468", "Trần Văn Bình", book="2010/2", profile="page-1")
            left = [hot / f"{name}.reason.txt" for name in ("link.jpg", "fifo.jpg", "device.jpg")]
            moved = refused / "forged\nERROR station: x.jpg.reason.txt"
            wait_for(lambda: all(p.exists() for p in [*left, moved]), [hot, refused])
            for path in left:
                assert "not a regular file" in path.read_text(encoding="utf-8")
            assert "control characters" in moved.read_text(encoding="utf-8")
            assert all(
                "the-secret" not in p.read_bytes().decode(errors="replace")
                for p in refused.iterdir()
            )
            assert raw_captures(server.data_dir) == []  # nothing of them taken
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=20)  # the FIFO holds nothing up
        assert os.path.islink(hot / "link.jpg") and stat.S_ISFIFO(
            os.lstat(hot / "fifo.jpg").st_mode
        )
