"""The real SANE ``test`` backend, enabled in a private SANE_CONFIG_DIR (never /etc).

libsane reads its configuration at sane_init(), so :func:`sane_test_backend` ends any
SANE session before and after switching the environment variable; a test that leaves
a device open fails there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

#: Statuses the test backend's ``read-return-value`` option makes sane_read() return.
FORCED_STATUSES = (
    "SANE_STATUS_UNSUPPORTED",
    "SANE_STATUS_CANCELLED",
    "SANE_STATUS_DEVICE_BUSY",
    "SANE_STATUS_INVAL",
    "SANE_STATUS_EOF",
    "SANE_STATUS_JAMMED",
    "SANE_STATUS_NO_DOCS",
    "SANE_STATUS_COVER_OPEN",
    "SANE_STATUS_IO_ERROR",
    "SANE_STATUS_NO_MEM",
    "SANE_STATUS_ACCESS_DENIED",
)
#: The bed of the test devices, mm: large enough for A3 and an A4 spread.
BED_MM = 430.0


def write_sane_config(folder: Path, read_status: str = "Default") -> Path:
    """A SANE configuration folder enabling only the test backend.

    ``read_status`` is the test backend's initial ``read-return-value``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dll.conf").write_text("test\n", encoding="ascii")
    (folder / "test.conf").write_text(
        "number_of_devices 2\n"
        "mode Gray\n"
        "resolution 300.0\n"
        'test-picture "Grid"\n'
        f'read-status-code "{read_status}"\n'
        "geometry_min 0.0\n"
        f"geometry_max {BED_MM}\n"
        "geometry_quant 1.0\n"
        "tl_x 0.0\ntl_y 0.0\nbr_x 210.0\nbr_y 297.0\n",
        encoding="ascii",
    )
    return folder


@contextlib.contextmanager
def sane_test_backend(folder: Path, read_status: str = "Default") -> Iterator[Path]:
    """Point libsane at a private configuration for the duration of the block."""
    from station.capture.drivers.sane.scanner import reset_library

    write_sane_config(folder, read_status)
    saved = os.environ.get("SANE_CONFIG_DIR")
    assert reset_library(), "a SANE device was left open"
    os.environ["SANE_CONFIG_DIR"] = str(folder)
    try:
        yield folder
    finally:
        closed = reset_library()
        if saved is None:
            os.environ.pop("SANE_CONFIG_DIR", None)
        else:
            os.environ["SANE_CONFIG_DIR"] = saved
        assert closed, "a SANE device was left open"
