"""The settings an administrator may change on the touch screen, and what it shows.

A small whitelist (:data:`EDITABLE`) of station.toml keys is checked against the
configuration schema, written through :func:`station.core.config_write.update_config`
(the whole file validated as at start-up, then replaced atomically) and applied to
the running station at once (naming preset, budget, capture settings, station name
and office; the device kind and the LAN announcement take a restart).
``require_shift`` lives in the station database. Everything else is the
technician's, in the file.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.capture.job import REQUIRE_SHIFT
from station.core import config, config_write, messages, naming
from station.core.errors import ConfigError, NamingError, UsageError
from station.core.layouts import load_profiles

if TYPE_CHECKING:
    from station.app.station import Station

log = logging.getLogger(__name__)


#: The contract's short names for the most used keys.
ALIASES = {
    "naming_preset": "processing.naming_preset",
    "budget_kb": "processing.budget_kb",
    "capture_dpi": "capture.dpi",
    "simulated_profile": "capture.simulated.profile",
}
#: station.toml keys the screens may change (the admin screen and the first-boot
#: wizard); a key the schema does not have is refused.
EDITABLE = (
    *ALIASES.values(),
    "station.name",
    "station.office_code",
    "station.office_name",
    "station.timezone",
    "processing.default_profile",
    "storage.reserve_mb",
    "storage.warn_mb",
    "capture.device",
    "capture.device_id",
    "triggers.enabled",
)
DB_SETTINGS = {"require_shift": REQUIRE_SHIFT}
MAX_BUDGET_KB = 10_240
#: Sizes of the captures and published folders are walked at most this often.
SIZES_TTL = 60.0

_sizes_cache: dict[str, tuple[float, dict[str, int]]] = {}


class SettingValueError(UsageError):
    """A value the schema refuses for one key, said in the reader's language (the
    schema's own words for what is expected, not its English summary)."""

    def __init__(self, key: str, problem: config.Problem) -> None:
        self.problem = problem  # before the base class renders the English message
        english = messages.render(problem.expected, "en", **problem.values)
        super().__init__("settings.bad_value", key=key, expected=english)

    def message(self, lang: str = "vi") -> str:
        expected = messages.render(self.problem.expected, lang, **self.problem.values)
        return messages.render(self.key, lang, **{**self.values, "expected": expected})


def editable_keys() -> list[str]:
    """The dotted keys this station's schema has, of :data:`EDITABLE`."""
    schema = {path for path, _, _ in config.describe()}
    return [key for key in EDITABLE if key in schema]


def settings_view(station: Station) -> dict[str, Any]:
    """What the admin screen shows.

    Every editable key by its dotted name (``"processing.budget_kb": 100``), the short
    names of the contract (``naming_preset``, ``budget_kb``, ``capture_dpi``,
    ``simulated_profile``), the naming presets and layout profiles to choose from,
    ``require_shift``, ``admin_pin_set``, the device, the storage and the config file.
    """
    cfg = station.config
    presets = naming.load_presets(_naming_dir(cfg))
    view: dict[str, Any] = {key: _get(cfg, key) for key in editable_keys()}
    view.update({short: _get(cfg, dotted) for short, dotted in ALIASES.items()})
    view.update(
        {
            "naming_presets": [
                {"name": p.name, "vi": p.label_for("vi"), "en": p.label_for("en")}
                for p in sorted(presets.values(), key=lambda p: p.name)
            ],
            "profiles": sorted(load_profiles()),
            "require_shift": bool(station.store.get_setting(REQUIRE_SHIFT, False)),
            "admin_pin_set": station.shifts.admin_pin_set(),
            "device": station.device_status(),
            "storage": storage_view(station),
            "config_file": str(config_file(station) or ""),
            "editable": sorted([*editable_keys(), *ALIASES, *DB_SETTINGS]),
        }
    )
    return view


