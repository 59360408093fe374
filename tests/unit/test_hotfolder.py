"""The hot folder's logic, driven step by step with an explicit clock (no threads).

``HotFolder.poll(now)`` is one look at the folder; giving it the time makes the settle
and damaged-file waits exact instead of slept for. The real watcher, intake and
pipeline are exercised in tests/integration/test_hotfolder.py.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from station.capture.drivers.base import CaptureContext, CapturedImage, DeviceState, DriverEvent
from station.capture.drivers.folder.files import free_name, ignored, move_unique, read_bounded
from station.capture.drivers.folder.settings import parse_options
from station.capture.drivers.folder.watcher import CLAIM_DIR, HotFolder, Sink
from station.capture.image_file import inspect_image
from station.core.errors import ConfigError, DeviceError, DiskFullError, ImageError
from station.core.printable import has_control, printable
from tests.support.hotfolder import Taker
from tests.support.images import jpeg_bytes, png_bomb
from tests.support.mounts import tmpfs

SETTLE = 2.0
DAMAGED_WAIT = 10.0
RESCAN = 5.0


# --- a folder driven by hand ---------------------------------------------------------------


@pytest.fixture
def hot(tmp_path: Path) -> Path:
    folder = tmp_path / "hot"
    folder.mkdir()
    return folder


def make_folder(
    hot: Path, taker: Taker, events: list[DriverEvent] | None = None, **options: Any
) -> HotFolder:
    values: dict[str, Any] = {
        "path": str(hot),
        "dpi": 200,
        "settle_seconds": SETTLE,
        "damaged_wait_seconds": DAMAGED_WAIT,
        "rescan_seconds": RESCAN,
    }
    values.update(options)
    folder = HotFolder(values, events.append if events is not None else None)
    folder.attach(taker.sink())
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- decoding untrusted files ------------------------------------------------------------


def test_inspect_reports_format_and_plausible_dpi() -> None:
    facts = inspect_image(jpeg_bytes(dpi=300), "a.jpg")
    assert (facts.format, facts.width, facts.height, facts.dpi) == ("JPEG", 240, 160, 300)
    assert inspect_image(jpeg_bytes(dpi=72), "phone.jpg").dpi is None  # a phone's 72 is no scan
    for fmt in ("PNG", "TIFF"):
        buffer = io.BytesIO()
        Image.new("L", (50, 40)).save(buffer, fmt)
        assert inspect_image(buffer.getvalue(), "x").format == fmt


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"%PDF-1.7 not a page image" * 20, "image.not_image"),
        (b"", "image.not_image"),
        (jpeg_bytes()[:400], "image.corrupt"),
        (png_bomb(), "image.too_large"),
        (png_bomb(12_000, 12_000), "image.too_large"),  # over our limit, under Pillow's error
    ],
    ids=["not-image", "empty", "truncated-jpeg", "bomb", "over-limit"],
)
def test_inspect_refuses_bad_files_with_their_reason(data: bytes, key: str) -> None:
    with pytest.raises(ImageError) as info:
        inspect_image(data, "bad")
    assert info.value.key == key
    assert "bad" in info.value.message("vi") and "bad" in info.value.message("en")


def test_inspect_refuses_formats_not_kept() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, "GIF")
    with pytest.raises(ImageError, match="not an image"):
        inspect_image(buffer.getvalue(), "anim.gif")


# --- names and moves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [".hidden.jpg", "~lock.jpg", "scan.jpg.part", "x.TMP", "a.crdownload", "Thumbs.db"]
)
def test_temporary_and_system_names_are_ignored(name: str) -> None:
    assert ignored(name)


def test_page_names_are_not_ignored() -> None:
    assert not ignored("scan 001.jpg") and not ignored("IMG_2040.JPG")


def test_moves_never_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "done"
    target.mkdir()
    (target / "scan.jpg").write_bytes(b"first")
    (target / "scan-2.jpg").write_bytes(b"second")
    source = tmp_path / "scan.jpg"
    source.write_bytes(b"third")
    moved = move_unique(source, target, "scan.jpg")
    assert moved.name == "scan-3.jpg" and moved.read_bytes() == b"third"
    assert (target / "scan.jpg").read_bytes() == b"first"
    assert free_name(target, "README").name == "README"


# --- settling --------------------------------------------------------------------------------


def test_a_file_is_taken_once_it_stops_changing(hot: Path) -> None:
    taker = Taker()
    folder = make_folder(hot, taker)
    data = jpeg_bytes()
    path = hot / "scan.jpg"
    path.write_bytes(data[:1000])
    assert folder.poll(now=0.0) == pytest.approx(SETTLE)
    with path.open("ab") as handle:  # still growing: the clock starts again
        handle.write(data[1000:])
    folder.poll(now=1.5)
    folder.poll(now=3.0)  # 1.5 s unchanged: not yet
    assert taker.pages == [] and path.exists()
    folder.poll(now=3.6)
    assert len(taker.pages) == 1
    page = taker.pages[0]
    assert page.encoded == data and page.format == "JPEG" and page.dpi == 300
    assert page.source == "folder" and page.device == str(hot)
    assert listing(hot) == ["done/scan.jpg"]
    folder.poll(now=10.0)
    assert len(taker.pages) == 1  # taken once


def test_configured_dpi_when_the_file_has_none(hot: Path) -> None:
    taker = Taker()
    folder = make_folder(hot, taker)
    (hot / "photo.jpg").write_bytes(jpeg_bytes(dpi=72))
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert taker.pages[0].dpi == 200


def test_files_wait_while_no_book_is_open(hot: Path) -> None:
    taker = Taker()
    taker.ready = False
    events: list[DriverEvent] = []
    folder = make_folder(hot, taker, events)
    (hot / "a.jpg").write_bytes(jpeg_bytes())
    (hot / "b.jpg").write_bytes(jpeg_bytes())
    folder.poll(now=0.0)
    folder.poll(now=SETTLE + 1)
    assert taker.pages == [] and listing(hot) == ["a.jpg", "b.jpg"]
    last = events[-1]
    assert last.state is DeviceState.IDLE and last.message_key == "folder.waiting_book"
    assert last.values["waiting"] == 2
    taker.ready = True
    folder.poll(now=SETTLE + 2)
    assert len(taker.pages) == 2 and listing(hot) == ["done/a.jpg", "done/b.jpg"]
    assert events[-1].message_key == "folder.watching" and events[-1].values["taken"] == 2


# --- bad files -------------------------------------------------------------------------------


def test_bad_files_are_moved_aside_with_a_bilingual_reason(hot: Path) -> None:
    taker = Taker()
    events: list[DriverEvent] = []
    folder = make_folder(hot, taker, events, damaged_wait_seconds=0, max_file_mb=1)
    (hot / "notes.jpg").write_bytes(b"meeting notes, not a page\n" * 10)
    (hot / "bomb.png").write_bytes(png_bomb())
    (hot / "cut.jpg").write_bytes(jpeg_bytes()[:500])
    (hot / "huge.tif").write_bytes(b"II*\0" + b"\0" * (1024 * 1024 + 10))
    (hot / "good.jpg").write_bytes(jpeg_bytes())
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert len(taker.pages) == 1  # the good page among them is taken
    assert listing(hot) == [
        "done/good.jpg",
        "rejected/bomb.png",
        "rejected/bomb.png.reason.txt",
        "rejected/cut.jpg",
        "rejected/cut.jpg.reason.txt",
        "rejected/huge.tif",
        "rejected/huge.tif.reason.txt",
        "rejected/notes.jpg",
        "rejected/notes.jpg.reason.txt",
    ]
    reasons = {
        name: (hot / "rejected" / f"{name}.reason.txt").read_text(encoding="utf-8")
        for name in ("notes.jpg", "bomb.png", "cut.jpg", "huge.tif")
    }
    assert "không phải là ảnh" in reasons["notes.jpg"] and "not an image" in reasons["notes.jpg"]
    assert "quá lớn" in reasons["bomb.png"] and "too large" in reasons["bomb.png"]
    assert "bị hỏng" in reasons["cut.jpg"] and "damaged or incomplete" in reasons["cut.jpg"]
    assert "copy it into the hot folder again" in reasons["cut.jpg"]
    assert "1 MB" in reasons["huge.tif"]
    assert events[-1].values["rejected"] == 4
    assert [e.message_key for e in events if e.kind == "error"] == [
        "image.too_large",
        "image.corrupt",
        "folder.too_big",
        "image.not_image",
    ]


def test_a_link_is_set_aside_not_followed(hot: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(jpeg_bytes())
    (hot / "link.jpg").symlink_to(secret)
    taker = Taker()
    folder = make_folder(hot, taker)
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert taker.pages == [] and secret.exists()
    assert (hot / "rejected" / "link.jpg").is_symlink()
    assert "not a regular file" in (hot / "rejected" / "link.jpg.reason.txt").read_text()


def test_a_truncated_file_gets_time_to_complete(hot: Path) -> None:
    """A slow device that pauses longer than the settle time is not punished."""
    taker = Taker()
    folder = make_folder(hot, taker)
    data = jpeg_bytes()
    path = hot / "slow.jpg"
    path.write_bytes(data[:600])
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)  # settled but does not decode: back in the folder, waiting
    assert taker.pages == [] and listing(hot) == ["slow.jpg"]
    next_look = folder.poll(now=SETTLE + 1)
    assert next_look == pytest.approx(min(DAMAGED_WAIT - SETTLE - 1, RESCAN))
    with path.open("ab") as handle:
        handle.write(data[600:])
    folder.poll(now=5.0)
    folder.poll(now=5.0 + SETTLE)
    assert [p.encoded for p in taker.pages] == [data]
    assert listing(hot) == ["done/slow.jpg"]


def test_a_truncated_file_that_never_completes_is_set_aside(hot: Path) -> None:
    taker = Taker()
    folder = make_folder(hot, taker)
    (hot / "cut.jpg").write_bytes(jpeg_bytes()[:600])
    (hot / "empty.jpg").write_bytes(b"")
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    folder.poll(now=DAMAGED_WAIT - 0.1)
    assert listing(hot) == ["cut.jpg", "empty.jpg"]
    folder.poll(now=DAMAGED_WAIT)
    assert listing(hot) == [
        "rejected/cut.jpg",
        "rejected/cut.jpg.reason.txt",
        "rejected/empty.jpg",
        "rejected/empty.jpg.reason.txt",
    ]


# --- nothing lost --------------------------------------------------------------------------


def test_a_page_intake_refuses_stays_in_the_folder(hot: Path) -> None:
    taker = Taker()
    taker.fail = DiskFullError(free_mb=10, reserve_mb=500)
    events: list[DriverEvent] = []
    folder = make_folder(hot, taker, events)
    data = jpeg_bytes()
    (hot / "page.jpg").write_bytes(data)
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert listing(hot) == ["page.jpg"]
    assert events[-1].state is DeviceState.ERROR
    assert "Disk nearly full" in events[-1].values["detail"]
    taker.fail = None
    folder.poll(now=SETTLE + 1)
    assert taker.pages == []  # tried again only after the rescan interval
    folder.poll(now=SETTLE + RESCAN)
    assert [p.encoded for p in taker.pages] == [data] and listing(hot) == ["done/page.jpg"]
    assert events[-1].state is DeviceState.IDLE


def test_a_failure_with_one_file_does_not_hold_up_the_others(hot: Path) -> None:
    taker = Taker()
    folder = make_folder(hot, taker)
    first, second = jpeg_bytes(dpi=300), jpeg_bytes(dpi=301)
    (hot / "a.jpg").write_bytes(first)
    (hot / "b.jpg").write_bytes(second)
    calls: list[bytes | None] = []

    def flaky(captured: CapturedImage) -> None:
        calls.append(captured.encoded)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        taker.pages.append(captured)

    folder.attach(Sink(flaky))
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert [p.encoded for p in taker.pages] == [second]
    assert listing(hot) == ["a.jpg", "done/b.jpg"]  # kept, to be tried again
    folder.poll(now=SETTLE + RESCAN)
    assert [p.encoded for p in taker.pages] == [second, first]


def test_a_claimed_file_left_by_a_crash_is_settled(hot: Path) -> None:
    taker = Taker()
    claim = hot / CLAIM_DIR
    claim.mkdir()
    delivered, not_delivered = jpeg_bytes(dpi=300), jpeg_bytes(dpi=301)
    (claim / "saved.jpg").write_bytes(delivered)
    (claim / "unsaved.jpg").write_bytes(not_delivered)
    taker.held.add(delivered)
    folder = make_folder(hot, taker)
    folder.rescue_claimed()
    assert listing(hot) == ["done/saved.jpg", "unsaved.jpg"]
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert [p.encoded for p in taker.pages] == [not_delivered]


def test_same_names_again_are_kept_apart(hot: Path) -> None:
    taker = Taker()
    folder = make_folder(hot, taker)
    for step in range(2):  # a scanner whose counter restarted
        (hot / "scan0001.jpg").write_bytes(jpeg_bytes(dpi=300 + step))
        folder.poll(now=10.0 * step)
        folder.poll(now=10.0 * step + SETTLE)
    assert listing(hot) == ["done/scan0001-2.jpg", "done/scan0001.jpg"]
    assert len(taker.pages) == 2


def test_done_and_rejected_folders_can_live_elsewhere(hot: Path, tmp_path: Path) -> None:
    taker = Taker()
    folder = make_folder(hot, taker, done_dir=str(tmp_path / "kept"), rejected_dir="../refused")
    (hot / "a.jpg").write_bytes(jpeg_bytes())
    (hot / "b.jpg").write_bytes(b"nope")
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert (tmp_path / "kept" / "a.jpg").exists()
    assert (tmp_path / "refused" / "b.jpg.reason.txt").exists()


# --- the driver interface ------------------------------------------------------------------


def test_missing_folder_is_offline_with_a_clear_message(tmp_path: Path) -> None:
    events: list[DriverEvent] = []
    folder = HotFolder({"path": str(tmp_path / "share")}, events.append)
    assert HotFolder.probe_folder(tmp_path / "share") == []
    with pytest.raises(DeviceError) as info:
        folder.open()
    assert "share" in info.value.message("vi") and "capture.folder.path" in info.value.message("en")
    assert events[-1].state is DeviceState.OFFLINE
    (tmp_path / "share").mkdir()
    folder.open()
    assert folder.state is DeviceState.IDLE
    assert HotFolder.probe_folder(tmp_path / "share")[0].device == str(tmp_path / "share")


def test_capture_says_the_folder_is_passive(hot: Path) -> None:
    # Given the book as any device is; its options are its own.
    folder = HotFolder({"path": str(hot)}, context=CaptureContext("page-1", 5))
    with pytest.raises(DeviceError, match="takes pages by itself"):
        next(iter(folder.capture(1)))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "capture.folder.path"),
        ({"path": "/x", "colour": True}, "colour"),
        ({"path": "/x", "done_dir": "."}, "done_dir"),
        ({"path": "/x", "polling": "yes"}, "polling"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_options(options)


def test_watching_starts_and_stops_its_threads(hot: Path) -> None:
    """A smoke test of the real loop; the suite's fixture fails on any thread left."""
    taker = Taker()
    folder = HotFolder({"path": str(hot), "settle_seconds": 0.1, "rescan_seconds": 0.5})
    folder.watch(taker.sink())
    folder.watch(taker.sink())  # a second call is harmless
    folder.close()
    assert folder.state is DeviceState.OFFLINE
    assert not os.path.exists(hot / "done")


