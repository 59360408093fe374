"""USB awareness: the known-devices table, enumeration and the plug/unplug watcher.

No USB device is attached here, so the watcher runs on listings made up in the test;
one test calls the real pyusb enumeration, which must not crash whatever it finds.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from station.capture import usb as usb_module
from station.capture.usb import UsbEvent, UsbScan, UsbWatcher, describe, list_usb, sysfs_names
from station.capture.usb_table import DeviceTable, UsbDescriptor, read_sane_hwdb
from station.core.errors import ConfigError

LIDE_110 = UsbDescriptor(0x04A9, 0x1909, bus=1, address=4)
WEBCAM = UsbDescriptor(
    0x046D, 0x0825, 1, 5, 0xEF, ((0x0E, 1, 0), (0x0E, 2, 0), (1, 1, 0)), "Logitech", "C270"
)
PEDAL = UsbDescriptor(0x1A86, 0xE026, 1, 6, 0, ((0x03, 1, 1),))
MOUSE = UsbDescriptor(0x1A86, 0xE027, 1, 7, 0, ((0x03, 1, 2),))
HWDB = """# This file was generated from description files (*.desc)
#
# Made Up Scanner 1 | Made Up Scanner 1+
usb:v1234p0001*
 libsane_matched=yes

# Made Up Scanner 2
usb:v1234p0002*
 libsane_matched=yes
