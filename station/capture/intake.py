"""Intake: a captured page is made safe on disk before anything else happens.

"Captured" means "safe": the raw image is written and fsynced, then a job describing it
is written and fsynced into a persistent queue. Processing takes jobs from the queue in
capture order, so a power cut never loses a page and capture never waits for
processing. A raw file without its job (a crash between the two writes) is moved aside
at start-up, never deleted.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from station.capture import raw_tiff
from station.capture.drivers.base import CapturedImage
from station.core import faults, messages
from station.core.diskspace import check_room
from station.core.errors import StationError, StoreError
from station.core.fsutil import fsync_dir, remove_stale_temps, write_atomic
from station.core.models import BookRef, Capture, new_id

log = logging.getLogger(__name__)


#: Width of the preview the screen shows as soon as a page is saved.
PREVIEW_WIDTH = 640
#: Previews kept in memory (the newest pages).
PREVIEWS_KEPT = 8
#: Raw captures without a job are moved here, per book, at start-up.
ORPHANS_DIR = "orphans"
#: File suffix for each format a device may hand over verbatim.
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif"}


@dataclass
class Job:
    """One captured page waiting to be processed."""

    name: str  # queue file name; sorts in capture order
    capture: Capture
    profile: str
    options: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"capture": self.capture.to_dict(), "profile": self.profile, "options": self.options}


class Queue:
    """A folder of job files, one per captured page, processed in order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        remove_stale_temps(self.root)

    def _next_number(self) -> int:
        numbers = [int(p.name.split("-", 1)[0]) for p in self.root.glob("*.json")]
        counter = self.root / "counter"
        with contextlib.suppress(FileNotFoundError, ValueError):
            numbers.append(int(counter.read_text()))
        return max(numbers, default=0) + 1

    def put(self, capture: Capture, profile: str, options: dict[str, Any]) -> Job:
        """Durably add a job; when this returns, the page survives a power cut."""
        with self._lock:
            number = self._next_number()
            # The counter outlives the job files, so numbers never go backwards.
            write_atomic(self.root / "counter", str(number).encode())
            job = Job(f"{number:012d}-{capture.id}.json", capture, profile, options)
            faults.checkpoint("intake.before_job")
            write_atomic(self.root / job.name, json.dumps(job.to_dict()).encode())
            self._changed.notify_all()
        return job

    def pending(self) -> list[Job]:
        """Every job not yet done, oldest first."""
        jobs = []
        for path in sorted(self.root.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            capture = Capture.from_dict(data["capture"])
            jobs.append(Job(path.name, capture, data["profile"], data.get("options", {})))
        return jobs

    def done(self, job: Job) -> None:
        """Remove a finished job durably."""
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                (self.root / job.name).unlink()
            fsync_dir(self.root)
            self._changed.notify_all()

    def fail(self, job: Job, reason: dict[str, str]) -> Path:
        """Move a job that cannot be processed aside, with its reason; nothing is lost."""
        failed = self.root / "failed"
        failed.mkdir(exist_ok=True)
        target = failed / job.name
        write_atomic(target, json.dumps({**job.to_dict(), "reason": reason}).encode())
        self.done(job)
        return target

    def failed(self) -> list[tuple[Job, dict[str, str]]]:
        """Jobs moved aside, with the reason in each language."""
        items = []
        for path in sorted((self.root / "failed").glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            job = Job(path.name, Capture.from_dict(data["capture"]), data["profile"], {})
            items.append((job, data.get("reason", {})))
        return items

    def wake(self) -> None:
        """Wake everyone waiting for a change (used at shutdown)."""
        with self._changed:
            self._changed.notify_all()

    def wait_for_change(self, timeout: float) -> None:
        """Block until a job is added or finished, or ``timeout`` seconds pass."""
        with self._changed:
            self._changed.wait(timeout)

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*.json"))


class Intake:
    """Saves raw captures and queues them for processing."""

    def __init__(self, data_dir: Path, reserve_mb: int) -> None:
        self.captures_dir = data_dir / "captures"
        self.captures_dir.mkdir(parents=True, exist_ok=True)
        self.queue = Queue(data_dir / "queue")
        self.reserve_mb = reserve_mb
        self.data_dir = data_dir
        #: The newest scanner page's pixels, kept for processing while it is next in
        #: the queue, so they are not decoded again from the file just written.
        self._fresh: tuple[str, Pixels] | None = None
        self._fresh_lock = threading.Lock()
        #: Small JPEGs of the newest pages saved, for the screen to show at once.
        self._previews: collections.OrderedDict[str, Preview] = collections.OrderedDict()
        # A file half written at a crash (a raw capture, a page's ".done" marker) is
        # removed before the raw captures without a job are looked for.
        remove_stale_temps(self.captures_dir)
        self.rescue_orphans()

    def check_space(self, incoming: int = 0) -> None:
        """Refuse a capture of ``incoming`` bytes that would eat into the disk reserve
        (DiskFullError), before anything is written: the pages already saved stay safe."""
        check_room(self.captures_dir, self.reserve_mb, incoming)

    def save(
        self,
        captured: CapturedImage,
        book: BookRef,
        profile: str,
        operator: str = "",
        options: dict[str, Any] | None = None,
    ) -> Job:
        """Write the raw capture and queue it; the returned job is safe on disk."""
        pixels = _pixels(captured)
        data, suffix = _raw_bytes(captured, pixels)
        self.check_space(len(data))
        capture_id = new_id("c")
        relative = Path("captures") / book.key / f"{capture_id}{suffix}"
        width, height = _dimensions(captured)
        capture = Capture(
            id=capture_id,
            book=book.key,
            source=captured.source,
            device=captured.device,
            dpi=captured.dpi,
            captured_at=captured.captured_at,
            raw_path=relative.as_posix(),
            sha256=hashlib.sha256(data).hexdigest(),
            width=width,
            height=height,
            operator=operator,
        )
        try:
            write_atomic(self.data_dir / relative, data, replace=False)
            faults.checkpoint("intake.after_raw")
            job = self.queue.put(capture, profile, options or {})
        except OSError as exc:
            raise StoreError(path=str(self.data_dir / relative), detail=str(exc)) from exc
        self._keep_preview(capture_id, pixels, captured)
        if pixels is not None and len(self.queue) <= 1:
            # Next to be processed: hand the pixels over (only the newest page is held,
            # and only when processing keeps up, so memory holds one page at most).
            with self._fresh_lock:
                self._fresh = (capture_id, Pixels(pixels, captured.dpi))
        return job

    def preview(self, capture_id: str) -> Preview | None:
        """The small JPEG of a page saved lately (made when it was saved), or None."""
        with self._fresh_lock:
            return self._previews.get(capture_id)

    def _keep_preview(
        self, capture_id: str, pixels: NDArray[np.uint8] | None, captured: CapturedImage
    ) -> None:
        try:
            preview = make_preview(pixels, captured.encoded)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            # Only the screen's early look is lost; processing reports a bad image.
            log.info("no preview of %s: %s", capture_id, exc)
            return
        with self._fresh_lock:
            self._previews[capture_id] = preview
            while len(self._previews) > PREVIEWS_KEPT:
                self._previews.popitem(last=False)

    def take_pixels(self, capture_id: str) -> Pixels | None:
        """The pixels of ``capture_id`` as saved, if still held (once), else None: the
        caller decodes the raw file, which holds exactly these pixels."""
        with self._fresh_lock:
            fresh, self._fresh = self._fresh, None
        if fresh is None or fresh[0] != capture_id:
            return None
        return fresh[1]

    def rescue_orphans(self) -> list[Path]:
        """Move raw files that never got a job (crash between the writes) aside."""
        jobs = self.queue.pending() + [job for job, _ in self.queue.failed()]
        queued = {job.capture.raw_path for job in jobs}
        orphans = []
        for raw in self.captures_dir.glob("*/*.*"):
            relative = raw.relative_to(self.data_dir).as_posix()
            if relative in queued or _is_processed(raw):
                continue
            orphans.append(raw)
        return [self._move_aside(raw) for raw in orphans]

    def _move_aside(self, raw: Path) -> Path:
        target = self.captures_dir.parent / ORPHANS_DIR / raw.parent.name / raw.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(raw, target)
        fsync_dir(target.parent)
        fsync_dir(raw.parent)
        log.warning("raw capture %s had no queue job; moved to %s", raw, target)
        return target

    def finish(self, job: Job) -> None:
        """A job is fully processed: mark its raw file, then drop the job."""
        raw = self.data_dir / job.capture.raw_path
        write_atomic(raw.with_name(raw.name + ".done"), b"")
        self.queue.done(job)

    def fail(self, job: Job, error: StationError) -> None:
        """A job could not be processed: keep it aside with the reason in both languages."""
        reason = {lang: error.message(lang) for lang in messages.LANGUAGES}
        self.queue.fail(job, reason)


def list_orphans(data_dir: Path) -> list[Path]:
    """Raw captures moved aside for want of a job (``orphans/<book>/<file>``), oldest
    name first; those already queued again (``orphans/.requeued/``) left out."""
    root = data_dir / ORPHANS_DIR
    return sorted(
        path
        for path in root.glob("*/*")
        if not path.parent.name.startswith(".") and not path.name.startswith(".")
    )


def _is_processed(raw: Path) -> bool:
    return raw.name.endswith(".done") or raw.with_name(raw.name + ".done").exists()


@dataclass(frozen=True)
class Preview:
    """A page's small JPEG and the size of the page it shows (width, height)."""

    jpeg: bytes
    size: tuple[int, int]


def make_preview(pixels: NDArray[np.uint8] | None, encoded: bytes | None) -> Preview:
    """A JPEG at most :data:`PREVIEW_WIDTH` wide of a scanner's pixels, or of a camera's
    or phone's file (decoded at a reduced scale, so a 12-megapixel photo costs little).
    The size is the page's as the station will show it (EXIF orientation applied)."""
    if pixels is not None:
        image = Image.fromarray(pixels)
        size = image.size
        image = image.reduce(max(1, -(-image.width // PREVIEW_WIDTH)))
    elif encoded is not None:
        with Image.open(io.BytesIO(encoded)) as opened:
            full = opened.size
            opened.draft("RGB", (PREVIEW_WIDTH, PREVIEW_WIDTH * full[1] // max(1, full[0])))
            image = ImageOps.exif_transpose(opened)
            turned = image.size != opened.size and image.size == opened.size[::-1]
            size = full[::-1] if turned else full
            image.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 4))
    else:
        raise ValueError("no pixels")
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=80)
    return Preview(buffer.getvalue(), size)


@dataclass(frozen=True)
class Pixels:
    """A scanner page's pixels as saved: H x W (grey) or H x W x 3 (RGB), read-only."""

    array: NDArray[np.uint8]
    dpi: int


def _pixels(captured: CapturedImage) -> NDArray[np.uint8] | None:
    """A device's decoded 8-bit grey or RGB pixels as an array (no copy kept by Pillow)."""
    if captured.encoded is not None or captured.image is None:
        return None
    if captured.image.mode not in ("L", "RGB"):
        return None
    return np.asarray(captured.image)


def _raw_bytes(
    captured: CapturedImage, pixels: NDArray[np.uint8] | None = None
) -> tuple[bytes, str]:
    """The bytes to keep: the device's own file verbatim, or the pixels losslessly."""
    if captured.encoded is not None:
        return captured.encoded, SUFFIXES.get(captured.format.upper(), ".bin")
    if captured.image is None:
        raise StoreError("intake.no_pixels", device=captured.device)
    return lossless_bytes(captured.image, captured.dpi, pixels)


def lossless_bytes(
    image: Image.Image, dpi: int, pixels: NDArray[np.uint8] | None = None
) -> tuple[bytes, str]:
    """``image`` stored losslessly with its dpi, and the file's suffix.

    8-bit grey and RGB: TIFF with zstd strips and horizontal differencing
    (:mod:`station.capture.raw_tiff`). On a 300-dpi A3 spread it is smaller than the PNG
    (level 1) captures were kept in before (15 against 17-18 MB), five times cheaper
    to write (0.45 against 2.2 s of CPU here) and four times cheaper to decode (0.2
    against 0.8 s), which processing pays on every page (``bench/tap_to_cuts.py``).
    PNG for other modes (differencing needs 8-bit samples) and when the installed
    Pillow cannot read zstd TIFFs.
    """
    if image.mode in ("L", "RGB") and _tiff_zstd_works():
        return raw_tiff.tiff_bytes(np.asarray(image) if pixels is None else pixels, dpi), ".tif"
    buffer = io.BytesIO()
    # Level 1: lossless and about as fast as writing raw pixels, a third of the size.
    image.save(buffer, format="PNG", compress_level=1, dpi=(dpi, dpi))
    return buffer.getvalue(), ".png"


@functools.cache
def _tiff_zstd_works() -> bool:
    """Whether Pillow's libtiff reads the zstd TIFFs written here (checked once)."""
    probe = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    try:
        with Image.open(io.BytesIO(raw_tiff.tiff_bytes(probe, 300))) as back:
            back.load()
            works = np.array_equal(np.asarray(back), probe)
    except (OSError, ValueError, KeyError):
        works = False
    if not works:
        log.warning("libtiff cannot read zstd here: scanner captures are kept as PNG")
    return works


def _dimensions(captured: CapturedImage) -> tuple[int, int]:
    if captured.image is not None:
        return captured.image.size
    return 0, 0  # unknown until decoded; untrusted bytes are not decoded here
