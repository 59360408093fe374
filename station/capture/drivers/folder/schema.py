"""``[capture.folder]``: the hot folder other programs save pages into."""

from __future__ import annotations

from dataclasses import dataclass

from station.core.config import option


@dataclass(frozen=True)
class FolderSection:
    path: str = option("", "Hot folder other programs save pages into; empty: no hot folder.")
    settle_seconds: float = option(
        3.0, "A file is taken once its size and time are unchanged this long.", min=0.1, max=600
    )
    damaged_wait_seconds: float = option(
        60.0, "A file that does not decode waits this long for more data.", min=0, max=3600
    )
    rescan_seconds: float = option(
        10.0, "Full rescan interval, for changes that sent no notification.", min=0.5, max=3600
    )
    polling: bool = option(False, "Watch by polling (network shares that send no notifications).")
    done_dir: str = option("", "Where taken files go; empty: 'done' inside the hot folder.")
    rejected_dir: str = option(
        "", "Where unusable files go, with a reason; empty: 'rejected' inside the hot folder."
    )
    owners: tuple[str, ...] = option(
        (),
        "Users whose files are taken (names or uids; '*': anyone); empty: the station's user.",
    )
    max_file_mb: int = option(100, "Largest file taken, in MB; larger ones are rejected.", min=1)
