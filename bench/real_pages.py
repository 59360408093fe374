"""Real register pages: score ``station process`` against their ground truth.

Run: ``nice -n 19 .venv/bin/python bench/real_pages.py [--only NAME ...]``. Every image
of ``../shared/real-pages/`` (the folder ``shared`` beside the repository checkout;
the images are never copied into the repository) goes through the product's own
``station process`` in a child process, one image per run, with the profile its
ground-truth JSON names. The child's CPU seconds come from ``wait4``, its peak RSS
from its own ``VmHWM`` as it exits (``ru_maxrss`` would count the bench's memory
that a forked child shares until it execs).
Each entry's polygon in the report (stored pixel grid, EXIF orientation not
applied) is scored against the truth by
:mod:`station.processing.imaging.truthscore` (the rules are in its docstring): entries
exact (by polygon area, and by writing: the text lines' share, which does not
depend on which side of a blank gap the ground truth put the boundary), leaked, split
text lines, entries with lost ink and whether a flag said so,
the product's own accounting of the ink outside every entry (``outside``: the share of
the page's ink outside every region that is neither header nor page edge, a blank
page's included, from the report's ``images[].outside_shares``; ``said``: over
:data:`LOST_SHARE` it is lost, and "SILENT" when no flag of :data:`NAMES_LOSS` names it),
orientation, PDF bytes (1 KB = 1000 bytes: a file counts as over when it holds more
than ``--limit`` bytes), CPU seconds and peak memory of the child (both include the
interpreter and imports, measured once on ``station process --help`` and printed at
the end) and the wall seconds the report gives the image itself. It prints figures
per image and for the tuning images, the held-out images and all; it judges nothing.

The split between images tuned on and images only measured is :data:`SPLIT` (see
``docs/developers.md``): about two thirds tuning, one third held out, every kind of
image in both, so a held-out figure says what a new page of a known kind gets.

Origin and licences (``../shared/real-pages/SOURCES.md``; keep this attribution
wherever the images are used; the image files are unchanged, the JSON files are
annotations made for this project):

- HTR-United/lectaurep-repertoires, "Notaires de Paris - Répertoires, ground truth for
  various Parisian registries of notary deeds (French 19th and 20th centuries)",
  version 2.0.0, by LECTAUREP (Archives nationales, Inria ALMAnaCH, EPHE): Aurélia
  Rostaing, Marc Durand, Alix Chagué. https://github.com/HTR-United/lectaurep-repertoires,
  CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Reproductions of the
  Minutier central des notaires de Paris, Archives nationales (France).
- HTR-United/lectaurep-bronod, "Lectaurep-Bronod, ground truth for Maître Bronod's
  documents (French XVIIIth century)" by Marie-Françoise Limon-Bonnet (Archives
  nationales), Alix Chagué (Inria), Aurélia Rostaing (Archives nationales), LECTAUREP
  project, doi:10.5281/zenodo.10631355, https://github.com/HTR-United/lectaurep-bronod,
  CC BY 4.0. Repertory of notary Louis Bronod, Paris, 1742-1745, Archives nationales.
- mzucker/page_dewarp example photos, https://github.com/mzucker/page_dewarp,
  MIT License, Copyright (c) 2016, Matt Zucker (full licence text in SOURCES.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from station.processing.imaging.outside import CONTENT_REASONS, FLAG_SHARE, OUTSIDE_FLAG
from station.processing.imaging.segment import BLANK_FLAG
from station.processing.imaging.truthscore import ImageScore, Truth, ink_mask, score_image

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO.parent / "shared" / "real-pages"
#: The kind of each image (the strata of the split).
KINDS = {
    "rep_riant4_06480_L-0.jpg": "repertory microfilm",
    "rep_dufour1_07645_L-0.jpg": "repertory microfilm",
    "rep_dufour1_07680_L-1.jpg": "repertory microfilm",
    "rep_randomset1_0073_L-0.jpg": "repertory colour",
    "rep_randomset1_1444_L-1.jpg": "repertory colour",
    "rep_randomset2_2674_L-1.jpg": "repertory colour",
    "bronod1_0003.jpg": "bronod spread",
    "bronod1_0015.jpg": "bronod spread",
    "bronod1_0033.jpg": "bronod spread",
    "bronod1_0059.jpg": "bronod spread",
    "bronod1_0068.jpg": "bronod spread",
    "dewarp_boston_cooking_a.jpg": "dewarp photo",
    "dewarp_boston_cooking_b.jpg": "dewarp photo",
    "dewarp_linguistics_thesis_b.jpg": "dewarp photo",
}
#: Images the imaging may be tuned on; every other image is only measured. Per kind,
#: the held-out image is another page of a book tuned on (dufour1_07680: a right-hand
#: page opening with a continued act), another scan set (randomset2), two spreads with
#: what the tuned ones lack (0033: an ornament mid-page; 0068: a title page) and the
#: facing page of a tuned photo (boston_b). 144 of the 216 entries are tuning entries.
HELD_OUT = (
    "rep_dufour1_07680_L-1.jpg",
    "rep_randomset2_2674_L-1.jpg",
    "bronod1_0033.jpg",
    "bronod1_0068.jpg",
    "dewarp_boston_cooking_b.jpg",
)
SPLIT = {name: "held-out" if name in HELD_OUT else "tuning" for name in KINDS}
INK_FACTOR = 4  # the ink mask is kept at a quarter of the stored resolution
#: Runs ``station.cli`` as ``-m`` would, and writes the process's peak RSS (KB, counted
#: from exec) to the file named by ``BENCH_PEAK_FILE`` as it exits.
CHILD = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status", encoding="ascii") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(kb)
atexit.register(peak)
sys.argv[0] = "station"
runpy.run_module("station.cli", run_name="__main__", alter_sys=True)
"""
#: Flags about numbering only: they say nothing about the content of a cut.
NOT_ABOUT_CONTENT = frozenset({"number_uncertain"})
#: Today's flags that do not name a loss of content (ink outside every cut); any other
#: flag, such as those issue 13 asks for, counts as naming it.
UNSPECIFIC = NOT_ABOUT_CONTENT | {
    "count_mismatch", "low_confidence", "faded", "ink_enhanced", "over_budget",
    "greyscale_fallback", "stained", "duplicate_number", "continues_overleaf",
    "missing_fields", "illegible",
}  # fmt: skip