# --- hostile files (issue 15, H2) -----------------------------------------------------------


def hostile_files(hot: Path, outside: Path) -> dict[str, str]:
    """A link to a file outside, a FIFO, a device node (or a socket), a name with a line
    break and another user's file; each name with the start of its expected reason."""
    outside.write_bytes(jpeg_bytes())
    (hot / "link.jpg").symlink_to(outside)
    os.mkfifo(hot / "fifo.jpg")
    try:
        os.mknod(hot / "device.jpg", 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null
    except PermissionError:  # not root: a socket is no file either
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(hot / "device.jpg"))
        listener.close()
    (hot / "forged\nERROR station: x.jpg").write_bytes(jpeg_bytes())
    expected = {
        "link.jpg": "not a regular file",
        "fifo.jpg": "not a regular file",
        "device.jpg": "not a regular file",
        "forged\nERROR station: x.jpg": "control characters",
    }
    if os.geteuid() == 0:  # only root can give a file away
        (hot / "theirs.jpg").write_bytes(jpeg_bytes())
        os.chown(hot / "theirs.jpg", 54321, -1)
        expected["theirs.jpg"] = "another user"
    return expected


def test_printable_escapes_what_would_forge_a_log_line() -> None:
    assert printable("a\nb\r\x1b[2Jc\u202ed") == "a\\x0ab\\x0d\\x1b[2Jc\\u202ed"
    assert printable("Sổ hộ tịch 01.jpg") == "Sổ hộ tịch 01.jpg"
    assert has_control("x\ny") and not has_control("trang 1.jpg")


