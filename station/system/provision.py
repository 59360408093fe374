"""Fleet provisioning: one station's settings, without secrets, applied to others.

A technician sets one station up, exports its settings (``station provision export
FILE``) and applies the file to each new station: from the shell (``station
provision FILE``), from a USB stick (a file named ``ledger-station-provision.toml``
at the top of a mounted stick, ``station provision apply --usb``), or by upload in
the first-boot wizard (:func:`read` then :func:`apply`).

The file is TOML::

    [provision]
    format = "ledger-station-provision"
    version = 1
    exported_at = "2026-11-21T09:30:00Z"   # informational, like the keys below
    from_station = "st-1a2b3c4d5e6f"
    from_name = "Trạm 1"
    software = "0.1.0"

    [settings]            # station.toml's keys that differ from the defaults
    [settings.station]
    office_code = "xa-dong-hoa"
    ...

What differs between stations never travels: the station's id and name, its data
folder and the device it opened (:data:`IDENTITY_KEYS`); applying keeps the target's
own values of those unless given explicitly (the wizard's station name). Secrets
(PIN hashes, pairing tokens, TLS keys) live in the data folder, not in station.toml,
so they cannot leak into the file; a key whose name says it is one is refused anyway.
Applying *replaces* every other setting, so two stations provisioned from one file
have the same settings, whatever either had before.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from station import __version__
from station.core import config, config_write, messages
from station.core.errors import ConfigError
from station.core.messages import N_
from station.core.models import utc_now

log = logging.getLogger(__name__)

FORMAT = "ledger-station-provision"
VERSION = 1
#: The name a provisioning file has on a USB stick.
USB_FILE_NAME = "ledger-station-provision.toml"
#: Where removable media are mounted: udisks (desktops) and by hand or by usbmount.
USB_PATTERNS = ("/media/*/", "/media/*/*/", "/run/media/*/*/", "/mnt/*/")
#: Keys that belong to one station and are neither exported nor overwritten.
IDENTITY_KEYS = ("station.id", "station.name", "storage.data_dir", "capture.device_id")
#: Header keys besides format and version; informational only.
HEADER_KEYS = ("exported_at", "from_station", "from_name", "software")
#: A key is a secret when a word of its name is one of these (or it ends in _hash).
_SECRET_WORDS = re.compile(r"(^|_)(pin|secret|token|tokens|password|passphrase|private)(_|$)")


class ProvisionError(ConfigError):
    """A provisioning file that cannot be applied; the message names the key and why."""

    default_key = N_("provision.unreadable")

    def __init__(
        self,
        key: str | None = None,
        /,
        reason: str = "",
        reason_values: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        self.reason, self.reason_values = reason, reason_values or {}
        super().__init__(key, **values)

    def message(self, lang: str = "vi") -> str:
        """The message in ``lang``, with the reason in the same language."""
        values = dict(self.values)
        if self.reason:
            values["reason"] = messages.render(self.reason, lang, **self.reason_values)
        return messages.render(self.key, lang, **values)


@dataclass(frozen=True)
class Provisioning:
    """A checked provisioning file: its header and its (nested) settings."""

    source: str
    version: int
    settings: dict[str, Any]
    header: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> config.Config:
        """The settings over the defaults (validated when the file was read)."""
        return config.validate(self.settings, f"{self.source} [settings]")


@dataclass(frozen=True)
class Change:
    key: str
    old: Any
    new: Any


# --- export -----------------------------------------------------------------------------


def is_secret(dotted: str) -> bool:
    """Whether a key's name says it holds a secret (``admin.pin_hash``, ``lan.token``...)."""
    name = dotted.rsplit(".", 1)[-1]
    return name.endswith("_hash") or _SECRET_WORDS.search(name) is not None


