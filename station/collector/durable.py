"""Durable, never-overwriting file moves that work on Linux and Windows.

``station.core.fsutil`` does the same for the station, but opens directories to fsync them,
which Windows cannot do; NTFS journals its directory changes itself, so there the
directory step is skipped.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import BinaryIO

_CAN_FSYNC_DIRS = os.name != "nt"


def fsync_dir(directory: Path) -> None:
    """Make renames and creations inside ``directory`` survive a power cut."""
    if not _CAN_FSYNC_DIRS:
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(handle: BinaryIO) -> None:
    """Flush Python's buffer and the OS cache of an open file to the disk."""
    handle.flush()
    os.fsync(handle.fileno())


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and its parents, fsyncing each parent that gained a child."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        fsync_dir(folder.parent)


def rename_new(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; :class:`FileExistsError` if ``target`` exists.

    POSIX ``rename`` would silently replace the target, so a hard link (which refuses
    an existing name) is made and the source unlinked. File systems without hard links
    (FAT, some shares) fall back to a check then rename, safe under the collector's lock.
    Windows' rename already refuses an existing target.
    """
    make_dirs(target.parent)
    if os.name == "nt":
        os.rename(source, target)
        return
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in {
            errno.EPERM,
            errno.EOPNOTSUPP,
            errno.ENOTSUP,
            errno.EXDEV,
            errno.EMLINK,
        }:
            raise
        if target.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(target)) from exc
        os.rename(source, target)
        return
    os.unlink(source)


def move_aside(source: Path, target: Path) -> Path:
    """Move ``source`` to ``target`` (or ``name-2``, ``name-3``... if taken); return where."""
    candidate = target
    for index in range(2, 10_000):
        try:
            rename_new(source, candidate)
        except FileExistsError:
            candidate = target.with_name(f"{target.stem}-{index}{target.suffix}")
            continue
        fsync_dir(candidate.parent)
        fsync_dir(source.parent)
        return candidate
    raise FileExistsError(errno.EEXIST, "no free name", str(target))
