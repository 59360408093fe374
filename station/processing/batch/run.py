"""``station process``: cut existing page photos into one PDF per entry, in batch.

Communes hold thousands of phone photos of their ledgers. This runs them through the
same steps as a capture (decode, segment, cut, encode, metadata) but writes the PDFs
into a plain output folder, named by the configured preset, plus a JSON report.

Decisions (documented for operators in the report and here):

* **One image at a time.** Each image is decoded, cut and encoded, then dropped before
  the next is opened; only small report rows outlive it, so memory stays flat over any
  number of photos (``bench/process_memory.py`` measures it).
* **A bad image is skipped, never fatal**: not an image, truncated, or a decompression
  bomb is reported (stderr and report) and the run goes on; the exit status is then
  that error's code.
* **Flagged pages still give files.** A page flagged ``count_mismatch`` or
  ``low_confidence`` (and an entry over budget) is written, because a person reviews
  the batch with the files at hand, but never silently: the entry's flags go into the
  report (``review: true``), into the PDF's record (status ``review``) and into the
  document info key ``/ReviewFlags``.
* **Numbers follow reading order** from ``--first-entry``. When an image cannot be
  read and the profile fixes the count per image (``spread-2``, ``page-1``), its
  numbers are reserved, so later numbers stay exact. Otherwise (a stacked page, or a
  count mismatch anywhere) every later entry is flagged ``number_uncertain``: its
  number rests on a count nobody confirmed.
* **Nothing is overwritten** in the output folder (see :mod:`station.processing.batch.output`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from numpy.typing import NDArray

from station.core import flagtext, naming
from station.core.config import Config
from station.core.errors import StationError, UsageError
from station.core.identity import station_identity
from station.core.layouts import LayoutProfile, get_profile
from station.core.models import (
    OVER_BUDGET,
    Book,
    BookRef,
    Capture,
    Entry,
    EntryStatus,
    Page,
    StationInfo,
    kb_bytes,
    new_id,
    utc_now,
)
from station.processing.batch.inputs import collect_images, file_facts, resolve_dpi
from station.processing.batch.output import OutputFolder, entry_record
from station.processing.batch.report import BatchReport, EntryRow, ImageRow, Problem
from station.processing.batch.template_file import read_template
from station.processing.imaging.geometry import EXIF_TURNS
from station.processing.imaging.load import Decoded, load_image
from station.processing.imaging.segment import Segmentation, segment
from station.processing.imaging.template import BookTemplate
from station.processing.numbering import NUMBER_FLAG
from station.processing.page import REVIEW_FLAGS, cut_entry, entry_pdf, make_region
from station.store.publish import PublishPlan

log = logging.getLogger(__name__)

#: Flags that mark a written file for a person to check.
BATCH_REVIEW_FLAGS = REVIEW_FLAGS | {OVER_BUDGET}  # REVIEW_FLAGS holds NUMBER_FLAG
#: The smallest budget the configuration accepts (processing.budget_kb).
MIN_BUDGET_KB = 20


@dataclass
class BatchJob:
    """Everything a run needs, checked before the first image is opened."""

    images: list[Path]
    book: Book
    profile: LayoutProfile
    output: OutputFolder
    station: StationInfo
    budget_bytes: int
    first_page: int = 1
    #: The book's template the pages are cut by (``--template``), if any.
    template: BookTemplate | None = None


@dataclass
class Numbering:
    """The next entry number, and why later numbers are uncertain ("" if they are not)."""

    next: int
    doubt: str = ""

    def take(self, count: int) -> list[str]:
        numbers = [str(self.next + i) for i in range(count)]
        self.next += count
        return numbers


@dataclass
class Clock:
    """Adds the seconds spent in each named step to an image's timings."""

    timings: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.timings[step] = round(self.timings.get(step, 0.0) + elapsed, 4)


ImageCallback = Callable[[ImageRow, list[EntryRow]], None]


