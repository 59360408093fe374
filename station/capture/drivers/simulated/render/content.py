"""What the simulated ledgers say: Vietnamese titles, field labels and filled values.

Pure data and value generators driven by a numpy ``Generator``, so a seed gives the
same names, places and dates every time. Layout (where things go) lives in
:mod:`station.capture.drivers.simulated.render.form`; this module only decides the words.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: Ledger type code -> printed title at the top of every page.
TITLES = {
    "KS": "SỔ ĐĂNG KÝ KHAI SINH",
    "KH": "SỔ ĐĂNG KÝ KẾT HÔN",
    "KT": "SỔ ĐĂNG KÝ KHAI TỬ",
}

LABELS = {
    "ho_ten": "Họ, chữ đệm, tên:",
    "ngay_sinh": "Ngày, tháng, năm sinh:",
    "gioi_tinh": "Giới tính:",
    "dan_toc": "Dân tộc:",
    "quoc_tich": "Quốc tịch:",
    "noi_sinh": "Nơi sinh:",
    "que_quan": "Quê quán:",
    "me_ho_ten": "Họ, chữ đệm, tên người mẹ:",
    "me_nam_sinh": "Năm sinh:",
    "me_dan_toc": "Dân tộc:",
    "me_cu_tru": "Nơi cư trú:",
    "cha_ho_ten": "Họ, chữ đệm, tên người cha:",
    "cha_nam_sinh": "Năm sinh:",
    "cha_dan_toc": "Dân tộc:",
    "cha_cu_tru": "Nơi cư trú:",
    "nguoi_khai": "Người đi khai:",
    "quan_he": "Quan hệ với người được khai sinh:",
    "chong_ho_ten": "Họ, chữ đệm, tên người chồng:",
    "chong_ngay_sinh": "Ngày, tháng, năm sinh:",
    "chong_dan_toc": "Dân tộc:",
    "chong_cu_tru": "Nơi cư trú:",
    "vo_ho_ten": "Họ, chữ đệm, tên người vợ:",
    "vo_ngay_sinh": "Ngày, tháng, năm sinh:",
    "vo_dan_toc": "Dân tộc:",
    "vo_cu_tru": "Nơi cư trú:",
    "ngay_chet": "Ngày, tháng, năm chết:",
    "noi_chet": "Nơi chết:",
    "nguyen_nhan": "Nguyên nhân chết:",
    "cu_tru_cuoi": "Nơi cư trú cuối cùng:",
    "ngay_dang_ky": "Ngày đăng ký:",
    "cong_chuc": "Công chức tư pháp - hộ tịch:",
    "nguoi_ky": "Người ký:",
    "chuc_vu": "Chức vụ:",
    "ghi_chu": "Ghi chú:",
}

#: Rows of fields on a page that holds one entry (2007/2017 books); a row may hold
#: several short fields side by side.
FULL_ROWS: dict[str, tuple[tuple[str, ...], ...]] = {
    "KS": (
        ("ho_ten",),
        ("ngay_sinh", "gioi_tinh"),
        ("dan_toc", "quoc_tich"),
        ("noi_sinh",),
        ("que_quan",),
        ("me_ho_ten", "me_nam_sinh", "me_dan_toc"),
        ("me_cu_tru",),
        ("cha_ho_ten", "cha_nam_sinh", "cha_dan_toc"),
        ("cha_cu_tru",),
        ("nguoi_khai",),
        ("quan_he",),
        ("ghi_chu",),
    ),
    "KH": (
        ("chong_ho_ten",),
        ("chong_ngay_sinh", "chong_dan_toc"),
        ("chong_cu_tru",),
        ("vo_ho_ten",),
        ("vo_ngay_sinh", "vo_dan_toc"),
        ("vo_cu_tru",),
        ("ghi_chu",),
    ),
    "KT": (
        ("ho_ten",),
        ("ngay_sinh", "gioi_tinh"),
        ("dan_toc", "quoc_tich"),
        ("cu_tru_cuoi",),
        ("ngay_chet",),
        ("noi_chet",),
        ("nguyen_nhan",),
        ("nguoi_khai",),
        ("ghi_chu",),
    ),
}

#: Rows of an entry in an older book that stacks several entries on one page.
COMPACT_ROWS: dict[str, tuple[tuple[str, ...], ...]] = {
    "KS": (
        ("ho_ten", "gioi_tinh"),
        ("ngay_sinh", "dan_toc"),
        ("noi_sinh",),
        ("me_ho_ten", "me_nam_sinh"),
        ("cha_ho_ten", "cha_nam_sinh"),
        ("me_cu_tru",),
        ("nguoi_khai",),
    ),
    "KH": (
        ("chong_ho_ten",),
        ("chong_ngay_sinh", "chong_dan_toc"),
        ("chong_cu_tru",),
        ("vo_ho_ten",),
        ("vo_ngay_sinh", "vo_dan_toc"),
        ("vo_cu_tru",),
    ),
    "KT": (
        ("ho_ten", "gioi_tinh"),
        ("ngay_sinh", "dan_toc"),
        ("cu_tru_cuoi",),
        ("ngay_chet",),
        ("noi_chet",),
        ("nguoi_khai",),
    ),
}

#: Relative width of a field sharing a row (short answers need little room).
SHORT_FIELDS = {
    "gioi_tinh": 1.0, "dan_toc": 1.1, "quoc_tich": 1.4, "me_nam_sinh": 1.0, "cha_nam_sinh": 1.0,
    "me_dan_toc": 1.0, "cha_dan_toc": 1.0, "chong_dan_toc": 1.0, "vo_dan_toc": 1.0,
    "ngay_sinh": 2.0, "chong_ngay_sinh": 2.0, "vo_ngay_sinh": 2.0, "ngay_chet": 2.0,
}  # fmt: skip
LONG_FIELD = 2.6

#: Fields of the signature block at the bottom of every entry.
SIGN_LEFT = ("ngay_dang_ky", "cong_chuc")
SIGN_RIGHT = ("nguoi_ky", "chuc_vu")

SURNAMES = (
    ("Nguyễn", 30),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 4),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 1),
    ("Lý", 1),
)
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Ngọc", "Xuân", "Đình")
MIDDLE_F = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Diệu")
GIVEN_M = (
    "Hùng", "Dũng", "Tuấn", "Minh", "Đức", "Nam", "Long", "Hải", "Phúc", "Khoa",
    "Quang", "Thắng", "Trung", "Hiếu", "Việt", "Sơn", "Bảo", "Khánh", "Lộc", "Toàn",
)  # fmt: skip
GIVEN_F = (
    "Hương", "Thảo", "Lan", "Hoa", "Mai", "Linh", "Trang", "Ngọc", "Hà", "Yến",
    "Nhung", "Hằng", "Thủy", "Phương", "Loan", "Oanh", "Huyền", "Ánh", "Nguyệt", "Vân",
)  # fmt: skip
COMMUNES = ("An Bình", "Tân Phú", "Hòa Lợi", "Phước Long", "Mỹ Thạnh", "Đông Hưng", "Nghĩa Trung")
DISTRICTS = ("Châu Thành", "Cai Lậy", "Thạch Hà", "Hải Hậu", "Đức Phổ", "Tiên Du", "Phù Cát")
PROVINCES = ("Tiền Giang", "Hà Tĩnh", "Nam Định", "Quảng Ngãi", "Bắc Ninh", "Bình Định", "Long An")
HAMLETS = ("thôn Đông", "thôn Trung", "xóm 3", "xóm 5", "ấp 2", "ấp Mỹ Lợi", "thôn Phú Xuân")
ETHNIC = (("Kinh", 40), ("Tày", 1), ("Thái", 1), ("Mường", 1), ("Khmer", 1), ("Hoa", 1))
CAUSES = ("Già yếu", "Bệnh", "Tai nạn giao thông", "Đột quỵ", "Bệnh tim")
RELATIONS = ("Cha", "Mẹ", "Ông nội", "Bà nội", "Ông ngoại", "Bà ngoại")
TITLES_SIGNER = ("Chủ tịch", "Phó Chủ tịch")


@dataclass(frozen=True)
class Office:
    """The commune that keeps the book: the same for every page of one seed."""

    commune: str
    district: str
    province: str
    signer: str
    signer_title: str
    clerk: str

    @property
    def address(self) -> str:
        return f"xã {self.commune}, huyện {self.district}, tỉnh {self.province}"


def nfc(text: str) -> str:
    """Precomposed form, so every Vietnamese letter is one glyph of the font."""
    return unicodedata.normalize("NFC", text)


def pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    """One item, uniformly."""
    return items[int(rng.integers(len(items)))]


def pick_weighted(rng: np.random.Generator, items: tuple[tuple[str, int], ...]) -> str:
    """One item by weight (family names and ethnic groups are far from uniform)."""
    weights = np.array([w for _, w in items], dtype=float)
    return items[int(rng.choice(len(items), p=weights / weights.sum()))][0]


def person_name(rng: np.random.Generator, male: bool, surname: str | None = None) -> str:
    """A full name: family name, middle name, given name."""
    family = surname or pick_weighted(rng, SURNAMES)
    middle = pick(rng, MIDDLE_M if male else MIDDLE_F)
    given = pick(rng, GIVEN_M if male else GIVEN_F)
    return f"{family} {middle} {given}"


def make_office(seed: int) -> Office:
    """The commune, district, province and officials of the book with this seed."""
    rng = np.random.default_rng([seed, 0xB00C])
    return Office(
        commune=pick(rng, COMMUNES),
        district=pick(rng, DISTRICTS),
        province=pick(rng, PROVINCES),
        signer=person_name(rng, male=bool(rng.random() < 0.7)),
        signer_title=pick(rng, TITLES_SIGNER),
        clerk=person_name(rng, male=bool(rng.random() < 0.4)),
    )


def fmt_date(day: dt.date) -> str:
    """A date as clerks write it: 07/03/2017."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def registration_date(year: int, number: int, rng: np.random.Generator) -> dt.date:
    """Dates grow with the entry number, about a hundred entries a year."""
    day = min(364, (number * 3) % 365 + int(rng.integers(0, 3)))
    return dt.date(year, 1, 1) + dt.timedelta(days=day)


