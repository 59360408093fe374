"""What a camera driver reads frames from: the :class:`FrameSource` protocol.

The camera driver (:mod:`station.capture.drivers.camera.driver`) never talks to hardware itself. A
frame source opens the device in a mode (size and rate), hands out frames, and closes;
the real one is :class:`station.capture.drivers.camera.v4l2.V4L2Source`, and
:class:`station.capture.drivers.camera.simulated.SimulatedFrameSource` renders ledger pages for the
tests and the demo, so stills from both go through the same pipeline.

A source raises :class:`station.core.errors.DeviceError` with one of the ``camera.*`` keys
below; ``camera.unplugged`` tells the driver the device is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

JPEG_SOI = b"\xff\xd8"


@dataclass(frozen=True)
class FrameMode:
    """A size and rate to open a camera in; 0 for a size means "the largest offered"."""

    width: int
    height: int
    fps: float = 0.0  # 0: the camera's own rate


@dataclass
class Frame:
    """One frame: the camera's JPEG bytes untouched, or pixels when it sent no JPEG."""

    width: int
    height: int
    jpeg: bytes | None = None
    pixels: np.ndarray | None = None  # RGB, height x width x 3, uint8
    #: What the source knows beyond the pixels (the simulated camera's ground truth).
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.jpeg is None) == (self.pixels is None):
            raise ValueError("a frame holds either JPEG bytes or pixels")


class FrameSource(Protocol):
    """A camera as seen by the driver; every method may raise DeviceError."""

    @property
    def device(self) -> str:
        """The device id, e.g. ``/dev/video0``."""
        ...

    def open(self, mode: FrameMode) -> FrameMode:
        """Start the device in ``mode`` (reopening if already open); the mode it gave."""
        ...

    def read(self) -> Frame:
        """The next frame; waits for it."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice."""
        ...


def looks_like_jpeg(data: bytes) -> bool:
    """Whether ``data`` could be a whole JPEG frame (start marker, plausible length).

    A UVC camera sends a short or empty buffer when a USB transfer was lost; such a
    frame is dropped rather than shown or stored.
    """
    return len(data) > 125 and data.startswith(JPEG_SOI)
