"""Ledger layout profiles: how entries sit on a captured image, kept as data in config/."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from station.core.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayoutProfile:
    """One ledger layout: pages per image and the range of entries per page.

    ``table_across``: a spread whose one table runs across both pages (its entry numbers
    on the left page, each entry's row continuing past the fold), so each entry is cut
    across the spread and the entry range counts the spread's entries, not a page's.
    """

    name: str
    label_vi: str
    label_en: str
    pages_per_image: int
    entries_min: int
    entries_max: int
    table_across: bool = False

    @property
    def fixed_count(self) -> bool:
        return self.entries_min == self.entries_max

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


def _parse(text: str, file: str) -> LayoutProfile:
    try:
        data = tomllib.loads(text)["profile"]
        profile = LayoutProfile(
            name=str(data["name"]),
            label_vi=str(data["label_vi"]),
            label_en=str(data["label_en"]),
            pages_per_image=int(data["pages_per_image"]),
            entries_min=int(data["entries_min"]),
            entries_max=int(data["entries_max"]),
            table_across=_flag(data.get("table_across", False)),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError("layout.bad_file", file=file, detail=repr(exc)) from exc
    if profile.pages_per_image not in (1, 2) or not 1 <= profile.entries_min <= profile.entries_max:
        raise ConfigError("layout.bad_file", file=file, detail="pages_per_image or entries range")
    if profile.table_across and profile.pages_per_image != 2:
        raise ConfigError("layout.bad_file", file=file, detail="table_across with one page")
    return profile


def _flag(value: object) -> bool:
    """A TOML boolean (``true``/``false``); anything else is a mistake to name."""
    if not isinstance(value, bool):
        raise TypeError(f"table_across must be true or false, not {value!r}")
    return value


@cache
def load_profiles() -> dict[str, LayoutProfile]:
    """Every layout profile shipped in config/layouts, by name."""
    folder = resources.files("station.defaults") / "layouts"
    profiles = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            profile = _parse(item.read_text(encoding="utf-8"), item.name)
            profiles[profile.name] = profile
    return profiles


def get_profile(name: str) -> LayoutProfile:
    """The profile called ``name``, or a ConfigError listing the known ones."""
    profiles = load_profiles()
    if name not in profiles:
        raise ConfigError("layout.unknown", name=name, known=", ".join(sorted(profiles)))
    return profiles[name]
