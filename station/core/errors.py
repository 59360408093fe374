"""One exception root for everything the station reports to a person.

Every error carries a message key from :mod:`station.core.messages`, the values that fill
it, an exit code for the CLI and an HTTP status (``http_status``) for the web layer.
The CLI and UI show the translated message; the log keeps the traceback. Anything
that is *not* a :class:`StationError` is a bug.
"""

from __future__ import annotations

from typing import Any

from station.core import messages
from station.core.messages import N_


class StationError(Exception):
    """Root of every error a station user can be shown."""

    exit_code = 1
    default_key = N_("error.generic")
    #: The HTTP status the web layer answers with when this error ends a request
    #: (400 unless a subclass says otherwise, as the web app always answered).
    http_status = 400

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
    default_key = N_("config.invalid")


class NamingError(StationError):
    """A file name template or a produced name is not acceptable."""

    exit_code = 65  # EX_DATAERR
    default_key = N_("naming.invalid")


class StoreError(StationError):
    """The store cannot read or write its data."""

    exit_code = 74  # EX_IOERR
    default_key = N_("store.io")


class CorruptDatabaseError(StoreError):
    """A database file exists but cannot be read; it is never silently replaced."""

    default_key = N_("store.corrupt")
    http_status = 500


class StationBusyError(StoreError):
    """Another station process holds the data folder."""

    exit_code = 75  # EX_TEMPFAIL
    default_key = N_("store.locked")
    http_status = 409


class DiskFullError(StoreError):
    """Free space is below the reserve; new captures are refused."""

    default_key = N_("store.disk_full")
    http_status = 507


class DeviceError(StationError):
    """A capture device failed; pages captured before the failure are kept."""

    exit_code = 69  # EX_UNAVAILABLE
    default_key = N_("device.error")


class ImageError(StationError):
    """An input image cannot be used (corrupt, truncated, too large, not an image)."""

    exit_code = 65
    default_key = N_("image.bad")


class EncodeError(StationError):
    """An entry could not be encoded into a PDF."""

    exit_code = 70  # EX_SOFTWARE
    default_key = N_("encode.failed")
    http_status = 500


class UsageError(StationError):
    """A command was called with arguments that do not make sense."""

    exit_code = 64  # EX_USAGE
    default_key = N_("usage.invalid")


class NotFoundError(StationError):
    """A book, capture, entry, version or operator named in a request does not exist."""

    exit_code = 66  # EX_NOINPUT
    default_key = N_("usage.not_found")
    http_status = 404


class ConflictError(StationError):
    """The request clashes with what exists (a book or operator that is already there)."""

    exit_code = 65  # EX_DATAERR
    default_key = N_("usage.conflict")
    http_status = 409


class AuthError(StationError):
    """A PIN was wrong or is missing."""

    exit_code = 77  # EX_NOPERM
    default_key = N_("auth.denied")
    http_status = 403


class LockedOutError(AuthError):
    """Too many wrong PINs: tries are refused until the lock ends."""

    default_key = N_("auth.locked")
    http_status = 429
