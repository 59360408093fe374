"""The collector's memory: pairings, cursors, collected files, failures (SQLite).

SQLite is in the standard library on every platform and commits durably
(``synchronous=FULL``), so a cursor and the files it covers are recorded in one
transaction. Tokens are kept out of the database, one private file per station
(mode 0600 on POSIX; on Windows the per-user ``%LOCALAPPDATA%`` is private already).
One :class:`State` serves one thread; each worker opens its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from station.collector.durable import fsync_dir
from station.collector.errors import StateError
from station.collector.paths import safe_id

DB_NAME = "collect.db"
TOKENS_DIR = "tokens"

SCHEMA = """
CREATE TABLE IF NOT EXISTS stations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, office_code TEXT NOT NULL,
    office_name TEXT NOT NULL, fingerprint TEXT NOT NULL, collector_id TEXT NOT NULL,
    paired_at TEXT NOT NULL, host TEXT NOT NULL, port INTEGER NOT NULL,
    api_path TEXT NOT NULL, last_success TEXT, last_error TEXT, last_error_at TEXT);
CREATE TABLE IF NOT EXISTS cursors (
    station_id TEXT NOT NULL, dest TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (station_id, dest));
CREATE TABLE IF NOT EXISTS files (
    station_id TEXT NOT NULL, dest TEXT NOT NULL, entry_id TEXT NOT NULL,
    version INTEGER NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    path TEXT NOT NULL, path_key TEXT NOT NULL, book TEXT NOT NULL, number TEXT NOT NULL,
    seq INTEGER NOT NULL, collected_at TEXT NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (station_id, dest, entry_id));
CREATE INDEX IF NOT EXISTS files_by_path ON files (dest, path_key);
CREATE TABLE IF NOT EXISTS moved (
    station_id TEXT NOT NULL, dest TEXT NOT NULL, entry_id TEXT NOT NULL,
    version INTEGER NOT NULL, from_path TEXT NOT NULL, to_path TEXT NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    station_id TEXT NOT NULL, dest TEXT NOT NULL, entry_id TEXT NOT NULL,
    event TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL, since TEXT NOT NULL,
    PRIMARY KEY (station_id, dest, entry_id));
"""


def now() -> str:
    """The current UTC time, ISO-8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def dest_key(dest: Path) -> str:
    """How a destination folder is named in the state (absolute, resolved)."""
    return str(dest.resolve())


@dataclass
class Pairing:
    """A station this PC is paired with."""

    id: str
    name: str
    office_code: str
    office_name: str
    fingerprint: str
    collector_id: str
    paired_at: str
    host: str
    port: int
    api_path: str
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None


@dataclass
class LocalFile:
    """The version of an entry that sits in the destination folder."""

    entry_id: str
    version: int
    sha256: str
    bytes: int
    path: str
    book: str
    number: str
    seq: int
    acked: bool = False
    withdrawn: bool = False


@dataclass
class Moved:
    """A file moved aside (replaced or withdrawn), never deleted."""

    entry_id: str
    version: int
    from_path: str
    to_path: str
    reason: str


@dataclass
class Pending:
    """An event whose file could not be taken yet, retried on every pass."""

    entry_id: str
    event: dict[str, Any]
    error: str
    attempts: int
    since: str


@dataclass
class Batch:
    """What one stretch of a pass changed, committed in one transaction."""

    cursor: int | None = None
    files: list[LocalFile] | None = None
    moved: list[Moved] | None = None
    resolved: list[str] | None = None
    failed: list[tuple[dict[str, Any], str]] | None = None

    def empty(self) -> bool:
        return self.cursor is None and not (
            self.files or self.moved or self.resolved or self.failed
        )


