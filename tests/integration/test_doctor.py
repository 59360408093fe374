"""``station doctor`` run as an operator would, with SANE's test backend as the scanner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.commands import RunStation, station_env
from tests.support.sane_backend import write_sane_config


@pytest.fixture
def env(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """A station whose SANE sees only the test backend (two 'frontend-tester' devices)."""
    sane = write_sane_config(tmp_path / "sane")
    return station_env(data_dir, SANE_CONFIG_DIR=str(sane))


def test_default_station_is_usable_and_says_so_in_vietnamese(
    run_station: RunStation, env: dict[str, str]
) -> None:
    done = run_station("doctor", env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Kiểm tra trạm số hóa" in done.stdout
    assert "Máy quét SANE: test:0" in done.stdout
    assert "máy quét mô phỏng" in done.stdout
    assert "Trạm sẵn sàng để quét." in done.stdout


def test_english_lists_every_kind_of_device(run_station: RunStation, env: dict[str, str]) -> None:
    done = run_station("doctor", "--lang", "en", env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    for expected in ("SANE scanner: test:1", "Camera", "USB", "Hot folder", "Pedal", "Data folder"):
        assert expected in done.stdout
    assert "The station is ready to capture." in done.stdout


def test_json_report(run_station: RunStation, env: dict[str, str]) -> None:
    done = run_station("--lang", "en", "doctor", "--json", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["exit_code"] == 0
    assert report["would_use"] == {"kind": "simulated", "device": "sim:0", "label": "simulated"}
    assert [d["device"] for d in report["devices"]["sane"]] == ["test:0", "test:1"]
    assert report["devices"]["cameras"] == [] and isinstance(report["devices"]["usb"], list)
    areas = {f["area"] for f in report["findings"]}
    assert {"config", "disk", "sane", "camera", "usb", "triggers", "folder", "device"} <= areas


def test_sane_station_would_use_the_first_scanner(
    run_station: RunStation, env: dict[str, str]
) -> None:
    env["STATION__CAPTURE__DEVICE"] = "sane"
    done = run_station("doctor", "--json", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["would_use"]["device"] == "test:0"


def test_missing_camera_fails_with_how_to_fix_it(
    run_station: RunStation, env: dict[str, str]
) -> None:
    env["STATION__CAPTURE__DEVICE"] = "camera"
    english = run_station("doctor", "--lang", "en", env=env, timeout=60)
    assert english.returncode == 69
    assert '✗ No device found for capture.device = "camera".' in english.stdout
    assert "How to fix: plug the device in" in english.stdout
    vietnamese = run_station("doctor", env=env, timeout=60)
    assert vietnamese.returncode == 69 and "Cách sửa: cắm thiết bị" in vietnamese.stdout


def test_configured_scanner_that_is_absent(run_station: RunStation, env: dict[str, str]) -> None:
    env.update(STATION__CAPTURE__DEVICE="sane", STATION__CAPTURE__DEVICE_ID="epson2:libusb:001:004")
    done = run_station("doctor", "--lang", "en", env=env, timeout=60)
    assert done.returncode == 69
    assert "Device 'epson2:libusb:001:004' not found" in done.stdout


def test_simulated_camera_is_usable(run_station: RunStation, env: dict[str, str]) -> None:
    env.update(STATION__CAPTURE__DEVICE="camera", STATION__CAPTURE__DEVICE_ID="sim:0")
    done = run_station("doctor", "--json", env=env, timeout=60)
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["would_use"]["device"] == "sim:0"


def test_broken_configuration_is_reported_and_devices_still_listed(
    run_station: RunStation, env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "station.toml"
    bad.write_text('[capture]\ndevice = "fax"\n[triggers]\nkeys = "KEY_B"\n', encoding="utf-8")
    del env["STATION__CAPTURE__DEVICE"]  # the file's device, not the test stations' simulator
    done = run_station("--config", str(bad), "doctor", "--lang", "en", env=env, timeout=60)
    assert done.returncode == 78
    assert "capture.device = 'fax'" in done.stdout
    assert "triggers.keys = 'KEY_B': expected a list of texts" in done.stdout
    assert "SANE scanner: test:0" in done.stdout


def test_hot_folder_device_without_a_folder(run_station: RunStation, env: dict[str, str]) -> None:
    env["STATION__CAPTURE__DEVICE"] = "folder"
    done = run_station("doctor", "--lang", "en", env=env, timeout=60)
    assert done.returncode == 69
    assert "✗ Hot folder: not configured" in done.stdout
