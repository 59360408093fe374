"""The station's LAN service: certificate, TLS listener, announcement and their data.

:class:`station.app.station.Station` owns one :class:`LanService`. Its databases
(pairing, acknowledgements, rescans) are there whether or not the LAN is enabled, so
the loopback UI and the CLI can always list and decide; :meth:`LanService.start`
(called by ``Station.start`` when ``[lan] enabled``) adds the TLS listener and the
zeroconf announcement. A listener that cannot start (port taken) is reported on the
status page and in the log; the station keeps scanning.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from station.core import messages
from station.core.config import LanSection
from station.core.models import StationInfo
from station.lan.acks import Acks
from station.lan.announce import Announcer, host_label
from station.lan.db import LanDB
from station.lan.errors import LanError
from station.lan.files import Verifier
from station.lan.interfaces import lan_addresses
from station.lan.pairing import Collector, Pairing
from station.lan.rescans import Rescans
from station.lan.server import TlsListener, lan_gate
from station.lan.tls import Certificate, default_hostnames, ensure_certificate, read_certificate
from station.store import Store
from station.store.counts import count_entries

log = logging.getLogger(__name__)


class LanService:
    """Everything the station does for entry PCs."""

    def __init__(
        self, settings: LanSection, data_dir: Path, info: StationInfo, store: Store
    ) -> None:
        """``info`` is the station's own record (its name may change while running);
        ``store`` holds the books and files the API serves."""
        self.settings = settings
        self.info = info
        self.store = store
        self.db = LanDB.for_data_dir(data_dir)
        self.pairing = Pairing(self.db)
        self.acks = Acks(self.db.folder / "acks")
        self.rescans = Rescans(self.db)
        self.verifier = Verifier()
        self.tls_dir = data_dir / "tls"
        self.certificate: Certificate | None = None
        #: The Flask app the listener serves (handed over by :meth:`start`); ``station
        #: serve`` serves the same app on loopback.
        self.app: Flask | None = None
        self.listener: TlsListener | None = None
        self.announcer: Announcer | None = None
        self.error: LanError | None = None

    @property
    def fingerprint(self) -> str:
        """The certificate's fingerprint ("" before the LAN first started)."""
        if self.certificate is None:
            self.certificate = read_certificate(self.tls_dir)
        return self.certificate.fingerprint if self.certificate else ""

    @property
    def port(self) -> int:
        """The TLS listener's port (0 when it is not running)."""
        return self.listener.port if self.listener else 0

    def start(self, app: Flask) -> None:
        """Make sure of the certificate, serve ``app`` with TLS, then announce."""
        info = self.info
        self.app = app
        try:
            addresses = [a.ip for a in lan_addresses(self.settings.interfaces)]
            hostnames = default_hostnames(host_label(info.id))
            self.certificate = ensure_certificate(self.tls_dir, info.id, hostnames, addresses)
            listener = TlsListener(
                lan_gate(app, self._identity),
                self.settings.host,
                self.settings.port,
                self.settings.threads,
                self.certificate,
            )
            listener.start()
        except LanError as exc:
            self.error = exc
            log.error("the LAN service did not start: %s", exc.message("en"))
            return
        self.listener, self.error = listener, None
        if self.settings.announce:
            self.announcer = Announcer(
                info, listener.port, self.certificate.fingerprint, self.settings.interfaces
            )
            self.announcer.start()

    def stop(self) -> None:
        """Withdraw the announcement, then stop the listener."""
        if self.announcer is not None:
            self.announcer.stop()
            self.announcer = None
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    def status(self) -> dict[str, Any]:
        """The LAN's state for the status page and ``/status.json``."""
        port = self.port
        announce = self.announcer.status() if self.announcer else {"state": "off"}
        addresses = announce.get("addresses") or []
        return {
            "enabled": self.settings.enabled,
            "listening": self.listener is not None,
            "port": port,
            "urls": [f"https://{ip}:{port}" for ip in addresses] if port else [],
            "fingerprint": self.fingerprint,
            "announce": announce,
            "error": self._error_text(),
            "pending": len(self.pairing.pending()),
            "collectors": len(self.pairing.collectors()),
        }

    def collection(self, collectors: list[Collector]) -> list[dict[str, Any]]:
        """Per book: what each paired collector has verified, and open rescan requests."""
        rescans = self.rescans.by_book()
        books = []
        for book in self.store.list_books():
            key = book.ref.key
            entries = self.store.list_entries(key)
            counts = count_entries(entries, len(self.store.list_pages(key)))
            if not counts.published and key not in rescans:
                continue
            books.append(
                {
                    "key": key,
                    "ref": str(book.ref),
                    "published": counts.published,
                    "collected": [
                        {
                            "id": c.id,
                            "name": c.name,
                            "count": self.acks.count_current(c.id, key, entries),
                        }
                        for c in collectors
                    ],
                    "rescans": rescans.get(key, []),
                }
            )
        return books

    def _identity(self) -> tuple[StationInfo, str]:
        return self.info, self.fingerprint

    def _error_text(self) -> dict[str, str]:
        if self.error is None:
            return {}
        return {lang: self.error.message(lang) for lang in messages.LANGUAGES}
