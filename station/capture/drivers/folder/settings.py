"""The hot folder's options: the keys of ``[capture.folder]`` plus ``dpi``, checked."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.errors import ConfigError


@dataclass(frozen=True)
class FolderSettings:
    """The hot folder's options (the keys of ``[capture.folder]`` plus ``dpi``)."""

    path: Path
    done_dir: Path
    rejected_dir: Path
    dpi: int = 300
    settle_seconds: float = 3.0
    damaged_wait_seconds: float = 60.0
    rescan_seconds: float = 10.0
    polling: bool = False
    max_file_mb: int = 100
    #: Whose files are taken (uids); empty: anyone's.
    owners: frozenset[int] = frozenset()

    @property
    def max_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


def parse_options(options: Mapping[str, Any]) -> FolderSettings:
    """Check the options; a ConfigError names the key."""
    known = {"path", "done_dir", "rejected_dir", "dpi", "settle_seconds"}
    known |= {"damaged_wait_seconds", "rescan_seconds", "polling", "max_file_mb", "owners"}
    for key, value in options.items():
        if key not in known:
            raise ConfigError("folder.bad_option", key=key, value=value, detail="unknown option")
    if not str(options.get("path") or ""):
        raise ConfigError("folder.no_path")
    path = Path(str(options["path"])).expanduser()
    values: dict[str, Any] = {}
    for key, kind in (("dpi", int), ("max_file_mb", int), ("polling", bool)):
        if key in options:
            values[key] = _typed(key, options[key], kind)
    for key in ("settle_seconds", "damaged_wait_seconds", "rescan_seconds"):
        if key in options:
            values[key] = _typed(key, options[key], float)
    values["owners"] = _owners(options.get("owners", ()))
    done = _side_dir(path, options.get("done_dir"), "done")
    rejected = _side_dir(path, options.get("rejected_dir"), "rejected")
    return FolderSettings(path=path, done_dir=done, rejected_dir=rejected, **values)


def _owners(configured: Any) -> frozenset[int]:
    """Uids from user names or numbers; none configured: the station's own user.

    ``*`` takes anyone's files (a share that maps every writer to one user anyway).
    """
    if isinstance(configured, str):
        configured = [configured]
    if not configured:
        return frozenset({os.geteuid()})
    if "*" in configured:
        return frozenset()
    uids = set()
    for owner in configured:
        text = str(owner).strip()
        if text.isdigit():
            uids.add(int(text))
            continue
        try:
            uids.add(pwd.getpwnam(text).pw_uid)
        except KeyError:
            raise ConfigError(
                "folder.bad_option", key="owners", value=owner, detail="no such user"
            ) from None
    return frozenset(uids)


def _typed(key: str, value: Any, kind: type) -> Any:
    if kind is bool and not isinstance(value, bool):
        raise ConfigError("folder.bad_option", key=key, value=value, detail="true or false")
    try:
        converted = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError("folder.bad_option", key=key, value=value, detail=str(exc)) from exc
    if kind is not bool and converted < 0:
        raise ConfigError("folder.bad_option", key=key, value=value, detail="negative")
    return converted


def _side_dir(folder: Path, configured: Any, default: str) -> Path:
    """``done``/``rejected``: configured (relative to the hot folder) or the default."""
    side = folder / Path(str(configured or default)).expanduser()
    if os.path.normpath(side) == os.path.normpath(folder):
        raise ConfigError(
            "folder.bad_option", key=default + "_dir", value=configured, detail="the hot folder"
        )
    return side
