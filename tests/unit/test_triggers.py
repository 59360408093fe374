"""Capture triggers: real input_event records through a FIFO, debounce."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.capture import triggers as triggers_module
from station.capture.inputdev import (
    EV_KEY,
    INPUT_EVENT,
    KEY_CODES,
    InputDevice,
    key_code,
    list_input_devices,
    parse_key_bitmap,
)
from station.capture.triggers import KeyReader, TriggerEvent, Triggers, wanted_devices
from station.core.config import TriggersSection
from station.core.errors import ConfigError

EV_SYN, EV_MSC = 0x00, 0x04
KEY_B, KEY_X, KEY_PAGEDOWN = KEY_CODES["KEY_B"], KEY_CODES["KEY_X"], KEY_CODES["KEY_PAGEDOWN"]


def event(when: float, kind: int, code: int, value: int) -> bytes:
    """One ``struct input_event`` as the kernel writes it."""
    seconds = int(when)
    return INPUT_EVENT.pack(seconds, round((when - seconds) * 1e6), kind, code, value)


def press(when: float, code: int) -> bytes:
    """What a keyboard sends for one press: scan code, key down, sync, key up, sync."""
    return b"".join(
        [
            event(when, EV_MSC, 4, 0x70005),
            event(when, EV_KEY, code, 1),
            event(when, EV_SYN, 0, 0),
            event(when + 0.08, EV_KEY, code, 0),
            event(when + 0.08, EV_SYN, 0, 0),
        ]
    )


class Presses:
    """Collects trigger events; wait() blocks until ``count`` have come."""

    def __init__(self) -> None:
        self.events: list[TriggerEvent] = []
        self._changed = threading.Condition()

    def __call__(self, trigger: TriggerEvent) -> None:
        with self._changed:
            self.events.append(trigger)
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[TriggerEvent]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.events) >= count, timeout), self.events
            return list(self.events)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "event7"
    os.mkfifo(path)
    return path


@pytest.fixture
def reader_on(fifo: Path) -> Iterator[tuple[KeyReader, Presses, int]]:
    """A started reader on the FIFO (KEY_B, KEY_PAGEDOWN), and the FIFO's write end."""
    presses = Presses()
    reader = KeyReader(lambda: [str(fifo)], {KEY_B, KEY_PAGEDOWN}, presses, debounce=0.4)
    reader.start()
    writer = os.open(fifo, os.O_WRONLY)  # the reader holds the other end: no wait
    try:
        yield reader, presses, writer
    finally:
        os.close(writer)
        reader.stop()


def test_trigger_keys_call_back_and_others_are_ignored(
    reader_on: tuple[KeyReader, Presses, int], fifo: Path
) -> None:
    reader, presses, writer = reader_on
    assert reader.paths == [str(fifo)]
    os.write(writer, press(100.0, KEY_X))  # not a trigger key
    os.write(writer, event(100.5, EV_KEY, KEY_B, 2))  # auto-repeat of a held key
    os.write(writer, press(101.0, KEY_B) + press(102.0, KEY_PAGEDOWN))
    got = presses.wait(2)
    assert [(e.source, e.device, e.detail, e.time) for e in got] == [
        ("key", str(fifo), "KEY_B", 101.0),
        ("key", str(fifo), "KEY_PAGEDOWN", 102.0),
    ]


def test_presses_within_the_debounce_time_count_once(
    reader_on: tuple[KeyReader, Presses, int],
) -> None:
    _, presses, writer = reader_on
    os.write(writer, press(200.0, KEY_B) + press(200.15, KEY_B) + press(200.3, KEY_PAGEDOWN))
    os.write(writer, press(201.0, KEY_B))
    got = presses.wait(2)
    assert [e.time for e in got] == [200.0, 201.0]


