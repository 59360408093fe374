"""The files in systemd/: hardening of the units, systemd-analyze verify, udev rules,
tmpfiles, journald limits, and the shell scripts the installer puts beside them."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from station.capture.usb_table import DeviceTable
from station.core import config
from station.system import udev_rules

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
STATION_UNIT = SYSTEMD / "ledger-station.service"
KIOSK_UNIT = SYSTEMD / "ledger-station-kiosk.service"
DATA_DIR = "/var/lib/ledger-station"
CONF_DIR = "/etc/ledger-station"

Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    """Sections -> key -> every value given (systemd keeps repeated keys), in order."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], defaultdict(list))
            continue
        assert section is not None, f"{path.name}: key outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key=value: {line}"
        section[key.strip()].append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def words(unit: Unit, section: str, key: str) -> set[str]:
    return {word for value in unit[section].get(key, []) for word in value.split()}


def test_station_service_is_notify_with_watchdog_and_restarts() -> None:
    unit = parse_unit(STATION_UNIT)
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert re.fullmatch(r"\d+s", one(unit, "Service", "WatchdogSec"))
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "ExecStart") == "/opt/ledger-station/venv/bin/station serve"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_station_service_runs_as_its_own_user_with_device_groups() -> None:
    unit = parse_unit(STATION_UNIT)
    assert one(unit, "Service", "User") == "ledger-station"
    assert one(unit, "Service", "Group") == "ledger-station"
    assert {"scanner", "video", "input"} <= words(unit, "Service", "SupplementaryGroups")
    env = dict(v.split("=", 1) for v in unit["Service"]["Environment"])
    assert env["STATION_DATA_DIR"] == DATA_DIR
    assert env["STATION_CONFIG"] == f"{CONF_DIR}/station.toml"


def test_station_service_is_hardened() -> None:
    unit = parse_unit(STATION_UNIT)
    for key in (
        "NoNewPrivileges",
        "PrivateTmp",
        "ProtectHome",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "RestrictSUIDSGID",
        "LockPersonality",
        "RestrictRealtime",
        "RestrictNamespaces",
    ):
        assert one(unit, "Service", key) == "yes", key
    assert one(unit, "Service", "ProtectSystem") == "strict"
    # Write access to exactly the data and configuration folders.
    assert words(unit, "Service", "ReadWritePaths") == {DATA_DIR, CONF_DIR}
    assert words(unit, "Service", "RestrictAddressFamilies") == {
        "AF_UNIX",
        "AF_INET",
        "AF_INET6",
        "AF_NETLINK",
    }
    assert one(unit, "Service", "CapabilityBoundingSet") == ""
    # Devices: none but scanners (USB), cameras (V4L2) and the pedal (input).
    assert one(unit, "Service", "DevicePolicy") == "closed"
    allowed = {value.split()[0] for value in unit["Service"]["DeviceAllow"]}
    assert {"char-usb_device", "char-video4linux", "char-input"} <= allowed
    assert "PrivateDevices" not in unit["Service"]  # it would hide the scanners


def test_kiosk_shows_the_station_full_screen_and_comes_back() -> None:
    unit = parse_unit(KIOSK_UNIT)
    assert one(unit, "Service", "User") == "ledger-kiosk"
    assert one(unit, "Service", "Restart") == "always"
    assert "ledger-station.service" in words(unit, "Unit", "After")
    assert "ledger-station.service" in words(unit, "Unit", "Wants")
    assert one(unit, "Service", "TTYPath") == "/dev/tty1"
    command = one(unit, "Service", "ExecStart").split()
    assert command[0] == "/usr/bin/cage"
    assert command[-1] == "/opt/ledger-station/bin/ledger-kiosk-browser"
    env = dict(v.split("=", 1) for v in unit["Service"]["Environment"])
    assert env["LEDGER_KIOSK_URL"] == f"http://127.0.0.1:{config.WebSection().port}/"
    assert one(unit, "Service", "NoNewPrivileges") == "yes"
    assert one(unit, "Service", "ProtectSystem") == "strict"


