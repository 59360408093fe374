"""``station doctor``'s appliance checks: disk health, clock, network and mDNS,
certificate, service state and permissions.

Each check looks at the machine as the station's own user would (the ``station``
command on an installed station runs as that user even from root), reports what it
found and, when something is wrong, how to fix it, in Vietnamese and English. None of
them changes anything, and none fails hard on a machine without systemd (a laptop, a
container): what cannot be asked is reported as information.
"""

from __future__ import annotations

import datetime as dt
import errno
import grp
import os
import shutil
import socket
import subprocess
from pathlib import Path

from station.core.messages import N_
from station.lan.tls import CERT_NAME, grouped, read_certificate
from station.processing.imaging import textdir
from station.system.findings import EXIT_DISK, FAIL, INFO, OK, WARN, Check, Context, Finding

#: A clock before this is certainly wrong (a Pi has no battery clock).
CLOCK_FLOOR = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
#: Vietnam's offset from UTC; stations elsewhere are test machines.
VIETNAM_OFFSET = dt.timedelta(hours=7)
MDNS_PORT = 5353
SERVICE = "ledger-station.service"
KIOSK = "ledger-station-kiosk.service"
STATION_USER = "ledger-station"
#: Groups the station's user needs, and what each gives it.
DEVICE_GROUPS = {"scanner": "scanners", "video": "cameras", "input": "pedal", "plugdev": "USB"}
#: Free inodes below this share of the total: many small files cannot be made.
INODE_WARN_SHARE = 0.02


# --- disk health --------------------------------------------------------------------------


def check_disk_health(context: Context) -> list[Finding]:
    """The data folder's file system: read-only, recorded errors, file entries left."""
    path = context.config.data_dir
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    stats = os.statvfs(existing)
    values = {"path": str(path)}
    if stats.f_flag & os.ST_RDONLY:
        return [
            Finding(
                "disk",
                FAIL,
                "doctor.fs_readonly",
                values,
                "doctor.fix_fs_readonly",
                exit_code=EXIT_DISK,
            )
        ]
    findings = []
    device, errors = fs_errors(existing)
    if errors:
        findings.append(
            Finding(
                "disk",
                WARN,
                "doctor.fs_errors",
                {"device": device, "count": errors},
                "doctor.fix_fs_errors",
            )
        )
    if stats.f_files and stats.f_favail < stats.f_files * INODE_WARN_SHARE:
        findings.append(
            Finding("disk", WARN, "doctor.inodes_low", {**values, "free": stats.f_favail})
        )
    if not findings:
        findings.append(Finding("disk", OK, "doctor.disk_health_ok", {"device": device or "?"}))
    return findings


def fs_errors(path: Path, sysfs: Path = Path("/sys")) -> tuple[str, int]:
    """(block device name, errors ext4 recorded on it) for the file system of ``path``."""
    st_dev = os.stat(path).st_dev
    link = sysfs / "dev" / "block" / f"{os.major(st_dev)}:{os.minor(st_dev)}"
    try:
        device = link.resolve(strict=True).name
    except OSError:
        return "", 0
    try:
        count = int((sysfs / "fs" / "ext4" / device / "errors_count").read_text())
    except (OSError, ValueError):
        return device, 0
    return device, count


# --- clock --------------------------------------------------------------------------------


