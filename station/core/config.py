"""Station configuration: one TOML file, strictly validated, with environment overrides.

The schema is a tree of frozen dataclasses; each field's metadata holds its help text
and constraints. Validation collects *every* problem, each naming the key path, the
value found and what is expected, so a technician fixes the file in one go. Unknown
keys are errors (a typo must never be silently ignored).

Each capture driver owns its ``[capture.<kind>]`` table: the driver's package holds
the table's schema beside its code, and :mod:`station.capture.drivers` registers it
here (:func:`register_driver_section`) when imported, the way modules register their
messages. This ground floor validates every table without knowing any driver, so one
pass reports all problems; a loader of station.toml must import
``station.capture.drivers`` first (the CLI and the application do), or the driver
tables are unknown keys.

Environment variables override the file: ``STATION__SECTION__KEY=value`` (double
underscores separate the path), plus ``STATION_DATA_DIR`` for the data folder.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import typing
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from station.core import messages
from station.core.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = Path("/etc/ledger-station/station.toml")
ENV_PREFIX = "STATION__"


def option(default: Any, doc: str, **constraints: Any) -> Any:
    """A schema key: its default, its help text and its constraints (``choices``, ``min``,
    ``max``, ``check`` with ``check_message``); ``choices`` may be a callable."""
    return field(default=default, metadata={"doc": doc, **constraints})


_opt = option  # the short name the sections below use


@dataclass(frozen=True)
class DriverSection:
    """The schema of one driver's ``[capture.<kind>]`` table (a frozen dataclass of
    :func:`option` fields) and the one line that says what the table is for."""

    schema: type
    doc: str


#: kind -> its table's schema, filled by :mod:`station.capture.drivers` at import.
_DRIVER_SECTIONS: dict[str, DriverSection] = {}
#: Field metadata marking the mapping that holds the registered driver tables.
_DRIVER_TABLES = "driver_tables"


def register_driver_section(kind: str, schema: type, doc: str) -> None:
    """Make ``[capture.<kind>]`` a table of the configuration, checked by ``schema``."""
    if not dataclasses.is_dataclass(schema):
        raise TypeError(f"the schema of driver {kind!r} must be a dataclass")
    _DRIVER_SECTIONS[kind] = DriverSection(schema, doc)


def driver_kinds() -> tuple[str, ...]:
    """The kinds of capture driver registered, sorted."""
    return tuple(sorted(_DRIVER_SECTIONS))


def _device_choices() -> tuple[str, ...]:
    return ("", *driver_kinds())


def _driver_defaults() -> dict[str, Any]:
    return {kind: section.schema() for kind, section in _DRIVER_SECTIONS.items()}


@dataclass(frozen=True)
class StationSection:
    name: str = _opt("Trạm số hóa", "Name shown on the screen and announced on the LAN.")
    id: str = _opt("", "Unique station id; empty: made on first start and kept in the data.")
    office_code: str = _opt("", "Code of the civil-status office (commune), e.g. 'xa-dong-hoa'.")
    office_name: str = _opt("", "Name of the office, e.g. 'UBND xã Đông Hòa'.")
    language: str = _opt("vi", "Language of the UI and messages.", choices=("vi", "en"))
    timezone: str = _opt(
        "Asia/Ho_Chi_Minh",
        "Time zone of the station's clock (IANA name); the wizard applies it to the system.",
        check=lambda name: _is_timezone(name),
        check_message="config.expected_timezone",
    )


def _is_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (tzdata)."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class StorageSection:
    data_dir: str = _opt("", "Data folder; empty: $STATION_DATA_DIR or ~/.local/share/...")
    reserve_mb: int = _opt(500, "Free space kept in reserve; captures stop below it.", min=50)
    warn_mb: int = _opt(2000, "Free space below which the screen warns the disk is filling.", min=0)
    scrub_hours: float = _opt(
        24.0, "Hours between two checks of every published file (bit rot); 0: never.", min=0
    )
    scrub_kb_per_second: int = _opt(
        2048, "Reading speed of that check, in KB/s, kept low to spare the SD card.", min=16
    )


@dataclass(frozen=True)
class CaptureSection:
    device: str = _opt(
        "",
        "Kind of capture device; empty: none, so nothing is captured until one is chosen.",
        choices=_device_choices,
    )
    device_id: str = _opt("", "Device to open (e.g. 'test:0' for SANE); empty: the first found.")
    dpi: int = _opt(300, "Capture resolution in dots per inch.", min=100, max=1200)
    #: The ``[capture.<kind>]`` tables, one per registered driver, each checked by the
    #: driver's own schema; a table left out of the file has its defaults.
    drivers: dict[str, Any] = field(
        default_factory=_driver_defaults, metadata={_DRIVER_TABLES: True}
    )

    def options(self, kind: str) -> Any:
        """The ``[capture.<kind>]`` table of a registered driver, as its schema holds it."""
        return self.drivers[kind]


@dataclass(frozen=True)
class TriggersSection:
    enabled: bool = _opt(False, "Start a capture with a foot pedal, a key or a scanner button.")
    keys: tuple[str, ...] = _opt(
        ("KEY_B", "KEY_PAGEDOWN", "KEY_ENTER", "KEY_SPACE"),
        "Keys that start a capture: Linux key names (KEY_B) or codes.",
    )
    devices: tuple[str, ...] = _opt(
        (), "Input devices to listen to (paths or names); empty: every keyboard."
    )
    grab: bool = _opt(False, "Take the input devices for the station alone (for pedals).")
    debounce_ms: int = _opt(400, "Presses closer together than this count once.", min=0, max=5000)
    scanner_button: bool = _opt(True, "Also capture on the scanner's own button (if SANE has it).")
    button_poll_ms: int = _opt(200, "How often the scanner button is read.", min=50, max=5000)


@dataclass(frozen=True)
class UsbSection:
    enabled: bool = _opt(True, "Watch USB plug and unplug to show the devices in the UI.")
    poll_seconds: float = _opt(2.0, "How often USB devices are listed.", min=0.2, max=60)
    devices_file: str = _opt("", "Extra table of known USB devices; empty: none.")


@dataclass(frozen=True)
class ProcessingSection:
    budget_kb: int = _opt(100, "Largest size of one entry PDF, in KB (1 KB = 1000 bytes).", min=20)
    naming_preset: str = _opt("default", "Naming preset in config/naming (file names).")
    naming_dir: str = _opt("", "Extra folder with naming presets of the province; empty: none.")
    default_profile: str = _opt("spread-2", "Layout profile proposed for new books.")


@dataclass(frozen=True)
class WebSection:
    host: str = _opt("127.0.0.1", "Address the web server listens on.")
    port: int = _opt(8080, "Port of the web server.", min=1, max=65535)
    threads: int = _opt(4, "Worker threads of the web server.", min=1, max=32)
    upload_max_mb: int = _opt(40, "Largest phone upload (one request), in MB.", min=1, max=500)


@dataclass(frozen=True)
class LanSection:
    enabled: bool = _opt(True, "Serve entry PCs over TLS on the LAN (API, pairing, files).")
    announce: bool = _opt(True, "Announce the station with zeroconf (mDNS/DNS-SD).")
    interfaces: tuple[str, ...] = _opt(
        (), "Network interfaces to announce on; empty: every LAN interface with IPv4."
    )
    host: str = _opt("0.0.0.0", "Address the TLS listener binds to.")
    port: int = _opt(8443, "Port of the TLS listener; 0: any free port.", min=0, max=65535)
    threads: int = _opt(8, "Worker threads of the TLS listener.", min=1, max=64)


@dataclass(frozen=True)
class LogSection:
    level: str = _opt(
        "info", "Log level.", choices=("debug", "info", "warning", "error", "critical")
    )


@dataclass(frozen=True)
class Config:
    station: StationSection = field(default_factory=StationSection, metadata={"doc": "Station"})
    storage: StorageSection = field(default_factory=StorageSection, metadata={"doc": "Storage"})
    capture: CaptureSection = field(default_factory=CaptureSection, metadata={"doc": "Capture"})
    processing: ProcessingSection = field(
        default_factory=ProcessingSection, metadata={"doc": "Processing"}
    )
    web: WebSection = field(default_factory=WebSection, metadata={"doc": "Web server"})
    triggers: TriggersSection = field(
        default_factory=TriggersSection, metadata={"doc": "Capture triggers"}
    )
    usb: UsbSection = field(default_factory=UsbSection, metadata={"doc": "USB devices"})
    lan: LanSection = field(default_factory=LanSection, metadata={"doc": "LAN service"})
    log: LogSection = field(default_factory=LogSection, metadata={"doc": "Logging"})

    @property
    def data_dir(self) -> Path:
        """The data folder, resolved from the file, the environment or the default."""
        return resolve_data_dir(self.storage.data_dir)


def resolve_data_dir(configured: str) -> Path:
    """Choose the data folder: the config value, then $STATION_DATA_DIR, then a user folder.

    The fallback needs no root, so the demo runs for any user.
    """
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get("STATION_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ledger-station"


T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One invalid key: where, what was found, and the message key of what is expected."""

    path: str
    value: Any
    expected: str
    values: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        expected = messages.render(self.expected, lang, **self.values)
        return messages.render(
            "config.problem", lang, path=self.path, value=repr(self.value), expected=expected
        )


