"""A disk that fills up under a serving station (issue 15, M2).

The data folder is a small tmpfs. The station is held at the step before it publishes
a page (``STATION_HOLDPOINT``, a FIFO rendezvous: no sleeps), the disk is filled, and
then: processing pauses instead of dying, captures are refused with the disk-full
message, nothing captured is lost, and once the filler goes the page is processed by
itself.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from tests.support.checks import raw_captures
from tests.support.commands import RunStation, station_env
from tests.support.http_client import Client
from tests.support.mounts import tmpfs
from tests.support.server import start_server
from tests.support.watching import wait_for

PIN = "2468"
CHUNK = 1024 * 1024


def fill(path: Path) -> None:
    """Write ``path`` until the disk has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for size in (CHUNK, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    assert os.statvfs(path).f_bavail == 0


@contextlib.contextmanager
def held_at(fifo: Path, timeout: float = 120.0) -> Iterator[None]:
    """Wait until the station holds at its hold point; release it when the block ends."""
    opened: list[int] = []
    writer = threading.Thread(target=lambda: opened.append(os.open(fifo, os.O_WRONLY)))
    writer.start()
    writer.join(timeout)
    if writer.is_alive():  # never reached: free our thread, then fail
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join()
        os.close(opened[0])
        raise AssertionError("the station never reached its hold point")
    try:
        yield
    finally:
        os.close(opened[0])


class Live:
    """The station's event stream, read until an event of interest."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.connection.request("GET", "/events", headers={"Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200

    def next(self, kind: str) -> dict[str, object]:
        event = ""
        while True:
            line = self.response.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == kind:
                data: dict[str, object] = json.loads(line[6:])
                return data

    def close(self) -> None:
        self.connection.close()


def test_a_full_disk_pauses_processing_refuses_captures_and_resumes(tmp_path: Path) -> None:
    fifo = tmp_path / "hold"
    os.mkfifo(fifo)
    with tmpfs(tmp_path / "data", size_mb=96) as data:
        hold = f"process.before_publish:{fifo}"
        with start_server(tmp_path, STATION_HOLDPOINT=hold) as server:
            client = Client(server.url)
            client.set_up(PIN, "Trần Văn Bình", book="2010/2", profile="page-1")
            live = Live(server.url)
            try:
                assert client.form("/scan/capture")[0] == 302
                with held_at(fifo):
                    fill(data / "filler")
                event = live.next("page")  # processed as far as the full disk let it
            finally:
                live.close()
            assert event["error"]["key"] == "processing.waits_for_space", event  # type: ignore[index]

            # Captures are refused with the disk-full message; the screen says why.
            status, _, body = client.form("/scan/capture")
            assert status == 507 and "Ổ đĩa sắp đầy" in body, (status, body[:500])
            answer = client.get("/api/ui/state", json_wanted=True)
            assert answer[0] == 200, answer
            state = json.loads(answer[2])
            assert "chờ chỗ trống" in state["banner"]["fix"], state
            assert state["banner"]["level"] == "bad"

            # Nothing captured is lost: the raw page and its job are there.
            assert len(raw_captures(data)) == 1
            assert len(list((data / "queue").glob("*.json"))) == 1
            assert not list((data / "queue" / "failed").glob("*.json"))
            assert server.published() == []

            # Room again: the page is processed by itself.
            (data / "filler").unlink()
            wait_for(lambda: bool(server.published()), [data], timeout=120)
            wait_for(lambda: not list((data / "queue").glob("*.json")), [data], timeout=60)
            state = json.loads(client.get("/api/ui/state", json_wanted=True)[2])
            assert state["banner"] is None or "chờ chỗ trống" not in state["banner"]["fix"]


def test_the_commands_say_one_line_on_a_full_disk(data_dir: Path, run_station: RunStation) -> None:
    """`station resume` and `station scan` on a full disk: one clear line, no traceback,
    and the page queued before is processed by `station resume` once there is room."""
    with tmpfs(data_dir, size_mb=96):
        crash = station_env(data_dir, STATION_CRASHPOINT="process.before_publish")
        killed = run_station(
            "scan", "--simulate", "--book", "KS/2007/01", "--pages", "1", env=crash
        )
        assert killed.returncode < 0  # the power cut: the page is queued, not processed
        fill(data_dir / "filler")
        for args in (("resume",), ("scan", "--simulate", "--book", "KS/2007/01", "--pages", "1")):
            done = run_station(*args)
            said = done.stdout + done.stderr
            assert "Traceback" not in said, said
            assert done.returncode != 0
            lines = [line for line in said.splitlines() if "Ổ đĩa đầy" in line or "sắp đầy" in line]
            assert len(lines) == 1, said
        assert len(raw_captures(data_dir)) == 1
        (data_dir / "filler").unlink()
        resumed = run_station("resume")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert list((data_dir / "published").rglob("*.pdf"))
