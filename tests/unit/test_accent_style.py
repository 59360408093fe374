"""One way of placing Vietnamese tone marks everywhere the screens show words.

Vietnamese has two styles for the syllables oa, oe and uy without a final consonant:
the old one puts the mark on the second vowel (hoá, khoẻ, thuỷ), the new one on the
first (hóa, khỏe, thủy), as government forms and the on-screen keyboard's Telex do
today. With a final consonant both styles agree (hoàng, toán, khuyến), and after q the
u belongs to the consonant (quý, quỳ), so neither counts here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TONED = {"a": "áàảãạ", "e": "éèẻẽẹ", "y": "ýỳỷỹỵ"}
PAIRS = {"o": "ae", "u": "y"}
LETTER = r"[A-Za-zÀ-ỹĐđ]"
#: The old placement: o+toned a/e or u+toned y, not after q, no letter after it.
OLD_STYLE = re.compile(
    r"(?<![qQ])(?:"
    + "|".join(
        f"[{first}{first.upper()}][{TONED[second]}{TONED[second].upper()}]"
        for first, seconds in PAIRS.items()
        for second in seconds
    )
    + r")(?!"
    + LETTER
    + ")"
)
#: Where Vietnamese words for the screens live.
SOURCES = (
    "station/locale/vi/LC_MESSAGES/messages.po",
    "station/ui/templates/*.html",
    "station/ui/static/*.js",
    "docs/operator-guide.vi.md",
    "config/station.example.toml",
)


def test_the_rule_tells_the_old_style_from_the_new() -> None:
    old = ["hoá", "Hoà", "xoá,", "khoẻ", "thuỷ", "Thuỵ", "huỷ."]
    new = ["hóa", "Hòa", "xóa,", "khỏe", "thủy", "Thụy", "hủy.", "quý", "quỳ", "toán", "hoàng"]
    assert all(OLD_STYLE.search(word) for word in old)
    assert not [word for word in new if OLD_STYLE.search(word)]


def test_the_screens_words_use_the_new_style_only() -> None:
    found = []
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in OLD_STYLE.finditer(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r}")
    assert not found, found
