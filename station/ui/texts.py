"""Words on the station's web pages, Vietnamese first, English second."""

from __future__ import annotations

from station.ui.texts_touch import FLAGS, LEDGER_TYPES, PAIRS

__all__ = ["LEDGER_TYPES", "TEXTS"]

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Trạm số hoá sổ hộ tịch",
        "device": "Thiết bị",
        "state": "Trạng thái",
        "current_book": "Sổ đang quét",
        "none": "(chưa chọn)",
        "book": "Sổ",
        "profile": "Bố cục",
        "pages": "Số trang",
        "entries": "Số mục",
        "published": "Đã xuất PDF",
        "review": "Cần xem lại",
        "withdrawn": "Đã rút lại",
        "next_entry": "Số mục tiếp theo",
        "queue": "Trang đang chờ xử lý",
        "failed": "Trang lỗi (ảnh gốc vẫn được giữ)",
        "capture": "Quét một trang",
        "no_book": "Chưa chọn sổ. Hãy mở một sổ trước khi quét.",
        "busy": "Đang quét, vui lòng chờ.",
        "captured": "Đã lưu {count} trang; đang xử lý.",
        "other_lang": "English",
        "other_lang_code": "en",
        "offline": "chưa kết nối",
        "idle": "sẵn sàng",
        "capturing": "đang quét",
        "error": "lỗi",
        "home": "Về trang chính",
        "http.400": "Yêu cầu không hợp lệ.",
        "http.404": "Không tìm thấy trang này.",
        "http.405": "Thao tác này không được phép ở đây.",
        "http.413": "Tệp gửi lên quá lớn.",
        "http.500": "Trạm gặp lỗi nội bộ; dữ liệu đã quét vẫn an toàn. Hãy thử lại.",
        "http.other": "Yêu cầu không thực hiện được.",
        "http.403": "Không được phép.",
        "upload": "Gửi ảnh trang sổ",
        "upload_hint": (
            "Chụp trang sổ bằng máy ảnh của điện thoại, hoặc chọn ảnh đã chụp. "
            "Ảnh được lưu vào sổ đang quét."
        ),
        "upload_take": "Chụp ảnh",
        "upload_choose": "Chọn ảnh có sẵn",
        "upload_send": "Gửi ảnh",
        "upload_limit": "Mỗi lần gửi tối đa {limit} MB.",
        "upload_none": "Chưa chọn ảnh nào.",
        "upload_too_big": (
            "Các ảnh gửi một lần quá lớn (tối đa {limit} MB). Hãy gửi ít ảnh hơn mỗi lần."
        ),
        "upload_saved": "đã lưu",
        "upload_refused": "không nhận",
        "pairing_needed": (
            "Trang gửi ảnh hiện chỉ dùng được trên màn hình của trạm. Điện thoại và máy "
            "khác cần được ghép nối với trạm trước; tính năng ghép nối sẽ có sau."
        ),
    },
    "en": {
        "title": "Civil-status ledger station",
        "device": "Device",
        "state": "State",
        "current_book": "Current book",
        "none": "(none chosen)",
        "book": "Book",
        "profile": "Layout",
        "pages": "Pages",
        "entries": "Entries",
        "published": "PDFs written",
        "review": "To review",
        "withdrawn": "Withdrawn",
        "next_entry": "Next entry number",
        "queue": "Pages waiting for processing",
        "failed": "Failed pages (raw images kept)",
        "capture": "Capture one page",
        "no_book": "No book chosen. Open a book before scanning.",
        "busy": "A capture is running, please wait.",
        "captured": "Saved {count} page(s); processing.",
        "other_lang": "Tiếng Việt",
        "other_lang_code": "vi",
        "offline": "offline",
        "idle": "ready",
        "capturing": "capturing",
        "error": "error",
        "home": "Back to the main page",
        "http.400": "Invalid request.",
        "http.404": "This page does not exist.",
        "http.405": "This action is not allowed here.",
        "http.413": "The upload is too large.",
        "http.500": "The station hit an internal error; captured data is safe. Try again.",
        "http.other": "The request could not be carried out.",
        "http.403": "Not allowed.",
        "upload": "Send ledger page photos",
        "upload_hint": (
            "Photograph a ledger page with the phone's camera, or choose photos already "
            "taken. They are saved into the current book."
        ),
        "upload_take": "Take a photo",
        "upload_choose": "Choose existing photos",
        "upload_send": "Send",
        "upload_limit": "At most {limit} MB per sending.",
        "upload_none": "No photo chosen.",
        "upload_too_big": (
            "The photos sent together are too large (at most {limit} MB). Send fewer at a time."
        ),
        "upload_saved": "saved",
        "upload_refused": "refused",
        "pairing_needed": (
            "The upload page works only on the station's own screen for now. Phones and "
            "other computers must be paired with the station first; pairing comes later."
        ),
    },
}


def _merge(pairs: dict[str, tuple[str, str]], prefix: str = "") -> None:
    for key, (vi, en) in pairs.items():
        TEXTS["vi"][prefix + key] = vi
        TEXTS["en"][prefix + key] = en


_merge(PAIRS)
_merge(FLAGS, "flag_")
