"""A simulated overhead camera: real JPEG frames of rendered ledger pages, and faults.

Like the simulated scanner it ships in the product (device id ``sim:0`` with
``capture.device = "camera"``) so the demo, the tests and a technician without a camera
can drive the whole camera path: preview frames, stills stored as the camera's JPEG,
and a camera pulled out mid-stream. A still shows the page on the desk, photographed at
an angle (``render_page`` with ``camera=True``); after each still the volunteer turns
the page, so the next still shows the next page with the entries that follow.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass, field

from PIL import Image

from station.capture.drivers.camera.frames import Frame, FrameMode
from station.capture.drivers.simulated.render.page import (
    RenderedPage,
    RenderSpec,
    entry_counts,
    render_page,
)
from station.core.errors import DeviceError

log = logging.getLogger(__name__)

SIM_PREFIX = "sim:"
STILL_QUALITY = 92  # what a document camera's MJPEG at full size typically looks like
PREVIEW_QUALITY = 70


@dataclass
class SimulatedCamera:
    """What the simulated camera photographs, and its faults."""

    profile: str = "spread-2"
    seed: int = 0
    first_entry: int = 1
    dpi: int = 150  # of the rendered page: the size of a full-resolution still
    #: Frames read before the cable is pulled out (None: never).
    unplug_after: int | None = None
    page_index: int = 0
    frames_read: int = 0
    opens: int = 0
    plugged: bool = True
    _cache: dict[tuple[int, int, int], bytes] = field(default_factory=dict, repr=False)


class SimulatedFrameSource:
    """A :class:`~station.capture.drivers.camera.frames.FrameSource` that renders what it films."""

    def __init__(self, device: str = "sim:0", camera: SimulatedCamera | None = None) -> None:
        self._device = device
        self.camera = camera or SimulatedCamera()
        self._mode: FrameMode | None = None
        self._page: RenderedPage | None = None
        self._lock = threading.Lock()

    @property
    def device(self) -> str:
        return self._device

    def open(self, mode: FrameMode) -> FrameMode:
        """Start in ``mode``; a still mode (0 x 0 or larger than the page) is full size."""
        with self._lock:
            if not self.camera.plugged:
                raise DeviceError("camera.unplugged", device=self._device)
            self.camera.opens += 1
            full = self._rendered().image.size
            width, height = _fit(full, mode)
            self._mode = FrameMode(width, height, mode.fps)
            return self._mode

    def read(self) -> Frame:
        with self._lock:
            cam = self.camera
            if cam.unplug_after is not None and cam.frames_read >= cam.unplug_after:
                cam.plugged = False
            if not cam.plugged or self._mode is None:
                self._mode = None
                raise DeviceError("camera.unplugged", device=self._device)
            cam.frames_read += 1
            page = self._rendered()
            mode = self._mode
            jpeg = self._jpeg(page, mode.width, mode.height)
            meta = {"truth": page.truth_dict(), "page_index": cam.page_index, "seed": cam.seed}
            return Frame(mode.width, mode.height, jpeg=jpeg, meta=meta)

    def close(self) -> None:
        with self._lock:
            self._mode = None

    def turn_page(self) -> None:
        """The volunteer turns the page: later frames show the next one."""
        with self._lock:
            cam = self.camera
            cam.first_entry += sum(entry_counts(cam.profile, cam.seed, cam.page_index))
            cam.page_index += 1
            cam._cache.clear()
            self._page = None

    def unplug(self) -> None:
        """Pull the cable out: reads and opens fail until :meth:`replug`."""
        with self._lock:
            self.camera.plugged = False

    def replug(self) -> None:
        with self._lock:
            self.camera.plugged, self.camera.unplug_after = True, None

    def _rendered(self) -> RenderedPage:
        cam = self.camera
        if self._page is None or self._page.page_index != cam.page_index:
            spec = RenderSpec(
                profile=cam.profile,
                dpi=cam.dpi,
                seed=cam.seed,
                page_index=cam.page_index,
                first_entry=cam.first_entry,
                camera=True,
            )
            self._page = render_page(spec)
        return self._page

    def _jpeg(self, page: RenderedPage, width: int, height: int) -> bytes:
        key = (self.camera.page_index, width, height)
        cached = self.camera._cache.get(key)
        if cached is None:
            image = page.image
            full = image.size == (width, height)
            if not full:
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            buffer = io.BytesIO()
            quality = STILL_QUALITY if full else PREVIEW_QUALITY
            image.save(buffer, "JPEG", quality=quality, dpi=(page.dpi, page.dpi))
            cached = self.camera._cache[key] = buffer.getvalue()
        return cached


def _fit(full: tuple[int, int], mode: FrameMode) -> tuple[int, int]:
    """The size a camera whose largest frame is ``full`` gives for a request of ``mode``."""
    if not mode.width or not mode.height or mode.width >= full[0] or mode.height >= full[1]:
        return full
    scale = min(mode.width / full[0], mode.height / full[1])
    return max(1, round(full[0] * scale)), max(1, round(full[1] * scale))


def is_simulated(device: str) -> bool:
    """Whether ``device`` names the simulated camera."""
    return device.startswith(SIM_PREFIX)
