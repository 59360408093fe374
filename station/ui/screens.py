"""Rendering the touch screens: the frame every screen shares (bar, device, banner).

The device pill and the banner are part of every screen, so the operator always sees
whether the scanner is there and what to do when it is not (or when the disk is
filling); the same data goes to the screens' scripts as JSON (:func:`live_header`), so
live updates show the same thing.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, session, url_for

from station.capture.intake import list_orphans
from station.core import messages
from station.ui.context import csrf_token, lang, station
from station.ui.texts import script_texts, ui_label, ui_text
from station.ui.upload import is_loopback

#: The bar's links: (name, endpoint); the name picks the label ``nav_<name>``.
NAV = (
    ("scan", "scan.main"),
    ("books", "books.choose"),
    ("overview", "books.overview_current"),
    ("progress", "shift.progress"),
    ("admin", "admin.home"),
)


def device_view(language: str) -> dict[str, Any]:
    """The capture device as the pill shows it: state and a short label."""
    running = station()
    device = running.device
    kind = ui_label("ui.kind_" + device.kind, language, device.kind)
    state = device.state
    state_label = ui_label("ui." + state, language, state)
    return {
        "kind": device.kind,
        "device": device.device,
        "state": state,
        "label": f"{kind} · {state_label}",
    }


def banner(language: str) -> dict[str, str] | None:
    """The most urgent thing to tell the operator, with what to do, or None."""
    running = station()
    device = running.device
    if device.state in ("error", "offline") and device.message_key:
        # The drivers' messages say what to do (open the cover, check the cable...)
        # and end with "press Connect": the banner carries that button.
        words = messages.render(device.message_key, language, **device.values)
        return {
            "level": "bad",
            "text": words,
            "fix": "",
            "action": url_for("scan.connect"),
            "action_label": ui_text("ui.device_connect", language),
        }
    storage = running.storage()
    paused = running.waiting_for_space()
    if storage.level != "ok" or paused:
        level = "bad" if storage.level == "full" or paused else "warn"
        fix = ui_text("ui.processing_waits_space", language, count=paused) if paused else ""
        return {"level": level, "text": storage.message(language), "fix": fix}
    damaged = running.scrub.damaged()
    if damaged:
        words = ui_text("ui.damaged_files", language, count=len(damaged), file=damaged[0].file)
        return {"level": "bad", "text": words, "fix": ui_text("ui.damaged_fix", language)}
    orphans = len(list_orphans(running.data_dir))
    if orphans:
        words = ui_text("ui.orphans", language, count=orphans)
        return {"level": "warn", "text": words, "fix": ui_text("ui.orphans_fix", language)}
    waiting = running.pending_pairings()
    if waiting and is_loopback(request.remote_addr):  # the code only on the station's screen
        words = ui_text("ui.pairing_waiting", language, name=waiting[0].name, code=waiting[0].code)
        return {"level": "info", "text": words, "fix": ui_text("ui.pairing_where", language)}
    phones = running.phones.pending()
    if phones:
        words = ui_text("ui.phone_asking", language, name=phones[0].name, code=phones[0].compare)
        return {"level": "info", "text": words, "fix": ui_text("ui.phone_where", language)}
    return None


def live_header(language: str) -> dict[str, Any]:
    """What the bar and banner need, for the screens' live refreshes."""
    return {"device": device_view(language), "banner": banner(language)}


def render(template: str, screen: str, section: str = "", nav: bool = True, **values: Any) -> str:
    """Render a touch screen in the reader's language."""
    language = lang()
    context = {
        "lang": language,
        "screen": screen,
        "section": section or screen,
        "nav": NAV if nav else (),
        "csrf": csrf_token(),
        "device": device_view(language),
        "banner": banner(language),
        "station_name": station().info.name,
        "flash_message": session.pop("flash", ""),
        "js_texts": script_texts(language),
        "fit": False,
    }
    context.update(values)
    return render_template(template, **context)


def status_of(error: Exception) -> int:
    """The HTTP status a station error answers with (400 when it names none)."""
    code = int(getattr(error, "http_status", 400))
    return code if 400 <= code <= 599 else 500


def flash(text: str) -> None:
    """A one-line notice shown on the next screen."""
    session["flash"] = text
