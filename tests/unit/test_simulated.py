"""The simulated ledger scanner: rendering truth and the driver's state machine and faults."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from station.capture.drivers.base import CaptureContext, CapturedImage, DeviceState, DriverEvent
from station.capture.drivers.simulated import scanner as scanner_module
from station.capture.drivers.simulated.render import ink as ledger_ink
from station.capture.drivers.simulated.render.page import (
    PROFILES,
    RenderedPage,
    RenderSpec,
    entry_counts,
    render_page,
)
from station.capture.drivers.simulated.scanner import SimulatedScanner
from station.core.errors import ConfigError, DeviceError, StationError, UsageError

DPI = 100  # low resolution keeps the whole file fast; geometry scales with dpi


def render(**values: Any) -> RenderedPage:
    values.setdefault("dpi", DPI)
    return render_page(RenderSpec(**values))


def luminance(page: RenderedPage) -> np.ndarray:
    return np.asarray(page.image.convert("L"), dtype=np.float32)


def scanner(events: list[DriverEvent] | None = None, **options: Any) -> SimulatedScanner:
    options.setdefault("dpi", DPI)
    callback = events.append if events is not None else None
    driver = SimulatedScanner(options, callback)
    driver.open()
    return driver


def decodes(captured: CapturedImage) -> bool:
    assert captured.encoded is not None
    try:
        with Image.open(io.BytesIO(captured.encoded)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


# --- rendering -------------------------------------------------------------------------


def test_same_seed_and_index_give_same_pixels() -> None:
    first = render(profile="stacked", seed=5, page_index=2, stamp_probability=1.0)
    again = render(profile="stacked", seed=5, page_index=2, stamp_probability=1.0)
    assert first.image.tobytes() == again.image.tobytes()
    assert first.ink_mask.tobytes() == again.ink_mask.tobytes()
    assert first.truth_dict() == again.truth_dict()
    other = render(profile="stacked", seed=6, page_index=2, stamp_probability=1.0)
    assert other.image.tobytes() != first.image.tobytes()


@pytest.mark.parametrize("profile", sorted(p for p in PROFILES if not PROFILES[p].across))
def test_entry_counts_and_numbers_per_profile(profile: str) -> None:
    # A table across the spread is the register style's only (test_spread_table).
    page = render(profile=profile, seed=3, page_index=1, first_entry=40)
    counts = entry_counts(profile, 3, 1)
    assert len(page.entries) == sum(counts)
    assert [e.number for e in page.entries] == [str(40 + k) for k in range(sum(counts))]
    sides = [e.page_side for e in page.entries]
    assert sides == [side for side, n in enumerate(counts) for _ in range(n)]
    shape = PROFILES[profile]
    assert len(counts) == shape.pages
    assert all((2 <= n <= 4) if shape.stacked else n == 1 for n in counts)
    assert (page.gutter_x is not None) == (shape.pages == 2)


def test_stacked_counts_vary_with_seed() -> None:
    counts = {entry_counts("stacked", seed, 0)[0] for seed in range(30)}
    assert counts == {2, 3, 4}


def _polygon_masks(page: RenderedPage) -> list[np.ndarray]:
    masks = []
    for entry in page.entries:
        mask = np.zeros((page.image.height, page.image.width), np.uint8)
        cv2.fillPoly(mask, [np.round(np.array(entry.polygon)).astype(np.int32)], 1)
        masks.append(mask)
    return masks


@pytest.mark.parametrize("profile", ["spread-2", "spread-stacked", "stacked"])
@pytest.mark.parametrize("camera", [False, True])
def test_truth_regions_inside_image_and_disjoint(profile: str, camera: bool) -> None:
    page = render(profile=profile, seed=11, skew_max_deg=2.0, camera=camera)
    width, height = page.image.size
    for entry in page.entries:
        left, top, right, bottom = entry.box
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        assert all(0 <= x <= width and 0 <= y <= height for x, y in entry.polygon)
    overlap = np.sum(_polygon_masks(page), axis=0)
    assert overlap.max() == 1


def test_unskewed_boxes_do_not_overlap() -> None:
    page = render(profile="spread-stacked", seed=2, skew_max_deg=0.0)
    boxes = [e.box for e in page.entries]
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])


def test_stacked_entries_are_separated_by_ruled_lines() -> None:
    page = render(profile="stacked", seed=4, skew_max_deg=0.0)
    grey = luminance(page)
    assert len(page.entries) >= 2
    for upper, lower in zip(page.entries, page.entries[1:], strict=False):
        left, right = upper.box[0], upper.box[2]
        band = grey[upper.box[3] - 1 : lower.box[1] + 1, left + 20 : right - 20]
        assert band.mean(axis=1).min() < 90, "no dark ruled line between entries"
        inside = grey[upper.box[1] : upper.box[3], left:right]
        assert np.median(inside) > 150  # the entry itself is mostly paper


def test_stamp_pixels_are_red() -> None:
    page = render(profile="spread-2", seed=8, stamp_probability=1.0, faded_probability=0.0)
    assert all(e.has_stamp for e in page.entries)
    rgb = np.asarray(page.image, dtype=np.int16)
    seal = np.asarray(page.stamp_mask) > 0
    for entry in page.entries:
        assert entry.stamp_center is not None and entry.stamp_radius is not None
        cx, cy = entry.stamp_center
        r = entry.stamp_radius + 3
        x0, y0 = int(cx - r), int(cy - r)
        local = seal[y0 : int(cy + r), x0 : int(cx + r)]
        assert local.sum() > 50
        red, green, blue = (
            np.median(rgb[y0 : int(cy + r), x0 : int(cx + r), c][local]) for c in range(3)
        )
        assert red > 120 and green < 100 and blue < 100
        assert red - max(green, blue) > 60  # what imaging uses to find seal pixels
    unsealed = render(profile="spread-2", seed=8, stamp_probability=0.0)
    assert not any(e.has_stamp for e in unsealed.entries)
    assert np.asarray(unsealed.stamp_mask).max() == 0


def test_faded_handwriting_is_lighter() -> None:
    def ink_level(faded: float) -> float:
        page = render(profile="page-1", seed=9, faded_probability=faded, stamp_probability=0.0)
        assert all(e.faded == bool(faded) for e in page.entries)
        return float(luminance(page)[np.asarray(page.ink_mask) > 0].mean())

    assert ink_level(1.0) > ink_level(0.0) + 40


def test_ink_mask_marks_handwriting_inside_entries() -> None:
    page = render(profile="spread-stacked", seed=12, stamp_probability=0.0, camera=True)
    mask = np.asarray(page.ink_mask) > 0
    assert page.ink_mask.size == page.image.size
    assert mask.sum() > 1000
    grey = luminance(page)
    regions = np.sum(_polygon_masks(page), axis=0) > 0
    assert mask[regions].sum() / mask.sum() > 0.99  # ink belongs to some entry
    paper = np.median(grey[regions & ~mask])
    assert grey[mask].mean() < paper - 50  # and lies on dark writing
    assert all(e.handwritten for e in page.entries)
    assert all("Họ, chữ đệm, tên:" in e.printed_text for e in page.entries)


def test_truth_dict_is_json_safe() -> None:
    page = render(profile="spread-2", seed=1, stamp_probability=1.0, camera=True)
    truth = json.loads(json.dumps(page.truth_dict()))
    assert truth["size"] == list(page.image.size)
    assert "ink_mask" not in truth and "image" not in truth
    assert len(truth["entries"]) == 2 and truth["gutter_x"] == page.gutter_x


def test_bad_spec_is_refused_with_a_message() -> None:
    with pytest.raises(UsageError) as caught:
        render(profile="scroll")
    assert caught.value.key == "sim.bad_option"
    assert "profile" in caught.value.message("vi")


def test_missing_font_names_the_debian_package(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(ledger_ink, "FONT_DIRS", ())
    monkeypatch.setenv("LEDGER_STATION_FONT_DIR", str(tmp_path))
    ledger_ink.find_font.cache_clear()
    try:
        with pytest.raises(StationError) as caught:
            ledger_ink.find_font("DejaVuSans.ttf")
    finally:
        ledger_ink.find_font.cache_clear()
    assert caught.value.key == "fonts.missing"
    assert "fonts-dejavu-core" in caught.value.message("vi")
    assert "fonts-dejavu-core" in caught.value.message("en")


# --- driver ----------------------------------------------------------------------------


def test_probe_capabilities_and_states() -> None:
    [info] = SimulatedScanner.probe()
    assert (info.kind, info.device, info.label) == (
        "simulated",
        "sim:0",
        "Máy quét mô phỏng sổ hộ tịch",
    )
    events: list[DriverEvent] = []
    driver = SimulatedScanner({"dpi": DPI}, events.append)
    assert driver.state is DeviceState.OFFLINE
    caps = driver.capabilities()
    assert set(caps.sources) == {"flatbed", "adf"} and 600 in caps.resolutions
    assert not caps.live_preview
    driver.open()
    assert driver.state is DeviceState.IDLE
    list(driver.capture(2))
    assert driver.state is DeviceState.IDLE
    states = [e.state for e in events if e.kind == "state"]
    assert states == [DeviceState.IDLE, DeviceState.CAPTURING, DeviceState.IDLE]
    assert [e.values["done"] for e in events if e.kind == "progress"] == [1, 2]
    driver.close()
    assert driver.state is DeviceState.OFFLINE


def test_pages_and_numbers_continue_across_captures() -> None:
    driver = scanner(profile="spread-stacked", seed=21, first_entry=30)
    first = list(driver.capture(1)) + list(driver.capture(2))
    assert [c.meta["page_index"] for c in first] == [0, 1, 2]
    numbers = [e["number"] for c in first for e in c.meta["truth"]["entries"]]
    assert numbers == [str(30 + k) for k in range(len(numbers))]
    assert all(c.image is not None and c.encoded is None for c in first)
    again = driver.render(2)
    assert first[2].image is not None
    assert again.image.tobytes() == first[2].image.tobytes()
    assert again.truth_dict() == first[2].meta["truth"]


def test_jam_after_n_yields_n_pages_then_raises() -> None:
    driver = scanner(profile="page-1", jam_after=2)
    pages: list[CapturedImage] = []
    with pytest.raises(DeviceError) as caught:
        for captured in driver.capture(5):
            pages.append(captured)
    assert len(pages) == 2 and caught.value.key == "device.jammed"
    assert "Giấy bị kẹt" in caught.value.message("vi")
    assert driver.state is DeviceState.ERROR
    with pytest.raises(DeviceError):
        driver.capture(1)
    driver.clear_fault()
    assert driver.state is DeviceState.IDLE
    assert [c.meta["page_index"] for c in driver.capture(1)] == [2]


def test_unplug_takes_device_offline_until_replugged() -> None:
    driver = scanner(profile="page-1", unplug_after=1)
    pages: list[CapturedImage] = []
    with pytest.raises(DeviceError) as caught:
        pages.extend(driver.capture(3))
    assert len(pages) == 1 and caught.value.key == "device.unplugged"
    assert driver.state is DeviceState.OFFLINE
    with pytest.raises(DeviceError) as again:
        driver.open()
    assert again.value.key == "device.unplugged"
    driver.replug()
    driver.open()
    assert driver.state is DeviceState.IDLE
    assert len(list(driver.capture(1))) == 1


def test_injected_faults() -> None:
    driver = scanner(profile="page-1")
    driver.inject("jam", after=1)
    with pytest.raises(DeviceError) as caught:
        assert len(list(driver.capture(3))) == 1
    assert caught.value.key == "device.jammed"
    driver.clear_fault()
    driver.inject("unplug")
    assert driver.state is DeviceState.OFFLINE
    with pytest.raises(UsageError):
        driver.inject("flood")


def test_corrupt_frames_fail_to_decode_others_decode() -> None:
    driver = scanner(profile="page-1", output="jpeg", corrupt_every=2)
    frames = list(driver.capture(4))
    assert [decodes(f) for f in frames] == [True, False, True, False]
    assert [f.meta["corrupt"] for f in frames] == [False, True, False, True]
    assert all(f.format == "JPEG" and f.image is None for f in frames)


def test_jpeg_output_decodes_to_the_truth_size() -> None:
    driver = scanner(profile="spread-2", output="jpeg", camera=True)
    [frame] = driver.capture(1)
    assert frame.encoded is not None and frame.format == "JPEG"
    with Image.open(io.BytesIO(frame.encoded)) as image:
        assert image.format == "JPEG"
        assert list(image.size) == frame.meta["truth"]["size"]


def test_slow_feed_cancelled_before_the_first_page() -> None:
    driver = SimulatedScanner({"dpi": DPI, "slow_seconds": 60.0})

    def cancel_when_capturing(event: DriverEvent) -> None:
        if event.state is DeviceState.CAPTURING:
            driver.cancel()

    driver._on_event = cancel_when_capturing
    driver.open()
    started = time.monotonic()
    assert list(driver.capture(3)) == []
    assert time.monotonic() - started < 30  # the 60 s feed wait ended at the cancel
    assert driver.state is DeviceState.IDLE


class _WatchedEvent(threading.Event):
    """A cancel event that tells the test when the driver starts waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_slow_feed_cancelled_from_another_thread() -> None:
    driver = scanner(profile="page-1", slow_seconds=0.0)
    watched = _WatchedEvent()
    driver._cancel = watched
    pages = iter(driver.capture(3))
    first = next(pages)  # fed without delay
    driver.inject("slow", seconds=60.0)
    canceller = threading.Thread(target=lambda: watched.waiting.wait(30) and driver.cancel())
    canceller.start()
    started = time.monotonic()
    rest = list(pages)
    canceller.join(30)
    assert not canceller.is_alive()
    assert first.meta["page_index"] == 0 and rest == []
    assert time.monotonic() - started < 30
    assert driver.state is DeviceState.IDLE


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        SimulatedScanner({"colour": "blue"})
    assert caught.value.key == "sim.bad_option"
    with pytest.raises(ConfigError):
        SimulatedScanner({"dpi": "300"})


