"""``pair``: find a station, show its fingerprint and code, wait for approval, keep the token.

The station's certificate fingerprint comes from its zeroconf announcement (and the TLS
handshake must match it), or, when an address is typed in, from the handshake itself;
either way it is shown so that staff can compare it with the station's screen, and
the short pairing code confirms that this PC's request is the one being approved.

The station answers the request with a secret for this PC alone; polls show it, so
only this PC can receive the token, and the request id is never shown or logged.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from station.collector.client import Address, StationClient, is_fingerprint
from station.collector.console import Console
from station.collector.discovery import Advert, Discovery
from station.collector.errors import (
    HttpStatusError,
    PairingError,
    ProtocolError,
    StoppedError,
    UnreachableError,
)
from station.collector.paths import safe_id
from station.collector.state import Pairing, State, now

log = logging.getLogger(__name__)

#: How often the station is asked whether the request was approved.
POLL_SECONDS = 1.0
#: The header the pairing secret is shown in (docs/api.md).
SECRET_HEADER = "X-Pairing-Secret"


@dataclass
class PairRequest:
    """What ``station-collect pair`` was asked to do."""

    name: str
    station: str | None = None
    office: str | None = None
    timeout: float = 30.0
    discover_seconds: float = 5.0
    wait_seconds: float = 600.0
    poll_seconds: float = field(default_factory=lambda: POLL_SECONDS)


def default_name() -> str:
    """This PC's name, as the station will list it."""
    return socket.gethostname() or "PC"


def pair(
    state: State, request: PairRequest, console: Console, stop: threading.Event | None = None
) -> Pairing:
    """Pair with one station and store the result; raises :class:`PairingError`."""
    stop = stop or threading.Event()
    client, advert = _reach(request, console)
    try:
        info = _describe(client, advert, request)
        console(
            "collect.found", name=info["name"], office=info["office_code"], address=client.address
        )
        fingerprint = client.peer_fingerprint or ""
        grouped = " ".join(fingerprint[i : i + 4] for i in range(0, 16, 4)).upper()
        console("collect.fingerprint_show", fingerprint=fingerprint, grouped=grouped)
        _, answer = client.call("POST", "/pair", {"name": request.name}, ok=(200, 201, 202))
        ticket = _pair_answer(client, answer)
        console("collect.pair_code", code=ticket.code, minutes=max(1, round(ticket.expires / 60)))
        token, collector_id = _await_approval(client, request, ticket, stop)
    finally:
        client.close()
    assert client.peer_fingerprint is not None
    pairing = Pairing(
        id=info["id"],
        name=info["name"],
        office_code=info["office_code"],
        office_name=info["office_name"],
        fingerprint=client.peer_fingerprint,
        collector_id=collector_id,
        paired_at=now(),
        host=client.address.host,
        port=client.address.port,
        api_path=client.base_path,
    )
    token_file = state.save_pairing(pairing, token)
    console("collect.paired", name=pairing.name, path=token_file)
    return pairing


def _reach(request: PairRequest, console: Console) -> tuple[StationClient, Advert | None]:
    """A connected client for the chosen station (pinned to its advert when discovered)."""
    address = Address.parse(request.station) if request.station else None
    if address is not None:
        client = StationClient(address, fingerprint=None, timeout=request.timeout)
        client.connect()
        return client, None
    advert = _discover(request, console)
    failure: UnreachableError | None = None
    for candidate in advert.addresses:
        client = StationClient(
            candidate,
            fingerprint=advert.fingerprint,
            timeout=request.timeout,
            base_path=advert.path,
            label=advert.name,
        )
        try:
            client.connect()
        except UnreachableError as exc:
            failure = exc
            continue
        return client, advert
    raise failure or UnreachableError(station=advert.name, detail="no address")


def _matches(advert: Advert, request: PairRequest) -> bool:
    if request.office is not None and advert.office != request.office:
        return False
    if request.station is None:
        return True
    wanted = request.station.casefold()
    return wanted in {advert.name.casefold(), advert.id.casefold()}


