"""Which network interfaces the station announces itself on.

Only the office LAN: never loopback, and never the virtual bridges and tunnels that
containers, virtual machines and VPNs add (an entry PC can reach none of them, and
announcing there would leak the station's name beyond the office). A technician can
name the interfaces instead (``[lan] interfaces``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: Name prefixes of virtual interfaces skipped when no interface is configured.
VIRTUAL_PREFIXES = (
    "docker",
    "br-",
    "veth",
    "virbr",
    "vnet",
    "lxcbr",
    "lxdbr",
    "cni",
    "flannel",
    "cali",
    "podman",
    "tun",
    "tap",
    "wg",
    "zt",
    "tailscale",
)


@dataclass(frozen=True, order=True)
class Address:
    """One IPv4 address of one interface."""

    interface: str
    ip: str


def lan_addresses(
    wanted: Iterable[str] = (), adapters: Iterable[Any] | None = None
) -> list[Address]:
    """IPv4 addresses to announce on: of the ``wanted`` interfaces, or of every LAN one.

    ``adapters`` are ifaddr adapters (listed now when None; tests pass their own).
    """
    if adapters is None:
        import ifaddr  # zeroconf's own dependency

        adapters = ifaddr.get_adapters()
    names = tuple(wanted)
    found = []
    for adapter in adapters:
        name = str(adapter.nice_name or adapter.name)
        if names and name not in names and str(adapter.name) not in names:
            continue
        if not names and is_virtual(name):
            continue
        found += [Address(name, ip) for ip in _ipv4(adapter, loopback=bool(names))]
    missing = set(names) - {a.interface for a in found}
    if missing:
        log.warning("interfaces %s have no IPv4 address (yet)", ", ".join(sorted(missing)))
    return sorted(set(found))


def is_virtual(name: str) -> bool:
    """Whether an interface name belongs to a container, VM or VPN bridge."""
    return name == "lo" or name.startswith(VIRTUAL_PREFIXES)


def _ipv4(adapter: Any, loopback: bool) -> list[str]:
    """The adapter's IPv4 addresses; link-local ones too (a PC cabled straight to the
    station has nothing else), loopback only when the interface was named."""
    ips = []
    for entry in adapter.ips:
        if not isinstance(entry.ip, str):
            continue  # IPv6 entries are (address, flowinfo, scope) tuples
        address = ipaddress.IPv4Address(entry.ip)
        if address.is_unspecified or (address.is_loopback and not loopback):
            continue
        ips.append(str(address))
    return ips


def is_loopback(address: str | None) -> bool:
    """Whether a peer address is this machine (IPv4, IPv6 or IPv4-mapped IPv6)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback
