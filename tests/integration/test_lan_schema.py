"""The LAN API answers as docs/openapi.yaml says, whatever a client sends within it.

Schemathesis generates requests for every operation from the schema (Hypothesis,
derandomized, a few valid and invalid examples each so the run stays short and never
flaky) and sends them to the real TLS listener on loopback, with a paired collector's
token (negative examples also drop or spoil it). Every
answer must be no 5xx, with a documented status, content type, headers and body.
Skipped where schemathesis is not installed (it is in the dev extras).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.lan.api import API_PREFIX
from tests.support.lan import Client, lan_config, pair, serving_lan

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")
requests = pytest.importorskip("requests")

pytestmark = pytest.mark.slow

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
#: Examples per operation: enough to reach every documented refusal, short on 2 cores.
EXAMPLES = 12


@pytest.fixture
def lan_station(tmp_path: Path) -> Iterator[Station]:
    with serving_lan(lan_config(tmp_path / "data"), 2) as station:
        yield station


def test_every_operation_answers_as_the_schema_says(lan_station: Station) -> None:
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    certificate = lan_station.lan.certificate
    assert certificate is not None
    token = pair(Client(lan_station.lan.port, certificate.cert_path.read_text()), lan_station)
    base = f"https://127.0.0.1:{lan_station.lan.port}{API_PREFIX}"
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_path(OPENAPI)
    NEGATIVE = schemathesis.GenerationMode.NEGATIVE
    seen: list[tuple[str, int]] = []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy() | operation.as_strategy(NEGATIVE))
            def check(case: schemathesis.Case) -> None:
                answer = case.call_and_validate(
                    base_url=base,
                    session=session,
                    headers={"Authorization": f"Bearer {token}"},
                    checks=checks,
                    verify=False,  # the certificate names no loopback address
                )
                seen.append((case.operation.label, answer.status_code))

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning
                check()
    # Every operation was tried, and answered both within and outside its rules.
    assert {label for label, _ in seen} == {r.ok().label for r in schema.get_all_operations()}
    assert {status // 100 for _, status in seen} == {2, 4}