def test_systemd_analyze_verify_prints_nothing(tmp_path: Path) -> None:
    """verify checks that ExecStart= programs exist, so it runs with --root on a
    scratch root holding the units unchanged, the system's own targets, and stub
    executables at the paths the units name. The stubs are the only stand-ins:
    tests/integration/test_installer.py verifies against the real installed files."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    system_units = next(
        (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()),
        None,
    )
    if system_units is None:
        pytest.skip("no systemd unit folder on this machine")
    root = tmp_path / "root"
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for unit in (STATION_UNIT, KIOSK_UNIT):
        shutil.copy(unit, units / unit.name)
        for command in parse_unit(unit)["Service"]["ExecStart"]:
            stub = root / command.split()[0].lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
    done = subprocess.run(
        [analyze, "verify", f"--root={root}", STATION_UNIT.name, KIOSK_UNIT.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_udev_rules_are_made_from_the_usb_table() -> None:
    expected = udev_rules.render(DeviceTable.load(hwdb=None))
    written = (SYSTEMD / "60-ledger-station.rules").read_text(encoding="utf-8")
    assert written == expected, (
        "run: python -m station.system.udev_rules > systemd/60-ledger-station.rules"
    )


def test_udev_rules_are_well_formed_and_cover_the_table() -> None:
    pair = r'[A-Z]+(\{[A-Za-z_]+\})?(==|!=|=|\+=)"[^"]*"'
    rule = re.compile(rf"^{pair}(, {pair})*$")
    lines = [
        line
        for line in (SYSTEMD / "60-ledger-station.rules").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    for line in lines:
        assert rule.match(line), line
    table = DeviceTable.load(hwdb=None)
    scanners = [usb for usb, match in table.exact.items() if match.driver == "sane"]
    for usb in scanners:
        vendor, product = usb.split(":")
        assert any(f'"{vendor}"' in line and f'"{product}"' in line for line in lines), usb
    assert any('SUBSYSTEM=="video4linux", GROUP="video"' in line for line in lines)
    assert lines[0].startswith('ACTION=="remove", GOTO="ledger_station_end"')
    assert lines[-1] == 'LABEL="ledger_station_end"'


def test_tmpfiles_make_the_data_and_config_folders() -> None:
    entries = {}
    for line in (SYSTEMD / "ledger-station.tmpfiles").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            kind, path, mode, user, group, age = line.split()
            entries[path] = (kind, mode, user, group, age)
    assert entries[DATA_DIR] == ("d", "0750", "ledger-station", "ledger-station", "-")
    # The station rewrites station.toml by renaming a new file over it.
    assert entries[CONF_DIR] == ("d", "0770", "root", "ledger-station", "-")


def test_journald_limits_keep_logs_small_and_persistent() -> None:
    unit = parse_unit(SYSTEMD / "journald-ledger-station.conf")
    assert one(unit, "Journal", "Storage") == "persistent"
    assert re.fullmatch(r"\d+M", one(unit, "Journal", "SystemMaxUse"))
    assert re.fullmatch(r"\d+[MG]", one(unit, "Journal", "SystemKeepFree"))


def test_installer_uses_the_folders_of_the_units() -> None:
    script = (REPO / "scripts" / "install.sh").read_text()
    assert f"DATA_DIR={DATA_DIR}\n" in script
    assert f"CONF_DIR={CONF_DIR}\n" in script
    for name in (STATION_UNIT.name, KIOSK_UNIT.name, "60-ledger-station.rules"):
        assert f"$sd/{name}" in script
    wrapper = (SYSTEMD / "station-command").read_text()
    assert "/opt/ledger-station/venv/bin/station" in wrapper


@pytest.mark.parametrize(
    ("shell", "script"),
    [
        ("bash", REPO / "scripts" / "install.sh"),
        ("bash", REPO / "scripts" / "uninstall.sh"),
        ("sh", SYSTEMD / "ledger-kiosk-browser"),
        ("sh", SYSTEMD / "station-command"),
    ],
)
def test_shell_scripts_parse_and_pass_shellcheck(shell: str, script: Path) -> None:
    subprocess.run([shell, "-n", str(script)], check=True, timeout=30)
    checker = shutil.which("shellcheck")
    if checker is None:
        return  # bash -n above; shellcheck where installed (scripts/dev.sh installs it)
    done = subprocess.run([checker, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
