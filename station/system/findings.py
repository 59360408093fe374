"""What ``station doctor``'s checks return: findings, the context they share, the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from station.core import config, messages
from station.core.errors import StationError
from station.core.messages import N_

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"
MARKS = {OK: "✓", INFO: "•", WARN: "!", FAIL: "✗"}
EXIT_DEVICE, EXIT_DISK, EXIT_CONFIG = 69, 74, 78


@dataclass
class Finding:
    """One line of the report: a message, its status, and how to fix it if needed."""

    area: str
    status: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    fix_values: dict[str, Any] = field(default_factory=dict)
    error: StationError | None = None  # rendered by the error itself (config problems)
    exit_code: int = 1

    def message(self, lang: str) -> str:
        if self.error is not None:
            return self.error.message(lang)
        return messages.render(self.key, lang, **self.values)

    def fix_text(self, lang: str) -> str:
        return messages.render(self.fix, lang, **self.fix_values) if self.fix else ""


@dataclass
class Context:
    """What the checks share: the configuration and what earlier checks found."""

    config: config.Config
    source: str
    #: Devices seen, by area ("sane", "cameras", "usb", "inputs"), as plain data.
    devices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sane_error: StationError | None = None
    would_use: dict[str, str] = field(default_factory=dict)


Check = Callable[[Context], list[Finding]]


@dataclass
class Report:
    """Every finding, and what the station would use."""

    findings: list[Finding]
    context: Context

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAIL]

    @property
    def exit_code(self) -> int:
        failures = self.failures
        return failures[0].exit_code if failures else 0

    def render(self, lang: str) -> str:
        """The report as text for a terminal."""
        lines = [messages.render("doctor.title", lang), ""]
        for finding in self.findings:
            lines.append(f"{MARKS[finding.status]} {finding.message(lang)}")
            fix = finding.fix_text(lang)
            if fix:
                lines.append("    → " + messages.render("doctor.fix", lang, text=fix))
        lines.append("")
        count = len(self.failures)
        key = N_("doctor.summary_fail") if count else N_("doctor.summary_ok")
        lines.append(messages.render(key, lang, count=count))
        return "\n".join(lines)

    def to_dict(self, lang: str) -> dict[str, Any]:
        """The report as data (``--json``), messages in ``lang``."""
        return {
            "ok": not self.failures,
            "exit_code": self.exit_code,
            "config": self.context.source,
            "would_use": self.context.would_use,
            "devices": self.context.devices,
            "findings": [
                {
                    "area": f.area,
                    "status": f.status,
                    "key": f.error.key if f.error else f.key,
                    "message": f.message(lang),
                    "fix": f.fix_text(lang),
                }
                for f in self.findings
            ],
        }

    def to_json(self, lang: str) -> str:
        return json.dumps(self.to_dict(lang), ensure_ascii=False, indent=2)