def test_an_event_split_across_writes_is_put_back_together(
    reader_on: tuple[KeyReader, Presses, int],
) -> None:
    _, presses, writer = reader_on
    data = press(300.0, KEY_B)
    for start in range(0, len(data), 7):
        os.write(writer, data[start : start + 7])
    assert presses.wait(1)[0].time == 300.0


def test_a_device_that_ends_is_dropped_and_the_reader_goes_on(tmp_path: Path) -> None:
    first, second = tmp_path / "event1", tmp_path / "event2"
    os.mkfifo(first)
    os.mkfifo(second)
    presses = Presses()
    reader = KeyReader(lambda: [str(first), str(second)], {KEY_B}, presses, debounce=0)
    reader.start()
    try:
        one, two = os.open(first, os.O_WRONLY), os.open(second, os.O_WRONLY)
        os.write(one, press(1.0, KEY_B))
        presses.wait(1)
        os.close(one)  # the pedal on event1 is unplugged
        os.write(two, press(2.0, KEY_B))
        assert [e.device for e in presses.wait(2)] == [str(first), str(second)]
        os.close(two)
    finally:
        reader.stop()
    assert reader.paths == []


def test_events_from_a_plain_file(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    recorded.write_bytes(press(5.0, KEY_B) + press(9.0, KEY_B))
    presses = Presses()
    reader = KeyReader(lambda: [str(recorded)], {KEY_B}, presses, rescan=3600).start()
    try:
        assert [e.time for e in presses.wait(2)] == [5.0, 9.0]
    finally:
        reader.stop()


def test_a_device_plugged_in_later_is_picked_up(fifo: Path, tmp_path: Path) -> None:
    later = tmp_path / "event9"
    presses = Presses()
    reader = KeyReader(lambda: [str(later)], {KEY_B}, presses, rescan=0.02).start()
    writer: list[int] = []
    try:
        assert reader.paths == []
        os.mkfifo(later)
        # Opening the write end returns once the reader has opened the FIFO.
        opener = threading.Thread(target=lambda: writer.append(os.open(later, os.O_WRONLY)))
        opener.start()
        opener.join(10)
        assert writer, "the reader never opened the device plugged in later"
        os.write(writer[0], press(1.0, KEY_B))
        presses.wait(1)
    finally:
        if opener.is_alive():  # release the blocked open before failing
            os.close(os.open(later, os.O_RDONLY | os.O_NONBLOCK))
            opener.join()
        for fd in writer:
            os.close(fd)
        reader.stop()


def test_no_permission_is_reported_with_the_fix(
    fifo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: str, flags: int) -> int:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(triggers_module.os, "open", denied)
    reader = KeyReader(lambda: [str(fifo)], {KEY_B}, Presses(), rescan=3600).start()
    try:
        [(key, values)] = reader.problem_list().values()
    finally:
        reader.stop()
    assert key == "triggers.no_access" and values == {"path": str(fifo)}
    message = triggers_module.messages.render(key, "vi", **values)
    assert "input" in message and str(fifo) in message


def test_grab_on_something_that_is_no_input_device_is_only_a_warning(
    fifo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    presses = Presses()
    reader = KeyReader(lambda: [str(fifo)], {KEY_B}, presses, grab=True, rescan=3600).start()
    try:
        writer = os.open(fifo, os.O_WRONLY)
        os.write(writer, press(1.0, KEY_B))
        presses.wait(1)
        os.close(writer)
    finally:
        reader.stop()
    assert "for the station alone" in caplog.text


def test_a_callback_error_does_not_stop_the_reader(
    reader_on: tuple[KeyReader, Presses, int],
) -> None:
    reader, _, writer = reader_on
    calls = Presses()

    def flaky(trigger: TriggerEvent) -> None:
        calls(trigger)
        raise RuntimeError("listener bug")

    reader._on_press = flaky
    os.write(writer, press(1.0, KEY_B) + press(2.0, KEY_B))
    assert len(calls.wait(2)) == 2


def test_key_names_and_numbers() -> None:
    assert key_code("KEY_B") == 48 == key_code("key_b") == key_code("48")
    assert key_code("KEY_PAGEDOWN") == 109 and key_code("KEY_ENTER") == 28
    assert key_code("KEY_SPACE") == 57 and key_code("KEY_A") == 30 and key_code("KEY_M") == 50
    with pytest.raises(ConfigError) as info:
        key_code("KEY_BANANA")
    assert "KEY_BANANA" in info.value.message("vi") and "KEY_BANANA" in info.value.message("en")


def test_key_bitmap_of_a_real_keyboard() -> None:
    # /sys/class/input/event*/device/capabilities/key of a USB keyboard (64-bit words).
    keys = parse_key_bitmap("1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe")
    assert {30, 48, 57, 109, 28} <= keys and 0 not in keys
    assert parse_key_bitmap("") == frozenset() and parse_key_bitmap("zz") == frozenset()


def _fake_input_sysfs(root: Path) -> Path:
    sysfs = root / "class" / "input"
    devices = {
        "event0": ("Power Button", "10000000000000 0"),
        "event3": ("PCsensor FootSwitch", "0 0 0 1000000000000"),
        "event4": ("Logitech USB Receiver Mouse", ""),
    }
    for node, (name, keys) in devices.items():
        caps = sysfs / node / "device" / "capabilities"
        caps.mkdir(parents=True)
        (caps / "key").write_text(keys + "\n")
        (sysfs / node / "device" / "name").write_text(name + "\n")
    return sysfs


def test_input_devices_from_sysfs(tmp_path: Path) -> None:
    devices = list_input_devices(_fake_input_sysfs(tmp_path), Path("/dev/input"))
    assert [(d.path, d.name) for d in devices] == [
        ("/dev/input/event0", "Power Button"),
        ("/dev/input/event3", "PCsensor FootSwitch"),
    ]
    assert KEY_B in devices[1].keys and devices[0].keys == {116}
    assert list_input_devices(tmp_path / "nothing") == []


def test_which_devices_are_read(tmp_path: Path) -> None:
    devices = list_input_devices(_fake_input_sysfs(tmp_path), Path("/dev/input"))
    settings = TriggersSection(enabled=True)
    codes = {KEY_B}
    assert wanted_devices(settings, codes, devices) == ["/dev/input/event3"]
    by_name = dataclasses.replace(settings, devices=("pcsensor footswitch",))
    assert wanted_devices(by_name, codes, devices) == ["/dev/input/event3"]
    link = tmp_path / "usb-PCsensor_FootSwitch-event-kbd"
    link.symlink_to(tmp_path / "event3")
    by_path = dataclasses.replace(settings, devices=(str(link),))
    assert wanted_devices(by_path, codes, devices) == [str(tmp_path / "event3")]


def test_triggers_from_the_configuration(fifo: Path) -> None:
    foot = InputDevice(str(fifo), "FootSwitch", frozenset({KEY_B}))
    presses = Presses()
    settings = TriggersSection(enabled=True, keys=("KEY_B",), debounce_ms=0)
    triggers = Triggers(settings, presses, list_devices=lambda: [foot]).start()
    try:
        writer = os.open(fifo, os.O_WRONLY)
        os.write(writer, press(1.0, KEY_B))
        presses.wait(1)
        status = triggers.status()
        assert status["devices"] == [str(fifo)]
        assert status["keys"] == ["KEY_B"] and status["problems"] == {}
        os.close(writer)
    finally:
        triggers.stop()


def test_triggers_off_start_nothing() -> None:
    triggers = Triggers(TriggersSection(), Presses()).start()
    assert triggers.keys is None
    assert triggers.status()["enabled"] is False
    triggers.stop()


def test_a_bad_key_in_the_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="KEY_NOPE"):
        Triggers(TriggersSection(keys=("KEY_B", "KEY_NOPE")), Presses())
