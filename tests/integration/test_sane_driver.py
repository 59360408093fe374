"""The SANE driver against the real SANE ``test`` backend through python-sane.

Fault injection is what the test backend really offers: its ``read-return-value``
option makes every sane_read() return the chosen status. It applies from the next
page on, so setting it through the driver after page N of a feeder batch stands in
for a scanner that fails on sheet N+1; sane_start() cannot be made to fail this way.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("sane")

from station.capture.drivers import driver_class
from station.capture.drivers.base import DeviceState, DriverEvent
from station.capture.drivers.sane.scanner import SaneScanner
from station.capture.drivers.sane.status import SaneStatus, classify
from station.core import messages
from station.core.errors import ConfigError, DeviceError
from tests.support.sane_backend import BED_MM, FORCED_STATUSES, sane_test_backend

DEBIAN_SANE = Path("/usr/lib/python3/dist-packages/sane.py")


@pytest.fixture
def sane_dir(tmp_path: Path) -> Iterator[Path]:
    with sane_test_backend(tmp_path / "sane") as folder:
        yield folder


class Recorder:
    """Collects a driver's events; optionally acts when page N has been fed."""

    def __init__(self) -> None:
        self.events: list[DriverEvent] = []
        self.after_page: dict[int, list[Callable[[], None]]] = {}
        self.reading = threading.Event()

    def __call__(self, event: DriverEvent) -> None:
        self.events.append(event)
        if event.message_key == "sane.reading":
            self.reading.set()
        if event.message_key == "sane.progress":
            for action in self.after_page.get(event.values["done"], []):
                action()

    def keys(self, key: str) -> list[dict[str, object]]:
        return [e.values for e in self.events if e.message_key == key]


def scanner(recorder: Recorder | None = None, **options: object) -> SaneScanner:
    settings = {"device": "test:0", "dpi": 75, "mode": "gray", "area": "A4", **options}
    driver = SaneScanner(settings, recorder)
    driver.open()
    return driver


def test_probe_lists_the_test_devices(sane_dir: Path) -> None:
    found = SaneScanner.probe()
    assert [d.device for d in found] == ["test:0", "test:1"]
    assert all(d.kind == "sane" and d.model == "frontend-tester" for d in found)


def test_capabilities_come_from_the_device_options(sane_dir: Path) -> None:
    driver = scanner()
    try:
        caps = driver.capabilities()
    finally:
        driver.close()
    assert caps.sources == ("flatbed", "adf")
    assert {75, 150, 300, 600, 1200} <= set(caps.resolutions)
    assert caps.max_area_mm == (BED_MM, BED_MM)
    assert driver.state is DeviceState.OFFLINE


@pytest.mark.parametrize(
    ("area", "mode", "size", "image_mode"),
    [
        ("A4", "color", (2480, 3507), "RGB"),  # 210 x 297 mm at 300 dpi
        ("A3", "color", (3507, 4960), "RGB"),  # 297 x 420 mm at 300 dpi
        ("A3-landscape", "gray", (4960, 3507), "L"),  # an open A4 spread
        ("250x330", "gray", (2952, 3897), "L"),  # a custom ledger size in mm
    ],
)
def test_flatbed_scans_the_requested_area_at_300_dpi(
    sane_dir: Path, area: str, mode: str, size: tuple[int, int], image_mode: str
) -> None:
    driver = scanner(dpi=300, area=area, mode=mode, source="flatbed")
    try:
        pages = list(driver.capture(1))
    finally:
        driver.close()
    assert len(pages) == 1
    page = pages[0]
    assert page.image is not None
    assert (page.image.size, page.image.mode) == (size, image_mode)
    assert (page.dpi, page.device, page.source) == (300, "test:0", "sane")
    assert page.meta["source"] == "flatbed"
    # The Grid picture: black and white squares, so both values are there.
    assert page.image.convert("L").getextrema() == (0, 255)


def test_area_slightly_over_the_bed_is_clamped(sane_dir: Path) -> None:
    driver = scanner(area=f"{BED_MM + 2:g}x{BED_MM + 2:g}")
    try:
        page = next(driver.capture(1))
        assert page.meta["area_mm"] == [BED_MM, BED_MM]
        assert page.image is not None and page.image.size == (1269, 1269)  # 430 mm at 75 dpi
    finally:
        driver.close()