class ConfigProblems(ConfigError):
    """Every problem found in one configuration, rendered in the reader's language."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("config.errors", source=source, count=len(problems), details="")

    def message(self, lang: str = "vi") -> str:
        details = "\n".join(p.render(lang) for p in self.problems)
        return messages.render(
            "config.errors", lang, source=self.source, count=len(self.problems), details=details
        )


class _Problems:
    """Collects validation problems so every one is reported at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, value: Any, expected: str, **values: Any) -> None:
        self.items.append(Problem(path, value, expected, values))


def _field_type(cls: type, name: str) -> Any:
    return typing.get_type_hints(cls)[name]


def _convert(value: Any, kind: Any, path: str, meta: dict[str, Any], problems: _Problems) -> Any:
    """Check one scalar against its declared type and constraints; return it or None."""
    if kind is bool:
        ok = isinstance(value, bool)
        expected = "config.expected_bool"
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = "config.expected_int"
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        expected = "config.expected_number"
    elif kind == tuple[str, ...]:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        value = tuple(value) if ok else value
        expected = "config.expected_text_list"
    else:
        ok = isinstance(value, str)
        expected = "config.expected_text"
    if not ok:
        problems.add(path, value, expected)
        return None
    choices = meta.get("choices")
    choices = choices() if callable(choices) else choices
    if choices is not None and value not in choices:
        problems.add(path, value, "config.expected_choice", choices=", ".join(map(repr, choices)))
        return None
    if "min" in meta and value < meta["min"]:
        problems.add(path, value, "config.expected_min", limit=meta["min"])
        return None
    if "max" in meta and value > meta["max"]:
        problems.add(path, value, "config.expected_max", limit=meta["max"])
        return None
    check = meta.get("check")
    if check is not None and not check(value):
        problems.add(path, value, meta["check_message"])
        return None
    return value


