"""Provisioning files (station.system.provision) and the atomic config writer (config_write)."""

from __future__ import annotations

import dataclasses
import json
import stat
import tomllib
from pathlib import Path

import pytest

from station.core import config, config_write
from station.core.errors import ConfigError
from station.system import provision

#: A station set up by a technician: many keys away from their defaults.
SET_UP = """
[station]
id = "st-aaaa11112222"
name = "Trạm xã Đông Hòa 1"
office_code = "xa-dong-hoa"
office_name = "UBND xã Đông Hòa"
[storage]
data_dir = "/srv/station-a"
reserve_mb = 800
warn_mb = 4000
[capture]
device = "sane"
device_id = "epson2:libusb:001:004"
dpi = 400
[capture.sane]
area = "A3"
source = "flatbed"
[capture.folder]
path = "/srv/scans"
settle_seconds = 5.5
[processing]
naming_preset = "provincial"
budget_kb = 120
[triggers]
enabled = true
keys = ["KEY_B", "KEY_F5"]
[web]
host = "0.0.0.0"
"""


def identity_free(cfg: config.Config) -> config.Config:
    """``cfg`` without what differs between stations, for comparing settings."""
    return dataclasses.replace(
        cfg,
        station=dataclasses.replace(cfg.station, id="", name=""),
        storage=dataclasses.replace(cfg.storage, data_dir=""),
        capture=dataclasses.replace(cfg.capture, device_id=""),
    )


def test_export_then_apply_to_a_fresh_station_gives_the_same_settings(tmp_path: Path) -> None:
    source = config.parse(SET_UP, "a", environ={})
    text = provision.export(source, "st-aaaa11112222")
    fresh = tmp_path / "station.toml"
    example = Path(config.__file__).parents[2] / "config" / "station.example.toml"
    fresh.write_text(
        example.read_text(encoding="utf-8").replace('data_dir = ""', 'data_dir = "/srv/b"'),
        encoding="utf-8",
    )

    changes = provision.apply(provision.parse(text, "p.toml"), fresh)

    applied = config.load(fresh, environ={})
    assert identity_free(applied) == identity_free(source)
    assert applied.storage.data_dir == "/srv/b"  # the fresh station's own stays
    assert applied.station.id == "" and applied.station.name == config.StationSection().name
    assert {c.key for c in changes} >= {"capture.dpi", "triggers.keys", "storage.reserve_mb"}


def test_apply_replaces_settings_the_target_had_before(tmp_path: Path) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[station]\nname = "B"\n[web]\nport = 9000\n[capture]\ndpi = 200\n')
    text = provision.export(config.parse(SET_UP, "a", environ={}))
    provision.apply(provision.parse(text, "p.toml"), target, {"station.office_name": "Xã B"})
    applied = config.load(target, environ={})
    assert applied.web.port == 8080  # not in the file: back to the default, as on station A
    assert applied.capture.dpi == 400
    assert applied.station.name == "B"  # identity kept
    assert applied.station.office_name == "Xã B"  # given explicitly


def test_export_holds_no_identity_and_no_secret() -> None:
    text = provision.export(config.parse(SET_UP, "a", environ={}), "st-aaaa11112222")
    data = tomllib.loads(text)
    settings = data["settings"]
    assert "id" not in settings["station"] and "name" not in settings["station"]
    assert "data_dir" not in settings["storage"]
    assert "device_id" not in settings["capture"]
    assert data["provision"]["format"] == provision.FORMAT
    assert data["provision"]["version"] == provision.VERSION
    assert data["provision"]["from_station"] == "st-aaaa11112222"
    for flat in provision._flat_data(settings):
        assert not provision.is_secret(flat)


def test_secret_names_are_recognised() -> None:
    for key in ("admin.pin_hash", "admin.pin", "lan.token", "lan.api_secret", "tls.private_key"):
        assert provision.is_secret(key), key
    for key in ("triggers.keys", "station.office_code", "capture.dpi", "lan.port"):
        assert not provision.is_secret(key), key