def residence(rng: np.random.Generator, office: Office) -> str:
    """A hamlet of the commune, now and then somewhere else."""
    if rng.random() < 0.8:
        return f"{pick(rng, HAMLETS)}, {office.address}"
    return f"xã {pick(rng, COMMUNES)}, huyện {pick(rng, DISTRICTS)}, tỉnh {pick(rng, PROVINCES)}"


def birth_values(rng: np.random.Generator, office: Office, reg: dt.date) -> dict[str, str]:
    """The filled fields of a birth registration."""
    male = bool(rng.random() < 0.52)
    father_family = pick_weighted(rng, SURNAMES)
    born = reg - dt.timedelta(days=int(rng.integers(3, 60)))
    place = pick(rng, ("Trạm y tế xã", "Bệnh viện đa khoa huyện", "Nhà hộ sinh xã"))
    where = office.commune if place.endswith("xã") else office.district
    mother_year, home = reg.year - int(rng.integers(19, 40)), residence(rng, office)
    return {
        "ho_ten": person_name(rng, male, father_family),
        "ngay_sinh": fmt_date(born),
        "gioi_tinh": "Nam" if male else "Nữ",
        "dan_toc": "Kinh",
        "quoc_tich": "Việt Nam",
        "noi_sinh": f"{place} {where}, tỉnh {office.province}",
        "que_quan": f"xã {office.commune}, huyện {office.district}",
        "me_ho_ten": person_name(rng, male=False),
        "me_nam_sinh": str(mother_year),
        "me_dan_toc": pick_weighted(rng, ETHNIC),
        "me_cu_tru": home,
        "cha_ho_ten": person_name(rng, male=True, surname=father_family),
        "cha_nam_sinh": str(mother_year - int(rng.integers(0, 8))),
        "cha_dan_toc": "Kinh",
        "cha_cu_tru": home,
        "nguoi_khai": "",
        "quan_he": pick(rng, RELATIONS),
        "ghi_chu": "",
    }


