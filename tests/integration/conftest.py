"""Fixtures of the integration tests: the real ``station`` command in a subprocess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.commands import RunStation, station_command, station_env


@pytest.fixture
def run_station(data_dir: Path) -> RunStation:
    """Run ``station ARGS`` to completion and return the finished process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
        return subprocess.run(
            station_command(*args),
            env=env or station_env(data_dir),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