@pytest.mark.parametrize(
    ("text", "vi", "en"),
    [
        ("[provision\nformat=", "Không đọc được", "Cannot read"),
        ("[settings.capture]\ndpi = 400\n", "không phải tệp cài đặt", "is not a station"),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = 99\n',
            "provision.version = 99: tệp do phiên bản mới hơn",
            "provision.version = 99: made by a newer version",
        ),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = "1"\n',
            "provision.version = '1': cần một số nguyên",
            "provision.version = '1': expected a whole number",
        ),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = 1\n'
            '[settings.station]\nid = "st-1"\n',
            "settings.station.id = 'st-1': khóa riêng của từng trạm",
            "settings.station.id = 'st-1': belongs to one station",
        ),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = 1\n'
            '[settings.admin]\npin_hash = "x"\n',
            "settings.admin.pin_hash = '…': là thông tin bí mật",
            "settings.admin.pin_hash = '…': is a secret",
        ),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = 1\n'
            "[settings.capture]\ndpi = 5000\ncolour = 1\n",
            "capture.dpi = 5000: cần nhiều nhất 1200",
            "capture.colour = 1: unknown key",
        ),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = 1\nextra = 1\n',
            "provision.extra = 1: khóa không tồn tại",
            "provision.extra = 1: unknown key",
        ),
        (
            '[provision]\nformat = "ledger-station-provision"\nversion = 1\n[other]\n',
            "other = {}: khóa không tồn tại",
            "other = {}: unknown key",
        ),
    ],
)
def test_malformed_files_are_refused_naming_the_problem(text: str, vi: str, en: str) -> None:
    with pytest.raises(ConfigError) as info:
        provision.parse(text, "bad.toml")
    assert vi in info.value.message("vi")
    assert en in info.value.message("en")
    assert "bad.toml" in info.value.message("en")
    assert info.value.exit_code == 78


def test_a_refused_file_leaves_the_configuration_untouched(tmp_path: Path) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[station]\nname = "B"\n')
    before = target.read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text('[provision]\nformat = "ledger-station-provision"\nversion = 1\n[settings]\nx=1')
    with pytest.raises(ConfigError):
        provision.apply(provision.read(bad), target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "station.toml"]


def test_json_provisioning_files_are_read_too() -> None:
    text = json.dumps(
        {
            "provision": {"format": provision.FORMAT, "version": 1},
            "settings": {"capture": {"dpi": 600}},
        }
    )
    assert provision.parse(text, "p.json").config.capture.dpi == 600


def test_provisioning_files_are_found_on_mounted_sticks(tmp_path: Path) -> None:
    stick = tmp_path / "media" / "pi" / "USB"
    stick.mkdir(parents=True)
    (stick / provision.USB_FILE_NAME).write_text("x")
    (tmp_path / "media" / "pi" / "other.toml").write_text("x")
    patterns = (f"{tmp_path}/media/*/", f"{tmp_path}/media/*/*/", f"{tmp_path}/run/media/*/*/")
    assert provision.find_on_usb(patterns) == [stick / provision.USB_FILE_NAME]


def test_update_config_keeps_other_keys_and_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[web]\nport = 9000\n[station]\nname = "A"\n')
    target.chmod(0o660)
    written = config_write.update_config(
        {"station.name": 'Trạm "Đông" Hòa\\2', "processing.naming_preset": "provincial"},
        target,
        "first-boot wizard",
    )
    assert written.station.name == 'Trạm "Đông" Hòa\\2'
    again = config.load(target, environ={})
    assert again == written
    assert again.web.port == 9000
    assert stat.S_IMODE(target.stat().st_mode) == 0o660
    assert "first-boot wizard" in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["station.toml"]  # no temp file left


def test_update_config_refuses_bad_values_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[station]\nname = "A"\n')
    with pytest.raises(ConfigError) as info:
        config_write.update_config({"capture.dpi": 50, "station.nmae": "x"}, target)
    text = info.value.message("en")
    assert "capture.dpi = 50" in text and "station.nmae" in text
    assert target.read_text() == '[station]\nname = "A"\n'


def test_new_config_files_are_readable_by_the_service_group(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "station.toml"
    target.parent.mkdir()
    config_write.update_config({"station.name": "A"}, target)
    assert stat.S_IMODE(target.stat().st_mode) == config_write.NEW_FILE_MODE


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'quo"te',
        "back\\slash",
        "tab\tnew\nline",
        "del\x7fchar",
        "Việt Nam ✓",
        0,
        -3,
        2.5,
        1e-05,
        True,
        False,
        ["a", 'b"c'],
        [],
    ],
)
def test_toml_writer_round_trips(value: object) -> None:
    text = config_write.dumps({"table": {"key": value}, "top": 1})
    assert tomllib.loads(text) == {"table": {"key": value}, "top": 1}


def test_an_unwritable_folder_is_reported_in_both_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "station.toml"
    target.write_text('[station]\nname = "A"\n')

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(config_write.os, "open", refuse)  # root may write anywhere
    with pytest.raises(ConfigError) as info:
        config_write.update_config({"station.name": "B"}, target)
    assert "Không ghi được" in info.value.message("vi")
    assert "Cannot write" in info.value.message("en") and "Permission denied" in str(info.value)
    assert target.read_text() == '[station]\nname = "A"\n'