#: Flags that name ink in no file (issue 13: content outside every entry, under the
#: last one, cut by the page's outline).
NAMES_LOSS = frozenset({OUTSIDE_FLAG, "ink_below_entries", "page_outline_uncertain", BLANK_FLAG})
#: Reasons of the product's accounting that name ink no file holds: its content
#: reasons, and a page judged blank (which may hold a faint entry).
LOST_REASONS = CONTENT_REASONS | {"blank_page"}
#: Content ink outside every region over this share of the page's ink is lost content
#: (the product's own threshold; under it, specks and flattening noise).
LOST_SHARE = FLAG_SHARE


@dataclass
class ChildRun:
    """One ``station process`` run: its report, exit status and cost."""

    report: dict[str, Any]
    exit_code: int
    cpu_seconds: float
    peak_mb: float
    wall_seconds: float


@dataclass
class Result:
    """One image: where it stands, what the child did, and its score."""

    name: str
    split: str
    kind: str
    run: ChildRun
    score: ImageScore
    flags: list[str]
    silent_loss: bool  # content lost and no flag at all on the image or its entries
    unnamed_loss: bool  # content lost and no flag that names a loss
    pdf_bytes: list[int]
    #: The product's accounting (report ``images[].outside_shares``): share of the
    #: page's ink outside every region that is neither header nor page edge ...
    outside: float = 0.0
    #: ... and whether it is lost (over LOST_SHARE) with no flag naming it.
    outside_silent: bool = False
    template: str = ""  # the truth JSON the image was cut by (--template first)


def process(image: Path, profile: str, work: Path, template: Path | None = None) -> ChildRun:
    """``station process`` on one image in a child: its report, CPU and peak RSS;
    ``template``: a confirmed page's truth JSON given as ``--template``."""
    report = work / "report.json"
    command = [
        sys.executable, "-c", CHILD, "--lang", "en", "process", str(image),
        "--book", "KS/2007/01", "--profile", profile, "--first-entry", "1",
        "--out", str(work / "out"), "--report", str(report),
    ]  # fmt: skip
    if template is not None:
        command += ["--template", str(template)]
    started = time.perf_counter()
    code, cpu, peak = run_child(command, work)
    wall = time.perf_counter() - started
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return ChildRun(data, code, cpu, peak, wall)


