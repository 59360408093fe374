"""The station's data model: plain dataclasses that cross every boundary.

They hold no behaviour beyond conversion to and from JSON-safe dicts, which is how the
store keeps them and how they travel inside each PDF's metadata (so the index can be
rebuilt from the files alone).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from station.core.errors import UsageError

#: Ledger type codes seen in the field (DOMAIN.md); the list is data in config/ too,
#: but the model checks the shape only so that new codes need no code change.
CODE_PATTERN = re.compile(r"^[A-Z]{2,4}$")


def plain_dict(instance: Any) -> dict[str, Any]:
    """``dataclasses.asdict(instance)``, without its ``copy.deepcopy`` of every number
    and string (which are never changed in place): the outlines of a page's regions
    and its ink outside the entries are hundreds of numbers each, and asdict spent
    0.8 s of CPU on the records of one register spread of 55 entries."""
    result: dict[str, Any] = _plain(instance)
    return result


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        pairs = ((_plain(key), _plain(item)) for key, item in value.items())
        if isinstance(value, collections.defaultdict):
            return type(value)(value.default_factory, pairs)
        return type(value)(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, tuple):
        items = [_plain(item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return copy.deepcopy(value)


def utc_now() -> str:
    """The current UTC time as an ISO-8601 string with a 'Z' suffix, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_id(prefix: str = "") -> str:
    """A sortable unique id: UTC timestamp then random hex (e.g. ``c20261121T093012-9f3a1c2b``)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{prefix}{stamp}-{secrets.token_hex(4)}"


@dataclass(frozen=True, order=True)
class BookRef:
    """Identifies one ledger book: type code, year opened and book number."""

    code: str
    year: int
    number: int

    @property
    def key(self) -> str:
        """File-system and database safe key, e.g. ``KS-2007-01``."""
        return f"{self.code}-{self.year:04d}-{self.number:02d}"

    def __str__(self) -> str:
        return f"{self.code}/{self.year}/{self.number:02d}"

    @classmethod
    def parse(cls, text: str) -> BookRef:
        """Parse ``KS/2007/01`` (or ``KS-2007-01``) into a reference."""
        parts = re.split(r"[/\-.]", text.strip())
        if len(parts) != 3:
            raise UsageError("book.bad_ref", text=text)
        code, year, number = parts[0].upper(), parts[1], parts[2]
        if not CODE_PATTERN.match(code) or not year.isdigit() or not number.isdigit():
            raise UsageError("book.bad_ref", text=text)
        ref = cls(code, int(year), int(number))
        if not 1800 <= ref.year <= 2200 or not 1 <= ref.number <= 999:
            raise UsageError("book.bad_ref", text=text)
        return ref


class BookStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class Book:
    """A ledger book as the station knows it."""

    ref: BookRef
    office_code: str = ""
    office_name: str = ""
    profile: str = "spread-2"
    first_entry: int = 1
    next_entry: int = 1
    expected_entries: int | None = None
    status: BookStatus = BookStatus.OPEN
    created_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        data = plain_dict(self)
        data["ref"] = {"code": self.ref.code, "year": self.ref.year, "number": self.ref.number}
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Book:
        values = dict(data)
        values["ref"] = BookRef(**values["ref"])
        values["status"] = BookStatus(values.get("status", "open"))
        return cls(**values)


@dataclass
class Capture:
    """One raw image as it came from a device, saved before anything else happens."""

    id: str
    book: str  # BookRef.key
    source: str  # driver kind, e.g. "simulated", "sane", "hotfolder"
    device: str
    dpi: int
    captured_at: str
    raw_path: str  # relative to the data folder
    sha256: str
    width: int
    height: int
    operator: str = ""
    sequence: int = 0  # order of capture within the book, for page numbering

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Capture:
        return cls(**data)


@dataclass
class Region:
    """Part of a capture holding (part of) one entry, in raw-capture pixel coordinates."""

    capture_id: str
    box: tuple[int, int, int, int]  # left, top, right, bottom
    page_side: int = 0  # 0 = left/only page of the image, 1 = right page of a spread
    page_number: int | None = None  # physical page of the book (trangSo) when known
    confidence: float = 1.0
    angle: float = 0.0  # degrees the region was rotated by when normalised
    # 3x3 homography (row-major) from capture pixels to the frame ``box`` is in; None:
    # ``box`` is in the capture deskewed by ``angle`` (regions made before warps existed).
    warp: list[float] | None = None
    # Where the entry came from, for anyone drawing the cuts on the source file: the
    # region's outline (TL, TR, BR, BL of ``box``) in the pixel grid of the file as
    # stored, before its EXIF orientation (``source_orientation``, 1 = none) is applied.
    # None for regions made before this was kept.
    source_polygon: list[list[float]] | None = None
    source_orientation: int = 1
    # A dewarped page's grid of capture points spanning ``box`` (rows, cols, then the
    # nodes' x and y, row-major): the cut follows the bent lines. None on a flat page.
    bend: list[float] | None = None
    # The region's outline in the frame of ``box`` (x, y pairs, clockwise from the top
    # left) when its top or bottom edge steps round the writing of the line beside it;
    # the cut keeps only the pixels inside it (the rest are the neighbour's). None: the
    # whole box.
    shape: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = plain_dict(self)
        data["box"] = list(self.box)
        data["shape"] = None if self.shape is None else [round(float(v), 1) for v in self.shape]
        data["warp"] = None if self.warp is None else [float(v) for v in self.warp]
        # Whole capture pixels: far below a cut's precision, and short in every record.
        data["bend"] = None if self.bend is None else [round(float(v)) for v in self.bend]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Region:
        values = dict(data)
        values["box"] = tuple(values["box"])
        if values.get("warp") is not None:
            values["warp"] = [float(v) for v in values["warp"]]
        if values.get("bend") is not None:
            values["bend"] = [float(v) for v in values["bend"]]
        if values.get("shape") is not None:
            values["shape"] = [float(v) for v in values["shape"]]
        return cls(**values)


class EntryStatus(StrEnum):
    REVIEW = "review"  # proposed, awaits the operator
    PUBLISHED = "published"  # a file is published
    WITHDRAWN = "withdrawn"


#: Flag of an entry whose finished PDF (metadata included) is larger than the budget.
OVER_BUDGET = "over_budget"
#: Bytes in the budget's kilobyte: 1000, the smaller reading, so a file within budget
#: passes whichever way a checker counts (a PDF of 102,000 bytes is "99.6 KiB").
BYTES_PER_KB = 1000


def kb_bytes(budget_kb: int) -> int:
    """The byte budget of ``processing.budget_kb``."""
    return budget_kb * BYTES_PER_KB


#: Quality flags an entry may carry (set by imaging, encoding or the operator).
QUALITY_FLAGS = (
    "faded",
    "torn",
    "missing_fields",
    "illegible",
    "count_mismatch",
    "low_confidence",
    OVER_BUDGET,
    "ink_enhanced",
    "greyscale_fallback",
    "duplicate_number",
    "continues_overleaf",
    "number_uncertain",
    "stained",
    "page_outline_uncertain",
    "no_frame",
    "continued_from_previous",
    "orientation_uncertain",
    "ink_below_entries",
    "ink_outside_entries",
    "gutter_uncertain",
    "dewarped",
    "template_used",
    "blank_page",
)


@dataclass
class EntryVersion:
    """One published file of an entry; files are never overwritten."""

    version: int
    file: str  # relative to the published folder
    sha256: str
    bytes: int
    seq: int  # change-feed sequence number that published it
    created_at: str
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryVersion:
        return cls(**data)


@dataclass
class Entry:
    """One registered case in a ledger: becomes exactly one PDF (per version)."""

    id: str
    book: str  # BookRef.key
    number: str  # a string: "12a" and repeated numbers occur in old books
    regions: list[Region]
    status: EntryStatus = EntryStatus.REVIEW
    flags: list[str] = field(default_factory=list)
    versions: list[EntryVersion] = field(default_factory=list)
    operator: str = ""
    registration_date: str = ""  # yyyy-mm-dd when known
    source_key: str = ""  # "<capture id>#<index>": makes processing idempotent

    @property
    def current(self) -> EntryVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def current_file(self) -> str:
        """The newest version's file (relative to the published folder), or ""."""
        return self.versions[-1].file if self.versions else ""

    @property
    def pages(self) -> list[int]:
        return sorted({r.page_number for r in self.regions if r.page_number is not None})

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "book": self.book,
            "number": self.number,
            "regions": [r.to_dict() for r in self.regions],
            "status": self.status.value,
            "flags": list(self.flags),
            "versions": [v.to_dict() for v in self.versions],
            "operator": self.operator,
            "registration_date": self.registration_date,
            "source_key": self.source_key,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        return cls(
            id=data["id"],
            book=data["book"],
            number=data["number"],
            regions=[Region.from_dict(r) for r in data["regions"]],
            status=EntryStatus(data.get("status", "review")),
            flags=list(data.get("flags", [])),
            versions=[EntryVersion.from_dict(v) for v in data.get("versions", [])],
            operator=data.get("operator", ""),
            registration_date=data.get("registration_date", ""),
            source_key=data.get("source_key", ""),
        )


