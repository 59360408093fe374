"""The address a phone reaches the station at, and the QR code that carries it.

The station's own screen talks to the web server on loopback, which no phone can
reach. A phone needs the web server's address on the office LAN: the configured
``[web] host`` when it is one address, or, when the server listens on every
interface (``0.0.0.0``), an address of a LAN interface (``[lan] interfaces``, or
every interface that is not loopback or virtual, as for the zeroconf announcement).
A server listening on loopback only cannot be reached by phones at all; the screen
says so instead of showing a code that leads nowhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import segno

from station.core.config import Config
from station.lan.interfaces import Address, lan_addresses

#: Listening addresses that mean "every interface".
ANY = ("", "0.0.0.0", "::")


def station_base_url(config: Config, addresses: Iterable[Address] | None = None) -> str | None:
    """``http://<LAN address>:<port>`` of the web server, or None when phones cannot
    reach it (loopback only, or no LAN address yet). ``addresses`` are the LAN
    interfaces' addresses (listed now when None)."""
    host = config.web.host.strip()
    if host not in ANY:
        if _is_loopback(host):
            return None
        return _url(host, config.web.port)
    found = list(lan_addresses(config.lan.interfaces) if addresses is None else addresses)
    usable = [a.ip for a in found if not _is_loopback(a.ip)]
    if not usable:
        return None
    # A link-local address (169.254/16) is what a PC cabled straight to the station
    # has; a phone on the office Wi-Fi never does, so any other address comes first.
    usable.sort(key=lambda ip: ipaddress.ip_address(ip).is_link_local)
    return _url(usable[0], config.web.port)


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an inline ``<svg>`` that scales to its box."""
    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr"
    )
    return svg


def _url(host: str, port: int) -> str:
    try:
        is_v6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_v6 = False  # a host name
    return f"http://[{host}]:{port}" if is_v6 else f"http://{host}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