def marriage_values(rng: np.random.Generator, office: Office, reg: dt.date) -> dict[str, str]:
    """The filled fields of a marriage registration."""

    def born(low: int, high: int) -> str:
        return fmt_date(reg - dt.timedelta(days=int(rng.integers(low * 365, high * 365))))

    return {
        "chong_ho_ten": person_name(rng, male=True),
        "chong_ngay_sinh": born(20, 35),
        "chong_dan_toc": pick_weighted(rng, ETHNIC),
        "chong_cu_tru": residence(rng, office),
        "vo_ho_ten": person_name(rng, male=False),
        "vo_ngay_sinh": born(18, 32),
        "vo_dan_toc": pick_weighted(rng, ETHNIC),
        "vo_cu_tru": residence(rng, office),
        "ghi_chu": "",
    }


def death_values(rng: np.random.Generator, office: Office, reg: dt.date) -> dict[str, str]:
    """The filled fields of a death registration."""
    male = bool(rng.random() < 0.5)
    died = reg - dt.timedelta(days=int(rng.integers(1, 15)))
    home = residence(rng, office)
    return {
        "ho_ten": person_name(rng, male),
        "ngay_sinh": fmt_date(died - dt.timedelta(days=int(rng.integers(40 * 365, 95 * 365)))),
        "gioi_tinh": "Nam" if male else "Nữ",
        "dan_toc": pick_weighted(rng, ETHNIC),
        "quoc_tich": "Việt Nam",
        "cu_tru_cuoi": home,
        "ngay_chet": fmt_date(died),
        "noi_chet": "Tại nhà, " + home if rng.random() < 0.7 else "Bệnh viện đa khoa huyện",
        "nguyen_nhan": pick(rng, CAUSES),
        "nguoi_khai": person_name(rng, male=bool(rng.random() < 0.5)),
        "ghi_chu": "",
    }


def entry_values(
    ledger: str, rng: np.random.Generator, office: Office, year: int, number: int
) -> dict[str, str]:
    """Every handwritten value of one entry, keyed like :data:`LABELS`, in NFC."""
    reg = registration_date(year, number, rng)
    makers = {"KS": birth_values, "KH": marriage_values, "KT": death_values}
    values = makers[ledger](rng, office, reg)
    if ledger == "KS":
        values["nguoi_khai"] = (
            values["me_ho_ten"] if values["quan_he"] == "Mẹ" else person_name(rng, male=True)
        )
    values.update(
        ngay_dang_ky=fmt_date(reg),
        cong_chuc=office.clerk,
        nguoi_ky=office.signer,
        chuc_vu=office.signer_title,
    )
    if rng.random() < 0.08:
        values["ghi_chu"] = "Đã cấp bản sao"
    return {key: nfc(value) for key, value in values.items()}
