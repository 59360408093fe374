"""Processing: one page path from a stored capture to per-entry PDFs."""