def make_job(
    cfg: Config,
    inputs: Sequence[Path],
    book: str,
    profile: str | None,
    first_entry: int,
    out_dir: Path,
    budget_kb: int | None = None,
    first_page: int = 1,
    template: Path | None = None,
    template_image: Path | None = None,
) -> BatchJob:
    """Check the arguments and build the job; raises before any image is touched."""
    budget_kb = cfg.processing.budget_kb if budget_kb is None else budget_kb
    if budget_kb < MIN_BUDGET_KB:
        raise UsageError("batch.bad_budget", min=MIN_BUDGET_KB, value=budget_kb)
    for option, value in (("--first-entry", first_entry), ("--first-page", first_page)):
        if value < 1:
            raise UsageError("batch.bad_first", option=option, value=value)
    layout = get_profile(profile or cfg.processing.default_profile)
    ref = BookRef.parse(book)
    extra = Path(cfg.processing.naming_dir) if cfg.processing.naming_dir else None
    presets = naming.load_presets(extra)
    if cfg.processing.naming_preset not in presets:
        raise naming.unknown_preset(cfg.processing.naming_preset, presets)
    office = cfg.station.office_code
    output = OutputFolder(out_dir, presets[cfg.processing.naming_preset], office)
    the_book = Book(ref, office, cfg.station.office_name, layout.name, first_entry, first_entry)
    # A preset needing what a photo cannot tell (a registration date) fails here, once.
    output.name_for(the_book, str(first_entry), first_page)
    images = collect_images(inputs)
    station = station_identity(cfg, cfg.data_dir)
    budget = kb_bytes(budget_kb)
    learnt = read_template(template, layout, template_image) if template else None
    return BatchJob(images, the_book, layout, output, station, budget, first_page, learnt)


def run(
    job: BatchJob, report_path: Path | None = None, on_image: ImageCallback | None = None
) -> BatchReport:
    """Process every image in order; the report is saved even if the run is cut short."""
    book = job.book
    report = BatchReport(
        str(book.ref), job.profile.name, book.first_entry, str(job.output.root), job.budget_bytes
    )
    numbering = Numbering(book.first_entry)
    try:
        for index, path in enumerate(job.images, start=1):
            image_row, entry_rows = process_image(job, numbering, index, path)
            report.images.append(image_row)
            report.entries.extend(entry_rows)
            if on_image is not None:
                on_image(image_row, entry_rows)
    finally:
        report.finished_at = utc_now()
        if report_path is not None:
            report.save(report_path)
    return report


def process_image(
    job: BatchJob, numbering: Numbering, index: int, path: Path
) -> tuple[ImageRow, list[EntryRow]]:
    """One image, start to end; its errors go into its row, never out of here."""
    row = ImageRow(index, str(path))
    clock = Clock(row.timings)
    entries: list[EntryRow] = []
    with clock("total"):
        try:
            _cut_and_write(job, numbering, row, path, clock, entries)
        except StationError as exc:
            log.info("image %d (%s) skipped: %s", index, path, exc.message("en"))
            row.error = Problem.of(exc)
        except Exception as exc:  # a bug on one photo must not stop a run of thousands
            log.exception("image %d (%s) failed", index, path)
            row.error = Problem.of(StationError(detail=repr(exc)))
    if row.error is not None and not row.entries:
        _skip_numbers(job.profile, numbering, row)
    job.book.next_entry = numbering.next
    return row, entries


def _skip_numbers(profile: LayoutProfile, numbering: Numbering, row: ImageRow) -> None:
    """An unreadable image still holds entries: reserve them if their count is fixed."""
    if profile.fixed_count:
        row.reserved_numbers = numbering.take(profile.entries_min * profile.pages_per_image)
    elif not numbering.doubt:
        numbering.doubt = f"image {row.index} could not be read"


def _cut_and_write(
    job: BatchJob,
    numbering: Numbering,
    row: ImageRow,
    path: Path,
    clock: Clock,
    out: list[EntryRow],
) -> None:
    with clock("decode"):
        decoded = load_image(path, str(path))
        rgb = decoded.rgb
        row.height, row.width = rgb.shape[:2]
        row.orientation = decoded.orientation
        row.dpi, row.dpi_source = resolve_dpi(decoded.dpi, row.width, job.profile)
        row.sha256, captured_at = file_facts(path)
    with clock("segment"):
        found = segment(rgb, row.dpi, job.profile, job.template)
    row.flags = sorted(found.flags)
    row.flag_details = found.details
    row.flag_text = [flagtext.both(f, found.details) for f in row.flags]
    row.outside = [piece.to_dict() for piece in found.outside.pieces]
    row.outside_shares = {k: round(v, 5) for k, v in found.outside.shares.items()}
    row.template_refused = found.template_refused
    row.upright_turns = (EXIF_TURNS[decoded.orientation] + found.turns) % 4
    capture = Capture(
        id=new_id("c"),
        book=job.book.ref.key,
        source="batch",
        device="file",
        dpi=row.dpi,
        captured_at=captured_at,
        raw_path=str(path),
        sha256=row.sha256,
        width=row.width,
        height=row.height,
        sequence=row.index,
    )
    page, entries = _propose(job, numbering, capture, found, decoded)
    row.entries = len(entries)
    row.first_number = entries[0].number if entries else ""
    for entry in entries:
        out.append(_write_entry(job, rgb, capture, page, entry, clock))


