"""An entry PC collects a station's files over a real (virtual) LAN.

Two network namespaces joined by a veth pair stand for the station and the entry PC.
The real ``station serve`` runs in one, the real ``station-collect`` in the other, each
a subprocess started with ``ip netns exec``. The collector finds the station by
zeroconf alone (no address is ever given), pairs (approved with ``station pairing
approve``), collects every file of a simulated book and checks each against the
station's own files. Then, with the station stopped and restarted (a reboot, which a
running collector must ride out), one entry gets a new version and another a large
one; the station's side of the link is slowed with ``tc`` so that cutting the cable
(``ip link set down``) lands in the middle of the large download, deterministically.
Once the link is back, the collection completes by resuming the partial file, with
nothing corrupt or missing, and the old versions kept aside. ``avahi-browse`` (run
against a private D-Bus and avahi-daemon inside the PC's namespace, with a private
``/run``, so the host's daemons are never touched) sees the announcement too.

Names are unique per run; the namespaces, and with them the veth pair and every
process left in them, are removed even when the test fails. Skipped, with the reason,
without root or ``ip netns``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.commands import RunStation, station_command, station_env

pytestmark = pytest.mark.slow

OFFICE = "xa-dong-hoa"
BOOK = "KS/2007/01"
BOOK_KEY = "KS-2007-01"
PORT = 8443
#: The large new version and the station's egress rate: about 5 seconds of transfer,
#: so the cable is cut well inside it.
BIG_BYTES = 2_500_000
RATE = "4mbit"
CUT_AFTER = 300_000
NETWORK_TIMEOUT = "2"  # the collector's read timeout: how fast a dead link is noticed


def _unavailable() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"'{tool}' (Debian iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"'ip netns' does not work here: {probe.stderr.strip()}"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Lan:
    """The two namespaces, their ends of the veth pair and their addresses."""

    station_ns: str
    pc_ns: str
    station_if: str
    pc_if: str
    station_ip: str
    pc_ip: str

    def in_station(self, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.station_ns, *command]

    def in_pc(self, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.pc_ns, *command]

    def cable(self, plugged: bool) -> None:
        _ip("-n", self.pc_ns, "link", "set", self.pc_if, "up" if plugged else "down")

    def limit_station_rate(self, rate: str) -> None:
        # A token bucket: netem is often not built into container kernels, tbf is.
        subprocess.run(
            self.in_station("tc", "qdisc", "replace", "dev", self.station_if, "root", "tbf",
                            "rate", rate, "burst", "32kbit", "latency", "400ms"),
            check=True, capture_output=True,
        )  # fmt: skip


def _kill_all_in(namespace: str) -> None:
    """Kill what is left in one of our namespaces (only our own subprocesses run there)."""
    listed = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
    )
    for pid in listed.stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


@pytest.fixture
def lan() -> Iterator[Lan]:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    net = secrets.randbelow(200) + 20
    # Interface names avoid the "veth" prefix, which the station skips as a container link.
    lan = Lan(f"ls-st-{tag}", f"ls-pc-{tag}", f"lsst{tag}", f"lspc{tag}",
              f"10.{net}.7.1", f"10.{net}.7.2")  # fmt: skip
    created: list[str] = []
    try:
        for namespace in (lan.station_ns, lan.pc_ns):
            done = subprocess.run(["ip", "netns", "add", namespace], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"cannot create a network namespace: {done.stderr.strip()}")
            created.append(namespace)
        _ip("link", "add", lan.station_if, "netns", lan.station_ns, "type", "veth",
            "peer", "name", lan.pc_if, "netns", lan.pc_ns)  # fmt: skip
        for namespace, interface, address in (
            (lan.station_ns, lan.station_if, lan.station_ip),
            (lan.pc_ns, lan.pc_if, lan.pc_ip),
        ):
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", interface)
            _ip("-n", namespace, "link", "set", interface, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
        yield lan
    finally:
        for namespace in created:
            _kill_all_in(namespace)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)


# -- processes ---------------------------------------------------------------------------


def wait_until(what: str, check: Callable[[], object], timeout: float) -> object:
    """Wait for ``check()`` to be truthy (files and logs of other processes change on
    their own, so they are looked at every 50 ms), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Process:
    """A subprocess in its own session whose output goes to a file."""

    name: str
    popen: subprocess.Popen[bytes]
    output: Path

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            if self.popen.poll() is not None:
                match = re.search(pattern, self.text())
                assert match, f"{self.name} ended ({self.popen.returncode}):\n{self.text()}"
                return match
            return re.search(pattern, self.text())

        match = wait_until(f"{pattern!r} from {self.name}", found, timeout)
        assert isinstance(match, re.Match)
        return match

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running:\n{self.text()}") from None

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl+C, as a person would, and wait for a clean exit."""
        self.popen.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class Processes:
    folder: Path
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        output = self.folder / f"{name}-{len(self.started)}.out"
        with open(output, "wb") as handle:
            popen = subprocess.Popen(
                command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name, popen, output)
        self.started.append(process)
        return process


@pytest.fixture
def processes(lan: Lan, tmp_path: Path) -> Iterator[Processes]:
    """Processes of the test; killed before the namespaces go (hence ``lan``)."""
    folder = tmp_path / "out"
    folder.mkdir()
    registry = Processes(folder)
    try:
        yield registry
    finally:
        for process in reversed(registry.started):
            process.kill()
            # Shown by pytest only when the test fails.
            print(f"----- {process.name} ({process.popen.returncode}) -----\n{process.text()}")


# -- the two sides ---------------------------------------------------------------------------


def lan_station_env(data_dir: Path, lan: Lan) -> dict[str, str]:
    return station_env(
        data_dir,
        STATION__STATION__NAME="Trạm thử netns",
        STATION__STATION__OFFICE_NAME="UBND xã Đông Hòa",
        STATION__LAN__ENABLED="true",
        STATION__LAN__PORT=str(PORT),
        STATION__LAN__INTERFACES=f'["{lan.station_if}"]',
        STATION__USB__ENABLED="false",
    )


def collector_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STATION", "LEDGER"))}


def collect_command(state_dir: Path, *args: str) -> list[str]:
    script = Path(sys.executable).with_name("station-collect")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "station.collector"]
    return [*program, "--state-dir", str(state_dir), "--lang", "en", *args]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def has(path: Path, digest: object) -> bool:
    return path.exists() and sha256(path) == digest


def station_files(data_dir: Path) -> dict[str, str]:
    """The station's current files (relative name -> SHA-256), read from its disk."""
    published = data_dir / "published"
    return {
        p.relative_to(published).as_posix(): sha256(p)
        for p in published.rglob("*.pdf")
        if "_versions" not in p.parts
    }


