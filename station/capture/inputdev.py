"""Linux input devices (``/dev/input/event*``) read with the standard library alone.

Foot pedals, presenters and camera remotes present themselves as keyboards, so a
pedal press arrives like any key: a ``struct input_event`` record on the device's
event node. That record is a fixed, stable part of the kernel ABI (``linux/input.h``):
a ``struct timeval`` (two C longs), then type, code (16 bits each) and value (32
bits), 24 bytes on arm64 and amd64. Reading it with :mod:`struct` was chosen over
python-evdev: evdev is published on PyPI as source only, so every station would need
a compiler, kernel headers and python3-dev to install it (Debian's python3-evdev
reaches a virtual environment only with ``--system-site-packages``), while the
station needs just the records, one ioctl (EVIOCGRAB) and the device names and key
maps that sysfs already shows. The tests feed real records through a FIFO.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path

from station.core.errors import ConfigError

log = logging.getLogger(__name__)

SYSFS_INPUT = Path("/sys/class/input")
DEV_INPUT = Path("/dev/input")

#: struct input_event in the machine's native layout (see the module docstring).
INPUT_EVENT = struct.Struct("@llHHi")
EV_KEY = 0x01
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
#: ioctl EVIOCGRAB = _IOW('E', 0x90, int): the device's events go to us alone.
EVIOCGRAB = (1 << 30) | (struct.calcsize("i") << 16) | (ord("E") << 8) | 0x90
_LONG_BITS = struct.calcsize("l") * 8

#: Key codes of linux/input-event-codes.h that a pedal, presenter or remote sends.
KEY_CODES: dict[str, int] = {
    "KEY_ESC": 1,
    **{f"KEY_{digit}": code for code, digit in enumerate("1234567890", start=2)},
    "KEY_BACKSPACE": 14,
    "KEY_TAB": 15,
    **{f"KEY_{letter}": code for code, letter in enumerate("QWERTYUIOP", start=16)},
    "KEY_ENTER": 28,
    **{f"KEY_{letter}": code for code, letter in enumerate("ASDFGHJKL", start=30)},
    **{f"KEY_{letter}": code for code, letter in enumerate("ZXCVBNM", start=44)},
    "KEY_SPACE": 57,
    **{f"KEY_F{n}": 58 + n for n in range(1, 11)},
    "KEY_F11": 87,
    "KEY_F12": 88,
    "KEY_KPENTER": 96,
    "KEY_UP": 103,
    "KEY_PAGEUP": 104,
    "KEY_LEFT": 105,
    "KEY_RIGHT": 106,
    "KEY_DOWN": 108,
    "KEY_PAGEDOWN": 109,
    "KEY_VOLUMEDOWN": 114,
    "KEY_VOLUMEUP": 115,  # Bluetooth camera shutter remotes
    "KEY_NEXTSONG": 163,
    "KEY_PLAYPAUSE": 164,
    "KEY_PREVIOUSSONG": 165,
    **{f"BTN_{n}": 0x100 + n for n in range(10)},
    "BTN_LEFT": 0x110,
    "BTN_RIGHT": 0x111,
    "BTN_MIDDLE": 0x112,
}
KEY_NAMES = {code: name for name, code in KEY_CODES.items()}


def key_code(name: str) -> int:
    """The code of a key given by name (``KEY_B``) or number (``"48"``)."""
    text = name.strip().upper()
    if text in KEY_CODES:
        return KEY_CODES[text]
    if text.isdigit() and 0 < int(text) < 0x300:
        return int(text)
    raise ConfigError("triggers.bad_key", key=name)


def key_name(code: int) -> str:
    return KEY_NAMES.get(code, str(code))


@dataclass(frozen=True)
class InputDevice:
    """An event node and what it can send."""

    path: str
    name: str
    keys: frozenset[int]
    phys: str = ""  # e.g. "usb-0000:01:00.0-1.3/input0"

    def can_send(self, codes: set[int]) -> bool:
        return bool(self.keys & codes)


def list_input_devices(sysfs: Path = SYSFS_INPUT, dev: Path = DEV_INPUT) -> list[InputDevice]:
    """Every event node with keys; empty when there is none or no sysfs."""
    try:
        nodes = sorted(sysfs.glob("event*"), key=lambda p: int(p.name[5:] or 0))
    except (OSError, ValueError):
        return []
    found = []
    for node in nodes:
        keys = parse_key_bitmap(_read(node / "device" / "capabilities" / "key"))
        if keys:
            name = _read(node / "device" / "name") or node.name
            phys = _read(node / "device" / "phys")
            found.append(InputDevice(str(dev / node.name), name, keys, phys))
    return found


def parse_key_bitmap(text: str) -> frozenset[int]:
    """Key codes from a sysfs capability bitmap: hex words, most significant first."""
    codes: set[int] = set()
    for index, word in enumerate(reversed(text.split())):
        try:
            value = int(word, 16)
        except ValueError:
            return frozenset()
        codes.update(index * _LONG_BITS + bit for bit in range(_LONG_BITS) if value >> bit & 1)
    return frozenset(codes)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
