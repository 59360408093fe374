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

from station.capture.drivers import REGISTRY, driver_class
from station.capture.drivers.camera.v4l2 import list_video_devices
from station.capture.inputdev import list_input_devices
from station.capture.triggers import parse_keys, wanted_devices
from station.capture.usb import list_usb
from station.capture.usb_table import DeviceTable
from station.core import config
from station.core.errors import ConfigError, StationError
from station.core.messages import N_
from station.system.doctor_data import DATA_CHECKS
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
    folder = context.config.capture.options("folder").path
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
    if not kind:  # an installed station chooses no device until the technician does
        known = ", ".join(sorted(REGISTRY))
        finding = Finding("device", FAIL, "driver.none", {"known": known}, exit_code=EXIT_DEVICE)
        return [finding, *_real_device_hints(context)]
    if kind == "simulated":
        context.would_use = {"kind": kind, "device": "sim:0", "label": "simulated"}
        return [Finding("device", OK, "doctor.use_simulated"), *_real_device_hints(context)]
    if kind == "folder":
        folder = capture.options("folder").path
        context.would_use = {"kind": kind, "device": folder, "label": "hot folder"}
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
        key = N_("doctor.device_missing") if wanted else N_("doctor.no_device")
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
    health, clock, network, certificate, service, permissions), the data folder's content
    (``station.system.doctor_data``: orphans, damaged files), then the device choice."""
    return [*CHECKS[:-1], *DATA_CHECKS, *SYSTEM_CHECKS, CHECKS[-1]]


CHECKS: list[Check] = [
    check_disk,
    check_sane,
    check_cameras,
    check_usb,
    check_triggers,
    check_folder,
    check_choice,
]
