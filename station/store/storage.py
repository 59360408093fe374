"""A TinyDB storage that survives power cuts and never destroys a damaged file.

The stock ``JSONStorage`` truncates and rewrites its file in place: a power cut in the
middle leaves half a database. This one writes a new file beside the old one and
renames it over (:func:`station.core.fsutil.write_atomic`), and refuses to touch a file it
cannot parse, so ``station reindex`` (or a person) can still look at it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tinydb import Storage

from station.core.errors import CorruptDatabaseError
from station.core.fsutil import write_atomic

log = logging.getLogger(__name__)


class SafeJSONStorage(Storage):
    """Compact JSON on disk, written atomically; a corrupt file raises, never resets."""

    def __init__(self, path: str | Path, **_: Any) -> None:
        super().__init__()
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The whole database, or None for a missing or empty file (a new database)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptDatabaseError(path=str(self.path), detail=str(exc)) from exc
        if not raw.strip():
            return None
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.error("database %s cannot be parsed: %s", self.path, exc)
            raise CorruptDatabaseError(path=str(self.path), detail=str(exc)) from exc
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise CorruptDatabaseError(path=str(self.path), detail="not a TinyDB document")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with ``data`` atomically (temp, fsync, rename, dir fsync)."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        write_atomic(self.path, text.encode("utf-8"))

    def close(self) -> None:
        """Nothing is held open between operations."""
