"""docs/openapi.yaml describes every route of the API blueprint, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from station.lan.api import API_PREFIX, api_blueprint

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


def _documented() -> set[tuple[str, str]]:
    """(method, path) pairs under ``paths:``, read by indentation (no YAML library)."""
    found: set[tuple[str, str]] = set()
    path = ""
    in_paths = False
    for line in OPENAPI.read_text(encoding="utf-8").splitlines():
        if not line.startswith(" "):
            in_paths = line.rstrip() == "paths:"
            continue
        if not in_paths:
            continue
        if match := re.fullmatch(r"  (/\S+):", line):
            path = match.group(1)
        elif (match := re.fullmatch(r"    (\w+):", line)) and match.group(1) in METHODS:
            found.add((match.group(1).upper(), path))
    return found


def _routes() -> set[tuple[str, str]]:
    app = Flask(__name__)
    app.register_blueprint(api_blueprint())
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(API_PREFIX) :])
        routes |= {(m, path) for m in rule.methods or () if m.lower() in METHODS}
    return routes


def test_openapi_lists_every_route_of_the_blueprint() -> None:
    assert _routes() == _documented()
    assert ("GET", "/entries/{entry_id}/versions/{version}/file") in _documented()


def test_openapi_servers_point_at_the_api_prefix() -> None:
    assert f"url: https://{{host}}:{{port}}{API_PREFIX}" in OPENAPI.read_text(encoding="utf-8")
