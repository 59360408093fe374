"""``station provision``: export from one station, apply to a fresh one, as a technician
does it from the shell (the real command in subprocesses)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from station.core import config
from tests.support.commands import RunStation, station_env

STATION_A = """
[station]
name = "Trạm xã Đông Hòa 1"
office_code = "xa-dong-hoa"
office_name = "UBND xã Đông Hòa"
[storage]
data_dir = "{data}"
reserve_mb = 800
[capture]
device = "camera"
device_id = "/dev/video2"
dpi = 400
[capture.camera]
preview_fps = 5
[processing]
budget_kb = 90
[triggers]
enabled = true
keys = ["KEY_B"]
"""


def _settings(path: Path) -> config.Config:
    """The effective settings of a file, minus what differs between stations."""
    cfg = config.load(path, environ={})
    return dataclasses.replace(
        cfg,
        station=dataclasses.replace(cfg.station, id="", name=""),
        storage=dataclasses.replace(cfg.storage, data_dir=""),
        capture=dataclasses.replace(cfg.capture, device_id=""),
    )


def test_export_from_one_station_and_apply_to_a_fresh_one(
    run_station: RunStation, tmp_path: Path
) -> None:
    a_data, b_data = tmp_path / "a", tmp_path / "b"
    a_conf, b_conf = tmp_path / "a.toml", tmp_path / "b.toml"
    a_conf.write_text(STATION_A.format(data=a_data), encoding="utf-8")
    example = Path(config.__file__).parents[2] / "config" / "station.example.toml"
    fresh = example.read_text(encoding="utf-8")
    b_conf.write_text(fresh.replace('data_dir = ""', f'data_dir = "{b_data}"'), encoding="utf-8")
    env = {k: v for k, v in station_env(a_data).items() if not k.startswith("STATION__")}
    provisioning = tmp_path / "usb" / "ledger-station-provision.toml"
    provisioning.parent.mkdir()

    done = run_station("--config", str(a_conf), "provision", "export", str(provisioning), env=env)
    assert done.returncode == 0, done.stderr
    assert "không có bí mật" in done.stdout
    done = run_station(
        "--config", str(b_conf), "--lang", "en", "provision", str(provisioning),
        "--name", "Trạm xã Đông Hòa 2", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "capture.dpi: 300 → 400" in done.stdout
    assert "systemctl restart ledger-station" in done.stdout

    assert _settings(b_conf) == _settings(a_conf)
    applied = config.load(b_conf, environ={})
    assert applied.station.name == "Trạm xã Đông Hòa 2"
    assert applied.storage.data_dir == str(b_data)
    assert applied.capture.device_id == ""
    done = run_station("config", "check", str(b_conf), env=env)
    assert done.returncode == 0, done.stderr


def test_a_malformed_file_is_refused_with_the_key_and_reason(
    run_station: RunStation, tmp_path: Path
) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[station]\nname = "B"\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[provision]\nformat = "ledger-station-provision"\nversion = 1\n'
        '[settings.capture]\ndpi = "high"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in station_env(tmp_path / "data").items() if not k.startswith("STATION__")}
    for lang, text in (("vi", "cần một số nguyên"), ("en", "expected a whole number")):
        done = run_station("--config", str(target), "--lang", lang, "provision", str(bad), env=env)
        assert done.returncode == 78
        assert "capture.dpi = 'high'" in done.stderr and text in done.stderr
    assert target.read_text(encoding="utf-8") == '[station]\nname = "B"\n'
