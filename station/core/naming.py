"""Folder and file names of entry PDFs: a small template language and its presets.

A preset (``config/naming/*.toml``) holds two templates, one for the folder and one for
the file, e.g. ``{code}/{year}.{book:02}`` and ``{code}.{year}.{book:02}.{entry}.pdf``.
A template is literal text and ``{token}`` or ``{token:0N}`` fields; it is parsed here,
never handed to ``str.format`` (whose ``{code.__class__}`` and ``{x[0]}`` would reach
into objects).

Rules for the names produced (entry PCs are mostly Windows, and collectors mirror them):

* Vietnamese diacritics are folded to ASCII ("Đông Hòa" -> "Dong Hoa"); any other
  non-ASCII character is refused.
* Runs of spaces inside a value become one ``_`` ("Xã Đông Hòa" -> "Xa_Dong_Hoa");
  spaces at either end are dropped. Spaces in names break scripts and command lines on
  the entry PCs, and ``_`` is not used as a separator by any preset.
* Everything else that Windows refuses or mangles is refused, never silently changed:
  ``<>:"|?*``, control characters, a name ending in a dot or space, a reserved device
  name (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with any extension, in any case).
* A value never creates folders: ``/`` or ``\\`` in a value is refused, and so is a
  name starting with a dot (``..``, hidden files, the store's temporary files).
* File name at most 120 characters, folder plus file at most 200 (see ``MAX_PATH_CHARS``).
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import logging
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeAlias

from station.core.errors import NamingError

log = logging.getLogger(__name__)

#: Preset suggested when a preset cannot be used (it needs only what capture knows).
DEFAULT_PRESET = "default"

#: Tokens a template may use. province/district/commune/office are free values from
#: the station settings; the rest describe the entry.
TOKENS: Mapping[str, str] = {
    "code": "ledger type code, e.g. KS",
    "code_lower": "ledger type code in lower case, e.g. ks",
    "year": "year the book was opened",
    "book": "book number",
    "entry": "entry number, e.g. 30 or 12a",
    "date": "registration date, yyyy-mm-dd",
    "page": "page number",
    "office": "office (commune) code",
    "province": "province name or code",
    "district": "district name or code",
    "commune": "commune name or code",
}

#: Tokens that take zero padding ``{token:0N}``; for ``entry`` it pads the leading digits.
NUMERIC_TOKENS = frozenset({"year", "book", "entry", "page"})

#: Windows MAX_PATH is 260 characters including the drive, the collector's own folder
#: and the final NUL. Keeping our relative path within 200 leaves about 59 characters
#: for a collector root such as C:\Users\<name>\Documents\HoTich\, so no entry PC needs
#: long-path support switched on. (The store's clash suffix "_2" and its
#: "_versions/<stem>.vN.pdf" copies add about 15 more; still inside MAX_PATH.)
MAX_PATH_CHARS = 200
#: Bound on the file name alone, so a deep folder preset still leaves room for it.
MAX_FILE_CHARS = 120

#: Characters a template's literal text may hold (plus "/" between folders).
TEMPLATE_LITERAL = frozenset(string.ascii_letters + string.digits + "._-")
TEMPLATE_ALLOWED = "A-Z a-z 0-9 . _ -"

WINDOWS_FORBIDDEN = frozenset('<>:"/\\|?*')
RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in range(10)]
)

# Letters NFD does not decompose; "Ð" (Icelandic eth) is often typed for "Đ".
_FOLD_SPECIAL = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
_FIELD = re.compile(r"\{([^{}]*)\}")
_SPEC = re.compile(r"0([1-9])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PRESET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_LEADING_DIGITS = re.compile(r"(\d+)(.*)", re.DOTALL)

TemplateKind: TypeAlias = Literal["folder", "file"]

_ALLOWED_TOKENS = ", ".join("{" + t + "}" for t in TOKENS)
_NUMERIC_LIST = ", ".join("{" + t + "}" for t in sorted(NUMERIC_TOKENS))


@dataclass(frozen=True)
class Field:
    """One ``{token}`` or ``{token:0N}`` of a template."""

    token: str
    width: int | None = None


Part: TypeAlias = str | Field


@dataclass(frozen=True)
class Template:
    """A parsed template: folder names (or the one file name), each a run of parts."""

    text: str
    kind: TemplateKind
    segments: tuple[tuple[Part, ...], ...]

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token the template uses, once each, in order of appearance."""
        found = (p.token for seg in self.segments for p in seg if isinstance(p, Field))
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class NamingPreset:
    """A named pair of templates with a label and description in each language."""

    name: str
    folder: Template
    file: Template
    label: Mapping[str, str]
    description: Mapping[str, str]
    source: str = ""

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token the preset needs a value for, folder first, in order."""
        return tuple(dict.fromkeys(self.folder.tokens + self.file.tokens))

    def label_for(self, lang: str = "vi") -> str:
        """The label in ``lang``, falling back to Vietnamese."""
        return self.label.get(lang) or self.label["vi"]


@dataclass(frozen=True)
class NameValues:
    """What is known about one entry when its name is made."""

    code: str
    year: int
    book: int
    entry: str
    date: str | dt.date | None = None
    page: int | None = None
    office: str = ""
    province: str = ""
    district: str = ""
    commune: str = ""


# --- parsing ------------------------------------------------------------------------


def parse_template(text: str, kind: TemplateKind, where: str = "") -> Template:
    """Parse and check a folder or file template; raise :class:`NamingError` if bad."""
    ctx = {"template": text, "where": where or kind}
    parts: list[Part] = []
    position = 0
    for match in _FIELD.finditer(text):
        parts += _literal_parts(text[position : match.start()], kind, ctx)
        parts.append(_parse_field(match.group(1), ctx))
        position = match.end()
    parts += _literal_parts(text[position:], kind, ctx)
    segments = _split_segments(parts, kind, ctx)
    for segment in segments:
        if all(isinstance(p, str) for p in segment):
            _check_literal_name("".join(str(p) for p in segment), ctx)
    return Template(text, kind, segments)


def _check_literal_name(name: str, ctx: dict[str, str]) -> None:
    try:
        _check_name(name)
    except NamingError as exc:
        raise NamingError(
            "naming.template_name",
            token=name,
            detail_vi=exc.message("vi"),
            detail_en=exc.message("en"),
            **ctx,
        ) from exc


def _literal_parts(literal: str, kind: TemplateKind, ctx: dict[str, str]) -> list[Part]:
    for brace in "{}":
        if brace in literal:
            raise NamingError(
                "naming.template_syntax",
                detail_vi=f'dấu "{brace}" không có cặp',
                detail_en=f'unmatched "{brace}"',
                **ctx,
            )
    if "\\" in literal or (kind == "file" and "/" in literal):
        char = "\\" if "\\" in literal else "/"
        raise NamingError("naming.template_separator", token=char, **ctx)
    for char in literal:
        if char != "/" and char not in TEMPLATE_LITERAL:
            raise NamingError("naming.template_char", token=char, allowed=TEMPLATE_ALLOWED, **ctx)
    return [literal] if literal else []


def _parse_field(content: str, ctx: dict[str, str]) -> Field:
    token, colon, spec = content.partition(":")
    shown = "{" + token + "}"
    if token not in TOKENS:
        raise NamingError("naming.template_token", token=shown, allowed=_ALLOWED_TOKENS, **ctx)
    if not colon:
        return Field(token)
    match = _SPEC.fullmatch(spec)
    if match is None or token not in NUMERIC_TOKENS:
        raise NamingError(
            "naming.template_spec", token=shown, spec=spec, numeric=_NUMERIC_LIST, **ctx
        )
    return Field(token, int(match.group(1)))


def _split_segments(
    parts: list[Part], kind: TemplateKind, ctx: dict[str, str]
) -> tuple[tuple[Part, ...], ...]:
    if not parts:
        if kind == "folder":
            return ()
        raise NamingError(
            "naming.template_syntax",
            detail_vi="mẫu tệp rỗng",
            detail_en="empty file template",
            **ctx,
        )
    segments: list[list[Part]] = [[]]
    for part in parts:
        if isinstance(part, Field):
            segments[-1].append(part)
            continue
        first, *rest = part.split("/")
        segments[-1] += [first] if first else []
        segments += [[piece] if piece else [] for piece in rest]
    for segment in segments:
        head = segment[0] if segment else ""
        if not segment or (isinstance(head, str) and head.startswith(".")):
            raise NamingError("naming.template_segment", token=str(head), **ctx)
    return tuple(tuple(s) for s in segments)


def _check_preset_templates(folder: Template, file: Template, where: str) -> None:
    last = file.segments[0][-1] if file.segments and file.segments[0] else ""
    if not isinstance(last, str) or not last.lower().endswith(".pdf"):
        raise NamingError("naming.template_pdf", template=file.text, where=where)
    every = set(folder.tokens + file.tokens)
    needed = {"entry": "entry" in file.tokens, "year": "year" in every, "book": "book" in every}
    needed["code"] = bool(every & {"code", "code_lower"})
    for token, present in needed.items():
        if not present:
            text = file.text if token == "entry" else f"{folder.text} + {file.text}"
            raise NamingError(
                "naming.template_required", template=text, where=where, token=_shown(token)
            )


# --- rendering ----------------------------------------------------------------------


def fold_diacritics(text: str) -> str:
    """Vietnamese (and other Latin) letters without their marks: "Đông Hòa" -> "Dong Hoa"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean_value(token: str, value: str) -> str:
    """Fold, replace spaces by ``_`` and check one free value; see the module rules."""
    folded = fold_diacritics(value)
    words: list[str] = [""]
    for char in folded:
        if unicodedata.category(char) == "Zs":
            words.append("")
        else:
            words[-1] += char
    cleaned = "_".join(w for w in words if w)
    for char in cleaned:
        if char in "/\\":
            raise NamingError("naming.value_separator", token=_shown(token), value=value, char=char)
        if char in WINDOWS_FORBIDDEN or not 0x20 < ord(char) < 0x7F:
            shown = f"'{char}' (U+{ord(char):04X})" if char.isprintable() else f"U+{ord(char):04X}"
            raise NamingError("naming.value_char", token=_shown(token), value=value, char=shown)
    return cleaned


