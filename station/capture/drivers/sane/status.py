"""What a SANE status means to the operator: one message key per status, and the fix.

python-sane raises its ``_sane.error`` with the text of ``sane_strstatus()`` and no
status number (both Debian's python3-sane 2.9.1 and the PyPI 2.9.2 build), so the
status is recognised from that text. libsane returns these texts untranslated, and
the phrases matched here are the stable cores of them across SANE releases
("Operation was canceled" was once spelled "cancelled", hence "cancel").
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from station.capture.drivers.base import DeviceState

log = logging.getLogger(__name__)

_KEPT_VI = "Đã giữ {pages} trang quét trước khi lỗi."
_KEPT_EN = "{pages} pages scanned before the fault are kept."


class SaneStatus(enum.Enum):
    """The SANE statuses a scan can end with, plus python-sane's own failures."""

    UNSUPPORTED = "unsupported"
    CANCELLED = "cancelled"
    DEVICE_BUSY = "busy"
    INVAL = "inval"
    EOF = "eof"  # the scanner stopped sending mid-page: unplugged or powered off
    JAMMED = "jammed"
    NO_DOCS = "no_docs"
    COVER_OPEN = "cover_open"
    IO_ERROR = "io_error"
    NO_MEM = "no_mem"
    ACCESS_DENIED = "access_denied"
    WARMING_UP = "warming_up"
    HW_LOCKED = "hw_locked"
    UNKNOWN = "failed"

    @property
    def key(self) -> str:
        """The message key of this status."""
        return f"sane.{self.value}"


#: Phrases of sane_strstatus() (lower case) and of python-sane's RuntimeErrors.
_PHRASES: tuple[tuple[str, SaneStatus], ...] = (
    ("not supported", SaneStatus.UNSUPPORTED),
    ("cancel", SaneStatus.CANCELLED),
    ("device busy", SaneStatus.DEVICE_BUSY),
    ("invalid argument", SaneStatus.INVAL),
    ("end of file", SaneStatus.EOF),
    ("returned no data", SaneStatus.EOF),  # python-sane: EOF before the first line
    ("premature end", SaneStatus.EOF),  # older python-sane wording
    ("jammed", SaneStatus.JAMMED),
    ("out of documents", SaneStatus.NO_DOCS),
    ("cover is open", SaneStatus.COVER_OPEN),
    ("i/o", SaneStatus.IO_ERROR),
    ("out of memory", SaneStatus.NO_MEM),
    ("denied", SaneStatus.ACCESS_DENIED),
    ("lamp not ready", SaneStatus.WARMING_UP),
    ("locked for transport", SaneStatus.HW_LOCKED),
)

#: Statuses after which the handle is useless: close it; the operator reconnects.
LOST = frozenset({SaneStatus.EOF, SaneStatus.IO_ERROR, SaneStatus.ACCESS_DENIED})


def classify(error: BaseException) -> SaneStatus:
    """The status behind a python-sane exception."""
    text = str(error).lower()
    for phrase, status in _PHRASES:
        if phrase in text:
            return status
    log.warning("unrecognised SANE error: %r", error)
    return SaneStatus.UNKNOWN


def state_after(status: SaneStatus) -> DeviceState:
    """The device state a failed scan leaves behind."""
    return DeviceState.OFFLINE if status in LOST else DeviceState.ERROR


@dataclass(frozen=True)
class _Text:
    vi: str
    en: str


