"""File handling for the hot folder: bounded reads and moves that never overwrite.

Files in the hot folder belong to whoever saved them until the station has its own
fsynced copy, so nothing here deletes a file: files are renamed (claimed, moved to
``done/`` or ``rejected/``, or put back) under a free name. A copy is made only when
the target is on another file system, and the source goes only after the copy is
fsynced.

Whoever can write the hot folder can also put there what is not a page: a link to a
file of the system, a FIFO that blocks whoever opens it, a device node, a file owned
by another user (a hard link). The station opens only regular files of an allowed
owner, never through a link and never blocking (:func:`open_regular`), and a move
across file systems copies only such a file: anything else is renamed aside as
itself or, when a rename cannot reach the target, left where it is (:class:`NotMovable`).
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from station.core import messages
from station.core.errors import ImageError, StationError
from station.core.fsutil import temp_path_for, write_atomic
from station.core.models import utc_now
from station.core.printable import has_control, printable

log = logging.getLogger(__name__)

#: Names other programs use while still writing (browsers, rsync, Samba, editors) and
#: system clutter; such files are never taken, whatever they end up containing.
IGNORED = (
    ".*",
    "~*",
    "*.part",
    "*.partial",
    "*.tmp",
    "*.temp",
    "*.crdownload",
    "*.download",
    "*.swp",
    "*.reason.txt",
    "Thumbs.db",
    "desktop.ini",
)


def ignored(name: str) -> bool:
    """Whether ``name`` is a temporary or system file the hot folder leaves alone."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in IGNORED)


#: Opening never follows a link, never blocks (a FIFO), never takes a terminal.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class NotMovable(OSError):
    """A move across file systems would have to read what must not be read."""


def refusal(info: os.stat_result, name: str, owners: frozenset[int]) -> ImageError | None:
    """Why the hot folder must not open this file (from its ``lstat``), or None.

    ``owners`` empty: any owner (a share that maps every user to one).
    """
    source = printable(name)
    if not stat.S_ISREG(info.st_mode):
        return ImageError("folder.not_file", source=source)
    if owners and info.st_uid not in owners:
        return ImageError("folder.not_owner", source=source, uid=info.st_uid)
    if has_control(name):
        return ImageError("folder.bad_name", source=source)
    return None


def open_regular(path: Path, owners: frozenset[int]) -> int:
    """A file descriptor on ``path`` if it is a regular file of an allowed owner.

    Checked on the file opened (``fstat``), not only on its name: what was a file at
    ``lstat`` may be a link or a FIFO by now. Raises ImageError with the reason.
    """
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENXIO, errno.EOPNOTSUPP):
            raise ImageError("folder.not_file", source=printable(path.name)) from exc
        raise
    try:
        problem = refusal(os.fstat(fd), "", owners)
        if problem is not None:
            problem.values["source"] = printable(path.name)
            raise problem
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: Path, limit: int, owners: frozenset[int] = frozenset()) -> bytes:
    """Read a regular file (see :func:`open_regular`), at most ``limit + 1`` bytes.

    The extra byte tells the caller the file is over the limit without reading a
    file of any size into memory.
    """
    with os.fdopen(open_regular(path, owners), "rb") as handle:
        return handle.read(limit + 1)


def free_name(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name-2``, ``name-3``... if that is taken."""
    for candidate in _candidates(directory, name):
        if not os.path.lexists(candidate):
            return candidate
    raise FileExistsError(errno.EEXIST, "no free name", str(directory / name))


def _candidates(directory: Path, name: str) -> Iterator[Path]:
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # no suffix (or a leading dot only)
        stem, dot, suffix = name, "", ""
    yield directory / name
    for number in range(2, 10_000):
        yield directory / f"{stem}-{number}{dot}{suffix}"


def move_unique(
    src: Path, directory: Path, name: str, owners: frozenset[int] = frozenset()
) -> Path:
    """Move ``src`` into ``directory`` as ``name`` (or a free variant); return the target.

    Raises :class:`FileNotFoundError` if ``src`` is gone (someone else took it), and
    :class:`NotMovable` if the target is on another file system and ``src`` is not a
    regular file of one of ``owners``: its content is never copied.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = free_name(directory, name)
    try:
        # A rename keeps the one inode: at every instant the file is in one place.
        os.rename(src, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _copy_then_remove(src, target, owners)
    sync_dir(target.parent)
    sync_dir(src.parent)
    return target


def _copy_then_remove(src: Path, target: Path, owners: frozenset[int]) -> None:
    """Move across file systems: copy, fsync, publish, and only then remove the source."""
    try:
        fd = open_regular(src, owners)
    except ImageError as exc:
        raise NotMovable(errno.EXDEV, exc.message("en"), str(src)) from exc
    tmp = temp_path_for(target)
    try:
        with os.fdopen(fd, "rb") as reader, open(tmp, "xb") as writer:
            shutil.copyfileobj(reader, writer)
            writer.flush()
            os.fsync(writer.fileno())
        os.rename(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sync_dir(target.parent)
    os.unlink(src)


def sync_dir(directory: Path) -> None:
    """fsync a folder where the file system allows it (some network shares do not)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("cannot fsync folder %s", directory)
    finally:
        os.close(fd)


def reason_text(error: StationError) -> str:
    """The bilingual text kept beside a rejected file."""
    lines = [error.message(lang) for lang in messages.LANGUAGES]
    lines.append("")
    if error.key == "image.corrupt":  # a cut-short file may only have been copied too slowly
        lines += [messages.render("folder.reason_hint", lang) for lang in messages.LANGUAGES]
        lines.append("")
    lines.append(utc_now())
    return "\n".join(lines) + "\n"


def write_reason(target: Path, error: StationError) -> Path:
    """Write ``<target name>.reason.txt`` beside a rejected file."""
    path = target.with_name(target.name + ".reason.txt")
    write_atomic(path, reason_text(error).encode("utf-8"))
    return path
