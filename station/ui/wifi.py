"""Wi-Fi from the first-boot wizard, through NetworkManager's ``nmcli`` where it exists.

Only listing networks and connecting to one are offered. Without ``nmcli`` (a machine
whose network is set up another way), the wizard says so and how to connect instead;
nothing is faked.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass

from station.core.errors import StationError
from station.core.messages import N_

log = logging.getLogger(__name__)

#: Seconds allowed for listing networks and for connecting.
LIST_TIMEOUT = 15
CONNECT_TIMEOUT = 45


class WifiError(StationError):
    """Wi-Fi could not be listed or joined."""

    exit_code = 69
    default_key = N_("wifi.failed")
    http_status = 502


@dataclass(frozen=True)
class Network:
    """A Wi-Fi network in range."""

    ssid: str
    signal: int
    secured: bool


def available() -> bool:
    """Whether Wi-Fi can be managed from here (``nmcli`` is installed)."""
    return shutil.which("nmcli") is not None


def _run(args: list[str], timeout: float) -> str:
    if not available():
        raise WifiError("wifi.unavailable")
    try:
        done = subprocess.run(
            ["nmcli", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WifiError(ssid="", detail=str(exc)) from exc
    if done.returncode != 0:
        raise WifiError(ssid="", detail=(done.stderr or done.stdout).strip()[:200])
    return done.stdout


def split_terse(line: str) -> list[str]:
    """Fields of one line of ``nmcli -t`` output (``:`` separates, ``\\:`` is a colon)."""
    fields, current, escaped = [], "", False
    for char in line:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append(current)
            current = ""
        else:
            current += char
    fields.append(current)
    return fields


def networks() -> list[Network]:
    """Networks in range, strongest first, one line per name."""
    out = _run(["-t", "-f", "SSID,SIGNAL,SECURITY", "device", "wifi", "list"], LIST_TIMEOUT)
    found: dict[str, Network] = {}
    for line in out.splitlines():
        parts = split_terse(line)
        if len(parts) < 3 or not parts[0]:
            continue
        signal = int(parts[1]) if parts[1].isdigit() else 0
        network = Network(parts[0], signal, parts[2] not in ("", "--"))
        if parts[0] not in found or found[parts[0]].signal < signal:
            found[parts[0]] = network
    return sorted(found.values(), key=lambda n: -n.signal)


def connect(ssid: str, password: str) -> None:
    """Join ``ssid``; the password goes to nmcli as an argument of its own."""
    args = ["device", "wifi", "connect", ssid]
    if password:
        args += ["password", password]
    try:
        _run(args, CONNECT_TIMEOUT)
    except WifiError as exc:
        if exc.key == "wifi.failed":
            raise WifiError(ssid=ssid, detail=exc.values.get("detail", "")) from exc
        raise
