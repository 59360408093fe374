"""USB devices present now (pyusb), and a watcher that notices plug and unplug.

Listing reads descriptors only (libusb takes them from sysfs), so it needs no
permission on the devices and never disturbs a scan in progress; names come from
sysfs too, since reading string descriptors would mean opening each device. Polling
every few seconds is enough for a person plugging a cable in, and needs no udev
monitoring library.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.capture.usb_table import DeviceTable, Recognised, UsbDescriptor
from station.core import messages

log = logging.getLogger(__name__)

SYSFS_USB = Path("/sys/bus/usb/devices")


@dataclass
class UsbScan:
    """One listing: the devices, or the reason there are none to be had."""

    devices: list[UsbDescriptor] = field(default_factory=list)
    problem_key: str = ""
    problem_values: dict[str, Any] = field(default_factory=dict)


def list_usb(sysfs: Path = SYSFS_USB) -> UsbScan:
    """Every USB device present now; never raises (a problem is reported instead)."""
    try:
        import usb.core
    except ImportError:
        return UsbScan(problem_key="usb.no_pyusb")
    try:
        found = list(usb.core.find(find_all=True))
    except usb.core.NoBackendError:
        return UsbScan(problem_key="usb.no_backend")
    except (OSError, ValueError) as exc:  # usb.core.USBError is an OSError
        return UsbScan(problem_key="usb.error", problem_values={"detail": str(exc)})
    names = sysfs_names(sysfs)
    return UsbScan([describe(device, names) for device in found])


def describe(device: Any, names: dict[tuple[int, int], tuple[str, str]]) -> UsbDescriptor:
    """A pyusb device (or anything with its attributes) as a :class:`UsbDescriptor`."""
    bus, address = int(device.bus or 0), int(device.address or 0)
    interfaces: list[tuple[int, int, int]] = []
    try:
        for configuration in device:
            for interface in configuration:
                interfaces.append(
                    (
                        int(interface.bInterfaceClass),
                        int(interface.bInterfaceSubClass),
                        int(interface.bInterfaceProtocol),
                    )
                )
    except (OSError, ValueError, NotImplementedError) as exc:
        log.debug(
            "cannot read the configurations of %04x:%04x: %s",
            device.idVendor,
            device.idProduct,
            exc,
        )
    manufacturer, product = names.get((bus, address), ("", ""))
    return UsbDescriptor(
        vendor=int(device.idVendor),
        product=int(device.idProduct),
        bus=bus,
        address=address,
        device_class=int(device.bDeviceClass),
        interfaces=tuple(dict.fromkeys(interfaces)),
        manufacturer=manufacturer,
        product_name=product,
    )


def sysfs_names(sysfs: Path = SYSFS_USB) -> dict[tuple[int, int], tuple[str, str]]:
    """(bus, address) -> (manufacturer, product) as the devices name themselves."""
    names: dict[tuple[int, int], tuple[str, str]] = {}
    try:
        folders = list(sysfs.iterdir())
    except OSError:
        return names
    for folder in folders:
        bus, address = _read(folder / "busnum"), _read(folder / "devnum")
        if bus.isdigit() and address.isdigit():
            names[(int(bus), int(address))] = (
                _read(folder / "manufacturer"),
                _read(folder / "product"),
            )
    return names


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


@dataclass
class UsbEvent:
    """A device came or went; the UI shows the message."""

    kind: str  # "added", "removed"
    device: Recognised
    message_key: str
    values: dict[str, Any]


UsbListener = Callable[[UsbEvent], None]


class UsbWatcher:
    """Lists USB devices every ``interval`` seconds on a thread and reports changes."""

    def __init__(
        self,
        table: DeviceTable,
        on_event: UsbListener | None = None,
        interval: float = 2.0,
        scan: Callable[[], UsbScan] = list_usb,
    ) -> None:
        self.table = table
        self.interval = interval
        self._on_event = on_event
        self._scan = scan
        self._lock = threading.Lock()
        self._present: dict[tuple[str, str], Recognised] = {}
        self._problem: tuple[str, dict[str, Any]] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> UsbWatcher:
        """List the devices now (no events for these), then keep watching."""
        if self._thread is not None:
            return self
        self.poll(emit=False)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="usb-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching; returns once the thread has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def devices(self) -> list[Recognised]:
        """The devices present at the last listing, by bus and address."""
        with self._lock:
            return sorted(self._present.values(), key=lambda r: r.device.location)

    @property
    def problem(self) -> tuple[str, dict[str, Any]] | None:
        """Why devices cannot be listed (message key and values), or None."""
        with self._lock:
            return self._problem

    def poll(self, emit: bool = True) -> list[UsbEvent]:
        """List once, update the state and report what changed."""
        scan = self._scan()
        problem = (scan.problem_key, scan.problem_values) if scan.problem_key else None
        if problem is not None and problem != self._problem:
            log.warning(messages.render(scan.problem_key, "en", **scan.problem_values))
        now = {
            (device.usb_id, device.location): self.table.recognise(device)
            for device in scan.devices
        }
        with self._lock:
            before, self._present, self._problem = self._present, now, problem
        events = [_event("added", now[key]) for key in now if key not in before]
        events += [_event("removed", before[key]) for key in before if key not in now]
        for event in events if emit else []:
            log.info(messages.render(event.message_key, "en", **event.values))
            self._emit(event)
        return events

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # a bad listing must not end the watching for good
                log.exception("listing USB devices failed")

    def _emit(self, event: UsbEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("USB event listener failed for %s", event)


def _event(kind: str, device: Recognised) -> UsbEvent:
    return UsbEvent(kind, device, f"usb.{kind}", device.to_dict())
