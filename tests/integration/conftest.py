"""Fixtures of the integration tests: a started station and its touch-screen web app
(the flaskr pattern: an app made by the factory with a test configuration, and a test
client of it), and the real ``station`` command in a subprocess."""

from __future__ import annotations

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
        return subprocess.run(
            station_command(*args),
            env=env or station_env(data_dir),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