@dataclass
class Page:
    """A processed capture: which entries were cut from it, with what confidence."""

    capture_id: str
    book: str
    sequence: int
    profile: str
    entry_ids: list[str]
    page_numbers: list[int]
    flags: list[str] = field(default_factory=list)
    confidence: float = 1.0
    #: Ink outside every entry: ``{"reason", "share", "box"}`` each (see
    #: ``processing.imaging.outside``; box in the capture's decoded pixels).
    outside: list[dict[str, Any]] = field(default_factory=list)
    #: The figures behind some flags, for their words (``core.flagtext``).
    flag_details: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The operator asked to capture this page again; the book's next capture takes
    #: over its entries (numbers kept). Cleared when that happens.
    recapture_requested: bool = False
    replaces: str = ""  # capture id of the page this capture was taken to replace
    replaced_by: str = ""  # capture id of the capture that took this page's entries
    reviewed_by: str = ""  # operator who accepted or edited the page; "" = nobody yet
    reviewed_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        return cls(**data)


class FeedKind(StrEnum):
    PUBLISHED = "published"
    REPLACED = "replaced"
    WITHDRAWN = "withdrawn"


@dataclass
class FeedEvent:
    """One change visible to collectors, numbered by a station-wide monotonic sequence."""

    seq: int
    kind: FeedKind
    entry_id: str
    book: str
    number: str
    version: int
    file: str
    sha256: str
    bytes: int
    at: str

    def to_dict(self) -> dict[str, Any]:
        data = plain_dict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedEvent:
        values = dict(data)
        values["kind"] = FeedKind(values["kind"])
        return cls(**values)


@dataclass
class Operator:
    """A person who signs in to a shift."""

    id: str
    name: str
    pin_hash: str = ""
    created_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Operator:
        return cls(**data)


@dataclass
class Shift:
    """One operator's turn at the station, from sign-in to handover."""

    id: str
    operator_id: str
    operator_name: str
    started_at: str = field(default_factory=utc_now)
    ended_at: str = ""  # "" while the shift runs
    note: str = ""  # handover note for the next shift

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shift:
        return cls(**data)


@dataclass
class StationInfo:
    """Who this station is, as announced on the LAN and written into every PDF."""

    id: str
    name: str
    office_code: str = ""
    office_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return plain_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StationInfo:
        return cls(**data)


#: The flags an operator may set on an entry (the station sets the others).
OPERATOR_FLAGS = ("faded", "torn", "missing_fields", "illegible", "stained")


def numeric(number: str) -> int:
    """The leading digits of an entry number ("12a" -> 12); 0 when there are none."""
    digits = re.match(r"[0-9]*", number)
    text = digits.group(0) if digits else ""
    return int(text) if text else 0
