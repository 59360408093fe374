"""Entry file names: template language, presets, Windows-safe rendering."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from station.core import messages
from station.core.errors import NamingError
from station.core.naming import (
    MAX_FILE_CHARS,
    MAX_PATH_CHARS,
    NameValues,
    NamingPreset,
    fold_diacritics,
    load_presets,
    name_key,
    parse_preset,
    parse_template,
    render,
    unknown_preset,
)

BASE = NameValues(code="KS", year=2007, book=1, entry="30")
PROVINCE = replace(
    BASE, date="2008-05-21", province="Phu_Yen", district="Tay_Hoa", commune="Dong_Hoa"
)


@pytest.fixture(scope="module")
def presets() -> dict[str, NamingPreset]:
    return load_presets()


def make(folder: str, file: str, name: str = "test") -> NamingPreset:
    label = {"vi": "Thử", "en": "Test"}
    data = {"folder": folder, "file": file, "label": label, "description": label}
    return parse_preset(name, data)


def both(exc: NamingError) -> str:
    """The message in both languages, checked so that neither lacks a value."""
    vi, en = exc.message("vi"), exc.message("en")
    # messages.render appends the values dict ("{'token': ...}") when a field is unfilled.
    assert "{'" not in vi and "{'" not in en and vi != en
    return vi + "\n" + en


# --- presets as shipped ------------------------------------------------------------------


def test_default_preset(presets: dict[str, NamingPreset]) -> None:
    assert render(presets["default"], BASE) == PurePosixPath("KS/2007.01/KS.2007.01.30.pdf")


def test_provincial_preset(presets: dict[str, NamingPreset]) -> None:
    path = render(presets["provincial"], PROVINCE)
    assert path == PurePosixPath("Phu_Yen/Tay_Hoa/Dong_Hoa/ks/2007.01/KS.2007.01.2008-05-21.30.pdf")


def test_presets_have_both_languages(presets: dict[str, NamingPreset]) -> None:
    for preset in presets.values():
        assert set(preset.label) == set(preset.description) == {"vi", "en"}
        assert preset.label_for("vi") != preset.label_for("en")


def test_date_object_and_entry_suffix(presets: dict[str, NamingPreset]) -> None:
    values = replace(PROVINCE, date=dt.date(2008, 5, 21), entry="12a")
    assert render(presets["provincial"], values).name == "KS.2007.01.2008-05-21.12a.pdf"


# --- template language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "entry", "expected"),
    [
        ("{code}.{year}.{book:03}.{entry:03}.pdf", "30", "KS.2007.001.030.pdf"),
        ("{code}.{year}.{book}.{entry:03}.pdf", "12a", "KS.2007.1.012a.pdf"),
        ("{code}.{year}.{book:02}.{entry:02}.pdf", "1234", "KS.2007.01.1234.pdf"),
        ("{code_lower}-{year}-{book:02}-{entry:04}.pdf", "7", "ks-2007-01-0007.pdf"),
        ("{code}.{year}.{book:02}.{entry:03}.pdf", "bis", "KS.2007.01.bis.pdf"),
    ],
)
def test_padding(file: str, entry: str, expected: str) -> None:
    assert render(make("", file), replace(BASE, entry=entry)) == PurePosixPath(expected)


def test_page_and_office_tokens() -> None:
    preset = make("{office}/{code}", "{year}.{book:02}.p{page:03}.{entry}.pdf")
    values = replace(BASE, page=7, office="26734")
    assert str(render(preset, values)) == "26734/KS/2007.01.p007.30.pdf"


@pytest.mark.parametrize(
    "bad",
    ["{entri}", "{code.__class__}", "{entry[0]}", "{0}", "{}", "{ code }", "{CODE}"],
)
def test_unknown_token_names_it(bad: str) -> None:
    with pytest.raises(NamingError) as caught:
        parse_template(f"{bad}.pdf", "file", "x.toml: file")
    text = both(caught.value)
    assert caught.value.key == "naming.template_token"
    assert bad in text and "x.toml: file" in text and "{entry}" in text


@pytest.mark.parametrize("bad", ["{book:2}", "{book:02d}", "{book:>3}", "{code:02}", "{book:00}"])
def test_bad_format_spec(bad: str) -> None:
    with pytest.raises(NamingError) as caught:
        parse_template(f"{bad}.pdf", "file")
    assert caught.value.key == "naming.template_spec"
    assert bad.split(":")[0] + "}" in both(caught.value)


@pytest.mark.parametrize("sep", ["/", "\\"])
def test_separator_in_file_template(sep: str) -> None:
    with pytest.raises(NamingError) as caught:
        parse_template(f"{{code}}{sep}{{entry}}.pdf", "file", "mine.toml: file")
    assert caught.value.key == "naming.template_separator"
    text = both(caught.value)
    assert f"'{sep}'" in text and "mine.toml" in text and "folder template" in text


@pytest.mark.parametrize(
    ("template", "key"),
    [
        ("{code", "naming.template_syntax"),
        ("code}", "naming.template_syntax"),
        ("{code} {year}", "naming.template_char"),
        ("{code}:{year}", "naming.template_char"),
        ("{code}\\{year}", "naming.template_separator"),
        ("{code}//{year}", "naming.template_segment"),
        ("/{code}", "naming.template_segment"),
        ("{code}/", "naming.template_segment"),
        ("../{code}", "naming.template_segment"),
        ("{code}/.hidden", "naming.template_segment"),
        ("nul/{code}", "naming.template_name"),
        ("{code}/ks.", "naming.template_name"),
    ],
)
def test_bad_folder_templates(template: str, key: str) -> None:
    with pytest.raises(NamingError) as caught:
        parse_template(template, "folder", "f.toml: folder")
    assert caught.value.key == key
    assert template in both(caught.value)


@pytest.mark.parametrize(
    ("folder", "file", "missing"),
    [
        ("{code}/{year}.{book}", "{code}.pdf", "{entry}"),
        ("{entry}", "{code}.{year}.{book}.pdf", "{entry}"),
        ("", "{code}.{book}.{entry}.pdf", "{year}"),
        ("", "{code}.{year}.{entry}.pdf", "{book}"),
        ("", "{office}.{year}.{book}.{entry}.pdf", "{code}"),
    ],
)
def test_preset_must_name_entries_apart(folder: str, file: str, missing: str) -> None:
    with pytest.raises(NamingError) as caught:
        make(folder, file)
    assert caught.value.key == "naming.template_required"
    assert missing in both(caught.value)


def test_file_template_must_be_pdf() -> None:
    with pytest.raises(NamingError) as caught:
        make("", "{code}.{year}.{book}.{entry}.tif")
    assert caught.value.key == "naming.template_pdf"


# --- values: folding, spaces, forbidden characters -------------------------------------


def test_fold_diacritics() -> None:
    assert fold_diacritics("Xã Đông Hòa") == "Xa Dong Hoa"
    assert fold_diacritics("Ðức đường Ưởng Ỹ") == "Duc duong Uong Y"


def test_values_folded_and_spaces_become_underscores(presets: dict[str, NamingPreset]) -> None:
    values = replace(
        PROVINCE, province="Tỉnh Phú Yên", district=" Huyện  Tây Hòa ", commune="Xã Đông Hòa"
    )
    path = render(presets["provincial"], values)
    assert path.parts[:3] == ("Tinh_Phu_Yen", "Huyen_Tay_Hoa", "Xa_Dong_Hoa")
    # Decomposed input (as some keyboards send it) folds the same way.
    nfd = replace(values, commune="Xa\u0303 \u0110o\u0302ng Ho\u0300a")
    assert render(presets["provincial"], nfd).parts[2] == "Xa_Dong_Hoa"


@pytest.mark.parametrize("char", [*'<>:"|?*', "\x00", "\t", "\n", "\x1f", "\x7f"])
def test_forbidden_characters_refused(char: str, presets: dict[str, NamingPreset]) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], replace(PROVINCE, commune=f"Dong{char}Hoa"))
    assert caught.value.key == "naming.value_char"
    assert "{commune}" in both(caught.value)


@pytest.mark.parametrize("value", ["€uro", "東京", "a\u200bb", "Straße"])
def test_non_ascii_after_folding_refused(value: str, presets: dict[str, NamingPreset]) -> None:
    with pytest.raises(NamingError):
        render(presets["provincial"], replace(PROVINCE, district=value))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("province", "../x"),
        ("province", "a/b"),
        ("commune", "..\\..\\Windows"),
        ("district", "/etc"),
        ("entry", "12/2008"),
        ("code", "KS/.."),
    ],
)
def test_separators_in_values_refused(
    field: str, value: str, presets: dict[str, NamingPreset]
) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], replace(PROVINCE, **{field: value}))
    assert caught.value.key == "naming.value_separator"
    assert "{" + field + "}" in both(caught.value)


@pytest.mark.parametrize("value", ["..", ".", ".hidden", "Dong.", "Hoa. "])
def test_dot_names_refused(value: str, presets: dict[str, NamingPreset]) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], replace(PROVINCE, commune=value))
    assert caught.value.key == "naming.bad_edge"


RESERVED = ["CON", "PRN", "AUX", "NUL", "COM1", "COM9", "LPT1", "LPT9", "CONIN$"]


@pytest.mark.parametrize("name", [*RESERVED, "con", "Nul", "lpt3", "cOm4"])
def test_reserved_folder_names_refused(name: str, presets: dict[str, NamingPreset]) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], replace(PROVINCE, district=name))
    assert caught.value.key == "naming.reserved"


@pytest.mark.parametrize("code", ["CON", "aux", "Com1", "LPT2"])
def test_reserved_name_with_extension_refused(code: str, presets: dict[str, NamingPreset]) -> None:
    # "CON.2007.01.30.pdf" is still the console device on Windows.
    with pytest.raises(NamingError) as caught:
        render(presets["default"], replace(BASE, code=code))
    assert caught.value.key == "naming.reserved"


def test_names_merely_starting_like_devices_are_fine(presets: dict[str, NamingPreset]) -> None:
    for district in ("CONG", "Nulla", "COM10", "AUXI", "LPT"):
        render(presets["provincial"], replace(PROVINCE, district=district))


# --- missing values, bad numbers and dates -----------------------------------------------


@pytest.mark.parametrize("date", [None, "", "  "])
def test_missing_date_names_token_and_default(
    date: str | None, presets: dict[str, NamingPreset]
) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], replace(PROVINCE, date=date))
    assert caught.value.key == "naming.missing_value"
    text = both(caught.value)
    assert "{date}" in text and "'default'" in text and "'provincial'" in text


def test_missing_page() -> None:
    preset = make("", "{code}.{year}.{book}.{entry}.p{page}.pdf")
    with pytest.raises(NamingError, match=r"\{page\}"):
        render(preset, BASE)


@pytest.mark.parametrize("date", ["2008-5-21", "21/05/2008", "2008-02-30", "20080521"])
def test_bad_date(date: str, presets: dict[str, NamingPreset]) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], replace(PROVINCE, date=date))
    assert caught.value.key == "naming.value_date"


def test_negative_number_refused(presets: dict[str, NamingPreset]) -> None:
    with pytest.raises(NamingError) as caught:
        render(presets["default"], replace(BASE, book=-1))
    assert caught.value.key == "naming.value_number"


# --- length bound ------------------------------------------------------------------------


def test_length_bounds(presets: dict[str, NamingPreset]) -> None:
    long_entry = "1" + "a" * (MAX_FILE_CHARS - len("KS.2007.01..pdf") - 1)
    fits = render(presets["default"], replace(BASE, entry=long_entry))
    assert len(fits.name) == MAX_FILE_CHARS
    with pytest.raises(NamingError) as caught:
        render(presets["default"], replace(BASE, entry=long_entry + "a"))
    assert caught.value.key == "naming.too_long"
    place = "x" * 60
    deep = replace(PROVINCE, province=place, district=place, commune=place)
    with pytest.raises(NamingError) as caught:
        render(presets["provincial"], deep)
    assert str(MAX_PATH_CHARS) in both(caught.value)


# --- comparison key ------------------------------------------------------------------


def test_name_key_is_case_insensitive() -> None:
    a = PurePosixPath("KS/2007.01/KS.2007.01.12A.pdf")
    assert name_key(a) == name_key("ks/2007.01/ks.2007.01.12a.pdf")
    assert name_key(a) == name_key("KS\\2007.01\\KS.2007.01.12a.pdf")
    assert name_key(a) != name_key("KS/2007.01/KS.2007.01.12b.pdf")


def test_padding_keeps_distinct_entries_distinct(presets: dict[str, NamingPreset]) -> None:
    names = {name_key(render(presets["default"], replace(BASE, entry=e))) for e in ("1", "01")}
    assert len(names) == 2  # the store, not naming, decides what "1" vs "01" means


# --- presets from a technician's folder ---------------------------------------------------

GOOD = """
folder = "{office}/{code}/{year}.{book:02}"
file = "{code}.{year}.{book:02}.{entry:03}.pdf"
[label]
vi = "Huyện A"
en = "District A"
[description]
vi = "Mô tả"
en = "Description"
"""


def test_extra_folder_preset_loads(tmp_path: Path) -> None:
    (tmp_path / "district-a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a preset", encoding="utf-8")
    presets = load_presets(tmp_path)
    assert {"default", "provincial", "district-a"} <= set(presets)
    path = render(presets["district-a"], replace(BASE, office="26734"))
    assert str(path) == "26734/KS/2007.01/KS.2007.01.030.pdf"
    assert presets["district-a"].label_for("en") == "District A"


def test_missing_extra_folder_gives_builtins(tmp_path: Path) -> None:
    assert set(load_presets(tmp_path / "absent")) == {"default", "provincial"}


@pytest.mark.parametrize(
    ("text", "key", "mentions"),
    [
        ("folder = ", "naming.preset_syntax", "broken.toml"),
        (GOOD.replace('file = "', 'fil = "'), "naming.preset_unknown_key", "'fil'"),
        (GOOD.replace("folder =", "# folder ="), "naming.preset_missing_key", "'folder'"),
        (GOOD.replace('en = "District A"', ""), "naming.preset_missing_key", "'label.en'"),
        (GOOD.replace('en = "District A"', "en = 3"), "naming.preset_type", "'label.en'"),
        (GOOD.replace('"{office}/{code}/{year}.{book:02}"', "1"), "naming.preset_type", "folder"),
        (GOOD.replace("{entry:03}", "{entry:3}"), "naming.template_spec", "broken.toml: file"),
        (GOOD.replace("{office}", "{ofice}"), "naming.template_token", "broken.toml: folder"),
    ],
)
def test_broken_preset_file_names_file_and_key(
    tmp_path: Path, text: str, key: str, mentions: str
) -> None:
    (tmp_path / "broken.toml").write_text(text, encoding="utf-8")
    with pytest.raises(NamingError) as caught:
        load_presets(tmp_path)
    assert caught.value.key == key
    message = both(caught.value)
    assert "broken.toml" in message and mentions in message


def test_extra_preset_may_not_replace_builtin(tmp_path: Path) -> None:
    (tmp_path / "default.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(NamingError) as caught:
        load_presets(tmp_path)
    assert caught.value.key == "naming.preset_duplicate"


def test_bad_preset_file_name(tmp_path: Path) -> None:
    (tmp_path / "Huyện A.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(NamingError) as caught:
        load_presets(tmp_path)
    assert caught.value.key == "naming.preset_name"


def test_every_naming_message_has_both_languages() -> None:
    for key in ("naming.missing_value", "naming.value_char", "naming.too_long"):
        assert messages.known(key)


def test_unknown_preset_lists_available(presets: dict[str, NamingPreset]) -> None:
    error = unknown_preset("tinh", presets)
    assert "'tinh'" in both(error) and "default, provincial" in both(error)
