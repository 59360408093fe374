"""The message catalogs (station/locale): complete, matching, and used the way code uses them.

Keys are found the way ``pybabel extract`` finds them (babel.cfg and the keywords in
setup.cfg), so a key that the code or a template uses but no catalog holds fails here,
and so does a key in one language only or with other ``str.format`` fields.
"""

from __future__ import annotations

import configparser
import logging
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

from station.core import messages
from station.core.models import QUALITY_FLAGS
from station.ui.texts import LEDGER_TYPES

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "station" / "locale"


def catalog(lang: str) -> dict[str, str]:
    """The source catalog of one language as msgid to text, read from its .po file."""
    with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def fields(template: str) -> set[tuple[str, str, str | None]]:
    """The ``str.format`` fields of a template: name, format spec and conversion.

    A field named for its language (``detail_vi`` in Vietnamese, ``detail_en`` in
    English: naming.py passes both) counts as the one field ``detail``.
    """
    return {
        (re.sub(r"_(vi|en)$", "", name), spec or "", conversion)
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None
    }


def extracted_keys() -> dict[str, list[str]]:
    """Message ids used in code and templates, each with where it was found."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    keywords = parse_keywords(setup["extract_messages"]["keywords"].split())
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    for path, line, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        for key in message if isinstance(message, tuple) else (message,):
            if key:
                found.setdefault(key, []).append(f"{path}:{line}")
    return found


def problems(vi: dict[str, str], en: dict[str, str], used: dict[str, list[str]]) -> list[str]:
    """What is wrong between the two catalogs and the keys the code uses."""
    out = [f"{key}: only in vi" for key in sorted(vi.keys() - en.keys())]
    out += [f"{key}: only in en" for key in sorted(en.keys() - vi.keys())]
    for key in sorted(vi.keys() & en.keys()):
        if not vi[key] or not en[key]:
            out.append(f"{key}: empty text")
        elif fields(vi[key]) != fields(en[key]):
            out.append(f"{key}: fields differ, vi {fields(vi[key])} en {fields(en[key])}")
    for key, where in sorted(used.items()):
        if key.endswith(".html"):
            continue  # screens.render's template names share the keyword "render"
        if key.endswith((".", "_")):
            # A prefix that code completes at run time ("ui.flag_" + flag).
            if not any(k.startswith(key) for k in vi):
                out.append(f"{key}: no message starts so ({where[0]})")
        elif key not in vi or key not in en:
            out.append(f"{key}: used at {where[0]} but missing from a catalog")
    return out


def test_catalogs_hold_every_key_the_code_and_templates_use() -> None:
    used = extracted_keys()
    assert len(used) > 400  # the extraction itself works (errors, renders, templates)
    assert "capture.no_book" in used and "ui.title" in used and "config.invalid" in used
    assert problems(catalog("vi"), catalog("en"), used) == []


def test_the_check_reports_each_kind_of_mistake() -> None:
    vi = {"a.one": "Một {n}", "a.two": "Hai", "a.vi": "Chỉ"}
    en = {"a.one": "One {count}", "a.two": "Two", "a.en": "Only"}
    used = {"a.two": ["x.py:1"], "a.gone": ["x.py:2"], "b.": ["x.py:3"], "a.t": ["y.py:4"]}
    found = problems(vi, en, used)
    assert [p.split(":")[0] for p in found] == ["a.vi", "a.en", "a.one", "a.gone", "a.t", "b."]


def test_the_words_the_screens_build_from_names_exist() -> None:
    keys = messages.keys()
    assert {f"ui.flag_{flag}" for flag in QUALITY_FLAGS} <= keys
    assert {f"ledger_type.{code}" for code in LEDGER_TYPES} <= keys
    folder = ROOT / "station" / "ui"
    used = set()
    for source in folder.glob("*.py"):
        used |= set(re.findall(r'_send\([^,]+, "([a-z_]+)"', source.read_text(encoding="utf-8")))
    for script in folder.glob("static/*.js"):
        used |= set(re.findall(r'\bS?\.?t\("([a-z][a-z0-9_.]+)"', script.read_text()))
    assert used and not sorted(k for k in used if f"ui.{k}" not in keys)


def test_render_fills_fields_in_each_language() -> None:
    assert messages.render("store.unknown_book", "vi", book="KS/2007/01") == (
        "Không có sổ KS/2007/01 trong trạm."
    )
    assert messages.render("store.unknown_book", "en", book="X") == (
        "Unknown book X: the station has no such ledger book."
    )
    assert messages.render("store.unknown_book", "fr", book="X") == "Không có sổ X trong trạm."


def test_a_bad_key_or_missing_field_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="station.core.messages"):
        text = messages.render("no.such_key", "en", book="KS")
    assert text == "An error occurred: no.such_key (book=KS)"
    assert "no.such_key" in caplog.text
    assert messages.render("store.unknown_book", "en").startswith("Unknown book {book}")


def test_the_compiled_catalog_matches_the_source(tmp_path: Path) -> None:
    # What the build writes (setup.py) is what gettext reads at run time.
    from babel.messages.mofile import write_mo

    folder = tmp_path / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (LOCALE / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        source = read_po(handle)
    with (folder / "messages.mo").open("wb") as out:
        write_mo(out, source)
    import gettext

    compiled = gettext.translation("messages", str(tmp_path), languages=["vi"])
    assert compiled.gettext("capture.no_book") == catalog("vi")["capture.no_book"]


def test_the_installed_catalogs_need_no_babel() -> None:
    # The collector on an entry PC has the standard library only: gettext reads the .mo
    # files the build made (pip install, editable or wheel), Babel is never imported.
    script = (
        "import sys; sys.modules['babel'] = None\n"
        "from station.core import messages\n"
        "print(messages.render('collect.unreachable', 'en', station='S', detail='down'))\n"
        "print('babel' in sys.modules and sys.modules['babel'] is not None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == ["Cannot reach station S: down", "False"]
