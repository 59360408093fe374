"""Collector benchmark: ``station-collect`` against ``curl`` on the same server, and
feed latency with 200,000 entries.

Run: ``.venv/bin/python bench/collect.py [--files 300 --size-kb 100 --big-files 4
--big-mb 16 --events 200000 --repeat 3]``. Everything runs on loopback, in a temporary
folder, with the real ``station serve`` (its TLS listener on 127.0.0.1, no zeroconf
announcement) in a child process, so server and client each have a core.

**Throughput.** A book of ``--files`` entry PDFs of ``--size-kb`` (an incompressible
image, so TLS and disks see their true size; 100 KB is the station's size budget) plus
``--big-files`` of ``--big-mb`` is published through the Store, the PC pairs (approved
with ``station pairing approve``), then, ``--repeat`` times each, alternately:

- ``collect x4``: one ``once`` pass into an empty folder (the real code path: feed,
  downloads over pinned keep-alive connections, 4 in flight as by default
  (``--parallel``), SHA-256, fsync, rename, state transaction, acknowledgements);
- ``collect x1``: the same with one download at a time, like curl;
- ``curl``: one ``curl`` process fetching the same files over one keep-alive
  connection (``--pinnedpubkey`` with the station's key, the same bearer token) into
  another empty folder; no hashing, no fsync.

A curl pass first warms the station's page cache. Figures: the best and the median
wall time of each, MB/s (10^6 bytes) and files/s, for the small and the large files.

**Feed latency.** A second station whose change feed holds ``--events`` events,
appended with the store's Feed API (no PDFs are encoded: only the feed is measured).
Over one kept-alive HTTPS connection, as the collector asks: ``GET
/feed?since=N&limit=500`` for N at the start, the middle, just before the end and at
the end (a collector that is up to date), 50 times each: median, p95 and max in ms;
then the time to walk the whole feed page by page. It prints figures; it does not
judge them.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from station.collector.client import Address, StationClient
from station.collector.console import Console
from station.collector.errors import CollectError
from station.collector.pairing import PairRequest, pair
from station.collector.runner import Collector, Options
from station.collector.state import State
from station.core import config
from station.core.identity import PresetNamer, station_identity
from station.core.models import Book, BookRef, Entry, FeedEvent, FeedKind, Region, new_id
from station.lan.tls import CERT_NAME
from station.processing.page import publish_pdf
from station.store import Store

OFFICE = "bench"
BOOK = BookRef("KS", 2007, 1)


@dataclass
class Published:
    """One file the station serves."""

    entry_id: str
    version: int
    file: str
    sha256: str
    size: int


# -- the stations' data -------------------------------------------------------------------


def station_config(data_dir: Path) -> config.Config:
    text = f'[storage]\ndata_dir = "{data_dir}"\nreserve_mb = 50\n'
    text += f'[station]\noffice_code = "{OFFICE}"\n'
    return config.parse(text, "bench", environ={})


def random_pdf(size: int) -> bytes:
    """A one-page PDF holding an incompressible RGB image of about ``size`` bytes."""
    side = max(8, int((size / 3) ** 0.5))
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, os.urandom(side * side * 3))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = side, side, 8
    image.ColorSpace = pikepdf.Name.DeviceRGB
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 595],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=pikepdf.Stream(pdf, b"q 595 0 0 595 0 0 cm /Im0 Do Q"),
    )
    pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


@contextlib.contextmanager
def open_store(data_dir: Path) -> Iterator[Store]:
    cfg = station_config(data_dir)
    info = station_identity(cfg, data_dir)
    with Store(data_dir, info, PresetNamer(cfg, info)) as store:
        yield store


def publish_book(data_dir: Path, sizes: list[int]) -> list[Published]:
    """Publish one entry per size into a new book; return what the station serves."""
    published: list[Published] = []
    with open_store(data_dir) as store:
        store.create_book(Book(ref=BOOK, office_code=OFFICE))
        for number, size in enumerate(sizes, start=1):
            entry = Entry(
                id=new_id("e"),
                book=BOOK.key,
                number=str(number),
                regions=[Region(capture_id="bench", box=(0, 0, 10, 10), page_number=number)],
            )
            version = publish_pdf(store, entry, random_pdf(size), "bench")
            published.append(
                Published(entry.id, version.version, version.file, version.sha256, version.bytes)
            )
    return published


def fill_feed(data_dir: Path, events: int) -> int:
    """Append ``events`` feed events through the Feed API (no files behind them)."""
    with open_store(data_dir) as store:
        feed = store.feed
        batch: list[FeedEvent] = []
        for seq in range(feed.last_seq + 1, feed.last_seq + events + 1):
            number = str(seq)
            batch.append(
                FeedEvent(seq, FeedKind.PUBLISHED, f"e{seq:08d}-bench", BOOK.key, number, 1,
                          f"KS/2007.01/KS.2007.01.{number}.pdf", "0" * 64, 100_000,
                          "2026-01-01T00:00:00Z")
            )  # fmt: skip
            if len(batch) == 20_000:
                feed.extend(batch)
                batch = []
        if batch:
            feed.extend(batch)
        return feed.last_seq


# -- the station process --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def station_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATION")}
    env.update(
        STATION_DATA_DIR=str(data_dir),
        STATION__STORAGE__RESERVE_MB="50",
        STATION__STATION__OFFICE_CODE=OFFICE,
        STATION__LAN__ENABLED="true",
        STATION__LAN__ANNOUNCE="false",
        STATION__LAN__HOST="127.0.0.1",
        STATION__LAN__PORT=str(port),
        STATION__WEB__PORT=str(free_port()),
        STATION__USB__ENABLED="false",
    )
    return env


def station_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "station.cli", *args]


@contextlib.contextmanager
def running_station(data_dir: Path, log: Path) -> Iterator[tuple[Address, dict[str, str]]]:
    """``station serve`` on loopback until the block ends."""
    port = free_port()
    env = station_env(data_dir, port)
    with open(log, "wb") as output:
        process = subprocess.Popen(
            station_cli("serve"), env=env, stdout=output, stderr=subprocess.STDOUT
        )
    address = Address("127.0.0.1", port)
    try:
        wait_for(lambda: answers(address), 90, f"the station (log: {log})")
        yield address, env
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(address: Address) -> bool:
    client = StationClient(address, fingerprint=None, timeout=2)
    try:
        client.get("/station")
        return True
    except CollectError:
        return False
    finally:
        client.close()


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def pair_collector(state_dir: Path, address: Address, env: dict[str, str]) -> str:
    """Pair through the API, approving with ``station pairing approve``; return the id."""
    result: dict[str, str] = {}
    errors: list[BaseException] = []

    def request() -> None:
        try:
            with State(state_dir) as state:
                result["id"] = pair(state, PairRequest("bench-pc", str(address)), Console("en")).id
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=request)
    thread.start()
    pending: list[dict[str, object]] = []

    def listed() -> bool:
        done = subprocess.run(
            station_cli("pairing", "list", "--json"), env=env, capture_output=True, text=True
        )
        pending[:] = json.loads(done.stdout)["pending"] if done.returncode == 0 else []
        return bool(pending) or bool(errors)

    wait_for(listed, 60, "the pairing request")
    if pending:
        subprocess.run(
            station_cli("pairing", "approve", "--", str(pending[0]["id"])), env=env, check=True,
            capture_output=True,
        )  # fmt: skip
    thread.join()
    if errors:
        raise errors[0]
    return result["id"]


# -- measurements ------------------------------------------------------------------------------


def collector_pass(state_dir: Path, dest: Path, parallel: int) -> float:
    options = Options(
        state_dir=state_dir, dest=dest, browse=False, timeout=30, retries=0, parallel=parallel
    )
    started = time.perf_counter()
    code = Collector(options, Console("en")).once()
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"collector pass failed with exit code {code}")
    return seconds


def spki_pin(cert_pem: Path) -> str:
    """curl's --pinnedpubkey value: sha256// + base64 of the SubjectPublicKeyInfo hash."""
    pem = subprocess.run(
        ["openssl", "x509", "-in", str(cert_pem), "-pubkey", "-noout"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pem, check=True, capture_output=True
    ).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def curl_pass(files: list[Published], address: Address, token: str, pin: str, dest: Path) -> float:
    dest.mkdir(parents=True)
    config_file = dest.parent / f"{dest.name}.curl"
    lines = []
    for n, item in enumerate(files):
        url = f"https://{address}/api/v1/entries/{item.entry_id}/versions/{item.version}/file"
        lines += [f'url = "{url}"', f'output = "{dest / f"{n}.pdf"}"']
    config_file.write_text("\n".join(lines) + "\n")
    # --insecure only skips CA validation (the certificate is self-signed); the pin holds.
    command = [
        *("curl", "--silent", "--show-error", "--fail", "--insecure", "--pinnedpubkey", pin),
        *("--header", f"Authorization: Bearer {token}", "--config", str(config_file)),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    for n, item in enumerate(files):
        if hashlib.sha256((dest / f"{n}.pdf").read_bytes()).hexdigest() != item.sha256:
            raise SystemExit(f"curl got a wrong {item.file}")
    return seconds


def throughput(args: argparse.Namespace, work: Path) -> None:
    groups = [
        (f"{args.files} x {args.size_kb} KB", [args.size_kb * 1024] * args.files),
        (f"{args.big_files} x {args.big_mb} MB", [args.big_mb * 1024 * 1024] * args.big_files),
    ]
    print(f"Throughput on loopback (best / median of {args.repeat} passes; MB = 10^6 bytes)")
    print(f"{'files':<16} {'client':<10} {'best s':>8} {'MB/s':>8} {'files/s':>8} {'median s':>9}")
    for index, (label, sizes) in enumerate(groups):
        if sizes:
            measure_group(args, work / f"throughput-{index}", label, sizes)


def measure_group(args: argparse.Namespace, work: Path, label: str, sizes: list[int]) -> None:
    """One station holding files of ``sizes``: collector and curl passes, alternately."""
    data = work / "station"
    files = publish_book(data, sizes)
    total = sum(f.size for f in files)
    state = work / "pc-state"
    with running_station(data, work / "station.log") as (address, env):
        station_id = pair_collector(state, address, env)
        with State(state) as st:
            token = st.token(station_id)
        assert token is not None
        pin = spki_pin(data / "tls" / CERT_NAME)
        curl_pass(files, address, token, pin, work / "warm-up")  # the station's page cache
        times: dict[str, list[float]] = {}
        for run in range(args.repeat):
            for parallel in sorted({1, args.parallel}):
                dest = work / f"collector-{parallel}-{run}"
                seconds = collector_pass(state, dest, parallel)
                times.setdefault(f"collect x{parallel}", []).append(seconds)
                check_files(dest, files, "the collector")
            times.setdefault("curl", [])
            times["curl"].append(curl_pass(files, address, token, pin, work / f"curl-{run}"))
    for client, values in times.items():
        best = min(values)
        print(
            f"{label:<16} {client:<10} {best:8.3f} {total / best / 1e6:8.1f} "
            f"{len(files) / best:8.1f} {statistics.median(values):9.3f}"
        )


def check_files(dest: Path, files: list[Published], who: str) -> None:
    for item in files:
        if hashlib.sha256((dest / item.file).read_bytes()).hexdigest() != item.sha256:
            raise SystemExit(f"{who} got a wrong {item.file}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def feed_latency(args: argparse.Namespace, work: Path) -> None:
    data = work / "station-feed"
    started = time.perf_counter()
    last = fill_feed(data, args.events)
    print(f"\nfeed of {last} events written in {time.perf_counter() - started:.1f} s")
    state = work / "pc-state"
    with running_station(data, work / "station-feed.log") as (address, env):
        station_id = pair_collector(state, address, env)
        with State(state) as st:
            pairing, token = st.pairing(station_id), st.token(station_id)
        assert pairing is not None
        client = StationClient(address, fingerprint=pairing.fingerprint, token=token, timeout=30)
        try:
            started = time.perf_counter()
            client.get("/feed?since=0&limit=500")
            first = (time.perf_counter() - started) * 1000
            print(f"Feed latency, {last} events, limit 500, HTTPS keep-alive")
            print(f"first call after start: {first:.1f} ms")
            print(f"{'since':>8} {'items':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
            for since in (0, last // 2, last - 250, last):
                samples = []
                items = 0
                for _ in range(50):
                    started = time.perf_counter()
                    items = len(client.get(f"/feed?since={since}&limit=500")["items"])
                    samples.append((time.perf_counter() - started) * 1000)
                print(
                    f"{since:>8} {items:>6} {statistics.median(samples):10.2f} "
                    f"{percentile(samples, 0.95):8.2f} {max(samples):8.2f}"
                )
            started = time.perf_counter()
            since, pages = 0, 0
            while True:
                page = client.get(f"/feed?since={since}&limit=1000")
                pages += 1
                if not page["items"]:
                    break
                since = page["items"][-1]["seq"]
                if not page["more"]:
                    break
            walk = time.perf_counter() - started
            rate = since / walk
            print(f"whole feed, limit 1000: {pages} pages in {walk:.2f} s ({rate:,.0f} events/s)")
        finally:
            client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=300, help="small files")
    parser.add_argument("--size-kb", type=int, default=100, help="size of a small file")
    parser.add_argument("--big-files", type=int, default=4, help="large files")
    parser.add_argument("--big-mb", type=int, default=16, help="size of a large file")
    parser.add_argument("--events", type=int, default=200_000, help="feed events")
    parser.add_argument("--repeat", type=int, default=3, help="passes of each client")
    parser.add_argument("--parallel", type=int, default=4, help="collector downloads in flight")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed")
    logging.basicConfig(level=logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    try:
        throughput(args, work)
        feed_latency(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
