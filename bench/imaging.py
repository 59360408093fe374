"""Imaging benchmark: cut simulated ledger pages into entry PDFs and measure them.

Run: ``.venv/bin/python bench/imaging.py [--quick]``. The corpus comes from the
simulated ledger renderer (every profile; scans skewed up to 5°, camera shots in
perspective on a table; faded ink; stamps; 300 and 400 dpi). For every page:
normalise + segment + crop (:mod:`station.processing.imaging.segment`), then ``encode_entry``.
On the *same* entries the same figures are taken for two comparison methods:

- ``field``: today's practice, a PDF holding the whole 300-dpi image as JPEG (q80)
  with a CropBox over the entry's true bounding box (its size is the whole image);
- ``lossless``: our crop stored lossless (Flate RGB, img2pdf-style).

Figures and their rules:
- **found**: regions proposed vs entries in the truth; pages flagged count_mismatch.
- **clean**: a cut is clean when ≥ 98% of the entry's truth polygon lies inside the
  region mapped back to capture pixels and no other entry has > 1% of its polygon
  inside it (:mod:`station.processing.imaging.cutcheck`; truth clipped to the image). A field
  PDF holds the whole image, so it is clean only when the image holds one entry;
  lossless uses our regions, so its figure equals ours.
- **size**: PDF bytes, median / p95 / max, and how many exceed the budget.
- **CER**: printed-text character error rate by tesseract ``vie`` on a
  ``pdftoppm -r 300`` render (rule in ``bench/_measure.py``), on a sample of entries
  (``--ocr``) because OCR takes seconds per entry; the same entries for every method.
- **ink**: handwriting ink recall (``legibility.ink_recall``: a truth ink pixel counts
  when the render is ≥ 20 grey levels darker than its local paper) of a render at the
  capture's dpi against the truth ink mask warped exactly like the crop; overall and on
  faded entries.
- **red**: stamps still red (``legibility.stamp_is_red``: median R - max(G, B) ≥ 40).
- **time / memory**: normalise + segment + crops of one spread per dpi, in a child
  process with OpenCV on one thread: CPU seconds (best of 3) and peak RSS.

A second corpus, reported apart under "real-like layouts" (skip it with
``--no-real-like``), is drawn in the renderer's register style: hand-ruled tables of
10-30 entries a page with no rule across the page between entries, one table across
a spread, page stacks and a shaded fold, and camera shots with a bent page and a
hand (``real_like_corpus``). Its entries carry no printed text, so its CER row is the
**written CER**: the same rule on the handwritten values (one truth line per value,
though the page wraps many over 2-4 lines, so the level is high; compare methods, not
levels). Cuts of pages whose entry count came out wrong are not measured, so its
clean share is also given over all its entries.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from station.capture.drivers.simulated.render.page import RenderedPage, RenderSpec, render_page
from station.core.layouts import get_profile
from station.processing.imaging.cutcheck import check_cut
from station.processing.imaging.load import load_rgb
from station.processing.imaging.segment import crop_region, region_polygon, segment
from station.processing.pdf.encode import encode_entry
from station.processing.pdf.legibility import ink_recall, stamp_is_red

# The bench helpers sit beside this script, which runs as a file, not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import field_pdf, lossless_pdf, ocr, printed_cer, render
from _report import REAL_LIKE_GROUPS, clean_of_all, print_corpus, print_report

log = logging.getLogger(__name__)

PROFILES = ("spread-2", "page-1", "stacked", "spread-stacked")
METHODS = ("ours", "field", "lossless")


def corpus(quick: bool, pages: int, seed: int = 100) -> list[RenderSpec]:
    """Specs per profile: scans and camera shots at 300 dpi, and some at 400 dpi.

    ``--quick``: one 300-dpi image per profile (camera shots for the stacked two) and
    one 400-dpi camera shot. ``seed``: the first page's seed (others follow it); the
    encoder was tuned on the default, so another one is a held-out corpus.
    """
    plan: list[tuple[str, int, int, bool]] = []
    if quick:
        plan = [(p, 300, 0, p.endswith("stacked")) for p in PROFILES]
        plan.append(("spread-2", 400, 1, True))
    else:
        for profile in PROFILES:
            plan += [(profile, 300, i, i % 2 == 1) for i in range(pages)]
            plan += [(profile, 400, i, i % 2 == 0) for i in range(max(1, pages // 2))]
    return [
        RenderSpec(
            profile=profile, dpi=dpi, seed=seed + index + dpi, page_index=index,
            skew_max_deg=5.0, camera=camera, faded_probability=0.35, stamp_probability=0.6,
        )
        for profile, dpi, index, camera in plan
    ]  # fmt: skip


def real_like_corpus(quick: bool, pages: int, seed: int = 100) -> list[RenderSpec]:
    """Register-style specs at 300 dpi: scans skewed up to 3°, camera shots bent up to
    10 mm with a hand half of the time. ``--quick``: a stacked scan, a bent
    spread shot and a bent stacked shot."""
    plan: list[tuple[str, int, bool]] = [
        ("stacked", 0, False), ("spread-table", 0, True), ("stacked", 1, True)
    ]  # fmt: skip
    if not quick:
        plan = [(p, i, i % 2 == 1) for p in ("stacked", "spread-table") for i in range(pages)]
    return [
        RenderSpec(
            profile=profile, dpi=300, seed=seed + 500 + index, page_index=index,
            style="register", skew_max_deg=3.0, camera=camera, faded_probability=0.35,
            bend_max_mm=10.0 if camera else 0.0, hand_probability=0.5 if camera else 0.0,
        )
        for profile, index, camera in plan
    ]  # fmt: skip


def warp_mask(
    mask: np.ndarray, box: tuple[int, int, int, int], warp: Any, bend: Any = None
) -> np.ndarray:
    """A truth mask moved exactly like ``crop_region`` moves the pixels (along a
    dewarped page's ``bend`` grid too).

    ``crop_region`` fills what lies outside the capture with white, which in a mask
    would be truth ink or seal: pixels touched by that fill are dropped.
    """
    crop = crop_region(np.dstack([mask] * 3), box, 0.0, warp, bend)
    outside = crop_region(np.zeros((*mask.shape, 3), np.uint8), box, 0.0, warp, bend)
    return np.asarray((crop[:, :, 0] > 127) & (outside[:, :, 0] == 0))


def _to_300(array: np.ndarray, dpi: int) -> np.ndarray:
    if dpi == 300:
        return array
    factor = 300 / dpi
    return np.asarray(cv2.resize(array, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA))


def measure_spec(job: tuple[int, RenderSpec, int, int]) -> dict:
    """Render one corpus page and measure it (run in a worker process)."""
    number, spec, budget, ocr_every = job
    result = measure_page(render_page(spec), budget, ocr_every, number)
    result["camera"] = spec.camera
    return result


def measure_page(page: RenderedPage, budget: int, ocr_every: int, number: int = 0) -> dict:
    """Every figure of one page's entries, for the three methods.

    Entry ``index`` of page ``number`` is read by OCR when ``number + index`` is a
    multiple of ``ocr_every``: the same entries whatever the order pages finish in.
    """
    rgb = np.asarray(page.image)
    dpi, size = page.dpi, page.image.size
    started = time.process_time()
    found = segment(rgb, dpi, get_profile(page.profile))
    crops = [crop_region(rgb, r.box, found.angle, r.warp, r.bend, r.shape) for r in found.regions]
    seg_cpu = time.process_time() - started
    ink, seal = np.asarray(page.ink_mask), np.asarray(page.stamp_mask)
    page300 = _to_300(rgb, dpi)
    polygons = [np.asarray(e.polygon) for e in page.entries]
    matched = len(found.regions) == len(page.entries)
    rows = []
    for index, truth in enumerate(page.entries):
        do_ocr = (number + index) % ocr_every == 0
        # Register entries print nothing of their own: read their handwriting instead.
        words = truth.printed_text or "\n".join(truth.handwritten.values())
        row: dict[str, Any] = {"profile": page.profile, "dpi": dpi, "faded": truth.faded}
        row["stamp"] = truth.has_stamp
        others = polygons[:index] + polygons[index + 1 :]
        box300 = tuple(round(v * 300 / dpi) for v in truth.box)
        field = field_pdf(page300, box300)  # type: ignore[arg-type]
        left, top, right, bottom = truth.box
        row["field"] = _figures(
            field, 300, ink[top:bottom, left:right] > 0, seal[top:bottom, left:right] > 0,
            words if do_ocr else None, len(page.entries) == 1, scale_masks=dpi,
        )  # fmt: skip
        if matched:
            region = found.regions[index]
            quad = region_polygon(region.box, region.warp, region.bend, region.shape)
            clean = check_cut(quad, polygons[index], others, size).clean
            ink_crop = warp_mask(ink, region.box, region.warp, region.bend)
            seal_crop = warp_mask(seal, region.box, region.warp, region.bend)
            text = words if do_ocr else None
            encoded = encode_entry(Image.fromarray(crops[index]), dpi, budget)
            row["ours"] = _figures(encoded.data, dpi, ink_crop, seal_crop, text, clean)
            row["ours"]["encoding"] = encoded.encoding
            lossless = lossless_pdf(crops[index], dpi)
            row["lossless"] = _figures(lossless, dpi, ink_crop, seal_crop, text, clean)
        rows.append(row)
    flagged = "count_mismatch" in found.flags
    return {"rows": rows, "seg_cpu": seg_cpu, "found": len(found.regions), "flagged": flagged,
            "truth": len(page.entries), "flags": found.flags}  # fmt: skip


def _figures(
    data: bytes, dpi: int, ink: np.ndarray, seal: np.ndarray, text: str | None, clean: bool,
    scale_masks: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Size, ink recall, stamp colour and (when ``text``) CER of one entry PDF."""
    rendered = render(data, dpi)
    if scale_masks is not None and scale_masks != dpi:
        shape = (rendered.shape[1], rendered.shape[0])
        ink = cv2.resize(ink.astype(np.uint8) * 255, shape, interpolation=cv2.INTER_AREA) > 127
        seal = cv2.resize(seal.astype(np.uint8) * 255, shape, interpolation=cv2.INTER_AREA) > 127
    figures: dict[str, Any] = {"bytes": len(data), "clean": clean}
    figures["ink"] = (int(ink.sum()), ink_recall(rendered, ink, dpi))
    figures["red"] = stamp_is_red(rendered, seal) if seal.sum() > 50 else None
    if text is not None:
        image = rendered if dpi == 300 else render(data, 300)
        figures["cer"] = printed_cer(text, ocr(image))
    return figures


def _child_timing(path: str, dpi: int, profile: str, queue: Any) -> None:
    """In a fresh process: CPU time and peak memory of normalise + segment + crops."""
    # A spawned child's ru_maxrss still counts the parent's pages at fork time; clearing
    # the kernel's high-water mark and reading VmHWM measures this process alone.
    Path("/proc/self/clear_refs").write_text("5")
    cv2.setNumThreads(1)
    rgb, _ = load_rgb(Path(path))  # the station's own loader, with its copies
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        found = segment(rgb, dpi, get_profile(profile))
        crops = [
            crop_region(rgb, r.box, found.angle, r.warp, r.bend, r.shape) for r in found.regions
        ]
        best = min(best, time.process_time() - started)
        del crops
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    queue.put((best, peak, rgb.shape))


def timing(dpis: list[int], folder: Path) -> list[tuple[int, float, float, tuple[int, ...]]]:
    """One A3 spread per dpi, measured in a child process each."""
    results = []
    context = multiprocessing.get_context("spawn")
    for dpi in dpis:
        page = render_page(RenderSpec(profile="spread-stacked", dpi=dpi, seed=5, skew_max_deg=5))
        path = folder / f"spread-{dpi}.png"
        page.image.save(path, compress_level=1)
        del page
        queue = context.Queue()
        child = context.Process(
            target=_child_timing, args=(str(path), dpi, "spread-stacked", queue)
        )
        child.start()
        best, peak, shape = queue.get(timeout=300)
        child.join()
        results.append((dpi, best, peak, shape))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small corpus (about a minute)")
    parser.add_argument("--pages", type=int, default=3, help="300-dpi pages per profile")
    parser.add_argument("--ocr", type=int, default=3, help="OCR every Nth entry (4 if --quick)")
    parser.add_argument("--budget-kb", type=int, default=100)
    parser.add_argument("--seed", type=int, default=100, help="first page seed (held-out runs)")
    parser.add_argument(
        "--no-real-like", action="store_true", help="skip the corpus of real-like layouts"
    )
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1),
        help="pages measured at once (the timing runs alone afterwards)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick and args.ocr == 3:
        args.ocr = 4
    cv2.setNumThreads(1)
    started = time.time()
    specs = corpus(args.quick, args.pages, args.seed)
    real_like = [] if args.no_real_like else real_like_corpus(args.quick, args.pages, args.seed)
    jobs = [(n, spec, args.budget_kb * 1024, args.ocr) for n, spec in enumerate(specs + real_like)]
    context = multiprocessing.get_context("spawn")
    # One OpenCV thread per worker: two workers share the two cores.
    with context.Pool(max(1, args.jobs), initializer=cv2.setNumThreads, initargs=(1,)) as pool:
        measured = pool.map(measure_spec, jobs, chunksize=1)
    pages, real_pages = measured[: len(specs)], measured[len(specs) :]
    entries = sum(len(page["rows"]) for page in pages)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        dpis = [300, 400] if args.quick else [300, 400, 600]
        times = timing(dpis, Path(folder))
    print_report(pages, times, args.budget_kb * 1024, METHODS)
    if real_pages:
        print("\n=== real-like layouts (register style; see the module docstring) ===")
        print_corpus(real_pages, args.budget_kb * 1024, METHODS, REAL_LIKE_GROUPS, "written CER")
        print(f"\nours cut cleanly, of all entries: {clean_of_all(real_pages)}")
    wall = time.time() - started
    real_entries = sum(len(page["rows"]) for page in real_pages)
    print(f"\n{len(specs)} pages (seed {args.seed}), {entries} entries; real-like "
          f"{len(real_pages)} pages, {real_entries} entries; OCR on every {args.ocr}th "
          f"entry; {args.jobs} jobs, wall time {wall:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
