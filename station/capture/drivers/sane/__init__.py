"""SANE scanners (python-sane)."""