def mirrored_files(dest: Path) -> dict[str, str]:
    """The collected current files, without the collector's own folders."""
    own = {"_replaced", "_withdrawn", ".partial"}
    return {
        p.relative_to(dest).as_posix(): sha256(p)
        for p in dest.rglob("*")
        if p.is_file() and p.relative_to(dest).parts[0] not in own
    }


#: Run with the station stopped: one entry gets a new version of the same PDF (its
#: metadata changes, so its hash does), another a ~2.5 MB one (an incompressible image).
REPLACE = r"""
import json, os, sys
import pikepdf
import station.capture.drivers  # registers the [capture.<kind>] tables with the config
from station.core import config
from station.core.identity import PresetNamer, station_identity
from station.processing.page import publish_pdf
from station.store import Store

cfg = config.load(None)
info = station_identity(cfg, cfg.data_dir)
with Store(cfg.data_dir, info, PresetNamer(cfg, info)) as store:
    entries = sorted((e for e in store.list_entries(sys.argv[1]) if e.versions),
                     key=lambda e: e.versions[-1].seq)
    small, big = entries[0], entries[1]
    out = {}
    same_pdf = store.published_path(small.versions[-1].file).read_bytes()
    version = publish_pdf(store, small, same_pdf, "test-rescan")
    out["small"] = {"id": small.id, "file": version.file, "sha256": version.sha256}
    side = int((int(sys.argv[2]) / 3) ** 0.5)
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, os.urandom(side * side * 3))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = side, side, 8
    image.ColorSpace = pikepdf.Name.DeviceRGB
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 600, 600],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=pikepdf.Stream(pdf, b"q 600 0 0 600 0 0 cm /Im0 Do Q"),
    )
    pdf.pages.append(pikepdf.Page(page))
    path = cfg.data_dir / "big.pdf"
    pdf.save(path)
    version = publish_pdf(store, big, path.read_bytes(), "test-rescan")
    path.unlink()
    out["big"] = {"id": big.id, "file": version.file, "sha256": version.sha256,
                  "bytes": version.bytes}
print(json.dumps(out))
"""


def replace_two_entries(env: dict[str, str]) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", REPLACE, BOOK_KEY, str(BIG_BYTES)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, object]] = json.loads(done.stdout.splitlines()[-1])
    return result


