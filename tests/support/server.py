"""``station serve`` in a subprocess on a free port: the real station behind its real
web server, with its own data folder and configuration file (the end-to-end tests)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port, wait_for_port


@dataclass
class Server:
    """A running station: its address, data folder and process."""

    url: str
    data_dir: Path
    config: Path
    process: subprocess.Popen[bytes]

    def published(self) -> list[Path]:
        """Every published PDF (not the kept earlier versions)."""
        root = self.data_dir / "published"
        return sorted(p for p in root.rglob("*.pdf") if "_versions" not in p.parts)


def station_env(data_dir: Path, config: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    env.update(
        STATION_DATA_DIR=str(data_dir),
        # Settings the wizard saves go here, never to /etc.
        STATION_CONFIG=str(config),
        STATION__WEB__PORT=str(port),
        # The simulator is chosen explicitly: an installed station has no device.
        STATION__CAPTURE__DEVICE="simulated",
        STATION__CAPTURE__DPI="150",
        # Clean ink: the overview then shows done cells beside the ones flagged here.
        STATION__CAPTURE__SIMULATED__FADED_PROBABILITY="0",
        # No background renders competing with the tests (tested in test_simulated).
        STATION__CAPTURE__SIMULATED__RENDER_AHEAD="false",
        STATION__STORAGE__RESERVE_MB="50",
        STATION__STORAGE__WARN_MB="50",
        STATION__LAN__ENABLED="false",
        STATION__USB__ENABLED="false",
    )
    return env


@contextlib.contextmanager
def start_server(tmp_path: Path, config_text: str | None = "", **env: str) -> Iterator[Server]:
    """``station serve`` on a free port until SIGTERM, with ``config_text`` as its
    station.toml (None: no such file); ``env`` adds settings."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)  # a test may have put a database there first
    config = tmp_path / "station.toml"
    if config_text is not None:  # None: the configured file is missing
        config.write_text(config_text, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "serve"],
        env={**station_env(data_dir, config, port), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield Server(f"http://127.0.0.1:{port}", data_dir, config, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
        if process.stdout:
            process.stdout.close()
    # Nothing of ours logged an error (a bug in a request is logged with its traceback);
    # waitress itself may log a race of its own when SIGTERM meets a finishing request.
    assert " ERROR station." not in output, output
    assert process.returncode == 0, f"station exited with {process.returncode}:\n{output}"
