"""The collector's stand-in station (tests/support/fake_station.py) checked by itself."""

from __future__ import annotations

import http.client
import ssl

import pytest

from tests.support.fake_station import API, Certificate, FakeStation, make_certificate, running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("cert"))


def _get(fake: FakeStation, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", fake.address.port, context=context, timeout=5)
    conn.request("GET", API + path, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_fake_serves_ranges_and_refuses_without_token(certificate: Certificate) -> None:
    with running(certificate) as fake:
        fake.publish("e1", b"0123456789", "KS/a.pdf")
        token = fake.issue_token()
        assert _get(fake, "/feed?since=0", {}).status == 401
        auth = {"Authorization": f"Bearer {token}"}
        response = _get(fake, "/entries/e1/versions/1/file", {**auth, "Range": "bytes=4-"})
        assert response.status == 206
        assert response.getheader("Content-Range") == "bytes 4-9/10"
