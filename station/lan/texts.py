"""Words of the LAN service: error messages (registered) and the status page's LAN part.

Vietnamese first, English second, like every text a person sees.
"""

from __future__ import annotations

from station.core import messages

messages.register(
    {
        "lan.unauthorized": {
            "vi": "Cần mã truy cập hợp lệ: hãy ghép nối máy này với trạm.",
            "en": "A valid token is needed: pair this computer with the station.",
        },
        "lan.not_found": {"vi": "Không tìm thấy.", "en": "Not found."},
        "lan.unknown_entry": {
            "vi": "Trạm không có mục {entry}.",
            "en": "The station has no entry {entry}.",
        },
        "lan.unknown_version": {
            "vi": "Mục {entry} không có phiên bản {version}.",
            "en": "Entry {entry} has no version {version}.",
        },
        "lan.unknown_book": {
            "vi": "Trạm không có sổ {book}.",
            "en": "The station has no book {book}.",
        },
        "lan.unknown_request": {
            "vi": "Không có yêu cầu ghép nối {request} (có thể đã hết hạn).",
            "en": "No pairing request {request} (it may have expired).",
        },
        "lan.unknown_collector": {
            "vi": "Không có máy nhập liệu {collector} đã ghép nối.",
            "en": "No paired entry PC {collector}.",
        },
        "lan.ambiguous_code": {
            "vi": "Nhiều yêu cầu có mã {code}; hãy dùng mã yêu cầu đầy đủ.",
            "en": "Several requests carry code {code}; use the full request id.",
        },
        "lan.not_pending": {
            "vi": "Yêu cầu {request} không còn chờ duyệt (trạng thái: {status}).",
            "en": "Request {request} is no longer waiting for approval (status: {status}).",
        },
        "lan.bad_request": {
            "vi": "Yêu cầu không hợp lệ: {detail}",
            "en": "Invalid request: {detail}",
        },
        "lan.not_json": {
            "vi": "Nội dung gửi lên phải là JSON (Content-Type: application/json).",
            "en": "The request body must be JSON (Content-Type: application/json).",
        },
        "lan.too_large": {
            "vi": "Nội dung gửi lên quá lớn (tối đa {limit} byte).",
            "en": "The request body is too large (at most {limit} bytes).",
        },
        "lan.rate_limited": {
            "vi": "Quá nhiều yêu cầu ghép nối; hãy thử lại sau {seconds} giây.",
            "en": "Too many pairing requests; try again in {seconds} seconds.",
        },
        "lan.too_many_pending": {
            "vi": "Đã có quá nhiều yêu cầu ghép nối chờ duyệt; hãy thử lại sau.",
            "en": "Too many pairing requests are waiting for approval; try again later.",
        },
        "lan.file_damaged": {
            "vi": (
                "Tệp của mục {entry} (phiên bản {version}) trên trạm không khớp mã kiểm tra; "
                "hãy báo kỹ thuật viên."
            ),
            "en": (
                "The file of entry {entry} (version {version}) on the station does not "
                "match its checksum; tell the technician."
            ),
        },
        "lan.method": {
            "vi": "Thao tác này không dùng được ở địa chỉ này.",
            "en": "This method is not allowed here.",
        },
        "lan.range": {
            "vi": "Khoảng byte yêu cầu không hợp lệ với tệp dài {size} byte.",
            "en": "The requested byte range does not fit a file of {size} bytes.",
        },
        "lan.internal": {
            "vi": "Trạm gặp lỗi nội bộ; dữ liệu vẫn an toàn. Hãy thử lại.",
            "en": "The station hit an internal error; data is safe. Try again.",
        },
        "lan.http": {
            "vi": "Yêu cầu không thực hiện được (HTTP {status}).",
            "en": "The request could not be carried out (HTTP {status}).",
        },
        "lan.port_busy": {
            "vi": "Không mở được cổng {port} cho các máy nhập liệu: {detail}",
            "en": "Cannot open port {port} for the entry PCs: {detail}",
        },
        "lan.certificate": {
            "vi": "Không tạo hoặc đọc được chứng chỉ TLS trong {path}: {detail}",
            "en": "Cannot make or read the TLS certificate in {path}: {detail}",
        },
        "lan.pairing_denied": {
            "vi": "Đã từ chối yêu cầu ghép nối của {name}.",
            "en": "Pairing request of {name} denied.",
        },
        "lan.pairing_approved": {
            "vi": "Đã chấp nhận {name} (mã {code}); máy đó sẽ nhận mã truy cập khi hỏi lại.",
            "en": "Approved {name} (code {code}); it receives its token when it asks next.",
        },
        "lan.collector_revoked": {
            "vi": "Đã thu hồi quyền của máy {name}; máy đó không tải được tệp nữa.",
            "en": "Revoked {name}; it can no longer collect files.",
        },
        "lan.loopback_only": {
            "vi": "Chỉ làm được việc này trên màn hình của trạm.",
            "en": "This can only be done on the station's own screen.",
        },
    }
)

