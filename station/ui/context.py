"""What every view of the web app shares: the station, the language, CSRF and errors.

The views live in several blueprints; they reach the running station and the
request's language through these helpers instead of importing the app factory.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, current_app, request, session

from station.app.station import Station
from station.app.touch import TouchApi
from station.core import messages

messages.register(
    {
        "ui.bad_value": {
            "vi": "Giá trị của '{name}' không hợp lệ.",
            "en": "The value of '{name}' is not valid.",
        },
        "ui.bad_name": {
            "vi": "Hãy nhập tên (tối đa {limit} ký tự).",
            "en": "Enter a name (at most {limit} characters).",
        },
        "ui.pin_mismatch": {
            "vi": "Hai lần nhập mã PIN không giống nhau. Hãy nhập lại.",
            "en": "The two PINs differ. Enter them again.",
        },
        "ui.unknown_operator": {
            "vi": "Không tìm thấy người này. Hãy chọn lại tên.",
            "en": "This person is not known. Pick the name again.",
        },
        "ui.unknown_step": {
            "vi": "Không có bước cài đặt này.",
            "en": "There is no such setup step.",
        },
        "ui.capture_busy": {
            "vi": "Thiết bị đang quét. Chờ xong rồi thử lại.",
            "en": "The device is capturing. Wait for it to finish, then try again.",
        },
        "ui.admin_wrong_pin": {
            "vi": "Mã PIN quản trị không đúng.",
            "en": "Wrong admin PIN.",
        },
        "ui.test_nothing": {
            "vi": "Thiết bị không trả về trang nào. Đặt trang sổ vào rồi thử lại.",
            "en": "The device gave no page. Put a ledger page in place and try again.",
        },
        "ui.admin_needed": {
            "vi": "Cần nhập mã PIN quản trị.",
            "en": "The admin PIN is needed.",
        },
        "ui.remote_setup": {
            "vi": "Việc cài đặt lần đầu chỉ làm được trên màn hình của trạm.",
            "en": "The first-boot setup can only be done on the station's own screen.",
        },
        "ui.unknown_entry": {
            "vi": "Không tìm thấy mục này.",
            "en": "This entry does not exist.",
        },
    }
)

#: Header a script sends its CSRF token in (forms send the ``csrf`` field).
CSRF_HEADER = "X-CSRF-Token"


def station() -> Station:
    """The running station of this app."""
    running: Station = current_app.extensions["station"]
    return running


def touch() -> TouchApi:
    """The touch screens' operations on the running station."""
    api: TouchApi = current_app.extensions["touch"]
    return api


def lang() -> str:
    """The reader's language: ``?lang=``, then the session, then Vietnamese."""
    chosen = request.args.get("lang") or session.get("lang") or "vi"
    if chosen not in messages.LANGUAGES:
        chosen = "vi"
    session["lang"] = chosen
    return str(chosen)


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return str(token)


def check_csrf() -> None:
    """Refuse (400) a state-changing request without this session's token."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="csrf")


def wants_json() -> bool:
    """Whether the answer should be JSON (an API path, a .json path or the Accept header)."""
    path = request.path
    if path.startswith("/api/") or path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"