def render(preset: NamingPreset, values: NameValues) -> PurePosixPath:
    """The relative ``folder/file`` path of an entry under ``preset``.

    Raises :class:`NamingError` when a needed value is missing or a value or the
    produced name is not safe on Windows (see the module docstring).
    """
    texts = {token: _token_text(preset, token, values) for token in preset.tokens}
    folders = [_render_segment(segment, texts) for segment in preset.folder.segments]
    file = _render_segment(preset.file.segments[0], texts)
    for name in [*folders, file]:
        _check_name(name)
    path = PurePosixPath(*folders, file)
    _check_length(file, MAX_FILE_CHARS)
    _check_length(str(path), MAX_PATH_CHARS)
    return path


def name_key(path: PurePosixPath | str) -> str:
    """Key under which two names are the same file on Windows (case-insensitive).

    The store compares these keys so that two entries never silently share a name on
    an entry PC, even when they differ only in case on the station's own disk.
    """
    text = str(path).replace("\\", "/")
    return "/".join(PurePosixPath(unicodedata.normalize("NFC", text)).parts).casefold()


def _shown(token: str) -> str:
    return "{" + token + "}"


def _render_segment(segment: Iterable[Part], texts: Mapping[str, str]) -> str:
    out: list[str] = []
    for part in segment:
        if isinstance(part, str):
            out.append(part)
        elif part.width is None:
            out.append(texts[part.token])
        else:
            out.append(_pad(texts[part.token], part.width))
    return "".join(out)