# -- a stranger on the LAN -------------------------------------------------------------------

#: Polls a pairing request without its secret as fast as it can, from its own address,
#: until the stop file appears; prints one JSON line per answer (time, status, body).
STRANGER = r"""
import http.client, json, os, ssl, sys, time
host, port, source, request_id, stop = sys.argv[1:6]
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
print("started", flush=True)
while not os.path.exists(stop):
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=5,
                                       source_address=(source, 0))
    try:
        conn.request("GET", f"/api/v1/pair/{request_id}")
        answer = conn.getresponse()
        body = answer.read().decode()
        print(json.dumps([time.time(), answer.status, body]), flush=True)
    except OSError as exc:
        print(json.dumps([time.time(), 0, str(exc)]), flush=True)
    finally:
        conn.close()
    time.sleep(0.01)
"""


@dataclass
class Stranger:
    """Another host on the PC's side of the LAN (a third address on its link)."""

    lan: Lan
    folder: Path
    request_id: str

    def __post_init__(self) -> None:
        self.folder.mkdir()
        self.address = self.lan.pc_ip.rsplit(".", 1)[0] + ".3"
        _ip("-n", self.lan.pc_ns, "addr", "add", f"{self.address}/24", "dev", self.lan.pc_if)

    def command(self) -> list[str]:
        return self.lan.in_pc(
            sys.executable, "-c", STRANGER, self.lan.station_ip, str(PORT), self.address,
            self.request_id, str(self.folder / "stop"),
        )  # fmt: skip

    def wait_started(self, poller: Process) -> None:
        poller.wait_for(r"(?m)^started$", 20)
        poller.wait_for(r"(?m)^\[", 20)  # its first answer: it polls before the approval

    def stop(self, poller: Process) -> list[tuple[float, int, str]]:
        (self.folder / "stop").touch()
        assert poller.wait(20) == 0, poller.text()
        lines = [line for line in poller.text().splitlines() if line.startswith("[")]
        return [(float(t), int(status), str(body)) for t, status, body in map(json.loads, lines)]


# -- avahi ----------------------------------------------------------------------------------

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces={interface}
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
disable-publishing=yes
disable-user-service-publishing=yes
"""

#: Run under "unshare --mount" inside the PC's namespace: a tmpfs over /run hides the
#: host's /run, so avahi's pid file and socket and the D-Bus socket are private.
AVAHI_BROWSE = """
set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
dbus-daemon --config-file="$1/bus.conf" --nofork --nopidfile & BUS=$!
trap 'kill $AVAHI $BUS 2>/dev/null; wait' EXIT
for i in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
avahi-daemon -f "$1/avahi.conf" --no-drop-root --no-chroot --no-rlimits --no-proc-title & AVAHI=$!
for i in $(seq 60); do
  out=$(avahi-browse --resolve --parsable --terminate _ledgerstation._tcp 2>/dev/null || true)
  case "$out" in *"$2"*) break;; esac
  sleep 0.25
