"""libsane's reader threads must never need the dynamic loader (station.core.native).

The SANE ``test`` backend reads each page in a thread that is cancelled asynchronously
at ``sane_cancel``. The first thread exit or cancel in a process makes glibc load
libgcc_s under the loader's lock; a reader cancelled inside that load died holding the
lock and the next ``dlopen`` hung the station for ever (1 run in about 5 of
``station scan --device test:0``). These tests watch the loader with ``LD_DEBUG=files``
in a fresh interpreter: the driver's SANE session must have glibc open its unwinder
before any backend thread exists, and never again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sane")

from tests.support.sane_backend import write_sane_config

#: What the loader prints when something dlopens libgcc_s by name: a first load, or
#: another open of the copy a library's dependencies brought in. In these scripts only
#: glibc does, to unwind a thread that exits or is cancelled.
UNWINDER_OPENED = re.compile(
    r"file=libgcc_s\.so\.1 \[0\];  dynamically loaded by|opening file=\S*/libgcc_s\.so\.1 "
)

#: A line of the loader's own trace: its process id, a tab, the message.
_LOADER_LINE = re.compile(r"^\s*\d+:\t")

SCRIPT = """
import sys
from station.capture.drivers.sane.scanner import SaneScanner, reset_library
from station.core import native
print("MARK start session", file=sys.stderr, flush=True)
scanner = SaneScanner({"device": "test:0", "mode": "gray", "area": "A4", "dpi": 50})
scanner.open()
print("MARK session started", file=sys.stderr, flush=True)
for _ in range(3):
    for page in scanner.capture(1):
        assert page.image.size == (413, 584), page.image.size
scanner.close()
reset_library()
print("MARK scanned", file=sys.stderr, flush=True)
"""


def _loader_trace(tmp_path: Path, script: str) -> list[str]:
    config = write_sane_config(tmp_path / "sane")
    env = dict(os.environ, SANE_CONFIG_DIR=str(config), LD_DEBUG="files")
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    own = [line for line in result.stderr.splitlines() if not _LOADER_LINE.match(line)]
    assert result.returncode == 0, "\n".join(own[-40:])
    return [
        line.split("\t", 1)[-1]
        for line in result.stderr.splitlines()
        if line.startswith("MARK") or UNWINDER_OPENED.search(line)
    ]


def test_the_sane_session_loads_the_unwinder_before_any_reader_thread(tmp_path: Path) -> None:
    trace = _loader_trace(tmp_path, SCRIPT)
    starts = trace.index("MARK start session")
    started = trace.index("MARK session started")
    loads = [i for i, line in enumerate(trace) if UNWINDER_OPENED.search(line)]
    assert loads and all(starts < i < started for i in loads), trace  # never while scanning
    assert trace[-1] == "MARK scanned", trace


def test_without_the_preparation_a_reader_thread_loads_the_unwinder(tmp_path: Path) -> None:
    """The hazard itself: what the preparation prevents happens when it is skipped."""
    script = SCRIPT.replace(
        "from station.core import native\n",
        "from station.core import native\nnative._prepared = True  # skip the preparation\n",
    )
    trace = _loader_trace(tmp_path, script)
    started, scanned = trace.index("MARK session started"), trace.index("MARK scanned")
    loads = [i for i, line in enumerate(trace) if UNWINDER_OPENED.search(line)]
    # Once or twice: libsane's cancel and the reader's own exit may both get there first.
    assert loads and all(started < i < scanned for i in loads), trace