def _build(cls: type[T], data: Any, path: str, problems: _Problems) -> T:
    """Build section ``cls`` from ``data``, recording problems; bad values keep defaults."""
    default = cls()
    if not isinstance(data, dict):
        problems.add(path or "(top level)", data, "config.expected_table")
        return default
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    known = {f.name: f for f in fields if _DRIVER_TABLES not in f.metadata}
    tables = [f.name for f in fields if _DRIVER_TABLES in f.metadata]
    allowed = sorted([*known, *(_DRIVER_SECTIONS if tables else ())])
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            problems.add(where, data[key], "config.unknown_key", known=", ".join(allowed))
    values: dict[str, Any] = {}
    for name, spec in known.items():
        if name not in data:
            continue
        where = f"{path}.{name}" if path else name
        kind = _field_type(cls, name)
        if dataclasses.is_dataclass(kind):
            values[name] = _build(typing.cast(type, kind), data[name], where, problems)
            continue
        converted = _convert(data[name], kind, where, dict(spec.metadata), problems)
        if converted is not None:
            values[name] = converted
    for name in tables:
        values[name] = _build_driver_tables(data, path, problems)
    return dataclasses.replace(default, **values)  # type: ignore[type-var]


def _build_driver_tables(data: dict[str, Any], path: str, problems: _Problems) -> dict[str, Any]:
    """Every registered driver's table from ``data``, by its own schema; absent: defaults."""
    return {
        kind: _build(section.schema, data.get(kind, {}), f"{path}.{kind}", problems)
        for kind, section in _DRIVER_SECTIONS.items()
    }


