"""The machine's time zone, for the first-boot wizard.

The time zone belongs to the operating system (file times, the progress figures'
"today", the PDFs' dates all follow it). The wizard shows the current one and sets a
new one with ``timedatectl`` where that exists and the station may use it; otherwise
it says how a technician does it. Nothing is changed when the zone is already right.
A failure shows the operator a Vietnamese message; timedatectl's own output is logged.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import zoneinfo
from pathlib import Path

from station.core.errors import StationError
from station.core.messages import N_

log = logging.getLogger(__name__)

#: Seconds allowed for timedatectl.
TIMEOUT = 20


class TimezoneError(StationError):
    """The time zone could not be changed."""

    exit_code = 69
    default_key = N_("timezone.failed")
    http_status = 502


def zones() -> list[str]:
    """Every named time zone (``Area/City``), sorted."""
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z)


def current_zone() -> str:
    """The machine's time zone name ("" when it cannot be told)."""
    link = Path("/etc/localtime")
    try:
        target = os.readlink(link)
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        return os.environ.get("TZ", "")


def set_zone(zone: str) -> None:
    """Make ``zone`` the machine's time zone with timedatectl, or TimezoneError."""
    if shutil.which("timedatectl") is None:
        raise TimezoneError("timezone.unavailable", zone=zone)
    try:
        done = subprocess.run(
            ["timedatectl", "set-timezone", zone],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("timedatectl set-timezone %s failed: %s", zone, exc)
        raise TimezoneError(zone=zone) from exc
    if done.returncode != 0:
        # The system's own words (English, technical) go to the log, not to the screen.
        detail = (done.stderr or done.stdout).strip()[:500] or f"exit {done.returncode}"
        log.warning("timedatectl set-timezone %s failed: %s", zone, detail)
        raise TimezoneError(zone=zone)
