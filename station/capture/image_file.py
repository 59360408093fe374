"""Image files handed over by other programs (hot folder, phone upload), checked first.

A file from outside is untrusted: it may not be an image, may be cut short, or may
declare billions of pixels in a few bytes. :func:`inspect_image` decodes it fully (the
only way to know every byte of a JPEG is there) with the same pixel limit the
processing uses, so a file accepted here also decodes when it is processed. The bytes
themselves are kept verbatim by intake; only the facts about them are returned.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from station.capture.drivers.base import CapturedImage
from station.core.errors import ImageError
from station.core.limits import MAX_PIXELS

log = logging.getLogger(__name__)

#: Formats Pillow may try; nothing else is even parsed.
OPEN_FORMATS = ("JPEG", "PNG", "TIFF")
#: The format intake stores each decoded format as. MPO is the multi-picture JPEG some
#: cameras write; Pillow's JPEG reader returns it.
STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "TIFF": "TIFF"}

#: A resolution outside this range in a file's metadata is not a page scan's (phones
#: write 72); the configured resolution is used instead.
DPI_RANGE = (100, 1200)


@dataclass(frozen=True)
class ImageFacts:
    """What a decoded file turned out to be."""

    format: str  # as intake stores it: "JPEG", "PNG" or "TIFF"
    width: int
    height: int
    dpi: int | None  # from the file's metadata, when it is a plausible scan resolution


def pixel_limit() -> int:
    """The largest image accepted: ours, or Pillow's bomb limit if that is lower.

    Processing turns Pillow's bomb warning into an error, so an image between the two
    limits would be accepted here and then fail; the lower limit avoids that.
    """
    pillow = Image.MAX_IMAGE_PIXELS
    return min(MAX_PIXELS, pillow) if pillow else MAX_PIXELS


def inspect_image(data: bytes, label: str) -> ImageFacts:
    """Decode ``data`` completely; raise :class:`ImageError` if it is unusable."""
    limit = pixel_limit()
    try:
        with Image.open(io.BytesIO(data), formats=OPEN_FORMATS) as image:
            pixels = image.width * image.height
            if pixels > limit:
                raise ImageError("image.too_large", source=label, pixels=pixels, limit=limit)
            image.load()
            return ImageFacts(STORED_AS[str(image.format)], image.width, image.height, _dpi(image))
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("image.not_image", source=label) from exc
    except Image.DecompressionBombError as exc:
        raise ImageError("image.too_large", source=label, pixels="?", limit=limit) from exc
    except (OSError, SyntaxError, ValueError, KeyError, EOFError) as exc:
        raise ImageError("image.corrupt", source=label, detail=str(exc) or repr(exc)) from exc


def captured_from_bytes(
    data: bytes,
    label: str,
    *,
    source: str,
    device: str,
    default_dpi: int,
    captured_at: str | None = None,
) -> CapturedImage:
    """A :class:`CapturedImage` carrying ``data`` verbatim, once it has decoded cleanly."""
    facts = inspect_image(data, label)
    captured = CapturedImage(
        dpi=facts.dpi or default_dpi,
        source=source,
        device=device,
        encoded=data,
        format=facts.format,
        meta={"file": label, "width": facts.width, "height": facts.height},
    )
    if captured_at:
        captured.captured_at = captured_at
    return captured


def utc_from_timestamp(seconds: float) -> str:
    """A file time as the station writes times (ISO-8601 UTC, 'Z', to the second)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def _dpi(image: Image.Image) -> int | None:
    value = image.info.get("dpi")
    try:
        dpi = round(float(value[0])) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if dpi is None or not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        return None
    return dpi
