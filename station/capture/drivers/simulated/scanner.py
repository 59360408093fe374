"""The built-in simulated ledger scanner: realistic pages with ground truth, and faults.

Like OctoPrint's virtual printer it ships in the product, off unless chosen, and takes
fault commands at run time (:meth:`SimulatedScanner.inject`): paper jam, unplug, slow
feed and corrupt frames. Pages come from
:func:`station.capture.drivers.simulated.render.page.render_page`;
each :class:`CapturedImage` carries the page's ground truth in ``meta["truth"]``.

Page indexes and entry numbers run on across capture calls, as in a real book: page
``k`` starts at ``first_entry`` plus the entries on pages ``0..k-1``.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

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
from station.capture.drivers.simulated.render.page import (
    RenderedPage,
    RenderSpec,
    entry_counts,
    render_page,
)
from station.capture.drivers.simulated.render.page import validate as validate_spec
from station.core.errors import ConfigError, DeviceError, UsageError
from station.core.messages import N_

log = logging.getLogger(__name__)

DEVICE_ID = "sim:0"
LABEL = "Máy quét mô phỏng sổ hộ tịch"
JPEG_QUALITY = 90  # what a phone camera typically writes


_RENDER = RenderSpec()


@dataclass
class Settings:
    """Driver options with their defaults; unknown keys are refused."""

    # The rendering options take their defaults from RenderSpec: one place decides them.
    profile: str = _RENDER.profile
    dpi: int = _RENDER.dpi
    seed: int = _RENDER.seed
    first_entry: int = _RENDER.first_entry
    stamp_probability: float = _RENDER.stamp_probability
    faded_probability: float = _RENDER.faded_probability
    skew_max_deg: float = _RENDER.skew_max_deg
    camera: bool = _RENDER.camera
    output: str = "raw"  # "raw": a PIL image; "jpeg": encoded bytes like a phone
    ledger: str = _RENDER.ledger
    year: int = _RENDER.year
    book: int = _RENDER.book
    feeder_pages: int = 10  # pages in the feeder when capture(count=None)
    jam_after: int | None = None
    unplug_after: int | None = None
    slow_seconds: float = 0.0
    corrupt_every: int | None = None
    render_ahead: bool = False  # the station's configuration turns it on (schema.py)


def parse_options(options: Mapping[str, Any]) -> Settings:
    """Check and convert the options mapping; raises ConfigError naming the key."""
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    defaults = Settings()
    values: dict[str, Any] = {}
    for key, value in options.items():
        if key not in fields:
            raise ConfigError("sim.bad_option", key=key, value=value, detail="unknown option")
        values[key] = _coerce(key, value, getattr(defaults, key))
    settings = Settings(**values)
    if settings.output not in ("raw", "jpeg"):
        raise ConfigError(
            "sim.bad_option", key="output", value=settings.output, detail="raw or jpeg"
        )
    for key in ("jam_after", "unplug_after", "corrupt_every", "feeder_pages", "first_entry"):
        value = getattr(settings, key)
        if value is not None and value < (1 if key in ("corrupt_every", "feeder_pages") else 0):
            raise ConfigError("sim.bad_option", key=key, value=value, detail="too small")
    try:
        validate_spec(spec_of(settings))
    except UsageError as error:
        raise ConfigError(error.key, **error.values) from error
    return settings


def with_context(settings: Settings, context: CaptureContext | None) -> Settings:
    """``settings`` rendering the pages of the book being captured into, when known."""
    if context is None:
        return settings
    profile = context.profile or settings.profile
    settings = dataclasses.replace(settings, profile=profile, first_entry=context.first_entry)
    try:
        validate_spec(spec_of(settings))
    except UsageError as error:
        raise ConfigError(error.key, **error.values) from error
    return settings


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Accept what TOML gives; ints for floats, nothing silently lossy."""
    if value is None and key in ("jam_after", "unplug_after", "corrupt_every"):
        return None
    expected = type(default) if default is not None else int
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and (expected is bool or not isinstance(value, bool)):
        return value
    raise ConfigError(
        "sim.bad_option", key=key, value=value, detail=f"expected {expected.__name__}"
    )


def spec_of(settings: Settings, page_index: int = 0, first_entry: int | None = None) -> RenderSpec:
    """The render spec of page ``page_index`` under ``settings``."""
    shared = {
        f.name: getattr(settings, f.name)
        for f in dataclasses.fields(RenderSpec)
        if hasattr(settings, f.name)
    }
    shared["page_index"] = page_index
    if first_entry is not None:
        shared["first_entry"] = first_entry
    return RenderSpec(**shared)


