"""User-facing messages, Vietnamese first, English second.

Each module that raises errors registers its own keys with :func:`register` at import
time, so a message lives beside the code that uses it. A key maps to one template per
language; templates use ``str.format`` fields filled from the error's values.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")

_CATALOG: dict[str, dict[str, str]] = {}


def register(catalog: dict[str, dict[str, str]]) -> None:
    """Add message templates; every key needs a "vi" and an "en" template."""
    for key, templates in catalog.items():
        missing = [lang for lang in LANGUAGES if lang not in templates]
        if missing:
            raise ValueError(f"message {key!r} lacks {missing}")
        _CATALOG[key] = dict(templates)


def render(key: str, lang: str = "vi", /, **values: Any) -> str:
    """Fill the template for ``key`` in ``lang``; never fails, even on a bad key."""
    templates = _CATALOG.get(key)
    if templates is None:
        log.error("no message registered for key %r", key)
        detail = ", ".join(f"{name}={value}" for name, value in values.items())
        return _CATALOG["error.generic"][lang if lang in LANGUAGES else "vi"].format(
            detail=f"{key} ({detail})"
        )
    template = templates.get(lang) or templates["vi"]
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        log.exception("message %r could not be filled with %r", key, values)
        return f"{template} {values}"


def known(key: str) -> bool:
    """Whether a template is registered for ``key``."""
    return key in _CATALOG


register(
    {
        "error.generic": {
            "vi": "Đã xảy ra lỗi: {detail}",
            "en": "An error occurred: {detail}",
        },
        "config.invalid": {
            "vi": "Cấu hình không hợp lệ: {detail}",
            "en": "Invalid configuration: {detail}",
        },
        "naming.invalid": {
            "vi": "Tên tệp không hợp lệ: {detail}",
            "en": "Invalid file name: {detail}",
        },
        "store.io": {
            "vi": "Không đọc/ghi được dữ liệu tại {path}: {detail}",
            "en": "Cannot read or write data at {path}: {detail}",
        },
        "store.corrupt": {
            "vi": (
                "Tệp cơ sở dữ liệu {path} bị hỏng ({detail}). Tệp được giữ nguyên; "
                "hãy chạy 'station reindex' để dựng lại chỉ mục từ các tệp PDF."
            ),
            "en": (
                "Database file {path} is corrupt ({detail}). It was left untouched; "
                "run 'station reindex' to rebuild the index from the PDF files."
            ),
        },
        "store.locked": {
            "vi": (
                "Thư mục dữ liệu {path} đang được một tiến trình trạm khác sử dụng "
                "(PID {pid}). Hãy dừng tiến trình đó trước."
            ),
            "en": (
                "Data folder {path} is in use by another station process (PID {pid}). "
                "Stop that process first."
            ),
        },
        "store.disk_full": {
            "vi": (
                "Ổ đĩa sắp đầy: còn {free_mb} MB, cần giữ {reserve_mb} MB. "
                "Hãy để máy nhập liệu thu tệp về rồi dọn bớt trước khi quét tiếp."
            ),
            "en": (
                "Disk nearly full: {free_mb} MB free, {reserve_mb} MB must stay free. "
                "Let the entry PCs collect the files and clean up before scanning on."
            ),
        },
        "device.error": {
            "vi": "Thiết bị {device} gặp lỗi: {detail}",
            "en": "Device {device} failed: {detail}",
        },
        "image.bad": {
            "vi": "Ảnh {source} không dùng được: {detail}",
            "en": "Image {source} cannot be used: {detail}",
        },
        "encode.failed": {
            "vi": "Không tạo được PDF cho mục {entry}: {detail}",
            "en": "Could not make the PDF for entry {entry}: {detail}",
        },
        "book.bad_ref": {
            "vi": "Sổ '{text}' không đúng dạng LOẠI/NĂM/SỐ, ví dụ KS/2007/01.",
            "en": "Book '{text}' is not in the form CODE/YEAR/NUMBER, e.g. KS/2007/01.",
        },
        "usage.invalid": {
            "vi": "Lệnh không hợp lệ: {detail}",
            "en": "Invalid command: {detail}",
        },
    }
)
