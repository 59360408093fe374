"""Review: the operator's checks and corrections of pages, entries and books."""
