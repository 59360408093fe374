"""The station's scan settings, and how they become SANE options on a device.

Backends name their options and values differently ("Color" or "24bit Color", "ADF"
or "Automatic Document Feeder"), so each setting is matched against what the opened
device offers, read from its option constraints, rather than written blindly. A scan
area is clamped to the bed when it overshoots by a rounding margin and refused with a
clear message when the paper really does not fit.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from station.capture.drivers.base import Capabilities
from station.core.errors import ConfigError, DeviceError

log = logging.getLogger(__name__)


#: Paper sizes in mm, portrait (width, height); "-landscape" turns them.
PAPER_MM: dict[str, tuple[float, float]] = {
    "A5": (148.0, 210.0),
    "B5": (176.0, 250.0),
    "A4": (210.0, 297.0),
    "B4": (250.0, 353.0),
    "A3": (297.0, 420.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
}
#: Overshoot of the bed (mm) that is a rounding matter, clamped rather than refused.
CLAMP_MM = 3.0
MODES = ("color", "gray")
SOURCES = ("auto", "flatbed", "adf", "adf-duplex")
#: Resolutions offered when a device accepts any value in a range.
COMMON_DPI = (75, 100, 150, 200, 240, 300, 400, 600, 1200)
# Values of the SANE standard's enums (python-sane has them only in its private _sane).
SANE_TYPE_INT = 1
SANE_UNIT_MM = 3
_CUSTOM_AREA = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(?:mm)?\s*$", re.I)
#: Words of backend mode and source names, per station name.
_MODE_WORDS = {"color": ("color", "colour", "rgb"), "gray": ("gray", "grey")}


@dataclass
class Settings:
    """Driver options with their defaults; unknown keys are refused."""

    device: str = ""  # SANE device name, e.g. "test:0"; empty: the first found
    dpi: int = 300
    mode: str = "color"  # "color" or "gray"
    source: str = "auto"  # "auto" (as the device is), "flatbed", "adf", "adf-duplex"
    area: str = "max"  # "max" (the whole bed), a paper name ("A3", "A4-landscape"), "WxH" mm
    #: Raw backend options set last (device quirks), by SANE name: {"swdeskew": True}.
    options: dict[str, Any] = field(default_factory=dict)
    #: Longest one page may take before a stuck backend is cancelled (seconds).
    page_timeout_s: float = 300.0


def parse_options(options: Mapping[str, Any]) -> Settings:
    """Check and convert the options mapping; raises ConfigError naming the key."""
    known = {f.name for f in dataclasses.fields(Settings)}
    for key, value in options.items():
        if key not in known:
            raise ConfigError("sane.bad_option", key=key, value=value, detail="unknown option")
    settings = Settings(**dict(options))
    _check(isinstance(settings.device, str), "device", settings.device, "text")
    dpi_ok = isinstance(settings.dpi, int) and not isinstance(settings.dpi, bool)
    _check(dpi_ok and settings.dpi > 0, "dpi", settings.dpi, "a whole number above 0")
    _check(settings.mode in MODES, "mode", settings.mode, " or ".join(MODES))
    _check(settings.source in SOURCES, "source", settings.source, ", ".join(SOURCES))
    _check(isinstance(settings.options, dict), "options", settings.options, "a table")
    timeout_ok = isinstance(settings.page_timeout_s, int | float) and settings.page_timeout_s > 0
    _check(timeout_ok, "page_timeout_s", settings.page_timeout_s, "seconds above 0")
    area_size(settings.area)  # raises for a bad area
    return settings


def _check(ok: bool, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError("sane.bad_option", key=key, value=value, detail=f"expected {expected}")


def area_size(area: str) -> tuple[float, float] | None:
    """(width, height) in mm of an area name; None for the whole bed ("max")."""
    if not isinstance(area, str):
        raise ConfigError("sane.bad_option", key="area", value=area, detail="expected text")
    if area.strip().lower() in ("", "max"):
        return None
    custom = _CUSTOM_AREA.match(area)
    if custom:
        width, height = float(custom.group(1)), float(custom.group(2))
        if width > 0 and height > 0:
            return width, height
    name, _, turn = area.strip().partition("-")
    sizes = {key.lower(): size for key, size in PAPER_MM.items()}
    if name.lower() in sizes and turn.lower() in ("", "portrait", "landscape"):
        width, height = sizes[name.lower()]
        return (height, width) if turn.lower() == "landscape" else (width, height)
    detail = "max, " + ", ".join(PAPER_MM) + " (optionally -landscape) or WIDTHxHEIGHT in mm"
    raise ConfigError("sane.bad_option", key="area", value=area, detail=f"expected {detail}")


# Reading a device ---------------------------------------------------------------


def _option(handle: Any, name: str) -> Any | None:
    """The python-sane Option ``name`` (dashes or underscores), if active."""
    found = handle.opt.get(name.replace("-", "_"))
    return found if found is not None and found.is_active() else None


def _range_max(option: Any) -> float | None:
    constraint = option.constraint if option is not None else None
    if isinstance(constraint, tuple) and len(constraint) == 3:
        return float(constraint[1])
    if isinstance(constraint, list) and constraint:
        return float(max(constraint))
    return None


def _range_min(option: Any) -> float:
    constraint = option.constraint if option is not None else None
    if isinstance(constraint, tuple) and len(constraint) == 3:
        return float(constraint[0])
    if isinstance(constraint, list) and constraint:
        return float(min(constraint))
    return 0.0


def source_kind(name: str) -> str | None:
    """The station's name for a backend's source name; None for film units and such."""
    lowered = name.lower()
    if "duplex" in lowered:
        return "adf-duplex"
    if "adf" in lowered or "feeder" in lowered:
        return "adf"
    if "flatbed" in lowered or lowered in ("normal", "platen", "document table"):
        return "flatbed"
    return None


def source_names(handle: Any) -> dict[str, str]:
    """Station source name -> backend source name, first backend name winning."""
    option = _option(handle, "source")
    if option is None or not isinstance(option.constraint, list):
        return {"flatbed": ""}
    names: dict[str, str] = {}
    for name in option.constraint:
        kind = source_kind(str(name))
        if kind is not None:
            names.setdefault(kind, str(name))
    return names or {"flatbed": ""}


def resolutions(handle: Any) -> tuple[int, ...]:
    """The resolutions a device offers (common values inside a range)."""
    option = _option(handle, "resolution")
    if option is None:
        return ()
    constraint = option.constraint
    if isinstance(constraint, list):
        return tuple(sorted({round(float(v)) for v in constraint}))
    if isinstance(constraint, tuple) and len(constraint) == 3:
        low, high = float(constraint[0]), float(constraint[1])
        return tuple(dpi for dpi in COMMON_DPI if low <= dpi <= high)
    return ()


def max_area_mm(handle: Any) -> tuple[float, float] | None:
    """The largest scan area (width, height) in mm, from the br-x/br-y ranges.

    None when the device has no such options or gives them in pixels: its area is then
    left as it is.
    """
    right, bottom = _option(handle, "br-x"), _option(handle, "br-y")
    if right is None or bottom is None or {right.unit, bottom.unit} != {SANE_UNIT_MM}:
        return None
    high_x, high_y = _range_max(right), _range_max(bottom)
    if high_x is None or high_y is None:
        return None
    left, top = _option(handle, "tl-x"), _option(handle, "tl-y")
    return high_x - _range_min(left), high_y - _range_min(top)


def capabilities(handle: Any) -> Capabilities:
    """What an opened device can do, read from its options."""
    order = ("flatbed", "adf", "adf-duplex")
    sources = tuple(kind for kind in order if kind in source_names(handle))
    return Capabilities(
        sources=sources or ("flatbed",),
        resolutions=resolutions(handle) or (300,),
        max_area_mm=max_area_mm(handle) or Capabilities().max_area_mm,
        live_preview=False,
    )


# Writing a device ---------------------------------------------------------------


@dataclass
class Applied:
    """What the device was actually set to (it may round what was asked)."""

    dpi: int
    source: str  # station name: "flatbed", "adf", "adf-duplex"
    source_name: str  # the backend's name
    mode: str  # the backend's name
    area_mm: tuple[float, float] | None


def apply(handle: Any, settings: Settings, device: str) -> Applied:
    """Set the device's options from ``settings``; raises DeviceError when impossible.

    The order matters: a source change can change the bed size and a mode change the
    resolutions, so each is read after the one before is set.
    """
    source, source_name = _apply_source(handle, settings.source, device)
    mode = _apply_mode(handle, settings.mode, device)
    depth = _option(handle, "depth")
    if depth is not None and isinstance(depth.constraint, list) and 8 in depth.constraint:
        set_option(handle, "depth", 8, device)
    dpi = _apply_resolution(handle, settings.dpi, device)
    area = _apply_area(handle, settings.area, device)
    for name, value in settings.options.items():
        set_option(handle, name, value, device)
    return Applied(dpi, source, source_name, mode, area)


def set_option(handle: Any, name: str, value: Any, device: str) -> None:
    """Set one raw SANE option; a clear DeviceError when the device refuses it."""
    key = name.replace("-", "_")
    if key not in handle.opt:
        known = ", ".join(sorted(o.name for o in handle.opt.values() if o.name))
        raise DeviceError(
            "sane.option_refused", device=device, option=name, value=value, detail=known
        )
    if handle.opt[key].type == SANE_TYPE_INT and isinstance(value, float):
        value = round(value)
    try:
        setattr(handle, key, value)
    except Exception as exc:  # python-sane raises _sane.error, AttributeError, TypeError
        raise DeviceError(
            "sane.option_refused", device=device, option=name, value=value, detail=str(exc)
        ) from exc


def _apply_source(handle: Any, wanted: str, device: str) -> tuple[str, str]:
    names = source_names(handle)
    if wanted == "auto":
        option = _option(handle, "source")
        current = str(handle.source) if option is not None else ""
        return source_kind(current) or "flatbed", current
    if wanted not in names:
        known = ", ".join(names)
        raise DeviceError("sane.no_source", device=device, source=wanted, known=known)
    if names[wanted]:
        set_option(handle, "source", names[wanted], device)
    return wanted, names[wanted]


def _apply_mode(handle: Any, wanted: str, device: str) -> str:
    option = _option(handle, "mode")
    if option is None or not isinstance(option.constraint, list):
        return ""
    for name in option.constraint:
        if any(word in str(name).lower() for word in _MODE_WORDS[wanted]):
            set_option(handle, "mode", name, device)
            return str(name)
    known = ", ".join(map(str, option.constraint))
    raise DeviceError("sane.no_mode", device=device, mode=wanted, known=known)


def _apply_resolution(handle: Any, wanted: int, device: str) -> int:
    option = _option(handle, "resolution")
    if option is None:
        return wanted
    constraint = option.constraint
    value: float = wanted
    if isinstance(constraint, list) and constraint:
        value = min(constraint, key=lambda v: (abs(float(v) - wanted), -float(v)))
    elif isinstance(constraint, tuple) and len(constraint) == 3:
        value = min(max(wanted, constraint[0]), constraint[1])
    if round(float(value)) != wanted:
        log.warning("%s: %d dpi not offered, scanning at %s dpi", device, wanted, value)
    set_option(handle, "resolution", value, device)
    return round(float(handle.resolution))


def _apply_area(handle: Any, area: str, device: str) -> tuple[float, float] | None:
    bed = max_area_mm(handle)
    if bed is None:
        return None
    left = _range_min(_option(handle, "tl-x"))
    top = _range_min(_option(handle, "tl-y"))
    size = area_size(area) or bed
    width, height = _fit(area, size, bed, device)
    corners = {"tl-x": left, "tl-y": top, "br-x": left + width, "br-y": top + height}
    for name, value in corners.items():
        if _option(handle, name) is not None:
            set_option(handle, name, value, device)
    return width, height


def _fit(
    area: str, size: tuple[float, float], bed: tuple[float, float], device: str
) -> tuple[float, float]:
    """Clamp ``size`` to ``bed`` within the rounding margin, else refuse it."""
    if size[0] > bed[0] + CLAMP_MM or size[1] > bed[1] + CLAMP_MM:
        raise DeviceError(
            "sane.area_too_large",
            device=device,
            area=area,
            width=f"{size[0]:g}",
            height=f"{size[1]:g}",
            max_width=f"{bed[0]:g}",
            max_height=f"{bed[1]:g}",
        )
    return min(size[0], bed[0]), min(size[1], bed[1])
