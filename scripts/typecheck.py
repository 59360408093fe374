"""Type-check the installed layout of the package with mypy.

The source folders station/, drivers/ and ui/ install as one package ``station``
(setuptools package-dir), which mypy cannot see from the source tree. This builds a
tree of symlinks in that installed shape under build/typecheck and runs mypy on it,
so errors still point at the real files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "typecheck"


def link_tree() -> Path:
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    if TREE.exists():
        shutil.rmtree(TREE)
    for package, folder in package_dir.items():
        target = TREE.joinpath(*package.split("."))
        for source in (ROOT / folder).rglob("*"):
            if source.suffix not in {".py", ".typed"} or "__pycache__" in source.parts:
                continue
            relative = source.relative_to(ROOT / folder)
            if relative.parts[0] in {"drivers", "ui", "defaults"} and folder == "station":
                continue
            link = target / relative
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)
    return TREE / "station"


def main() -> int:
    package = link_tree()
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    command += ["--python-executable", sys.executable, str(package.relative_to(TREE))]
    return subprocess.call(command, cwd=TREE)


if __name__ == "__main__":
    sys.exit(main())
