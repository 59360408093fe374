"""Sizes beyond which the station refuses input, shared by intake and processing."""

from __future__ import annotations

#: An A3 spread at 600 dpi is ~70 Mpx; anything far above is not a ledger page.
MAX_PIXELS = 120_000_000
