"""Messages of ``station-collect``, Vietnamese first, English second."""

from __future__ import annotations

from station.core import messages

messages.register(
    {
        # -- errors -------------------------------------------------------------------
        "collect.error": {
            "vi": "Lỗi khi thu tệp: {detail}",
            "en": "Collection failed: {detail}",
        },
        "collect.unreachable": {
            "vi": "Không kết nối được trạm {station}: {detail}",
            "en": "Cannot reach station {station}: {detail}",
        },
        "collect.unauthorized": {
            "vi": (
                "Trạm {station} không chấp nhận khoá của máy này (có thể đã bị thu hồi). "
                "Hãy ghép nối lại: station-collect pair"
            ),
            "en": (
                "Station {station} refuses this PC's token (it may have been revoked). "
                "Pair again: station-collect pair"
            ),
        },
        "collect.fingerprint": {
            "vi": (
                "Chứng chỉ của trạm {station} không khớp với chứng chỉ đã ghi nhận "
                "(nhận {got}, cần {expected}). Không tải gì từ trạm này. Nếu trạm vừa "
                "được cài lại, hãy ghép nối lại."
            ),
            "en": (
                "The certificate of station {station} does not match the pinned one "
                "(got {got}, expected {expected}). Nothing is taken from it. If the "
                "station was reinstalled, pair again."
            ),
        },
        "collect.protocol": {
            "vi": "Trạm {station} trả lời không đúng giao thức: {detail}",
            "en": "Station {station} answered outside the protocol: {detail}",
        },
        "collect.http": {
            "vi": "Trạm {station} trả lời lỗi HTTP {status}: {detail}",
            "en": "Station {station} answered HTTP {status}: {detail}",
        },
        "collect.transfer": {
            "vi": "Tệp {file} tải về không đúng ({detail}).",
            "en": "File {file} arrived wrong ({detail}).",
        },
        "collect.bad_file": {
            "vi": "Trạm gửi một tên tệp không an toàn: {file!r} ({detail}); bỏ qua.",
            "en": "The station sent an unsafe file name: {file!r} ({detail}); skipped.",
        },
        "collect.stopped": {
            "vi": "Đã dừng theo yêu cầu.",
            "en": "Stopped on request.",
        },
        "collect.not_paired": {
            "vi": "Máy này chưa ghép nối với trạm nào. Hãy chạy: station-collect pair",
            "en": "This PC is not paired with any station. Run: station-collect pair",
        },
        "collect.no_station": {
            "vi": (
                "Không tìm thấy trạm nào{office} trên mạng sau {seconds} giây. Hãy kiểm tra "
                "trạm đã bật và cùng mạng, hoặc chỉ rõ địa chỉ: --station 192.168.1.20:8443"
            ),
            "en": (
                "No station{office} found on the network within {seconds} seconds. Check "
                "the station is on and on this network, or give its address: "
                "--station 192.168.1.20:8443"
            ),
        },
        "collect.many_stations": {
            "vi": "Có nhiều trạm; hãy chọn một bằng --station <tên>: {names}",
            "en": "Several stations found; choose one with --station <name>: {names}",
        },
        "collect.office_mismatch": {
            "vi": "Trạm {station} thuộc đơn vị {found}, không phải {wanted}.",
            "en": "Station {station} belongs to office {found}, not {wanted}.",
        },
        "collect.pair_denied": {
            "vi": "Trạm {station} đã từ chối yêu cầu ghép nối.",
            "en": "Station {station} denied the pairing request.",
        },
        "collect.pair_expired": {
            "vi": "Yêu cầu ghép nối đã hết hạn mà chưa được duyệt. Hãy chạy lại lệnh.",
            "en": "The pairing request expired before it was approved. Run the command again.",
        },
        "collect.state": {
            "vi": "Không đọc/ghi được thư mục trạng thái {path}: {detail}",
            "en": "Cannot read or write the state folder {path}: {detail}",
        },
        "collect.dest": {
            "vi": "Không ghi được vào thư mục đích {path}: {detail}",
            "en": "Cannot write to the destination folder {path}: {detail}",
        },
        # -- pairing --------------------------------------------------------------------
        "collect.searching": {
            "vi": "Đang tìm trạm trên mạng (tối đa {seconds} giây)...",
            "en": "Looking for stations on the network (up to {seconds} seconds)...",
        },
        "collect.found": {
            "vi": "Trạm {name} ({office}) tại {address}",
            "en": "Station {name} ({office}) at {address}",
        },
        "collect.fingerprint_show": {
            "vi": "Dấu vân tay chứng chỉ của trạm: {fingerprint} (bắt đầu bằng {grouped} ...)",
            "en": "Station certificate fingerprint: {fingerprint} (starts {grouped} ...)",
        },
        "collect.pair_code": {
            "vi": (
                "Mã ghép nối: {code}. Hãy so với mã trên màn hình trạm rồi bấm Duyệt "
                "(yêu cầu {request_id}, còn {minutes} phút)."
            ),
            "en": (
                "Pairing code: {code}. Compare it with the code on the station's screen, "
                "then approve there (request {request_id}, {minutes} minutes left)."
            ),
        },
        "collect.paired": {
            "vi": "Đã ghép nối với trạm {name}. Khoá được lưu riêng tư tại {path}.",
            "en": "Paired with station {name}. The token is stored privately in {path}.",
        },
        # -- collecting -----------------------------------------------------------------
        "collect.started": {
            "vi": "Đang thu tệp về {dest} (Ctrl+C để dừng).",
            "en": "Collecting into {dest} (Ctrl+C to stop).",
        },
        "collect.got": {
            "vi": "Đã nhận {file} (bản {version}, {kb} KB)",
            "en": "Received {file} (version {version}, {kb} KB)",
        },
        "collect.replaced": {
            "vi": "Đã nhận bản mới {file} (bản {version}); bản cũ được cất vào {aside}",
            "en": "Received the new {file} (version {version}); the old one is kept in {aside}",
        },
        "collect.withdrawn": {
            "vi": "Trạm đã rút mục {file}; tệp được cất vào {aside}",
            "en": "The station withdrew {file}; the file is kept in {aside}",
        },
        "collect.file_failed": {
            "vi": "Chưa nhận được {file}: {detail} Sẽ thử lại.",
            "en": "Could not take {file}: {detail} Will try again.",
        },
        "collect.station_down": {
            "vi": "{detail} Thử lại sau {seconds} giây.",
            "en": "{detail} Retrying in {seconds} s.",
        },
        "collect.station_back": {
            "vi": "Đã kết nối lại với trạm {station}.",
            "en": "Station {station} is reachable again.",
        },
        "collect.unpaired_seen": {
            "vi": (
                "Thấy trạm {name} ({office}) nhưng máy này chưa ghép nối với nó; "
                "chạy station-collect pair --station {name} để nhận tệp từ trạm này."
            ),
            "en": (
                "Station {name} ({office}) is on the network but not paired with this PC; "
                "run station-collect pair --station {name} to collect from it too."
            ),
        },
        "collect.pass_done": {
            "vi": "Trạm {station}: {collected} tệp mới, có {total} tệp, {pending} chưa nhận.",
            "en": "Station {station}: {collected} new files, {total} in all, {pending} pending.",
        },
        "collect.once_ok": {
            "vi": "Đã thu đủ mọi tệp.",
            "en": "Every file has been collected.",
        },
        "collect.once_incomplete": {
            "vi": "Chưa thu đủ tệp: {detail}",
            "en": "Not every file was collected: {detail}",
        },
        "collect.stopping": {
            "vi": "Đang dừng...",
            "en": "Stopping...",
        },
        # -- status ---------------------------------------------------------------------
        "collect.status_none": {
            "vi": "Chưa ghép nối với trạm nào.",
            "en": "Not paired with any station.",
        },
        "collect.status_station": {
            "vi": (
                "Trạm {name} [{id}] đơn vị {office}; ghép nối lúc {paired_at}; địa chỉ gần "
                "nhất {address}; vân tay {fingerprint}"
            ),
            "en": (
                "Station {name} [{id}] office {office}; paired at {paired_at}; last address "
                "{address}; fingerprint {fingerprint}"
            ),
        },
        "collect.status_dest": {
            "vi": (
                "  -> {dest}: con trỏ {cursor}; {files} tệp; {replaced} bản cũ cất riêng; "
                "{withdrawn} tệp bị rút; {pending} chưa nhận; {unacked} chưa báo nhận"
            ),
            "en": (
                "  -> {dest}: cursor {cursor}; {files} files; {replaced} old versions kept; "
                "{withdrawn} withdrawn; {pending} not taken; {unacked} not acknowledged"
            ),
        },
        "collect.status_success": {
            "vi": "  Lần thu thành công gần nhất: {when}",
            "en": "  Last successful pass: {when}",
        },
        "collect.status_error": {
            "vi": "  Lỗi gần nhất ({when}): {message}",
            "en": "  Last error ({when}): {message}",
        },
        "collect.status_pending": {
            "vi": "     chưa nhận: {file} (bản {version}): {error}",
            "en": "     not taken: {file} (version {version}): {error}",
        },
        "collect.never": {"vi": "chưa có", "en": "never"},
    }
)
