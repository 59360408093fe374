"""Capture drivers, one package per kind of source, registered here by ``kind``.

Like Frigate's detector back-ends, each driver package pairs its options with its code:
``schema.py`` holds its ``[capture.<kind>]`` table (light, so the configuration is
checked where the driver's library is missing), the driver module the device work.
:data:`REGISTRY` is the one list of drivers; importing this package registers each
table with the configuration (:func:`station.core.config.register_driver_section`).
Adding a driver touches its own package and one entry here.

A driver module is imported only when asked for, so a missing optional library
(python-sane on a camera-only station, say) disables just that driver, with a message
saying what to install.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.capture.drivers.base import CaptureContext, Driver, EventCallback
from station.capture.drivers.camera.schema import CameraSection
from station.capture.drivers.folder.schema import FolderSection
from station.capture.drivers.sane.schema import SaneSection
from station.capture.drivers.simulated.schema import SimulatorSection
from station.core import config
from station.core.errors import ConfigError, DeviceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriverSpec:
    """One kind of capture driver: its options table, its class and what it needs."""

    schema: type  # the [capture.<kind>] table (a dataclass of config.option fields)
    doc: str  # what the table is for, one line
    module: str  # the module holding the driver class, imported when first used
    class_name: str
    #: Debian/PyPI package that provides the library the driver needs ("": none).
    package: str = ""
    #: Whether ``capture.device_id`` names this driver's device (its ``device`` option).
    takes_device_id: bool = False


REGISTRY: dict[str, DriverSpec] = {
    "simulated": DriverSpec(
        SimulatorSection,
        "Simulated ledger scanner (demo and tests).",
        "station.capture.drivers.simulated.scanner",
        "SimulatedScanner",
    ),
    "sane": DriverSpec(
        SaneSection,
        "SANE scanner (flatbed, feeder, A3).",
        "station.capture.drivers.sane.scanner",
        "SaneScanner",
        "python3-sane (Debian) or pip install 'ledger-station[sane]'",
        takes_device_id=True,
    ),
    "folder": DriverSpec(
        FolderSection,
        "Hot folder watched for saved pages.",
        "station.capture.drivers.folder.watcher",
        "HotFolder",
        "watchdog (python3-watchdog)",
    ),
    "camera": DriverSpec(
        CameraSection,
        "Overhead or document camera (UVC).",
        "station.capture.drivers.camera.driver",
        "CameraDriver",
        "opencv-python-headless",
        takes_device_id=True,
    ),
}

for _kind, _spec in REGISTRY.items():
    config.register_driver_section(_kind, _spec.schema, _spec.doc)


def driver_class(kind: str) -> type[Driver]:
    """The driver class for ``kind``; a clear error when none is chosen, unknown or
    not installed."""
    known = ", ".join(sorted(REGISTRY))
    if not kind:
        raise DeviceError("driver.none", known=known)
    if kind not in REGISTRY:
        raise ConfigError("driver.unknown", kind=kind, known=known)
    spec = REGISTRY[kind]
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        raise DeviceError(
            "driver.unavailable", kind=kind, detail=str(exc), package=spec.package or "?"
        ) from exc
    cls: type[Driver] = getattr(module, spec.class_name)
    return cls


def configured_options(capture: config.CaptureSection, kind: str) -> dict[str, Any]:
    """The options the configuration gives driver ``kind``: ``dpi``, its own
    ``[capture.<kind>]`` table, and ``device`` from ``capture.device_id`` when the
    driver takes one. Nothing of any other driver's table."""
    options: dict[str, Any] = {"dpi": capture.dpi}
    if kind in REGISTRY:
        options.update(dataclasses.asdict(capture.options(kind)))
        if REGISTRY[kind].takes_device_id and capture.device_id:
            options["device"] = capture.device_id
    return options


def create_driver(
    kind: str,
    options: Mapping[str, Any],
    on_event: EventCallback | None = None,
    context: CaptureContext | None = None,
) -> Driver:
    """Instantiate the driver for ``kind`` with its options and the book's context."""
    return driver_class(kind)(options, on_event, context)
