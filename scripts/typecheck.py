"""Type-check the station package with mypy (strict, settings in pyproject.toml).

The data package ``station.defaults`` (config/) holds no code, so the source tree is
the installed shape and mypy runs on it directly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    command += ["--python-executable", sys.executable, "station"]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
