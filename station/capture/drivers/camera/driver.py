"""Overhead and document cameras (UVC): a live preview and full-resolution stills.

The driver reads frames from a :class:`~station.capture.drivers.camera.frames.FrameSource`: the real
camera through V4L2 (:mod:`station.capture.drivers.camera.v4l2`), or the simulated camera (device
``sim:0``, :mod:`station.capture.drivers.camera.simulated`). The preview runs the camera at a small
size and passes its MJPEG frames on without decoding, at a few frames a second, which
keeps a Raspberry Pi's processor nearly idle; a still switches the camera to its full
size, lets exposure settle for a few frames, and keeps the JPEG exactly as the camera
made it (``CapturedImage.encoded``).

A camera can be opened once at a time, but the touch screen shows the preview while a
pedal or a button takes a still, each through its own driver. So the open device lives
in a small pool keyed by device id: every driver on the same camera shares it, the
device is closed when the last one closes, and one lock makes the preview wait while a
still is taken.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image

from station.capture.drivers.base import (
    Capabilities,
    CaptureContext,
    CapturedImage,
    DeviceInfo,
    DeviceState,
    Driver,
    DriverEvent,
    EventCallback,
)
from station.capture.drivers.camera.frames import Frame, FrameMode, FrameSource
from station.capture.drivers.camera.simulated import (
    SimulatedCamera,
    SimulatedFrameSource,
    is_simulated,
)
from station.capture.drivers.camera.v4l2 import V4L2Source, list_video_devices
from station.core.errors import ConfigError, DeviceError
from station.core.messages import N_

log = logging.getLogger(__name__)

MJPEG_BOUNDARY = "frame"
MJPEG_MIMETYPE = f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}"
PREVIEW_QUALITY = 70  # only for cameras that send pixels instead of JPEG


@dataclass
class Settings:
    """Driver options; ``capture.camera`` in the configuration holds the same names."""

    device: str = ""  # "/dev/video0", "sim:0"; empty: the first camera found
    dpi: int = 300  # nominal resolution recorded with each still
    preview_width: int = 640
    preview_height: int = 480
    preview_fps: int = 8
    still_width: int = 0  # 0: the largest the camera offers
    still_height: int = 0
    settle_frames: int = 3
    # What the simulated camera renders; a real camera ignores them.
    profile: str = "spread-2"
    first_entry: int = 1
    seed: int = 0


def parse_options(options: Mapping[str, Any]) -> Settings:
    """Check the options mapping; ConfigError names the key."""
    defaults = Settings()
    values: dict[str, Any] = {}
    for key, value in options.items():
        if not hasattr(defaults, key):
            raise ConfigError("camera.bad_option", key=key, value=value, detail="unknown option")
        expected = type(getattr(defaults, key))
        if not isinstance(value, expected) or isinstance(value, bool):
            detail = f"expected {expected.__name__}"
            raise ConfigError("camera.bad_option", key=key, value=value, detail=detail)
        minimum = 0 if key in ("still_width", "still_height", "settle_frames", "seed") else 1
        if expected is int and value < minimum:
            detail = f"at least {minimum}"
            raise ConfigError("camera.bad_option", key=key, value=value, detail=detail)
        values[key] = value
    return Settings(**values)


def with_context(settings: Settings, context: CaptureContext | None) -> Settings:
    """``settings`` with the simulated camera showing the book being captured into."""
    if context is None:
        return settings
    profile = context.profile or settings.profile
    return dataclasses.replace(settings, profile=profile, first_entry=context.first_entry)


class _SharedCamera:
    """One open device shared by every driver on it (see the module docstring)."""

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self.lock = threading.Lock()  # held while the device is reconfigured or read
        self.users = 0
        self.mode: FrameMode | None = None  # the mode last asked for; None: closed

    def ensure(self, mode: FrameMode) -> None:
        """Open (or reopen) the device in ``mode``; call with :attr:`lock` held."""
        if self.mode != mode:
            self.mode = None
            given = self.source.open(mode)
            self.mode = mode
            log.debug("camera %s now %dx%d", self.source.device, given.width, given.height)

    def lost(self) -> None:
        """The device failed: close it, so the next user opens it afresh."""
        self.mode = None
        self.source.close()


_POOL: dict[str, _SharedCamera] = {}
_POOL_LOCK = threading.Lock()


def _attach(device: str, make: Callable[[], FrameSource]) -> _SharedCamera:
    with _POOL_LOCK:
        shared = _POOL.get(device)
        if shared is None:
            shared = _POOL[device] = _SharedCamera(make())
        shared.users += 1
        return shared


def _detach(device: str, shared: _SharedCamera) -> None:
    with _POOL_LOCK:
        shared.users -= 1
        if shared.users > 0:
            return
        _POOL.pop(device, None)
    with shared.lock:
        shared.lost()


def open_cameras() -> list[str]:
    """Devices some driver holds open now (for tests and diagnostics)."""
    with _POOL_LOCK:
        return sorted(_POOL)


class CameraDriver(Driver):
    """A UVC camera over a document stand: preview frames and stills."""

    kind: ClassVar[str] = "camera"

    def __init__(
        self,
        options: Mapping[str, Any],
        on_event: EventCallback | None = None,
        context: CaptureContext | None = None,
        *,
        source: FrameSource | None = None,
    ) -> None:
        super().__init__(options, on_event, context)
        self.settings = with_context(parse_options(self.options), context)
        self._given_source = source
        self._device = self.settings.device or (source.device if source else first_camera())
        self._shared: _SharedCamera | None = None
        self._closed = threading.Event()

    @classmethod
    def probe(cls) -> list[DeviceInfo]:
        """USB cameras present now (``/dev/video*`` nodes that capture)."""
        return [
            DeviceInfo(cls.kind, found.path, found.name, model=found.usb_id)
            for found in list_video_devices()
        ]

    @property
    def device(self) -> str:
        return self._device

    def capabilities(self) -> Capabilities:
        """A camera photographs whatever lies under it, an A3 spread included."""
        return Capabilities(("camera",), (self.settings.dpi,), (420.0, 297.0), True)

    def open(self) -> None:
        """Open the camera (shared with other drivers on it); IDLE or DeviceError.

        Also reconnects after the camera was unplugged and plugged back in.
        """
        if not self._device:
            raise DeviceError("camera.none")
        shared = self._shared or _attach(self._device, self._make_source)
        try:
            with shared.lock:
                if shared.mode is None:
                    shared.ensure(self._preview_mode())
        except DeviceError as exc:
            if self._shared is None:
                _detach(self._device, shared)
            self._fail(exc)
            raise
        self._shared = shared
        self._closed.clear()
        self._set_state(DeviceState.IDLE)

    def close(self) -> None:
        """Stop the preview, let go of the camera; state OFFLINE."""
        self._closed.set()
        self.cancel()
        shared, self._shared = self._shared, None
        if shared is not None:
            _detach(self._device, shared)
        if self._state is not DeviceState.OFFLINE:
            self._set_state(DeviceState.OFFLINE)

    def capture(self, count: int | None = 1) -> Iterator[CapturedImage]:
        """Take ``count`` stills (None: one; a camera has no feeder), one per page."""
        if self._state is not DeviceState.IDLE or self._shared is None:
            key = (
                N_("camera.unplugged")
                if self._state is DeviceState.OFFLINE
                else N_("camera.not_ready")
            )
            raise DeviceError(key, device=self._device, state=self._state.value)
        return self._run(1 if count is None else count, self._shared)

    def _run(self, total: int, shared: _SharedCamera) -> Iterator[CapturedImage]:
        self._cancel.clear()
        self._set_state(DeviceState.CAPTURING)
        try:
            for done in range(1, total + 1):
                if self._cancel.is_set():
                    break
                page = self._still(shared)
                values = {"done": done, "total": total}
                self._emit(
                    DriverEvent("progress", self._device, self._state, "camera.progress", values)
                )
                yield page
        finally:
            if self._state is DeviceState.CAPTURING:
                self._set_state(DeviceState.IDLE)

    def _still(self, shared: _SharedCamera) -> CapturedImage:
        with shared.lock:
            try:
                shared.ensure(self._still_mode())
                for _ in range(self.settings.settle_frames):
                    shared.source.read()
                frame = shared.source.read()
            except DeviceError as exc:
                self._fail(exc, shared)
                raise
            if isinstance(shared.source, SimulatedFrameSource):
                shared.source.turn_page()
        return self._captured(frame)

    def _captured(self, frame: Frame) -> CapturedImage:
        meta = {**frame.meta, "width": frame.width, "height": frame.height}
        captured = CapturedImage(self.settings.dpi, self.kind, self._device, meta=meta)
        if frame.jpeg is not None:
            captured.encoded, captured.format = frame.jpeg, "JPEG"
        elif frame.pixels is not None:
            captured.image = Image.fromarray(frame.pixels, "RGB")
        return captured

    def preview(self, fps: float | None = None) -> Iterator[bytes]:
        """JPEG frames for the live preview, at most ``fps`` a second.

        Ends when the driver is closed or the camera is unplugged (the state event says
        which); a still taken meanwhile pauses it for a moment.
        """
        shared = self._shared
        if shared is None:
            raise DeviceError("camera.not_ready", device=self._device, state=self._state.value)
        return self._preview(shared, 1.0 / (fps or self.settings.preview_fps))

    def _preview(self, shared: _SharedCamera, interval: float) -> Iterator[bytes]:
        due = time.monotonic()
        while not self._closed.is_set():
            wait = due - time.monotonic()
            if wait > 0 and self._closed.wait(wait):
                return
            due = max(due + interval, time.monotonic())
            with shared.lock:
                try:
                    shared.ensure(self._preview_mode())
                    frame = shared.source.read()
                except DeviceError as exc:
                    self._fail(exc, shared)
                    return
            yield frame.jpeg if frame.jpeg is not None else _encode_preview(frame)

    def _fail(self, exc: DeviceError, shared: _SharedCamera | None = None) -> None:
        """Report a device error as a state: unplugged is OFFLINE, the rest ERROR."""
        log.warning("camera %s: %s", self._device, exc.message("en"))
        if shared is not None:
            shared.lost()
        state = DeviceState.OFFLINE if exc.key == "camera.unplugged" else DeviceState.ERROR
        self._set_state(state, exc.key, **exc.values)

    def _preview_mode(self) -> FrameMode:
        s = self.settings
        return FrameMode(s.preview_width, s.preview_height, float(s.preview_fps))

    def _still_mode(self) -> FrameMode:
        return FrameMode(self.settings.still_width, self.settings.still_height)

    def _make_source(self) -> FrameSource:
        if self._given_source is not None:
            return self._given_source
        if is_simulated(self._device):
            s = self.settings
            return SimulatedFrameSource(
                self._device, SimulatedCamera(s.profile, s.seed, s.first_entry, s.dpi)
            )
        return V4L2Source(self._device)


def first_camera() -> str:
    """The first camera present, or "" when there is none."""
    found = list_video_devices()
    return found[0].path if found else ""


def _encode_preview(frame: Frame) -> bytes:
    buffer = io.BytesIO()
    if frame.pixels is not None:
        Image.fromarray(frame.pixels, "RGB").save(buffer, "JPEG", quality=PREVIEW_QUALITY)
    return buffer.getvalue()


def mjpeg_parts(frames: Iterable[bytes]) -> Iterator[bytes]:
    """Wrap JPEG frames as the parts of a ``multipart/x-mixed-replace`` response."""
    for jpeg in frames:
        head = f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
        yield f"{head}Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n"


__all__ = [
    "MJPEG_MIMETYPE",
    "CameraDriver",
    "Settings",
    "mjpeg_parts",
    "open_cameras",
    "parse_options",
]
