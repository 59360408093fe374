"""Crash-safe file writing: temp name, fsync, rename, directory fsync.

"Written" in the station means "survives a power cut": every file that other parts rely
on goes through :func:`write_atomic` (or :func:`publish_file` for a file already
prepared under a temporary name).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

#: Suffix of every temporary file; anything carrying it after a crash is garbage.
TEMP_SUFFIX = ".part"


def temp_path_for(path: Path) -> Path:
    """A unique temporary sibling of ``path`` (same directory, so rename is atomic)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def fsync_dir(directory: Path) -> None:
    """Make a rename or creation inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    With ``replace=False`` an existing ``path`` is an error (:class:`FileExistsError`),
    which is how files that must never be overwritten are written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:  # a full disk, say: no half-written temp left to eat space
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    publish_file(tmp, path, replace=replace)


def publish_file(tmp: Path, path: Path, *, replace: bool = True) -> None:
    """Move a fully written and fsynced ``tmp`` to ``path`` and make it durable."""
    try:
        if replace:
            os.replace(tmp, path)
        else:
            # link() fails if the target exists, unlike rename(): no silent overwrite.
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_stale_temps(root: Path) -> list[Path]:
    """Delete temporary files left by a crash under ``root``; return what was removed."""
    removed: list[Path] = []
    if not root.exists():
        return removed
    for tmp in root.rglob(f"*{TEMP_SUFFIX}"):
        if tmp.is_file() and tmp.name.startswith("."):
            tmp.unlink()
            removed.append(tmp)
    return removed
