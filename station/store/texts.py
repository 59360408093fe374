"""Messages the store shows to people (Vietnamese first, English second)."""

from __future__ import annotations

from station.core import messages

messages.register(
    {
        "store.unknown_book": {
            "vi": "Không có sổ {book} trong trạm.",
            "en": "Unknown book {book}: the station has no such ledger book.",
        },
        "store.book_exists": {
            "vi": "Sổ {book} đã có trong trạm.",
            "en": "Book {book} already exists on this station.",
        },
        "store.unknown_entry": {
            "vi": "Không có mục {entry} trong trạm.",
            "en": "Unknown entry {entry}.",
        },
        "store.unknown_capture": {
            "vi": "Không có ảnh chụp {capture} trong trạm.",
            "en": "Unknown capture {capture}.",
        },
        "store.entry_elsewhere": {
            "vi": "Mục {entry} đã thuộc sổ {book}, không thể chuyển sang sổ {other}.",
            "en": "Entry {entry} belongs to book {book}; it cannot move to book {other}.",
        },
        "store.operator_exists": {
            "vi": "Người thao tác {operator} đã có.",
            "en": "Operator {operator} already exists.",
        },
        "store.version_conflict": {
            "vi": "Tệp {path} đã có với nội dung khác; không ghi đè.",
            "en": "File {path} already exists with other content; it was not overwritten.",
        },
        "store.stale_plan": {
            "vi": "Mục {entry} đã thay đổi trong lúc tạo tệp PDF; hãy xử lý lại.",
            "en": "Entry {entry} changed while its PDF was being made; process it again.",
        },
        "store.record_mismatch": {
            "vi": "Tệp PDF của mục {entry} không mang đúng bản ghi của trạm; không xuất bản.",
            "en": "The PDF of entry {entry} does not carry the station's record; not published.",
        },
    }
)
