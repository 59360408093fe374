"""Where the collector keeps its state, and which names from the network it accepts.

Every file name comes from the station, so it is untrusted: a name that could climb out
of the destination folder, land on a Windows device name or collide with the
collector's own folders is refused rather than "cleaned up".
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

APP_DIR = "ledger-station-collect"
#: Folders of the destination that belong to the collector, never to a mirrored name.
REPLACED_DIR = "_replaced"
WITHDRAWN_DIR = "_withdrawn"
PARTIAL_DIR = ".partial"
RESERVED_TOP = {REPLACED_DIR.casefold(), WITHDRAWN_DIR.casefold(), PARTIAL_DIR.casefold()}

MAX_PATH_CHARS = 240  # leaves room for the destination under Windows' 260-character limit
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in "123456789"
}
_BAD_CHARS = re.compile(r'[\x00-\x1f<>:"|?*\\]')
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_state_dir(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> Path:
    """``%LOCALAPPDATA%\\ledger-station-collect`` on Windows, else the XDG state folder."""
    env = os.environ if environ is None else environ
    if (platform or sys.platform) == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_DIR


def unsafe_reason(name: str) -> str | None:
    """Why ``name`` (a relative POSIX path from the station) may not be written, or None."""
    if not name or len(name) > MAX_PATH_CHARS:
        return "empty or too long"
    if _BAD_CHARS.search(name):
        return "control character, backslash or a character Windows forbids"
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        return "absolute path"
    if path.suffix.lower() != ".pdf":
        return "not a .pdf file"
    for part in name.split("/"):
        if part in {"", ".", ".."}:
            return "empty, '.' or '..' component"
        if part != part.strip() or part.endswith("."):
            return "component ending in a space or a dot"
        if part.split(".")[0].lower() in _WINDOWS_DEVICES:
            return "Windows device name"
    if path.parts[0].casefold() in RESERVED_TOP:
        return "collides with the collector's own folders"
    return None


def safe_id(value: str) -> bool:
    """Whether a station or entry id can be used in a file name and a URL as is."""
    return bool(_SAFE_ID.match(value))


def local_path(dest: Path, relpath: str) -> Path:
    """The file under ``dest`` for a checked relative name."""
    return dest.joinpath(*relpath.split("/"))


def versioned_name(relpath: str, label: str) -> str:
    """``KS/2007.01/KS.2007.01.3.pdf`` + ``v1`` -> ``KS/2007.01/KS.2007.01.3.v1.pdf``."""
    path = PurePosixPath(relpath)
    return str(path.with_name(f"{path.stem}.{label}{path.suffix}"))
