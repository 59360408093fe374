"""Reviewing pages: the view and its image, re-cuts, renumbering, withdrawals, accepting
a page in review and recapturing one, with real captures, processing and PDFs."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from PIL import Image

from station.app.station import Station
from station.app.touch import TouchApi
from station.capture.drivers.base import CapturedImage
from station.core.errors import NotFoundError, StationError, UsageError
from station.core.models import BookRef, EntryStatus, FeedEvent, FeedKind
from station.processing.imaging.segment import region_polygon
from station.store import reindex
from station.store.names import is_version_path
from station.store.xmp import read_metadata
from tests.support.real_pages import REAL_PAGES
from tests.support.stations import (
    capture,
    cuts_of,
    deliver_simulated,
    deliver_stacked,
    qpdf_check,
    running_station,
)


@pytest.fixture
def station(data_dir: Path) -> Iterator[Station]:
    with running_station(data_dir) as running:
        running.open_book(BookRef.parse("KS/2007/01"))
        yield running


def _feed(station: Station) -> list[tuple[str, str, int]]:
    return [(e.kind.value, e.number, e.version) for e in station.store.feed.all()]


def test_a_confident_page_is_accepted_by_default_with_boxes_in_its_view(
    station: Station,
) -> None:
    [view] = capture(station)
    assert view.status == "accepted" and view.auto_accepted and not view.needs_review
    assert [e.number for e in view.entries] == ["1", "2"]
    assert all(e.status == "published" and e.file and e.version == 1 for e in view.entries)
    left, right = (e.box for e in view.entries)
    assert left is not None and right is not None
    assert 0 <= left[0] < left[2] < right[0] < right[2] <= view.width  # reading order
    assert view.to_dict()["entries"][0]["box"] == left
    assert TouchApi(station).last_page("KS-2007-01") == view
    image = TouchApi(station).page_image("KS-2007-01", view.capture_id, 640)
    with Image.open(io.BytesIO(image)) as decoded:
        assert decoded.format == "JPEG" and decoded.width == 640
        assert abs(decoded.height - view.height * 640 / view.width) <= 1
    cached = station.data_dir / "views" / "KS-2007-01" / f"{view.capture_id}.w640.jpg"
    assert cached.read_bytes() == image
    cached.unlink()  # regenerated when missing
    assert (
        TouchApi(station).page_image("KS-2007-01", view.capture_id, 700) == image
    )  # same width step
    assert cached.exists()


def test_unknown_things_are_404_and_malformed_ones_400(station: Station) -> None:
    [view] = capture(station)
    for call in (
        lambda: TouchApi(station).page_view("KS-1999-99", view.capture_id),
        lambda: TouchApi(station).page_view("KS-2007-01", "c-nope"),
        lambda: TouchApi(station).page_image("KS-2007-01", "c-nope", 800),
        lambda: TouchApi(station).entry_pdf("e-nope"),
        lambda: TouchApi(station).entry_pdf(view.entries[0].entry_id, 7),
        lambda: TouchApi(station).accept_page("nope", view.capture_id),
        lambda: station.open_book("KS-1999-99"),
    ):
        with pytest.raises(NotFoundError) as missing:
            call()
        assert missing.value.http_status == 404
    cuts = cuts_of(view)
    bad: list[object] = [
        [{**cuts[0], "number": ""}],
        [{**cuts[0], "number": "12-a"}],
        [{**cuts[0], "number": "1" * 17}],
        [{**cuts[0], "flags": ["smudged"]}],
        [{**cuts[0], "box": [10, 10, 12, 12]}],
        [{**cuts[0], "box": "0,0,9,9"}],
        [{**cuts[0], "box": [0, 0, True, 100]}],
        "not a list",
        [cuts[0]] * 41,
    ]
    for sent in bad:
        with pytest.raises(UsageError) as refused:
            TouchApi(station).review_page("KS-2007-01", view.capture_id, sent, "")  # type: ignore[arg-type]
        assert refused.value.http_status == 400
    with pytest.raises(NotFoundError):
        TouchApi(station).review_page(
            "KS-2007-01", view.capture_id, [{**cuts[0], "entry_id": "e-elsewhere"}], ""
        )
    with pytest.raises(UsageError):
        TouchApi(station).page_image("KS-2007-01", view.capture_id, 0)
    assert TouchApi(station).page_view("KS-2007-01", view.capture_id) == view  # nothing changed


def test_moving_a_cut_line_publishes_a_new_version_cut_from_the_view(station: Station) -> None:
    [view] = capture(station)
    cuts = cuts_of(view)
    left, top, right, bottom = cuts[0]["box"]
    cuts[0]["box"] = [left + 40, top + 60, right - 40, bottom - 200]
    cuts[0]["flags"] = ["torn"]
    edited = TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts, "Lan")
    first = edited.entries[0]
    assert first.entry_id == view.entries[0].entry_id  # matched by overlap: same entry
    assert first.version == 2 and first.file == view.entries[0].file and "torn" in first.flags
    assert first.box is not None and abs(first.box[3] - (bottom - 200)) <= 1
    assert edited.entries[1].version == 1  # untouched
    assert edited.reviewed_by == "Lan" and not edited.auto_accepted
    assert _feed(station)[-1] == ("replaced", "1", 2)
    # The re-cut keeps its outline in the stored capture's grid, in the PDF's record too.
    [region] = station.store.get_entry(first.entry_id).regions
    outline = region_polygon(tuple(region.box), region.warp)  # type: ignore[arg-type]
    assert region.source_orientation == 1 and region.source_polygon is not None
    assert np.allclose(region.source_polygon, outline, atol=0.06)
    record = read_metadata(TouchApi(station).entry_pdf(first.entry_id).read_bytes())
    assert record["entry"]["regions"][0]["source_polygon"] == region.source_polygon
    new_pdf = TouchApi(station).entry_pdf(first.entry_id)
    old_pdf = TouchApi(station).entry_pdf(first.entry_id, 1)
    assert is_version_path(PurePosixPath(old_pdf.relative_to(station.store.published_dir)))
    qpdf_check(new_pdf)
    qpdf_check(old_pdf)
    assert new_pdf.read_bytes() != old_pdf.read_bytes()
    # The same cuts again change nothing.
    again = TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts_of(edited), "Lan")
    assert [e.version for e in again.entries] == [2, 1] and len(_feed(station)) == 3


def test_renumbering_renames_and_swapping_numbers_needs_no_suffix(station: Station) -> None:
    [view] = capture(station)
    cuts = cuts_of(view, with_ids=True)
    cuts[0]["number"], cuts[1]["number"] = "2", "1"  # written in the wrong order
    swapped = TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts, "")
    names = {e.number: e.file for e in swapped.entries}
    assert names == {"1": "KS/2007.01/KS.2007.01.1.pdf", "2": "KS/2007.01/KS.2007.01.2.pdf"}
    assert swapped.entries[0].entry_id == view.entries[0].entry_id  # reading order kept
    assert swapped.entries[0].number == "2"
    cuts = cuts_of(swapped, with_ids=True)
    cuts[1]["number"] = "12a"
    renamed = TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts, "")
    entry = renamed.entries[1]
    assert entry.number == "12a" and entry.file == "KS/2007.01/KS.2007.01.12a.pdf"
    published = station.store.published_dir
    assert (published / "KS/2007.01/KS.2007.01.12a.pdf").is_file()
    assert not (published / "KS/2007.01/KS.2007.01.1.pdf").exists()  # "1" became "12a"
    assert (published / "KS/2007.01/KS.2007.01.2.pdf").is_file()
    kept = sorted(p.name for p in (published / "KS/2007.01/_versions").iterdir())
    assert len(kept) == 3  # v1 of both, v2 of the renamed one; nothing lost
    qpdf_check(published / entry.file)
    # A suffixed number is an entry slipped in: it never moves the book's sequence (it
    # used to make the next number 13 without a word).
    assert station.store.get_book("KS-2007-01").next_entry == 3
    assert all(e.kind in (FeedKind.PUBLISHED, FeedKind.REPLACED) for e in station.store.feed.all())


def test_repeated_numbers_need_the_duplicate_flag(station: Station) -> None:
    [view] = capture(station)
    cuts = cuts_of(view)
    cuts[1]["number"] = "1"
    with pytest.raises(UsageError) as refused:
        TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts, "")
    assert refused.value.key == "review.duplicate_number"
    cuts[1]["flags"] = [*cuts[1]["flags"], "duplicate_number"]
    cuts[0]["flags"] = [*cuts[0]["flags"], "duplicate_number"]
    edited = TouchApi(station).review_page("KS-2007-01", view.capture_id, cuts, "")
    assert [e.number for e in edited.entries] == ["1", "1"]
    files = sorted(e.file or "" for e in edited.entries)
    assert files == ["KS/2007.01/KS.2007.01.1.pdf", "KS/2007.01/KS.2007.01.1_2.pdf"]
    overview = TouchApi(station).book_overview("KS-2007-01")
    assert [(c["number"], c["state"]) for c in overview["cells"]] == [("1", "duplicated")]
    assert len(overview["cells"][0]["entries"]) == 2


def test_removing_and_adding_cuts_withdraws_and_creates_entries(
    station: Station, data_dir: Path
) -> None:
    [view] = capture(station)
    keep, _dropped = cuts_of(view)
    left, top, right, bottom = keep["box"]
    middle = (top + bottom) // 2
    upper = {**keep, "box": [left, top, right, middle]}
    lower = {"box": [left, middle, right, bottom], "number": "1a", "flags": []}
    edited = TouchApi(station).review_page("KS-2007-01", view.capture_id, [upper, lower], "")
    assert [e.number for e in edited.entries] == ["1", "1a"]
    added = edited.entries[1]
    assert added.entry_id not in {e.entry_id for e in view.entries}
    assert added.status == "published" and added.file == "KS/2007.01/KS.2007.01.1a.pdf"
    qpdf_check(TouchApi(station).entry_pdf(added.entry_id))
    assert _feed(station)[-3:] == [
        ("withdrawn", "2", 1),
        ("replaced", "1", 2),
        ("published", "1a", 1),
    ]
    withdrawn = station.store.get_entry(view.entries[1].entry_id)
    assert withdrawn.status is EntryStatus.WITHDRAWN
    kept_file = TouchApi(station).entry_pdf(withdrawn.id)  # the file is kept
    assert is_version_path(PurePosixPath(withdrawn.current_file))
    qpdf_check(kept_file)
    assert station.store.get_book("KS-2007-01").next_entry == 2
    counts = TouchApi(station).book_overview("KS-2007-01")["counts"]
    assert counts["missing"] == 0 and counts["done"] + counts["flagged"] == 2

    # A reindex, which rebuilds everything from the files, keeps the withdrawal.
    station.stop()
    reindex(data_dir, station.info)
    with running_station(data_dir) as again:
        assert again.store.get_entry(withdrawn.id).status is EntryStatus.WITHDRAWN
        kinds = [e.kind.value for e in again.store.feed.all()]
        assert kinds.count("withdrawn") == 1 and kinds[-3] == "withdrawn"
        assert again.store.last_recovery.changed is False


def test_a_page_in_review_stays_unpublished_until_accepted(station: Station) -> None:
    station.open_book(BookRef.parse("KT/1999/02"), profile="page-1")
    capture_id = deliver_stacked(station)
    view = TouchApi(station).page_view("KT-1999-02", capture_id)
    assert view.status == "review" and "count_mismatch" in view.flags
    # The flag says both counts: one entry a page expected, the entries found.
    counts = view.flag_details["count_mismatch"]
    assert counts["expected"] == "1" and counts["found"] == str(len(view.entries))
    assert view.entries and all(e.status == "review" and e.file is None for e in view.entries)
    assert station.store.feed.last_seq == 0
    # Edits stay proposals...
    cuts = cuts_of(view)
    cuts[0]["flags"] = ["faded"]
    edited = TouchApi(station).review_page("KT-1999-02", capture_id, cuts[:2], "")
    assert edited.status == "review" and len(edited.entries) == 2
    assert station.store.feed.last_seq == 0
    assert TouchApi(station).book_overview("KT-1999-02")["cells"][0]["state"] == "review"
    # ...until the page is accepted with one tap.
    accepted = TouchApi(station).accept_page("KT-1999-02", capture_id, "")
    assert accepted.status == "accepted" and not accepted.auto_accepted
    assert all(e.status == "published" for e in accepted.entries)
    assert [k for k, _, _ in _feed(station)] == ["published", "published"]
    for entry in accepted.entries:
        qpdf_check(TouchApi(station).entry_pdf(entry.entry_id))


def test_pages_after_a_page_in_review_are_held_and_numbered_after_its_count(
    station: Station,
) -> None:
    """A miscounted page must not shift the book: the page after it waits, numbered
    provisionally, and takes its numbers from the count the operator confirms."""
    station.open_book(BookRef.parse("KT/1999/03"), profile="page-1")
    doubtful = deliver_stacked(station)  # three entries found where one was expected
    first = TouchApi(station).page_view("KT-1999-03", doubtful)
    assert first.status == "review" and [e.number for e in first.entries] == ["1", "2", "3"]
    after = deliver_simulated(station, "page-1", seed=5)
    held = TouchApi(station).page_view("KT-1999-03", after)
    assert held.status == "review" and "number_uncertain" in held.flags
    assert [e.number for e in held.entries] == ["4"] and held.entries[0].file is None
    assert station.store.feed.last_seq == 0  # nothing named on a guess
    # Publishing the held page as proposed is refused while the page before it waits.
    with pytest.raises(UsageError) as refused:
        TouchApi(station).accept_page("KT-1999-03", after, "")
    assert refused.value.key == "review.numbers_wait" and "Trang 1" in refused.value.message("vi")
    # The operator finds two entries on the first page: the held page follows them,
    # still held while the first page's edit is only a proposal...
    TouchApi(station).review_page("KT-1999-03", doubtful, cuts_of(first)[:2], "Lan")
    held = TouchApi(station).page_view("KT-1999-03", after)
    assert held.status == "review" and [e.number for e in held.entries] == ["3"]
    assert "number_uncertain" in held.flags and station.store.feed.last_seq == 0
    # ...and is published under its settled number once that page is accepted.
    TouchApi(station).accept_page("KT-1999-03", doubtful, "Lan")
    settled = TouchApi(station).page_view("KT-1999-03", after)
    assert settled.status == "accepted" and "number_uncertain" not in settled.flags
    assert [e.number for e in settled.entries] == ["3"] and settled.entries[0].file
    assert sorted(n for _, n, _ in _feed(station)) == ["1", "2", "3"]
    qpdf_check(TouchApi(station).entry_pdf(settled.entries[0].entry_id))
    # The next page goes on from there at once.
    following = TouchApi(station).page_view(
        "KT-1999-03", deliver_simulated(station, "page-1", seed=6)
    )
    assert following.status == "accepted" and [e.number for e in following.entries] == ["4"]


def test_a_recaptured_page_keeps_its_numbers_and_replaces_the_files(station: Station) -> None:
    first, second = capture(station, 2)
    marked = TouchApi(station).request_recapture("KS-2007-01", first.capture_id, "Lan")
    assert marked.status == "recapture" and marked.recapture_requested
    cells = TouchApi(station).book_overview("KS-2007-01")["cells"]
    assert [c["state"] for c in cells[:2]] == ["rescan_requested"] * 2
    events = station.events.subscribe()
    [again] = capture(station)
    assert again.replaces == first.capture_id and again.sequence == first.sequence
    assert [e.entry_id for e in again.entries] == [e.entry_id for e in first.entries]
    assert [e.number for e in again.entries] == ["1", "2"]
    assert [e.version for e in again.entries] == [2, 2]
    assert [e.file for e in again.entries] == [e.file for e in first.entries]
    old = TouchApi(station).page_view("KS-2007-01", first.capture_id)
    assert old.replaced_by == again.capture_id and not old.entries
    assert old.status == "accepted" and not old.recapture_requested
    with pytest.raises(UsageError):
        TouchApi(station).request_recapture("KS-2007-01", first.capture_id, "")
    assert station.store.get_book("KS-2007-01").next_entry == 5  # second page: 3 and 4
    kinds = []
    while (event := events.get(0)) is not None:
        kinds.append((event.kind, event.data.get("kind")))
    assert ("entry", "replaced") in kinds and ("page", None) in kinds
    events.close()
    states = {
        c["number"]: c["state"] for c in TouchApi(station).book_overview("KS-2007-01")["cells"]
    }
    assert "rescan_requested" not in states.values() and "missing" not in states.values()
    assert second.entries[0].number == "3"


def test_errors_carry_both_languages(station: Station) -> None:
    with pytest.raises(StationError) as missing:
        TouchApi(station).page_view("KS-2007-01", "c-nope")
    assert "không có trang" in missing.value.message("vi")
    assert "no processed page" in missing.value.message("en")


def test_interrupted_withdrawals_and_renames_are_finished_at_open(
    station: Station, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [view] = capture(station)
    first, second = (station.store.get_entry(e.entry_id) for e in view.entries)
    feed = station.store.feed
    append = feed.append_event

    def power_cut(event: FeedEvent) -> FeedEvent:
        if event.kind is FeedKind.WITHDRAWN:
            raise RuntimeError("power cut after the tombstone")
        return append(event)

    monkeypatch.setattr(feed, "append_event", power_cut)
    with pytest.raises(RuntimeError):
        station.store.withdraw(second.id)
    # A rename cut short after the index names the kept link, before the old name went.
    moved = station.store.vacate(first.id)
    published = station.store.published_dir
    os.link(published / moved.current_file, published / first.current_file)
    station.stop()
    with running_station(data_dir) as again:
        report = again.store.last_recovery
        assert report.feed_appended == [3] and first.current_file in report.removed_temps
        assert again.store.get_entry(second.id).status is EntryStatus.WITHDRAWN
        assert [e.kind for e in again.store.feed.all()][-1] is FeedKind.WITHDRAWN
        assert not (published / first.current_file).exists()
        assert (published / moved.current_file).is_file()
        assert not again.store.recover().changed  # nothing left to do


@pytest.mark.skipif(
    not (REAL_PAGES / "rep_dufour1_07645_L-0.jpg").is_file(),
    reason=f"real pages not found at {REAL_PAGES} (a folder 'shared' beside the repository)",
)
def test_cuts_that_step_round_the_writing_are_shown_as_they_are(station: Station) -> None:
    # A real register page (openly licensed; SOURCES.md in that folder): its entries'
    # boundaries step round the writing, so a box would show a neighbour's letters as
    # in the entry's file. The view carries each stepped cut's outline; the box is its
    # bounds, the line the screen moves.
    station.open_book(BookRef.parse("KS/1851/01"), profile="stacked")
    data = (REAL_PAGES / "rep_dufour1_07645_L-0.jpg").read_bytes()
    job = station.deliver(
        CapturedImage(dpi=200, source="test", device="t:0", encoded=data, format="JPEG")
    )
    assert station.wait_idle(120)
    view = TouchApi(station).page_view("KS-1851-01", job.capture.id)
    assert len(view.entries) == 7
    stepped = [e for e in view.entries if e.outline is not None]
    assert stepped, "no cut of this page steps round its writing"
    for entry in stepped:
        assert entry.box is not None and len(entry.outline or []) > 4
        points = np.clip(np.asarray(entry.outline), 0, [view.width, view.height])
        bounds = [*np.floor(points.min(axis=0)), *np.ceil(points.max(axis=0))]
        assert [int(v) for v in bounds] == entry.box
    assert view.to_dict()["entries"][0]["outline"] == view.entries[0].outline
    plain = [e for e in view.entries if e.outline is None]
    assert all(e.box is not None for e in plain)