"""


@pytest.fixture
def table(tmp_path: Path) -> DeviceTable:
    hwdb = tmp_path / "20-sane.hwdb"
    hwdb.write_text(HWDB)
    return DeviceTable.load(hwdb=(tmp_path / "missing.hwdb", hwdb))


def test_table_names_scanners_with_their_driver(table: DeviceTable) -> None:
    match = table.match(LIDE_110)
    assert match is not None
    assert (match.kind, match.label, match.driver, match.backend) == (
        "scanner",
        "Canon CanoScan LiDE 110",
        "sane",
        "genesys",
    )


def test_any_uvc_device_is_a_camera(table: DeviceTable) -> None:
    found = table.recognise(WEBCAM)
    assert found.match is not None and found.match.driver == "camera"
    assert found.label == "Logitech C270 (USB camera (UVC))"


def test_keyboards_are_pedal_candidates_and_mice_are_unknown(table: DeviceTable) -> None:
    pedal = table.match(PEDAL)
    assert pedal is not None and (pedal.kind, pedal.driver) == ("pedal", "trigger")
    assert table.match(MOUSE) is None
    assert table.recognise(MOUSE).label == "1a86:e027"


def test_sane_list_recognises_scanners_the_table_lacks(table: DeviceTable) -> None:
    match = table.match(UsbDescriptor(0x1234, 0x0001))
    assert match is not None
    assert (match.label, match.driver, match.source) == (
        "Made Up Scanner 1 | Made Up Scanner 1+",
        "sane",
        "sane",
    )


def test_vendor_wide_entry(table: DeviceTable) -> None:
    match = table.match(UsbDescriptor(0x04F9, 0x0999))
    assert match is not None and match.kind == "scanner" and "brscan" in match.backend


def test_extra_table_wins_over_the_builtin(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[[device]]\nusb = "04A9:1909"\nkind = "scanner"\nlabel = "Máy quét của tỉnh"\n'
        'driver = "sane"\n\n[[class]]\nclass = 0x03\nkind = "pedal"\nlabel = "HID"\n'
        'driver = "trigger"\n'
    )
    table = DeviceTable.load(extra, hwdb=None)
    assert table.recognise(LIDE_110).label == "Máy quét của tỉnh"
    assert table.recognise(MOUSE).label.endswith("HID")


@pytest.mark.parametrize(
    "text",
    [
        '[[device]]\nusb = "4a9:1909"\nkind = "scanner"\nlabel = "x"\ndriver = "sane"\n',
        '[[device]]\nusb = "04a9:1909"\nkind = "fax"\nlabel = "x"\ndriver = "sane"\n',
        '[[device]]\nusb = "04a9:1909"\nkind = "scanner"\ndriver = "sane"\n',
        '[[device]]\nusb = "04a9:1909"\nkind = "scanner"\nlabel = "x"\ndriver = "sane"\nx = 1\n',
        '[[class]]\nclass = 300\nkind = "camera"\nlabel = "x"\ndriver = "camera"\n',
        "[[printer]]\n",
        "not toml",
    ],
)
def test_a_bad_table_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    extra = tmp_path / "bad.toml"
    extra.write_text(text)
    with pytest.raises(ConfigError) as info:
        DeviceTable.load(extra, hwdb=None)
    assert str(extra) in info.value.message("vi") and info.value.key == "usb.bad_table"


def test_the_real_sane_hwdb_parses_when_installed() -> None:
    for path in (Path("/usr/lib/udev/hwdb.d/20-sane.hwdb"), Path("/lib/udev/hwdb.d/20-sane.hwdb")):
        if path.exists():
            assert read_sane_hwdb(path)["04a9:1909"] == "Canon CanoScan LiDE 110"
            return
    pytest.skip("libsane1 is not installed")


class FakeInterface(SimpleNamespace):
    pass


def _pyusb_like(
    vendor: int, product: int, bus: int, address: int, interfaces: list[tuple[int, int, int]]
) -> Any:
    """An object with the attributes and iteration of a pyusb Device."""
    config = [
        FakeInterface(bInterfaceClass=c, bInterfaceSubClass=s, bInterfaceProtocol=p)
        for c, s, p in interfaces
    ]

    class Device(SimpleNamespace):
        def __iter__(self) -> Any:
            return iter([config])

    return Device(idVendor=vendor, idProduct=product, bus=bus, address=address, bDeviceClass=0xEF)


def test_describe_reads_ids_interfaces_and_sysfs_names(tmp_path: Path) -> None:
    folder = tmp_path / "1-1.3"
    folder.mkdir()
    for name, value in {
        "busnum": "1",
        "devnum": "5",
        "manufacturer": "Logitech",
        "product": "C270",
    }.items():
        (folder / name).write_text(value + "\n")
    (tmp_path / "usb1").mkdir()  # a folder without ids is skipped
    names = sysfs_names(tmp_path)
    device = describe(
        _pyusb_like(0x046D, 0x0825, 1, 5, [(14, 1, 0), (14, 2, 0), (14, 2, 0)]), names
    )
    assert device == UsbDescriptor(
        0x046D, 0x0825, 1, 5, 0xEF, ((14, 1, 0), (14, 2, 0)), "Logitech", "C270"
    )
    assert device.usb_id == "046d:0825" and device.location == "001/005"


def test_describe_survives_unreadable_configurations() -> None:
    class Broken(SimpleNamespace):
        def __iter__(self) -> Any:
            raise OSError(13, "Access denied (insufficient permissions)")

    raw = Broken(idVendor=1, idProduct=2, bus=None, address=None, bDeviceClass=0)
    assert describe(raw, {}) == UsbDescriptor(1, 2)


def test_real_enumeration_does_not_crash() -> None:
    scan = list_usb()
    assert isinstance(scan.devices, list)
    assert scan.problem_key in ("", "usb.no_backend", "usb.error")


def test_missing_libusb_is_a_problem_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    def no_backend(**_: Any) -> Any:
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", no_backend)
    scan = list_usb()
    assert scan.devices == [] and scan.problem_key == "usb.no_backend"


def test_permission_error_is_a_problem_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    def denied(**_: Any) -> Any:
        raise usb.core.USBError("Access denied", 13, -3)

    monkeypatch.setattr(usb.core, "find", denied)
    scan = list_usb()
    assert scan.problem_key == "usb.error" and "Access denied" in scan.problem_values["detail"]


class Listings:
    """Made-up listings handed to the watcher one by one (the last one repeats)."""

    def __init__(self, *listings: UsbScan) -> None:
        self.listings = list(listings)
        self.calls = 0
        self.polled = threading.Event()

    def __call__(self) -> UsbScan:
        self.calls += 1
        if self.calls > len(self.listings):
            self.polled.set()
        return self.listings[min(self.calls, len(self.listings)) - 1]


def test_watcher_reports_plug_and_unplug(table: DeviceTable) -> None:
    listings = Listings(UsbScan([LIDE_110]), UsbScan([LIDE_110, WEBCAM]), UsbScan([WEBCAM]))
    events: list[UsbEvent] = []
    watcher = UsbWatcher(table, events.append, scan=listings)
    watcher.poll(emit=False)
    assert [r.label for r in watcher.devices()] == ["Canon CanoScan LiDE 110"]
    added = watcher.poll()
    assert [(e.kind, e.values["usb_id"], e.values["driver"]) for e in added] == [
        ("added", "046d:0825", "camera")
    ]
    removed = watcher.poll()
    assert [(e.kind, e.values["label"]) for e in removed] == [
        ("removed", "Canon CanoScan LiDE 110")
    ]
    assert events == added + removed
    assert "Canon CanoScan LiDE 110" in usb_module.messages.render(
        removed[0].message_key, "vi", **removed[0].values
    )


def test_replugging_counts_as_unplug_and_plug(table: DeviceTable) -> None:
    moved = UsbDescriptor(0x04A9, 0x1909, bus=1, address=9)
    watcher = UsbWatcher(table, scan=Listings(UsbScan([LIDE_110]), UsbScan([moved])))
    watcher.poll(emit=False)
    assert sorted(e.kind for e in watcher.poll()) == ["added", "removed"]


def test_watcher_thread_polls_and_stops(table: DeviceTable) -> None:
    listings = Listings(UsbScan([]), UsbScan([PEDAL]))
    events: list[UsbEvent] = []
    watcher = UsbWatcher(table, events.append, interval=0.01, scan=listings).start()
    try:
        assert listings.polled.wait(10), "the watcher polls on its own"
    finally:
        watcher.stop()
    assert [e.kind for e in events] == ["added"]
    assert [r.to_dict()["kind"] for r in watcher.devices()] == ["pedal"]


def test_a_listener_error_does_not_stop_the_watcher(table: DeviceTable) -> None:
    def broken(event: UsbEvent) -> None:
        raise RuntimeError("listener bug")

    watcher = UsbWatcher(table, broken, scan=Listings(UsbScan([]), UsbScan([PEDAL])))
    watcher.poll(emit=False)
    assert len(watcher.poll()) == 1


def test_watcher_keeps_the_problem(table: DeviceTable) -> None:
    watcher = UsbWatcher(table, scan=Listings(UsbScan(problem_key="usb.no_backend")))
    watcher.poll()
    assert watcher.problem == ("usb.no_backend", {}) and watcher.devices() == []
