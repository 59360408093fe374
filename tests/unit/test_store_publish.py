"""Publishing entries, replacing them, recovering after a crash, and reindexing."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from station.core.errors import NamingError
from station.core.models import (
    Book,
    BookRef,
    Capture,
    Entry,
    EntryStatus,
    FeedKind,
    Operator,
    Page,
    Region,
)
from station.processing.page import publish_pdf
from station.store import Store, reindex
from station.store.xmp import read_metadata
from tests.support.store import STATION, image_pdf, namer, store_index


def open_store(data: Path) -> Store:
    store = Store(data, STATION, namer, feed_segment_size=3)
    store.open()
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "data")
    yield opened
    opened.close()


def new_entry(store: Store, book_key: str, number: str, index: int) -> Entry:
    """A captured, processed, unpublished entry on its own capture and page."""
    if not store.has_book(book_key):
        store.create_book(Book(BookRef.parse(book_key), next_entry=1))
    capture_id = f"c-{book_key}-{index}"
    store.add_capture(
        Capture(
            capture_id,
            book_key,
            "simulated",
            "sim",
            300,
            "2024-05-01T08:00:00Z",
            f"raw/{capture_id}.png",
            f"{index:064x}",
            100,
            80,
            "op1",
            index,
        )
    )
    entry = Entry(
        f"e-{book_key}-{index}",
        book_key,
        number,
        [Region(capture_id, (0, 0, 50, 40), page_number=index)],
        operator="op1",
        source_key=f"{capture_id}#0",
    )
    store.save_page(Page(capture_id, book_key, index, "spread-2", [entry.id], [index]))
    return store.save_entry(entry)


def publish(store: Store, entry: Entry, shade: int) -> Entry:
    publish_pdf(store, entry, image_pdf(shade), "gray-jpeg")
    return store.get_entry(entry.id)


def test_publish_writes_the_namers_file_with_metadata(store: Store) -> None:
    entry = new_entry(store, "KS-2007-01", "30", 1)
    version = publish_pdf(store, entry, image_pdf(1), "gray-jpeg")
    assert version.file == "KS/KS.2007.01/KS.2007.01.30.pdf"
    path = store.published_path(version.file)
    data = path.read_bytes()
    assert version.sha256 == hashlib.sha256(data).hexdigest() and version.bytes == len(data)
    assert (version.version, version.seq) == (1, 1)
    record = read_metadata(path)
    assert record["entry"]["id"] == entry.id and record["entry"]["status"] == "published"
    assert record["version"]["seq"] == 1 and "sha256" not in record["version"]
    assert record["captures"][0]["id"] == "c-KS-2007-01-1"
    assert record["pages"][0]["capture_id"] == "c-KS-2007-01-1"
    assert record["book"]["ref"] == {"code": "KS", "year": 2007, "number": 1}
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    stored = store.get_entry(entry.id)
    assert stored.status is EntryStatus.PUBLISHED and stored.versions == [version]
    [event] = store.feed.since(0)
    assert (event.kind, event.entry_id, event.file, event.sha256) == (
        FeedKind.PUBLISHED,
        entry.id,
        version.file,
        version.sha256,
    )


def test_replace_keeps_the_old_version(store: Store) -> None:
    entry = publish(store, new_entry(store, "KS-2007-01", "12", 1), 1)
    old_bytes = store.published_path(entry.versions[0].file).read_bytes()
    stale_copy = Entry.from_dict(entry.to_dict())
    stale_copy.versions = []  # the store's history wins over a stale caller copy
    publish_pdf(store, stale_copy, image_pdf(2), "gray-jpeg")
    entry = store.get_entry(entry.id)
    assert [v.version for v in entry.versions] == [1, 2]
    assert entry.versions[0].file == "KS/KS.2007.01/_versions/KS.2007.01.12.v1.pdf"
    assert entry.versions[1].file == "KS/KS.2007.01/KS.2007.01.12.pdf"
    assert store.published_path(entry.versions[0].file).read_bytes() == old_bytes
    assert hashlib.sha256(old_bytes).hexdigest() == entry.versions[0].sha256
    current = store.published_path(entry.versions[1].file).read_bytes()
    assert current != old_bytes
    assert read_metadata(current)["entry"]["versions"][0]["file"] == entry.versions[0].file
    kinds = [(e.seq, e.kind, e.version) for e in store.feed.since(0)]
    assert kinds == [(1, FeedKind.PUBLISHED, 1), (2, FeedKind.REPLACED, 2)]
    publish_pdf(store, entry, image_pdf(3), "gray-jpeg")
    assert store.published_path("KS/KS.2007.01/_versions/KS.2007.01.12.v2.pdf").exists()


def test_duplicate_numbers_get_distinct_names_and_a_flag(store: Store) -> None:
    first = publish(store, new_entry(store, "KS-2007-01", "12", 1), 1)
    second = publish(store, new_entry(store, "KS-2007-01", "12", 2), 2)
    third = publish(store, new_entry(store, "KS-2007-01", "12A", 3), 3)
    fourth = publish(store, new_entry(store, "KS-2007-01", "12a", 4), 4)
    names = [e.versions[-1].file.rsplit("/", 1)[1] for e in (first, second, third, fourth)]
    assert names == [
        "KS.2007.01.12.pdf",
        "KS.2007.01.12_2.pdf",
        "KS.2007.01.12A.pdf",
        "KS.2007.01.12a_2.pdf",
    ]
    assert "duplicate_number" not in first.flags and "duplicate_number" not in third.flags
    assert "duplicate_number" in second.flags and "duplicate_number" in fourth.flags
    assert store.published_path(first.versions[0].file).read_bytes() != (
        store.published_path(second.versions[0].file).read_bytes()
    )
    # A replacement keeps its own name and does not collide with itself.
    again = publish_pdf(store, second, image_pdf(9), "gray-jpeg")
    assert again.file == second.versions[0].file


def test_bad_names_from_the_namer_are_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "d", STATION, lambda b, e: PurePosixPath("../escape.pdf")) as store:
        entry = new_entry(store, "KS-2007-01", "1", 1)
        with pytest.raises(NamingError):
            publish_pdf(store, entry, image_pdf(1), "gray-jpeg")
        assert not list((tmp_path / "d" / "published").rglob("*.pdf"))


class Crash(Exception):
    pass


def crash(*_: object, **__: object) -> None:
    raise Crash


@pytest.mark.parametrize("step", ["feed", "entry"])
def test_recover_finishes_a_publish_cut_short(tmp_path: Path, step: str) -> None:
    data = tmp_path / "data"
    store = open_store(data)
    entry = publish(store, new_entry(store, "KS-2007-01", "7", 1), 1)
    target = store.feed if step == "feed" else store
    setattr(target, "append_event" if step == "feed" else "save_entry", crash)
    with pytest.raises(Crash):
        publish_pdf(store, entry, image_pdf(2), "gray-jpeg")
    store.close()
    store = open_store(data)
    try:
        stored = store.get_entry(entry.id)
        assert [v.version for v in stored.versions] == [1, 2]
        current = store.published_path(stored.versions[1].file).read_bytes()
        assert stored.versions[1].sha256 == hashlib.sha256(current).hexdigest()
        assert store.published_path(stored.versions[0].file).exists()
        assert [(e.seq, e.kind) for e in store.feed.since(0)] == [
            (1, FeedKind.PUBLISHED),
            (2, FeedKind.REPLACED),
        ]
        assert store.feed.since(1)[0].sha256 == stored.versions[1].sha256
        assert not (data / "db" / "publishing.json").exists()
        assert publish(store, stored, 3).versions[-1].seq == 3
    finally:
        store.close()


def test_recover_indexes_an_unknown_file_and_removes_temps(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(data)
    entry = new_entry(store, "KT-2001-02", "5", 1)
    store.feed.append_event = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        publish_pdf(store, entry, image_pdf(1), "gray-jpeg")
    store.close()
    (data / "db" / "publishing.json").unlink()  # found by the scan alone
    stale = data / "published" / "KT" / ".x.pdf.1234abcd.part"
    stale.write_bytes(b"half")
    store = open_store(data)
    try:
        assert store.last_recovery.indexed == [stored_file := "KT/KT.2001.02/KT.2001.02.5.pdf"]
        assert store.last_recovery.feed_appended == [1]
        assert str(stale) in store.last_recovery.removed_temps
        assert store.recover().changed is False
        stored = store.get_entry(entry.id)
        assert stored.versions[0].file == stored_file
        assert stored.status is EntryStatus.PUBLISHED and len(stored.versions) == 1
        assert [e.entry_id for e in store.feed.since(0)] == [entry.id]
        assert not stale.exists()
    finally:
        store.close()


def build_station(data: Path) -> dict[str, object]:
    """Several books, a replaced entry and a duplicate number; returns the export."""
    store = open_store(data)
    try:
        store.add_operator(Operator("op1", "Lan"))  # survives reindex untouched
        store.set_setting("preset", "default")
        a = publish(store, new_entry(store, "KS-2007-01", "1", 1), 1)
        publish(store, new_entry(store, "KS-2007-01", "2", 2), 2)
        publish(store, new_entry(store, "KS-2007-01", "2", 3), 3)
        publish(store, new_entry(store, "KT-2001-02", "1", 4), 4)
        publish(store, new_entry(store, "KH-2010-01", "9a", 5), 5)
        publish(store, a, 6)
        book = store.get_book("KS-2007-01")
        book.next_entry = 4
        store.update_book(book)
        publish(store, store.get_entry(a.id), 7)
        return store_index(store)
    finally:
        store.close()


def test_reindex_reproduces_the_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = build_station(data)
    assert len(before["feed"]) == 7  # type: ignore[arg-type]
    (data / "published" / "KS" / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    (data / "db" / "books" / "KS-2007-01.json").write_bytes(b"{corrupt")
    report = reindex(data, STATION)
    assert report.files == 7 and report.entries == 5 and report.events == 7
    assert [p.split(":")[0] for p in report.unreadable] == ["KS/broken.pdf"]
    assert not report.conflicts
    old = Path(report.old_dir)
    assert (old / "books" / "KS-2007-01.json").read_bytes() == b"{corrupt"
    assert (old / "feed").is_dir()
    store = open_store(data)
    try:
        assert store_index(store) == before
        assert store.get_book("KS-2007-01").next_entry == 4
        assert store.get_setting("preset") == "default"
        assert [o.id for o in store.list_operators()] == ["op1"]
    finally:
        store.close()


def test_reindex_swap_resumes_after_a_crash(tmp_path: Path) -> None:
    from station.store.reindex import complete_pending_swap

    data = tmp_path / "data"
    before = build_station(data)
    db = data / "db"
    fresh, old = db / "reindex-x", db / "old-x"
    (fresh / "books").mkdir(parents=True)
    (fresh / "feed").mkdir()
    old.mkdir()
    (db / "books").rename(old / "books")  # the crash came after the first move
    (db / "reindex.json").write_text('{"fresh": "reindex-x", "old": "old-x"}')
    complete_pending_swap(db)
    assert (db / "books").is_dir() and not (db / "reindex.json").exists()
    assert (old / "feed").is_dir() and not fresh.exists()
    store = open_store(data)  # empty index: recovery rebuilds it from the files
    try:
        assert len(store.all_entries()) == len(before["entries"])  # type: ignore[arg-type]
        assert store.feed.last_seq == 7
    finally:
        store.close()
