"""Capture drivers, one module per kind of source, registered here by ``kind``.

Each driver is imported only when asked for, so a missing optional library (python-sane
on a camera-only station, say) disables just that driver, with a message saying what
to install.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from station.capture.drivers.base import Driver, EventCallback
from station.core.errors import ConfigError, DeviceError

log = logging.getLogger(__name__)

#: kind -> (module, class, Debian/PyPI package that provides what it needs)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "simulated": ("station.capture.drivers.simulated.scanner", "SimulatedScanner", ""),
    "sane": (
        "station.capture.drivers.sane.scanner",
        "SaneScanner",
        "python3-sane (Debian) or pip install 'ledger-station[sane]'",
    ),
    "folder": (
        "station.capture.drivers.folder.watcher",
        "HotFolder",
        "watchdog (python3-watchdog)",
    ),
    "camera": ("station.capture.drivers.camera.driver", "CameraDriver", "opencv-python-headless"),
}


def driver_class(kind: str) -> type[Driver]:
    """The driver class for ``kind``; a clear error when unknown or not installed."""
    if kind not in REGISTRY:
        raise ConfigError("driver.unknown", kind=kind, known=", ".join(sorted(REGISTRY)))
    module_name, class_name, package = REGISTRY[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeviceError(
            "driver.unavailable", kind=kind, detail=str(exc), package=package or "?"
        ) from exc
    cls: type[Driver] = getattr(module, class_name)
    return cls


def create_driver(
    kind: str, options: Mapping[str, Any], on_event: EventCallback | None = None
) -> Driver:
    """Instantiate the driver for ``kind`` with its options."""
    return driver_class(kind)(options, on_event)
