"""A second machine on a virtual LAN: a network namespace joined to this one by a veth pair.

The end-to-end tests put a phone's browser there: the station (in this namespace)
sees it as another address on the LAN, never as loopback. A browser runs inside
through a wrapper script that ``exec``s ``ip netns exec <ns> chromium``; Playwright
talks to Chromium over a pipe, which crosses namespaces unchanged.

Addresses come from 198.18.0.0/15 (RFC 2544, for benchmarking test networks), so
they clash with no real network. Names are unique per run; the namespace, and with it
both ends of the veth pair and every process left inside, is removed on leaving.
Skipped, with the reason, without root or ``ip netns`` (as tests/integration's
network-namespace test is).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Peer:
    """The namespace, the interface on this machine's side and both addresses."""

    namespace: str
    host_if: str
    host_ip: str
    peer_ip: str

    def wrapper(self, folder: Path, program: Path) -> Path:
        """An executable that runs ``program`` with its arguments inside the namespace."""
        path = folder / f"in-{self.namespace}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.namespace} {program} "$@"\n')
        path.chmod(0o755)
        return path


def unavailable() -> str | None:
    """Why no namespace can be made here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "'ip' (Debian iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"'ip netns' does not work here: {probe.stderr.strip()}"
    return None


@contextlib.contextmanager
def peer_namespace() -> Iterator[Peer]:
    """A namespace on a /24 shared with this machine; skips the test when impossible."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    net = secrets.randbelow(250) + 1
    # No "veth" prefix: the station skips such interfaces as a container's link.
    peer = Peer(f"ls-ph-{tag}", f"lsh{tag}", f"198.18.{net}.1", f"198.18.{net}.2")
    peer_if = f"lsp{tag}"
    made = subprocess.run(["ip", "netns", "add", peer.namespace], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    try:
        _ip("link", "add", peer.host_if, "type", "veth", "peer", "name", peer_if,
            "netns", peer.namespace)  # fmt: skip
        _ip("addr", "add", f"{peer.host_ip}/24", "dev", peer.host_if)
        _ip("link", "set", peer.host_if, "up")
        _ip("-n", peer.namespace, "addr", "add", f"{peer.peer_ip}/24", "dev", peer_if)
        _ip("-n", peer.namespace, "link", "set", peer_if, "up")
        _ip("-n", peer.namespace, "link", "set", "lo", "up")
        yield peer
    finally:
        _kill_all_in(peer.namespace)
        # Removing the namespace removes its end of the veth pair, and with it ours.
        subprocess.run(["ip", "netns", "del", peer.namespace], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", peer.host_if], capture_output=True, check=False)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _kill_all_in(namespace: str) -> None:
    """Kill what is left in our namespace (only the test's own processes run there)."""
    listed = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
    )
    for pid in listed.stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
