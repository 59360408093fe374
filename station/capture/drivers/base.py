"""The one interface every capture source implements.

A driver owns one device connection with a small state machine (offline, idle,
capturing, error) and reports state changes and progress upward through a callback,
the way OctoPrint's printer connection does. Capturing yields pages one by one, so a
page already fed is handed over (and saved by intake) before a later page fails.
"""

from __future__ import annotations

import enum
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from PIL import Image

from station.core.models import utc_now

log = logging.getLogger(__name__)


class ButtonWatch(Protocol):
    """A running watch of a device's buttons (see :meth:`Driver.watch_buttons`)."""

    def stop(self) -> None: ...


class DeviceState(enum.StrEnum):
    OFFLINE = "offline"
    IDLE = "idle"
    CAPTURING = "capturing"
    ERROR = "error"


@dataclass
class DeviceInfo:
    """A device a driver can open, as shown to the operator."""

    kind: str
    device: str  # driver-specific id, e.g. "test:0" for SANE, "sim:0"
    label: str
    vendor: str = ""
    model: str = ""


@dataclass
class Capabilities:
    """What a device can do; the UI shows only what applies."""

    sources: tuple[str, ...] = ("flatbed",)  # "flatbed", "adf", "adf-duplex", "camera"
    resolutions: tuple[int, ...] = (300,)
    max_area_mm: tuple[float, float] = (210.0, 297.0)  # width, height
    live_preview: bool = False


@dataclass
class CapturedImage:
    """One page image from a device, before anything else touches it.

    Either ``image`` (decoded pixels, from scanners) or ``encoded`` (the file bytes a
    camera or phone produced, kept exactly as they came) is set; intake stores
    ``encoded`` verbatim and encodes ``image`` losslessly.
    """

    dpi: int
    source: str
    device: str
    image: Image.Image | None = None
    encoded: bytes | None = None
    format: str = "PNG"  # format of ``encoded`` ("JPEG", "PNG", "TIFF")
    captured_at: str = field(default_factory=utc_now)
    #: Anything the source knows beyond the pixels (the simulator's ground truth).
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class DriverEvent:
    """Something the UI should know: a state change or progress of a batch."""

    kind: str  # "state", "progress", "error"
    device: str
    state: DeviceState | None = None
    message_key: str = ""
    values: dict[str, Any] = field(default_factory=dict)


EventCallback = Callable[[DriverEvent], None]


@dataclass(frozen=True)
class CaptureContext:
    """What the station knows about the book being captured into.

    Every driver is given it and a real device ignores it; the simulated scanner (and
    the simulated camera) render pages of this book, numbered on from its next entry.
    It is kept apart from the options so a driver's options are only its own.
    """

    profile: str = ""  # the book's layout profile
    first_entry: int = 1  # the number of the first entry on the next page


class Driver(ABC):
    """Base class: state machine and event reporting; subclasses do the device work."""

    kind: ClassVar[str]

    def __init__(
        self,
        options: Mapping[str, Any],
        on_event: EventCallback | None = None,
        context: CaptureContext | None = None,
    ):
        self.options = dict(options)
        self.context = context
        self._on_event = on_event
        self._state = DeviceState.OFFLINE
        self._cancel = threading.Event()

    @classmethod
    @abstractmethod
    def probe(cls) -> list[DeviceInfo]:
        """Devices of this kind that are present now."""

    @classmethod
    def watch_buttons(
        cls,
        options: Mapping[str, Any],
        on_press: Callable[[str, str], None],
        interval: float,
    ) -> ButtonWatch | None:
        """Start calling ``on_press(device, button)`` when a button on the device is
        pressed, for devices whose buttons can be read (None: this kind cannot)."""
        return None

    @classmethod
    def rescan(cls) -> list[DeviceInfo]:
        """Like :meth:`probe`, but forgetting anything a library cached (a device just
        plugged in); the operator's Connect button asks this."""
        return cls.probe()

    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    @abstractmethod
    def device(self) -> str:
        """The id of the device this driver instance drives."""

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What the opened device can do."""

    @abstractmethod
    def open(self) -> None:
        """Connect to the device; state becomes IDLE or raises DeviceError."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; state becomes OFFLINE."""

    @abstractmethod
    def capture(self, count: int | None = 1) -> Iterator[CapturedImage]:
        """Yield up to ``count`` pages (None: until the feeder is empty).

        Raises :class:`station.core.errors.DeviceError` after yielding every page that was
        fed before the fault, so none of them is lost.
        """

    def cancel(self) -> None:
        """Ask a running capture to stop after the current page."""
        self._cancel.set()

    def _set_state(self, state: DeviceState, key: str = "", **values: Any) -> None:
        if state is self._state and not key:
            return
        self._state = state
        self._emit(DriverEvent("state", self.device, state, key, values))

    def _emit(self, event: DriverEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a UI listener must never break a capture
            log.exception("event listener failed for %s", event)
