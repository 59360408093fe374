"""Writing the station's TOML configuration: validated first, then replaced atomically.

The first-boot wizard, ``station provision apply`` and any settings screen change
``/etc/ledger-station/station.toml`` through :func:`update_config` or
:func:`write_config`. Nothing is written unless the whole result passes the same
strict validation as at start-up, and the file is replaced by renaming a complete,
fsynced new file over it: a power cut leaves the old settings or the new ones, never
half of each. The file keeps its mode (the service's group must stay able to read it).

The schema holds only text, whole numbers, numbers, true/false and lists of texts in
nested tables, so a small writer covers it without another dependency.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from station.core import config
from station.core.errors import ConfigError
from station.core.fsutil import publish_file, temp_path_for
from station.core.models import utc_now

#: Mode of a configuration file written where none existed: the service's group reads.
NEW_FILE_MODE = 0o640

HEADER = """\
# ledger-station configuration, written by the station ({why}) at {when}.
# Keys not listed here have their default; every key is documented in
# config/station.example.toml. Check the file with: station config check
"""


def target_path(path: Path | None = None) -> Path:
    """The configuration file the station reads: ``path``, $STATION_CONFIG or the system one."""
    if path is not None:
        return path
    env = os.environ.get("STATION_CONFIG")
    return Path(env) if env else config.DEFAULT_CONFIG_PATH


def read_data(path: Path) -> dict[str, Any]:
    """The file's TOML data as written (no defaults, no environment); {} if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("config.unreadable", source=str(path), detail=str(exc)) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.unreadable", source=str(path), detail=str(exc)) from exc


def set_key(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``station.name``-style ``dotted`` key in nested ``data``, making tables."""
    *tables, name = dotted.split(".")
    node = data
    for table in tables:
        child = node.setdefault(table, {})
        if not isinstance(child, dict):
            raise ConfigError("config_write.bad_key", key=dotted, detail=f"{table} is not a table")
        node = child
    node[name] = list(value) if isinstance(value, tuple) else value


def update_config(
    changes: Mapping[str, Any], path: Path | None = None, why: str = "settings"
) -> config.Config:
    """Set ``changes`` (dotted keys, e.g. ``{"station.name": "Trạm 2"}``) in the file.

    Every other key stays as the file has it. Raises :class:`ConfigError` naming each
    bad key (nothing is written then); returns the configuration now in the file.
    """
    target = target_path(path)
    data = read_data(target)
    for dotted, value in changes.items():
        set_key(data, dotted, value)
    return write_config(data, target, why)


def write_config(
    data: Mapping[str, Any], path: Path | None = None, why: str = "settings"
) -> config.Config:
    """Validate ``data`` (nested tables) and replace the file with it atomically."""
    target = target_path(path)
    validated = config.validate(data, str(target))
    text = HEADER.format(why=why, when=utc_now()) + "\n" + dumps(data)
    _replace(target, text.encode("utf-8"))
    return validated


def _replace(path: Path, data: bytes) -> None:
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    tmp = temp_path_for(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask must not narrow it
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        publish_file(tmp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise ConfigError("config_write.unwritable", path=str(path), detail=exc.strerror) from exc


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text of ``data``: scalar keys first, then one ``[table]`` per nested table."""
    lines: list[str] = []
    _table(data, (), lines)
    return "\n".join(lines).strip("\n") + "\n"


def _table(data: Mapping[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    if path and (scalars or not tables):
        lines += ["", "[" + ".".join(_key(p) for p in path) + "]"]
    lines += [f"{_key(key)} = {format_value(value)}" for key, value in scalars.items()]
    for key, table in tables.items():
        _table(table, (*path, key), lines)


def _key(name: str) -> str:
    bare = name and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    return name if bare else json.dumps(name, ensure_ascii=False)


def format_value(value: Any) -> str:
    """``value`` as TOML writes it (also how a changed setting is shown)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        # JSON escapes quotes, backslashes and control characters in forms TOML's basic
        # strings share; DEL is the one control character JSON leaves as it is.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML: {value!r}")
