"""Admin screens behind the admin PIN: settings, naming preset, storage, devices, pairing.

Typing the admin PIN opens the admin screens in this browser session until they are
left unused for ``gate.ADMIN_MINUTES``; on the station's own screen, going to any other
screen closes them at once (``gate.lock_when_leaving``). Changing the admin PIN asks
for the current one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers.response import Response

from station.core import naming
from station.core.errors import AuthError, StationError, UsageError
from station.system import doctor
from station.ui import gate, screens
from station.ui.context import check_csrf, lang, station, touch, wants_json
from station.ui.settings_form import FIELDS, changes_from_form, field_rows
from station.ui.texts import form_error, ui_text

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The admin screens' tabs: (name, endpoint).
TABS = (
    ("settings", "admin.home"),
    ("storage", "admin.storage"),
    ("devices", "admin.devices"),
    ("pairing", "admin.pairing"),
    ("pin", "admin.pin"),
)


@bp.before_request
def _gate() -> Response | None:
    if not gate.admin_pin_set():
        return redirect(url_for("setup.wizard"))
    if request.endpoint in ("admin.login", "admin.enter"):
        return None
    if gate.is_admin():
        gate.grant_admin()  # in use: the idle time starts again
        return None
    if wants_json():
        raise AuthError("ui.admin_needed")
    return redirect(url_for("admin.login", next=request.full_path))


def _render(template: str, tab: str, **values: Any) -> str:
    return screens.render(template, "admin", tabs=TABS, tab=tab, **values)


@bp.get("/login")
def login() -> str:
    return _login_form(request.args.get("next", ""))


def _login_form(target: str, error: str = "") -> str:
    return screens.render("admin_login.html", "admin", next=target, error=error)


@bp.post("/login")
def enter() -> Response | tuple[str, int]:
    check_csrf()
    target = request.form.get("next", "")
    try:
        if not touch().check_admin_pin(request.form.get("pin", ""), gate.client()):
            raise AuthError("ui.admin_wrong_pin")
    except StationError as exc:
        if wants_json():
            raise
        return _login_form(target, form_error(exc, lang())), screens.status_of(exc)
    gate.grant_admin()
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("admin.home")  # only a path of this site, never another host
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    check_csrf()
    gate.revoke_admin()
    return redirect(url_for("home"))


@bp.get("/")
def home() -> str:
    return _settings_form()


def _settings_form(error: str = "") -> str:
    settings = touch().settings_view()
    language = lang()
    return _render(
        "admin_settings.html",
        "settings",
        rows=field_rows(settings, language),
        presets=presets(language),
        preset=settings.get("processing.naming_preset", ""),
        require_shift=bool(settings.get("require_shift")),
        config_file=settings.get("config_file", ""),
        error=error,
    )


def presets(language: str) -> list[tuple[str, str, str]]:
    """The naming presets this station knows: name, label and description."""
    folder = station().config.processing.naming_dir
    found = naming.load_presets(Path(folder) if folder else None)
    return [
        (name, p.label_for(language), p.description.get(language, ""))
        for name, p in sorted(found.items())
    ]


@bp.post("/settings")
def save_settings() -> Response | tuple[str, int]:
    check_csrf()
    try:
        changes = changes_from_form(request.form, (*FIELDS, "processing.naming_preset"))
        if "require_shift__present" in request.form:
            changes["require_shift"] = request.form.get("require_shift") == "on"
        touch().update_settings(changes)
    except StationError as exc:
        if wants_json():
            raise
        return _settings_form(form_error(exc, lang())), screens.status_of(exc)
    screens.flash(ui_text("ui.settings_saved", lang()))
    return redirect(url_for("admin.home"))


@bp.get("/storage")
def storage() -> str:
    running = station()
    state = running.storage()
    report = running.cleanable()
    folders = touch().settings_view()["storage"].get("folders_mb", {})
    return _render(
        "admin_storage.html", "storage", storage=state, cleanable=report.to_dict(), folders=folders
    )


@bp.get("/devices")
def devices() -> str:
    """The doctor's findings (devices, disk, triggers) and the USB devices plugged in."""
    language = lang()
    report = doctor.examine().to_dict(language) if request.args.get("check") else None
    usb = station().peripherals_status()
    return _render("admin_devices.html", "devices", report=report, usb=usb)


@bp.get("/pairing")
def pairing() -> str:
    """Entry PCs asking to pair, the paired ones, and what each has collected."""
    return _render("admin_pairing.html", "pairing")


@bp.get("/pin")
def pin() -> str:
    return _render("admin_pin.html", "pin")


@bp.post("/pin")
def change_pin() -> Response | tuple[str, int]:
    check_csrf()
    new = request.form.get("pin", "")
    try:
        if not touch().check_admin_pin(request.form.get("old_pin", ""), gate.client()):
            raise AuthError("ui.pin_old_wrong")
        if request.form.get("pin2", "") != new:
            raise UsageError("ui.pin_mismatch")
        touch().set_admin_pin(new)
    except StationError as exc:
        if wants_json():
            raise
        return _render("admin_pin.html", "pin", error=form_error(exc, lang())), screens.status_of(
            exc
        )
    screens.flash(ui_text("ui.admin_pin_changed", lang()))
    return redirect(url_for("admin.home"))