def _propose(
    job: BatchJob, numbering: Numbering, capture: Capture, found: Segmentation, source: Decoded
) -> tuple[Page, list[Entry]]:
    """Number the regions in reading order and make the page and its entries."""
    per_image = job.profile.pages_per_image
    first_page = job.first_page + (capture.sequence - 1) * per_image
    flags = sorted(found.flags) + ([NUMBER_FLAG] if numbering.doubt else [])
    numbers = numbering.take(len(found.regions))
    entries = [
        Entry(
            id=new_id("e"),
            book=job.book.ref.key,
            number=number,
            regions=[make_region(capture.id, proposed, found.angle, first_page, source)],
            flags=sorted({*flags, *proposed.flags}),
            source_key=f"{capture.id}#{index}",
        )
        for index, (number, proposed) in enumerate(zip(numbers, found.regions, strict=True))
    ]
    if "count_mismatch" in found.flags and not numbering.doubt:
        numbering.doubt = f"count mismatch on image {capture.sequence}"
    page = Page(
        capture_id=capture.id,
        book=job.book.ref.key,
        sequence=capture.sequence,
        profile=job.profile.name,
        entry_ids=[e.id for e in entries],
        page_numbers=[first_page + side for side in range(per_image)],
        flags=sorted(found.flags),
        confidence=found.confidence,
        outside=[piece.to_dict() for piece in found.outside.pieces],
        flag_details=found.details,
    )
    return page, entries


def _write_entry(
    job: BatchJob,
    rgb: NDArray[np.uint8],
    capture: Capture,
    page: Page,
    entry: Entry,
    clock: Clock,
) -> EntryRow:
    region = entry.regions[0]
    row = EntryRow(
        number=entry.number,
        image=capture.sequence,
        source=capture.raw_path,
        page_side=region.page_side,
        page_number=region.page_number or 0,
        polygon=region.source_polygon or [],
    )
    try:
        relpath = job.output.name_for(job.book, entry.number, region.page_number)
        # Checked before encoding too, so a re-run over the same folder is quick.
        job.output.check_free(relpath, entry.number)
        with clock("encode"):
            data, row.encoding = _encode(job, rgb, capture, page, entry, relpath)
        with clock("write"):
            written = job.output.write(relpath, data, entry.number)
        row.file, row.bytes, row.sha256 = written.relpath.as_posix(), written.size, written.sha256
    except StationError as exc:
        log.info("entry %s not written: %s", entry.number, exc.message("en"))
        row.error = Problem.of(exc)
    row.flags = list(entry.flags)
    row.review = bool(BATCH_REVIEW_FLAGS.intersection(entry.flags))
    return row


def _encode(
    job: BatchJob,
    rgb: NDArray[np.uint8],
    capture: Capture,
    page: Page,
    entry: Entry,
    relpath: PurePosixPath,
) -> tuple[bytes, str]:
    """The entry's finished PDF (record included, within the budget) and its encoding."""

    def plan_for(draft: Entry, encoding: str) -> PublishPlan:
        # Flagged files are written too, but their record says they await review.
        review = bool(BATCH_REVIEW_FLAGS.intersection(draft.flags))
        draft.status = EntryStatus.REVIEW if review else EntryStatus.PUBLISHED
        record = entry_record(job.station, job.book, draft, capture, page, relpath, encoding)
        return PublishPlan(draft, record, in_place=False)

    info = {"ReviewFlags": " ".join(entry.flags)} if entry.flags else None
    pixels = cut_entry(rgb, entry.regions[0])
    finished = entry_pdf(pixels, capture.dpi, job.budget_bytes, entry, plan_for, info=info)
    return finished.data, finished.encoding
