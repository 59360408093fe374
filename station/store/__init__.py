"""The store: books, captures, pages, entries, published files and the change feed.

The only code in the project that imports TinyDB. See :mod:`station.store.store` for
the on-disk layout and :mod:`station.store.names` for the duplicate-name rule.
"""

from __future__ import annotations

from station.store.feed import Feed
from station.store.recovery import RecoveryReport
from station.store.reindex import ReindexReport, reindex
from station.store.storage import SafeJSONStorage
from station.store.store import Namer, Store

__all__ = [
    "Feed",
    "Namer",
    "RecoveryReport",
    "ReindexReport",
    "SafeJSONStorage",
    "Store",
    "reindex",
]
