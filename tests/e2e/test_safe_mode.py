"""A broken station.toml: the station comes up in safe mode, shows why, takes a fix.

Served by ``station serve`` behind waitress, as on a station: the status page and its
JSON list each problem (key, value found, what is expected) in both languages, nothing
can be captured, the admin fixes the file from the screen and the station then starts
as usual. Also walked in Chromium at the small screen's size.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from pathlib import Path

from playwright.sync_api import Browser

from station.core.config import Config
from station.core.events import EventBus
from station.core.identity import PresetNamer, station_identity
from station.operators.shifts import Shifts
from station.store import Store
from tests.support.http_client import Client
from tests.support.screens import SMALL, Shots, new_context
from tests.support.server import start_server

BROKEN = """\
[station]
name = "Trạm thử"

[processing]
budget_kb = "lots"

[web]
upload_max_mb = 0
"""


def _until_normal(client: Client, seconds: float = 60) -> dict[str, object]:
    """The station's status once it has restarted out of safe mode."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            code, _, body = client.get("/status.json", json_wanted=True)
        except (OSError, http.client.HTTPException):
            # Refused between the two servers, or an answer cut by the restart itself.
            time.sleep(0.05)  # another process's socket: there is no event to wait on
            continue
        if code == 200 and "safe_mode" not in json.loads(body):
            return dict(json.loads(body))
    raise AssertionError("the station did not leave safe mode")


def _set_admin_pin(data_dir: Path, pin: str) -> None:
    info = station_identity(Config(), data_dir)
    with Store(data_dir, info, PresetNamer(Config(), info)) as store:
        Shifts(store, EventBus()).set_admin_pin(pin)


def test_safe_mode_lists_every_problem_refuses_capture_and_takes_a_fix(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    _set_admin_pin(tmp_path / "data", "2468")
    with start_server(tmp_path, config_text=BROKEN) as server:
        client = Client(server.url)
        code, _, body = client.get("/status.json", json_wanted=True)
        status = json.loads(body)
        assert code == 200 and status["safe_mode"] is True and status["capturing"] is False
        problems = {p["key"]: p for p in status["problems"]}
        assert set(problems) == {"web.upload_max_mb", "processing.budget_kb"}
        assert problems["web.upload_max_mb"]["value"] == "0"
        assert "cần ít nhất 1" in problems["web.upload_max_mb"]["message"]["vi"]
        assert "expected at least 1" in problems["web.upload_max_mb"]["message"]["en"]
        assert "cần một số nguyên" in problems["processing.budget_kb"]["message"]["vi"]
        page = client.get("/status")[2]
        assert "Chế độ an toàn" in page and "web.upload_max_mb" in page and "budget_kb" in page
        assert "English" in client.get("/status?lang=vi")[2]
        assert "Safe mode" in client.get("/status?lang=en")[2]

        assert client.post("/capture", {})[0] == 503  # nothing captures
        assert client.get("/scan")[0] == 302  # every screen leads back here

        wrong = client.form("/safe/fix", pin="1111", **{"value:web.upload_max_mb": "40"})
        assert wrong[0] == 403 and "upload_max_mb = 0" in server.config.read_text()
        still = client.form("/safe/fix", pin="2468", **{"value:web.upload_max_mb": "40"})
        assert still[0] == 400 and "budget_kb" in still[2]  # nothing written
        assert "upload_max_mb = 0" in server.config.read_text()

        fixed = client.form(
            "/safe/fix",
            pin="2468",
            **{"value:web.upload_max_mb": "40", "default:processing.budget_kb": "on"},
        )
        assert fixed[0] == 200 and "The configuration is fixed" in fixed[2]  # lang=en kept
        normal = _until_normal(client)
        assert "books" in normal and normal["device"]
        text = server.config.read_text()
        assert "upload_max_mb = 40" in text and "budget_kb" not in text and "Trạm thử" in text


def test_without_an_admin_pin_only_the_stations_own_screen_may_fix(tmp_path: Path) -> None:
    with start_server(tmp_path, config_text="[web]\nthreads = 0\n") as server:
        client = Client(server.url)
        page = client.get("/")[2]
        assert "web.threads" in page and 'name="pin"' not in page  # no PIN to ask for
        kept = client.form("/safe/set-aside")
        assert kept[0] == 200 and "broken-" in kept[2]
        [kept_file] = tmp_path.glob("station.toml.broken-*")
        assert kept_file.read_text() == "[web]\nthreads = 0\n"
        assert "threads" not in server.config.read_text()  # defaults from now on
        _until_normal(client)


def test_a_missing_configuration_file_is_made_from_the_screen(tmp_path: Path) -> None:
    with start_server(tmp_path, config_text=None) as server:
        client = Client(server.url)
        page = client.get("/")[2]
        assert "Không đọc được tệp cấu hình" in page and "Giá trị mới" not in page
        made = client.form("/safe/set-aside")
        assert made[0] == 200 and "đã tạo" in made[2]
        assert server.config.exists() and "[" not in server.config.read_text()
        _until_normal(client)


def test_safe_mode_in_chromium_at_800x480(tmp_path: Path, browser: Browser) -> None:
    with start_server(tmp_path, config_text=BROKEN) as server:
        context = new_context(browser, SMALL)
        page = context.new_page()
        shots = Shots(SMALL, "safe-mode")
        page.goto(server.url + "/scan")  # the kiosk's last page leads to safe mode
        page.wait_for_selector("li.problem[data-key='web.upload_max_mb']")
        assert "Chế độ an toàn" in page.inner_text("h1")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
        shots.take(page, "problems")
        page.fill("input[name='value:web.upload_max_mb']", "40")
        page.check("input[name='default:processing.budget_kb']")
        page.click("button.big")
        page.wait_for_selector("#notice")
        shots.take(page, "fixed")
        client = Client(server.url)
        _until_normal(client)
        page.goto(server.url + "/")
        page.wait_for_url(re.compile(r"/setup"))  # a fresh station: the first-boot wizard
        context.close()
