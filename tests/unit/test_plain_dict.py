"""``models.plain_dict``: ``dataclasses.asdict`` without its per-value deep copies."""

from __future__ import annotations

import collections
import dataclasses
from collections import namedtuple
from typing import Any

from station.core.models import (
    Book,
    BookRef,
    BookStatus,
    Entry,
    EntryVersion,
    FeedEvent,
    FeedKind,
    Page,
    Region,
    plain_dict,
)
from station.processing.batch.report import EntryRow, ImageRow, Problem

Pair = namedtuple("Pair", "low high")


@dataclasses.dataclass
class _Odd:
    pair: Pair
    span: tuple[int, ...]
    tags: set[str]


def _containers(value: Any) -> list[Any]:
    """Every list, dict and set inside ``value``."""
    if isinstance(value, list | set):
        return [value, *(c for item in value for c in _containers(item))]
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in _containers(item))]
    return []


def _instances() -> list[Any]:
    region = Region(
        "c1", (1, 2, 30, 40), 1, 7, 0.5, 1.5, [1.0, 0.0, 2.0],
        source_polygon=[[0.25, 1.5], [30.0, 1.0]], bend=[2.0, 2.0], shape=[0.0, 1.0],
    )  # fmt: skip
    version = EntryVersion(1, "KS/2007.01/KS.2007.01.3.pdf", "ab", 12, 4, "2026-01-01Z", "g4")
    outside = [{"reason": "header", "share": 0.09, "box": [99, 225, 2798, 719]}]
    return [
        region,
        Entry("e1", "KS/2007/01", "3", [region], flags=["faded"], versions=[version]),
        Page(
            "c1",
            "KS/2007/01",
            1,
            "stacked",
            ["e1"],
            [4],
            outside=outside,
            flag_details={"count_mismatch": {"expected": "6", "found": "7"}},
        ),
        Book(BookRef("KS", 2007, 1), profile="stacked", status=BookStatus.OPEN),
        FeedEvent(3, FeedKind.PUBLISHED, "e1", "KS/2007/01", "3", 1, "f.pdf", "ab", 12, "t"),
        EntryRow(
            "3",
            1,
            "a.jpg",
            0,
            4,
            [[0.5, 1.0], [2.0, 3.0]],
            flags=["faded"],
            error=Problem("k", "vi", "en", 2),
        ),
        ImageRow(1, "a.jpg", outside=outside, outside_shares={"header": 0.09}),
        _Odd(Pair(1, [2, 3]), (4, 5), {"x"}),
    ]


def test_it_is_asdict_value_for_value() -> None:
    for instance in _instances():
        plain, expected = plain_dict(instance), dataclasses.asdict(instance)
        assert plain == expected
        assert repr(plain) == repr(expected)  # the same types too (tuples, enums)


def test_it_shares_no_list_dict_or_set_with_the_instance() -> None:
    for instance in _instances():
        inside = {id(c) for c in _containers(vars(instance))}
        assert not inside & {id(c) for c in _containers(plain_dict(instance))}


def test_a_defaultdict_keeps_its_factory() -> None:
    # (dataclasses.asdict itself fails on one before Python 3.12.)
    @dataclasses.dataclass
    class Tally:
        counts: collections.defaultdict[str, list[int]]

    tally = Tally(collections.defaultdict(list, {"a": [1, 2]}))
    counts = plain_dict(tally)["counts"]
    assert isinstance(counts, collections.defaultdict) and counts.default_factory is list
    assert counts == {"a": [1, 2]} and counts["a"] is not tally.counts["a"]
