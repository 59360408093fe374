"""The simulated ledger scanner: the virtual device shipped for demos and tests."""
