"""Finding stations on the LAN with zeroconf (mDNS/DNS-SD).

A station announces ``_ledgerstation._tcp.local.`` with TXT records: id, name, office,
api, fp (certificate fingerprint), path and tls. The browser keeps running for the
whole life of ``station-collect run``, so a station that reboots or changes address is
found again by itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

from station.collector.client import API_PATH, Address, is_fingerprint
from station.collector.paths import safe_id

log = logging.getLogger(__name__)

SERVICE_TYPE = "_ledgerstation._tcp.local."
API_VERSION = "1"
RESOLVE_MS = 3000


@dataclass(frozen=True)
class Advert:
    """One station as announced on the network."""

    service: str
    id: str
    name: str
    office: str
    fingerprint: str
    path: str
    addresses: tuple[Address, ...]


def advert_from(
    service: str, txt: Mapping[str, str | None], addresses: Iterable[str], port: int
) -> Advert | None:
    """The advert in a resolved service, or None if it is not a usable API v1 station."""
    station_id = txt.get("id") or ""
    fingerprint = (txt.get("fp") or "").lower()
    if txt.get("api") != API_VERSION or txt.get("tls", "1") != "1":
        log.debug("%s: not an API v%s TLS station (%s)", service, API_VERSION, dict(txt))
        return None
    if not safe_id(station_id) or not is_fingerprint(fingerprint) or not 0 < port < 65536:
        log.debug("%s: unusable TXT %s or port %d", service, dict(txt), port)
        return None
    # IPv4 first: link-local IPv6 needs a scope and entry PCs often lack IPv6 routes.
    ordered = sorted(set(addresses), key=lambda a: (":" in a, a))
    return Advert(
        service=service,
        id=station_id,
        name=txt.get("name") or station_id,
        office=txt.get("office") or "",
        fingerprint=fingerprint,
        path=txt.get("path") or API_PATH,
        addresses=tuple(Address(a, port) for a in ordered),
    )


class Discovery:
    """A running zeroconf browser and the stations it currently sees."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._on_change = on_change
        self._adverts: dict[str, Advert] = {}  # by service name
        self._changed = threading.Condition()
        self._zeroconf: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None

    def start(self) -> Discovery:
        """Open the mDNS sockets and start browsing."""
        self._zeroconf = Zeroconf()
        self._browser = ServiceBrowser(self._zeroconf, SERVICE_TYPE, handlers=[self._handle])
        return self

    def close(self) -> None:
        """Stop browsing and close the sockets; safe to call twice."""
        if self._browser is not None:
            self._browser.cancel()
            self._browser = None
        if self._zeroconf is not None:
            self._zeroconf.close()
            self._zeroconf = None

    def __enter__(self) -> Discovery:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _handle(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        advert = None
        if state_change is not ServiceStateChange.Removed:
            info = zeroconf.get_service_info(service_type, name, timeout=RESOLVE_MS)
            if info is not None and info.port:
                advert = advert_from(
                    name, info.decoded_properties, info.parsed_scoped_addresses(), info.port
                )
        with self._changed:
            if advert is None:
                gone = self._adverts.pop(name, None)
                if gone is not None:
                    log.info("station %s (%s) left the network", gone.name, gone.id)
            else:
                if self._adverts.get(name) != advert:
                    log.info(
                        "station %s (%s, office %s) at %s",
                        advert.name,
                        advert.id,
                        advert.office,
                        ", ".join(map(str, advert.addresses)),
                    )
                self._adverts[name] = advert
            self._changed.notify_all()
        if self._on_change is not None:
            self._on_change()

    def adverts(self) -> list[Advert]:
        """Every station seen and not withdrawn, by name."""
        with self._changed:
            return sorted(self._adverts.values(), key=lambda a: (a.name, a.id))

    def find(self, station_id: str) -> Advert | None:
        """The newest advert of ``station_id`` (a renamed service keeps its id)."""
        with self._changed:
            found = [a for a in self._adverts.values() if a.id == station_id]
        return found[-1] if found else None

    def wait(self, predicate: Callable[[list[Advert]], bool], timeout: float) -> bool:
        """Wait until ``predicate(adverts)`` holds, at most ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(
                lambda: predicate(sorted(self._adverts.values(), key=lambda a: a.name)), timeout
            )