def update_settings(station: Station, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check every change, write the file's ones, apply all to the running station.

    Keys: dotted station.toml keys of :data:`EDITABLE`, the short names of
    :data:`ALIASES`, and ``require_shift``. Nothing changes when any value is refused
    (UsageError naming the key). Returns :func:`settings_view` plus ``changed`` and
    ``persisted`` (the file written; "" when the station runs without one, so the
    change lasts until restart).
    """
    if not isinstance(changes, Mapping):
        raise UsageError("settings.bad_value", key="changes", expected="an object")
    db_changes: dict[str, Any] = {}
    file_changes: dict[str, Any] = {}
    for key, value in changes.items():
        if key in DB_SETTINGS:
            if not isinstance(value, bool):
                raise UsageError("settings.bad_value", key=key, expected="true or false")
            db_changes[DB_SETTINGS[key]] = value
        else:
            dotted = ALIASES.get(key, key) if isinstance(key, str) else ""
            file_changes[dotted] = _check(station, dotted, key, value)
    persisted = ""
    target = config_file(station)
    if file_changes and target is not None:
        config_write.update_config(file_changes, target, why="touch-screen settings")
        persisted = str(target)
    if file_changes:
        running = station.config
        for dotted, value in file_changes.items():
            running = _replace(running, dotted, value)
        station.apply_config(running)
    for key, value in db_changes.items():
        station.store.set_setting(key, value)
    log.info("settings changed from the screen: %s", sorted(changes))
    return {**settings_view(station), "changed": sorted(changes), "persisted": persisted}


def config_file(station: Station) -> Path | None:
    """The file settings are written to: the station's, $STATION_CONFIG or the system
    file when it exists; None when the station runs on defaults alone."""
    if station.config_path is not None:
        return station.config_path
    if os.environ.get("STATION_CONFIG"):
        return config_write.target_path()
    return config.DEFAULT_CONFIG_PATH if config.DEFAULT_CONFIG_PATH.exists() else None


def storage_view(station: Station) -> dict[str, Any]:
    """Disk space (as the storage guard sees it) and what the station's folders hold."""
    measure = getattr(station, "storage", None)
    view: dict[str, Any] = dict(measure().to_dict()) if callable(measure) else {}
    view["folders_mb"] = _folder_sizes(station.data_dir)
    return view


def _check(station: Station, dotted: str, key: Any, value: Any) -> Any:
    """``value`` for ``dotted`` as the schema checks it at start-up, or UsageError."""
    if dotted not in editable_keys():
        known = ", ".join(sorted([*editable_keys(), *ALIASES, *DB_SETTINGS]))
        raise UsageError("settings.unknown_key", key=str(key)[:60], known=known)
    nested: dict[str, Any] = {}
    config_write.set_key(nested, dotted, value)
    try:
        checked = _get(config.validate(nested), dotted)
    except config.ConfigProblems as exc:
        raise SettingValueError(dotted, exc.problems[0]) from exc
    except ConfigError as exc:
        raise UsageError("settings.bad_value", key=dotted, expected=exc.message("en")) from exc
    if dotted == "processing.budget_kb" and checked > MAX_BUDGET_KB:
        raise UsageError("settings.bad_value", key=dotted, expected=f"at most {MAX_BUDGET_KB}")
    if dotted == "processing.naming_preset":
        try:
            presets = naming.load_presets(_naming_dir(station.config))
        except NamingError as exc:
            raise UsageError("settings.bad_value", key=dotted, expected=exc.message("en")) from exc
        if checked not in presets:
            raise UsageError("settings.bad_value", key=dotted, expected=", ".join(sorted(presets)))
    return checked


def _get(cfg: Any, dotted: str) -> Any:
    value = config.get_key(cfg, dotted)
    return list(value) if isinstance(value, tuple) else value


def _replace(cfg: Any, dotted: str, value: Any) -> Any:
    """``cfg`` with one dotted key changed (sections are frozen dataclasses)."""
    return config.replace_key(cfg, dotted, value)


def _naming_dir(cfg: config.Config) -> Path | None:
    return Path(cfg.processing.naming_dir) if cfg.processing.naming_dir else None


def _folder_sizes(data_dir: Path) -> dict[str, int]:
    key = str(data_dir)
    cached = _sizes_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < SIZES_TTL:
        return cached[1]
    sizes = {name: _size_mb(data_dir / name) for name in ("captures", "published", "views")}
    _sizes_cache[key] = (time.monotonic(), sizes)
    return sizes


def _size_mb(folder: Path) -> int:
    """MB held under ``folder``; a file kept under two names (``_versions``) counts once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                info = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total // (1024 * 1024)
