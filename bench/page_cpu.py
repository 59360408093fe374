"""How much CPU does one stored scanner capture cost, from its file to its PDFs?

Renders simulated 300-dpi A3 spreads with the simulator in scanner mode (one
``spread-2`` and one ``spread-stacked`` by default), stores each exactly as the
intake stores a scanner's pixels (``intake._raw_bytes``: lossless, with its dpi),
then, in this process with OpenCV on one thread and after one warm-up pass, runs the
station's own page path on the stored file: decode (``load_image``), segment
(``segment``), and for each entry cut (``cut_entry``) and encode (``entry_pdf``: the
ladder within the budget and the record put in, as ``station process`` makes it).
Each phase's CPU seconds (``time.process_time``; cut and encode summed over the
entries) are measured over ``--repeat`` passes. One row per spread prints the stored
file's MB, the best of each phase, the best total (the fastest pass), the entries
and the largest PDF's bytes. ``--cprofile N`` also prints the N functions with the
most cumulative CPU time over one pass. It prints figures; it does not judge them.

    nice -n 19 .venv/bin/python bench/page_cpu.py
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import cv2

from station.capture.drivers.base import CapturedImage
from station.capture.drivers.simulated.render.page import RenderSpec, render_page
from station.capture.intake import _raw_bytes
from station.core.layouts import get_profile
from station.core.models import Book, BookRef, Capture, Entry, Page, StationInfo, kb_bytes
from station.processing.batch.output import entry_record
from station.processing.imaging.load import load_image
from station.processing.imaging.segment import segment
from station.processing.page import cut_entry, entry_pdf, make_region
from station.store.publish import PublishPlan

DPI = 300
PROFILES = ("spread-2", "spread-stacked")
PHASES = ("decode", "segment", "cut", "encode")
BUDGET_KB = 100
STATION = StationInfo("st-bench", "bench")


@dataclass
class Pass:
    """CPU seconds per phase of one pass, and what it made."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    sizes: list[int] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.process_time()
        try:
            yield
        finally:
            self.seconds[name] += time.process_time() - started

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def store_capture(profile: str, folder: Path) -> Path:
    """A rendered spread written as the intake writes a scanner's pixels."""
    page = render_page(RenderSpec(profile=profile, dpi=DPI, seed=7, page_index=0))
    captured = CapturedImage(dpi=DPI, source="simulated", device="bench", image=page.image)
    data, suffix = _raw_bytes(captured)
    path = folder / f"{profile}{suffix}"
    path.write_bytes(data)
    return path


def run_pass(path: Path, profile_name: str) -> Pass:
    """The page path of ``station process`` and the pipeline on one stored capture."""
    measured = Pass()
    profile = get_profile(profile_name)
    book = Book(BookRef.parse("KS/2007/01"), profile=profile.name)
    with measured.phase("decode"):
        decoded = load_image(path, path.name)
    with measured.phase("segment"):
        found = segment(decoded.rgb, DPI, profile)
    height, width = decoded.rgb.shape[:2]
    capture = Capture(
        id="c-bench", book=book.ref.key, source="simulated", device="bench", dpi=DPI,
        captured_at="2026-01-01T00:00:00Z", raw_path=path.name, sha256="", width=width,
        height=height, sequence=1,
    )  # fmt: skip
    entries = [
        Entry(
            id=f"e{index}",
            book=book.ref.key,
            number=str(index + 1),
            regions=[make_region(capture.id, proposed, found.angle, 1, decoded)],
            flags=sorted({*found.flags, *proposed.flags}),
        )
        for index, proposed in enumerate(found.regions)
    ]
    page = Page(
        capture.id, book.ref.key, 1, profile.name, [e.id for e in entries],
        list(range(1, profile.pages_per_image + 1)), flags=sorted(found.flags),
    )  # fmt: skip
    for entry in entries:
        with measured.phase("cut"):
            pixels = cut_entry(decoded.rgb, entry.regions[0])
        with measured.phase("encode"):
            plan = plan_for(book, capture, page)
            finished = entry_pdf(pixels, DPI, kb_bytes(BUDGET_KB), entry, plan)
        measured.sizes.append(len(finished.data))
    return measured


def plan_for(book: Book, capture: Capture, page: Page) -> Callable[[Entry, str], PublishPlan]:
    """The record ``station process`` writes into each PDF."""

    def plan(entry: Entry, encoding: str) -> PublishPlan:
        relpath = PurePosixPath(f"{entry.number}.pdf")
        record = entry_record(STATION, book, entry, capture, page, relpath, encoding)
        return PublishPlan(entry, record, in_place=False)

    return plan


def measure(path: Path, profile: str, repeat: int) -> None:
    """Warm up, then print the best of ``repeat`` passes."""
    run_pass(path, profile)
    passes = [run_pass(path, profile) for _ in range(repeat)]
    best = {name: min(p.seconds[name] for p in passes) for name in PHASES}
    fastest = min(passes, key=lambda p: p.total)
    sizes = fastest.sizes
    cells = " ".join(f"{best[name]:8.3f}" for name in PHASES)
    print(
        f"{profile:16} {path.stat().st_size / 1e6:6.1f} {cells} {fastest.total:8.3f} "
        f"{len(sizes):7} {max(sizes, default=0):9}"
    )


def profile_pass(path: Path, profile: str, top: int) -> None:
    """Print the ``top`` functions by cumulative time over one pass."""
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(run_pass, path, profile)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="append", help="layout profile (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="measured passes (best kept)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print N hot spots")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="page-cpu-") as temp:
        stored = [(name, store_capture(name, Path(temp))) for name in args.profile or PROFILES]
        print(f"CPU seconds on one core, best of {args.repeat} after a warm-up, {DPI} dpi")
        heads = " ".join(f"{name:>8}" for name in PHASES)
        print(f"{'profile':16} {'MB':>6} {heads} {'total':>8} {'entries':>7} {'max bytes':>9}")
        for name, path in stored:
            measure(path, name, args.repeat)
        for name, path in stored if args.cprofile else []:
            print(f"\n=== {name}: top {args.cprofile} by cumulative CPU time ===")
            profile_pass(path, name, args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
