"""Fixtures shared by the whole suite.

Every test runs with its own data folder and environment, and fails if it leaves a
thread running (the habit python-zeroconf's suite keeps): a station that cannot shut
down cleanly is a station that loses pages on a restart.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.core import config
from tests.support.configs import simulated_config


@pytest.fixture(scope="session", autouse=True)
def _no_temp_file_left_behind() -> Iterator[None]:
    """Route every temporary file (ours and our subprocesses') to one folder, then
    fail the run if anything is still there at the end."""
    folder = tempfile.mkdtemp(prefix="station-tests-")
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    try:
        yield
        # pytest's own tmp_path root is emptied by its retention policy (pyproject).
        leftover = sorted(n for n in os.listdir(folder) if not n.startswith("pytest-of-"))
        assert not leftover, f"temporary files left behind: {leftover}"
    finally:
        if saved[0] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[0]
        tempfile.tempdir = saved[1]
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
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
    return simulated_config(data_dir)
