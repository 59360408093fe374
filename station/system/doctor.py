"""``station doctor``: what the station sees, what it would use, and what to fix.

Each check is a small function that looks at one thing (the configuration, the disk,
SANE scanners, cameras, USB devices, input devices, the hot folder) and returns
findings; the last one says which device the configuration would capture from. A
finding carries a message and, when something is wrong, how to fix it, both in
Vietnamese and English. The report prints as text or JSON; the exit code is 0 when
the station can capture, else the code of the first failure. More checks (clock,
network, certificate, service, permissions) live in :mod:`station.system.doctor_system`.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from station.capture.drivers import driver_class
from station.capture.drivers.camera.v4l2 import list_video_devices
from station.capture.inputdev import list_input_devices
from station.capture.triggers import parse_keys, wanted_devices
from station.capture.usb import list_usb
from station.capture.usb_table import DeviceTable
from station.core import config, messages
from station.core.errors import ConfigError, StationError
from station.system.doctor_system import SYSTEM_CHECKS
from station.system.findings import (
    EXIT_CONFIG,
    EXIT_DEVICE,
    EXIT_DISK,
    FAIL,
    INFO,
    OK,
    WARN,
    Check,
    Context,
    Finding,
    Report,
)

log = logging.getLogger(__name__)

messages.register(
    {
        "doctor.title": {"vi": "Kiểm tra trạm số hoá", "en": "Station check"},
        "doctor.fix": {"vi": "Cách sửa: {text}", "en": "How to fix: {text}"},
        "doctor.summary_ok": {
            "vi": "Trạm sẵn sàng để quét.",
            "en": "The station is ready to capture.",
        },
        "doctor.summary_fail": {
            "vi": "Trạm chưa quét được: {count} lỗi cần sửa (xem dấu ✗ ở trên).",
            "en": "The station cannot capture yet: {count} problem(s) to fix (marked ✗ above).",
        },
        "doctor.config_ok": {
            "vi": "Cấu hình {source} hợp lệ.",
            "en": "Configuration {source} is valid.",
        },
        "doctor.fix_config": {
            "vi": "sửa các khoá trên trong tệp cấu hình, rồi chạy 'station config check'.",
            "en": "correct the keys above in the configuration file, then run "
            "'station config check'.",
        },
        "doctor.disk": {
            "vi": "Thư mục dữ liệu {path}: còn trống {free} trên {total} (giữ lại {reserve}).",
            "en": "Data folder {path}: {free} free of {total} ({reserve} kept in reserve).",
        },
        "doctor.fix_disk": {
            "vi": "để máy nhập liệu thu tệp về rồi dọn bớt, hoặc dùng ổ lớn hơn "
            "(storage.data_dir).",
            "en": "let the entry PCs collect the files and clean up, or use a larger disk "
            "(storage.data_dir).",
        },
        "doctor.data_dir_unwritable": {
            "vi": "Không ghi được vào thư mục dữ liệu {path}.",
            "en": "Cannot write to the data folder {path}.",
        },
        "doctor.fix_data_dir": {
            "vi": "tạo thư mục và giao cho người dùng của trạm: mkdir -p {path} && "
            "chown ledger-station {path}",
            "en": "create the folder and give it to the station user: mkdir -p {path} && "
            "chown ledger-station {path}",
        },
        "doctor.sane_missing": {
            "vi": "Máy quét SANE: chưa dùng được ({detail}).",
            "en": "SANE scanners: unavailable ({detail}).",
        },
        "doctor.fix_sane": {
            "vi": "cài python-sane: apt install python3-sane (trạm dùng gói của Debian), "
            "hoặc pip install 'ledger-station[sane]' (cần libsane-dev và trình biên dịch).",
            "en": "install python-sane: apt install python3-sane (the station uses Debian's), "
            "or pip install 'ledger-station[sane]' (needs libsane-dev and a compiler).",
        },
        "doctor.sane_error": {
            "vi": "Máy quét SANE: không liệt kê được ({detail}).",
            "en": "SANE scanners: cannot list them ({detail}).",
        },
        "doctor.sane_device": {
            "vi": "Máy quét SANE: {device} — {label}",
            "en": "SANE scanner: {device} — {label}",
        },
        "doctor.sane_none": {
            "vi": "Máy quét SANE: không thấy máy nào.",
            "en": "SANE scanners: none found.",
        },
        "doctor.camera": {
            "vi": "Máy ảnh: {path} — {name} ({usb_id})",
            "en": "Camera: {path} — {name} ({usb_id})",
        },
        "doctor.camera_no_access": {
            "vi": "Máy ảnh: {path} — {name}: trạm không có quyền mở.",
            "en": "Camera: {path} — {name}: the station may not open it.",
        },
        "doctor.fix_video_group": {
            "vi": "thêm người dùng của trạm vào nhóm 'video': usermod -aG video ledger-station",
            "en": "add the station user to group 'video': usermod -aG video ledger-station",
        },
        "doctor.camera_none": {
            "vi": "Máy ảnh: không thấy máy ảnh USB nào.",
            "en": "Cameras: no USB camera found.",
        },
        "doctor.usb_device": {
            "vi": "USB {usb_id}: {label} — dùng trình điều khiển '{driver}'{backend}",
            "en": "USB {usb_id}: {label} — driver '{driver}'{backend}",
        },
        "doctor.usb_others": {
            "vi": "USB: {count} thiết bị khác, không dùng để quét.",
            "en": "USB: {count} other device(s), not used for capture.",
        },
        "doctor.usb_none": {
            "vi": "USB: không thấy thiết bị quét, máy ảnh hay bàn đạp nào.",
            "en": "USB: no scanner, camera or pedal found.",
        },
        "doctor.triggers_off": {
            "vi": "Bàn đạp / phím chụp: đang tắt (bật bằng triggers.enabled = true).",
            "en": "Pedal / capture keys: off (turn on with triggers.enabled = true).",
        },
        "doctor.trigger_device": {
            "vi": "Bàn đạp / phím chụp: nghe {path} — {name} (phím {keys}).",
            "en": "Pedal / capture keys: listening to {path} — {name} (keys {keys}).",
        },
        "doctor.trigger_none": {
            "vi": "Bàn đạp / phím chụp: bật nhưng không thấy thiết bị nào có phím {keys}.",
            "en": "Pedal / capture keys: on, but no device has the keys {keys}.",
        },
        "doctor.fix_trigger_none": {
            "vi": "cắm bàn đạp; kiểm tra triggers.devices và triggers.keys.",
            "en": "plug the pedal in; check triggers.devices and triggers.keys.",
        },
        "doctor.trigger_missing": {
            "vi": "Bàn đạp / phím chụp: không có {path} (chưa cắm?).",
            "en": "Pedal / capture keys: {path} does not exist (not plugged in?).",
        },
        "doctor.trigger_no_access": {
            "vi": "Bàn đạp / phím chụp: không đọc được {path} — {name}.",
            "en": "Pedal / capture keys: cannot read {path} — {name}.",
        },
        "doctor.fix_input_group": {
            "vi": "thêm người dùng của trạm vào nhóm 'input': usermod -aG input ledger-station",
            "en": "add the station user to group 'input': usermod -aG input ledger-station",
        },
        "doctor.folder_none": {
            "vi": "Thư mục nhận ảnh: chưa cấu hình (capture.folder.path).",
            "en": "Hot folder: not configured (capture.folder.path).",
        },
        "doctor.folder_ok": {
            "vi": "Thư mục nhận ảnh: {path} sẵn sàng.",
            "en": "Hot folder: {path} is ready.",
        },
        "doctor.folder_bad": {
            "vi": "Thư mục nhận ảnh: {path} không có hoặc không ghi được.",
            "en": "Hot folder: {path} is missing or not writable.",
        },
        "doctor.fix_folder": {
            "vi": "tạo thư mục và cho người dùng của trạm quyền ghi: mkdir -p {path}",
            "en": "create the folder and let the station user write to it: mkdir -p {path}",
        },
        "doctor.use": {
            "vi": "Sẽ quét bằng: {label} ({device}), trình điều khiển '{kind}'.",
            "en": "Will capture with: {label} ({device}), driver '{kind}'.",
        },
        "doctor.use_simulated": {
            "vi": 'Sẽ quét bằng máy quét mô phỏng (capture.device = "simulated"): '
            "không có trang thật nào được chụp.",
            "en": 'Will capture with the simulated scanner (capture.device = "simulated"): '
            "no real page is captured.",
        },
        "doctor.hint_device": {
            "vi": 'Đã thấy {label}: đặt capture.device = "{kind}" để dùng nó.',
            "en": 'Found {label}: set capture.device = "{kind}" to use it.',
        },
        "doctor.device_missing": {
            "vi": "Không thấy thiết bị '{device}' (capture.device = \"{kind}\").",
            "en": "Device '{device}' not found (capture.device = \"{kind}\").",
        },
        "doctor.no_device": {
            "vi": 'Không thấy thiết bị nào cho capture.device = "{kind}".',
            "en": 'No device found for capture.device = "{kind}".',
        },
        "doctor.fix_plug": {
            "vi": "cắm thiết bị và bật nguồn; kiểm tra capture.device_id (để trống: dùng "
            "thiết bị đầu tiên tìm thấy); chạy lại 'station doctor'.",
            "en": "plug the device in and switch it on; check capture.device_id (empty: the "
            "first one found); run 'station doctor' again.",
        },
        "doctor.driver_unusable": {
            "vi": "Trình điều khiển '{kind}' chưa dùng được: {detail}",
            "en": "Driver '{kind}' is unavailable: {detail}",
        },
    }
)


def examine(config_path: Path | None = None, checks: list[Check] | None = None) -> Report:
    """Run every check against the configuration at ``config_path`` (as ``station`` would
    load it); a broken configuration is reported and the defaults used for the rest."""
    findings: list[Finding] = []
    system = config.DEFAULT_CONFIG_PATH if config.DEFAULT_CONFIG_PATH.exists() else None
    source = str(config_path or os.environ.get("STATION_CONFIG") or system or "(defaults)")
    try:
        loaded = config.load(config_path)
        findings.append(Finding("config", OK, "doctor.config_ok", {"source": source}))
    except ConfigError as exc:
        loaded = config.Config()
        findings.append(
            Finding(
                "config", FAIL, exc.key, error=exc, fix="doctor.fix_config", exit_code=EXIT_CONFIG
            )
        )
    context = Context(loaded, source)
    for check in default_checks() if checks is None else checks:
        try:
            findings += check(context)
        except Exception:  # a broken check must not hide the others
            log.exception("doctor check %s failed", check.__name__)
    return Report(findings, context)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit in ("B", "KB") else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def check_disk(context: Context) -> list[Finding]:
    """Free space of the data folder against the reserve; the folder must be writable."""
    path = context.config.data_dir
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    if not os.access(existing, os.W_OK):
        return [
            Finding(
                "disk",
                FAIL,
                "doctor.data_dir_unwritable",
                {"path": str(path)},
                "doctor.fix_data_dir",
                {"path": str(path)},
                exit_code=EXIT_DISK,
            )
        ]
    usage = shutil.disk_usage(existing)
    reserve = context.config.storage.reserve_mb * 1024 * 1024
    warn = max(context.config.storage.warn_mb * 1024 * 1024, reserve)
    status = FAIL if usage.free < reserve else WARN if usage.free < warn else OK
    values = {
        "path": str(path),
        "free": _size(usage.free),
        "total": _size(usage.total),
        "reserve": _size(reserve),
    }
    fix = "doctor.fix_disk" if status != OK else ""
    return [Finding("disk", status, "doctor.disk", values, fix, exit_code=EXIT_DISK)]


def check_sane(context: Context) -> list[Finding]:
    """SANE scanners, when python-sane and the SANE driver are there."""
    try:
        found = driver_class("sane").probe()
    except StationError as exc:  # driver not registered, or python-sane missing
        context.sane_error = exc
        detail = exc.values.get("detail", exc.message("en"))
        return [Finding("sane", WARN, "doctor.sane_missing", {"detail": detail}, "doctor.fix_sane")]
    except Exception as exc:  # libsane itself failed
        log.warning("listing SANE devices failed", exc_info=True)
        context.sane_error = StationError("doctor.sane_error", detail=str(exc))
        return [Finding("sane", WARN, "doctor.sane_error", {"detail": str(exc)})]
    context.devices["sane"] = [
        {"device": d.device, "label": d.label, "vendor": d.vendor, "model": d.model} for d in found
    ]
    if not found:
        return [Finding("sane", INFO, "doctor.sane_none")]
    return [
        Finding("sane", OK, "doctor.sane_device", {"device": d.device, "label": d.label})
        for d in found
    ]


def check_cameras(context: Context) -> list[Finding]:
    """USB cameras (/dev/video* nodes that capture)."""
    found = list_video_devices()
    context.devices["cameras"] = [
        {"device": d.path, "label": d.name, "usb_id": d.usb_id, "accessible": d.accessible}
        for d in found
    ]
    if not found:
        return [Finding("camera", INFO, "doctor.camera_none")]
    findings = []
    for camera in found:
        values = {"path": camera.path, "name": camera.name, "usb_id": camera.usb_id}
        if camera.accessible:
            findings.append(Finding("camera", OK, "doctor.camera", values))
        else:
            findings.append(
                Finding("camera", WARN, "doctor.camera_no_access", values, "doctor.fix_video_group")
            )
    return findings


def check_usb(context: Context) -> list[Finding]:
    """USB devices recognised from the table (and SANE's list), with the driver for each."""
    usb = context.config.usb
    try:
        table = DeviceTable.load(Path(usb.devices_file) if usb.devices_file else None)
    except ConfigError as exc:
        return [Finding("usb", WARN, exc.key, error=exc)]
    scan = list_usb()
    if scan.problem_key:
        return [Finding("usb", WARN, scan.problem_key, scan.problem_values)]
    hubs = 0x09
    recognised = [table.recognise(d) for d in scan.devices if d.device_class != hubs]
    context.devices["usb"] = [r.to_dict() for r in recognised]
    known = [r for r in recognised if r.match is not None]
    findings = []
    for item in known:
        assert item.match is not None
        backend = f" ({item.match.backend})" if item.match.backend else ""
        values = {
            "usb_id": item.device.usb_id,
            "label": item.label,
            "driver": item.match.driver,
            "backend": backend,
        }
        findings.append(Finding("usb", OK, "doctor.usb_device", values))
    others = len(recognised) - len(known)
    if others:
        findings.append(Finding("usb", INFO, "doctor.usb_others", {"count": others}))
    if not recognised:
        findings.append(Finding("usb", INFO, "doctor.usb_none"))
    return findings


def check_triggers(context: Context) -> list[Finding]:
    """The pedal and keys that would start a capture, and whether they can be read."""
    settings = context.config.triggers
    devices = list_input_devices()
    context.devices["inputs"] = [{"device": d.path, "label": d.name} for d in devices]
    if not settings.enabled:
        return [Finding("triggers", INFO, "doctor.triggers_off")]
    try:
        codes = parse_keys(settings.keys)
    except ConfigError as exc:
        return [Finding("triggers", FAIL, exc.key, error=exc, exit_code=EXIT_CONFIG)]
    keys = ", ".join(settings.keys)
    names = {d.path: d.name for d in devices}
    paths = wanted_devices(settings, codes, devices)
    if not paths:
        return [
            Finding(
                "triggers", WARN, "doctor.trigger_none", {"keys": keys}, "doctor.fix_trigger_none"
            )
        ]
    findings = []
    for path in paths:
        values = {"path": path, "name": names.get(path, "?"), "keys": keys}
        if not os.path.exists(path):
            findings.append(
                Finding(
                    "triggers", WARN, "doctor.trigger_missing", values, "doctor.fix_trigger_none"
                )
            )
        elif os.access(path, os.R_OK):
            findings.append(Finding("triggers", OK, "doctor.trigger_device", values))
        else:
            findings.append(
                Finding(
                    "triggers", WARN, "doctor.trigger_no_access", values, "doctor.fix_input_group"
                )
            )
    return findings


def check_folder(context: Context) -> list[Finding]:
    """The hot folder, when one is configured."""
    folder = context.config.capture.folder.path
    if not folder:
        status = FAIL if context.config.capture.device == "folder" else INFO
        return [Finding("folder", status, "doctor.folder_none", exit_code=EXIT_DEVICE)]
    path = Path(folder)
    values = {"path": str(path)}
    if path.is_dir() and os.access(path, os.W_OK | os.X_OK):
        return [Finding("folder", OK, "doctor.folder_ok", values)]
    status = FAIL if context.config.capture.device == "folder" else WARN
    return [
        Finding(
            "folder",
            status,
            "doctor.folder_bad",
            values,
            "doctor.fix_folder",
            values,
            exit_code=EXIT_DEVICE,
        )
    ]


def check_choice(context: Context) -> list[Finding]:
    """Which device the configuration would capture from, or why it cannot."""
    capture = context.config.capture
    kind = capture.device
    if kind == "simulated":
        context.would_use = {"kind": kind, "device": "sim:0", "label": "simulated"}
        return [Finding("device", OK, "doctor.use_simulated"), *_real_device_hints(context)]
    if kind == "folder":
        context.would_use = {"kind": kind, "device": capture.folder.path, "label": "hot folder"}
        return []  # check_folder says whether it works
    if kind == "sane" and context.sane_error is not None:
        detail = context.sane_error.message("en")
        return [
            Finding(
                "device",
                FAIL,
                "doctor.driver_unusable",
                {"kind": kind, "detail": detail},
                "doctor.fix_sane",
                exit_code=EXIT_DEVICE,
            )
        ]
    area = "sane" if kind == "sane" else "cameras"
    present = context.devices.get(area, [])
    wanted = capture.device_id
    if kind == "camera" and wanted.startswith("sim:"):
        present = [{"device": wanted, "label": "simulated camera"}]
    chosen = next((d for d in present if not wanted or d["device"] == wanted), None)
    if chosen is None:
        key = "doctor.device_missing" if wanted else "doctor.no_device"
        return [
            Finding(
                "device",
                FAIL,
                key,
                {"kind": kind, "device": wanted},
                "doctor.fix_plug",
                exit_code=EXIT_DEVICE,
            )
        ]
    context.would_use = {"kind": kind, "device": chosen["device"], "label": chosen["label"]}
    return [Finding("device", OK, "doctor.use", {**context.would_use})]


def _real_device_hints(context: Context) -> list[Finding]:
    """With the simulator configured: name the first real scanner or camera seen."""
    for area, kind in (("sane", "sane"), ("cameras", "camera")):
        for device in context.devices.get(area, []):
            if area == "sane" and str(device["device"]).startswith("test:"):
                continue  # SANE's own test backend is no real scanner
            return [
                Finding(
                    "device", INFO, "doctor.hint_device", {"label": device["label"], "kind": kind}
                )
            ]
    return []


def default_checks() -> list[Check]:
    """The device checks, then the appliance checks (``station.system.doctor_system``: disk
    health, clock, network, certificate, service, permissions), then the device choice."""
    return [*CHECKS[:-1], *SYSTEM_CHECKS, CHECKS[-1]]


CHECKS: list[Check] = [
    check_disk,
    check_sane,
    check_cameras,
    check_usb,
    check_triggers,
    check_folder,
    check_choice,
]
