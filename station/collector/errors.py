"""What can go wrong while collecting, as :class:`StationError` subclasses.

``retryable`` tells the run loop whether waiting and trying again can help (a station
rebooting, a cable unplugged) or whether a person has to act (a revoked token, a
certificate that changed).
"""

from __future__ import annotations

from station.core import messages
from station.core.errors import StationError
from station.core.messages import N_


class CollectError(StationError):
    """Root of the collector's errors."""

    default_key = N_("collect.error")
    retryable = False


class UnreachableError(CollectError):
    """No answer from the station: network down, station off or rebooting."""

    exit_code = 75  # EX_TEMPFAIL
    default_key = N_("collect.unreachable")
    retryable = True


class StoppedError(CollectError):
    """The user asked the collector to stop; partial downloads are kept for later."""

    exit_code = 130
    default_key = N_("collect.stopped")


class UnauthorizedError(CollectError):
    """The station refuses the token (revoked, or never issued)."""

    exit_code = 77  # EX_NOPERM
    default_key = N_("collect.unauthorized")


class FingerprintError(CollectError):
    """The station's certificate is not the pinned one: possibly someone else."""

    exit_code = 77
    default_key = N_("collect.fingerprint")


class ProtocolError(CollectError):
    """The station answered something the API does not allow."""

    exit_code = 76  # EX_PROTOCOL
    default_key = N_("collect.protocol")
    retryable = True


class HttpStatusError(ProtocolError):
    """An HTTP status the request did not expect; ``status`` says which.

    ``texts`` holds the station's own explanation per language, when its error body
    carried one (``{"error": ..., "message": {"vi": ..., "en": ...}}``).
    """

    default_key = N_("collect.http")

    def __init__(
        self, key: str | None = None, /, *, texts: dict[str, str] | None = None, **values: object
    ) -> None:
        self.texts = texts or {}
        super().__init__(key, **values)
        status = values.get("status", 0)
        self.status = status if isinstance(status, int) else 0
        self.retryable = self.status >= 500 or self.status == 429

    def message(self, lang: str = "vi") -> str:
        text = self.texts.get(lang)
        if text is None:
            return super().message(lang)
        return messages.render(self.key, lang, **{**self.values, "detail": text})


class TransferError(CollectError):
    """A file arrived with the wrong size or checksum, or under an unsafe name."""

    exit_code = 65  # EX_DATAERR
    default_key = N_("collect.transfer")


class PairingError(CollectError):
    """Pairing did not complete (denied, expired, no or several stations)."""

    exit_code = 69  # EX_UNAVAILABLE


class StateError(CollectError):
    """The collector's own state folder or the destination cannot be used."""

    exit_code = 74  # EX_IOERR
    default_key = N_("collect.state")
