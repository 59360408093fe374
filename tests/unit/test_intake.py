from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from station.capture import intake as intake_module
from station.capture.drivers.base import CapturedImage
from station.capture.intake import Intake, lossless_bytes
from station.core.errors import DiskFullError
from station.core.models import BookRef
from station.processing.imaging.load import load_image

BOOK = BookRef("KS", 2007, 1)


def _page(color: int = 200) -> CapturedImage:
    return CapturedImage(
        dpi=150, source="test", device="t:0", image=Image.new("RGB", (60, 40), (color,) * 3)
    )


def test_save_writes_raw_then_job(data_dir: Path) -> None:
    intake = Intake(data_dir, reserve_mb=1)
    job = intake.save(_page(), BOOK, "page-1", operator="Lan")
    raw = data_dir / job.capture.raw_path
    assert raw.suffix == ".tif"
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == job.capture.sha256
    assert (job.capture.width, job.capture.height) == (60, 40)
    assert [j.capture.id for j in intake.queue.pending()] == [job.capture.id]
    assert job.capture.operator == "Lan"


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_scanner_pixels_are_kept_losslessly_as_tiff_with_their_dpi(
    data_dir: Path, mode: str
) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB").convert(mode)
    captured = CapturedImage(dpi=300, source="test", device="t:0", image=image)
    job = Intake(data_dir, reserve_mb=1).save(captured, BOOK, "page-1")
    raw = data_dir / job.capture.raw_path
    with Image.open(raw) as stored:
        assert (stored.format, stored.info["compression"]) == ("TIFF", "zstd")
    decoded = load_image(raw)
    assert decoded.dpi == 300
    assert np.array_equal(decoded.rgb, np.asarray(image.convert("RGB")))


def test_bilevel_pixels_and_a_libtiff_without_zstd_are_kept_as_png(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bilevel = Image.new("1", (60, 40), 1)
    assert lossless_bytes(bilevel, 300)[1] == ".png"
    monkeypatch.setattr(intake_module, "_tiff_zstd_works", lambda: False)
    job = Intake(data_dir, reserve_mb=1).save(_page(), BOOK, "page-1")
    raw = data_dir / job.capture.raw_path
    assert raw.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load_image(raw).dpi == 150


def test_device_bytes_are_kept_verbatim(data_dir: Path) -> None:
    intake = Intake(data_dir, reserve_mb=1)
    payload = b"\xff\xd8\xff\xe0 not decoded at intake"
    job = intake.save(
        CapturedImage(dpi=300, source="phone", device="p", encoded=payload, format="JPEG"),
        BOOK,
        "page-1",
    )
    assert job.capture.raw_path.endswith(".jpg")
    assert (data_dir / job.capture.raw_path).read_bytes() == payload


def test_queue_keeps_capture_order_across_restarts(data_dir: Path) -> None:
    intake = Intake(data_dir, reserve_mb=1)
    first = [intake.save(_page(i), BOOK, "page-1").capture.id for i in range(3)]
    for job in intake.queue.pending():
        intake.finish(job)
    again = Intake(data_dir, reserve_mb=1)
    later = [again.save(_page(i), BOOK, "page-1") for i in range(2)]
    numbers = [int(job.name.split("-")[0]) for job in later]
    assert numbers == [4, 5]  # never reused, even though the first jobs are gone
    assert [j.capture.id for j in again.queue.pending()] == [j.capture.id for j in later]
    assert len(first) == 3


def test_failed_job_is_kept_with_reason(data_dir: Path) -> None:
    from station.core.errors import ImageError
    from station.processing.imaging import load  # registers the image messages

    assert load.MAX_PIXELS

    intake = Intake(data_dir, reserve_mb=1)
    job = intake.save(_page(), BOOK, "page-1")
    intake.fail(job, ImageError("image.not_image", source="x.jpg"))
    assert intake.queue.pending() == []
    [(kept, reason)] = intake.queue.failed()
    assert kept.capture.id == job.capture.id
    assert "không phải là ảnh" in reason["vi"]
    assert (data_dir / job.capture.raw_path).exists()
    Intake(data_dir, reserve_mb=1)  # a restart does not treat the raw file as an orphan
    assert (data_dir / job.capture.raw_path).exists()


def test_raw_without_job_is_moved_aside_not_deleted(data_dir: Path) -> None:
    stray = data_dir / "captures" / BOOK.key / "c123.png"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"pixels")
    Intake(data_dir, reserve_mb=1)
    assert not stray.exists()
    assert (data_dir / "orphans" / BOOK.key / "c123.png").read_bytes() == b"pixels"


