"""Hostile JSON bodies get a clear refusal, never a RecursionError or a slow int()."""

from __future__ import annotations

import pytest

from station.core import jsonbody
from station.core.jsonbody import MAX_DEPTH, MAX_NUMBER, JsonBodyError


def test_ordinary_bodies_decode_as_json_loads_would() -> None:
    body = b'{"items": [{"entry_id": "e1", "version": 2, "x": -0.5e3}], "ok": true}'
    assert jsonbody.loads(body) == {
        "items": [{"entry_id": "e1", "version": 2, "x": -500.0}],
        "ok": True,
    }
    assert jsonbody.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert jsonbody.loads("9" * MAX_NUMBER) == int("9" * MAX_NUMBER)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "json.too_deep"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "json.too_deep"),
        ("[" * 200_000, "json.too_deep"),  # past the recursion limit, never closed
        ("1" * 4301, "json.number_too_long"),
        ('{"n": ' + "1" * 100_000 + "}", "json.number_too_long"),
        ("[1." + "5" * 5000 + "]", "json.number_too_long"),
        ("[NaN]", "json.invalid"),
        ("-Infinity", "json.invalid"),
        ("{not json", "json.invalid"),
        (b"\xff\xfe{", "json.invalid"),
    ],
)
def test_hostile_bodies_are_refused_with_what_was_wrong(body: str | bytes, key: str) -> None:
    with pytest.raises(JsonBodyError) as refused:
        jsonbody.loads(body)
    assert refused.value.key == key and refused.value.http_status == 400
    assert refused.value.message("vi") and refused.value.message("en")
