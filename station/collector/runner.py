"""``run`` and ``once``: which stations to collect from, where they are, and retries.

``run`` keeps a zeroconf browser open and one worker thread per paired station, so a
station that is off or unplugged only delays itself. Each worker passes over its
station's feed, then waits ``interval`` seconds (or less, when the station's
announcement changes); after a failure it backs off exponentially, up to a minute.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from station.collector.client import Address, StationClient
from station.collector.console import Console
from station.collector.discovery import Discovery
from station.collector.errors import (
    CollectError,
    FingerprintError,
    StateError,
    StoppedError,
    UnauthorizedError,
    UnreachableError,
)
from station.collector.state import Pairing, State
from station.collector.sync import PAGE_SIZE, PassResult, StationPass

log = logging.getLogger(__name__)


@dataclass
class Options:
    """How ``run`` and ``once`` collect."""

    state_dir: Path
    dest: Path
    office: str | None = None
    timeout: float = 30.0
    interval: float = 10.0
    browse: bool = True
    discover_seconds: float = 5.0
    retries: int = 2
    backoff_first: float = 1.0
    backoff_max: float = 60.0
    page_size: int = PAGE_SIZE
    parallel: int = 4


class Backoff:
    """Exponential delays with jitter, so several PCs do not hammer a rebooted station at once."""

    def __init__(self, first: float = 1.0, cap: float = 60.0) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return min(self.cap, delay * random.uniform(0.8, 1.2))

    def reset(self) -> None:
        self._next = self.first


def wanted_pairings(state: State, office: str | None) -> list[Pairing]:
    """The paired stations to collect from (those of ``office`` when given)."""
    return [p for p in state.pairings() if office is None or p.office_code == office]


class Collector:
    """Collects from every wanted paired station into one destination folder."""

    def __init__(
        self, options: Options, console: Console, stop: threading.Event | None = None
    ) -> None:
        self.options = options
        self.console = console
        self.stop = stop or threading.Event()
        self.place_lock = threading.Lock()
        self.discovery: Discovery | None = None
        self._clients: dict[str, StationClient] = {}
        self._clients_lock = threading.Lock()
        self._wake = threading.Condition()
        self._generation = 0
        self._unpaired_seen: set[str] = set()

    # -- one station ------------------------------------------------------------------

    def sync(
        self, state: State, pairing: Pairing, on_connected: Callable[[], None] | None = None
    ) -> PassResult:
        """One pass over ``pairing``'s station, at whichever address answers."""
        token = state.token(pairing.id)
        if token is None:
            raise UnauthorizedError(station=pairing.name)
        client = self._connect(state, pairing, token)
        if on_connected is not None:
            on_connected()
        with self._clients_lock:
            self._clients[pairing.id] = client
        try:
            result = StationPass(
                state,
                pairing,
                client,
                self.options.dest,
                stop=self.stop,
                place_lock=self.place_lock,
                say=self.console,
                page_size=self.options.page_size,
                parallel=self.options.parallel,
            ).run()
        finally:
            with self._clients_lock:
                self._clients.pop(pairing.id, None)
            client.close()
        state.record_success(pairing.id)
        return result

    def _addresses(self, pairing: Pairing) -> list[Address]:
        addresses: list[Address] = []
        advert = self.discovery.find(pairing.id) if self.discovery is not None else None
        if advert is not None:
            if advert.fingerprint != pairing.fingerprint:
                raise FingerprintError(
                    station=pairing.name, got=advert.fingerprint, expected=pairing.fingerprint
                )
            addresses.extend(advert.addresses)
        last = Address(pairing.host, pairing.port)
        if last not in addresses:
            addresses.append(last)
        return addresses

    def _connect(self, state: State, pairing: Pairing, token: str) -> StationClient:
        failure: UnreachableError | None = None
        for address in self._addresses(pairing):
            client = StationClient(
                address,
                fingerprint=pairing.fingerprint,
                token=token,
                timeout=self.options.timeout,
                base_path=pairing.api_path,
                label=pairing.name,
            )
            try:
                client.connect()
            except UnreachableError as exc:
                log.debug("%s not reachable at %s: %s", pairing.name, address, exc)
                failure = exc
                continue
            if (address.host, address.port) != (pairing.host, pairing.port):
                state.set_address(pairing.id, address.host, address.port)
            return client
        assert failure is not None
        raise failure

    def abort(self) -> None:
        """Stop now: set the flag and break every blocked network read."""
        self.stop.set()
        with self._clients_lock:
            clients = list(self._clients.values())
        for client in clients:
            client.abort()
        self.wake()

    def wake(self) -> None:
        """Make waiting workers try again now (a station's announcement changed)."""
        with self._wake:
            self._generation += 1
            self._wake.notify_all()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if stopped or woken."""
        with self._wake:
            start = self._generation
            self._wake.wait_for(lambda: self.stop.is_set() or self._generation != start, seconds)

    # -- discovery ------------------------------------------------------------------

    def start_discovery(self) -> None:
        if self.options.browse and self.discovery is None:
            self.discovery = Discovery(on_change=self._on_discovery).start()

    def close_discovery(self) -> None:
        if self.discovery is not None:
            self.discovery.close()
            self.discovery = None

    def _on_discovery(self) -> None:
        self.wake()

    def note_unpaired(self, state: State) -> None:
        """Say once about each station of the office this PC is not paired with."""
        if self.discovery is None:
            return
        paired = {p.id for p in state.pairings()}
        for advert in self.discovery.adverts():
            if advert.id in paired or advert.id in self._unpaired_seen:
                continue
            if self.options.office is not None and advert.office != self.options.office:
                continue
            self._unpaired_seen.add(advert.id)
            self.console("collect.unpaired_seen", name=advert.name, office=advert.office)

    # -- once -------------------------------------------------------------------------

    def once(self) -> int:
        """A single pass over every wanted station; 0 only if everything arrived."""
        with State(self.options.state_dir) as state:
            pairings = wanted_pairings(state, self.options.office)
            if not pairings:
                self.console.warn("collect.not_paired")
                return 64
            self.start_discovery()
            try:
                if self.discovery is not None:
                    ids = {p.id for p in pairings}
                    self.discovery.wait(
                        lambda ads: ids <= {a.id for a in ads}, self.options.discover_seconds
                    )
                    self.note_unpaired(state)
                codes = [self._once_station(state, p) for p in pairings]
            finally:
                self.close_discovery()
        failed = [code for code in codes if code]
        if failed:
            return failed[0]
        self.console("collect.once_ok")
        return 0

    def _once_station(self, state: State, pairing: Pairing) -> int:
        backoff = Backoff(self.options.backoff_first, self.options.backoff_max)
        for attempt in range(self.options.retries + 1):
            try:
                result = self.sync(state, pairing)
            except StoppedError:
                raise
            except CollectError as exc:
                state.record_error(pairing.id, exc.message("en"))
                if not exc.retryable or attempt == self.options.retries:
                    self.console.warn(
                        "collect.once_incomplete", detail=exc.message(self.console.lang)
                    )
                    return exc.exit_code
                delay = backoff.next()
                self.console.warn(
                    "collect.station_down",
                    station=pairing.name,
                    detail=exc.message(self.console.lang),
                    seconds=round(delay),
                )
                self.sleep(delay)
                if self.stop.is_set():
                    raise StoppedError() from exc
                continue
            self._say_pass(pairing, result)
            if result.pending:
                detail = f"{pairing.name}: {result.pending} pending"
                self.console.warn("collect.once_incomplete", detail=detail)
                return 65
            return 0
        return 75

    def _say_pass(self, pairing: Pairing, result: PassResult) -> None:
        self.console(
            "collect.pass_done",
            station=pairing.name,
            collected=result.collected + result.replaced,
            total=result.total,
            pending=result.pending,
        )

    # -- run ----------------------------------------------------------------------------

    def run(self, on_idle: Callable[[], None] | None = None) -> int:
        """Collect until stopped (Ctrl+C, SIGTERM or :meth:`abort`); returns 0."""
        self.console("collect.started", dest=self.options.dest)
        workers: dict[str, threading.Thread] = {}
        self.start_discovery()
        try:
            with State(self.options.state_dir) as state:
                while not self.stop.is_set():
                    for pairing in wanted_pairings(state, self.options.office):
                        if pairing.id not in workers:
                            workers[pairing.id] = self._start_worker(pairing.id)
                    if not workers:
                        self.console.warn("collect.not_paired")
                    self.note_unpaired(state)
                    if on_idle is not None:
                        on_idle()
                    self.stop.wait(2.0 if workers else 10.0)
        finally:
            self.console("collect.stopping")
            self.abort()
            for worker in workers.values():
                worker.join()
            self.close_discovery()
        return 0

    def _start_worker(self, station_id: str) -> threading.Thread:
        worker = threading.Thread(
            target=self._work, args=(station_id,), name=f"collect-{station_id}", daemon=True
        )
        worker.start()
        return worker

    def _work(self, station_id: str) -> None:
        try:
            with State(self.options.state_dir) as state:
                _Worker(self, state, station_id).loop()
        except StateError as exc:
            self.console.warn("collect.error", detail=exc.message(self.console.lang))
            log.exception("worker for %s stopped", station_id)
        except Exception:
            log.exception("worker for %s crashed", station_id)


class _Worker:
    """The loop of one station: pass, wait, and back off on failures."""

    def __init__(self, collector: Collector, state: State, station_id: str) -> None:
        self.collector = collector
        self.state = state
        self.station_id = station_id
        self.backoff = Backoff(collector.options.backoff_first, collector.options.backoff_max)
        self.problem: str | None = None  # the last fault said, to say it only once
        self.down = False  # the station could not be reached last time
        self.back_said = False  # "reachable again" said on connecting, this pass

    def loop(self) -> None:
        collector = self.collector
        while not collector.stop.is_set():
            pairing = self.state.pairing(self.station_id)
            if pairing is None:
                return
            connected = functools.partial(self._connected, pairing)
            try:
                result = collector.sync(self.state, pairing, connected)
            except StoppedError:
                return
            except CollectError as exc:
                if collector.stop.is_set():
                    return
                self._failed(pairing, exc)
                continue
            self.backoff.reset()
            if self.problem is not None and not self.back_said:
                # A fault was told (a station stopped mid-answer is a broken answer,
                # not an unreachable one) and this pass went through: say it is over.
                self.collector.console("collect.station_back", station=pairing.name)
            self.problem = None
            self.back_said = False
            if result.collected or result.replaced or result.withdrawn or result.failed:
                collector._say_pass(pairing, result)
            collector.sleep(collector.options.interval)

    def _connected(self, pairing: Pairing) -> None:
        if self.down:
            # The link is back: a fault from here on is a new one, so its wait starts
            # short again (on a flapping link the waits grew to a minute otherwise).
            # Only an unreachable station's streak ends here: one that answers and
            # fails keeps backing off.
            self.backoff.reset()
            self.collector.console("collect.station_back", station=pairing.name)
            self.down = False
            self.back_said = True

    def _failed(self, pairing: Pairing, exc: CollectError) -> None:
        delay = self.backoff.next() if exc.retryable else self.collector.options.backoff_max
        message = exc.message(self.collector.console.lang)
        self.down = isinstance(exc, UnreachableError)
        self.back_said = False
        self.state.record_error(pairing.id, exc.message("en"))
        # Say a repeating fault once, then keep it to the log until it changes.
        if message != self.problem:
            self.collector.console.warn(
                "collect.station_down", station=pairing.name, detail=message, seconds=round(delay)
            )
            self.problem = message
        else:
            log.info("%s still failing (%s); next try in %.1f s", pairing.name, message, delay)
        self.collector.sleep(delay)
