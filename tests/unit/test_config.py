from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from station.capture import drivers
from station.core import config
from station.core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "station.example.toml"


def _flatten(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_example_documents_every_key_with_its_default() -> None:
    example = _flatten(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    schema = {path: default for path, default, _ in config.describe()}
    assert example == schema


def test_example_validates() -> None:
    assert config.load(EXAMPLE, environ={}) == config.Config()


def test_every_key_has_help() -> None:
    assert all(doc for _, _, doc in config.describe())


def test_all_problems_reported_with_key_value_and_expectation() -> None:
    text = '[web]\nport = "x"\nbogus = 1\n[capture]\ndpi = 50\n[capture.simulated]\ncamera = 1\n'
    with pytest.raises(ConfigError) as info:
        config.parse(text, "station.toml", environ={})
    english = info.value.message("en")
    assert "4 error(s)" in english
    assert "web.port = 'x': expected a whole number" in english
    assert "web.bogus = 1: unknown key" in english
    assert "capture.dpi = 50: expected at least 100" in english
    assert "capture.simulated.camera = 1: expected true or false" in english
    vietnamese = info.value.message("vi")
    assert "web.port = 'x': cần một số nguyên" in vietnamese
    assert info.value.exit_code == 78


DRIVER_TABLES_WRONG = """
[capture.sane]
mode = "sepia"
feeder = true
[capture.camera]
preview_fps = 0
[capture.folder]
polling = "yes"
[capture.simulated]
profile = "scroll"
[capture.sanee]
mode = "gray"
"""


def test_every_driver_table_is_checked_by_its_own_schema() -> None:
    with pytest.raises(config.ConfigProblems) as info:
        config.parse(DRIVER_TABLES_WRONG, "station.toml", environ={})
    english = info.value.message("en")
    assert "6 error(s)" in english
    assert "capture.sane.mode = 'sepia': expected one of: 'color', 'gray'" in english
    assert "capture.sane.feeder = True: unknown key; known keys here: area, mode, source" in (
        english
    )
    assert "capture.camera.preview_fps = 0: expected at least 1" in english
    assert "capture.folder.polling = 'yes': expected true or false" in english
    assert "capture.simulated.profile = 'scroll': expected one of: 'spread-2'" in english
    # A misspelt driver table is an unknown key of [capture], which names the drivers.
    assert "capture.sanee = {'mode': 'gray'}: unknown key; known keys here: camera," in english
    assert "capture.sane.mode = 'sepia': cần một trong:" in info.value.message("vi")


def test_the_driver_tables_are_the_registered_drivers() -> None:
    assert config.driver_kinds() == tuple(sorted(drivers.REGISTRY))
    described = {path for path, _, _ in config.describe()}
    for kind, spec in drivers.REGISTRY.items():
        assert isinstance(config.Config().capture.options(kind), spec.schema)
        assert any(path.startswith(f"capture.{kind}.") for path in described), kind
    loaded = config.parse('[capture.sane]\nmode = "gray"\n', environ={})
    assert loaded.capture.options("sane").mode == "gray"
    assert config.get_key(loaded, "capture.sane.mode") == "gray"
    changed = config.replace_key(loaded, "capture.sane.area", "A3")
    assert (changed.capture.options("sane").area, changed.capture.options("sane").mode) == (
        "A3",
        "gray",
    )
    assert loaded.capture.options("sane").area == "max"  # the original is unchanged


def test_no_device_is_chosen_by_default() -> None:
    """The simulator is for the demo and tests; an installed station chooses nothing."""
    assert config.Config().capture.device == ""
    assert config.load(EXAMPLE, environ={}).capture.device == ""
    assert config.parse('[capture]\ndevice = "simulated"\n', environ={}).capture.device == (
        "simulated"
    )


def test_unknown_section_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        config.parse("[webb]\nport = 1\n", environ={})


def test_choice_is_enforced() -> None:
    with pytest.raises(ConfigError, match=r"capture\.device = 'fax'"):
        config.parse('[capture]\ndevice = "fax"\n', environ={})


def test_broken_toml_names_the_file() -> None:
    with pytest.raises(ConfigError, match=r"station\.toml"):
        config.parse("[web\n", "station.toml", environ={})


def test_environment_overrides_with_types() -> None:
    env = {"STATION__WEB__PORT": "8081", "STATION__CAPTURE__SIMULATED__CAMERA": "true"}
    loaded = config.parse("", environ=env)
    assert loaded.web.port == 8081
    assert loaded.capture.options("simulated").camera is True


def test_environment_override_is_validated_too() -> None:
    with pytest.raises(ConfigError, match=r"web\.port"):
        config.parse("", environ={"STATION__WEB__PORT": "eighty"})


def test_data_dir_from_environment_then_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATION_DATA_DIR", "/srv/station")
    assert config.Config().data_dir == Path("/srv/station")
    monkeypatch.delenv("STATION_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", "/home/u/.local/share")
    assert config.Config().data_dir == Path("/home/u/.local/share/ledger-station")


def test_unreadable_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read configuration file"):
        config.load(tmp_path / "missing.toml", environ={})


def test_timezone_must_be_a_known_zone() -> None:
    good = config.parse('[station]\ntimezone = "Asia/Bangkok"\n', environ={})
    assert good.station.timezone == "Asia/Bangkok"
    for bad in ("Asia/Sai_Gon_City", "../../etc/passwd", ""):
        with pytest.raises(config.ConfigProblems) as caught:
            config.parse(f'[station]\ntimezone = "{bad}"\n', environ={})
        assert "station.timezone" in caught.value.message("en")
        assert "Asia/Ho_Chi_Minh" in caught.value.message("vi")
