"""``station doctor``'s checks of the data folder's content: raw captures left without
a job (``orphans/``) and published files the scrub found damaged (bit rot)."""

from __future__ import annotations

from station.capture.intake import list_orphans
from station.store.scrub import load_report
from station.system.findings import FAIL, OK, WARN, Check, Context, Finding


def check_orphans(context: Context) -> list[Finding]:
    """Raw captures a power cut left without a job: safe, but nobody processes them."""
    data_dir = context.config.data_dir
    orphans = list_orphans(data_dir)
    if not orphans:
        return []
    values = {"count": len(orphans), "path": str(data_dir / "orphans")}
    return [Finding("orphans", WARN, "doctor.orphans", values, "doctor.fix_orphans")]


def check_scrub(context: Context) -> list[Finding]:
    """What the last scrub of the published files found."""
    report = load_report(context.config.data_dir)
    if not report.finished_at:
        return []
    if not report.damaged:
        values = {"count": report.checked, "at": report.finished_at}
        return [Finding("scrub", OK, "doctor.scrub_ok", values)]
    first = report.damaged[0]
    values = {"count": len(report.damaged), "file": first.file, "at": report.finished_at}
    return [Finding("scrub", FAIL, "doctor.scrub_damaged", values, "doctor.fix_scrub")]


DATA_CHECKS: list[Check] = [check_orphans, check_scrub]
