"""Pull the plug (SIGKILL) during intake and processing; nothing captured may be lost.

Crash points (station/core/faults.py) kill the process at exact steps; a last test kills
it at whatever moment the first PDF appears. After each, ``station resume`` must finish
the queue with: every captured page processed, entry numbers contiguous and unique, no
partial file published, every PDF valid, and an index that reindex reproduces.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.checks import (
    RAW_SUFFIXES,
    index_of,
    no_temp_files,
    published_pdfs,
    qpdf_ok,
)
from tests.support.commands import RunStation, station_command, station_env

SCAN = ("scan", "--simulate", "--book", "KS/2007/01", "--pages", "3")


def _captured_pages(data_dir: Path) -> int:
    """Pages that intake acknowledged: raw files with a job or already processed."""
    raws = [p for p in (data_dir / "captures").rglob("*") if p.suffix in {*RAW_SUFFIXES, ".jpg"}]
    return len(raws)


def _assert_nothing_partial_published(data_dir: Path) -> None:
    """Right after the crash, before any recovery: every visible PDF is whole."""
    assert all(qpdf_ok(p) for p in published_pdfs(data_dir))


def _assert_healthy(data_dir: Path, run_station: RunStation) -> None:
    result = run_station("resume")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list((data_dir / "queue").glob("*.json")), "queue did not finish"
    assert not no_temp_files(data_dir)
    pages = _captured_pages(data_dir)
    pdfs = published_pdfs(data_dir)
    assert len(pdfs) == 2 * pages  # spread-2: two entries per captured page
    numbers = sorted(int(p.stem.rsplit(".", 1)[1]) for p in pdfs)
    assert numbers == list(range(1, 2 * pages + 1))
    assert all(qpdf_ok(p) for p in pdfs)
    index = index_of(data_dir)
    assert run_station("reindex").returncode == 0
    assert index_of(data_dir) == index


@pytest.mark.parametrize(
    "point",
    [
        "intake.after_raw:2",
        "intake.before_job:2",
        "process.after_entries:2",
        "process.before_publish:3",
        "store.after_file:3",
        "store.after_feed:3",
    ],
)
def test_kill_at_crash_point(point: str, run_station: RunStation, data_dir: Path) -> None:
    env = station_env(data_dir, STATION_CRASHPOINT=point)
    crashed = run_station(*SCAN, env=env)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    _assert_nothing_partial_published(data_dir)
    _assert_healthy(data_dir, run_station)
    if point.startswith("intake"):
        # The page being saved was never acknowledged; its bytes are set aside, not lost.
        assert _captured_pages(data_dir) == 1
        assert len([p for p in (data_dir / "orphans").rglob("*") if p.suffix in RAW_SUFFIXES]) == 1
    # Scanning goes on where the book left off.
    assert run_station("scan", "--simulate", "--book", "KS/2007/01").returncode == 0
    _assert_healthy(data_dir, run_station)


def test_kill_at_an_arbitrary_moment(run_station: RunStation, data_dir: Path) -> None:
    process = subprocess.Popen(
        station_command("scan", "--simulate", "--book", "KS/2007/01", "--pages", "5"),
        env=station_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not published_pdfs(data_dir) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.02)  # polling the folder; there is no event to wait on across processes
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert published_pdfs(data_dir), "no PDF appeared before the deadline"
    _assert_nothing_partial_published(data_dir)
    _assert_healthy(data_dir, run_station)
