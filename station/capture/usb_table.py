"""Which driver applies to a USB device: the known-devices table and SANE's own list.

The table is data (``config/usb_devices.toml``; its header documents the format), so a
new scanner model is a line of TOML, not code. SANE's list of every scanner it supports
is read from the udev hwdb file that Debian's libsane1 installs, so a scanner missing
from our table is still recognised, with its model name.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import ConfigError

log = logging.getLogger(__name__)

#: Where libsane1 puts its hwdb on Debian, before and after the /usr merge.
SANE_HWDB = (
    Path("/usr/lib/udev/hwdb.d/20-sane.hwdb"),
    Path("/lib/udev/hwdb.d/20-sane.hwdb"),
)
KINDS = ("scanner", "camera", "pedal")
DRIVERS = ("sane", "camera", "trigger")
_USB_ID = re.compile(r"^([0-9a-f]{4}):([0-9a-f]{4}|\*)$")
_HWDB_LINE = re.compile(r"^usb:v([0-9A-Fa-f]{4})p([0-9A-Fa-f]{4})\*$")


@dataclass(frozen=True)
class UsbDescriptor:
    """What enumeration tells about one USB device, independent of pyusb."""

    vendor: int
    product: int
    bus: int = 0
    address: int = 0
    device_class: int = 0
    #: (class, subclass, protocol) of every interface of every configuration.
    interfaces: tuple[tuple[int, int, int], ...] = ()
    manufacturer: str = ""
    product_name: str = ""

    @property
    def usb_id(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"

    @property
    def location(self) -> str:
        """Bus and address, which change when the device is plugged in again."""
        return f"{self.bus:03d}/{self.address:03d}"


@dataclass(frozen=True)
class Match:
    """What the station makes of a device."""

    kind: str
    label: str
    driver: str
    backend: str = ""
    note: str = ""
    source: str = "table"  # "table", "sane", "class"


@dataclass(frozen=True)
class Recognised:
    """A device and what it was recognised as (None: unknown)."""

    device: UsbDescriptor
    match: Match | None

    @property
    def label(self) -> str:
        """The table's name; a class match ("USB camera") adds the device's own name."""
        names = " ".join(n for n in (self.device.manufacturer, self.device.product_name) if n)
        if self.match is None:
            return names or self.device.usb_id
        if self.match.source == "class" and names:
            return f"{names} ({self.match.label})"
        return self.match.label

    def to_dict(self) -> dict[str, Any]:
        """For the UI, the API and ``station doctor --json``."""
        device = self.device
        return {
            "usb_id": device.usb_id,
            "location": device.location,
            "label": self.label,
            "manufacturer": device.manufacturer,
            "product": device.product_name,
            "kind": self.match.kind if self.match else "",
            "driver": self.match.driver if self.match else "",
            "backend": self.match.backend if self.match else "",
            "note": self.match.note if self.match else "",
            "source": self.match.source if self.match else "",
        }


@dataclass(frozen=True)
class _ClassRule:
    interface_class: int
    subclass: int | None
    protocol: int | None
    match: Match

    def applies(self, interface: tuple[int, int, int]) -> bool:
        cls, sub, proto = interface
        return (
            cls == self.interface_class
            and self.subclass in (None, sub)
            and self.protocol in (None, proto)
        )


class DeviceTable:
    """Recognises devices; see the header of ``config/usb_devices.toml`` for the order."""

    def __init__(
        self,
        exact: dict[str, Match],
        vendors: dict[str, Match],
        classes: list[_ClassRule],
        sane: dict[str, str],
    ) -> None:
        self.exact, self.vendors, self.classes, self.sane = exact, vendors, classes, sane

    @classmethod
    def load(
        cls, extra: Path | None = None, hwdb: tuple[Path, ...] | None = SANE_HWDB
    ) -> DeviceTable:
        """The built-in table, then ``extra`` (its entries win), and SANE's hwdb."""
        builtin = importlib.resources.files("station.defaults") / "usb_devices.toml"
        table = cls({}, {}, [], {})
        table._add(builtin.read_text(encoding="utf-8"), "usb_devices.toml")
        if extra is not None:
            try:
                text = extra.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError("usb.bad_table", path=str(extra), detail=str(exc)) from exc
            table._add(text, str(extra), first=True)
        for path in hwdb or ():
            if path.exists():
                table.sane = read_sane_hwdb(path)
                break
        return table

    def match(self, device: UsbDescriptor) -> Match | None:
        """What ``device`` is, or None when nothing knows it."""
        found = self.exact.get(device.usb_id)
        if found is not None:
            return found
        label = self.sane.get(device.usb_id)
        if label is not None:
            return Match("scanner", label, "sane", source="sane")
        found = self.vendors.get(f"{device.vendor:04x}")
        if found is not None:
            return found
        for rule in self.classes:
            if any(rule.applies(interface) for interface in device.interfaces):
                return rule.match
        return None

    def recognise(self, device: UsbDescriptor) -> Recognised:
        return Recognised(device, self.match(device))

    def _add(self, text: str, path: str, first: bool = False) -> None:
        try:
            data = tomllib.loads(text)
            unknown = set(data) - {"device", "class"}
            if unknown:
                raise ValueError(f"unknown tables {sorted(unknown)}")
            classes = [_class_rule(entry) for entry in data.get("class", [])]
            for entry in data.get("device", []):
                usb_id, match = _device_entry(entry)
                vendor, product = usb_id.split(":")
                if product == "*":
                    self.vendors[vendor] = match
                else:
                    self.exact[usb_id] = match
        except (tomllib.TOMLDecodeError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError("usb.bad_table", path=path, detail=str(exc)) from exc
        self.classes = classes + self.classes if first else self.classes + classes


def _match(entry: dict[str, Any], allowed: set[str], source: str) -> Match:
    unknown = set(entry) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in {entry}")
    kind, driver = entry["kind"], entry["driver"]
    if kind not in KINDS or driver not in DRIVERS:
        raise ValueError(f"kind must be one of {KINDS}, driver one of {DRIVERS}: {entry}")
    return Match(
        kind,
        str(entry["label"]),
        driver,
        str(entry.get("backend", "")),
        str(entry.get("note", "")),
        source,
    )


def _device_entry(entry: dict[str, Any]) -> tuple[str, Match]:
    usb_id = str(entry.get("usb", "")).lower()
    if not _USB_ID.match(usb_id):
        raise ValueError(f"usb = {entry.get('usb')!r} is not 'vvvv:pppp' or 'vvvv:*'")
    keys = {"usb", "kind", "label", "driver", "backend", "note"}
    return usb_id, _match(entry, keys, "table")


def _class_rule(entry: dict[str, Any]) -> _ClassRule:
    keys = {"class", "subclass", "protocol", "kind", "label", "driver", "backend", "note"}
    match = _match(entry, keys, "class")
    numbers = [entry.get(name) for name in ("class", "subclass", "protocol")]
    if not all(n is None or (isinstance(n, int) and 0 <= n <= 255) for n in numbers):
        raise ValueError(f"class, subclass and protocol must be 0-255: {entry}")
    if numbers[0] is None:
        raise ValueError(f"a [[class]] needs class: {entry}")
    return _ClassRule(numbers[0], numbers[1], numbers[2], match)


def read_sane_hwdb(path: Path) -> dict[str, str]:
    """``vvvv:pppp`` -> model names, from SANE's hwdb (the comment block above each id)."""
    found: dict[str, str] = {}
    comments: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        log.warning("cannot read SANE's device list %s: %s", path, exc)
        return found
    for raw in lines:
        line = raw.strip()
        hit = _HWDB_LINE.match(line)
        if hit:
            usb_id = f"{hit.group(1)}:{hit.group(2)}".lower()
            found.setdefault(usb_id, " | ".join(comments) or "SANE scanner")
            comments = []
        elif line.startswith("# "):
            comments.append(line[2:].strip())
        elif line in ("", "#"):
            comments = []
    return found