def flatten(cfg: config.Config) -> dict[str, Any]:
    """Every key of ``cfg`` as ``{"section.key": value}``, lists as lists (as in TOML)."""
    values: dict[str, Any] = {}
    for dotted, _default, _doc in config.describe():
        node = config.get_key(cfg, dotted)
        values[dotted] = list(node) if isinstance(node, tuple) else node
    return values


def shared_settings(cfg: config.Config) -> dict[str, Any]:
    """The keys of ``cfg`` that differ from the defaults, minus identity and secrets."""
    defaults = flatten(config.Config())
    data: dict[str, Any] = {}
    for dotted, value in flatten(cfg).items():
        if dotted in IDENTITY_KEYS or is_secret(dotted) or value == defaults[dotted]:
            continue
        config_write.set_key(data, dotted, value)
    return data


def export(cfg: config.Config, station_id: str = "") -> str:
    """The provisioning file for ``cfg``'s settings, as TOML text."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utc_now(),
        "from_station": station_id,
        "from_name": cfg.station.name,
        "software": __version__,
    }
    document = {"provision": header, "settings": shared_settings(cfg)}
    intro = (
        "# ledger-station provisioning file. Apply it with 'station provision FILE', from\n"
        f"# a USB stick as {USB_FILE_NAME}, or in the first-boot wizard.\n"
        "# It holds no secrets and nothing that must differ between stations\n"
        "# (id, name, data folder, device).\n\n"
    )
    return intro + config_write.dumps(document)


def count_keys(settings: Mapping[str, Any]) -> int:
    return sum(count_keys(v) if isinstance(v, Mapping) else 1 for v in settings.values())


# --- reading and applying ----------------------------------------------------------------


def parse(text: str, source: str) -> Provisioning:
    """Check a provisioning file's text (TOML, or JSON of the same shape)."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ProvisionError("provision.unreadable", source=source, detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise ProvisionError("provision.not_provisioning", source=source, format=FORMAT)
    header = data.get("provision")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ProvisionError("provision.not_provisioning", source=source, format=FORMAT)
    _check_known(data, ("provision", "settings"), "", source)
    _check_known(header, ("format", "version", *HEADER_KEYS), "provision.", source)
    version = _check_header(header, source)
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        _refuse(source, "settings", settings, "provision.reason_table")
    _check_settings(settings, source)
    provisioning = Provisioning(
        source, version, settings, {k: str(header[k]) for k in HEADER_KEYS if k in header}
    )
    provisioning.config  # noqa: B018  (validates, naming every bad key)
    return provisioning


def read(path: Path) -> Provisioning:
    """Read and check the provisioning file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvisionError("provision.unreadable", source=str(path), detail=str(exc)) from exc
    return parse(text, str(path))


def _refuse(source: str, key: str, value: Any, reason: str, **values: Any) -> NoReturn:
    raise ProvisionError(
        "provision.bad_key",
        reason=reason,
        reason_values=values,
        source=source,
        key=key,
        value=repr(value),
    )


def _check_known(data: dict[str, Any], known: Sequence[str], prefix: str, source: str) -> None:
    for key, value in data.items():
        if key not in known:
            _refuse(source, prefix + key, value, "provision.reason_unknown", known=", ".join(known))


def _check_header(header: dict[str, Any], source: str) -> int:
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _refuse(source, "provision.version", version, "provision.reason_whole_number")
    if version > VERSION:
        _refuse(source, "provision.version", version, "provision.reason_version", supported=VERSION)
    for key in HEADER_KEYS:
        if key in header and not isinstance(header[key], str):
            _refuse(source, f"provision.{key}", header[key], "provision.reason_text")
    return version


def _check_settings(settings: dict[str, Any], source: str, prefix: str = "") -> None:
    for key, value in settings.items():
        dotted = prefix + key
        if isinstance(value, dict):
            _check_settings(value, source, dotted + ".")
        elif dotted in IDENTITY_KEYS:
            _refuse(source, "settings." + dotted, value, "provision.reason_identity")
        elif is_secret(dotted):
            _refuse(source, "settings." + dotted, "…", "provision.reason_secret")


def apply(
    provisioning: Provisioning,
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[Change]:
    """Write ``provisioning``'s settings to the configuration file, atomically.

    The target keeps its own identity keys (unless ``overrides`` gives them, e.g.
    ``{"station.name": "Trạm 3"}``); every other key becomes the file's. Returns the
    changes to the effective settings (environment overrides aside).
    """
    target = config_write.target_path(path)
    current = config_write.read_data(target)
    before = _effective(current)
    data: dict[str, Any] = json.loads(json.dumps(provisioning.settings))  # a deep copy
    flat_current = _flat_data(current)
    for dotted in IDENTITY_KEYS:
        if dotted in flat_current:
            config_write.set_key(data, dotted, flat_current[dotted])
    for dotted, value in (overrides or {}).items():
        config_write.set_key(data, dotted, value)
    written = config_write.write_config(data, target, f"provisioned from {provisioning.source}")
    after = flatten(written)
    return [Change(k, before.get(k), v) for k, v in after.items() if before.get(k) != v]


def _flat_data(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flat_data(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _effective(data: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a file's data gives; the defaults when it does not validate."""
    try:
        return flatten(config.validate(data))
    except ConfigError:
        return flatten(config.Config())


