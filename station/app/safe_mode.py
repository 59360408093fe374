"""Safe mode: a station whose configuration cannot be used shows why and takes a fix.

Like Frigate's safe mode, a broken ``station.toml`` no longer stops the service (which
systemd would restart every ten seconds in front of a blank kiosk). The station comes
up with only this: the touch screen and ``/status`` list each problem (the key, the
value found, what is expected) in Vietnamese and English, and the admin can type a new
value, put a key back to its default, or set the whole file aside. No device is opened
and no capture runs until the configuration is valid; then the station starts as usual.

The admin PIN lives in the data folder's database, not in the configuration, so it is
still asked for. A station that has none yet (a fresh install) takes fixes from its own
screen only, like the first-boot wizard.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core import config, config_write, messages
from station.core.config import Config, ConfigProblems, WebSection
from station.core.errors import ConfigError, UsageError
from station.core.events import EventBus
from station.core.identity import PresetNamer, station_identity
from station.core.models import utc_now
from station.operators.shifts import LOCAL, Shifts
from station.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Issue:
    """One problem as the safe-mode screen shows it."""

    key: str  # the dotted station.toml key; "" when the file cannot be read at all
    value: str  # the value found, as written in TOML
    message: dict[str, str]  # the whole problem, in each language

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "message": self.message}


def parse_value(text: str) -> Any:
    """A value as an admin types it: a TOML value (``300``, ``true``, ``"abc"``,
    ``["a", "b"]``) when it is one, else the text itself as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _remove_key(data: dict[str, Any], dotted: str) -> None:
    *tables, name = dotted.split(".")
    node: Any = data
    for table in tables:
        node = node.get(table) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return
    node.pop(name, None)


def safe_mode_web(path: Path) -> WebSection:
    """Where safe mode listens: the file's ``[web]`` table when that part is valid (with
    the environment's overrides, as the station would), else the defaults."""
    try:
        raw = config_write.read_data(path).get("web", {})
    except ConfigError:
        raw = {}
    overrides = config.environment_overrides(os.environ).get("web", {})
    for data in ({**raw, **overrides} if isinstance(raw, dict) else overrides, overrides, {}):
        try:
            return config.validate({"web": data}).web
        except ConfigError:
            continue
    return WebSection()


class SafeMode:
    """The broken configuration at ``path`` and what may be done about it."""

    def __init__(self, path: Path, error: ConfigError) -> None:
        self.path = path
        self.error = error
        self.data_dir = self._data_dir()
        info = station_identity(Config(), self.data_dir)
        self._store = Store(self.data_dir, info, PresetNamer(Config(), info))
        self._store.open()
        self.shifts = Shifts(self._store, EventBus())
        #: Set once the configuration in the file is valid: the station may start.
        self.fixed: Config | None = None

    def close(self) -> None:
        """Release the data folder (the normal station takes it next)."""
        self._store.close()

    def _data_dir(self) -> Path:
        """The data folder: the file's own ``storage.data_dir`` when it can be read as a
        string, else the environment's or the default (as the station would choose)."""
        try:
            raw = config_write.read_data(self.path).get("storage", {}).get("data_dir", "")
        except ConfigError:
            raw = ""
        return config.resolve_data_dir(raw if isinstance(raw, str) else "")

    # -- what the screen shows ----------------------------------------------------

    def issues(self) -> list[Issue]:
        """Every problem, in the file's order."""
        error = self.error
        if isinstance(error, ConfigProblems):
            return [
                Issue(
                    problem.path,
                    config_write.format_value(problem.value) if problem.value is not None else "",
                    {
                        lang: problem.render(lang).strip().removeprefix("- ")
                        for lang in messages.LANGUAGES
                    },
                )
                for problem in error.problems
            ]
        return [Issue("", "", {lang: error.message(lang) for lang in messages.LANGUAGES})]

    def status(self) -> dict[str, Any]:
        """What ``/status.json`` says in safe mode."""
        return {
            "safe_mode": True,
            "config_file": str(self.path),
            "capturing": False,
            "problems": [issue.to_dict() for issue in self.issues()],
            "message": {lang: messages.render("safe.explain", lang) for lang in messages.LANGUAGES},
        }

    # -- who may fix it -----------------------------------------------------------

    def pin_required(self) -> bool:
        """Whether fixing needs the admin PIN (it does once one was ever set)."""
        return self.shifts.admin_pin_set()

    def check_pin(self, pin: str, client: str = LOCAL) -> bool:
        """The admin PIN, with the touch screen's limit on wrong tries (per client)."""
        return self.shifts.check_admin_pin(pin, client)

    # -- fixes --------------------------------------------------------------------

    def fix(self, values: Mapping[str, str], defaults: set[str]) -> Config:
        """Set each key of ``values`` as typed and put each key of ``defaults`` back to
        its default, then write the file if the result is valid.

        Raises :class:`ConfigError` (every remaining problem) and writes nothing when it
        is still invalid; the screen then shows the new problems.
        """
        known = {issue.key for issue in self.issues() if issue.key}
        for key in [*values, *defaults]:
            if key not in known:
                raise UsageError("safe.bad_key", key=key[:80])
        data = config_write.read_data(self.path)
        for key, text in values.items():
            if key not in defaults:
                config_write.set_key(data, key, parse_value(text.strip()))
        for key in defaults:
            _remove_key(data, key)
        # Still invalid: ConfigError names what remains, and the file is left as it was
        # (so the screen keeps listing the file's own problems).
        fixed = config_write.write_config(data, self.path, why="safe mode")
        log.info("configuration fixed in safe mode: %s", ", ".join(sorted(known)))
        self.fixed = fixed
        return fixed

    def set_aside(self) -> Path | None:
        """Keep the broken file under a new name and run on the built-in defaults
        (environment overrides included; a bad one stays a problem to fix). Returns
        the name the file was kept under, or None when there was no file to keep."""
        if not self.path.exists():  # a configured file that is not there: make it
            self.fixed = config_write.write_config({}, self.path, why="safe mode; no file")
            return None
        stamp = utc_now().replace(":", "").replace("-", "")[:15]
        kept = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        self.path.rename(kept)
        log.warning("broken configuration %s set aside as %s", self.path, kept)
        # A file with no keys in its place: every default, and the admin screen's
        # settings have their file to go to.
        self.fixed = config_write.write_config({}, self.path, why=f"safe mode; was {kept.name}")
        return kept
