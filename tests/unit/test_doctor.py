"""``station doctor``'s checks, with the devices this machine lacks made up."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from station.capture import usb
from station.capture.drivers.base import DeviceInfo
from station.capture.drivers.camera import v4l2
from station.capture.usb_table import UsbDescriptor
from station.core import config
from station.core.errors import DeviceError
from station.system import doctor


def _context(**capture: Any) -> doctor.Context:
    cfg = config.Config()
    if capture:
        cfg = dataclasses.replace(cfg, capture=dataclasses.replace(cfg.capture, **capture))
    return doctor.Context(cfg, "test")


def test_missing_python_sane_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(kind: str) -> Any:
        raise DeviceError(
            "driver.unavailable", kind=kind, detail="No module named 'sane'", package="python3-sane"
        )

    monkeypatch.setattr("station.system.doctor.driver_class", unavailable)
    context = _context(device="sane")
    [finding] = doctor.check_sane(context)
    assert finding.status == doctor.WARN
    assert "No module named 'sane'" in finding.message("en")
    assert "apt install python3-sane" in finding.fix_text("vi")
    [choice] = doctor.check_choice(context)
    assert choice.status == doctor.FAIL and choice.exit_code == doctor.EXIT_DEVICE


def test_disk_below_the_reserve_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    usage = SimpleNamespace(total=10 << 30, used=(10 << 30) - (100 << 20), free=100 << 20)
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: usage)
    [finding] = doctor.check_disk(_context())
    assert finding.status == doctor.FAIL and finding.exit_code == doctor.EXIT_DISK
    assert "100.0 MB free of 10.0 GB" in finding.message("en")
    assert "dọn bớt" in finding.fix_text("vi")


def test_disk_near_the_reserve_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    usage = SimpleNamespace(total=10 << 30, used=0, free=700 << 20)
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: usage)
    assert doctor.check_disk(_context())[0].status == doctor.WARN


def test_camera_the_station_may_not_open(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [v4l2.VideoDevice("/dev/video0", "HD Webcam C270", "046d:0825", accessible=False)]
    monkeypatch.setattr(doctor, "list_video_devices", lambda: found)
    context = _context(device="camera")
    [finding] = doctor.check_cameras(context)
    assert finding.status == doctor.WARN and "usermod -aG video" in finding.fix_text("en")
    [choice] = doctor.check_choice(context)
    assert choice.status == doctor.OK
    assert context.would_use == {
        "kind": "camera",
        "device": "/dev/video0",
        "label": "HD Webcam C270",
    }


def test_simulator_with_a_real_scanner_attached_hints_at_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Sane:
        @staticmethod
        def probe() -> list[DeviceInfo]:
            return [DeviceInfo("sane", "genesys:libusb:001:004", "Canon LiDE 110")]

    monkeypatch.setattr("station.system.doctor.driver_class", lambda kind: Sane)
    context = _context()
    doctor.check_sane(context)
    hint = doctor.check_choice(context)[-1]
    assert hint.status == doctor.INFO
    assert hint.message("en") == 'Found Canon LiDE 110: set capture.device = "sane" to use it.'


def test_usb_devices_are_listed_with_their_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    devices = [
        UsbDescriptor(0x04A9, 0x1909, 1, 4),
        UsbDescriptor(0x1D6B, 0x0002, 1, 1, device_class=0x09),  # root hub: not shown
        UsbDescriptor(0x046D, 0xC52B, 1, 3, 0, ((0x03, 1, 2),)),  # a mouse receiver
    ]
    monkeypatch.setattr(doctor, "list_usb", lambda: usb.UsbScan(devices))
    context = _context()
    findings = doctor.check_usb(context)
    assert [f.message("en") for f in findings] == [
        "USB 04a9:1909: Canon CanoScan LiDE 110 — driver 'sane' (genesys)",
        "USB: 1 other device(s), not used for capture.",
    ]
    assert [d["usb_id"] for d in context.devices["usb"]] == ["04a9:1909", "046d:c52b"]


def test_usb_problem_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "list_usb", lambda: usb.UsbScan(problem_key="usb.no_backend"))
    [finding] = doctor.check_usb(_context())
    assert finding.status == doctor.WARN and "libusb-1.0-0" in finding.message("vi")


def test_triggers_on_without_any_keyboard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("station.system.doctor.list_input_devices", lambda: [])
    cfg = config.Config()
    context = doctor.Context(
        dataclasses.replace(cfg, triggers=dataclasses.replace(cfg.triggers, enabled=True)), "t"
    )
    [finding] = doctor.check_triggers(context)
    assert finding.status == doctor.WARN and "KEY_PAGEDOWN" in finding.message("en")
    assert "triggers.devices" in finding.fix_text("vi")


def test_unwritable_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(doctor.os, "access", lambda path, mode: False)
    [finding] = doctor.check_disk(_context())
    assert finding.status == doctor.FAIL and "chown" in finding.fix_text("en")


def test_a_failing_check_does_not_hide_the_others(caplog: pytest.LogCaptureFixture) -> None:
    def broken(context: doctor.Context) -> list[doctor.Finding]:
        raise RuntimeError("bug")

    report = doctor.examine(checks=[broken, doctor.check_folder])
    assert [f.area for f in report.findings] == ["config", "folder"]
    assert report.exit_code == 0 and "doctor check broken failed" in caplog.text


def test_a_bad_usb_table_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "usb.toml"
    bad.write_text("[[device]]\nusb = 'nope'\n")
    cfg = config.Config()
    context = doctor.Context(
        dataclasses.replace(cfg, usb=dataclasses.replace(cfg.usb, devices_file=str(bad))), "t"
    )
    [finding] = doctor.check_usb(context)
    assert finding.status == doctor.WARN and str(bad) in finding.message("en")


def test_a_configured_pedal_that_is_not_plugged_in(tmp_path: Path) -> None:
    cfg = config.Config()
    pedal = str(tmp_path / "usb-PCsensor_FootSwitch-event-kbd")
    triggers = dataclasses.replace(cfg.triggers, enabled=True, devices=(pedal,))
    [finding] = doctor.check_triggers(
        doctor.Context(dataclasses.replace(cfg, triggers=triggers), "t")
    )
    assert finding.status == doctor.WARN and "not plugged in" in finding.message("en")


def test_no_chosen_device_fails_and_names_a_device_that_is_there() -> None:
    """An installed station chooses no device: the doctor says so, not 'simulated'."""
    context = _context()
    context.devices["cameras"] = [{"device": "/dev/video0", "label": "HD Webcam C270"}]
    choice, hint = doctor.check_choice(context)
    assert choice.status == doctor.FAIL and choice.exit_code == doctor.EXIT_DEVICE
    assert "No capture device is chosen" in choice.message("en")
    assert "Chưa chọn thiết bị nhận ảnh" in choice.message("vi")
    assert 'set capture.device = "camera"' in hint.message("en")
    assert not context.would_use
