"""How clerks write an agency's name: short forms derived by rule, and a place after the name.

Gazetteer-only (no store). Two things live here:

* **Derived abbreviations.** Every canonical name is a head word (``Sở``, ``Phòng``, ``Bộ``,
  ``Ban``, ``Trung tâm``, ``Văn phòng``, ``Cục``, ``Chi cục``…) followed by the body's own name.
  Clerks shorten the own name to the initials of its syllables (``Công Thương`` -> ``CT``,
  ``Nông nghiệp và Môi trường`` -> ``NN&MT``, ``Giáo dục và Đào tạo`` -> ``GD&ĐT``), keep the
  head (``Sở CT``, ``Bộ XD``) or shorten it too (``SCT``, ``BNV``), and write some heads short
  (``P.KT``, ``TT PVHCC``, ``BQL``). Forms are compared as accent-free compact letters, so
  ``NN&MT``, ``NNMT``, ``NN-MT`` and ``nn mt`` are one form. No form is listed by hand.
* **A place after the name.** ``phòng TC-KH thị xã Bến Vân``, ``Sở Tài chính tỉnh Quảng Ngãi``,
  ``so tai chinh quang ngai``, ``Trung tâm Phát triển quỹ đất tỉnh``: ``readings`` splits what
  was typed into the agency part and the place part, longest agency part first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from assistant.model import Level
from assistant.text import fold, nfc, search_view

if TYPE_CHECKING:
    from assistant.agencies import Agency, Gazetteer

# Head words of canonical names, longest first (accent-free keys). A name is split after each
# head it starts with: 'Ban Quản lý dự án …' gives both 'Ban' + 'QLDA…' and 'Ban Quản lý' + 'DA…'.
HEADS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            ("so",), ("phong",), ("bo",), ("ban",), ("cuc",), ("dai",), ("doi",), ("tram",),
            ("trung", "tam"), ("van", "phong"), ("chi", "cuc"), ("hoi", "dong"), ("uy", "ban"),
            ("ban", "quan", "ly"), ("ban", "chi", "huy"), ("bo", "chi", "huy"),
        },
        key=len,
        reverse=True,
    )
)
# Heads as clerks write them short: 'P.KT', 'TT PVHCC', 'BQL …', 'VP …', 'BCH …', 'UB …'.
SHORT_HEADS: dict[str, tuple[tuple[str, ...], ...]] = {
    "p": (("phong",),),
    "tt": (("trung", "tam"),),
    "vp": (("van", "phong"),),
    "bql": (("ban", "quan", "ly"),),
    "bch": (("ban", "chi", "huy"), ("bo", "chi", "huy")),
    "ub": (("uy", "ban"),),
    "cc": (("chi", "cuc"),),
}
# Place words that may follow a name, longest first, with the level of a body named with them.
# 'thành phố' is a district-level city in a province, or a centrally-run one: no level.
QUALIFIERS: tuple[tuple[tuple[str, ...], Level | None], ...] = (
    (("thanh", "pho"), None),
    (("thi", "xa"), Level.DISTRICT),
    (("thi", "tran"), Level.COMMUNE),
    (("dac", "khu"), Level.COMMUNE),
    (("tinh",), Level.PROVINCE),
    (("huyen",), Level.DISTRICT),
    (("quan",), Level.DISTRICT),
    (("tp",), None),
    (("xa",), Level.COMMUNE),
    (("phuong",), Level.COMMUNE),
)
_QUALIFIER_WORDS = frozenset(w for q, _ in QUALIFIERS for w in q)
_MAX_PLACE_WORDS = 4
_WORD = re.compile(r"\w+")
_DROP = frozenset({"va"})
_K = TypeVar("_K", tuple[tuple[str, ...], str], str)


@dataclass(frozen=True)
class Word:
    text: str  # as written (NFC)
    key: str  # accent-free, lowercase
    start: int
    end: int


def words(text: str) -> list[Word]:
    """The words of ``text`` (NFC) with their accent-free keys and offsets."""
    text = nfc(text)
    view = search_view(text)
    return [Word(text[m.start() : m.end()], m.group(), m.start(), m.end()) for m in _WORD.finditer(view)]


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def initials(own_name: Iterable[Word]) -> str:
    """The compact short form of a body's own name: the first letter of each syllable, an
    acronym kept whole ('HĐND và UBND' -> 'hdndubnd'), 'và' dropped; accent-free."""
    return "".join(w.key if _is_acronym(w.text) else w.key[0] for w in own_name if w.key not in _DROP)


def compact(typed: Iterable[Word]) -> str:
    """A typed short form as compact letters: 'NN&MT', 'NN-MT', 'nn mt' -> 'nnmt'."""
    return "".join(w.key for w in typed if w.key not in _DROP)


def _strip_trailing_qualifier(ws: list[Word]) -> list[Word]:
    for qual, _ in QUALIFIERS:
        n = len(qual)
        if len(ws) > n and tuple(w.key for w in ws[-n:]) == qual:
            return ws[:-n]
    return ws


@dataclass(frozen=True)
class DerivedForm:
    head: tuple[str, ...]  # head keys ('so',) or ('trung', 'tam')
    own: str  # compact initials of the own name ('ct')

    @property
    def all_initials(self) -> str:
        """'SCT', 'BNV', 'TTPVHCC': the head's initials then the own name's."""
        return "".join(k[0] for k in self.head) + self.own


def derived_forms(name: str) -> list[DerivedForm]:
    """The short forms a canonical name allows by rule ('Sở Công Thương' -> Sở + 'ct')."""
    ws = words(name)
    out: list[DerivedForm] = []
    for head in HEADS:
        n = len(head)
        if len(ws) <= n or tuple(w.key for w in ws[:n]) != head:
            continue
        own = _strip_trailing_qualifier(ws[n:])
        short = initials(own)
        # One syllable left ('Cục Thuế') has no short form worth the name.
        if len([w for w in own if w.key not in _DROP]) < 2 and not any(_is_acronym(w.text) for w in own):
            continue
        if len(short) >= 2:
            out.append(DerivedForm(head, short))
    return out


def written_forms(name: str) -> list[str]:
    """Readable examples of the derived forms of ``name`` (docs, tests): 'Sở CT', 'SCT'."""
    ws = words(name)
    out: list[str] = []
    for form in derived_forms(name):
        head = " ".join(w.text for w in ws[: len(form.head)])
        out.append(f"{head} {form.own.upper()}")
        out.append(form.all_initials.upper())
    return list(dict.fromkeys(out))


class AbbreviationIndex:
    """Derived short forms of every canonical name of a gazetteer -> the agencies they name."""

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self._headed: dict[tuple[tuple[str, ...], str], list[Agency]] = {}
        self._initials: dict[str, list[Agency]] = {}
        for agency in agencies:
            if agency.is_group:
                continue
            for form in derived_forms(agency.name):
                _add(self._headed, (form.head, form.own), agency)
                if len(form.all_initials) >= 3:
                    _add(self._initials, form.all_initials, agency)

    def candidates(self, label: str) -> list[Agency]:
        """The agencies whose derived short form ``label`` is (case, accents, ``&``/``-`` and
        dots ignored): 'Sở CT', 'so ct', 'SCT', 'P.KT', 'TT PVHCC', 'Bộ XD'."""
        ws = words(label)
        if not ws:
            return []
        found: list[Agency] = []
        for head, rest in _head_splits(ws):
            found.extend(self._headed.get((head, compact(rest)), []))
        if not found:
            found.extend(self._initials.get(compact(ws), []))
        return list({a.id: a for a in found}.values())


def _add(index: dict[_K, list[Agency]], key: _K, agency: Agency) -> None:
    bucket = index.setdefault(key, [])
    if all(a.id != agency.id for a in bucket):
        bucket.append(agency)


def _head_splits(ws: list[Word]) -> Iterator[tuple[tuple[str, ...], list[Word]]]:
    """(head keys, the rest) for each head ``ws`` starts with, written out or short."""
    for head in HEADS:
        n = len(head)
        if len(ws) > n and tuple(w.key for w in ws[:n]) == head:
            yield head, ws[n:]
    if len(ws) > 1:
        for head in SHORT_HEADS.get(ws[0].key, ()):
            yield head, ws[1:]


# --- a place after the name ------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A place typed after an agency: a place word and/or a name ('thị xã Bến Vân', 'tỉnh',
    'Quảng Ngãi'). ``bare``: a name without a place word, which may be no place at all."""

    qualifier: str | None  # as written: 'thị xã'
    name: str | None  # as written: 'Bến Vân'
    level: Level | None  # the level a body named with this place word has
    bare: bool = False

    @property
    def name_key(self) -> str | None:
        return " ".join(w.key for w in words(self.name)) if self.name else None

    @property
    def qualifier_key(self) -> str | None:
        return " ".join(w.key for w in words(self.qualifier)) if self.qualifier else None

    def label(self) -> str:
        return " ".join(p for p in (self.qualifier, self.name) if p)