class SimulatedScanner(Driver):
    """A ledger scanner that renders pages instead of reading them."""

    kind: ClassVar[str] = "simulated"
    FAULTS: ClassVar[tuple[str, ...]] = ("jam", "unplug", "slow", "corrupt", "clear")

    def __init__(
        self,
        options: Mapping[str, Any],
        on_event: EventCallback | None = None,
        context: CaptureContext | None = None,
    ):
        super().__init__(options, on_event, context)
        self.settings = with_context(parse_options(self.options), context)
        self._pages_fed = 0  # pages fed over the driver's life: the next page index
        self._plugged = True

    @classmethod
    def probe(cls) -> list[DeviceInfo]:
        """The one simulated device, always present."""
        return [DeviceInfo(cls.kind, DEVICE_ID, LABEL, "ledger-station", "simulated")]

    @property
    def device(self) -> str:
        return DEVICE_ID

    @property
    def pages_fed(self) -> int:
        """Pages fed so far, over every capture call."""
        return self._pages_fed

    def capabilities(self) -> Capabilities:
        """Flatbed and feeder, up to an A3 landscape spread (420 x 297 mm)."""
        return Capabilities(("flatbed", "adf"), (150, 200, 300, 400, 600), (420.0, 297.0), False)

    def open(self) -> None:
        """Connect; fails while unplugged or jammed."""
        if not self._plugged:
            raise DeviceError("device.unplugged", device=self.device, pages=self._pages_fed)
        if self._state is DeviceState.ERROR:
            raise DeviceError("device.jammed", device=self.device, pages=self._pages_fed)
        if self._state is DeviceState.OFFLINE:
            self._set_state(DeviceState.IDLE)

    def close(self) -> None:
        """Disconnect; a jam stays until :meth:`clear_fault`."""
        self.cancel()
        if self._state is not DeviceState.ERROR:
            self._set_state(DeviceState.OFFLINE)

    def clear_fault(self) -> None:
        """The operator removed the jammed sheet: back to IDLE, the jam is gone."""
        self.settings.jam_after = None
        if self._state is DeviceState.ERROR:
            self._set_state(DeviceState.IDLE)

    def replug(self) -> None:
        """The cable is back: :meth:`open` works again."""
        self.settings.unplug_after = None
        self._plugged = True

    def inject(self, fault: str, **params: Any) -> None:
        """Set a fault at run time.

        ``jam`` / ``unplug`` (``after``: pages from now, default 0), ``slow``
        (``seconds``), ``corrupt`` (``every``: every Nth frame), ``clear`` (all off).
        An ``unplug`` with ``after=0`` on an idle device takes it offline at once.
        """
        log.info("simulated fault injected: %s %s", fault, params)
        after = int(params.get("after", 0))
        if fault == "jam":
            self.settings.jam_after = self._pages_fed + after
        elif fault == "unplug":
            self.settings.unplug_after = self._pages_fed + after
            if after == 0 and self._state is not DeviceState.CAPTURING:
                self._unplug()
        elif fault == "slow":
            self.settings.slow_seconds = float(params.get("seconds", 1.0))
        elif fault == "corrupt":
            self.settings.corrupt_every = int(params.get("every", 1))
        elif fault == "clear":
            self.settings.jam_after = self.settings.unplug_after = None
            self.settings.corrupt_every, self.settings.slow_seconds = None, 0.0
        else:
            raise UsageError("sim.bad_fault", fault=fault, known=", ".join(self.FAULTS))

    def first_entry_of(self, page_index: int) -> int:
        """The number of the first entry on page ``page_index``."""
        s = self.settings
        return s.first_entry + sum(
            sum(entry_counts(s.profile, s.seed, k)) for k in range(page_index)
        )

    def render(self, page_index: int) -> RenderedPage:
        """Render page ``page_index`` again, with its masks (for tests and benchmarks)."""
        return render_page(spec_of(self.settings, page_index, self.first_entry_of(page_index)))

    def _next_spec(self, index: int, remaining: int) -> RenderSpec:
        """The page most likely asked for next: the next sheet of this batch, or after a
        single page, the first page of the next capture (its numbers following on)."""
        if remaining > 0:
            return spec_of(self.settings, index + 1, self.first_entry_of(index + 1))
        following = self.first_entry_of(index + 1)
        return spec_of(dataclasses.replace(self.settings, first_entry=following), 0, following)

    def capture(self, count: int | None = 1) -> Iterator[CapturedImage]:
        """Yield up to ``count`` pages (None: the feeder's ``feeder_pages``).

        Raises DeviceError for a jam or unplug only after yielding every page fed before.
        """
        if self._state is not DeviceState.IDLE:
            key = N_("device.unplugged") if not self._plugged else N_("device.not_ready")
            raise DeviceError(
                key, device=self.device, state=self._state.value, pages=self._pages_fed
            )
        total = self.settings.feeder_pages if count is None else count
        return self._run(total)

    def _run(self, total: int) -> Iterator[CapturedImage]:
        self._cancel.clear()
        self._set_state(DeviceState.CAPTURING)
        try:
            for done in range(1, total + 1):
                if self._cancel.is_set() or not self._feed():
                    break
                page = self._make_capture(total - done)
                self._emit(DriverEvent("progress", self.device, self._state, "sim.progress",
                                       {"done": done, "total": total}))  # fmt: skip
                yield page
        finally:
            if self._state is DeviceState.CAPTURING:
                self._set_state(DeviceState.IDLE)

    def _feed(self) -> bool:
        """Wait the feed time and apply faults; False when cancelled while waiting."""
        s = self.settings
        if s.unplug_after is not None and self._pages_fed >= s.unplug_after:
            self._unplug()
            raise DeviceError("device.unplugged", device=self.device, pages=self._pages_fed)
        if s.jam_after is not None and self._pages_fed >= s.jam_after:
            self._set_state(DeviceState.ERROR, "device.jammed", pages=self._pages_fed)
            raise DeviceError("device.jammed", device=self.device, pages=self._pages_fed)
        # Waiting on the cancel event, not sleeping, so a cancel ends the wait at once.
        return not (s.slow_seconds > 0 and self._cancel.wait(s.slow_seconds))

    def _unplug(self) -> None:
        self._plugged = False
        self._set_state(DeviceState.OFFLINE, "device.unplugged", pages=self._pages_fed)

    def _make_capture(self, remaining: int = 0) -> CapturedImage:
        index = self._pages_fed
        spec = spec_of(self.settings, index, self.first_entry_of(index))
        page = _AHEAD.take(spec) if self.settings.render_ahead else render_page(spec)
        if self.settings.render_ahead:
            _AHEAD.start(self._next_spec(index, remaining))
        self._pages_fed += 1
        corrupt = (
            bool(self.settings.corrupt_every)
            and self._pages_fed % (self.settings.corrupt_every or 1) == 0
        )
        meta = {"truth": page.truth_dict(), "page_index": index, "seed": self.settings.seed}
        meta["corrupt"] = corrupt
        captured = CapturedImage(dpi=page.dpi, source=self.kind, device=self.device, meta=meta)
        if corrupt:
            captured.encoded, captured.format = corrupt_jpeg(encode_jpeg(page), index), "JPEG"
        elif self.settings.output == "jpeg":
            captured.encoded, captured.format = encode_jpeg(page), "JPEG"
        else:
            captured.image = page.image
        return captured