def _pad(text: str, width: int) -> str:
    # Only the leading digits are padded: entry "12a" -> "012a"; a value without
    # leading digits has no number to pad and stays as it is.
    match = _LEADING_DIGITS.fullmatch(text)
    if match is None:
        return text
    return match.group(1).zfill(width) + match.group(2)


def _token_text(preset: NamingPreset, token: str, values: NameValues) -> str:
    raw: object = values.code if token == "code_lower" else getattr(values, token)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise NamingError(
            "naming.missing_value", preset=preset.name, token=_shown(token), default=DEFAULT_PRESET
        )
    if token == "date":
        return _date_text(raw)
    if token in ("year", "book", "page"):
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            raise NamingError("naming.value_number", token=_shown(token), value=str(raw))
        return str(raw)
    if token == "code_lower":
        return clean_value("code", str(raw)).lower()
    return clean_value(token, str(raw))


def _date_text(raw: object) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip()
    try:
        if _DATE.fullmatch(text) is None:
            raise ValueError(text)
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise NamingError("naming.value_date", value=str(raw)) from None


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or name.endswith((".", " ")):
        raise NamingError("naming.bad_edge", name=name)
    # Windows maps "NUL", "nul.pdf" and "Com1 .x.pdf" alike to the device.
    device = name.split(".", 1)[0].rstrip(" ").upper()
    if device in RESERVED_NAMES:
        raise NamingError("naming.reserved", name=name, device=device)
    for char in name:
        if char in WINDOWS_FORBIDDEN or not 0x20 <= ord(char) < 0x7F:
            raise NamingError("naming.bad_char", name=name, char=f"U+{ord(char):04X}")