def run_child(command: list[str], work: Path) -> tuple[int, float, float]:
    """Run ``command`` (output to ``work/child.log``): exit code, CPU s, peak MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    peak_file = work / "peak_kb"
    env.update(STATION_DATA_DIR=str(work / "data"), BENCH_PEAK_FILE=str(peak_file))
    with open(work / "child.log", "wb") as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    peak = int(peak_file.read_text(encoding="ascii")) / 1024 if peak_file.exists() else 0.0
    return child.returncode, usage.ru_utime + usage.ru_stime, peak


def startup_cost(work: Path) -> tuple[float, float]:
    """CPU seconds and peak MB of ``station process --help``: the interpreter and the
    imports every per-image figure includes."""
    _, cpu, peak = run_child([sys.executable, "-c", CHILD, "process", "--help"], work)
    return cpu, peak


def regions_of(report: dict[str, Any]) -> list[np.ndarray]:
    """The polygons of the entries that were written to a file."""
    return [np.asarray(e["polygon"], np.float64) for e in report.get("entries", []) if e["file"]]


def flags_of(report: dict[str, Any]) -> list[str]:
    """Every flag the run put on the image or on its entries."""
    found = {f for i in report.get("images", []) for f in i["flags"]}
    found |= {f for e in report.get("entries", []) for f in e["flags"]}
    return sorted(found)


def measure(image: Path, work: Path, template: Path | None = None) -> Result:
    """Run and score one image (cut by ``template``, a truth JSON, when given)."""
    data = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
    run = process(image, data["profile"], work, template)
    with Image.open(image) as stored:  # the stored pixels: EXIF orientation not applied
        size = stored.size
        red = np.asarray(stored.convert("RGB").getchannel("R"))
    ink = ink_mask(red, INK_FACTOR)
    del red
    images = run.report.get("images", [])
    turns = images[0]["upright_turns"] if images and not images[0]["error"] else None
    score = score_image(Truth.from_json(data, size), regions_of(run.report), ink, INK_FACTOR, turns)
    flags = flags_of(run.report)
    lost = score.lost_entries > 0
    shares = images[0].get("outside_shares", {}) if images and not images[0]["error"] else {}
    outside = sum(float(v) for k, v in shares.items() if k in LOST_REASONS)
    return Result(
        name=image.name,
        split=SPLIT.get(image.name, "unlisted"),
        kind=KINDS.get(image.name, "unlisted"),
        run=run,
        score=score,
        flags=flags,
        silent_loss=lost and not set(flags) - NOT_ABOUT_CONTENT,
        unnamed_loss=lost and not set(flags) - UNSPECIFIC,
        pdf_bytes=[e["bytes"] for e in run.report.get("entries", []) if e["file"]],
        outside=outside,
        outside_silent=outside > LOST_SHARE and not NAMES_LOSS & set(flags),
        template="" if template is None else template.name,
    )


def _measure_in(args: tuple[Path, Path, Path | None]) -> Result:
    image, root, template = args
    work = root / (image.stem + ("" if template is None else ".template"))
    work.mkdir()
    return measure(image, work, template)


def page_images(folder: Path) -> list[Path] | None:
    """The images of ``folder`` that have their ground truth beside them, sorted; None
    (and why, on stderr) when the folder holds no real pages."""
    if not (folder / "SOURCES.md").is_file():
        print(f"no real pages at {folder} (see docs/developers.md)", file=sys.stderr)
        return None
    return sorted(p for p in folder.glob("*.jpg") if p.with_suffix(".json").is_file())


def chosen(images: Sequence[Path], only: Sequence[str]) -> list[Path]:
    """``images`` named in ``only`` (file name or stem); all of them when it is empty."""
    return [p for p in images if not only or p.name in only or p.stem in only]


def book_of(image: Path) -> str:
    """The book an image belongs to: its name before the last ``_``, once a page
    side's ``_L-<n>`` is dropped (``rep_dufour1_07645_L-0``: ``rep_dufour1``)."""
    return re.sub(r"_L-\d+$", "", image.stem).rsplit("_", 1)[0]


