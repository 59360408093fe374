"""``station-collect run`` stops on Ctrl+C even when it was started with SIGINT ignored.

A script's background job (and some service managers) start programs with SIGINT set
to "ignore", which Python then keeps: the collector sets Ctrl+C up itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_ctrl_c_stops_a_collector_started_with_sigint_ignored(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATION", "LEDGER"))}
    command = [sys.executable, "-m", "station.collector", "--state-dir", str(tmp_path / "state")]
    command += ["--lang", "en", "run", "--dest", str(tmp_path / "files"), "--no-browse"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # the collector says it runs before it waits
            lines.append(line)
            if "Collecting into" in line:
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(lines) + rest
    assert "Stopped" in rest or "stopped" in rest.lower(), rest