def test_opening_refuses_links_fifos_and_others_files_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # a blocking open would hang here for good
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    for name in ("fifo", "link"):
        with pytest.raises(ImageError, match="not a regular file"):
            read_bounded(tmp_path / name, 100)
    (tmp_path / "mine").write_bytes(b"data")
    assert read_bounded(tmp_path / "mine", 100, frozenset({os.geteuid()})) == b"data"
    with pytest.raises(ImageError, match="another user") as refused:
        read_bounded(tmp_path / "mine", 100, frozenset({os.geteuid() + 1}))
    assert refused.value.key == "folder.not_owner"


def test_hostile_files_are_refused_unread_and_renamed_as_themselves(
    hot: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    expected = hostile_files(hot, tmp_path / "secret.jpg")
    taker = Taker()
    folder = make_folder(hot, taker)
    caplog.set_level(logging.INFO)
    folder.poll(now=0.0)
    folder.poll(now=SETTLE)
    assert taker.pages == []
    rejected = hot / "rejected"
    assert (rejected / "link.jpg").is_symlink()
    assert stat.S_ISFIFO((rejected / "fifo.jpg").lstat().st_mode)
    assert not stat.S_ISREG((rejected / "device.jpg").lstat().st_mode)
    for name, reason in expected.items():
        assert os.path.lexists(rejected / name)
        assert reason in (rejected / f"{name}.reason.txt").read_text(encoding="utf-8")
    assert all("\n" not in record.getMessage() for record in caplog.records)
    assert "forged\\x0aERROR station: x.jpg" in caplog.text


def test_hostile_files_stay_unread_when_rejected_is_on_another_file_system(
    hot: Path, tmp_path: Path
) -> None:
    """No rename reaches rejected/: a link or FIFO is left where it is, never copied."""
    with tmpfs(tmp_path / "elsewhere") as elsewhere:
        expected = hostile_files(hot, tmp_path / "secret.jpg")
        taker = Taker()
        folder = make_folder(hot, taker, rejected_dir=str(elsewhere))
        folder.poll(now=0.0)
        folder.poll(now=SETTLE)
        assert taker.pages == []
        for name in ("link.jpg", "fifo.jpg", "device.jpg"):
            assert os.path.lexists(hot / name) and not os.path.lexists(elsewhere / name)
            assert expected[name] in (hot / f"{name}.reason.txt").read_text(encoding="utf-8")
        # A regular file of ours with a bad name may be copied; another's is left too.
        assert (elsewhere / "forged\nERROR station: x.jpg.reason.txt").exists()
        if os.geteuid() == 0:
            assert (hot / "theirs.jpg.reason.txt").exists()
        assert sorted(p.name for p in elsewhere.iterdir()) == [
            "forged\nERROR station: x.jpg",
            "forged\nERROR station: x.jpg.reason.txt",
        ]  # nothing of the secret's, the FIFO's or the device's
        rejected_before = folder.counts.rejected
        folder.poll(now=2 * SETTLE)
        folder.poll(now=3 * SETTLE)  # left alone from now on, even after a restart
        assert folder.counts.rejected == rejected_before
        again = make_folder(hot, taker, rejected_dir=str(elsewhere))
        again.poll(now=0.0)
        again.poll(now=SETTLE)
        assert again.counts.rejected == 0 and taker.pages == []