def test_area_that_cannot_fit_is_refused_before_scanning(sane_dir: Path) -> None:
    recorder = Recorder()
    driver = scanner(recorder, area="450x600")
    try:
        with pytest.raises(DeviceError) as caught:
            driver.capture(1)
        assert caught.value.key == "sane.area_too_large"
        assert "450×600 mm" in caught.value.message("en")
        assert f"{BED_MM:g}×{BED_MM:g} mm" in caught.value.message("vi")
        assert driver.state is DeviceState.IDLE
        assert not recorder.keys("sane.progress")
    finally:
        driver.close()


def test_missing_source_names_the_ones_there(sane_dir: Path) -> None:
    driver = scanner(source="adf-duplex")
    try:
        with pytest.raises(DeviceError) as caught:
            driver.capture(1)
    finally:
        driver.close()
    assert caught.value.key == "sane.no_source"
    assert "flatbed, adf" in caught.value.message("en")


@pytest.mark.parametrize(
    ("options", "key"),
    [({"colour": "gray"}, "colour"), ({"mode": "sepia"}, "mode"), ({"area": "A2"}, "area")],
)
def test_bad_settings_are_config_errors(options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SaneScanner(options)
    assert caught.value.values["key"] == key


def test_feeder_batch_runs_until_the_feeder_is_empty(sane_dir: Path) -> None:
    recorder = Recorder()
    driver = scanner(recorder, source="adf")
    try:
        pages = list(driver.capture(None))
    finally:
        driver.close()
    # The test backend's feeder holds 10 sheets; the empty feeder ends the batch.
    assert len(pages) == 10
    assert [p.meta["page_in_batch"] for p in pages] == list(range(1, 11))
    assert [v["done"] for v in recorder.keys("sane.progress")] == list(range(1, 11))
    assert recorder.keys("sane.reading"), "python-sane's line progress is reported"
    states = [e.state.value for e in recorder.events if e.kind == "state" and e.state]
    assert states == ["idle", "capturing", "idle", "offline"]


def test_feeder_batch_stops_at_the_requested_count(sane_dir: Path) -> None:
    driver = scanner(source="adf")
    try:
        assert len(list(driver.capture(3))) == 3
        assert driver.state is DeviceState.IDLE
    finally:
        driver.close()


def test_empty_feeder_at_the_start_is_an_error(sane_dir: Path) -> None:
    driver = scanner(source="adf")
    try:
        assert len(list(driver.capture(None))) == 10
        driver.set_device_option("read-return-value", "SANE_STATUS_NO_DOCS")
        with pytest.raises(DeviceError) as caught:
            list(driver.capture(None))
        assert caught.value.key == "sane.no_docs"
        assert caught.value.values["pages"] == 0
    finally:
        driver.close()


def forced_failure(status: str) -> tuple[int, DeviceError, DeviceState]:
    """A feeder batch whose sane_read() returns ``status`` from the third sheet on."""
    recorder = Recorder()
    # The test backend keeps option values between opens: start from a clean device.
    driver = scanner(recorder, source="adf", options={"read-return-value": "Default"})
    recorder.after_page[2] = [lambda: driver.set_device_option("read-return-value", status)]
    pages = []
    try:
        with pytest.raises(DeviceError) as caught:
            for page in driver.capture(None):
                pages.append(page)
        state = driver.state
    finally:
        driver.close()
    assert caught.value.values["pages"] == 2
    failed = [e for e in recorder.events if e.kind == "state" and e.message_key]
    assert [(e.message_key, e.values["pages"]) for e in failed] == [(caught.value.key, 2)]
    return len(pages), caught.value, state


def test_each_forced_status_has_its_own_message(sane_dir: Path) -> None:
    seen: dict[str, DeviceError] = {}
    for status in FORCED_STATUSES:
        fed, error, state = forced_failure(status)
        assert fed == 2, status
        lost = error.key in ("sane.eof", "sane.io_error", "sane.access_denied")
        assert state is (DeviceState.OFFLINE if lost else DeviceState.ERROR), status
        seen[status] = error
    keys = {status: error.key for status, error in seen.items()}
    assert len(set(keys.values())) == len(FORCED_STATUSES), keys
    assert "sane.failed" not in keys.values()
    assert keys["SANE_STATUS_JAMMED"] == "sane.jammed"
    assert keys["SANE_STATUS_EOF"] == "sane.eof"
    for lang in messages.LANGUAGES:
        texts = [error.message(lang) for error in seen.values()]
        assert len(set(texts)) == len(texts), lang
        assert all("test:0" in text and "2" in text for text in texts)
    assert "kẹt" in seen["SANE_STATUS_JAMMED"].message("vi")
    assert "cover" in seen["SANE_STATUS_COVER_OPEN"].message("en")


def test_a_failure_on_the_first_page_yields_nothing(tmp_path: Path) -> None:
    with sane_test_backend(tmp_path / "sane", read_status="SANE_STATUS_COVER_OPEN"):
        driver = scanner()
        try:
            with pytest.raises(DeviceError) as caught:
                list(driver.capture(1))
        finally:
            driver.close()
    assert (caught.value.key, caught.value.values["pages"]) == ("sane.cover_open", 0)


def test_the_device_scans_again_after_a_fault(sane_dir: Path) -> None:
    driver = scanner(source="adf")
    try:
        driver.set_device_option("read-return-value", "SANE_STATUS_JAMMED")
        with pytest.raises(DeviceError):
            list(driver.capture(None))
        assert driver.state is DeviceState.ERROR
        driver.set_device_option("read-return-value", "Default")  # the sheet was removed
        assert len(list(driver.capture(2))) == 2
        assert driver.state is DeviceState.IDLE
    finally:
        driver.close()


def test_cancel_between_pages_ends_the_batch_quietly(sane_dir: Path) -> None:
    recorder = Recorder()
    driver = scanner(recorder, source="adf")
    recorder.after_page[3] = [driver.cancel]
    try:
        pages = list(driver.capture(None))
        assert len(pages) == 3
        assert driver.state is DeviceState.IDLE
        assert len(list(driver.capture(1))) == 1  # a new batch runs normally
    finally:
        driver.close()


def test_cancel_from_another_thread_drops_the_partial_page(sane_dir: Path) -> None:
    recorder = Recorder()
    driver = scanner(recorder, source="flatbed")
    # 200 ms after each buffer: the page takes seconds, long enough to cancel it.
    driver.set_device_option("read-delay", True)
    driver.set_device_option("read-delay-duration", 200000)
    pages: list[object] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            pages.extend(driver.capture(1))
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    worker = threading.Thread(target=scan, name="test-sane-scan")
    worker.start()
    try:
        assert recorder.reading.wait(10), "the page never started"
        driver.cancel()
        worker.join(10)
        assert not worker.is_alive()
        assert (pages, errors) == ([], [])
        assert driver.state is DeviceState.IDLE
        driver.set_device_option("read-delay", False)
        assert len(list(driver.capture(1))) == 1
    finally:
        driver.cancel()
        worker.join(10)
        driver.close()


def test_unknown_device_names_the_present_ones(sane_dir: Path) -> None:
    driver = SaneScanner({"device": "test:9"})
    with pytest.raises(DeviceError) as caught:
        driver.open()
    assert caught.value.key == "sane.not_found"
    assert "test:0, test:1" in caught.value.message("en")
    assert driver.state is DeviceState.OFFLINE


def test_capture_needs_an_open_device(sane_dir: Path) -> None:
    with pytest.raises(DeviceError) as caught:
        SaneScanner({"device": "test:0"}).capture(1)
    assert caught.value.key == "sane.not_open"


def test_missing_python_sane_disables_only_this_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sane", None)  # import sane now raises ImportError
    for name in ("scanner", "buttons", "library"):  # the modules that import sane
        monkeypatch.delitem(sys.modules, f"station.capture.drivers.sane.{name}")
    with pytest.raises(DeviceError) as caught:
        driver_class("sane")
    assert caught.value.key == "driver.unavailable"
    assert "python3-sane" in caught.value.message("vi")
    assert "ledger-station[sane]" in caught.value.message("en")
    assert driver_class("simulated").kind == "simulated"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Document feeder jammed", SaneStatus.JAMMED),
        ("Operation was canceled", SaneStatus.CANCELLED),  # SANE 1.1 and later
        ("Operation was cancelled", SaneStatus.CANCELLED),  # older SANE
        ("Lamp not ready, please retry", SaneStatus.WARMING_UP),
        ("Scanner mechanism locked for transport", SaneStatus.HW_LOCKED),
        ("Scanner returned no data", SaneStatus.EOF),
        ("Unknown SANE status code 42", SaneStatus.UNKNOWN),
    ],
)
def test_status_texts_are_recognised(text: str, status: SaneStatus) -> None:
    assert classify(RuntimeError(text)) is status
    assert messages.known(status.key)