def first_pages(images: Sequence[Path]) -> dict[Path, Path]:
    """Each image of a book of several images, but the book's first (sorted order),
    with that first image's truth JSON: the page confirmed as the book's template."""
    books: dict[str, list[Path]] = {}
    for image in sorted(images):
        books.setdefault(book_of(image), []).append(image)
    return {
        image: pages[0].with_suffix(".json")
        for pages in books.values()
        if len(pages) > 1
        for image in pages[1:]
    }


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else f"{part}/0"


def _image_seconds(result: Result) -> float:
    """The wall seconds the report gives the image itself (decode to last file)."""
    images = result.run.report.get("images", [])
    return float(images[0]["timings"].get("total", 0.0)) if images else 0.0


def _said(result: Result) -> str:
    """Whether a loss was flagged: "silent", "unspecific" (only flags that do not name
    it) or "named"."""
    if result.silent_loss:
        return "silent"
    return "unspecific" if result.unnamed_loss else "named"


def _outside_said(result: Result) -> str:
    """The accounting's loss: "-" (none over LOST_SHARE), "named" or "SILENT"."""
    if result.outside <= LOST_SHARE:
        return "-"
    return "SILENT" if result.outside_silent else "named"


def print_images(results: Sequence[Result], limit: int) -> None:
    """One line per image."""
    print(f"{'image':32} {'set':8} {'true':>4} {'found':>5} {'exact':>5} {'by wr':>5} {'leak':>4} "
          f"{'split/lines':>11} {'ink':>3} {'lost':>4} {'ink lost':>8} {'loss flagged':>12} "
          f"{'outside':>7} {'said':>6} {'orient':>6} "
          f"{'PDFs':>4} {'max B':>7} {f'>{limit}':>7} {'CPU s':>6} {'image s':>7} {'peak MB':>7} "
          f"{'exit':>4}  flags")  # fmt: skip
    for r in results:
        s = r.score
        ink = f"{100 * s.ink_lost / s.ink:.1f}%" if s.ink else "-"
        orient = {None: "-", True: "right", False: "WRONG"}[s.orientation_right]
        said = "-" if not s.lost_entries else _said(r)
        over = sum(b > limit for b in r.pdf_bytes)
        print(f"{r.name[:32]:32} {r.split:8} {s.entries:>4} {s.found:>5} {s.exact:>5} "
              f"{s.exact_writing:>5} {s.leaked:>4} {f'{s.split_lines}/{s.lines}':>11} "
              f"{s.split_ink:>3} "
              f"{s.lost_entries:>4} "
              f"{ink:>8} {said:>12} {100 * r.outside:>6.2f}% {_outside_said(r):>6} {orient:>6} "
              f"{len(r.pdf_bytes):>4} {max(r.pdf_bytes, default=0):>7} {over:>7} "
              f"{r.run.cpu_seconds:>6.1f} {_image_seconds(r):>7.1f} {r.run.peak_mb:>7.0f} "
              f"{r.run.exit_code:>4}  "
              f"{','.join(r.flags)}")  # fmt: skip


def totals(chosen: Sequence[Result], limit: int) -> dict[str, str]:
    """The figures of a set of images, as printed."""
    scores = [r.score for r in chosen]
    true = sum(s.entries for s in scores)
    ink, lost = sum(s.ink for s in scores), sum(s.ink_lost for s in scores)
    sizes = [b for r in chosen for b in r.pdf_bytes]
    cpu = [r.run.cpu_seconds for r in chosen]
    unknown = sum(s.orientation_right is None for s in scores)
    wrong = str(sum(s.orientation_right is False for s in scores))
    return {
        "images": str(len(chosen)),
        "true": str(true),
        "exact": _pct(sum(s.exact for s in scores), true),
        "exact by writing": _pct(sum(s.exact_writing for s in scores), true),
        "leaked": str(sum(s.leaked for s in scores)),
        "split lines": f"{sum(s.split_lines for s in scores)}/{sum(s.lines for s in scores)}",
        "split by ink": str(sum(s.split_ink for s in scores)),
        "lost entries": str(sum(s.lost_entries for s in scores)),
        "ink lost": f"{100 * lost / ink:.1f}%" if ink else "-",
        "loss imgs silent/unnamed": f"{sum(r.silent_loss for r in chosen)}"
        f"/{sum(r.unnamed_loss for r in chosen)}",
        "outside lost/silent": f"{sum(r.outside > LOST_SHARE for r in chosen)}"
        f"/{sum(r.outside_silent for r in chosen)}",
        "outside max": f"{100 * max(r.outside for r in chosen):.2f}%",
        "orient wrong": wrong + (f" (+{unknown}?)" if unknown else ""),
        "PDFs": str(len(sizes)),
        "max B": str(max(sizes, default=0)),
        f">{limit}": str(sum(b > limit for b in sizes)),
        "CPU s mean/max": f"{np.mean(cpu):.1f}/{max(cpu):.1f}",
        "peak MB max": f"{max(r.run.peak_mb for r in chosen):.0f}",
    }


