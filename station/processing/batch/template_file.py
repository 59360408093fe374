"""``station process --template FILE``: the book template a run cuts its pages by.

FILE is one of three JSON files:

- a **book template** exported by a station (``station template export``): used as is;
- a **confirmed page** in the real-pages truth format: ``image`` (the image's file
  name, found beside the JSON unless given) and ``entries[].polygon`` in that image's
  stored pixel grid (EXIF orientation not applied);
- a ``station process --report``: the first image's ``entries[].polygon`` (same grid)
  and ``page_side``, with the image named by the row's ``source``.

A confirmed page's image is decoded and normalised with the code that segments every
page, so its polygons land in the same normalised frame a later page is registered in.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from station.core.errors import StationError, UsageError
from station.core.layouts import LayoutProfile
from station.core.models import utc_now
from station.processing.batch.inputs import resolve_dpi
from station.processing.imaging import geometry as geo
from station.processing.imaging.load import load_image
from station.processing.imaging.segment import learn_template
from station.processing.imaging.template import BookTemplate

log = logging.getLogger(__name__)

Outline = tuple[int | None, NDArray[np.float64]]


def read_template(path: Path, profile: LayoutProfile, image: Path | None = None) -> BookTemplate:
    """The template in ``path`` (see the module's docstring); ``image`` overrides where
    a confirmed page's image is looked for. Raises :class:`UsageError` when it is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if "kind" in data and "regions" in data:
            return BookTemplate.from_dict(data)
        source, outlines = _confirmed(data, path, image)
        return _learn(source, outlines, profile)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UsageError("batch.bad_template", path=str(path), detail=str(exc)) from exc
    except StationError as exc:
        raise UsageError("batch.bad_template", path=str(path), detail=exc.message("en")) from exc


def _confirmed(data: dict[str, Any], path: Path, image: Path | None) -> tuple[Path, list[Outline]]:
    """The image and the entries' outlines (page side when known) of a confirmed page."""
    if "images" in data:  # a --report: its first image
        first = data["images"][0]
        rows = [e for e in data["entries"] if e["image"] == first["index"] and e["polygon"]]
        name = Path(first["source"])
        outlines: list[Outline] = [
            (int(e["page_side"]), np.asarray(e["polygon"], np.float64)) for e in rows
        ]
    else:  # a truth JSON
        name = Path(data["image"])
        outlines = [(None, np.asarray(e["polygon"], np.float64)) for e in data["entries"]]
    if not outlines:
        raise ValueError("the confirmed page has no entry")
    if image is None:
        image = name if name.is_absolute() else path.parent / name
    return image, outlines


def _learn(source: Path, outlines: list[Outline], profile: LayoutProfile) -> BookTemplate:
    decoded = load_image(source, str(source))
    height, width = decoded.rgb.shape[:2]
    dpi, _ = resolve_dpi(decoded.dpi, width, profile)
    upright = geo.invert(decoded.to_stored())  # stored grid -> decoded pixels
    mapped = [(side, geo.apply(upright, points)) for side, points in outlines]
    template = learn_template(decoded.rgb, dpi, profile, mapped, source.name, utc_now())
    log.info("template of %d entries (%s) from %s (%dx%d)",
             len(template.regions), template.kind, source, width, height)  # fmt: skip
    return template
