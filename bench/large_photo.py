"""How much memory does ``station process`` take on the largest photos we accept?

Run: ``nice -n 19 .venv/bin/python bench/large_photo.py [--dpi-a3] [--keep DIR]``.
Builds, in a temporary folder, the 42-megapixel test spread: a real page of
``../shared/real-pages/`` (the folder ``shared`` beside the repository checkout; the
image is never copied into the repository), ``bronod1_0015.jpg`` unless ``--page``
names another, upscaled to 7500 x 5600 px (bicubic) and saved as JPEG quality 90
with no dpi, as a phone would. With ``--dpi-a3`` it also renders a 300-dpi A3 spread
with the simulator (``spread-stacked``, camera mode, as ``bench/process_memory.py``
renders its photos). Each image goes through the product's own ``station process``
in a child process, exactly as ``bench/real_pages.py`` runs it (its ``process``:
CPU seconds from ``wait4``, peak RSS from the child's own ``VmHWM`` as it exits), and
one row per image prints the peak MB (interpreter and imports included), the CPU
seconds, the number of PDFs and the largest PDF's bytes. The targets (issue: 600 MB
for 42 MP, 400 MB for the A3 spread) are for the reader; it asserts nothing.

Origin and licence of the real page (``../shared/real-pages/SOURCES.md``; keep this
attribution wherever the images are used; the image file is unchanged, the upscaled
copy lives only in the temporary folder):

- HTR-United/lectaurep-bronod, "Lectaurep-Bronod, ground truth for Maître Bronod's
  documents (French XVIIIth century)" by Marie-Françoise Limon-Bonnet (Archives
  nationales), Alix Chagué (Inria), Aurélia Rostaing (Archives nationales), LECTAUREP
  project, doi:10.5281/zenodo.10631355, https://github.com/HTR-United/lectaurep-bronod,
  CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Repertory of notary Louis
  Bronod, Paris, 1742-1745, Archives nationales.
- HTR-United/lectaurep-repertoires and mzucker/page_dewarp (other ``--page`` choices):
  see the attribution in ``bench/real_pages.py``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

from station.capture.drivers.simulated.render.page import RenderSpec, render_page

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_pages import PAGES, ChildRun, process

#: The 42-megapixel spread the issue names: width, height in pixels.
LARGE_SIZE = (7500, 5600)
LARGE_PROFILE = "spread-stacked"
A3_DPI = 300


def large_photo(page: Path, folder: Path) -> Path:
    """``page`` upscaled to :data:`LARGE_SIZE`, saved as JPEG q90 without dpi."""
    path = folder / "images" / f"{page.stem}_42mp.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(page) as stored:
        large = stored.convert("RGB").resize(LARGE_SIZE, Image.Resampling.BICUBIC)
    large.save(path, quality=90)
    return path


def a3_spread(folder: Path) -> Path:
    """A 300-dpi A3 spread photo from the simulator, as ``bench/process_memory.py``."""
    path = folder / "a3" / "IMG_1.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = RenderSpec(profile=LARGE_PROFILE, dpi=A3_DPI, seed=7, page_index=0, camera=True)
    render_page(spec).image.save(path, quality=88)
    return path


def print_row(label: str, image: Path, run: ChildRun) -> None:
    """One image's figures."""
    with Image.open(image) as opened:
        megapixels = opened.width * opened.height / 1e6
    sizes = [e["bytes"] for e in run.report.get("entries", []) if e["file"]]
    print(
        f"{label:22} {megapixels:6.1f} {run.peak_mb:8.0f} {run.cpu_seconds:6.1f} "
        f"{len(sizes):5} {max(sizes, default=0):8} {run.exit_code:5}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of real pages")
    parser.add_argument("--page", default="bronod1_0015.jpg", help="the page to upscale")
    parser.add_argument("--dpi-a3", action="store_true", help="also a 300-dpi A3 spread")
    parser.add_argument("--keep", type=Path, help="keep images, outputs and reports here")
    args = parser.parse_args()
    page = args.pages / args.page
    if not page.is_file():
        print(f"no real page at {page} (see docs/developers.md)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="large-photo-") as temp:
        root = args.keep or Path(temp)
        root.mkdir(parents=True, exist_ok=True)
        rows = [("42 MP " + page.stem, large_photo(page, root), LARGE_PROFILE)]
        if args.dpi_a3:
            rows.append((f"A3 spread {A3_DPI} dpi", a3_spread(root), LARGE_PROFILE))
        print(f"{'image':22} {'MP':>6} {'peak MB':>8} {'CPU s':>6} {'PDFs':>5} {'max B':>8} "
              f"{'exit':>5}")  # fmt: skip
        for index, (label, image, profile) in enumerate(rows):
            work = root / f"run{index}"
            shutil.rmtree(work, ignore_errors=True)  # a kept folder: outputs are never overwritten
            work.mkdir()
            print_row(label, image, process(image, profile, work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
