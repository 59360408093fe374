"""UVC cameras on Linux: finding them (sysfs, one V4L2 ioctl) and reading frames (OpenCV).

Frames are read with OpenCV's V4L2 back-end, which the opencv-python-headless wheels
for x86_64 and aarch64 are built with (see pyproject.toml for why this and not a
separate V4L2 library). The camera is asked for Motion-JPEG and OpenCV is told not to
convert (``CAP_PROP_CONVERT_RGB`` off), so each frame arrives as the JPEG bytes the
camera compressed: the preview passes them on without decoding and a still is stored
exactly as the camera made it. A camera without MJPEG gives pixels instead.

Finding cameras reads only sysfs and asks each node VIDIOC_QUERYCAP, so it works with
no camera, no OpenCV and no permission on the device nodes.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from station.capture.drivers.camera.frames import Frame, FrameMode, looks_like_jpeg
from station.core.errors import DeviceError

log = logging.getLogger(__name__)

SYSFS_VIDEO = Path("/sys/class/video4linux")
DEV = Path("/dev")

# struct v4l2_capability: driver[16], card[32], bus_info[32], version, capabilities,
# device_caps, reserved[3]  (linux/videodev2.h)
_CAPABILITY = struct.Struct("16s32s32sIII12x")
VIDIOC_QUERYCAP = (2 << 30) | (_CAPABILITY.size << 16) | (ord("V") << 8) | 0
CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
CAP_DEVICE_CAPS = 0x80000000

MJPG = int.from_bytes(b"MJPG", "little")  # V4L2's pixel format code for Motion-JPEG
#: A size no camera has: V4L2 answers a request for it with its largest size.
LARGEST = 20000
#: Frames in a row that may fail before the camera counts as broken.
MAX_BAD_FRAMES = 5


@dataclass(frozen=True)
class VideoDevice:
    """A /dev/video* node that captures frames from a USB camera."""

    path: str
    name: str
    usb_id: str = ""  # "vvvv:pppp" of the USB device, for the known-devices table
    #: Whether the station may open the node (False: fix the permissions).
    accessible: bool = True


def list_video_devices(sysfs: Path = SYSFS_VIDEO, dev: Path = DEV) -> list[VideoDevice]:
    """USB capture devices by node number; empty when there is none or no sysfs."""
    try:
        entries = sorted(sysfs.iterdir(), key=_node_number)
    except OSError:
        return []
    found = []
    for entry in entries:
        device = _video_device(entry, dev / entry.name)
        if device is not None:
            found.append(device)
    return found


def _node_number(path: Path) -> int:
    match = re.search(r"(\d+)$", path.name)
    return int(match.group(1)) if match else 1 << 30


def _video_device(entry: Path, node: Path) -> VideoDevice | None:
    usb_id = _usb_id(entry / "device")
    if not usb_id:
        return None  # the Pi's ISP, codec and CSI nodes: not UVC cameras
    capture, accessible = _query_capture(node)
    if capture is None:
        # Could not ask the node: a UVC camera's first node (index 0) is the one that
        # captures; the second carries metadata only.
        capture = _read(entry / "index") in ("", "0")
    if not capture:
        return None
    name = _read(entry / "name") or entry.name
    return VideoDevice(str(node), name, usb_id, accessible)


def _usb_id(device_link: Path) -> str:
    """``vvvv:pppp`` of the USB device above a sysfs node, or "" when not on USB."""
    try:
        here = device_link.resolve(strict=True)
    except OSError:
        return ""
    for folder in (here, *list(here.parents)[:3]):
        vendor, product = _read(folder / "idVendor"), _read(folder / "idProduct")
        if vendor and product:
            return f"{vendor.lower()}:{product.lower()}"
    return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _query_capture(node: Path) -> tuple[bool | None, bool]:
    """(captures frames?, accessible?) from VIDIOC_QUERYCAP; None when it cannot ask."""
    try:
        fd = os.open(node, os.O_RDONLY | os.O_NONBLOCK)
    except PermissionError:
        return None, False
    except OSError:
        return None, True
    try:
        buffer = bytearray(_CAPABILITY.size)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, buffer)
    except OSError:
        return None, True
    finally:
        os.close(fd)
    _, _, _, _, caps, device_caps = _CAPABILITY.unpack(bytes(buffer))
    if caps & CAP_DEVICE_CAPS:
        caps = device_caps
    return bool(caps & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE)), True


class V4L2Source:
    """A real camera through OpenCV's V4L2 back-end, MJPEG passed through undecoded."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._capture: Any = None
        self._passthrough = False
        self._mode = FrameMode(0, 0)

    @property
    def device(self) -> str:
        return self._path

    def open(self, mode: FrameMode) -> FrameMode:
        """(Re)open the camera in ``mode``, asking for MJPEG."""
        import cv2

        self.close()
        if not os.path.exists(self._path):
            raise DeviceError("camera.open_failed", device=self._path, detail="no such device")
        capture = cv2.VideoCapture(self._path, cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise DeviceError("camera.open_failed", device=self._path, detail="busy or no access")
        capture.set(cv2.CAP_PROP_FOURCC, MJPG)
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, mode.width or LARGEST)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, mode.height or LARGEST)
        if mode.fps:
            capture.set(cv2.CAP_PROP_FPS, mode.fps)
        # Few buffers: a preview frame is never older than one frame interval.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 2)
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
        self._passthrough = fourcc == MJPG
        if self._passthrough:
            capture.set(cv2.CAP_PROP_CONVERT_RGB, 0)
        else:
            log.warning("camera %s has no MJPEG; frames are encoded on the CPU", self._path)
        self._capture = capture
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._mode = FrameMode(width, height, float(capture.get(cv2.CAP_PROP_FPS)))
        kind = "MJPEG" if self._passthrough else "pixels"
        log.info("camera %s open at %dx%d, %s", self._path, width, height, kind)
        return self._mode

    def read(self) -> Frame:
        """The next good frame; DeviceError when the camera is gone or sends nothing."""
        import cv2

        if self._capture is None:
            raise DeviceError("camera.no_frame", device=self._path, detail="not open")
        for _ in range(MAX_BAD_FRAMES):
            ok, data = self._capture.read()
            if not ok:
                self._check_present()
                continue
            if not self._passthrough:
                pixels = np.asarray(cv2.cvtColor(data, cv2.COLOR_BGR2RGB), dtype=np.uint8)
                return Frame(pixels.shape[1], pixels.shape[0], pixels=pixels)
            jpeg = np.asarray(data, dtype=np.uint8).tobytes()
            if looks_like_jpeg(jpeg):
                return Frame(self._mode.width, self._mode.height, jpeg=jpeg)
            log.debug("camera %s: dropped a broken frame of %d bytes", self._path, len(jpeg))
        self._check_present()
        raise DeviceError("camera.no_frame", device=self._path, detail="no good frame")

    def _check_present(self) -> None:
        """Raise camera.unplugged when the device node went away with the camera."""
        if not os.path.exists(self._path):
            self.close()
            raise DeviceError("camera.unplugged", device=self._path, errno=errno.ENODEV)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
