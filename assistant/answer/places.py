"""Places a question names, with or without diacritics and with or without ``tỉnh/huyện/thị
xã/xã/phường``: ``Quang Ngai``, ``TP.HCM``, ``thi xa ben van``.

Two sources of names: Vietnam's provinces and centrally-run cities (so that a question about a
province no stored notice concerns is still read as a place, and refused by name), and the places
of the stored notices themselves (their issuers and titles: ``UBND THỊ XÃ BẾN VÂN``, ``… LÀM VIỆC
VỚI LÃNH ĐẠO TỈNH PHÚ THỌ``). A name is matched on accent-free words, longest first; a name of
one syllable only right after a place word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.agency_forms import words
from assistant.text import collapse_spaces, fold, nfc

PROVINCES = (
    "An Giang", "Bà Rịa - Vũng Tàu", "Bắc Giang", "Bắc Kạn", "Bạc Liêu", "Bắc Ninh", "Bến Tre",
    "Bình Định", "Bình Dương", "Bình Phước", "Bình Thuận", "Cà Mau", "Cần Thơ", "Cao Bằng",
    "Đà Nẵng", "Đắk Lắk", "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang",
    "Hà Nam", "Hà Nội", "Hà Tĩnh", "Hải Dương", "Hải Phòng", "Hậu Giang", "Hòa Bình", "Hưng Yên",
    "Khánh Hòa", "Kiên Giang", "Kon Tum", "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An",
    "Nam Định", "Nghệ An", "Ninh Bình", "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình",
    "Quảng Nam", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh",
    "Thái Bình", "Thái Nguyên", "Thanh Hóa", "Thừa Thiên Huế", "Huế", "Tiền Giang",
    "Hồ Chí Minh", "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)
# Short forms clerks type for a place: key (accent-free words) -> the place's name.
ALIASES = {
    "tp hcm": "Hồ Chí Minh", "tphcm": "Hồ Chí Minh", "hcm": "Hồ Chí Minh", "sai gon": "Hồ Chí Minh",
    "tp ho chi minh": "Hồ Chí Minh", "dak lak": "Đắk Lắk", "daklak": "Đắk Lắk", "hn": "Hà Nội",
}
PLACE_WORDS = ("tinh", "thanh pho", "tp", "thi xa", "huyen", "xa", "phuong", "thi tran", "quan")
# A place written after one of these words in a notice's issuer or title.
_NAMED_PLACE = re.compile(
    r"(?:tỉnh|thành phố|thị xã|huyện|xã|phường|thị trấn|quận)\s+"
    r"((?:[A-ZĐÀÁẢÃẠÂẦẤẨẪẬĂẰẮẲẴẶÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ]"
    r"[\wÀ-ỹ]*[ \t]*){1,3})",
    re.IGNORECASE,
)
# Words that end a place name in a header ('TỈNH LÀO CAI VĂN PHÒNG'), compared with diacritics
# ('Vân' is a name, 'văn' is not).
_NOT_PLACE = frozenset(
    fold(w) for w in ["ủy", "uỷ", "ban", "nhân", "dân", "hội", "đồng", "văn", "phòng", "sở", "kết", "luận", "chủ",
                      "tịch", "lãnh", "đạo", "về", "tại", "và", "số", "thông", "báo"]
)


@dataclass(frozen=True)
class PlaceMatch:
    name: str  # as the notices (or the province list) write it: 'Bến Vân'
    start: int  # span in the question, the place word included when written
    end: int


def place_key(name: str) -> str:
    return " ".join(w.key for w in words(name))


def places_in_titles(texts: Iterable[str | None]) -> list[str]:
    """The places named after a place word in issuers and titles, as written there (title case
    when written in capitals)."""
    found: dict[str, str] = {}
    for text in texts:
        if not text:
            continue
        for match in _NAMED_PLACE.finditer(collapse_spaces(nfc(text))):
            kept = []
            for word in match.group(1).split():
                if fold(word) in _NOT_PLACE or not word[:1].isupper():
                    break
                kept.append(word.strip(".,;:"))
            if kept:
                name = " ".join(kept)
                name = name.title() if name.isupper() else name
                found.setdefault(place_key(name), name)
    return list(found.values())


def find_place(question: str, known: Sequence[str]) -> PlaceMatch | None:
    """The place ``question`` names among ``known`` and the provinces (longest name first)."""
    qwords = words(collapse_spaces(nfc(question)))
    keys = [w.key for w in qwords]
    by_first = _index(tuple(known))
    best: PlaceMatch | None = None
    best_len = 0
    for i, first in enumerate(keys):
        for parts, name, alias in by_first.get(first, ()):
            n = len(parts)
            if n <= best_len or tuple(keys[i : i + n]) != parts:
                continue
            before = _place_word_before(keys, i)
            if n == 1 and before == 0 and not alias:
                continue
            start = qwords[i - before].start if before else qwords[i].start
            best, best_len = PlaceMatch(name, start, qwords[i + n - 1].end), n
    return best


@lru_cache(maxsize=8)
def _index(known: tuple[str, ...]) -> dict[str, list[tuple[tuple[str, ...], str, bool]]]:
    """Names by their first accent-free word: (words, name, is an alias); kept per list of
    stored places (a question reads it once, not every name)."""
    names: dict[str, tuple[str, bool]] = {}
    for name in (*known, *PROVINCES):
        names.setdefault(place_key(name), (name, False))
    for short, name in ALIASES.items():
        names.setdefault(short, (name, True))
    out: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
    for key, (name, alias) in names.items():
        parts = tuple(key.split())
        if parts:
            out.setdefault(parts[0], []).append((parts, name, alias))
    return out


def _place_word_before(keys: list[str], i: int) -> int:
    """How many words before position ``i`` make a place word ('thi xa' → 2), 0 if none."""
    for word in sorted(PLACE_WORDS, key=lambda w: -len(w.split())):
        parts = word.split()
        if i >= len(parts) and keys[i - len(parts) : i] == parts:
            return len(parts)
    return 0
