"""Phone upload: photos sent from a browser enter the same intake as every capture.

Until pairing exists (the LAN issue), only the station's own browser may upload:
a request from any address but loopback is refused with a page saying pairing is
needed. Each photo is checked on its own, so one bad file never costs the good ones.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from werkzeug.datastructures import FileStorage

from station.app.station import Station
from station.capture.image_file import captured_from_bytes
from station.core.errors import StationError
from station.core.printable import printable

log = logging.getLogger(__name__)

#: Longest file name shown back to the phone.
MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class UploadResult:
    """What happened to one uploaded photo."""

    name: str
    saved: bool
    message: str = ""  # why it was refused, in the reader's language

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "saved": self.saved, "message": self.message}


def is_loopback(address: str | None) -> bool:
    """Whether a peer address is this machine (IPv4, IPv6 or IPv4-mapped IPv6)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def display_name(filename: str | None) -> str:
    """The last part of a client-given file name, for messages only (never a path)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name or "?"
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def chosen(files: Iterable[FileStorage]) -> list[FileStorage]:
    """The parts that carry a file (a form without a choice sends an empty part)."""
    return [f for f in files if f.filename]


def take_uploads(
    station: Station, files: Iterable[FileStorage], lang: str, peer: str, device: str = ""
) -> list[UploadResult]:
    """Check each photo and hand the good ones to the open book, one by one; each
    capture records ``device`` (default ``upload:<peer>``) and the shift's operator."""
    results = []
    for storage in files:
        name = display_name(storage.filename)
        try:
            captured = captured_from_bytes(
                storage.read(),
                name,
                source="phone",
                device=device or f"upload:{peer}",
                default_dpi=station.config.capture.dpi,
            )
            station.deliver(captured)
        except StationError as exc:
            log.warning("upload %s refused: %s", printable(name), exc.message("en"))
            results.append(UploadResult(name, False, exc.message(lang)))
        else:
            results.append(UploadResult(name, True))
        finally:
            storage.close()
    return results
