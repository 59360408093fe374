"""The driver registry: each driver gets its own options, and the book only as context."""

from __future__ import annotations

import dataclasses

import pytest

from station.capture import drivers
from station.capture.drivers.base import CaptureContext
from station.capture.drivers.simulated.scanner import SimulatedScanner
from station.core import config
from station.core.errors import DeviceError

SET_UP = """
[capture]
device = "sane"
device_id = "test:0"
dpi = 200
[capture.sane]
area = "A4"
[capture.simulated]
seed = 9
"""


@pytest.mark.parametrize("kind", sorted(drivers.REGISTRY))
def test_a_driver_is_given_dpi_and_its_own_table_only(kind: str) -> None:
    capture = config.parse(SET_UP, environ={}).capture
    options = drivers.configured_options(capture, kind)
    own = {f.name for f in dataclasses.fields(drivers.REGISTRY[kind].schema)}
    takes_device = drivers.REGISTRY[kind].takes_device_id
    assert set(options) == {"dpi", *own, *(["device"] if takes_device else [])}
    assert options["dpi"] == 200
    assert options.get("device") == ("test:0" if takes_device else None)


def test_the_sane_driver_takes_the_book_as_context() -> None:
    """The bug this fixes: the capture job gave every driver the simulator's
    ``first_entry`` and ``profile``, and the SANE driver refused them."""
    pytest.importorskip("sane")
    capture = config.parse(SET_UP, environ={}).capture
    options = drivers.configured_options(capture, "sane")
    driver = drivers.create_driver("sane", options, context=CaptureContext("page-1", 23))
    assert (driver.device, driver.context) == ("test:0", CaptureContext("page-1", 23))
    driver.close()


def test_the_simulator_renders_the_book_it_is_given() -> None:
    capture = config.parse(SET_UP, environ={}).capture
    options = drivers.configured_options(capture, "simulated")
    driver = drivers.create_driver("simulated", options, context=CaptureContext("page-1", 23))
    assert isinstance(driver, SimulatedScanner)
    assert (driver.settings.profile, driver.settings.seed) == ("page-1", 9)
    driver.open()
    [page] = list(driver.capture(1))
    driver.close()
    truth = page.meta["truth"]
    assert truth["profile"] == "page-1"
    assert truth["entries"][0]["number"] == "23"  # as written on the page
    without = drivers.create_driver("simulated", options)
    assert isinstance(without, SimulatedScanner)
    assert (without.settings.profile, without.settings.first_entry) == ("spread-2", 1)


def test_no_chosen_device_is_a_device_error_that_says_what_to_do() -> None:
    with pytest.raises(DeviceError) as info:
        drivers.driver_class("")
    assert "capture.device (camera, folder, sane, simulated)" in info.value.message("en")
    assert "Chưa chọn thiết bị nhận ảnh" in info.value.message("vi")
