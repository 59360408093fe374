"""From a tap on the capture button to the page's cut lines on the screen.

Runs ``station serve`` (the real WSGI server) on the simulated ledger scanner at
300 dpi with a ``spread-2`` book (an A3 spread), set up in a temporary data folder
(admin PIN, operator, shift, book) before the server starts. Then, ``--taps`` times,
it does what the main screen does for one press: ``POST /scan/capture`` and, on the
live event stream (``/events``), waits for the page to be saved (``capture``
``page_saved``: "Đã lưu trang") and processed (``page``), then fetches the screen's
state and the page's thumbnail, which is when the cut lines can be drawn. One
warm-up tap is not counted. It prints, per tap and as medians: tap to saved, tap to
processed and tap to cut lines on screen, in wall-clock seconds.

Beside it, in this process, it measures the CPU seconds of the intake's durable copy
of the same spread (lossless file written and fsynced, then read back by the page
path's ``load_image``) against the CPU seconds of processing it (segment, cut and
encode every entry), the figure issue 14 asks to compare. It prints figures; it does
not judge them.

    nice -n 19 .venv/bin/python bench/tap_to_cuts.py --taps 7
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DPI = 300
PROFILE = "spread-2"
ADMIN_PIN = "2580"
OPERATOR_PIN = "1357"


def station_env(data_dir: Path, port: int, ahead: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    env.update(
        STATION_DATA_DIR=str(data_dir),
        STATION_CONFIG=str(data_dir.parent / "station.toml"),
        STATION__WEB__PORT=str(port),
        STATION__CAPTURE__DEVICE="simulated",
        STATION__CAPTURE__DPI=str(DPI),
        STATION__CAPTURE__SIMULATED__PROFILE=PROFILE,
        STATION__CAPTURE__SIMULATED__RENDER_AHEAD="true" if ahead else "false",
        STATION__LAN__ENABLED="false",
        STATION__USB__ENABLED="false",
        STATION__STORAGE__RESERVE_MB="50",
        STATION__STORAGE__WARN_MB="50",
    )
    return env


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    """Admin PIN, an operator on shift and an open A3-spread book, as after sign-in."""
    from station.app.station import Station
    from station.app.touch import TouchApi
    from station.core import config as config_module

    config = config_module.load(Path(env["STATION_CONFIG"]), env)
    station = Station(config, data_dir).start()
    try:
        touch = TouchApi(station)
        touch.set_admin_pin(ADMIN_PIN)
        operator = touch.add_operator("Người đo", OPERATOR_PIN)
        touch.start_shift(operator.id, OPERATOR_PIN)
        touch.create_book("KS", 2007, 1, profile=PROFILE)
    finally:
        station.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(data_dir: Path, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    log = open(data_dir.parent / "serve.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "serve"], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the station did not start: see {log.name}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        log.close()


#: (arrival time, kind, data) of each live event.
Events = queue.Queue[tuple[float, str, dict[str, Any]]]


class Session:
    """One browser session on the station's own screen: cookie and CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        page = self.request("GET", "/scan", accept="text/html")
        match = re.search(r'name="csrf" value="([^"]+)"', page.decode())
        if not match:
            raise SystemExit("no CSRF token on /scan: is a shift and a book open?")
        self.csrf = match.group(1)

    def request(self, method: str, path: str, accept: str = "application/json") -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Accept": accept, "Cookie": self.cookie}
        body = None
        if method == "POST":
            body = urllib.parse.urlencode({"csrf": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        connection.close()
        if response.status >= 400:
            raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
        return data

    def events(self, into: Events) -> None:
        """Follow /events on this thread, putting (arrival time, kind, data)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        connection.request("GET", "/events", headers={"Cookie": self.cookie})
        response = connection.getresponse()
        kind, data = "", ""
        while True:
            line = response.readline()
            if not line:
                return
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                kind = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif not text and kind:
                into.put((time.perf_counter(), kind, json.loads(data or "{}")))
                kind, data = "", ""


def one_tap(session: Session, events: Events) -> tuple[float, float, float]:
    """Seconds from the tap to saved, to processed and to the cut lines on screen."""
    while not events.empty():
        events.get_nowait()
    start = time.perf_counter()
    session.request("POST", "/scan/capture")
    saved = processed = 0.0
    capture_id = ""
    while not processed:
        at, kind, data = events.get(timeout=300)
        if kind == "capture" and data.get("phase") == "page_saved":
            saved, capture_id = at, data["capture_id"]
        elif kind == "capture" and data.get("phase") == "failed":
            raise SystemExit(f"capture failed: {data.get('en')}")
        elif kind == "page" and capture_id and data.get("capture_id") == capture_id:
            processed = at
    state = json.loads(session.request("GET", "/api/ui/state"))
    page = state["last_page"]
    if page is None or page["capture_id"] != capture_id:
        raise SystemExit("the screen's state does not show the new page")
    session.request("GET", page["image"], accept="image/jpeg")
    shown = time.perf_counter()
    return saved - start, processed - start, shown - start


def durable_copy_cpu() -> tuple[float, float, float, int]:
    """CPU seconds to store (and fsync) and reload one 300-dpi spread, and to process it."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from page_cpu import Pass, run_pass

    from station.capture.drivers.base import CapturedImage
    from station.capture.drivers.simulated.render.page import RenderSpec, render_page
    from station.capture.intake import _raw_bytes

    rendered = render_page(RenderSpec(profile=PROFILE, dpi=DPI, seed=7, page_index=0))
    captured = CapturedImage(dpi=DPI, source="simulated", device="bench", image=rendered.image)
    best_store = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raw"
        for _ in range(3):
            begin = time.process_time()
            data, suffix = _raw_bytes(captured)
            with open(path.with_suffix(suffix), "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            best_store = min(best_store, time.process_time() - begin)
        stored = path.with_suffix(suffix)
        passes = [run_pass(stored, PROFILE) for _ in range(3)]
    best: Pass = min(passes, key=lambda p: sum(p.seconds.values()))
    processing = sum(v for k, v in best.seconds.items() if k != "decode")
    return best_store, min(p.seconds["decode"] for p in passes), processing, len(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--taps", type=int, default=7, help="taps measured (after one warm-up)")
    parser.add_argument(
        "--no-render-ahead", action="store_true", help="the simulator draws each page when asked"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tap-bench-") as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        port = free_port()
        env = station_env(data_dir, port, not args.no_render_ahead)
        Path(env["STATION_CONFIG"]).write_text("", encoding="utf-8")
        prepare(data_dir, env)
        with serving(data_dir, env, port):
            session = Session(port)
            events: Events = queue.Queue()
            threading.Thread(target=session.events, args=(events,), daemon=True).start()
            events.get(timeout=30)  # the stream opens with "resync"
            one_tap(session, events)  # warm-up: first imports and caches
            rows = [one_tap(session, events) for _ in range(args.taps)]
    print(f"tap to cut lines, {PROFILE} at {DPI} dpi, simulated scanner, waitress", end=" ")
    print(f"({args.taps} taps)")
    print(f"{'tap':>4} {'saved s':>8} {'processed s':>12} {'on screen s':>12}")
    for number, (saved, processed, shown) in enumerate(rows, 1):
        print(f"{number:>4} {saved:8.2f} {processed:12.2f} {shown:12.2f}")
    columns = list(zip(*rows, strict=True))
    medians = [statistics.median(c) for c in columns]
    print(f"{'med':>4} {medians[0]:8.2f} {medians[1]:12.2f} {medians[2]:12.2f}")
    store, reload, processing, size = durable_copy_cpu()
    print(
        f"durable copy of one spread ({size / 1e6:.1f} MB): store+fsync {store:.2f} s CPU, "
        f"reload {reload:.2f} s CPU; processing (segment, cut, encode) {processing:.2f} s CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