def find_on_usb(patterns: Sequence[str] = USB_PATTERNS) -> list[Path]:
    """Provisioning files at the top of mounted removable media, sorted."""
    found = {Path(p) for pattern in patterns for p in glob.glob(pattern + USB_FILE_NAME)}
    return sorted(path for path in found if path.is_file())


# --- the command --------------------------------------------------------------------------


def command(args: argparse.Namespace) -> int:
    """``station provision``: export, or apply a file or the one on a USB stick."""
    words: list[str] = list(args.words)
    lang: str = args.lang
    if words[:1] == ["export"] and len(words) == 2:
        return _export_command(args.config, words[1], lang)
    if words[:1] == ["apply"]:
        words = words[1:]
    if len(words) > 1 or (not words and not args.usb) or (words and args.usb):
        raise ProvisionError("provision.usage")
    source = Path(words[0]) if words else _usb_file()
    overrides = {
        key: value
        for key, value in (
            ("station.name", args.name),
            ("station.office_code", args.office_code),
            ("station.office_name", args.office_name),
        )
        if value is not None
    }
    target = config_write.target_path(args.config)
    changes = apply(read(source), target, overrides)
    print(
        messages.render("provision.applied", lang, source=source, target=target, count=len(changes))
    )
    for change in changes:
        print(
            messages.render(
                "provision.change",
                lang,
                key=change.key,
                old=config_write.format_value(change.old),
                new=config_write.format_value(change.new),
            )
        )
    if changes:
        print(messages.render("provision.restart", lang))
    return 0


def _export_command(config_path: Path | None, destination: str, lang: str) -> int:
    cfg = config.load(config_path)
    text = export(cfg, _station_id(cfg))
    if destination == "-":
        print(text, end="")
        return 0
    path = Path(destination)
    path.write_text(text, encoding="utf-8")
    count = count_keys(shared_settings(cfg))
    print(messages.render("provision.exported", lang, path=path, count=count))
    return 0


def _station_id(cfg: config.Config) -> str:
    """The station's id, without making one (export must not write to the data folder)."""
    if cfg.station.id:
        return cfg.station.id
    try:
        return (cfg.data_dir / "station.id").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _usb_file() -> Path:
    found = find_on_usb()
    if not found:
        places = ", ".join(p + USB_FILE_NAME for p in USB_PATTERNS)
        raise ProvisionError("provision.usb_none", name=USB_FILE_NAME, places=places)
    if len(found) > 1:
        raise ProvisionError("provision.usb_many", paths=", ".join(map(str, found)))
    return found[0]