class State:
    """The state folder of one collector."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            (folder / TOKENS_DIR).mkdir(exist_ok=True, mode=0o700)
            if os.name != "nt":
                os.chmod(folder, 0o700)
            self._db = sqlite3.connect(folder / DB_NAME, timeout=30, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(path=str(folder), detail=str(exc)) from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StateError(path=str(self.folder), detail=str(exc)) from exc

    # -- pairings -----------------------------------------------------------------

    def save_pairing(self, pairing: Pairing, token: str) -> Path:
        """Remember a new pairing; the token goes to its own private file (returned)."""
        if not safe_id(pairing.id):
            raise StateError(path=str(self.folder), detail=f"bad station id {pairing.id!r}")
        token_file = self._write_token(pairing.id, token)
        values = asdict(pairing)
        columns = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        with self._transaction() as db:
            db.execute(f"INSERT OR REPLACE INTO stations ({columns}) VALUES ({marks})", values)
        return token_file

    def _write_token(self, station_id: str, token: str) -> Path:
        path = self.folder / TOKENS_DIR / f"{station_id}.token"
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(token.encode())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            fsync_dir(path.parent)
        except OSError as exc:
            raise StateError(path=str(path), detail=str(exc)) from exc
        return path

    def token(self, station_id: str) -> str | None:
        """The token issued by ``station_id``, if paired."""
        try:
            return (self.folder / TOKENS_DIR / f"{station_id}.token").read_text().strip() or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(path=str(self.folder), detail=str(exc)) from exc

    def pairings(self) -> list[Pairing]:
        """Every paired station, by name."""
        rows = self._db.execute("SELECT * FROM stations ORDER BY name, id").fetchall()
        return [Pairing(**dict(row)) for row in rows]

    def pairing(self, station_id: str) -> Pairing | None:
        row = self._db.execute("SELECT * FROM stations WHERE id = ?", (station_id,)).fetchone()
        return Pairing(**dict(row)) if row else None

    def set_address(self, station_id: str, host: str, port: int) -> None:
        """Remember where the station answered last (used when mDNS is quiet)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE stations SET host = ?, port = ? WHERE id = ?", (host, port, station_id)
            )

    def record_success(self, station_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE stations SET last_success = ?, last_error = NULL WHERE id = ?",
                (now(), station_id),
            )

    def record_error(self, station_id: str, message: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE stations SET last_error = ?, last_error_at = ? WHERE id = ?",
                (message, now(), station_id),
            )

    # -- collected files --------------------------------------------------------------

    def cursor(self, station_id: str, dest: str) -> int:
        """The feed sequence number up to which everything is taken care of."""
        row = self._db.execute(
            "SELECT seq FROM cursors WHERE station_id = ? AND dest = ?", (station_id, dest)
        ).fetchone()
        return int(row["seq"]) if row else 0

    def local_file(self, station_id: str, dest: str, entry_id: str) -> LocalFile | None:
        row = self._db.execute(
            "SELECT * FROM files WHERE station_id = ? AND dest = ? AND entry_id = ?",
            (station_id, dest, entry_id),
        ).fetchone()
        return _local(row) if row else None

    def path_owner(self, dest: str, path: str) -> tuple[str, str] | None:
        """(station id, entry id) whose current file is ``path`` (case-insensitive)."""
        row = self._db.execute(
            "SELECT station_id, entry_id FROM files WHERE dest = ? AND path_key = ? "
            "AND withdrawn = 0",
            (dest, path.casefold()),
        ).fetchone()
        return (row["station_id"], row["entry_id"]) if row else None

    def commit(self, station_id: str, dest: str, batch: Batch) -> None:
        """Record files made durable, the moves, failures and the cursor, at once."""
        if batch.empty():
            return
        stamp = now()
        with self._transaction() as db:
            for item in batch.files or []:
                db.execute(
                    "INSERT OR REPLACE INTO files (station_id, dest, entry_id, version, sha256,"
                    " bytes, path, path_key, book, number, seq, collected_at, acked, withdrawn)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        station_id, dest, item.entry_id, item.version, item.sha256, item.bytes,
                        item.path, item.path.casefold(), item.book, item.number, item.seq,
                        stamp, int(item.acked), int(item.withdrawn),
                    ),
                )  # fmt: skip
            for move in batch.moved or []:
                db.execute(
                    "INSERT INTO moved VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        station_id, dest, move.entry_id, move.version, move.from_path,
                        move.to_path, move.reason, stamp,
                    ),
                )  # fmt: skip
            for entry_id in batch.resolved or []:
                db.execute(
                    "DELETE FROM pending WHERE station_id = ? AND dest = ? AND entry_id = ?",
                    (station_id, dest, entry_id),
                )
            for event, error in batch.failed or []:
                db.execute(
                    "INSERT INTO pending VALUES (?, ?, ?, ?, ?, 1, ?)"
                    " ON CONFLICT (station_id, dest, entry_id) DO UPDATE SET"
                    " event = excluded.event, error = excluded.error,"
                    " attempts = pending.attempts + 1",
                    (station_id, dest, event["entry_id"], json.dumps(event), error, stamp),
                )
            if batch.cursor is not None:
                db.execute(
                    "INSERT INTO cursors VALUES (?, ?, ?)"
                    " ON CONFLICT (station_id, dest) DO UPDATE SET"
                    " seq = max(cursors.seq, excluded.seq)",
                    (station_id, dest, batch.cursor),
                )

    def reset_cursor(self, station_id: str, dest: str) -> None:
        """Walk the feed again from the start (the station's feed was restored)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE cursors SET seq = 0 WHERE station_id = ? AND dest = ?", (station_id, dest)
            )

    def unacked(self, station_id: str, dest: str, limit: int = 500) -> list[LocalFile]:
        rows = self._db.execute(
            "SELECT * FROM files WHERE station_id = ? AND dest = ? AND acked = 0 AND withdrawn = 0"
            " ORDER BY seq LIMIT ?",
            (station_id, dest, limit),
        ).fetchall()
        return [_local(row) for row in rows]

    def mark_acked(self, station_id: str, dest: str, items: list[tuple[str, int]]) -> None:
        """Mark (entry id, version) pairs as acknowledged by the station."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE files SET acked = 1 WHERE station_id = ? AND dest = ? AND entry_id = ?"
                " AND version = ?",
                [(station_id, dest, entry_id, version) for entry_id, version in items],
            )

    def pending(self, station_id: str, dest: str) -> list[Pending]:
        rows = self._db.execute(
            "SELECT * FROM pending WHERE station_id = ? AND dest = ? ORDER BY since",
            (station_id, dest),
        ).fetchall()
        return [
            Pending(
                row["entry_id"],
                json.loads(row["event"]),
                row["error"],
                row["attempts"],
                row["since"],
            )
            for row in rows
        ]

    # -- reporting ------------------------------------------------------------------------

    def destinations(self, station_id: str) -> list[str]:
        rows = self._db.execute(
            "SELECT dest FROM cursors WHERE station_id = ? UNION "
            "SELECT dest FROM pending WHERE station_id = ? ORDER BY dest",
            (station_id, station_id),
        ).fetchall()
        return [row["dest"] for row in rows]

    def counts(self, station_id: str, dest: str) -> dict[str, int]:
        """Files, old versions kept aside, withdrawn, pending and unacknowledged."""
        args = (station_id, dest)
        one = self._db.execute

        def count(sql: str) -> int:
            return int(one(sql, args).fetchone()[0])

        where = "WHERE station_id = ? AND dest = ?"
        return {
            "cursor": self.cursor(station_id, dest),
            "files": count(f"SELECT count(*) FROM files {where} AND withdrawn = 0"),
            "replaced": count(f"SELECT count(*) FROM moved {where} AND reason != 'withdrawn'"),
            "withdrawn": count(f"SELECT count(*) FROM files {where} AND withdrawn = 1"),
            "pending": count(f"SELECT count(*) FROM pending {where}"),
            "unacked": count(f"SELECT count(*) FROM files {where} AND acked = 0 AND withdrawn = 0"),
        }


def _local(row: sqlite3.Row) -> LocalFile:
    return LocalFile(
        entry_id=row["entry_id"],
        version=row["version"],
        sha256=row["sha256"],
        bytes=row["bytes"],
        path=row["path"],
        book=row["book"],
        number=row["number"],
        seq=row["seq"],
        acked=bool(row["acked"]),
        withdrawn=bool(row["withdrawn"]),
    )
