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


def test_the_limits_stated_are_the_ones_enforced() -> None:
    from station.core import jsonbody
    from station.lan import api, front, pairing, server

    text = OPENAPI.read_text(encoding="utf-8")
    stated = {
        f"x-max-header-bytes: {server.MAX_HEADERS}",
        f"x-max-body-bytes: {server.MAX_BODY}",
        f"x-max-body-bytes: {api.MAX_JSON}",
        f"x-max-json-depth: {jsonbody.MAX_DEPTH}",
        f"x-max-json-number-chars: {jsonbody.MAX_NUMBER}",
        f"per-address: {front.PER_ADDRESS}",
        f"in-all: {front.MAX_CONNECTIONS}",
        f"handshake-seconds: {front.HANDSHAKE_TIMEOUT:g}",
        f"head-seconds: {front.HEAD_TIMEOUT:g}",
        f"body-min-bytes-per-second: {front.MIN_BODY_RATE}",
        f"body-grace-seconds: {front.BODY_GRACE:g}",
        f"requests: {pairing.RATE_LIMIT}",
        f"per-seconds: {pairing.RATE_WINDOW:g}",
        f"pending-per-address: {pairing.PENDING_PER_ADDRESS}",
        f"pending-in-all: {pairing.MAX_PENDING}",
        f"maximum: {api.FEED_MAX}",
        f"default: {api.FEED_LIMIT}",
    }
    assert {line for line in stated if line not in text} == set()
