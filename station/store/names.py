"""Published file names: checking what the namer gives and keeping names unique.

Rule for a clash (documented for operators and collectors): when the name the namer
gives for a new entry is already used in its folder, compared case-insensitively (the
entry PCs run Windows), by another entry or file, the entry gets ``<stem>_2.pdf``, else
``<stem>_3.pdf`` and so on: the first free one. The order of publication decides, so the
first entry published keeps the plain name. The entry is flagged ``duplicate_number``.
A replacement always keeps the entry's existing name.

Earlier versions live at ``<folder>/_versions/<stem>.v<N>.pdf``. Current files never
live in ``_versions``, and two version names cannot be equal for different stems:
``A.v<N>`` = ``B.v<M>`` needs ``A`` = ``B`` since ``N`` and ``M`` are plain digits.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from station.core.errors import NamingError

VERSIONS_DIR = "_versions"
SUFFIX = ".pdf"


def check_relpath(path: PurePosixPath) -> PurePosixPath:
    """Accept only a relative ``folder/.../name.pdf`` with no tricks in it."""
    text = str(path)
    problem = ""
    if path.is_absolute() or "\\" in text or not path.parts:
        problem = "must be a relative path"
    elif any(part in {"", ".", ".."} or part.startswith(".") for part in path.parts):
        problem = "no empty, '.', '..' or hidden parts allowed"
    elif VERSIONS_DIR in path.parts:
        problem = f"'{VERSIONS_DIR}' is reserved for earlier versions"
    elif path.suffix.lower() != SUFFIX or not path.stem:
        problem = "must end in .pdf"
    if problem:
        raise NamingError(detail=f"{text}: {problem}")
    return path


def candidate(base: PurePosixPath, attempt: int) -> PurePosixPath:
    """The ``attempt``-th name for ``base``: itself, then ``stem_2``, ``stem_3``..."""
    if attempt <= 1:
        return base
    return base.with_name(f"{base.stem}_{attempt}{base.suffix}")


def choose_name(base: PurePosixPath, taken: set[str]) -> tuple[PurePosixPath, bool]:
    """The first free name for ``base`` (``taken`` holds casefolded paths) and whether
    it clashed."""
    attempt = 1
    while str(candidate(base, attempt)).casefold() in taken:
        attempt += 1
    return candidate(base, attempt), attempt > 1


def version_path(current: PurePosixPath, version: int) -> PurePosixPath:
    """Where version ``version`` of the file now at ``current`` is kept."""
    return current.parent / VERSIONS_DIR / f"{current.stem}.v{version}{current.suffix}"


def is_version_path(path: PurePosixPath) -> bool:
    """Whether ``path`` points into a ``_versions`` folder."""
    return VERSIONS_DIR in path.parts