DEBIAN_SCRIPT = """
import faulthandler, json, sys
# Seen once (under a loaded CI machine) to hang for the test's whole 60 s: the child
# prints where every thread is and exits before then, so the failure says where.
faulthandler.dump_traceback_later(50, exit=True)
import sane
from station.capture.drivers.sane.scanner import SaneScanner
options = {"device": "test:0", "dpi": 75, "mode": "gray", "source": "adf", "area": "A4"}
driver = SaneScanner(options)
driver.open()
sizes = [p.image.size for p in driver.capture(3)]
driver.set_device_option("read-return-value", "SANE_STATUS_JAMMED")
try:
    list(driver.capture(1))
except Exception as exc:
    key = exc.key
driver.close()
print(json.dumps({"version": sane.__version__, "file": sane.__file__, "sizes": sizes,
                  "key": key}))
"""


@pytest.mark.skipif(not DEBIAN_SANE.exists(), reason="Debian's python3-sane is not installed")
def test_debian_python3_sane_works_too(sane_dir: Path, tmp_path: Path) -> None:
    # Only Debian's sane module and its extension shadow the PyPI build in the venv.
    shim = tmp_path / "debian-sane"
    shim.mkdir()
    for module in DEBIAN_SANE.parent.glob("_sane.*.so"):
        (shim / module.name).symlink_to(module)
    (shim / "sane.py").symlink_to(DEBIAN_SANE)
    env = {"PATH": "/usr/bin:/bin", "SANE_CONFIG_DIR": str(sane_dir), "PYTHONPATH": str(shim)}
    done = subprocess.run(
        [sys.executable, "-c", DEBIAN_SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    debian_version = re.search(r"__version__ = '([^']+)'", DEBIAN_SANE.read_text())
    assert debian_version is not None
    assert (result["file"], result["version"]) == (str(shim / "sane.py"), debian_version[1])
    assert result["sizes"] == [[620, 876]] * 3  # A4 at 75 dpi
    assert result["key"] == "sane.jammed"


def test_a_scan_leaves_sigpipe_ignored(sane_dir: Path) -> None:
    """libsane resets an ignored SIGPIPE to 'terminate' after each scan; the driver
    puts the ignore back, or the next closed socket would kill the station."""
    import signal

    from station.core import sigpipe

    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # Python's own default
    try:
        pages: list[object] = []
        worker = threading.Thread(
            target=lambda: pages.extend(_one_page(scanner(Recorder(), mode="gray", dpi=75)))
        )
        worker.start()
        worker.join(60)
        assert len(pages) == 1
        assert not sigpipe.is_default()
    finally:
        signal.signal(signal.SIGPIPE, previous)


def test_a_scan_leaves_the_stop_handler_in_place(sane_dir: Path) -> None:
    """libsane also resets SIGTERM's handler while scanning: without the driver putting
    it back, systemd's stop killed the station instead of letting it shut down."""
    import signal

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        pages: list[object] = []
        worker = threading.Thread(
            target=lambda: pages.extend(_one_page(scanner(Recorder(), mode="gray", dpi=75)))
        )
        worker.start()
        worker.join(60)
        assert len(pages) == 1
        # Read from the kernel: raising SIGTERM to check would end the test run if lost.
        status = Path("/proc/self/status").read_text()
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        assert int(caught.split()[1], 16) & 1 << (signal.SIGTERM - 1), caught
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_page(driver: SaneScanner) -> list[object]:
    try:
        return list(driver.capture(1))
    finally:
        driver.close()


def test_a_page_that_never_comes_is_cancelled_with_its_own_message(sane_dir: Path) -> None:
    """A stuck backend must not hang the station: the page watchdog cancels it.

    The test backend's 'read-delay' makes each read wait, so a 600-dpi page takes far
    longer than the 1-second limit given here.
    """
    driver = scanner(Recorder(), dpi=600, page_timeout_s=1.0)
    try:
        driver.set_device_option("read-delay", True)
        driver.set_device_option("read-delay-duration", 200_000)  # microseconds per read
        with pytest.raises(DeviceError) as caught:
            list(driver.capture(1))
    finally:
        driver.close()
    assert caught.value.key == "sane.stalled"
    assert "1" in caught.value.message("en") and "test:0" in caught.value.message("vi")
