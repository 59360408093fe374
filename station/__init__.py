"""ledger-station: per-entry PDFs from civil-status ledgers."""

__version__ = "0.1.0"
