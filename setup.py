"""Build step: compile the message catalogs (station/locale/*/LC_MESSAGES/*.po) to .mo.

Everything else is declared in pyproject.toml. The .mo files are build output, never
committed: a wheel gets them in its build folder; an editable install (``pip install -e``)
gets them beside the .po files, where the source tree is imported from.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path("station") / "locale"


class BuildWithCatalogs(build_py):
    """``build_py`` that also compiles each .po catalog to the .mo that gettext reads."""

    def run(self) -> None:
        # After the copy of package data, so a stale .mo in the source tree never wins.
        super().run()
        target = Path("." if self.editable_mode else self.build_lib)
        for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
            mo = target / po.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as out:
                write_mo(out, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
