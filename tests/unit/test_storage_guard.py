"""Storage safety: the reserve refuses captures before writing, and the levels the screen
shows. Which raw captures a running station can clean: tests/integration/test_storage_guard.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image

from station.capture.drivers.base import CapturedImage
from station.capture.intake import Intake
from station.core import diskspace
from station.core.errors import DiskFullError
from station.core.models import BookRef

MB = 1024 * 1024
BOOK = BookRef("KS", 2007, 1)


class Usage(NamedTuple):
    total: int
    used: int
    free: int


@pytest.fixture
def free_mb(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Pretend the disk has ``free_mb[0]`` MB free (of 10 GB)."""
    free = [100_000]

    def usage(path: object) -> Usage:
        return Usage(10_000 * MB, 10_000 * MB - free[0] * MB, free[0] * MB)

    monkeypatch.setattr(shutil, "disk_usage", usage)
    yield free


def _page() -> CapturedImage:
    return CapturedImage(dpi=150, source="test", device="t:0", image=Image.new("RGB", (60, 40)))


def test_levels() -> None:
    def level(free: int) -> str:
        return diskspace.StorageState("/d", 10_000, free, 500, 2000).level

    assert [level(f) for f in (5000, 2000, 1999, 500, 499, 0)] == [
        "ok",
        "ok",
        "warn",
        "warn",
        "full",
        "full",
    ]
    # A warning level under the reserve warns from the reserve on.
    assert diskspace.StorageState("/d", 10_000, 499, 500, 0).level == "full"
    assert diskspace.StorageState("/d", 10_000, 600, 500, 0).level == "ok"


def test_state_for_the_screen_has_figures_and_both_languages(free_mb: list[int]) -> None:
    free_mb[0] = 1000
    state = diskspace.measure(Path("/nowhere/yet"), 500, 2000).to_dict()
    assert state["level"] == "warn"
    assert (state["free_mb"], state["used_mb"], state["total_mb"]) == (1000, 9000, 10_000)
    assert "1000 MB" in state["message"]["vi"] and "sắp đầy" in state["message"]["vi"]
    assert "1000 MB" in state["message"]["en"] and "filling up" in state["message"]["en"]


def test_the_capture_being_saved_counts_against_the_reserve(free_mb: list[int]) -> None:
    free_mb[0] = 510
    diskspace.check_room(Path("/"), 500, incoming=5 * MB)
    with pytest.raises(DiskFullError) as info:
        diskspace.check_room(Path("/"), 500, incoming=20 * MB)
    assert info.value.values == {"free_mb": 510, "reserve_mb": 500}


def test_intake_refuses_before_writing_and_keeps_what_it_has(
    data_dir: Path, free_mb: list[int]
) -> None:
    intake = Intake(data_dir, reserve_mb=500)
    kept = intake.save(_page(), BOOK, "page-1")
    before = sorted(p.relative_to(data_dir) for p in data_dir.rglob("*"))
    free_mb[0] = 400
    with pytest.raises(DiskFullError) as info:
        intake.save(_page(), BOOK, "page-1")
    assert "400 MB" in info.value.message("vi") and "500 MB" in info.value.message("en")
    assert sorted(p.relative_to(data_dir) for p in data_dir.rglob("*")) == before
    assert [job.capture.id for job in intake.queue.pending()] == [kept.capture.id]
    assert (data_dir / kept.capture.raw_path).exists()
