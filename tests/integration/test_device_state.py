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
from station.app.touch import TouchApi
from station.core import messages
from station.core.config import replace_key
from station.ui.app import create_app
from tests.support.configs import simulated_config
from tests.support.sane_backend import sane_test_backend
from tests.support.stations import TEST_APP_CONFIG

PIN = "4321"


@pytest.fixture
def unplugged(tmp_path: Path) -> Iterator[Path]:
    """A SANE configuration whose only backend is switched off: no scanner anywhere."""
    with sane_test_backend(tmp_path / "sane") as folder:
        (folder / "dll.conf").write_text("", encoding="ascii")
        yield folder


def _client(station: Station) -> FlaskClient:
    touch = TouchApi(station)
    touch.set_admin_pin(PIN)
    operator = touch.add_operator("Lê Thị Hoa", PIN)
    touch.start_shift(operator.id, PIN)
    touch.create_book("KS", 2007, 1, None, "page-1", 1, None)
    return create_app(station, TEST_APP_CONFIG).test_client()


def _state(client: FlaskClient, lang: str = "vi") -> Any:
    return client.get(f"/api/ui/state?lang={lang}").get_json()


def test_a_missing_scanner_is_offline_with_a_connect_button_that_finds_it(
    tmp_path: Path, unplugged: Path
) -> None:
    config = replace_key(simulated_config(tmp_path / "data"), "capture.device", "sane")
    with Station(config) as station:
        client = _client(station)
        state = _state(client)
        assert state["device"]["state"] == "offline"
        assert state["banner"]["text"] == messages.render("sane.no_devices", "vi")
        assert state["banner"]["action"] == "/device/connect"
        assert state["status_line"] == messages.render("ui.device_not_ready", "vi")
        assert "Sẵn sàng" not in state["status_line"]
        screen = client.get("/scan").get_data(as_text=True)
        assert 'id="banner-action"' in screen and "Kết nối" in screen

        token = re.search(r'name="csrf" value="([^"]+)"', screen)
        assert token is not None
        headers = {"Accept": "application/json", "X-CSRF-Token": token.group(1)}
        # Still unplugged: pressing Connect says so again.
        again = client.post("/device/connect", headers=headers).get_json()
        assert again["device"]["state"] == "offline" and again["banner"] is not None
        assert _state(client, "en")["banner"]["text"].startswith("No scanner found")
        _state(client, "vi")

        (unplugged / "dll.conf").write_text("test\n", encoding="ascii")  # plugged in
        found = client.post("/device/connect", headers=headers).get_json()
        assert found["device"]["state"] == "idle" and found["device"]["device"] == "test:0"
        assert found["banner"] is None
        assert found["status_line"] == messages.render("ui.ready_next", "vi")
