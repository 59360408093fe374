"""``station serve`` under systemd's notification protocol (Type=notify, WatchdogSec=):
READY once the web server answers, watchdog pings while it does, STOPPING at the end."""

from __future__ import annotations

import secrets
import signal
import socket
import subprocess
from pathlib import Path

from tests.support.commands import station_command, station_env
from tests.support.ports import free_port


def test_serve_tells_systemd_ready_alive_and_stopping(data_dir: Path) -> None:
    name = f"ledger-station-notify-{secrets.token_hex(6)}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name)
    listener.settimeout(90)
    port = free_port()
    env = station_env(
        data_dir,
        NOTIFY_SOCKET="@" + name,
        WATCHDOG_USEC="1000000",
        STATION__WEB__PORT=str(port),
        STATION__LAN__ENABLED="false",
        STATION__USB__ENABLED="false",
    )
    process = subprocess.Popen(
        station_command("serve"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        ready = listener.recv(4096).decode()
        assert ready.startswith("READY=1")
        # READY means the page answers: the kiosk may load it now.
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass
        assert listener.recv(4096) == b"WATCHDOG=1"
        process.send_signal(signal.SIGTERM)
        while (message := listener.recv(4096)) != b"STOPPING=1":
            assert message == b"WATCHDOG=1"
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()
        listener.close()
