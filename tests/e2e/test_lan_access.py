"""The touch screens from another machine on the LAN, with ``[web] host = "0.0.0.0"``.

The station serves on every interface; a second network namespace (another machine)
asks for every route of the web app. Without an admin session each screen and action
is refused (a redirect to the admin PIN, or 403), except what is open by design: the
admin login, static files, the phone's own pages, /upload (which says how to pair)
and the entry PCs' API (its own tokens; /api/v1/station is public). Pairing codes are
never shown to another machine, and wrong admin PINs lock out that machine only, also
after a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.app.station import Station
from station.core import config as config_module
from station.core import messages
from station.operators.shifts import MAX_TRIES
from station.ui.app import OPEN_BLUEPRINTS, OPEN_ENDPOINTS, create_app
from tests.support.http_client import Client
from tests.support.netns import Peer, peer_namespace
from tests.support.server import Server, start_server

PIN = "2580"
#: The start of the locked-out message (auth.locked), before its number of seconds.
LOCKED = messages.render("auth.locked", "vi", seconds=0).split("0")[0]
#: A client run inside the namespace: reads requests as JSON lines, keeps cookies,
#: never follows redirects, prints one JSON answer per request.
REMOTE = r"""
import http.cookiejar, json, re, sys, urllib.error, urllib.parse, urllib.request
class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Keep)
csrf = ""
for line in sys.stdin:
    ask = json.loads(line)
    data = None
    if ask["method"] == "POST":
        data = urllib.parse.urlencode({"csrf": csrf, **ask.get("form", {})}).encode()
    request = urllib.request.Request(ask["url"], data=data, method=ask["method"],
                                     headers={"Accept": ask.get("accept", "text/html")})
    try:
        with opener.open(request, timeout=30) as answer:
            status, body, where = answer.status, answer.read(), answer.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        status, body, where = error.code, error.read(), error.headers.get("Location", "")
    text = body.decode("utf-8", "replace")
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    csrf = found.group(1) if found else csrf
    print(json.dumps({"status": status, "location": where, "body": text[:4000]}), flush=True)
"""


def remote(peer: Peer, tmp_path: Path, asks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send ``asks`` from the other machine, in one browser session."""
    script = tmp_path / "remote_client.py"
    script.write_text(REMOTE, encoding="utf-8")
    done = subprocess.run(
        ["ip", "netns", "exec", peer.namespace, sys.executable, str(script)],
        input="".join(json.dumps(a) + "\n" for a in asks),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def routes(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every route of the web app, arguments filled in."""
    config = config_module.parse(f'[storage]\ndata_dir = "{tmp_path / "routes"}"\n', "t", {})
    app = create_app(Station(config))
    found = []
    for rule in app.url_map.iter_rules():
        values = {name: ("1" if "int" in str(type(conv)).lower() else "x")
                  for name, conv in rule._converters.items()}  # fmt: skip
        path = rule.build(values, append_unknown=False)[1] if values else rule.rule
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


@pytest.fixture
def lan() -> Iterator[Peer]:
    with peer_namespace() as peer:
        yield peer


def serve(tmp_path: Path, lan: Peer) -> Any:
    config = f'[web]\nhost = "0.0.0.0"\n[lan]\ninterfaces = ["{lan.host_if}"]\n'
    return start_server(tmp_path, config)


def lan_url(server: Server, lan: Peer) -> str:
    return server.url.replace("127.0.0.1", lan.host_ip)


def test_every_screen_needs_the_admin_pin_from_another_machine(tmp_path: Path, lan: Peer) -> None:
    with serve(tmp_path, lan) as server:
        Client(server.url).set_up(PIN, "Nguyễn Thị Lan", "2007/1", "stacked")
        asked = Client(lan_url(server, lan)).post(
            "/api/v1/pair",
            body=json.dumps({"name": "PC nhập liệu 9"}).encode(),
            **{"Content-Type": "application/json", "Accept": "application/json"},
        )
        pairing = json.loads(asked[2])
        base = lan_url(server, lan)
        table = routes(tmp_path)
        asks = [{"method": m, "url": base + p} for _, m, p in table]
        answers = remote(lan, tmp_path, asks)
        open_ones = []
        for (endpoint, method, path), answer in zip(table, answers, strict=True):
            blueprint = endpoint.split(".", 1)[0] if "." in endpoint else ""
            status, where = answer["status"], answer["location"]
            if endpoint in OPEN_ENDPOINTS or blueprint in OPEN_BLUEPRINTS:
                open_ones.append((endpoint, method, status))
                assert status < 500, (endpoint, method, path, status)
                continue
            refused = status == 403 or (status in (302, 303) and "/admin/login" in where)
            assert refused, f"{method} {path} ({endpoint}) answered {status} {where}"
        # What is open answers without giving anything away.
        by_endpoint = {(e, m): s for e, m, s in open_ones}
        assert by_endpoint[("admin.login", "GET")] == 200
        assert by_endpoint[("upload", "GET")] == 403
        assert by_endpoint[("api_v1.station", "GET")] == 200
        assert by_endpoint[("api_v1.books", "GET")] == 401
        # A phone's own state says only that this browser is not paired.
        assert by_endpoint.pop(("phone.state", "GET")) == 200
        others = {k: s for k, s in by_endpoint.items() if k[0].startswith(("setup.", "phone."))}
        assert all(s in (302, 303, 400, 401, 403, 404, 405, 410) for s in others.values()), [
            (k, s) for k, s in others.items() if s not in (302, 303, 400, 401, 403, 404, 405, 410)
        ]

        # With the admin PIN the other machine sees the screens, never a pairing code.
        session = remote(lan, tmp_path, [
            {"method": "GET", "url": base + "/admin/login"},
            {"method": "POST", "url": base + "/admin/login", "form": {"pin": PIN}},
            {"method": "GET", "url": base + "/status"},
            {"method": "GET", "url": base + "/books", "accept": "text/html"},
        ])  # fmt: skip
        assert session[1]["status"] in (302, 303)
        assert session[2]["status"] == 200 and session[3]["status"] == 200
        assert pairing["code"] not in session[2]["body"]
        assert pairing["request_id"] not in session[2]["body"]
        status_here = Client(server.url).get("/status")[2]
        assert pairing["code"] in status_here  # on the station's own screen


def test_wrong_pins_lock_out_that_machine_only_and_stay_locked(tmp_path: Path, lan: Peer) -> None:
    wrong = [{"method": "GET", "url": "{base}/admin/login"}] + [
        {"method": "POST", "url": "{base}/admin/login", "form": {"pin": "0000"}}
    ] * (MAX_TRIES + 1)
    with serve(tmp_path, lan) as server:
        Client(server.url).set_up(PIN, "Nguyễn Thị Lan", "2007/1", "stacked")
        base = lan_url(server, lan)
        asks = [{**a, "url": a["url"].format(base=base)} for a in wrong]
        answers = remote(lan, tmp_path, asks)
        assert LOCKED in answers[-1]["body"]
        # The station's own screen is not locked out by another machine's guesses.
        own = Client(server.url)
        own.get("/admin/login")
        assert own.form("/admin/login", pin=PIN)[0] in (302, 303)
    with serve(tmp_path, lan) as server:  # restarted: the lock is still there
        base = lan_url(server, lan)
        again = remote(lan, tmp_path, [
            {"method": "GET", "url": base + "/admin/login"},
            {"method": "POST", "url": base + "/admin/login", "form": {"pin": PIN}},
        ])  # fmt: skip
        assert again[1]["status"] not in (302, 303), "a locked-out machine got in"
        assert LOCKED in again[1]["body"]
