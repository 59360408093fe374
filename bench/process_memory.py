"""Does ``station process`` keep memory flat over a folder of phone photos?

Generates ``--count`` photo-like JPEGs with the simulated scanner (camera mode: a page
on a desk at an angle, no dpi metadata), runs ``station process`` over the folder in a
child process, samples the child's resident memory (VmRSS) every 0.2 s, and prints:
RSS once the first 10 images are done versus once the last is done, the maximum, the
growth per image (least-squares slope after the first 10), total time and the median
time per image. It prints figures; it does not judge them.

    .venv/bin/python bench/process_memory.py --count 100 --dpi 200
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from station.capture.drivers.simulated.render.page import RenderSpec, render_page

SAMPLE_SECONDS = 0.2
WARM_UP = 10


@dataclass
class Trace:
    """RSS samples (seconds since start, KB) and when each image finished."""

    samples: list[tuple[float, int]] = field(default_factory=list)
    finished: dict[int, float] = field(default_factory=dict)  # image index -> seconds


def generate(folder: Path, count: int, dpi: int, profile: str) -> float:
    """Write ``count`` camera-mode JPEGs ``IMG_1.jpg``...; return the seconds it took."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        if (folder / f"IMG_{k + 1}.jpg").exists():  # kept from an earlier run (--keep)
            continue
        spec = RenderSpec(profile=profile, dpi=dpi, seed=7, page_index=k, camera=True)
        render_page(spec).image.save(folder / f"IMG_{k + 1}.jpg", quality=88)
    return time.perf_counter() - started


def rss_kb(pid: int) -> int | None:
    """The process's resident set size in KB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _follow_stdout(child: subprocess.Popen[str], trace: Trace, start: float) -> None:
    """Note when each "Image k/N" line appears (the child prints it when k is done)."""
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("Image "):
            index = int(line.split()[1].split("/")[0])
            trace.finished[index] = time.perf_counter() - start


def run_process(images: Path, work: Path, profile: str) -> tuple[Trace, int, float]:
    """Run ``station process`` and sample its RSS; return the trace, exit code, seconds."""
    report = work / "report.json"
    command = [
        sys.executable, "-m", "station.cli", "--lang", "en", "process", str(images),
        "--book", "KS/2007/01", "--profile", profile, "--first-entry", "1",
        "--out", str(work / "out"), "--report", str(report),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    env.update(STATION_DATA_DIR=str(work / "data"), PYTHONUNBUFFERED="1")
    trace = Trace()
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    reader = threading.Thread(target=_follow_stdout, args=(child, trace, start), daemon=True)
    reader.start()
    while child.poll() is None:
        value = rss_kb(child.pid)
        if value is not None:
            trace.samples.append((time.perf_counter() - start, value))
        time.sleep(SAMPLE_SECONDS)
    reader.join(timeout=5)
    return trace, child.returncode, time.perf_counter() - start


def rss_at(trace: Trace, seconds: float) -> int:
    """The last sample taken at or before ``seconds`` (the first one if none is)."""
    before = [kb for t, kb in trace.samples if t <= seconds]
    return before[-1] if before else trace.samples[0][1]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 with fewer than two points)."""
    if len(points) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / den if den else 0.0


def peaks(trace: Trace, seconds: float) -> list[tuple[int, float]]:
    """(image, highest RSS in KB while it was processed), from image 1 on.

    Between images the decoded arrays are freed and RSS dips, so a sample taken as an
    image finishes is noisy; the peak while each image is worked on is the steady
    figure, and it is what would climb if anything were kept from image to image.
    """
    result = []
    previous = 0.0
    for index in sorted(trace.finished):
        end = trace.finished[index]
        window = [kb for t, kb in trace.samples if previous < t <= end]
        result.append((index, float(max(window) if window else rss_at(trace, end))))
        previous = end
    return result


def summarise(trace: Trace, report: dict[str, object], seconds: float, count: int) -> None:
    """Print the figures."""
    per_image = peaks(trace, seconds)
    head = max((kb for _, kb in per_image[:WARM_UP]), default=0.0)
    tail = max((kb for _, kb in per_image[-WARM_UP:]), default=0.0)
    growth = slope([p for p in per_image if p[0] > WARM_UP])
    images = report.get("images", [])
    assert isinstance(images, list)
    totals = [float(i["timings"].get("total", 0.0)) for i in images if not i.get("error")]
    shown = [f"{i}:{kb / 1024:.1f}" for i, kb in per_image if i % 10 == 0 or i == 1]
    print(f"images processed:           {len(totals)} of {count} (reported {len(images)})")
    print(f"peak RSS, first {WARM_UP} images:  {head / 1024:8.1f} MB")
    print(f"peak RSS, last {WARM_UP} images:   {tail / 1024:8.1f} MB")
    print(f"RSS max (whole run):        {max(kb for _, kb in trace.samples) / 1024:8.1f} MB")
    print(
        f"growth per image:           {growth:8.1f} KB/image (slope of peaks after image {WARM_UP})"
    )
    print(f"peak RSS (MB) by image:     {' '.join(shown)}")
    print(f"total time:                 {seconds:8.1f} s")
    if totals:
        median = statistics.median(totals)
        print(f"per-image median:           {median:8.2f} s (max {max(totals):.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="photos to generate")
    parser.add_argument("--dpi", type=int, default=200, help="dpi of the simulated photos")
    parser.add_argument("--profile", default="spread-2", help="layout profile")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the photos and output in this folder (photos found there are reused)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="process-memory-") as temp:
        work = args.keep or Path(temp)
        for stale in ("out", "data", "report.json"):  # a kept folder is reused for its photos
            path = work / stale
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        images = work / "images"
        made = generate(images, args.count, args.dpi, args.profile)
        print(f"generated {args.count} {args.profile} photos at {args.dpi} dpi in {made:.1f} s")
        trace, code, seconds = run_process(images, work, args.profile)
        report_path = work / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        print(f"station process exit status {code}; {len(trace.samples)} RSS samples")
        if trace.samples:
            summarise(trace, report, seconds, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
