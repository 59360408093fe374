"""The device on screen is the truth: a SANE scanner that is not there is shown offline
with what to do, the status line never says "ready" meanwhile, and the banner's
Connect button finds it once it is back; the real SANE ``test`` backend in a private
SANE_CONFIG_DIR, the real station and web app (Flask's test client)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

pytest.importorskip("sane")

from station.app.station import Station
from station.core import messages
from station.core.config import replace_key
from station.ui.app import create_app
from tests.support.configs import simulated_config
from tests.support.sane_backend import sane_test_backend
from tests.support.stations import TEST_APP_CONFIG, past_the_wizard

PIN = "4321"


@pytest.fixture
def sane_dir(tmp_path: Path) -> Iterator[Path]:
    with sane_test_backend(tmp_path / "sane") as folder:
        yield folder


def _client(station: Station) -> FlaskClient:
    past_the_wizard(station, PIN, PIN, profile="page-1")
    return create_app(station, TEST_APP_CONFIG).test_client()


def _state(client: FlaskClient, lang: str = "vi") -> Any:
    return client.get(f"/api/ui/state?lang={lang}").get_json()


def test_a_missing_scanner_is_offline_with_what_to_do_and_a_connect_button(
    tmp_path: Path, sane_dir: Path
) -> None:
    """The configured scanner is not among those present (libsane reads its
    configuration folder once per process, so plugging in is shown end to end, in a
    fresh station process: tests/e2e/test_sane_touch.py)."""
    config = replace_key(simulated_config(tmp_path / "data"), "capture.device", "sane")
    config = replace_key(config, "capture.device_id", "test:9")
    with Station(config) as station:
        client = _client(station)
        state = _state(client)
        assert state["device"]["state"] == "offline"
        expected = messages.render(
            "device.not_found", "vi", device="test:9", found="test:0, test:1"
        )
        assert state["banner"]["text"] == expected
        assert state["banner"]["action"] == "/device/connect"
        assert state["status_line"] == messages.render("ui.device_not_ready", "vi")
        screen = client.get("/scan").get_data(as_text=True)
        assert 'id="banner-action"' in screen and "Kết nối" in screen

        token = re.search(r'name="csrf" value="([^"]+)"', screen)
        assert token is not None
        headers = {"Accept": "application/json", "X-CSRF-Token": token.group(1)}
        again = client.post("/device/connect", headers=headers).get_json()
        assert again["device"]["state"] == "offline" and again["banner"]["text"] == expected
        assert _state(client, "en")["banner"]["text"].startswith("Device test:9 is not there")
        assert client.post("/device/connect").status_code == 400  # no CSRF token
