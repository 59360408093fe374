"""``[capture.sane]``: a SANE scanner (flatbed, document feeder, A3 book scanner).

Kept apart from the driver so the configuration is checked on a station without
python-sane too.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.core.config import option


@dataclass(frozen=True)
class SaneSection:
    mode: str = option("color", "Colour mode of SANE scans.", choices=("color", "gray"))
    source: str = option(
        "auto",
        "Paper source; auto: as the scanner is.",
        choices=("auto", "flatbed", "adf", "adf-duplex"),
    )
    area: str = option("max", "Scan area: max, A4, A3, A4-landscape..., or WIDTHxHEIGHT in mm.")
