"""A collection holds against hostile clients on the LAN (issue 15, M1).

The station serves in this process, on its end of a veth pair; the entry PC is a
network namespace on the other end, where ``station-collect`` runs, and an attacker
runs there too, from its own address: 8 slowloris connections (a request head begun
and trickled a header at a time) and a trickle of TCP sockets that never say hello.
Before the TLS front, each idle socket stalled cheroot's accepting thread for 10 s
and 8 slowloris connections held all 8 workers: the collection stopped. Now the same
collection of 300 files, timed unloaded and then under attack in this one test, must
take at most twice as long. Skipped without root or ``ip netns``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app.station import Station
from station.core import config
from station.core.config import replace_key
from tests.support.lan import lan_config, serving_lan
from tests.support.netns import Peer, peer_namespace

pytestmark = pytest.mark.slow

FILES = 300

#: The attacker: runs in the PC's namespace from its own address until the stop file
#: appears. Pacing its own sends is its job, so it sleeps; the test waits on its output.
ATTACK = r"""
import os, socket, ssl, sys, time
host, port, source, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

def connect():
    return socket.create_connection((host, port), timeout=5, source_address=(source, 0))

def slowloris():
    sock = context.wrap_socket(connect())
    sock.sendall(b"GET /api/v1/books HTTP/1.1\r\nHost: station\r\n")
    return sock

slow = [slowloris() for _ in range(8)]
idle = []
print("ready", flush=True)
rounds = 0
while not os.path.exists(stop):
    for i, sock in enumerate(slow):
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:  # the station gave up on it: a slowloris opens another
            sock.close()
            try:
                slow[i] = slowloris()
            except OSError:
                pass
    try:
        idle.append(connect())  # TCP only, never a TLS hello
    except OSError:
        pass
    if len(idle) > 12:
        idle.pop(0).close()
    rounds += 1
    time.sleep(0.2)
print("rounds", rounds, flush=True)
"""


def _station_config(data_dir: Path, host: str) -> config.Config:
    """The test station's LAN listener on ``host`` (the namespace's link), 8 threads."""
    listening = replace_key(lan_config(data_dir), "lan.host", host)
    return replace_key(listening, "lan.threads", 8)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with peer_namespace() as made:
        yield made


@pytest.fixture
def station(peer: Peer, tmp_path: Path) -> Iterator[Station]:
    with serving_lan(_station_config(tmp_path / "data", peer.host_ip), FILES) as station:
        yield station


def _collect(peer: Peer, state: Path, *args: str) -> list[str]:
    script = Path(sys.executable).with_name("station-collect")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "station.collector"]
    command = [*program, "--state-dir", str(state), "--lang", "en", *args]
    return ["ip", "netns", "exec", peer.namespace, *command]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STATION", "LEDGER"))}


def _timed_collection(peer: Peer, state: Path, dest: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(
        _collect(peer, state, "once", "--dest", str(dest), "--no-browse", "--timeout", "10"),
        env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert len([p for p in dest.rglob("*.pdf") if ".partial" not in p.parts]) == FILES
    return took


def _pair(peer: Peer, station: Station, state: Path, folder: Path) -> None:
    out = folder / "pair.out"
    address = f"{peer.host_ip}:{station.lan.port}"
    with open(out, "wb") as handle:
        pairing = subprocess.Popen(
            _collect(peer, state, "pair", "--station", address, "--name", "PC", "--timeout", "5"),
            env=_env(), stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not station.pending_pairings():  # the request arrives over the veth pair
            assert pairing.poll() is None, out.read_text()
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)
        [request] = station.pending_pairings()
        station.approve_pairing(request.code)
        assert pairing.wait(60) == 0, out.read_text()
    finally:
        if pairing.poll() is None:
            pairing.kill()
            pairing.wait()


def _second_address(peer: Peer) -> str:
    """Another address on the PC's link: the attacker is another host."""
    listed = subprocess.run(
        ["ip", "-n", peer.namespace, "-o", "-4", "addr", "show"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    [interface] = [line.split()[1] for line in listed.stdout.splitlines() if peer.peer_ip in line]
    address = peer.peer_ip.rsplit(".", 1)[0] + ".3"
    subprocess.run(
        ["ip", "-n", peer.namespace, "addr", "add", f"{address}/24", "dev", interface],
        capture_output=True, check=True,
    )  # fmt: skip
    return address


def test_a_collection_holds_against_slowloris_and_idle_sockets(
    peer: Peer, station: Station, tmp_path: Path
) -> None:
    state = tmp_path / "pc-state"
    _pair(peer, station, state, tmp_path)
    unloaded = _timed_collection(peer, state, tmp_path / "unloaded")

    stop, out = tmp_path / "stop-attack", tmp_path / "attack.out"
    command = [sys.executable, "-c", ATTACK, peer.host_ip, str(station.lan.port)]
    command += [_second_address(peer), str(stop)]
    with open(out, "wb") as handle:
        attack = subprocess.Popen(
            ["ip", "netns", "exec", peer.namespace, *command],
            stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "ready" not in out.read_text():  # its 8 slowloris connections are open
            assert attack.poll() is None, out.read_text()
            assert time.monotonic() < deadline, "the attack did not start"
            time.sleep(0.05)
        loaded = _timed_collection(peer, state, tmp_path / "loaded")
        stop.touch()
        assert attack.wait(30) == 0, out.read_text()
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
    rounds = int(out.read_text().split("rounds")[1])
    assert rounds > 0, "the attack never ran during the collection"
    print(f"{FILES} files: {unloaded:.1f} s, under attack {loaded:.1f} s")
    assert loaded <= 2 * unloaded, f"{FILES} files: {unloaded:.1f} s, under attack {loaded:.1f} s"
