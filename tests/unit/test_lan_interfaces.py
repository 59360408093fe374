"""Which interfaces the station announces on."""

from __future__ import annotations

from dataclasses import dataclass, field

from station.lan.interfaces import Address, is_loopback, lan_addresses


@dataclass
class IP:
    ip: object


@dataclass
class Adapter:
    name: str
    ips: list[IP] = field(default_factory=list)

    @property
    def nice_name(self) -> str:
        return self.name


ADAPTERS = [
    Adapter("lo", [IP("127.0.0.1"), IP(("::1", 0, 0))]),
    Adapter("eth0", [IP("192.168.1.20"), IP(("fe80::1", 0, 2))]),
    Adapter("wlan0", [IP("169.254.10.2")]),
    Adapter("docker0", [IP("172.17.0.1")]),
    Adapter("br-5e1f", [IP("172.18.0.1")]),
    Adapter("veth12ab", [IP("172.17.0.5")]),
    Adapter("virbr0", [IP("192.168.122.1")]),
    Adapter("tailscale0", [IP("100.64.0.3")]),
    Adapter("eth1", []),
]


def test_every_lan_interface_but_loopback_and_virtual_bridges() -> None:
    assert lan_addresses((), ADAPTERS) == [
        Address("eth0", "192.168.1.20"),
        Address("wlan0", "169.254.10.2"),  # a PC cabled straight to the station
    ]


def test_named_interfaces_only_and_loopback_when_named() -> None:
    assert lan_addresses(("wlan0",), ADAPTERS) == [Address("wlan0", "169.254.10.2")]
    assert lan_addresses(("lo", "eth1"), ADAPTERS) == [Address("lo", "127.0.0.1")]
    assert lan_addresses(("docker0",), ADAPTERS) == [Address("docker0", "172.17.0.1")]


def test_loopback_peers() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("192.0.2.7") and not is_loopback("") and not is_loopback(None)