def test_pages_rendered_ahead_are_the_pages_asked_for() -> None:
    """Rendering ahead changes when a page is drawn, never which page a capture yields:
    the next sheet of a batch, the next single capture (a new driver for the book's next
    number, as the station makes one per press), and a guess that missed."""
    options = {"profile": "page-1", "seed": 5, "render_ahead": True}
    plain = {**options, "render_ahead": False}

    def pages(opts: dict[str, Any], first_entry: int, count: int) -> list[CapturedImage]:
        context = CaptureContext(profile="page-1", first_entry=first_entry)
        driver = SimulatedScanner({"dpi": DPI, **opts}, context=context)
        driver.open()
        try:
            return list(driver.capture(count))
        finally:
            driver.close()

    hits = scanner_module._AHEAD.hits
    first = pages(options, 1, 2)  # the second sheet was rendered ahead during the first
    following = 1 + sum(len(c.meta["truth"]["entries"]) for c in first)
    second = pages(options, following, 1)  # what the press after a batch asks for
    missed = pages(options, following + 7, 1)  # an operator's renumbering: not guessed
    assert scanner_module._AHEAD.hits - hits == 2
    expected = pages(plain, 1, 2) + pages(plain, following, 1) + pages(plain, following + 7, 1)
    got = first + second + missed
    assert [c.meta["truth"] for c in got] == [c.meta["truth"] for c in expected]
    assert all(
        a.image is not None and b.image is not None and a.image.tobytes() == b.image.tobytes()
        for a, b in zip(got, expected, strict=True)
    )
