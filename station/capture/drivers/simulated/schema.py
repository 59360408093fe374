"""``[capture.simulated]``: what the simulated ledger scanner renders."""

from __future__ import annotations

from dataclasses import dataclass

from station.core.config import option


@dataclass(frozen=True)
class SimulatorSection:
    profile: str = option(
        "spread-2",
        "Ledger layout the simulated scanner renders.",
        choices=("spread-2", "page-1", "stacked", "spread-stacked"),
    )
    seed: int = option(0, "Seed of the simulated pages; the same seed gives the same pages.")
    camera: bool = option(False, "Render pages as photographed at an angle rather than scanned.")
    stamp_probability: float = option(0.5, "Share of entries carrying a red stamp.", min=0, max=1)
    faded_probability: float = option(0.3, "Share of pages with faded ink.", min=0, max=1)
    skew_max_deg: float = option(2.0, "Largest skew of a simulated page, degrees.", min=0, max=10)
    render_ahead: bool = option(
        True,
        "Render the next page while the station processes this one, as a feeder has the "
        "next sheet ready (costs one page of memory).",
    )
