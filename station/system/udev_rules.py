"""The udev rules that give the station's user its scanners, cameras and pedals.

``systemd/60-ledger-station.rules`` is made from the USB table
(``config/usb_devices.toml``) by this module, and a test keeps the two in step:
``python -m station.system.udev_rules > systemd/60-ledger-station.rules``. A province with
its own table (``usb.devices_file``) makes its rules with ``--devices-file FILE``.

libsane1's own rules already give group ``scanner`` to every scanner SANE knows, and
Debian gives ``video`` the cameras and ``input`` the key devices; these rules add the
devices our table knows beyond SANE's list (Brother's scanners, whose driver comes
from the vendor) and restate the rest, so a station works where the defaults differ.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from station.capture.usb_table import DeviceTable, Match

HEADER = """\
# ledger-station: access to scanners, cameras and foot pedals for the station's user
# (the service has SupplementaryGroups=scanner video input plugdev).
# Installed as /etc/udev/rules.d/60-ledger-station.rules by scripts/install.sh.
# Made from config/usb_devices.toml: python -m station.system.udev_rules > this file
ACTION=="remove", GOTO="ledger_station_end"
"""

FOOTER = """\
# Cameras: UVC document cameras and overhead book scanners (/dev/video*, /dev/media*).
SUBSYSTEM=="video4linux", GROUP="video", MODE="0660"
SUBSYSTEM=="media", GROUP="video", MODE="0660"

LABEL="ledger_station_end"
"""


def _usb_match(usb_id: str, attrs: str) -> str:
    vendor, product = usb_id.split(":")
    text = f'{attrs}{{idVendor}}=="{vendor}"'
    return text if product == "*" else f'{text}, {attrs}{{idProduct}}=="{product}"'


def _scanner_rule(usb_id: str, match: Match) -> list[str]:
    # libusb opens the whole device: /dev/bus/usb/BBB/DDD.
    device = _usb_match(usb_id, "ATTR")
    return [
        f"# {match.label}",
        f'SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", {device}, GROUP="scanner", MODE="0660"',
    ]


def _pedal_rule(usb_id: str, match: Match) -> list[str]:
    # The station reads the pedal's key events from /dev/input/event*.
    device = _usb_match(usb_id, "ATTRS")
    return [
        f"# {match.label}",
        f'SUBSYSTEM=="input", KERNEL=="event*", {device}, GROUP="input", MODE="0660"',
    ]


def render(table: DeviceTable) -> str:
    """The rules file for every scanner and pedal of ``table``, in a stable order."""
    vendors = {f"{vendor}:*": match for vendor, match in table.vendors.items()}
    devices = sorted({**vendors, **table.exact}.items())
    scanners = [line for i, m in devices if m.driver == "sane" for line in _scanner_rule(i, m)]
    pedals = [line for i, m in devices if m.driver == "trigger" for line in _pedal_rule(i, m)]
    parts = [HEADER, "# Scanners: libusb opens the device node /dev/bus/usb/BBB/DDD.", *scanners]
    parts += ["", "# Foot pedals: keyboards to the computer; the station reads their keys."]
    parts += [*pedals, "", FOOTER]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices-file", type=Path, help="a province's extra USB table")
    args = parser.parse_args(argv)
    sys.stdout.write(render(DeviceTable.load(args.devices_file, hwdb=None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