class _RenderAhead:
    """One page rendered ahead on a background thread.

    Rendering a 300-dpi A3 spread costs about 1.5 s of CPU, more than the station
    spends on the page; a real feeder has its next sheet ready, so the simulator
    renders the page it will most likely be asked for next while the station works.
    A page asked for that is not the one rendered ahead is rendered as before: what
    a capture yields never depends on the guess. (The thread keeps its priority: a
    capture waiting for a page rendered at low priority would wait longest exactly
    when the station is busiest.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spec: RenderSpec | None = None
        self._future: Future[RenderedPage] | None = None
        #: Pages served from the renders ahead (for tests and benchmarks).
        self.hits = 0

    def take(self, spec: RenderSpec) -> RenderedPage:
        with self._lock:
            future = self._future if spec == self._spec else None
            self._spec = self._future = None
        if future is not None:
            try:
                page = future.result()
            except Exception:  # rendered again below, where the error is reported
                log.debug("page rendered ahead failed", exc_info=True)
            else:
                self.hits += 1
                return page
        return render_page(spec)

    def start(self, spec: RenderSpec) -> None:
        with self._lock:
            if spec == self._spec:
                return
            future: Future[RenderedPage] = Future()
            self._spec, self._future = spec, future
        # One short-lived thread per page: nothing runs once the page is drawn.
        threading.Thread(
            target=_render_into, args=(spec, future), name="sim-render-ahead", daemon=True
        ).start()


def _render_into(spec: RenderSpec, future: Future[RenderedPage]) -> None:
    try:
        future.set_result(render_page(spec))
    except BaseException as exc:  # handed to the capture that takes it
        future.set_exception(exc)


_AHEAD = _RenderAhead()


def encode_jpeg(page: RenderedPage) -> bytes:
    """The page as a phone would save it."""
    buffer = io.BytesIO()
    page.image.save(buffer, "JPEG", quality=JPEG_QUALITY, dpi=(page.dpi, page.dpi))
    return buffer.getvalue()


def corrupt_jpeg(data: bytes, index: int) -> bytes:
    """A frame broken in transfer: header intact up to the frame header, then garbage.

    Cut there, it fails to decode even with Pillow's LOAD_TRUNCATED_IMAGES, unlike a
    plain truncation.
    """
    cut = data.find(b"\xff\xc0")
    cut = cut if cut > 0 else 2
    noise = np.random.default_rng([index, 0xBAD]).integers(0, 256, 512, dtype=np.uint8)
    return data[:cut] + noise.tobytes()