def get_key(cfg: Any, dotted: str) -> Any:
    """The value of ``dotted`` (``capture.sane.mode``) in ``cfg`` or one of its sections."""
    node = cfg
    for part in dotted.split("."):
        node = _child(node, part)
    return node


def replace_key(cfg: T, dotted: str, value: Any) -> T:
    """``cfg`` with one dotted key changed (sections are frozen dataclasses)."""
    head, _, rest = dotted.partition(".")
    if rest:
        value = replace_key(_child(cfg, head), rest, value)
    tables = _tables_field(cfg)
    if tables is not None and head in getattr(cfg, tables):
        value, head = {**getattr(cfg, tables), head: value}, tables
    return dataclasses.replace(cfg, **{head: value})  # type: ignore[type-var]


def _child(node: Any, name: str) -> Any:
    tables = _tables_field(node)
    if tables is not None and name in getattr(node, tables):
        return getattr(node, tables)[name]
    return getattr(node, name)


def _tables_field(node: Any) -> str | None:
    """The name of ``node``'s field holding driver tables, if it has one."""
    if not dataclasses.is_dataclass(node):
        return None
    return next((f.name for f in dataclasses.fields(node) if _DRIVER_TABLES in f.metadata), None)


def environment_overrides(environ: typing.Mapping[str, str]) -> dict[str, Any]:
    """Turn ``STATION__SECTION__KEY`` variables into a nested dict of TOML-typed values."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_env_value(raw)
    return tree


def _parse_env_value(raw: str) -> Any:
    """Read an environment value as a TOML value when it is one, else as plain text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse(
    text: str, source: str = "<text>", environ: typing.Mapping[str, str] | None = None
) -> Config:
    """Validate TOML ``text`` (plus environment overrides) into a :class:`Config`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.unreadable", source=source, detail=str(exc)) from exc
    data = _merge(data, environment_overrides(os.environ if environ is None else environ))
    problems = _Problems()
    config = _build(Config, data, "", problems)
    if problems.items:
        raise ConfigProblems(source, problems.items)
    return config


def validate(data: typing.Mapping[str, Any], source: str = "<data>") -> Config:
    """Validate already-parsed TOML ``data`` as it is (no environment overrides)."""
    problems = _Problems()
    config = _build(Config, dict(data), "", problems)
    if problems.items:
        raise ConfigProblems(source, problems.items)
    return config


def load(path: Path | None = None, environ: typing.Mapping[str, str] | None = None) -> Config:
    """Load the configuration from ``path``, $STATION_CONFIG or the system file.

    With no file anywhere the built-in defaults apply (still with env overrides).
    """
    env = os.environ if environ is None else environ
    if path is None and env.get("STATION_CONFIG"):
        path = Path(env["STATION_CONFIG"])
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    if path is None:
        return parse("", "(defaults)", env)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("config.unreadable", source=str(path), detail=str(exc)) from exc
    return parse(text, str(path), env)


def describe() -> list[tuple[str, Any, str]]:
    """Every key of the schema as (dotted path, default, help), for docs and tests."""
    rows: list[tuple[str, Any, str]] = []

    def walk(cls: type, prefix: str) -> None:
        for spec in dataclasses.fields(cls):
            if _DRIVER_TABLES in spec.metadata:
                for kind, section in sorted(_DRIVER_SECTIONS.items()):
                    walk(section.schema, f"{prefix}{kind}.")
                continue
            kind = _field_type(cls, spec.name)
            path = f"{prefix}{spec.name}"
            if dataclasses.is_dataclass(kind):
                walk(typing.cast(type, kind), path + ".")
            else:
                default = getattr(cls(), spec.name)
                default = list(default) if isinstance(default, tuple) else default  # as TOML
                rows.append((path, default, spec.metadata.get("doc", "")))

    walk(Config, "")
    return rows


__all__ = [
    "Config",
    "describe",
    "driver_kinds",
    "get_key",
    "load",
    "option",
    "parse",
    "register_driver_section",
    "replace_key",
    "resolve_data_dir",
    "validate",
]
