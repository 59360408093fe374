"""The one counting function for books, and the one rule for "a collector holds it"."""

from __future__ import annotations

from pathlib import Path

from station.core.models import Entry, EntryStatus, EntryVersion, Region
from station.lan.acks import AckItem, Acks
from station.store.counts import BookCounts, count_entries, holds_current

BOOK = "KS-2007-01"


def entry(
    number: int, status: EntryStatus, *, versions: int = 0, flags: tuple[str, ...] = ()
) -> Entry:
    made = Entry(
        id=f"e{number}",
        book=BOOK,
        number=str(number),
        regions=[Region("c1", (0, 0, 10, 10))],
        status=status,
        flags=list(flags),
    )
    sha = "{:02d}{:02d}".format
    made.versions = [
        EntryVersion(v, f"KS/{number}.pdf", sha(number, v) * 16, 100, v, "2024-05-01", "test")
        for v in range(1, versions + 1)
    ]
    return made


def test_a_withdrawn_entry_counts_as_withdrawn_only() -> None:
    entries = [
        entry(1, EntryStatus.PUBLISHED, versions=1),
        entry(2, EntryStatus.WITHDRAWN, versions=1),
    ]
    counts = count_entries(entries, pages=1)
    assert counts == BookCounts(
        pages=1, entries=1, published=1, review=0, withdrawn=1, over_budget=0
    )


def test_review_and_over_budget_are_counted_among_live_entries() -> None:
    entries = [
        entry(1, EntryStatus.REVIEW),
        entry(2, EntryStatus.PUBLISHED, versions=2, flags=("over_budget", "faded")),
        entry(3, EntryStatus.PUBLISHED, versions=1),
        entry(4, EntryStatus.WITHDRAWN, versions=1, flags=("over_budget",)),
    ]
    assert count_entries(entries, pages=2).to_dict() == {
        "pages": 2,
        "entries": 3,
        "published": 2,
        "review": 1,
        "withdrawn": 1,
        "over_budget": 1,
    }


def test_an_empty_book_counts_zero() -> None:
    assert count_entries([], pages=0) == BookCounts(0, 0, 0, 0, 0, 0)


def test_a_collector_holds_only_the_current_file_of_a_live_entry() -> None:
    replaced = entry(1, EntryStatus.PUBLISHED, versions=2)
    old, new = replaced.versions
    assert holds_current(replaced, {"version": 2, "sha256": new.sha256})
    assert not holds_current(replaced, {"version": 1, "sha256": old.sha256})
    assert not holds_current(replaced, None)
    withdrawn = entry(2, EntryStatus.WITHDRAWN, versions=1)
    assert not holds_current(withdrawn, {"version": 1, "sha256": withdrawn.versions[0].sha256})
    unpublished = entry(3, EntryStatus.REVIEW)
    assert not holds_current(unpublished, {"version": 1, "sha256": "00" * 32})


def test_the_lan_counts_and_the_touch_screens_use_the_same_rule(tmp_path: Path) -> None:
    acks = Acks(tmp_path / "acks")
    kept = entry(1, EntryStatus.PUBLISHED, versions=1)
    replaced = entry(2, EntryStatus.PUBLISHED, versions=2)
    withdrawn = entry(3, EntryStatus.WITHDRAWN, versions=1)
    items = [
        AckItem(kept.id, 1, kept.versions[0].sha256),
        AckItem(replaced.id, 1, replaced.versions[0].sha256),
        AckItem(withdrawn.id, 1, withdrawn.versions[0].sha256),
    ]
    acks.record("pc-1", BOOK, items)
    entries = [kept, replaced, withdrawn]
    assert acks.held(["pc-1", "pc-2"], BOOK, entries) == {kept.id}
    assert acks.count_current("pc-1", BOOK, entries) == 1
    assert acks.count_current("pc-2", BOOK, entries) == 0
