"""What ``station process`` prints while it runs: a line per image and per file on
stdout, a line per error on stderr, in the chosen language, and the closing summary."""

from __future__ import annotations

import logging
import sys

from station.core import flagtext, messages
from station.core.models import BYTES_PER_KB
from station.processing.batch.report import BatchReport, EntryRow, ImageRow
from station.processing.batch.run import BATCH_REVIEW_FLAGS, BatchJob

log = logging.getLogger(__name__)


def print_progress(job: BatchJob, image: ImageRow, entries: list[EntryRow], lang: str) -> None:
    """Print one line per image and per file on stdout, one per error on stderr."""
    if image.error is not None:
        detail = getattr(image.error, lang)
        line = messages.render(
            "batch.skipped", lang, index=image.index, source=image.source, detail=detail
        )
        print(line, file=sys.stderr)
        return
    flags = _flag_text(image.flags, lang, image.flag_details)
    seconds = f"{image.timings.get('total', 0.0):.1f}"
    count = len(job.images)
    print(
        messages.render(
            "batch.image",
            lang,
            index=image.index,
            count=count,
            source=image.source,
            entries=image.entries,
            seconds=seconds,
            flags=flags,
        )
    )
    for entry in entries:
        if entry.error is not None:
            detail = getattr(entry.error, lang)
            print(
                messages.render(
                    "batch.entry_failed", lang, entry=entry.number, index=image.index, detail=detail
                ),
                file=sys.stderr,
            )
            continue
        path = job.output.root / entry.file
        kb = f"{entry.bytes / BYTES_PER_KB:.1f}"
        note = _flag_text(entry.flags, lang) if entry.review else ""
        print(
            messages.render(
                "batch.wrote", lang, path=path, kb=kb, encoding=entry.encoding, flags=note
            )
        )


def _flag_text(flags: list[str], lang: str, details: flagtext.Details | None = None) -> str:
    """The review flags in words, with the page's figures, each followed by its name
    for scripts ("Số mục không khớp: ... [count_mismatch]")."""
    shown = [f"{flagtext.label(f, lang, details)} [{f}]" for f in flags if f in BATCH_REVIEW_FLAGS]
    return messages.render("batch.flags", lang, flags="; ".join(shown)) if shown else ""


def summary_values(report: BatchReport) -> dict[str, int]:
    """The figures of the closing line (``batch.summary``)."""
    summary: dict[str, int] = report.to_dict()["summary"]
    return {
        "images": summary["images"],
        "failed": summary["images_failed"],
        "files": summary["files"],
        "review": summary["review"],
        "errors": summary["errors"],
    }
