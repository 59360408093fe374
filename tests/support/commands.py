"""The real ``station`` command in a subprocess, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

RunStation = Callable[..., subprocess.CompletedProcess[str]]


def station_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of a fast simulated station using ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    env.update(
        STATION_DATA_DIR=str(data_dir),
        # The simulator is chosen explicitly: an installed station has no device.
        STATION__CAPTURE__DEVICE="simulated",
        STATION__CAPTURE__DPI="150",
        STATION__STORAGE__RESERVE_MB="50",
        STATION__STATION__OFFICE_CODE="xa-dong-hoa",
        # No TLS listener or zeroconf announcement unless a test asks for the LAN.
        STATION__LAN__ENABLED="false",
    )
    env.update(extra)
    return env


def station_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "station.cli", *args]
