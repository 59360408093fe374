"""Fixtures of the integration tests: a started station and its touch-screen web app
(the flaskr pattern: an app made by the factory with a test configuration, and a test
client of it), and the real ``station`` command in a subprocess."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from station.app.station import Station
from station.core import config
from station.ui.app import create_app
from tests.support.commands import RunStation, station_command, station_env
from tests.support.stations import TEST_APP_CONFIG


@pytest.fixture
def station(station_config: config.Config) -> Iterator[Station]:
    """A started station on the simulated scanner, stopped after the test."""
    with Station(station_config) as running:
        yield running


@pytest.fixture
def app(station: Station) -> Flask:
    """The touch screens' web app around ``station``."""
    return create_app(station, TEST_APP_CONFIG)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser session on ``app`` (Flask's test client: no socket)."""
    return app.test_client()


@pytest.fixture
def run_station(data_dir: Path) -> RunStation:
    """Run ``station ARGS`` to completion and return the finished process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
        # faulthandler: a child that hangs is sent SIGABRT and says where each of its
        # threads stood, so a rare hang is caught with its place, not only its time.
        child_env = {**(env or station_env(data_dir)), "PYTHONFAULTHANDLER": "1"}
        command = station_command(*args)
        with subprocess.Popen(
            command, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGABRT)
                try:
                    stdout, stderr = process.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    stdout, stderr = process.communicate()
                pytest.fail(
                    f"station {' '.join(args)} did not finish within {timeout} s; its stderr "
                    f"and threads at SIGABRT:\n{stderr[-8000:]}"
                )
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    return run
