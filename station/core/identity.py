"""Who this station is, and how it names the files it publishes.

The station's id is configured or made on first start and kept in the data folder;
entry files are named by the configured naming preset (:mod:`station.core.naming`).
"""

from __future__ import annotations

import secrets
from pathlib import Path, PurePosixPath

from station.core import naming
from station.core.config import Config
from station.core.fsutil import write_atomic
from station.core.models import Book, Entry, StationInfo


def station_identity(config: Config, data_dir: Path) -> StationInfo:
    """Who this station is: the configured id, or one made on first start and kept."""
    station_id = config.station.id
    id_file = data_dir / "station.id"
    if not station_id:
        if id_file.exists():
            station_id = id_file.read_text(encoding="utf-8").strip()
        else:
            station_id = "st-" + secrets.token_hex(6)
            write_atomic(id_file, station_id.encode())
    return StationInfo(
        id=station_id,
        name=config.station.name,
        office_code=config.station.office_code,
        office_name=config.station.office_name,
    )


class PresetNamer:
    """Names entries with the configured preset (the store calls it when publishing)."""

    def __init__(self, config: Config, station: StationInfo) -> None:
        extra = Path(config.processing.naming_dir) if config.processing.naming_dir else None
        presets = naming.load_presets(extra)
        if config.processing.naming_preset not in presets:
            raise naming.unknown_preset(config.processing.naming_preset, presets)
        self.preset = presets[config.processing.naming_preset]
        self.station = station

    def __call__(self, book: Book, entry: Entry) -> PurePosixPath:
        pages = entry.pages
        values = naming.NameValues(
            code=book.ref.code,
            year=book.ref.year,
            book=book.ref.number,
            entry=entry.number,
            date=entry.registration_date or None,
            page=pages[0] if pages else None,
            office=book.office_code or self.station.office_code,
        )
        return naming.render(self.preset, values)
