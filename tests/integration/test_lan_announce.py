"""The zeroconf announcement, observed by a real zeroconf browser on loopback.

Each test names its stations uniquely and watches only those names: other programs on
this machine (another test run, a station) may announce on loopback at the same time.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

import station
from station.app.station import Station
from station.core.config import replace_key
from station.core.models import StationInfo
from station.lan.announce import HTTP_TYPE, SERVICE_TYPE, Announcer
from station.ui.app import create_app
from tests.support.lan import lan_config

FINGERPRINT = "ab" * 32


class Watch:
    """A browser on loopback noting every instance of a service type as it comes and goes."""

    def __init__(self, zeroconf: Zeroconf, kind: str, mark: str) -> None:
        """Only instances whose name holds ``mark`` (the test's own) are noted."""
        self.zeroconf = zeroconf
        self.kind = kind
        self.mark = mark
        self.present: set[str] = set()
        self.changed = threading.Condition()
        self.browser = ServiceBrowser(zeroconf, kind, handlers=[self._on_change])

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if self.mark not in name:
            return
        with self.changed:
            if state_change is ServiceStateChange.Removed:
                self.present.discard(name)
            else:
                self.present.add(name)
            self.changed.notify_all()

    def wait_for(self, names: set[str], timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.present == names, timeout)

    def txt(self, name: str) -> dict[str, str]:
        info = self.zeroconf.get_service_info(self.kind, name, timeout=3000)
        assert info is not None, name
        return {k.decode(): (v or b"").decode() for k, v in info.properties.items()}


@pytest.fixture
def zeroconf() -> Iterator[Zeroconf]:
    browser = Zeroconf(interfaces=["127.0.0.1"])
    yield browser
    browser.close()


def _announcer(station_id: str, name: str) -> Announcer:
    info = StationInfo(station_id, name, "xa-dong-hoa", "UBND xã Đông Hòa")
    # Long enough for the first station's answer over loopback, with room to spare.
    return Announcer(info, 8443, FINGERPRINT, ["lo"], settle_seconds=2.5)


def test_announced_with_txt_records_renamed_on_a_clash_and_withdrawn(zeroconf: Zeroconf) -> None:
    tag = secrets.token_hex(3)
    base = f"Trạm Đông Hòa {tag}"
    watch = Watch(zeroconf, SERVICE_TYPE, tag)
    http = Watch(zeroconf, HTTP_TYPE, tag)
    first, second = _announcer("st-aaaa", base), _announcer("st-bbbb", base)
    try:
        first.start()
        assert first.registered.wait(15)
        own = f"{base}.{SERVICE_TYPE}"
        assert watch.wait_for({own})
        assert http.wait_for({f"{base}.{HTTP_TYPE}"})
        txt = watch.txt(own)
        assert txt == {
            "id": "st-aaaa",
            "name": base,
            "office": "xa-dong-hoa",
            "api": "1",
            "path": "/api/v1",
            "tls": "1",
            "fp": FINGERPRINT,
            "version": station.__version__,
        }
        info = zeroconf.get_service_info(SERVICE_TYPE, own, timeout=3000)
        assert info is not None and info.port == 8443
        assert info.parsed_addresses() == ["127.0.0.1"]

        second.start()  # a second station with the same name in the same office
        assert second.registered.wait(15)
        assert second.name == f"{base} (2)"
        assert watch.wait_for({own, f"{base} (2).{SERVICE_TYPE}"})
        assert watch.txt(f"{base} (2).{SERVICE_TYPE}")["id"] == "st-bbbb"
        assert second.status()["state"] == "announced"
        first.stop()
        assert watch.wait_for({f"{base} (2).{SERVICE_TYPE}"}), "withdrawn at stop"
        second.stop()
        assert watch.wait_for(set())
    finally:
        first.stop()
        second.stop()
        watch.browser.cancel()
        http.browser.cancel()


def test_station_start_announces_and_stop_withdraws(tmp_path: Path, zeroconf: Zeroconf) -> None:
    tag = secrets.token_hex(3)
    watch = Watch(zeroconf, SERVICE_TYPE, tag)
    config = replace_key(
        lan_config(tmp_path / "data", announce=True), "station.name", f"Trạm {tag}"
    )
    station = Station(config).start()
    try:
        station.serve_lan(create_app(station))
        announcer = station.lan.announcer
        assert announcer is not None and announcer.registered.wait(15)
        name = f"Trạm {tag}.{SERVICE_TYPE}"
        assert watch.wait_for({name})
        txt = watch.txt(name)
        assert txt["fp"] == station.lan.fingerprint and txt["id"] == station.info.id
        info = zeroconf.get_service_info(SERVICE_TYPE, name, timeout=3000)
        assert info is not None and info.port == station.lan.port
        assert station.status()["lan"]["announce"]["state"] == "announced"
        station.stop()
        assert watch.wait_for(set())
    finally:
        station.stop()
        watch.browser.cancel()
