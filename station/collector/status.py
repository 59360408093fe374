"""``status``: what this PC is paired with and how far each destination has got."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.collector.console import Console
from station.collector.state import State, dest_key


def report(state: State, dest: str | None = None) -> list[dict[str, Any]]:
    """Every pairing with its counts per destination (only ``dest`` when given)."""
    stations: list[dict[str, Any]] = []
    for pairing in state.pairings():
        dests = state.destinations(pairing.id)
        if dest is not None:
            dests = [d for d in dests if d == dest]
        stations.append(
            {
                "id": pairing.id,
                "name": pairing.name,
                "office_code": pairing.office_code,
                "office_name": pairing.office_name,
                "fingerprint": pairing.fingerprint,
                "address": f"{pairing.host}:{pairing.port}",
                "paired_at": pairing.paired_at,
                "last_success": pairing.last_success,
                "last_error": pairing.last_error,
                "last_error_at": pairing.last_error_at,
                "destinations": [
                    {
                        "dest": d,
                        **state.counts(pairing.id, d),
                        "pending_files": [
                            {
                                "file": p.event.get("file"),
                                "version": p.event.get("version"),
                                "error": p.error,
                            }
                            for p in state.pending(pairing.id, d)
                        ],
                    }
                    for d in dests
                ],
            }
        )
    return stations


def show(stations: list[dict[str, Any]], console: Console) -> None:
    """Print the report for people."""
    if not stations:
        console("collect.status_none")
    for station in stations:
        console(
            "collect.status_station",
            name=station["name"],
            id=station["id"],
            office=station["office_code"],
            paired_at=station["paired_at"],
            address=station["address"],
            fingerprint=station["fingerprint"],
        )
        never = console.render("collect.never")
        console("collect.status_success", when=station["last_success"] or never)
        if station["last_error"]:
            console(
                "collect.status_error", when=station["last_error_at"], message=station["last_error"]
            )
        for item in station["destinations"]:
            console(
                "collect.status_dest", **{k: v for k, v in item.items() if k != "pending_files"}
            )
            for pending in item["pending_files"]:
                console("collect.status_pending", **pending)


def dest_filter(dest: str | None) -> str | None:
    """The state's name of a ``--dest`` folder given on the command line."""
    return dest_key(Path(dest)) if dest else None
