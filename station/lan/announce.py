"""The station's zeroconf announcement (mDNS/DNS-SD), in the manner of OctoPrint.

Registered at start, withdrawn at stop, on the LAN interfaces only
(:mod:`station.lan.interfaces`). Two services carry the same instance name: our own
type, whose TXT records tell collectors everything they need before connecting (id,
name, office, API version and path, and the TLS certificate's fingerprint), and
``_http._tcp`` for people browsing the network.

Several stations in one office may carry the same name. Before registering, the
announcer listens briefly for stations already announced (so python-zeroconf's probe
sees them in its cache) and takes the first free name of "Name", "Name (2)",
"Name (3)"... A thread re-reads the interfaces every ``recheck_seconds`` and
announces again when the addresses change (a DHCP lease arriving after boot, a
cable plugged in later).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from station import __version__
from station.core.models import StationInfo
from station.lan.interfaces import Address, lan_addresses

if TYPE_CHECKING:
    from zeroconf import ServiceInfo, Zeroconf

log = logging.getLogger(__name__)

SERVICE_TYPE = "_ledgerstation._tcp.local."
HTTP_TYPE = "_http._tcp.local."
API_VERSION = 1
API_PATH = "/api/v1"
#: A DNS-SD instance name is one DNS label (63 bytes); room is kept for " (NN)".
MAX_NAME_BYTES = 56
MAX_RENAMES = 50


def txt_records(info: StationInfo, fingerprint: str) -> dict[str, str]:
    """The TXT records of our service type (docs/api.md lists them)."""
    return {
        "id": info.id,
        "name": _clip(info.name, 200),
        "office": _clip(info.office_code, 200),
        "api": str(API_VERSION),
        "path": API_PATH,
        "tls": "1",
        "fp": fingerprint,
        "version": __version__,
    }


def instance_name(name: str, attempt: int) -> str:
    """The instance name of the ``attempt``-th try: "Name", then "Name (2)"..."""
    base = _clip(name.strip() or "ledger-station", MAX_NAME_BYTES).replace(".", " ")
    return base if attempt <= 1 else f"{base} ({attempt})"


def host_label(station_id: str) -> str:
    """The mDNS host name the services point to: ours alone, so it never clashes with
    the machine's own name that avahi may announce with other addresses."""
    label = re.sub(r"[^a-z0-9-]+", "-", f"ledger-{station_id}".lower()).strip("-")
    return label[:63] or "ledger-station"


class Announcer:
    """Announces one station while running; ``registered`` is set once it is visible."""

    def __init__(
        self,
        info: StationInfo,
        port: int,
        fingerprint: str,
        interfaces: Iterable[str] = (),
        *,
        recheck_seconds: float = 30.0,
        settle_seconds: float = 3.0,
        list_addresses: Callable[[tuple[str, ...]], list[Address]] = lan_addresses,
    ) -> None:
        self.info = info
        self.port = port
        self.fingerprint = fingerprint
        self.interfaces = tuple(interfaces)
        self.recheck_seconds = recheck_seconds
        self.settle_seconds = settle_seconds
        self._list_addresses = list_addresses
        self.registered = threading.Event()
        self.name = ""  # the instance name in use, once registered
        self.state = "waiting"
        self._addresses: list[Address] = []
        self._zeroconf: Zeroconf | None = None
        self._services: list[ServiceInfo] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_problem = ""

    def start(self) -> None:
        """Announce in the background (the network may not be up yet)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lan-announce", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Withdraw the announcement (goodbye packets) and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self._withdraw()
        self.state = "off"

    def status(self) -> dict[str, Any]:
        """State, name and addresses, for the status page."""
        return {
            "state": self.state,
            "name": self.name,
            "addresses": [a.ip for a in self._addresses],
            "port": self.port,
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow_addresses()
            except Exception as exc:  # zeroconf and sockets: keep trying, say it once
                self.state = "error"
                self._problem(f"{type(exc).__name__}: {exc}")
                self._withdraw()
            self._stop.wait(self.recheck_seconds)

    def _follow_addresses(self) -> None:
        addresses = self._list_addresses(self.interfaces)
        if addresses == self._addresses and (self._zeroconf is not None or not addresses):
            return
        self._withdraw()
        self._addresses = addresses
        if not addresses:
            self.state = "waiting"
            self._problem("no LAN interface with an IPv4 address")
            return
        self._announce(addresses)

    def _announce(self, addresses: list[Address]) -> None:
        from zeroconf import IPVersion, Zeroconf

        self._zeroconf = Zeroconf(interfaces=[a.ip for a in addresses], ip_version=IPVersion.V4Only)
        taken = self._names_in_use(self._zeroconf)
        if self._stop.is_set():
            return
        own = self._register_own(self._zeroconf, addresses, taken)
        http = self._service(HTTP_TYPE, self.name, addresses, {"path": "/", "tls": "1"})
        # The name was just proven unique among stations; probing it again under
        # _http._tcp would only add seconds before browsers see it.
        self._zeroconf.register_service(http, cooperating_responders=True)
        self._services = [own, http]
        self.state = "announced"
        self._last_problem = ""
        self.registered.set()
        log.info(
            "announced as %r on %s port %d",
            self.name,
            ", ".join(f"{a.interface} {a.ip}" for a in addresses),
            self.port,
        )

    def _names_in_use(self, zeroconf: Zeroconf) -> set[str]:
        """Listen for stations already announced, so their names land in the cache."""
        from zeroconf import ServiceBrowser, ServiceStateChange

        seen: set[str] = set()

        def on_change(
            zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
        ) -> None:
            seen.add(name.lower())

        browser = ServiceBrowser(zeroconf, SERVICE_TYPE, handlers=[on_change])
        try:
            self._stop.wait(self.settle_seconds)
        finally:
            browser.cancel()
        return seen

    def _register_own(
        self, zeroconf: Zeroconf, addresses: list[Address], taken: set[str]
    ) -> ServiceInfo:
        from zeroconf import NonUniqueNameException

        for attempt in range(1, MAX_RENAMES + 1):
            name = instance_name(self.info.name, attempt)
            if f"{name}.{SERVICE_TYPE}".lower() in taken:
                continue
            txt = txt_records(self.info, self.fingerprint)
            service = self._service(SERVICE_TYPE, name, addresses, txt)
            try:
                zeroconf.register_service(service)
            except NonUniqueNameException:
                log.info("the name %r is taken on the LAN; trying another", name)
                continue
            self.name = name
            return service
        raise RuntimeError(f"no free instance name after {MAX_RENAMES} tries")

    def _service(
        self, kind: str, name: str, addresses: list[Address], txt: dict[str, str]
    ) -> ServiceInfo:
        from zeroconf import ServiceInfo

        return ServiceInfo(
            kind,
            f"{name}.{kind}",
            addresses=[socket.inet_aton(a.ip) for a in addresses],
            port=self.port,
            properties=txt,
            server=f"{host_label(self.info.id)}.local.",
        )

    def _withdraw(self) -> None:
        zeroconf, self._zeroconf = self._zeroconf, None
        services, self._services = self._services, []
        self.registered.clear()
        if zeroconf is None:
            return
        try:
            for service in services:
                zeroconf.unregister_service(service)
            if services:
                log.info("announcement %r withdrawn", self.name)
        finally:
            zeroconf.close()

    def _problem(self, text: str) -> None:
        """Log a fault once; the same fault again stays quiet (the status shows it)."""
        if text != self._last_problem:
            log.warning("zeroconf announcement: %s", text)
            self._last_problem = text


def _clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")