@dataclass(frozen=True)
class Reading:
    """One way to read a typed query: the agency part, the agencies it names, and the place."""

    agency_text: str
    candidates: tuple[Agency, ...]
    place: Place | None


def qualifier_at(ws: list[Word], i: int) -> tuple[int, Level | None] | None:
    """Length and level of the place word starting at ``ws[i]``, if one does."""
    for qual, level in QUALIFIERS:
        n = len(qual)
        if tuple(w.key for w in ws[i : i + n]) == qual:
            return n, level
    return None


def _ends_with_qualifier(ws: list[Word]) -> tuple[int, Level | None] | None:
    for qual, level in QUALIFIERS:
        n = len(qual)
        if len(ws) > n and tuple(w.key for w in ws[-n:]) == qual:
            return n, level
    return None


def _name_words(ws: list[Word]) -> bool:
    """Whether ``ws`` can be a place name typed after an agency: a few words, letters only but
    for a short number ('Bảo Lâm 2', 'Phường 2 Bảo Lộc': numbered localities)."""
    return (
        0 < len(ws) <= _MAX_PLACE_WORDS
        and any(w.key.isalpha() for w in ws)
        and all(
            (w.key.isalpha() or (w.key.isdigit() and len(w.key) <= 3)) and not _excluded(w)
            for w in ws
        )
    )