def _check_length(name: str, limit: int) -> None:
    if len(name) > limit:
        raise NamingError("naming.too_long", name=name, length=len(name), limit=limit)


# --- presets ------------------------------------------------------------------------

_PRESET_KEYS = ("folder", "file", "label", "description")
_LANG_KEYS = ("vi", "en")


def load_presets(extra_dir: Path | None = None) -> dict[str, NamingPreset]:
    """Presets shipped in ``station.defaults/naming``, plus any in ``extra_dir``.

    A technician adds a preset by dropping ``<name>.toml`` into ``extra_dir``; it may
    not reuse the name of a shipped preset (that would change names after an update).
    A broken file raises :class:`NamingError` naming the file and the key.
    """
    builtin_dir = importlib.resources.files("station.defaults") / "naming"
    presets = {p.name: p for p in map(_load_file, _toml_files(builtin_dir.iterdir()))}
    if extra_dir is None:
        return presets
    if not extra_dir.is_dir():
        log.warning("naming preset folder %s does not exist; using built-in presets", extra_dir)
        return presets
    for preset in map(_load_file, _toml_files(extra_dir.iterdir())):
        if preset.name in presets:
            raise NamingError("naming.preset_duplicate", file=preset.source, preset=preset.name)
        presets[preset.name] = preset
    log.debug("naming presets: %s", ", ".join(sorted(presets)))
    return presets


def unknown_preset(name: str, presets: Mapping[str, NamingPreset]) -> NamingError:
    """The error for a configured preset name that is not among ``presets``."""
    return NamingError("naming.unknown_preset", preset=name, available=", ".join(sorted(presets)))


def _toml_files(items: Iterable[Traversable]) -> list[Traversable]:
    return sorted((i for i in items if i.name.endswith(".toml") and i.is_file()), key=str)


def _load_file(item: Traversable) -> NamingPreset:
    source = str(item)
    name = item.name.removesuffix(".toml")
    if not _PRESET_NAME.fullmatch(name):
        raise NamingError("naming.preset_name", file=source)
    try:
        data = tomllib.loads(item.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise NamingError("naming.preset_syntax", file=source, detail=str(exc)) from exc
    return parse_preset(name, data, source)


def parse_preset(name: str, data: Mapping[str, Any], source: str = "") -> NamingPreset:
    """Build a preset from the data of one TOML file; errors name ``source`` and the key."""
    source = source or name
    _check_keys(data, _PRESET_KEYS, "", source)
    folder = _string(data, "folder", source)
    file = _string(data, "file", source)
    folder_template = parse_template(folder, "folder", f"{source}: folder")
    file_template = parse_template(file, "file", f"{source}: file")
    _check_preset_templates(folder_template, file_template, f"{source}: folder, file")
    return NamingPreset(
        name=name,
        folder=folder_template,
        file=file_template,
        label=_texts(data, "label", source),
        description=_texts(data, "description", source),
        source=source,
    )


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, src: str) -> None:
    for key in data:
        if key not in allowed:
            raise NamingError(
                "naming.preset_unknown_key", file=src, key=prefix + key, allowed=", ".join(allowed)
            )
    for key in allowed:
        if key not in data:
            raise NamingError("naming.preset_missing_key", file=src, key=prefix + key)


def _string(data: Mapping[str, Any], key: str, source: str, prefix: str = "") -> str:
    value = data[key]
    if not isinstance(value, str):
        raise NamingError("naming.preset_type", file=source, key=prefix + key, expected="string")
    return value


def _texts(data: Mapping[str, Any], key: str, source: str) -> dict[str, str]:
    table = data[key]
    if not isinstance(table, dict):
        expected = 'table {vi = "...", en = "..."}'
        raise NamingError("naming.preset_type", file=source, key=key, expected=expected)
    _check_keys(table, _LANG_KEYS, f"{key}.", source)
    return {lang: _string(table, lang, source, f"{key}.") for lang in _LANG_KEYS}


__all__ = [
    "DEFAULT_PRESET",
    "MAX_FILE_CHARS",
    "MAX_PATH_CHARS",
    "NUMERIC_TOKENS",
    "TOKENS",
    "Field",
    "NameValues",
    "NamingPreset",
    "Template",
    "clean_value",
    "fold_diacritics",
    "load_presets",
    "name_key",
    "parse_preset",
    "parse_template",
    "render",
    "unknown_preset",
]