def print_totals(results: Sequence[Result], limit: int) -> None:
    """Tuning, held-out and all images."""
    rows = {
        group: totals(chosen, limit)
        for group in ("tuning", "held-out", "ALL")
        if (chosen := [r for r in results if group in ("ALL", r.split)])
    }
    if not rows:
        return
    names = list(next(iter(rows.values())))
    widths = [max(len(name), *(len(row[name]) for row in rows.values())) for name in names]
    print("\n" + f"{'set':9}" + "".join(f" {n:>{w}}" for n, w in zip(names, widths, strict=True)))
    for group, row in rows.items():
        cells = "".join(f" {row[n]:>{w}}" for n, w in zip(names, widths, strict=True))
        print(f"{group:9}{cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of images + JSON")
    parser.add_argument("--only", nargs="*", default=[], help="image names to run (default all)")
    parser.add_argument(
        "--limit", type=int, default=100_000, help="bytes a PDF may hold (1 KB = 1000 bytes)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1,
        help="images processed at once (CPU and memory are per child either way)",
    )  # fmt: skip
    parser.add_argument("--keep", type=Path, help="keep outputs and reports in this folder")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--template", choices=("first",),
        help="first: confirm each book's first image (its truth) as the book's template and "
        "cut the book's other images by it; figures of those images with and without it",
    )  # fmt: skip
    args = parser.parse_args()
    every = page_images(args.pages)
    if every is None:
        return 2
    templates = first_pages(every) if args.template else {}
    images = chosen(every, args.only)
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        print(f"--keep {args.keep}: the folder is not empty; give an empty or a new one",
              file=sys.stderr)  # fmt: skip
        return 2
    started = time.time()
    runs: list[tuple[Path, Path, Path | None]] = []
    with tempfile.TemporaryDirectory(prefix="real-pages-") as temp:
        root = args.keep or Path(temp)
        root.mkdir(parents=True, exist_ok=True)
        runs = [(image, root, None) for image in images]
        runs += [(image, root, templates[image]) for image in images if image in templates]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:  # each job is a child process
            done = list(pool.map(_measure_in, runs))
        startup = startup_cost(root)
    results = [r for r, run in zip(done, runs, strict=True) if run[2] is None]
    print_images(results, args.limit)
    print_totals(results, args.limit)
    if templates:
        cut = [r for r, run in zip(done, runs, strict=True) if run[2] is not None]
        names = {r.name for r in cut}
        print("\nThe images of books with a template (each book's first image confirmed):")
        print("without template:")
        print_totals([r for r in results if r.name in names], args.limit)
        print("\nwith template:")
        print_images(cut, args.limit)
        print_totals(cut, args.limit)
        results += cut
    print(f"\n{len(results)} images from {args.pages}; {args.jobs} job(s), "
          f"wall time {time.time() - started:.0f} s; CPU and peak include the interpreter "
          f"and imports: {startup[0]:.2f} s, {startup[1]:.0f} MB")  # fmt: skip
    if args.json:
        rows = [
            {"name": r.name, "split": r.split, "kind": r.kind, "flags": r.flags,
             "silent_loss": r.silent_loss, "unnamed_loss": r.unnamed_loss,
             "outside": r.outside, "outside_silent": r.outside_silent,
             "pdf_bytes": r.pdf_bytes, "template": r.template, "exit": r.run.exit_code,
             "cpu_seconds": r.run.cpu_seconds, "peak_mb": r.run.peak_mb, **vars(r.score)}
            for r in results
        ]  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