_STATUS_TEXT: dict[SaneStatus, _Text] = {
    SaneStatus.UNSUPPORTED: _Text(
        "Máy quét {device} không hỗ trợ thao tác này với các thiết lập hiện tại; "
        "hãy đổi chế độ màu, độ phân giải hoặc nguồn giấy rồi quét lại.",
        "Scanner {device} does not support this with the current settings; change "
        "the colour mode, resolution or paper source and scan again.",
    ),
    SaneStatus.CANCELLED: _Text(
        "Máy quét {device} đã dừng lần quét (nút Dừng trên máy?). Bấm Quét để quét tiếp.",
        "Scanner {device} cancelled the scan (its Stop button?). Press Scan to continue.",
    ),
    SaneStatus.DEVICE_BUSY: _Text(
        "Máy quét {device} đang bận (một chương trình khác đang dùng?). Đợi một lát rồi quét lại.",
        "Scanner {device} is busy (another program using it?). Wait a moment and scan again.",
    ),
    SaneStatus.INVAL: _Text(
        "Máy quét {device} từ chối thiết lập quét (giá trị không hợp lệ); "
        "hãy kiểm tra vùng quét, độ phân giải và chế độ màu.",
        "Scanner {device} refused the scan settings (invalid argument); check the "
        "scan area, resolution and colour mode.",
    ),
    SaneStatus.EOF: _Text(
        "Máy quét {device} ngừng gửi dữ liệu giữa trang (bị rút cáp hoặc mất điện?): "
        "cắm lại cáp USB và nguồn, bấm Kết nối rồi quét lại trang đó.",
        "Scanner {device} stopped sending in the middle of a page (unplugged or "
        "powered off?): plug the USB cable and power back in, press Connect, then "
        "scan that page again.",
    ),
    SaneStatus.JAMMED: _Text(
        "Giấy bị kẹt trong khay nạp của {device}: mở nắp, gỡ tờ giấy, đặt lại các "
        "trang chưa quét rồi bấm Quét tiếp.",
        "Paper jammed in the feeder of {device}: open the cover, remove the sheet, put "
        "back the pages not yet scanned, then press Continue scanning.",
    ),
    SaneStatus.NO_DOCS: _Text(
        "Khay nạp giấy của {device} không có giấy: đặt các trang vào khay rồi bấm Quét.",
        "The feeder of {device} has no paper: put the pages in the feeder, then press Scan.",
    ),
    SaneStatus.COVER_OPEN: _Text(
        "Nắp máy quét {device} đang mở: đóng nắp rồi bấm Quét tiếp.",
        "The cover of scanner {device} is open: close it, then press Continue scanning.",
    ),
    SaneStatus.IO_ERROR: _Text(
        "Lỗi truyền dữ liệu với máy quét {device}: kiểm tra cáp USB và nguồn điện, "
        "bấm Kết nối rồi quét lại.",
        "Communication with scanner {device} failed (I/O error): check the USB cable "
        "and power, press Connect, then scan again.",
    ),
    SaneStatus.NO_MEM: _Text(
        "Không đủ bộ nhớ để quét trên {device}: giảm độ phân giải hoặc vùng quét, "
        "hoặc khởi động lại trạm.",
        "Not enough memory to scan on {device}: lower the resolution or the scan "
        "area, or restart the station.",
    ),
    SaneStatus.ACCESS_DENIED: _Text(
        "Trạm không có quyền dùng máy quét {device}: kỹ thuật viên cần cài quy tắc "
        "udev của trạm (thư mục systemd/) rồi cắm lại máy quét.",
        "The station may not use scanner {device} (access denied): a technician needs "
        "to install the station's udev rules (systemd/ folder), then replug the scanner.",
    ),
    SaneStatus.WARMING_UP: _Text(
        "Đèn của máy quét {device} chưa sẵn sàng: đợi máy khởi động xong rồi quét lại.",
        "The lamp of scanner {device} is not ready: wait for it to warm up, then scan again.",
    ),
    SaneStatus.HW_LOCKED: _Text(
        "Máy quét {device} đang khóa đầu quét để vận chuyển: mở khóa (thường ở mặt "
        "dưới máy) rồi quét lại.",
        "Scanner {device} has its carriage locked for transport: unlock it (usually "
        "underneath), then scan again.",
    ),
    SaneStatus.UNKNOWN: _Text(
        "Máy quét {device} báo lỗi: {detail}.",
        "Scanner {device} reported an error: {detail}.",
    ),
}