# Words that never belong to a place name typed after an agency (the rest of a question, a number
# of a body '… số 1', a preposition), with their diacritics: 'Đức Trọng', 'Hiệp Thạnh' are places
# although their accent-free keys are 'trong', 'thành'. ('lam', 'cua', 'cho' are not here: Lam
# Giang, Cửa Lạch, Chợ Mới.)
_NOT_PLACE_WRITTEN = frozenset(
    {"số", "các", "và", "với", "được", "những", "việc", "gì", "nào", "trong", "ngày", "nhiệm",
     "hay", "phải", "sẽ"}
)
_NOT_PLACE = frozenset(search_view(word) for word in _NOT_PLACE_WRITTEN)  # typed without accents
_QUALIFIER_WRITTEN = frozenset(
    {"thị", "xã", "thành", "phố", "tỉnh", "huyện", "quận", "phường", "trấn", "đặc", "khu", "tp"}
)


def _excluded(word: Word) -> bool:
    """A word that cannot be part of a place name; compared with its diacritics when typed."""
    if word.text.isascii():
        return word.key in _NOT_PLACE or word.key in _QUALIFIER_WORDS
    written = fold(word.text)
    return written in _NOT_PLACE_WRITTEN or written in _QUALIFIER_WRITTEN


def _place_of(text: str, part: list[Word], rest: list[Word]) -> Place | bool | None:
    """The place ``rest`` names after the agency part ``part``; None when ``rest`` is empty,
    False when ``rest`` is not a place."""
    if not rest:
        return None
    found = qualifier_at(rest, 0)
    if found is not None:
        n, level = found
        qualifier = text[rest[0].start : rest[n - 1].end]
        names = rest[n:]
        if names and not _name_words(names):
            return False
        name = text[names[0].start : names[-1].end] if names else None
        return Place(qualifier, name, level)
    if not _name_words(rest):
        return False
    name = text[rest[0].start : rest[-1].end]
    ended = _ends_with_qualifier(part)
    if ended is not None:
        # 'UBND xã' + 'Tân Phú': the place word was read as part of the agency's name
        n, level = ended
        return Place(text[part[-n].start : part[-1].end], name, level)
    return Place(None, name, None, bare=True)


def readings(gazetteer: Gazetteer, query: str) -> list[Reading]:
    """Every split of ``query`` into a known agency (exact gazetteer form or derived short form)
    followed by a place, longest agency part first. The whole query, when it is a known form,
    comes first with no place."""
    text = nfc(query).strip()
    ws = words(text)
    out: list[Reading] = []
    for k in range(len(ws), 0, -1):
        part, rest = ws[:k], ws[k:]
        agency_text = text[: part[-1].end]
        place = _place_of(text, part, rest)
        if place is False:
            continue
        candidates = gazetteer.candidates(agency_text)
        if not candidates:
            continue
        out.append(Reading(agency_text, tuple(candidates), place if isinstance(place, Place) else None))
    return out
