"""The configuration of a fast simulated test station, shared by fixtures and helpers."""

from __future__ import annotations

from pathlib import Path

# Importing the driver registry adds the [capture.<kind>] tables to the schema.
from station.capture import drivers  # noqa: F401
from station.core import config


def simulated_config(data_dir: Path, extra: str = "") -> config.Config:
    """A fast simulated station (150 dpi, no LAN) in ``data_dir``; ``extra`` is TOML
    appended at the end (whole sections)."""
    text = f"""
[storage]
data_dir = "{data_dir}"
reserve_mb = 50
[capture]
device = "simulated"
dpi = 150
[capture.simulated]
seed = 3
render_ahead = false  # no background renders competing with the tests (test_simulated)
[station]
office_code = "xa-dong-hoa"
office_name = "UBND xã Đông Hòa"
[lan]
enabled = false
{extra}
"""
    return config.parse(text, "test", environ={})
