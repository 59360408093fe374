"""The camera driver against the simulated camera (no camera is attached here)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from station.capture.drivers import create_driver
from station.capture.drivers.base import DeviceState, DriverEvent
from station.capture.drivers.camera import v4l2
from station.capture.drivers.camera.driver import (
    CameraDriver,
    mjpeg_parts,
    open_cameras,
    parse_options,
)
from station.capture.drivers.camera.frames import Frame, FrameMode, looks_like_jpeg
from station.capture.drivers.camera.simulated import SimulatedCamera, SimulatedFrameSource
from station.capture.drivers.camera.v4l2 import V4L2Source, list_video_devices
from station.core.errors import ConfigError, DeviceError

FAST = {"dpi": 60, "preview_width": 320, "preview_height": 240, "settle_frames": 1}


@pytest.fixture(autouse=True)
def _no_camera_left_open() -> Iterator[None]:
    yield
    assert open_cameras() == [], "a test left a camera open"


def _driver(
    events: list[DriverEvent], source: SimulatedFrameSource | None = None, **options: object
) -> CameraDriver:
    merged = {"device": "sim:0", **FAST, **options}
    if source is not None:
        return CameraDriver(merged, events.append, source=source)
    driver = create_driver("camera", merged, events.append)
    assert isinstance(driver, CameraDriver)
    return driver


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_preview_frames_are_small_jpegs_and_a_still_is_the_full_frame() -> None:
    events: list[DriverEvent] = []
    driver = _driver(events)
    driver.open()
    try:
        frames = driver.preview(fps=1000)
        previews = [next(frames) for _ in range(3)]
        assert all(looks_like_jpeg(f) for f in previews)
        assert max(_decode(previews[0]).size) <= 320
        [still] = list(driver.capture(1))
        assert still.format == "JPEG" and still.image is None and still.encoded
        full = _decode(still.encoded)
        assert full.size == (still.meta["width"], still.meta["height"])
        assert full.size[0] > 320 and still.dpi == 60 and still.source == "camera"
        assert still.meta["truth"]["entries"], "the simulated page's ground truth comes along"
        assert looks_like_jpeg(next(frames)), "the preview goes on after a still"
        frames.close()
    finally:
        driver.close()
    states = [e.state for e in events if e.kind == "state"]
    assert states == [
        DeviceState.IDLE,
        DeviceState.CAPTURING,
        DeviceState.IDLE,
        DeviceState.OFFLINE,
    ]
    assert [e.values for e in events if e.kind == "progress"] == [{"done": 1, "total": 1}]


def test_still_is_stored_exactly_as_the_camera_sent_it() -> None:
    driver = _driver([], SimulatedFrameSource("sim:0", SimulatedCamera(dpi=60)))
    driver.open()
    try:
        [still] = list(driver.capture(1))
    finally:
        driver.close()
    same_camera = SimulatedFrameSource("sim:0", SimulatedCamera(dpi=60))
    same_camera.open(FrameMode(0, 0))
    assert same_camera.read().jpeg == still.encoded
    same_camera.close()


def test_each_still_shows_the_next_page() -> None:
    driver = _driver([])
    driver.open()
    try:
        pages = list(driver.capture(2))
    finally:
        driver.close()
    assert [p.meta["page_index"] for p in pages] == [0, 1]
    first = pages[0].meta["truth"]["entries"]
    second = pages[1].meta["truth"]["entries"]
    assert int(second[0]["number"]) == int(first[-1]["number"]) + 1


def test_unplugged_mid_preview_ends_the_stream_and_reports_offline() -> None:
    events: list[DriverEvent] = []
    source = SimulatedFrameSource("sim:0", SimulatedCamera(dpi=60, unplug_after=3))
    driver = _driver(events, source=source)
    driver.open()
    try:
        frames = list(driver.preview(fps=1000))  # ends by itself
        assert len(frames) == 3
        assert driver.state is DeviceState.OFFLINE
        assert events[-1].message_key == "camera.unplugged"
        with pytest.raises(DeviceError) as info:
            list(driver.capture(1))
        assert info.value.key == "camera.unplugged"
        assert "USB" in info.value.message("en") and "USB" in info.value.message("vi")
        with pytest.raises(DeviceError):
            driver.open()  # still unplugged
        source.replug()
        driver.open()
        assert driver.state is DeviceState.IDLE
        assert len(list(driver.capture(1))) == 1
    finally:
        driver.close()


def test_unplugged_during_a_still_raises_with_its_own_message() -> None:
    events: list[DriverEvent] = []
    source = SimulatedFrameSource("sim:0", SimulatedCamera(dpi=60))
    driver = _driver(events, source=source, settle_frames=0)
    driver.open()
    try:
        assert len(list(driver.capture(1))) == 1
        source.unplug()
        with pytest.raises(DeviceError) as info:
            list(driver.capture(1))
    finally:
        driver.close()
    assert info.value.key == "camera.unplugged" and info.value.exit_code == 69
    assert DeviceState.OFFLINE in [e.state for e in events if e.message_key == "camera.unplugged"]


def test_drivers_on_one_camera_share_it_and_the_last_close_releases_it() -> None:
    source = SimulatedFrameSource("sim:0", SimulatedCamera(dpi=60))
    preview_driver = _driver([], source=source)
    still_driver = _driver([], source=SimulatedFrameSource("sim:0"))  # the pool's source wins
    preview_driver.open()
    still_driver.open()
    try:
        frames = preview_driver.preview(fps=1000)
        next(frames)
        [still] = list(still_driver.capture(1))
        next(frames)
        assert still.meta["page_index"] == 0 and source.camera.page_index == 1
        assert source.camera.opens == 3, "opened once, then switched to the still and back"
        still_driver.close()
        assert open_cameras() == ["sim:0"]
        next(frames)
    finally:
        preview_driver.close()
    assert open_cameras() == []


def test_closing_the_driver_ends_its_preview() -> None:
    driver = _driver([])
    driver.open()
    frames = driver.preview(fps=1000)
    next(frames)
    driver.close()
    assert list(frames) == []


def test_count_none_takes_one_still_and_cancel_stops_a_batch() -> None:
    driver = _driver([])
    driver.open()
    try:
        assert len(list(driver.capture(None))) == 1
        pages = driver.capture(3)
        next(pages)
        driver.cancel()
        assert list(pages) == []
    finally:
        driver.close()


def test_capture_before_open_is_refused() -> None:
    driver = _driver([])
    with pytest.raises(DeviceError) as info:
        driver.capture(1)
    assert info.value.key == "camera.unplugged"


def test_bad_options_name_the_key() -> None:
    with pytest.raises(ConfigError, match="preview_fps"):
        parse_options({"preview_fps": 0})
    with pytest.raises(ConfigError, match="unknown option"):
        parse_options({"colour": "red"})
    with pytest.raises(ConfigError, match="expected int"):
        parse_options({"dpi": "300"})


def test_no_camera_anywhere() -> None:
    driver = CameraDriver({})
    if driver.device:
        pytest.skip("a camera is attached to this machine")
    with pytest.raises(DeviceError) as info:
        driver.open()
    assert info.value.key == "camera.none"
    assert CameraDriver.probe() == []


def test_mjpeg_parts_frame_each_jpeg() -> None:
    parts = list(mjpeg_parts([b"\xff\xd8one", b"\xff\xd8two"]))
    assert parts[0] == (
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\n\xff\xd8one\r\n"
    )
    assert len(parts) == 2


def test_frame_holds_jpeg_or_pixels() -> None:
    with pytest.raises(ValueError):
        Frame(1, 1)


def test_real_source_on_a_missing_device_fails_clearly(tmp_path: Path) -> None:
    source = V4L2Source(str(tmp_path / "video9"))
    with pytest.raises(DeviceError) as info:
        source.open(FrameMode(640, 480))
    assert info.value.key == "camera.open_failed"
    assert "video" in info.value.message("vi")
    with pytest.raises(DeviceError):
        source.read()
    source.close()


def _fake_sysfs(root: Path) -> tuple[Path, Path]:
    """video0 (UVC capture) and video1 (its metadata node) on USB; video2 on the SoC."""
    sysfs, dev = root / "sys", root / "dev"
    usb = root / "devices" / "usb1" / "1-1"
    interface = usb / "1-1:1.0"
    interface.mkdir(parents=True)
    (usb / "idVendor").write_text("046D\n")
    (usb / "idProduct").write_text("0825\n")
    soc = root / "devices" / "platform" / "isp"
    soc.mkdir(parents=True)
    nodes = [
        ("HD Webcam C270", interface, "0"),
        ("HD Webcam C270", interface, "1"),
        ("bcm2835-isp", soc, "0"),
    ]
    for index, (name, parent, node_index) in enumerate(nodes):
        entry = sysfs / f"video{index}"
        entry.mkdir(parents=True)
        (entry / "name").write_text(name + "\n")
        (entry / "index").write_text(node_index + "\n")
        (entry / "device").symlink_to(parent)
    dev.mkdir()
    for index in range(3):
        (dev / f"video{index}").write_bytes(b"")  # not a device: QUERYCAP fails
    return sysfs, dev


def test_listing_finds_the_capture_node_of_each_usb_camera(tmp_path: Path) -> None:
    sysfs, dev = _fake_sysfs(tmp_path)
    [camera] = list_video_devices(sysfs, dev)
    assert camera.path == str(dev / "video0")
    assert camera.name == "HD Webcam C270" and camera.usb_id == "046d:0825"


def test_listing_without_sysfs_is_empty(tmp_path: Path) -> None:
    assert list_video_devices(tmp_path / "none", tmp_path) == []


def test_a_node_the_station_may_not_open_is_listed_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sysfs, dev = _fake_sysfs(tmp_path)

    def denied(path: object, flags: int) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(v4l2.os, "open", denied)
    [camera] = list_video_devices(sysfs, dev)
    assert camera.path == str(dev / "video0") and not camera.accessible