#: The LAN part of the status page (``station/ui/templates/lan_status.html``).
TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "lan": "Máy nhập liệu (mạng LAN)",
        "lan_off": "Tắt (lan.enabled = false)",
        "address": "Địa chỉ",
        "fingerprint": "Dấu vân tay chứng chỉ",
        "fingerprint_hint": "So khớp vài ký tự đầu với số hiện trên máy nhập liệu khi ghép nối.",
        "announced_as": "Tên trên mạng",
        "announce_waiting": "đang chờ mạng",
        "announce_off": "không thông báo",
        "announce_error": "lỗi thông báo",
        "pending": "Yêu cầu ghép nối chờ duyệt",
        "pending_none": "Không có yêu cầu nào.",
        "pc_name": "Tên máy",
        "code": "Mã",
        "from": "Từ địa chỉ",
        "expires": "Hết hạn sau",
        "minutes": "{n} phút",
        "approve": "Chấp nhận",
        "deny": "Từ chối",
        "approve_hint": (
            "Chỉ chấp nhận khi tên máy và mã trùng với những gì máy nhập liệu đang hiển thị."
        ),
        "collectors": "Máy nhập liệu đã ghép nối",
        "collectors_none": "Chưa có máy nào.",
        "paired_at": "Ghép nối lúc",
        "last_seen": "Lần cuối",
        "revoke": "Thu hồi",
        "revoke_confirm": "Thu hồi quyền của máy này? Máy sẽ phải ghép nối lại.",
        "collected": "Tệp đã được thu về theo sổ",
        "collected_hint": "Số tệp mỗi máy đã nhận và kiểm tra / số tệp đã xuất của sổ.",
        "book": "Sổ",
        "rescans": "Yêu cầu quét lại",
        "entry": "Mục",
        "reason": "Lý do",
        "asked_by": "Máy yêu cầu",
        "at": "Lúc",
        "local_only": "Duyệt, từ chối và thu hồi chỉ làm được trên màn hình của trạm.",
    },
    "en": {
        "lan": "Entry PCs (LAN)",
        "lan_off": "Off (lan.enabled = false)",
        "address": "Address",
        "fingerprint": "Certificate fingerprint",
        "fingerprint_hint": "Compare the first characters with the entry PC when pairing.",
        "announced_as": "Name on the network",
        "announce_waiting": "waiting for the network",
        "announce_off": "not announced",
        "announce_error": "announcement failed",
        "pending": "Pairing requests waiting for approval",
        "pending_none": "No requests.",
        "pc_name": "Computer",
        "code": "Code",
        "from": "From address",
        "expires": "Expires in",
        "minutes": "{n} min",
        "approve": "Approve",
        "deny": "Deny",
        "approve_hint": "Approve only when the name and code match what the entry PC shows.",
        "collectors": "Paired entry PCs",
        "collectors_none": "None yet.",
        "paired_at": "Paired at",
        "last_seen": "Last seen",
        "revoke": "Revoke",
        "revoke_confirm": "Revoke this computer? It will have to pair again.",
        "collected": "Files collected per book",
        "collected_hint": "Files each PC received and verified / files published in the book.",
        "book": "Book",
        "rescans": "Rescan requests",
        "entry": "Entry",
        "reason": "Reason",
        "asked_by": "Asked by",
        "at": "At",
        "local_only": "Approving, denying and revoking work only on the station's own screen.",
    },
}
