"""``[capture.camera]``: an overhead or document camera (UVC)."""

from __future__ import annotations

from dataclasses import dataclass

from station.core.config import option


@dataclass(frozen=True)
class CameraSection:
    preview_width: int = option(640, "Width of the live preview, pixels.", min=160, max=1920)
    preview_height: int = option(480, "Height of the live preview, pixels.", min=120, max=1080)
    preview_fps: int = option(8, "Frames per second of the live preview.", min=1, max=30)
    still_width: int = option(0, "Width of a captured page; 0: the largest.", min=0, max=20000)
    still_height: int = option(0, "Height of a captured page; 0: the largest.", min=0, max=20000)
    settle_frames: int = option(
        3, "Frames dropped before a still, while exposure settles.", min=0, max=60
    )
