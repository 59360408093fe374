"""Fixtures shared by the whole suite.

Every test runs with its own data folder and environment, and fails if it leaves a
thread running (the habit python-zeroconf's suite keeps): a station that cannot shut
down cleanly is a station that loses pages on a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station import config


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("STATION"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(autouse=True)
def _no_thread_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    # Daemon threads count too: a worker or server thread left running is a leak.
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads left running: {still}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def station_config(data_dir: Path) -> config.Config:
    """A configuration for a fast simulated station in the test's own data folder."""
    text = f"""
[storage]
data_dir = "{data_dir}"
reserve_mb = 50
[capture]
dpi = 150
[capture.simulated]
seed = 3
[station]
office_code = "xa-dong-hoa"
office_name = "UBND xã Đông Hòa"
"""
    return config.parse(text, "test", environ={})