def test_stale_temp_files_are_removed(data_dir: Path) -> None:
    queue_dir = data_dir / "queue"
    queue_dir.mkdir()
    (queue_dir / ".000000000001-c1.json.abcd1234.part").write_bytes(b"{")
    intake = Intake(data_dir, reserve_mb=1)
    assert list(queue_dir.glob("*.part")) == []
    assert intake.queue.pending() == []


def test_a_marker_half_written_at_a_crash_is_removed_not_taken_for_an_orphan(
    data_dir: Path,
) -> None:
    # Killed while finish() wrote a page's ".done" marker: its temp file stays beside
    # the raw capture, and is no capture to move aside (the crash-recovery test saw
    # one in orphans/ once).
    book = data_dir / "captures" / BOOK.key
    book.mkdir(parents=True)
    (book / "c1.tif").write_bytes(b"pixels")
    (book / "c1.tif.done").write_bytes(b"")
    (book / ".c1.tif.done.4b47a05b.part").write_bytes(b"")
    Intake(data_dir, reserve_mb=1)
    assert sorted(p.name for p in book.iterdir()) == ["c1.tif", "c1.tif.done"]
    assert not (data_dir / "orphans").exists() or not list((data_dir / "orphans").rglob("*"))


def test_disk_reserve_refuses_capture(data_dir: Path) -> None:
    intake = Intake(data_dir, reserve_mb=10**9)
    with pytest.raises(DiskFullError) as info:
        intake.save(_page(), BOOK, "page-1")
    assert "Ổ đĩa sắp đầy" in info.value.message("vi")
    assert list((data_dir / "captures").rglob("*.*")) == []


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_the_newest_page_is_handed_to_processing_once_as_saved(data_dir: Path, mode: str) -> None:
    """Processing takes the pixels intake just wrote instead of decoding the file; they
    are exactly the file's pixels, handed over once, and only for the page that is next
    in the queue (a queue that fell behind holds no pixels in memory)."""
    noise = np.random.default_rng(2).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    captured = CapturedImage(dpi=300, source="test", device="t:0", image=Image.fromarray(noise))
    captured.image = captured.image.convert(mode) if captured.image else None
    intake = Intake(data_dir, reserve_mb=1)
    job = intake.save(captured, BOOK, "page-1")
    held = intake.take_pixels(job.capture.id)
    assert held is not None and held.dpi == 300
    stored = load_image(data_dir / job.capture.raw_path)
    as_rgb = held.array if held.array.ndim == 3 else np.repeat(held.array[:, :, None], 3, axis=2)
    assert np.array_equal(as_rgb, stored.rgb)
    assert intake.take_pixels(job.capture.id) is None  # once

    behind = intake.save(_page(), BOOK, "page-1")  # the first job is still queued
    assert intake.take_pixels(behind.capture.id) is None


def test_a_saved_page_has_a_small_preview_at_once(data_dir: Path) -> None:
    """Scanner pixels and a phone's JPEG (EXIF-turned) both get a preview at most 640
    wide with the page's size as shown; only the newest pages are kept."""
    intake = Intake(data_dir, reserve_mb=1)
    wide = CapturedImage(dpi=300, source="t", device="t:0", image=Image.new("L", (3000, 1000), 90))
    job = intake.save(wide, BOOK, "page-1")
    preview = intake.preview(job.capture.id)
    assert preview is not None and preview.size == (3000, 1000)
    with Image.open(io.BytesIO(preview.jpeg)) as shown:
        assert shown.width <= 640 and abs(shown.width / shown.height - 3) < 0.05

    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown turned by 90 degrees
    Image.new("RGB", (1600, 1200), (200, 190, 180)).save(photo, "JPEG", exif=exif)
    phone = CapturedImage(dpi=200, source="phone", device="p", encoded=photo.getvalue(),
                          format="JPEG")  # fmt: skip
    turned = intake.preview(intake.save(phone, BOOK, "page-1").capture.id)
    assert turned is not None and turned.size == (1200, 1600)
    with Image.open(io.BytesIO(turned.jpeg)) as shown:
        assert shown.width < shown.height

    for _ in range(intake_module.PREVIEWS_KEPT):
        intake.save(_page(), BOOK, "page-1")
    assert intake.preview(job.capture.id) is None
