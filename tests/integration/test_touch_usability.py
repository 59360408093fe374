"""The touch screens as a volunteer on a night shift meets them (issue 14).

Through Flask's test client around a real, started station: the words of errors and
figures, the admin screens closing behind the volunteer, the book checked after
signing in, the PDF viewer, the renumbering and the quality flags explained.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from typing import Any

import pytest
from flask.testing import FlaskClient

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import messages
from station.core.models import BookRef
from station.review.review import next_entry_after
from station.ui import formats, system_time
from station.ui.scan_views import flag_help
from tests.support.stations import capture, deliver_stacked, past_the_wizard

PIN = "4321"
ADMIN = "2580"


@pytest.fixture
def client(client: FlaskClient, station: Station) -> FlaskClient:
    """A browser session on a station past the wizard, with a shift and a book."""
    past_the_wizard(station, ADMIN, PIN, name="Lê Thị Hòa")
    return client


def page(client: FlaskClient, path: str, **kwargs: Any) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def csrf(client: FlaskClient, path: str = "/status") -> str:
    """This session's CSRF token, read from ``path`` (visiting a screen outside the admin
    screens closes them on the station's own screen)."""
    found = re.search(r'name="csrf" value="([^"]+)"', page(client, path))
    assert found is not None
    return found.group(1)


def admin_login(client: FlaskClient, **kwargs: Any) -> None:
    answer = client.post("/admin/login", data={"csrf": csrf(client), "pin": ADMIN}, **kwargs)
    assert answer.status_code == 302


# -- words and figures (point 10) ---------------------------------------------------------


def test_a_form_error_names_the_field_by_its_label(client: FlaskClient) -> None:
    form = {"csrf": csrf(client), "code": "KH", "year": "", "book": "2", "first_entry": "1"}
    answer = client.post("/books/new", data=form)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "“Năm mở sổ” phải là số nguyên từ 1800 đến 2200." in text
    assert "'year'" not in text and "“year”" not in text
    english = client.post("/books/new?lang=en", data={**form, "year": "99"})
    assert "Year opened&#39; must be a whole number" in english.get_data(as_text=True)


def test_numbers_are_written_the_vietnamese_way() -> None:
    assert formats.number(80.0, "vi") == "80"
    assert formats.number(12.5, "vi") == "12,5"
    assert formats.number(12345.26, "vi") == "12.345,3"
    assert formats.number(1234567, "vi", 0) == "1.234.567"
    assert formats.number(12345.5, "en") == "12,345.5"
    assert formats.number(None, "vi") == "—"


def test_the_progress_screen_shows_numbers_without_a_decimal_point(
    client: FlaskClient, station: Station
) -> None:
    snapshot = station.progress_counter.snapshot

    def figures(**kwargs: Any) -> dict[str, Any]:
        data = snapshot(**kwargs)
        data["per_hour"] = {"last_hour": 1200, "shift_average": 80.0}
        data["today"] = 12345
        return data

    station.progress_counter.snapshot = figures  # type: ignore[method-assign]
    text = page(client, "/progress")
    assert "trung bình ca: 80/giờ" in text
    assert "80.0" not in text
    assert "<strong>12.345</strong>" in text and "<strong>1.200</strong>" in text


def test_times_are_shown_in_the_stations_time_zone(client: FlaskClient, station: Station) -> None:
    assert station.config.station.timezone == "Asia/Ho_Chi_Minh"
    assert formats.local_time("2026-12-05T16:30:00Z", "Asia/Ho_Chi_Minh", "vi") == (
        "23:30 05/12/2026"
    )
    client.post("/shift/end", data={"csrf": csrf(client), "note": "Hết ca."})
    handover = TouchApi(station).last_handover()
    assert handover is not None
    ended = formats.parse_iso(handover["ended_at"])
    local = ended.astimezone(dt.timezone(dt.timedelta(hours=7)))
    text = page(client, "/shift")
    assert local.strftime("%H:%M %d/%m/%Y") in text
    assert "UTC" not in text


def test_the_screens_name_books_and_layouts_in_words(client: FlaskClient) -> None:
    books = page(client, "/books")
    assert "Sổ Khai sinh năm 2007, quyển số 1" in books
    assert "spread-2" not in re.sub(r'(value|data-book)="[^"]*"', "", books)
    assert "KS-2007-01" not in re.sub(r'(value|data-book|href)="[^"]*"', "", books)
    scan = page(client, "/scan")
    assert "Sổ Khai sinh năm 2007, quyển số 1" in scan


# -- admin (point 11) ----------------------------------------------------------------------


