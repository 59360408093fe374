"""Assertions shared by the integration tests: what a healthy data folder looks like."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from station.core.models import StationInfo
from station.store import Store
from tests.support.store import store_index

#: Suffixes of the raw captures the intake encodes itself: TIFF, PNG for bilevel or
#: palette pixels (and for captures stored before TIFF).
RAW_SUFFIXES = frozenset({".tif", ".png"})


def published_pdfs(data_dir: Path) -> list[Path]:
    """Current entry PDFs (earlier versions under _versions are left out)."""
    root = data_dir / "published"
    return sorted(p for p in root.rglob("*.pdf") if "_versions" not in p.parts)


def qpdf_ok(path: Path) -> bool:
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, check=False)
    return result.returncode == 0


def raw_captures(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "captures").glob("*/*") if p.suffix != ".done")


def no_temp_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*.part")]


def index_of(data_dir: Path) -> dict[str, Any]:
    """The store's whole index as plain data (opens and closes the store, taking its lock)."""
    station_id = (data_dir / "station.id").read_text().strip()
    info = StationInfo(id=station_id, name="x")
    with Store(data_dir, info, lambda book, entry: None) as store:  # type: ignore[arg-type,return-value]
        return store_index(store)
