"""``station doctor``'s appliance checks: disk health, clock, network, certificate,
service state, tools, permissions; each problem with a fix in both languages."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from station.core import config
from station.system import doctor, doctor_system


def _context(data_dir: Path, extra: str = "") -> doctor.Context:
    text = f'[storage]\ndata_dir = "{data_dir}"\n{extra}'
    return doctor.Context(config.parse(text, "test", environ={}), "test")


def _both(finding: doctor.Finding) -> tuple[str, str]:
    return finding.message("vi") + finding.fix_text("vi"), finding.message("en") + finding.fix_text(
        "en"
    )


def test_appliance_checks_run_before_the_device_choice() -> None:
    checks = doctor.default_checks()
    assert checks[-1] is doctor.check_choice
    for check in doctor_system.SYSTEM_CHECKS:
        assert check in checks


def test_disk_health_reads_ext4_error_counts(tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    st_dev = os.stat(tmp_path).st_dev
    device = sysfs / "devices" / "mmcblk0p2"
    device.mkdir(parents=True)
    link = sysfs / "dev" / "block" / f"{os.major(st_dev)}:{os.minor(st_dev)}"
    link.parent.mkdir(parents=True)
    link.symlink_to(device)
    errors = sysfs / "fs" / "ext4" / "mmcblk0p2"
    errors.mkdir(parents=True)
    (errors / "errors_count").write_text("3\n")
    assert doctor_system.fs_errors(tmp_path, sysfs) == ("mmcblk0p2", 3)
    (errors / "errors_count").unlink()
    assert doctor_system.fs_errors(tmp_path, sysfs) == ("mmcblk0p2", 0)


def test_disk_health_is_ok_on_a_writable_disk(data_dir: Path) -> None:
    [finding] = doctor_system.check_disk_health(_context(data_dir))
    assert finding.status == doctor.OK


def test_clock_before_the_release_is_wrong(data_dir: Path) -> None:
    past = dt.datetime(2000, 1, 1, 0, 5, tzinfo=dt.UTC)
    [finding] = doctor_system.check_clock(_context(data_dir), past)
    assert finding.status == doctor.WARN
    vi, en = _both(finding)
    assert "Đồng hồ sai" in vi and "timedatectl set-time" in vi
    assert "clock is wrong" in en


def test_unsynchronised_clock_and_foreign_time_zone(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        doctor_system,
        "timedatectl",
        lambda: {"Timezone": "Europe/Paris", "NTPSynchronized": "no"},
    )
    monkeypatch.setenv("TZ", "CET-1")
    import time

    time.tzset()
    try:
        now = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
        findings = doctor_system.check_clock(_context(data_dir), now)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    keys = [f.key for f in findings]
    assert keys == ["doctor.clock_unsynced", "doctor.timezone"]
    assert "timedatectl set-ntp true" in findings[0].fix_text("en")
    assert "Asia/Ho_Chi_Minh" in findings[1].fix_text("vi")
    assert "UTC+01:00" in findings[1].message("en")


def test_no_network_says_how_to_connect(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor_system, "lan_addresses", lambda: [])
    [finding] = doctor_system.check_network(_context(data_dir))
    assert finding.status == doctor.WARN
    vi, en = _both(finding)
    assert "nmcli device wifi connect" in vi and "entry PCs cannot connect" in en


def test_network_and_mdns(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor_system, "lan_addresses", lambda: [("eth0", "192.0.2.5/24")])
    monkeypatch.setattr(doctor_system, "mdns_bindable", lambda: "EADDRINUSE")
    findings = doctor_system.check_network(_context(data_dir))
    assert [f.key for f in findings] == ["doctor.network", "doctor.mdns_blocked"]
    assert "ss -ulpn" in findings[1].fix_text("en")
    off = doctor_system.check_network(_context(data_dir, "[lan]\nannounce = false\n"))
    assert off[-1].key == "doctor.mdns_off"


def test_mdns_port_can_be_shared() -> None:
    assert doctor_system.mdns_bindable() in ("", "EACCES", "EADDRINUSE")


def test_certificate_fingerprint_is_shown(data_dir: Path) -> None:
    from station.lan import tls

    [none] = doctor_system.check_certificate(_context(data_dir))
    assert none.key == "doctor.cert_none"
    made = tls.ensure_certificate(data_dir / "tls", "st-1", ["station.local"], ["127.0.0.1"])
    [finding] = doctor_system.check_certificate(_context(data_dir))
    assert finding.status == doctor.OK
    assert tls.grouped(made.fingerprint) in finding.message("en")
    (data_dir / "tls" / tls.CERT_NAME).write_text("not a certificate")
    [broken] = doctor_system.check_certificate(_context(data_dir))
    assert broken.status == doctor.WARN
    assert "pair again" in broken.fix_text("en") and "ghép lại" in broken.fix_text("vi")


def test_service_state_without_systemd(data_dir: Path, tmp_path: Path) -> None:
    [finding] = doctor_system.check_service(_context(data_dir), running=tmp_path / "nope")
    assert (finding.status, finding.key) == (doctor.INFO, "doctor.service_none")


def test_orientation_detector_is_checked(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [found] = doctor_system.check_tools(_context(data_dir))
    assert (found.status, found.key) == (doctor.OK, "doctor.osd_ok")  # scripts/dev.sh installs it
    monkeypatch.setenv("PATH", str(tmp_path))
    [missing] = doctor_system.check_tools(_context(data_dir))
    assert missing.status == doctor.WARN
    vi, en = _both(missing)
    assert "tesseract-ocr" in vi and "chiều chữ" in vi and "tesseract-ocr" in en


def test_service_state_with_systemd(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {
        ("is-enabled", doctor_system.SERVICE): "enabled",
        ("is-active", doctor_system.SERVICE): "failed",
        ("is-enabled", doctor_system.KIOSK): "not-found",
    }
    monkeypatch.setattr(doctor_system, "systemctl", lambda *args: answers.get(args, ""))
    monkeypatch.setattr(doctor_system.shutil, "which", lambda name: "/bin/" + name)
    [finding] = doctor_system.check_service(_context(data_dir), running=tmp_path)
    assert finding.status == doctor.WARN
    assert "failed" in finding.message("en")
    assert "journalctl -u ledger-station.service" in finding.fix_text("vi")


def test_missing_device_groups_are_named_with_the_fix(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 4242)
    monkeypatch.setattr(os, "getgroups", lambda: [])
    monkeypatch.setattr(doctor_system, "_user_name", lambda: "ledger-station")
    findings = doctor_system.check_permissions(_context(data_dir))
    groups = findings[0]
    assert (groups.status, groups.key) == (doctor.WARN, "doctor.groups_missing")
    assert "usermod -a -G scanner,video,input,plugdev ledger-station" in groups.fix_text("en")


def test_root_is_told_to_check_as_the_station_user(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    findings = doctor_system.check_permissions(_context(data_dir))
    assert findings[0].key == "doctor.groups_root"


def test_scanner_node_without_access_points_at_the_udev_rules(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _context(data_dir)
    context.devices["usb"] = [{"kind": "scanner", "location": "001/004", "label": "Canon LiDE"}]
    monkeypatch.setattr(doctor_system.Path, "exists", lambda self: True)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    [finding] = doctor_system._usb_node_findings(context)
    assert finding.values["node"] == "/dev/bus/usb/001/004"
    assert "udev" in finding.fix_text("vi") and "unplug" in finding.fix_text("en")


def test_report_runs_end_to_end(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATION__CAPTURE__DEVICE", "simulated")  # a device that is there
    report = doctor.examine()
    areas = {f.area for f in report.findings}
    assert {"clock", "network", "certificate", "service", "permissions"} <= areas
    assert report.exit_code == 0  # warnings about the machine do not stop capture
