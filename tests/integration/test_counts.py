"""One truth for a book's counts: after a withdrawal, the status page, its JSON and the
touch screens say the same, served by the real WSGI server (waitress).

Issue 12 measured ``/status`` saying "published 2" while the touch screens said
"published 1, withdrawn 1" after one of two entries was withdrawn.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from waitress.server import create_server

from station.app.station import Station
from station.app.touch import TouchApi
from station.review.books import book_counts
from tests.support.lan import BOOK, publish_entries
from tests.support.ports import free_port

PIN = "4321"


@pytest.fixture
def served(station: Station, app: Flask) -> Iterator[tuple[Station, str]]:
    """A started station past the wizard, with a shift, behind waitress on loopback."""
    port = free_port()
    # Listening from here on: create_server binds the socket.
    server = create_server(app, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=_run, args=(server,), name="test-waitress")
    thread.start()
    try:
        touch = TouchApi(station)
        touch.set_admin_pin(PIN)
        operator = touch.add_operator("Lê Thị Hoa", PIN)
        touch.start_shift(operator.id, PIN)
        yield station, f"http://127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(30)
        # A single-socket server's close() leaves its worker threads to the process.
        server.task_dispatcher.shutdown()


def _run(server: Any) -> None:
    # Closed from the test's thread while polling: how it stops (as in station.ui.server).
    with contextlib.suppress(OSError):
        server.run()


def _get(base: str, path: str) -> str:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        assert response.status == 200, path
        return str(response.read().decode())


def _status_row(page: str) -> dict[str, int]:
    """The counts in the book's row of the status page."""
    row = re.search(rf'<tr data-book="{BOOK}">(.*?)</tr>', page, re.S)
    assert row is not None, page
    cells = dict(re.findall(r'<td class="(\w+)">(\d+)</td>', row.group(1)))
    return {name: int(value) for name, value in cells.items()}


def test_after_a_withdrawal_every_screen_counts_the_same(
    served: tuple[Station, str],
) -> None:
    station, base = served
    first, _ = publish_entries(station, 2)
    station.store.withdraw(first.id, "Lê Thị Hoa")
    station.open_book(BOOK)
    expected = {"entries": 1, "published": 1, "review": 0, "withdrawn": 1}

    status_json = json.loads(_get(base, "/status.json"))
    [book] = [b for b in status_json["books"] if b["key"] == BOOK]
    assert {k: book[k] for k in expected} == expected

    row = _status_row(_get(base, "/status"))
    assert {k: row[k] for k in expected} == expected

    # The touch screens: the book list (what the book event and the list carry) ...
    [listed] = [b for b in TouchApi(station).list_books() if b["key"] == BOOK]
    assert {k: listed[k] for k in expected} == expected
    assert {k: book_counts(station.store, BOOK)[k] for k in expected} == expected
    assert f"{expected['entries']} mục, {book['pages']} trang" in _get(base, "/books")
    # ... and the overview: the withdrawn number is missing, the other one counts.
    overview = _get(base, f"/books/{BOOK}/overview")
    states = re.findall(r'data-number="(\d+)" data-state="(\w+)"', overview)
    assert states == [("1", "missing"), ("2", "done")]
    assert TouchApi(station).book_overview(BOOK)["entries"] == expected["entries"]
    assert TouchApi(station).progress()["book"]["entries"] == expected["published"]
