"""One exception root for everything the station reports to a person.

Every error carries a message key from :mod:`station.messages`, the values that fill
it, and an exit code. The CLI and UI show the translated message; the log keeps the
traceback. Anything that is *not* a :class:`StationError` is a bug.
"""

from __future__ import annotations

from typing import Any

from station import messages


class StationError(Exception):
    """Root of every error a station user can be shown."""

    exit_code = 1
    default_key = "error.generic"

    def __init__(self, key: str | None = None, /, **values: Any) -> None:
        self.key = key or self.default_key
        self.values = values
        super().__init__(self.message("en"))

    def message(self, lang: str = "vi") -> str:
        """The user-facing message in ``lang`` ("vi" or "en")."""
        return messages.render(self.key, lang, **self.values)


class ConfigError(StationError):
    """The configuration file or an override is wrong."""

    exit_code = 78  # EX_CONFIG
    default_key = "config.invalid"


class NamingError(StationError):
    """A file name template or a produced name is not acceptable."""

    exit_code = 65  # EX_DATAERR
    default_key = "naming.invalid"


class StoreError(StationError):
    """The store cannot read or write its data."""

    exit_code = 74  # EX_IOERR
    default_key = "store.io"


class CorruptDatabaseError(StoreError):
    """A database file exists but cannot be read; it is never silently replaced."""

    default_key = "store.corrupt"


class StationBusyError(StoreError):
    """Another station process holds the data folder."""

    exit_code = 75  # EX_TEMPFAIL
    default_key = "store.locked"


class DiskFullError(StoreError):
    """Free space is below the reserve; new captures are refused."""

    default_key = "store.disk_full"


class DeviceError(StationError):
    """A capture device failed; pages captured before the failure are kept."""

    exit_code = 69  # EX_UNAVAILABLE
    default_key = "device.error"


class ImageError(StationError):
    """An input image cannot be used (corrupt, truncated, too large, not an image)."""

    exit_code = 65
    default_key = "image.bad"


class EncodeError(StationError):
    """An entry could not be encoded into a PDF."""

    exit_code = 70  # EX_SOFTWARE
    default_key = "encode.failed"


class UsageError(StationError):
    """A command was called with arguments that do not make sense."""

    exit_code = 64  # EX_USAGE
    default_key = "usage.invalid"
