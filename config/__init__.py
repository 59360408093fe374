"""Data shipped with the station: defaults, ledger layout profiles and naming presets."""