def _discover(request: PairRequest, console: Console) -> Advert:
    console("collect.searching", seconds=round(request.discover_seconds))
    with Discovery() as discovery:
        found = discovery.wait(
            lambda ads: any(_matches(a, request) for a in ads), request.discover_seconds
        )
        if found and request.station is None:
            # Give other stations of the office a moment to answer too.
            time.sleep(min(1.5, request.discover_seconds))
        candidates = [a for a in discovery.adverts() if _matches(a, request)]
    if not candidates:
        office = f" ({request.office})" if request.office else ""
        raise PairingError(
            "collect.no_station", office=office, seconds=round(request.discover_seconds)
        )
    if len(candidates) > 1:
        names = ", ".join(f"{a.name} [{a.id}]" for a in candidates)
        raise PairingError("collect.many_stations", names=names)
    return candidates[0]


def _describe(client: StationClient, advert: Advert | None, request: PairRequest) -> dict[str, str]:
    data = client.get("/station")
    if not isinstance(data, dict):
        raise ProtocolError(station=client.label, detail="/station: not an object")
    info = {key: data.get(key) for key in ("id", "name", "office_code", "office_name")}
    if not all(isinstance(value, str) for value in info.values()) or not safe_id(str(info["id"])):
        raise ProtocolError(station=client.label, detail="/station: bad id, name or office")
    if data.get("api") != 1:
        raise ProtocolError(
            station=client.label, detail=f"/station: API {data.get('api')!r}, need 1"
        )
    claimed = data.get("fingerprint")
    if is_fingerprint(claimed) and claimed != client.peer_fingerprint:
        # The certificate the station believes it has is not the one that answered.
        raise ProtocolError(station=client.label, detail="/station: fingerprint differs from TLS")
    if advert is not None and info["id"] != advert.id:
        raise ProtocolError(
            station=client.label, detail="/station: id differs from its announcement"
        )
    if request.office is not None and info["office_code"] != request.office:
        raise PairingError(
            "collect.office_mismatch",
            station=info["name"],
            found=info["office_code"],
            wanted=request.office,
        )
    return {key: str(value) for key, value in info.items()}


@dataclass(frozen=True)
class _Ticket:
    """The station's answer to ``POST /pair``: what this PC needs to poll its request."""

    request_id: str
    code: str
    secret: str
    expires: float


def _pair_answer(client: StationClient, answer: Any) -> _Ticket:
    if not isinstance(answer, dict):
        raise ProtocolError(station=client.label, detail="/pair: not an object")
    request_id, code, secret, expires = (
        answer.get("request_id"),
        answer.get("code"),
        answer.get("secret"),
        answer.get("expires_in", 600),
    )
    if not isinstance(request_id, str) or not request_id or not isinstance(code, str):
        raise ProtocolError(station=client.label, detail="/pair: no request_id or code")
    if not isinstance(secret, str) or not secret:
        raise ProtocolError(station=client.label, detail="/pair: no secret")
    if not isinstance(expires, int | float) or expires <= 0:
        expires = 600
    return _Ticket(request_id, code, secret, float(expires))


def _await_approval(
    client: StationClient, request: PairRequest, ticket: _Ticket, stop: threading.Event
) -> tuple[str, str]:
    """Poll the request until the station approves it; returns (token, collector id)."""
    deadline = time.monotonic() + min(ticket.expires, request.wait_seconds)
    path = f"/pair/{urllib.parse.quote(ticket.request_id, safe='')}"
    headers = {SECRET_HEADER: ticket.secret}
    while time.monotonic() < deadline:
        if stop.wait(request.poll_seconds):
            raise StoppedError()
        try:
            answer = client.get(path, headers=headers)
        except UnreachableError as exc:
            log.info("pairing poll failed (%s); trying again", exc)
            continue
        except HttpStatusError as exc:
            if exc.status in (404, 410):
                raise PairingError("collect.pair_expired") from exc
            raise
        status = answer.get("status") if isinstance(answer, dict) else None
        if status == "pending":
            continue
        if status == "approved":
            token, collector_id = answer.get("token"), answer.get("collector_id", "")
            if not isinstance(token, str) or not token:
                raise ProtocolError(station=client.label, detail="approved without a token")
            return token, str(collector_id or "")
        if status == "denied":
            raise PairingError("collect.pair_denied", station=client.label)
        if status == "collected":
            # The token went to a poll with this PC's secret that this PC never saw
            # answered: a lost answer, or the secret leaked. Either way, pair again.
            raise PairingError("collect.pair_taken", station=client.label)
        raise ProtocolError(station=client.label, detail=f"pairing status {status!r}")
    raise PairingError("collect.pair_expired")