def test_changing_the_admin_pin_asks_for_the_current_one(
    client: FlaskClient, station: Station
) -> None:
    admin_login(client)
    assert 'name="old_pin"' in page(client, "/admin/pin")
    form = {"csrf": csrf(client, "/admin/pin"), "old_pin": "0000", "pin": "97531", "pin2": "97531"}
    refused = client.post("/admin/pin", data=form)
    assert refused.status_code == 403
    assert "Mã PIN hiện tại không đúng" in refused.get_data(as_text=True)
    assert TouchApi(station).check_admin_pin(ADMIN)
    admin_login(client)
    accepted = client.post("/admin/pin", data={**form, "old_pin": ADMIN})
    assert accepted.status_code == 302
    assert TouchApi(station).check_admin_pin("97531")


def test_the_admin_screens_lock_when_the_kiosk_leaves_them(client: FlaskClient) -> None:
    admin_login(client)
    assert client.get("/admin/storage").status_code == 200
    client.get("/api/ui/state")  # a script's refresh is no visit to another screen
    assert client.get("/admin/devices").status_code == 200
    page(client, "/scan")
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")


def test_the_admin_screens_lock_after_a_short_idle_time(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.ui import gate

    admin_login(client)
    now = dt.datetime.now().timestamp()
    monkeypatch.setattr(gate.time, "time", lambda: now + gate.ADMIN_MINUTES * 60 - 5)
    assert client.get("/admin/").status_code == 200  # used: the idle time starts again
    monkeypatch.setattr(gate.time, "time", lambda: now + 2 * gate.ADMIN_MINUTES * 60 - 10)
    assert client.get("/admin/").status_code == 200
    monkeypatch.setattr(gate.time, "time", lambda: now + 3 * gate.ADMIN_MINUTES * 60 + 1)
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")
    assert gate.ADMIN_MINUTES <= 5


def test_other_machines_keep_their_admin_session_across_screens(client: FlaskClient) -> None:
    remote = {"REMOTE_ADDR": "192.168.1.50"}
    admin_login(client, environ_base=remote)
    assert client.get("/scan", environ_base=remote).status_code == 200
    assert client.get("/admin/", environ_base=remote).status_code == 200


# -- the book checked after signing in (point 6) ---------------------------------------------


def test_signing_in_checks_the_open_book_first(client: FlaskClient, station: Station) -> None:
    touch = TouchApi(station)
    operator = next(o for o in touch.list_operators() if o.name == "Lê Thị Hòa")
    client.post("/shift/end", data={"csrf": csrf(client), "note": ""})
    signed_in = client.post(
        "/shift/start", data={"csrf": csrf(client), "operator_id": operator.id, "pin": PIN}
    )
    assert signed_in.headers["Location"].endswith("/books/confirm")
    text = page(client, "/books/confirm")
    cover = re.search(r'<dl class="cover" id="cover">(.*?)</dl>', text, re.S)
    assert cover is not None
    words = re.sub(r"<[^>]+>", " ", cover.group(1))
    assert " ".join(words.split()) == "Loại sổ Khai sinh Năm mở sổ 2007 Quyển số 1"
    assert "KS-2007-01" not in re.sub(r'(data-book|href)="[^"]*"', "", text)
    assert "Đúng, quét tiếp" in text and "Chọn sổ khác" in text
    assert 'href="/scan" id="book-yes"' in text and 'href="/books" id="book-other"' in text


def test_a_new_book_form_does_not_guess_the_year(client: FlaskClient) -> None:
    text = page(client, "/books/new")
    assert re.search(r'id="year" name="year" value=""', text)
    assert "Gõ năm ghi trên bìa sổ" in text


# -- the PDF inside the screens, oversized requests (point 8) ---------------------------------


def published_entry(station: Station) -> Any:
    """An entry of a captured page that has a published file."""
    capture(station, 1)
    assert station.current_book is not None
    found = [e for e in station.store.list_entries(station.current_book) if e.versions]
    assert found, "no entry published"
    return found[0]


def test_a_pdf_opens_in_the_screens_with_a_way_back(client: FlaskClient, station: Station) -> None:
    entry = published_entry(station)
    text = page(client, f"/entries/{entry.id}")
    assert f'href="/entries/{entry.id}/view" id="open-pdf"' in text
    assert 'target="_blank"' not in text and "<iframe" not in text
    viewer = page(client, f"/entries/{entry.id}/view")
    assert f'href="/entries/{entry.id}" id="pdf-back"' in viewer
    assert "Quay lại" in viewer and "Trang 1/1" in viewer
    picture = client.get(f"/entries/{entry.id}/page-1.png?w=600")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert picture.data.startswith(b"\x89PNG")
    assert client.get(f"/entries/{entry.id}/page-2.png").status_code == 404


def test_an_oversized_request_is_refused_in_vietnamese_with_the_limit(client: FlaskClient) -> None:
    answer = client.post("/capture", data={"csrf": "x" * (2 * 1024 * 1024)})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 413
    assert "Dữ liệu gửi lên quá lớn (tối đa 1 MB)" in text and "Entity" not in text
    scripted = client.post(
        "/api/ui/pages/x/y/cuts",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    assert scripted.status_code == 413
    assert "tối đa 1 MB" in scripted.get_json()["error"]


# -- renumbering and flags (point 9) ----------------------------------------------------------


def test_a_suffixed_number_keeps_the_books_sequence() -> None:
    assert next_entry_after(1, ["9", "10"]) == 11
    assert next_entry_after(1, ["9", "10", "12a"]) == 11  # was 13, without a word
    assert next_entry_after(1, ["9", "12a"]) == 10
    assert next_entry_after(5, []) == 5


def test_the_review_screen_says_what_the_next_number_becomes(
    client: FlaskClient, station: Station
) -> None:
    [view] = capture(station, 1)
    key = station.current_book
    assert key is not None
    numbers = [e.number for e in view.entries]
    before = station.get_book(key).next_entry
    token = csrf(client)
    url = f"/api/ui/pages/{key}/{view.capture_id}/next"
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    assert len(numbers) > 1 and numbers[-1] == str(before - 1)
    # A suffix on an earlier entry (an entry slipped in) leaves the sequence alone.
    same = client.post(url, json={"numbers": [numbers[0] + "a", *numbers[1:]]}, headers=headers)
    assert same.get_json() == {
        "before": before,
        "after": before,
        "changes": False,
        "text": f"Số tiếp theo của sổ vẫn là {before}.",
    }
    jump = client.post(url, json={"numbers": [*numbers[:-1], str(before + 5)]}, headers=headers)
    answer = jump.get_json()
    assert answer["changes"] and answer["after"] == before + 6
    assert answer["text"] == (
        f"Số tiếp theo của sổ sẽ là {before + 6} (thay vì {before}). "
        "Những số ở giữa sẽ hiện là thiếu."
    )
    assert station.get_book(key).next_entry == before  # asking changes nothing


def test_every_flag_shown_is_explained(client: FlaskClient, station: Station) -> None:
    keys = messages.texts("ui.flag_", "vi")
    flags = [k for k in keys if not k.startswith("help_")]
    assert flags and not [f for f in flags if f"help_{f}" not in keys]
    entry = published_entry(station)
    entry.flags = ["faded", "torn"]
    station.store.save_entry(entry)
    text = page(client, f"/entries/{entry.id}")
    assert "Mực mờ" in text and messages.render("ui.flag_help_faded", "vi") in text
    assert messages.render("ui.flag_help_torn", "vi") in text
    helped = flag_help(["faded"], "vi")
    assert helped == [
        {"flag": "faded", "label": "Mực mờ", "help": messages.render("ui.flag_help_faded", "vi")}
    ]


def test_a_refused_setting_is_named_by_its_label_in_vietnamese(client: FlaskClient) -> None:
    admin_login(client)
    token = csrf(client, "/admin/")
    for sent, words in (
        ({"storage__reserve_mb": "-5"}, "“Dung lượng giữ trống (MB)” không hợp lệ: cần ít nhất"),
        ({"storage__warn_mb": "abc"}, "“Cảnh báo khi còn dưới (MB)” không hợp lệ."),
    ):
        answer = client.post("/admin/settings", data={"csrf": token, **sent})
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400 and 'id="settings-form"' in text
        [error] = re.findall(r'id="form-error">([^<]*)<', text)
        assert words in error, error
        assert "storage." not in error and "Configuration" not in error and "expected" not in error


def test_a_failed_time_zone_change_is_said_in_vietnamese_and_logged(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    raw = "Failed to set time zone: Access denied"
    monkeypatch.setattr(system_time.shutil, "which", lambda name: "/usr/bin/timedatectl")
    monkeypatch.setattr(
        system_time.subprocess,
        "run",
        lambda *args, **kwargs: subprocess.CompletedProcess(args, 1, "", raw),
    )
    admin_login(client)
    token = csrf(client, "/setup/?step=timezone")
    answer = client.post("/setup/timezone", data={"csrf": token, "zone": "Asia/Bangkok"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "Không đổi được múi giờ sang Asia/Bangkok." in text
    assert raw not in text and "Access denied" not in text
    assert raw in caplog.text


def test_the_review_screen_says_what_each_flag_found(client: FlaskClient, station: Station) -> None:
    """A stacked page in a one-entry book: the review screen gives both counts, and the
    ink outside every entry one line a reason with its share of the page's ink."""
    station.open_book(BookRef.parse("KT/1999/02"), profile="page-1")
    capture_id = deliver_stacked(station)
    view = TouchApi(station).page_view("KT-1999-02", capture_id)
    text = page(client, f"/review/KT-1999-02/{capture_id}")
    found = len(view.entries)
    assert f"Số mục không khớp: mỗi trang cần 1 mục, tìm thấy {found}" in text
    assert view.outside and 'id="page-outside"' in text
    assert "tiêu đề trang, tiêu đề cột: " in text and "% mực của trang" in text
