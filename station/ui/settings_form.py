"""The admin settings form: which configuration keys the screen edits, and how.

Each key's kind, limits and choices come from the configuration schema itself
(:mod:`station.core.config`), so the form and the validation at start-up never disagree;
the labels live in the texts (``set_<key with _ for .>``).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from station.core import config
from station.core.errors import UsageError
from station.ui.texts import ui_label

#: The keys the admin screen offers, in screen order (the naming preset has its own list).
FIELDS = (
    "station.name",
    "station.office_code",
    "station.office_name",
    "capture.device",
    "capture.device_id",
    "capture.dpi",
    "processing.default_profile",
    "processing.budget_kb",
    "storage.reserve_mb",
    "storage.warn_mb",
    "triggers.enabled",
)


@dataclasses.dataclass(frozen=True)
class Spec:
    """One configuration key as the form shows it."""

    key: str
    kind: type
    minimum: Any = None
    maximum: Any = None
    choices: tuple[str, ...] = ()


def spec(key: str) -> Spec:
    """The schema's description of ``key`` (a dotted path)."""
    cls: Any = config.Config
    *tables, name = key.split(".")
    for table in tables:
        cls = typing.get_type_hints(cls)[table]
    hints = typing.get_type_hints(cls)
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    meta = field.metadata
    choices = meta.get("choices", ())
    choices = choices() if callable(choices) else choices  # capture.device: the drivers
    return Spec(key, hints[name], meta.get("min"), meta.get("max"), tuple(choices))


def field_rows(settings: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The form's rows: key, label, current value, input kind, limits and choices."""
    rows = []
    for key in FIELDS:
        if key not in settings:
            continue
        described = spec(key)
        kind = {bool: "bool", int: "int", float: "float"}.get(described.kind, "text")
        choices = described.choices
        if key == "processing.default_profile":
            choices = tuple(settings.get("profiles", ()))
        if choices:
            kind = "choice"
        rows.append(
            {
                "key": key,
                "name": key.replace(".", "__"),
                "label": ui_label("ui.set_" + key.replace(".", "_"), lang, key),
                "value": settings[key],
                "kind": kind,
                "min": described.minimum,
                "max": described.maximum,
                "choices": choices,
            }
        )
    return rows


def changes_from_form(form: Mapping[str, str], keys: tuple[str, ...]) -> dict[str, Any]:
    """Typed values of the keys the form sent (a check box sends nothing when off)."""
    changes: dict[str, Any] = {}
    for key in keys:
        name = key.replace(".", "__")
        described = spec(key)
        if described.kind is bool:
            if name + "__present" in form:
                changes[key] = form.get(name) == "on"
            continue
        if name not in form:
            continue
        raw = form[name].strip()
        if described.kind in (int, float):
            try:
                changes[key] = described.kind(raw)
            except ValueError as exc:
                raise UsageError("ui.bad_value", name=key) from exc
        else:
            changes[key] = raw
    return changes