def timedatectl() -> dict[str, str]:
    """``timedatectl show`` as a dict; empty without systemd (or timedated)."""
    if shutil.which("timedatectl") is None:
        return {}
    try:
        done = subprocess.run(
            ["timedatectl", "show"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def check_clock(context: Context, now: dt.datetime | None = None) -> list[Finding]:
    """The year is plausible, the clock is synchronised, the time zone is Vietnam's."""
    now = now or dt.datetime.now(dt.UTC)
    local = now.astimezone()
    shown = local.strftime("%Y-%m-%d %H:%M")
    if now < CLOCK_FLOOR:
        return [Finding("clock", WARN, "doctor.clock_wrong", {"now": shown}, "doctor.fix_clock")]
    info = timedatectl()
    zone = info.get("Timezone") or local.tzname() or "?"
    findings = []
    if info.get("NTPSynchronized") == "no":
        findings.append(
            Finding(
                "clock",
                WARN,
                "doctor.clock_unsynced",
                {"now": shown, "zone": zone},
                "doctor.fix_ntp",
            )
        )
    else:
        key = (
            N_("doctor.clock_ok")
            if info.get("NTPSynchronized") == "yes"
            else N_("doctor.clock_plain")
        )
        findings.append(Finding("clock", OK, key, {"now": shown, "zone": zone}))
    offset = local.utcoffset() or dt.timedelta(0)
    if offset != VIETNAM_OFFSET:
        hours, rest = divmod(int(offset.total_seconds()), 3600)
        text = f"{'+' if offset >= dt.timedelta(0) else '-'}{abs(hours):02d}:{rest // 60:02d}"
        findings.append(
            Finding(
                "clock",
                INFO,
                "doctor.timezone",
                {"zone": zone, "offset": text},
                "doctor.fix_timezone",
            )
        )
    return findings


# --- network and mDNS ---------------------------------------------------------------------


def lan_addresses() -> list[tuple[str, str]]:
    """(interface, IPv4 address) of every interface but loopback."""
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                found.append((adapter.nice_name, f"{ip.ip}/{ip.network_prefix}"))
    return found


def mdns_bindable() -> str:
    """ "" when UDP 5353 can be opened as zeroconf opens it (shared), else the reason."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", MDNS_PORT))
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))
    finally:
        sock.close()
    return ""


def check_network(context: Context) -> list[Finding]:
    """IPv4 addresses the entry PCs can reach, and whether the station can announce."""
    addresses = lan_addresses()
    if not addresses:
        return [Finding("network", WARN, "doctor.network_none", fix="doctor.fix_network")]
    findings = [
        Finding("network", OK, "doctor.network", {"interface": name, "address": address})
        for name, address in addresses
    ]
    lan = getattr(context.config, "lan", None)
    if lan is not None and not getattr(lan, "announce", True):
        return [*findings, Finding("network", INFO, "doctor.mdns_off")]
    problem = mdns_bindable()
    if problem:
        findings.append(
            Finding("network", WARN, "doctor.mdns_blocked", {"detail": problem}, "doctor.fix_mdns")
        )
    else:
        findings.append(Finding("network", OK, "doctor.mdns_ok"))
    return findings


# --- certificate --------------------------------------------------------------------------


def check_certificate(context: Context) -> list[Finding]:
    """The LAN service's TLS certificate (``<data folder>/tls``): usable, its fingerprint."""
    lan = getattr(context.config, "lan", None)
    if lan is not None and not getattr(lan, "enabled", True):
        return [Finding("certificate", INFO, "doctor.cert_lan_off")]
    folder = context.config.data_dir / "tls"
    values = {"path": str(folder / CERT_NAME)}
    if not os.access(folder, os.X_OK) and folder.exists():
        return [Finding("certificate", INFO, "doctor.cert_no_access", values)]
    if not (folder / CERT_NAME).exists():
        return [Finding("certificate", INFO, "doctor.cert_none")]
    certificate = read_certificate(folder)
    if certificate is None:
        return [Finding("certificate", WARN, "doctor.cert_unusable", values, "doctor.fix_cert")]
    values["fingerprint"] = grouped(certificate.fingerprint)
    return [Finding("certificate", OK, "doctor.cert_ok", values)]


# --- service ------------------------------------------------------------------------------


def systemctl(*args: str) -> str:
    """The first line ``systemctl ARGS`` prints (``is-active`` and friends), or ""."""
    try:
        done = subprocess.run(
            ["systemctl", *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout.strip().splitlines() or [""])[0]


def check_service(context: Context, running: Path = Path("/run/systemd/system")) -> list[Finding]:
    """Whether the station (and its kiosk) run as services and start at boot."""
    if not running.is_dir() or shutil.which("systemctl") is None:
        return [Finding("service", INFO, "doctor.service_none")]
    findings = []
    for unit in (SERVICE, KIOSK):
        enabled = systemctl("is-enabled", unit)
        if enabled in ("", "not-found"):
            if unit == SERVICE:
                findings.append(
                    Finding(
                        "service",
                        WARN,
                        "doctor.service_missing",
                        {"unit": unit},
                        "doctor.fix_install",
                    )
                )
            continue
        active = systemctl("is-active", unit)
        good = active == "active" and enabled == "enabled"
        findings.append(
            Finding(
                "service",
                OK if good else WARN,
                "doctor.service_state",
                {"unit": unit, "active": active, "enabled": enabled},
                "" if good else "doctor.fix_service",
                {"unit": unit},
            )
        )
    return findings


# --- tools ----------------------------------------------------------------------------------


def check_tools(context: Context) -> list[Finding]:
    """Programs the processing asks: tesseract's orientation detector for pages in doubt."""
    if textdir.available():
        return [Finding("tools", OK, "doctor.osd_ok")]
    return [Finding("tools", WARN, "doctor.osd_missing", {}, "doctor.fix_osd")]


# --- permissions --------------------------------------------------------------------------


def check_permissions(context: Context) -> list[Finding]:
    """Device groups of the user running this, scanners' USB nodes, the config folder."""
    findings = _group_findings()
    findings += _usb_node_findings(context)
    config_dir = Path(os.environ.get("STATION_CONFIG") or "/etc/ledger-station/station.toml").parent
    if config_dir.is_dir() and os.geteuid() != 0 and not os.access(config_dir, os.W_OK | os.X_OK):
        values = {"path": str(config_dir)}
        findings.append(
            Finding(
                "permissions",
                WARN,
                "doctor.config_readonly",
                values,
                "doctor.fix_config_dir",
                values,
            )
        )
    return findings


def _group_findings() -> list[Finding]:
    if os.geteuid() == 0:
        return [Finding("permissions", INFO, "doctor.groups_root")]
    user = _user_name()
    mine = set()
    for gid in os.getgroups():
        try:
            mine.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    missing = [g for g in DEVICE_GROUPS if g not in mine]
    if not missing:
        groups = ", ".join(DEVICE_GROUPS)
        return [Finding("permissions", OK, "doctor.groups_ok", {"user": user, "groups": groups})]
    values = {
        "user": user,
        "groups": ",".join(missing),
        "what": ", ".join(DEVICE_GROUPS[g] for g in missing),
    }
    status = WARN if user == STATION_USER else INFO
    return [
        Finding("permissions", status, "doctor.groups_missing", values, "doctor.fix_groups", values)
    ]


def _user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _usb_node_findings(context: Context) -> list[Finding]:
    """Scanners seen by the USB check whose device node this user cannot open."""
    findings = []
    for device in context.devices.get("usb", []):
        if device.get("kind") != "scanner" or "/" not in str(device.get("location", "")):
            continue
        node = Path("/dev/bus/usb") / str(device["location"])
        if node.exists() and not os.access(node, os.R_OK | os.W_OK):
            values = {"label": device.get("label", "?"), "node": str(node)}
            findings.append(
                Finding("permissions", WARN, "doctor.usb_no_access", values, "doctor.fix_udev")
            )
    return findings


#: The appliance checks, run after the device checks and before the device choice.
SYSTEM_CHECKS: list[Check] = [
    check_disk_health,
    check_clock,
    check_network,
    check_certificate,
    check_service,
    check_tools,
    check_permissions,
]
