"""The first-boot wizard: what a technician sets on a new station, one step per screen.

Station name, office, admin PIN, naming preset, time zone, Wi-Fi, then a test
capture. It is shown while no admin PIN is set; once the PIN step is done, the rest of
the wizard (and running it again later) needs the admin PIN like every admin screen.
A step the station refuses comes back with the reason. The test capture shows what
the device sees and keeps nothing: no book is touched.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from PIL import Image
from werkzeug.wrappers.response import Response

from station.core.errors import AuthError, NotFoundError, StationBusyError, StationError, UsageError
from station.ui import gate, screens, system_time, wifi
from station.ui.admin_views import presets
from station.ui.context import check_csrf, lang, station, touch, wants_json
from station.ui.texts import form_error, ui_text

bp = Blueprint("setup", __name__, url_prefix="/setup")

#: The wizard's steps, in order.
STEPS = ("station", "pin", "naming", "timezone", "wifi", "test")
#: Width of the test capture shown on the screen.
TEST_WIDTH = 900
#: Time zone proposed on a new station.
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"

Step = Callable[[], Response]


@bp.before_request
def _gate() -> Response | None:
    if not gate.admin_pin_set():
        if not gate.local():
            raise AuthError("ui.remote_setup")
        return None
    if not gate.is_admin():
        return redirect(url_for("admin.login", next=request.full_path))
    return None


@bp.get("/")
def wizard() -> str:
    step = request.args.get("step", STEPS[0])
    if step not in STEPS:
        raise NotFoundError("ui.unknown_step")
    return _page(step)


def _page(step: str, error: str = "") -> str:
    if step not in ("station", "pin") and not gate.admin_pin_set():
        step = "pin"  # nothing after the PIN step is reachable before it is done
    return screens.render(
        "setup.html",
        "setup",
        nav=False,
        steps=STEPS,
        step=step,
        done=STEPS[: STEPS.index(step)],
        error=error,
        **_step_values(step),
    )


def _step_values(step: str) -> dict[str, Any]:
    if step in ("station", "naming"):
        settings = touch().settings_view()
        return {"settings": settings, "presets": presets(lang())}
    if step == "timezone":
        current = system_time.current_zone()
        zones = system_time.zones()
        chosen = current if current in zones and current != "Etc/UTC" else DEFAULT_ZONE
        return {"zones": zones, "zone": chosen, "current_zone": current or "?"}
    if step == "wifi":
        return _wifi_values()
    if step == "test":
        return {"has_test": "setup_test" in current_app.extensions}
    return {}


def _wifi_values() -> dict[str, Any]:
    if not wifi.available():
        return {"wifi_ok": False, "networks": []}
    try:
        return {"wifi_ok": True, "networks": wifi.networks(), "wifi_error": ""}
    except wifi.WifiError as exc:
        return {"wifi_ok": True, "networks": [], "wifi_error": form_error(exc, lang())}


def _run(step: str, action: Step) -> Response | tuple[str, int]:
    """Do a step's action; a refusal shows the step again with the reason."""
    check_csrf()
    try:
        return action()
    except StationError as exc:
        if wants_json():
            raise
        return _page(step, form_error(exc, lang())), screens.status_of(exc)


def _next(step: str) -> Response:
    index = STEPS.index(step)
    if index + 1 < len(STEPS):
        return redirect(url_for("setup.wizard", step=STEPS[index + 1]))
    return redirect(url_for("home"))


@bp.post("/station")
def save_station() -> Response | tuple[str, int]:
    def action() -> Response:
        form = request.form
        name = " ".join(form.get("name", "").split())
        if not name:
            raise UsageError("ui.bad_name", limit=60)
        touch().update_settings(
            {
                "station.name": name,
                "station.office_code": form.get("office_code", "").strip(),
                "station.office_name": " ".join(form.get("office_name", "").split()),
            }
        )
        return _next("station")

    return _run("station", action)


@bp.post("/pin")
def save_pin() -> Response | tuple[str, int]:
    def action() -> Response:
        new = request.form.get("pin", "")
        if request.form.get("pin2", "") != new:
            raise UsageError("ui.pin_mismatch")
        touch().set_admin_pin(new)
        gate.grant_admin()
        return _next("pin")

    return _run("pin", action)


@bp.post("/naming")
def save_naming() -> Response | tuple[str, int]:
    def action() -> Response:
        touch().update_settings({"processing.naming_preset": request.form.get("preset", "")})
        return _next("naming")

    return _run("naming", action)


@bp.post("/timezone")
def save_timezone() -> Response | tuple[str, int]:
    def action() -> Response:
        zone = request.form.get("zone", "")
        if request.form.get("skip") or zone == system_time.current_zone():
            return _next("timezone")
        if zone not in system_time.zones():
            raise UsageError("ui.bad_value", name="zone")
        # The screens show times in the configured zone; the system's clock follows it.
        touch().update_settings({"station.timezone": zone})
        system_time.set_zone(zone)
        screens.flash(ui_text("ui.timezone_set", lang(), zone=zone))
        return _next("timezone")

    return _run("timezone", action)


@bp.post("/wifi")
def save_wifi() -> Response | tuple[str, int]:
    def action() -> Response:
        if request.form.get("skip") or not wifi.available():
            return _next("wifi")
        ssid = request.form.get("ssid", "").strip()
        if not ssid or len(ssid) > 32:
            raise UsageError("ui.bad_value", name="SSID")
        wifi.connect(ssid, request.form.get("password", ""))
        screens.flash(ui_text("ui.wifi_connected", lang(), ssid=ssid))
        return _next("wifi")

    return _run("wifi", action)


@bp.post("/test")
def test_capture() -> Response | tuple[str, int]:
    """Capture one page from the configured device and show it; nothing is kept."""

    def action() -> Response:
        current_app.extensions["setup_test"] = _thumbnail(_capture_one())
        return redirect(url_for("setup.wizard", step="test"))

    return _run("test", action)


def _capture_one() -> Any:
    lock: threading.Lock = current_app.extensions["capture_lock"]
    if not lock.acquire(blocking=False):
        raise StationBusyError("ui.capture_busy")
    running = station()
    try:
        driver = running.make_driver()
        try:
            driver.open()
            pages = list(driver.capture(1))
        finally:
            running.release(driver)
    finally:
        lock.release()
    if not pages:
        raise NotFoundError("ui.test_nothing")
    return pages[0]


@bp.post("/finish")
def finish() -> Response:
    """The technician is done: the admin screens close until the PIN is typed again."""
    check_csrf()
    current_app.extensions.pop("setup_test", None)
    gate.revoke_admin()
    return redirect(url_for("home"))


@bp.get("/test.jpg")
def test_image() -> Response:
    data = current_app.extensions.get("setup_test")
    if data is None:
        raise NotFoundError("ui.unknown_step")
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    return response


def _thumbnail(captured: Any) -> bytes:
    image = captured.image
    if image is None:
        image = Image.open(io.BytesIO(captured.encoded))
    image = image.convert("RGB")
    image.thumbnail((TEST_WIDTH, TEST_WIDTH))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