done
printf '%s\\n' "$out"
"""


def avahi_browse(lan: Lan, folder: Path, station_id: str) -> str:
    folder.mkdir()
    (folder / "bus.conf").write_text(BUS_CONF)
    (folder / "avahi.conf").write_text(AVAHI_CONF.format(interface=lan.pc_if))
    command = lan.in_pc(
        "unshare", "--mount", "--propagation", "private",
        "sh", "-c", AVAHI_BROWSE, "avahi-browse", str(folder), station_id,
    )  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=40, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- the test ------------------------------------------------------------------------------


def test_an_entry_pc_collects_everything_over_the_lan(
    lan: Lan, processes: Processes, run_station: RunStation, data_dir: Path, tmp_path: Path
) -> None:
    env = lan_station_env(data_dir, lan)
    scanned = run_station("scan", "--simulate", "--book", BOOK, "--pages", "3", env=env)
    assert scanned.returncode == 0, scanned.stderr
    state, dest = tmp_path / "pc-state", tmp_path / "pc-files"
    station = processes.start("station", lan.in_station(*station_command("serve")), env)

    # Pairing: discovered by zeroconf alone, approved on the station.
    pair = processes.start(
        "pair",
        lan.in_pc(*collect_command(state, "pair", "--name", "PC-01", "--office", OFFICE,
                                   "--discover-seconds", "30", "--timeout", "5")),
        collector_env(),
    )  # fmt: skip
    code = pair.wait_for(r"Pairing code: ([0-9]{6})", 45)[1]
    fingerprint = pair.wait_for(r"fingerprint: ([0-9a-f]{64})", 5)[1]
    assert "request r" not in pair.text()  # the request id stays between PC and station
    # A third host on the LAN that learnt the request id polls it all through the approval.
    listed = run_station("pairing", "list", "--json", env=env)
    [request] = json.loads(listed.stdout)["pending"]
    stranger = Stranger(lan, tmp_path / "stranger", request["id"])
    poller = processes.start("stranger", stranger.command(), collector_env())
    stranger.wait_started(poller)
    approved_at = time.time()
    approved = run_station("pairing", "approve", code, env=env)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert pair.wait(30) == 0, pair.text()
    polls = stranger.stop(poller)
    assert [p for p in polls if p[0] > approved_at], "the stranger never polled after approval"
    assert {status for _, status, _ in polls} == {404}, polls  # nothing, and nothing taken
    assert not any("token" in body for _, _, body in polls)
    assert f"{lan.station_ip}:{PORT}" in pair.text()
    assert (data_dir / "tls").is_dir()

    # Every file of the book, each checked against the station's own file.
    once = subprocess.run(
        lan.in_pc(*collect_command(state, "once", "--dest", str(dest), "--timeout", "5",
                                   "--discover-seconds", "20")),
        env=collector_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert once.returncode == 0, once.stdout + once.stderr
    first = station_files(data_dir)
    assert len(first) >= 3
    assert mirrored_files(dest) == first

    # avahi sees the same announcement, with the same fingerprint.
    station_id = (data_dir / "station.id").read_text().strip()
    seen = avahi_browse(lan, tmp_path / "avahi", station_id)
    resolved = [line for line in seen.splitlines() if line.startswith("=")]
    assert resolved, seen
    assert any(f'"fp={fingerprint}"' in line and lan.station_ip in line for line in resolved), seen

    # A reboot with two new versions, then a cable cut in the middle of the large one.
    run = processes.start(
        "run",
        lan.in_pc(*collect_command(state, "run", "--dest", str(dest), "--interval", "0.5",
                                   "--timeout", NETWORK_TIMEOUT)),
        collector_env(),
    )  # fmt: skip
    run.wait_for(r"Collecting into", 20)
    assert station.interrupt() in (0, 130), station.text()
    new = replace_two_entries(env)
    lan.limit_station_rate(RATE)
    station = processes.start("station", lan.in_station(*station_command("serve")), env)

    small, big = new["small"], new["big"]
    small_path, big_path = dest / str(small["file"]), dest / str(big["file"])
    wait_until("the new small version", lambda: has(small_path, small["sha256"]), 60)
    part = dest / ".partial" / f"{big['id']}.v2.part"
    wait_until("the large download", lambda: part.exists() and part.stat().st_size > CUT_AFTER, 30)
    log = state / "collect.log"
    seen_before = len(log.read_text(encoding="utf-8"))
    lan.cable(False)
    received_at_cut = part.stat().st_size
    assert received_at_cut < int(str(big["bytes"])), "the download ended before the cut"
    wait_until(
        "the collector to notice the cut",
        lambda: "timed out" in log.read_text(encoding="utf-8")[seen_before:],
        20,
    )
    lan.cable(True)
    wait_until("the large version", lambda: has(big_path, big["sha256"]), 60)
    assert run.interrupt() == 0, run.text()

    # Resumed with Range, not downloaded again; nothing missing, corrupt or left over.
    text = log.read_text(encoding="utf-8")
    resumed = re.findall(rf"resuming {re.escape(str(big['file']))} at byte (\d+)", text)
    assert resumed and int(resumed[0]) > 0, text
    assert mirrored_files(dest) == station_files(data_dir)
    for entry in (small, big):
        relpath = Path(str(entry["file"]))
        kept = dest / "_replaced" / relpath.parent / f"{relpath.stem}.v1.pdf"
        original = data_dir / "published" / relpath.parent / "_versions" / f"{relpath.stem}.v1.pdf"
        assert sha256(kept) == sha256(original) == first[str(entry["file"])]
    assert not [p for p in (dest / ".partial").iterdir()]

    status = subprocess.run(
        lan.in_pc(*collect_command(state, "status", "--json")),
        env=collector_env(), capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    [paired] = json.loads(status.stdout)["stations"]
    [where] = paired["destinations"]
    assert paired["id"] == station_id and paired["fingerprint"] == fingerprint
    assert (where["files"], where["replaced"], where["pending"], where["unacked"]) == (
        len(first),
        2,
        0,
        0,
    )
