"""Agency gazetteer and a level-aware matcher for agency mentions.

The bundled gazetteer (``assistant/data/agencies.json``) lists central ministries, province
departments, district offices, commune units and groups ("UBND các xã, phường"). An office adds
its own units with a JSON file of the same shape (``Settings.agencies.extra_file``; format in
``docs/AGENCIES.md``).

Matching runs on a token stream of ``search_view(text)`` (accent-free, lowercase, same length as
the text), so every mention keeps offsets into the original text. Tokens are words; ``và``/``&``
and punctuation between words are ignored (``TN&MT`` = ``TN và MT`` = ``TN-MT``), a few long
forms collapse to their usual abbreviation (``Ủy ban nhân dân`` = ``UBND``). A surface form that
several agencies share (``TNMT``: Sở or Phòng) is decided by the level hint, then by the date.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import agency_forms
from assistant.errors import ConfigError
from assistant.model import AgencyRef, Level
from assistant.text import fold, match_key, nfc, search_view


class Agency(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable identifier, e.g. 'phong-tnmt'.")
    name: str = Field(description="Canonical name, e.g. 'Phòng Tài nguyên và Môi trường'.")
    level: Level
    aliases: list[str] = Field(default_factory=list, description="Other full spellings.")
    abbreviations: list[str] = Field(
        default_factory=list,
        description="Short forms of the name without its head word ('TNMT'); matched alone "
        "only when written in capitals, and after the head word ('Phòng TNMT') in any case.",
    )
    short_names: list[str] = Field(
        default_factory=list,
        description="Bare names ('Văn phòng') accepted by resolve() and as a whole heading, "
        "never inside running text.",
    )
    is_group: bool = False
    valid_from: date | None = None
    valid_until: date | None = Field(default=None, description="First day it no longer exists.")
    replaced_by: str | None = Field(default=None, description="Id of the successor agency.")

    def valid_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day < self.valid_until


_BUNDLED = Path(__file__).resolve().parent / "data" / "agencies.json"


class _GazetteerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    agencies: list[Agency]


# Head words an abbreviation can follow ("Phòng TNMT", "Sở TN&MT", "Bộ KH&CN").
_HEADS = ("Phòng", "Sở", "Bộ", "Ban", "Trung tâm", "Văn phòng", "Ủy ban")

# Long forms folded into one token, so that both spellings give the same key.
_COLLAPSE: dict[tuple[str, ...], str] = {
    ("uy", "ban", "nhan", "dan"): "ubnd",
    ("hoi", "dong", "nhan", "dan"): "hdnd",
    ("phat", "trien", "nong", "thon"): "ptnt",
    ("giai", "phong", "mat", "bang"): "gpmb",
    ("thanh", "pho"): "tp",
}
_DROP = frozenset({"va"})

# Place qualifiers that may follow a name ("Phòng Tư pháp thị xã", "Sở Y tế tỉnh Nam Định").
_QUALIFIERS = ("thị xã", "thành phố", "thị trấn", "tp", "huyện", "tỉnh", "quận", "xã", "phường")

# Heads of agencies that are not in the gazetteer but still name a responsible body: the
# grammar of Vietnamese body names is a head word (or words) followed by the body's name.
_UNKNOWN_MULTI_HEADS: tuple[tuple[str, ...], ...] = (
    ("ban", "quan", "ly"),
    ("ban", "chi", "dao"),
    ("ban", "chi", "huy"),
    ("tong", "cong", "ty"),
    ("tong", "cuc"),
    ("trung", "tam"),
    ("chi", "cuc"),
    ("chi", "nhanh"),
    ("cong", "ty"),
    ("tap", "doan"),
    ("hoi", "dong"),
    ("ngan", "hang"),
    ("kho", "bac"),
    ("dien", "luc"),
    ("van", "phong"),
    ("benh", "vien"),
    ("hoc", "vien"),
    ("to", "cong", "tac"),
    ("dang", "uy"),
    ("dang", "bo"),
    ("uy", "ban"),
    ("thanh", "tra"),
    ("cong", "an"),
    ("toa", "an"),
    ("vien", "kiem", "sat"),
    ("mat", "tran"),
    ("lien", "doan"),
    ("nha", "dau", "tu"),
    ("chu", "dau", "tu"),
    ("thuong", "truc"),
)
# Multi-word heads specific enough to name a body even when the next word is lowercase
# ('Trung tâm phát triển quỹ đất').
_SPECIFIC_HEADS = frozenset(
    {
        ("ban", "quan", "ly"), ("trung", "tam"), ("chi", "cuc"), ("cong", "ty"), ("tap", "doan"),
        ("tong", "cong", "ty"), ("tong", "cuc"), ("kho", "bac"), ("ngan", "hang"),
        ("nha", "dau", "tu"), ("chu", "dau", "tu"),
    }
)
# Heads that name a responsible party on their own ('Nhà đầu tư của 02 dự án …:').
_BARE_HEADS = frozenset({("nha", "dau", "tu"), ("chu", "dau", "tu")})
_UNKNOWN_SINGLE_HEADS = frozenset(
    {"ban", "cuc", "doi", "dai", "phong", "so", "bo", "vien", "xa", "phuong", "ubnd", "quy", "hdnd",
     "hoi", "truong"}
)
# Lowercase words that end an unknown name: the verb or preposition that follows it.
_STOP_BIGRAMS = frozenset(
    {
        "tiep tuc", "chu tri", "phoi hop", "tham muu", "thuc hien", "khan truong", "tap trung",
        "co trach", "chiu trach", "huong dan", "ra soat", "lam viec", "chu dong", "bao cao",
        "nghien cuu", "xay dung", "to chuc", "trien khai", "kiem tra", "don doc", "hoan thanh",
        "hoan thien", "tang cuong", "day nhanh", "xem xet", "lam ro", "de xuat", "giai quyet",
        "chi dao", "quan tam", "phan cong", "ban hanh", "tong hop", "dam bao", "cung cap",
        "theo doi", "phan dau", "tuyen truyen", "thong nhat", "chuan bi", "khac phuc",
        "tiep thu", "tiep nhan", "phe duyet", "tham dinh", "rut kinh", "bao dam", "tham tra",
        "can doi", "so hoa", "nghiem tuc", "sap xep", "boi thuong", "ho tro", "giai ngan",
        "cap nhat", "lap ho", "bo tri", "tich cuc", "uu tien", "rà soat", "thuc day",
        "phoi ket", "trinh ubnd", "giam sat", "van dong", "kien toan", "dieu chinh", "thanh lap",
        "ket noi", "day manh", "quyet liet", "dong gop", "nang cao", "ra quyet", "xu ly",
    }
)
# Lowercase words that end an unknown name, with their diacritics: in a text written with
# diacritics 'tư' (đầu tư) and 'Tư pháp' must not stop a name the way 'từ' does.
_STOP_WORDS_WRITTEN = frozenset(
    {
        "đã", "cần", "phải", "sẽ", "đang", "của", "với", "cho", "theo", "tại", "trên", "trong",
        "về", "để", "được", "thì", "là", "như", "khi", "nếu", "từ", "đến", "sau", "trước",
        "nhằm", "ở", "giao", "có", "kịp", "sớm", "ngày", "cùng", "đều", "gửi", "này", "do", "bị",
    }
)
_STOP_WORDS = frozenset(search_view(word) for word in _STOP_WORDS_WRITTEN)  # accent-free keys


def is_stop_word(word: str, key: str) -> bool:
    """Whether a lowercase word ends a name: compared with its diacritics when it has them."""
    if word.isascii():
        return key in _STOP_WORDS
    return fold(word) in _STOP_WORDS_WRITTEN


_MAX_UNKNOWN_TOKENS = 12
_SUBORDINATE_SURFACES = frozenset({("cac", "dia", "phuong")})
_TWO_TIERS_FROM = date(2025, 7, 1)  # districts abolished: local government of two tiers
# Thành phố trực thuộc trung ương: their People's Committee and departments are province-level.
_CENTRAL_CITIES = frozenset({"ha noi", "hai phong", "da nang", "hue", "can tho", "ho chi minh"})
_HARD_BREAK = re.compile(r"[.;:!?()\[\]\n\"/]")
_WORD = re.compile(r"\w+")

# Which level wins when one surface form names agencies at several levels.
_LEVEL_PREFERENCE: dict[Level | None, tuple[Level, ...]] = {
    Level.CENTRAL: (Level.CENTRAL, Level.PROVINCE, Level.DISTRICT, Level.COMMUNE),
    Level.PROVINCE: (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE, Level.CENTRAL),
    Level.DISTRICT: (Level.DISTRICT, Level.COMMUNE, Level.PROVINCE, Level.CENTRAL),
    Level.COMMUNE: (Level.COMMUNE, Level.DISTRICT, Level.PROVINCE, Level.CENTRAL),
    None: (Level.DISTRICT, Level.PROVINCE, Level.COMMUNE, Level.CENTRAL),
}


@dataclass(frozen=True)
class _Tok:
    key: str
    start: int
    end: int
    hard_before: bool  # a sentence/clause break separates it from the previous token


@dataclass(frozen=True)
class _Surface:
    agency: Agency
    strict_case: bool  # a bare abbreviation: only counts when written in capitals


def _tokens(text: str, start: int = 0, end: int | None = None) -> list[_Tok]:
    end = len(text) if end is None else end
    view = search_view(text[start:end])
    raw: list[_Tok] = []
    prev_end = 0
    for m in _WORD.finditer(view):
        gap = view[prev_end : m.start()]
        hard = bool(raw) and bool(_HARD_BREAK.search(gap))
        raw.append(_Tok(m.group(), m.start() + start, m.end() + start, hard))
        prev_end = m.end()
    out: list[_Tok] = []
    i = 0
    pending_hard = False
    while i < len(raw):
        merged = False
        for phrase, short in _COLLAPSE.items():
            n = len(phrase)
            window = raw[i : i + n]
            if (
                len(window) == n
                and tuple(t.key for t in window) == phrase
                and not any(t.hard_before for t in window[1:])
            ):
                out.append(_Tok(short, window[0].start, window[-1].end, window[0].hard_before or pending_hard))
                pending_hard = False
                i += n
                merged = True
                break
        if merged:
            continue
        tok = raw[i]
        if tok.key in _DROP:
            pending_hard = pending_hard or tok.hard_before
        else:
            out.append(_Tok(tok.key, tok.start, tok.end, tok.hard_before or pending_hard))
            pending_hard = False
        i += 1
    return out


def _keys(surface: str) -> tuple[str, ...]:
    return tuple(t.key for t in _tokens(nfc(surface)))


def _has_upper(s: str) -> bool:
    return any(ch.isupper() for ch in s)


def _is_capitalized(s: str) -> bool:
    return bool(s) and s[0].isupper()


def _head_of(name: str) -> str | None:
    for head in sorted(_HEADS, key=len, reverse=True):
        if fold(name).startswith(fold(head) + " "):
            return head
    return None


class Gazetteer:
    """The agencies known to the assistant, with a level- and date-aware matcher."""

    def __init__(self, agencies: list[Agency]) -> None:
        self._agencies: dict[str, Agency] = {}
        for agency in agencies:
            self._agencies[agency.id] = agency
        self._order = {aid: i for i, aid in enumerate(self._agencies)}
        self._surfaces: dict[tuple[str, ...], list[_Surface]] = {}
        self._short: dict[tuple[str, ...], list[Agency]] = {}
        self._by_name: dict[str, list[Agency]] = {}
        for agency in self._agencies.values():
            self._index(agency)
        self._max_len = max((len(k) for k in self._surfaces), default=1)
        self._derived = agency_forms.AbbreviationIndex(self._agencies.values())

    # -- construction -------------------------------------------------------------------

    @classmethod
    def load(cls, extra_file: Path | None = None) -> Gazetteer:
        """The bundled gazetteer, with the office's own units from ``extra_file`` merged over it
        (an entry with an existing id replaces it)."""
        bundled = _BUNDLED.read_text("utf-8")
        agencies = cls._parse(bundled, "assistant/data/agencies.json")
        if extra_file is not None:
            path = Path(extra_file)
            try:
                raw = path.read_text("utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"Không đọc được tệp danh mục cơ quan bổ sung: {exc}", source=str(path)
                ) from exc
            merged = {a.id: a for a in agencies}
            for agency in cls._parse(raw, str(path)):
                merged[agency.id] = agency
            agencies = list(merged.values())
        ids = {a.id for a in agencies}
        for agency in agencies:
            if agency.replaced_by is not None and agency.replaced_by not in ids:
                raise ConfigError(
                    f"Cơ quan '{agency.id}' trỏ tới cơ quan thay thế không có: "
                    f"'{agency.replaced_by}'."
                )
        return cls(agencies)

    @staticmethod
    def _parse(raw: str, source: str) -> list[Agency]:
        try:
            data: Any = json.loads(raw)
            if isinstance(data, list):
                data = {"agencies": data}
            return _GazetteerFile.model_validate(data).agencies
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigError(
                f"Tệp danh mục cơ quan không đúng định dạng (xem docs/AGENCIES.md): {exc}",
                source=source,
            ) from exc

    def _add(self, keys: tuple[str, ...], agency: Agency, strict: bool) -> None:
        if not keys:
            return
        bucket = self._surfaces.setdefault(keys, [])
        for existing in bucket:
            if existing.agency.id == agency.id:
                if existing.strict_case and not strict:
                    bucket[bucket.index(existing)] = _Surface(agency, False)
                return
        bucket.append(_Surface(agency, strict))

    def _index(self, agency: Agency) -> None:
        self._by_name.setdefault(match_key(agency.name), []).append(agency)
        for surface in (agency.name, *agency.aliases):
            self._add(_keys(surface), agency, strict=False)
        head = _head_of(agency.name)
        for abbr in agency.abbreviations:
            keys = _keys(abbr)
            variants = {keys, ("".join(keys),)}
            for variant in variants:
                self._add(variant, agency, strict=True)
                if head is not None:
                    self._add(_keys(head) + variant, agency, strict=False)
        for short in agency.short_names:
            self._short.setdefault(_keys(short), []).append(agency)

    # -- lookups ------------------------------------------------------------------------

    @property
    def agencies(self) -> list[Agency]:
        return list(self._agencies.values())

    def get(self, agency_id: str) -> Agency | None:
        return self._agencies.get(agency_id)

    def by_name(self, name: str, level: Level | None = None) -> Agency | None:
        """The agency whose canonical name is ``name`` (as stored in ``AgencyRef.canonical``)."""
        found = self._by_name.get(match_key(name), [])
        if level is not None and level is not Level.UNKNOWN:
            exact = [a for a in found if a.level is level]
            if exact:
                return exact[0]
        return found[0] if found else None

    def successor(self, agency: Agency, on: date | None = None) -> Agency:
        """Follow ``replaced_by`` (Sở TN&MT -> Sở Nông nghiệp và Môi trường) to the agency that
        exists on ``on`` (or the last one)."""
        seen = {agency.id}
        current = agency
        while current.replaced_by is not None and (on is None or not current.valid_on(on)):
            nxt = self._agencies.get(current.replaced_by)
            if nxt is None or nxt.id in seen:
                break
            seen.add(nxt.id)
            current = nxt
        return current

    def _choose(self, candidates: list[Agency], level: Level | None, on: date | None) -> Agency | None:
        if not candidates:
            return None
        hint = None if level is Level.UNKNOWN else level
        order = _LEVEL_PREFERENCE[hint]

        def rank(agency: Agency) -> tuple[int, int, int]:
            invalid = 0 if on is None or agency.valid_on(on) else 1
            lvl = order.index(agency.level) if agency.level in order else len(order)
            return (invalid, lvl, self._order[agency.id])

        return min(candidates, key=rank)

    def lookup(self, label: str, level: Level | None = None, on: date | None = None) -> Agency | None:
        """Exact lookup of a whole label ('Phòng TNMT', 'Văn phòng', 'Quân sự thị xã'): no
        guessing of a missing head word, so a sector label ('Tài nguyên môi trường') gives None."""
        keys = _keys(label)
        while keys:
            found = [s.agency for s in self._surfaces.get(keys, [])] + self._short.get(keys, [])
            if found:
                return self._choose(found, level, on)
            stripped = _strip_qualifier(keys)
            if stripped == keys:
                break
            keys = stripped
        return None

    def resolve(self, query: str, level: Level | None = None, on: date | None = None) -> Agency | None:
        """What a user typed ('phong tai chinh ke hoach', 'TC-KH', 'Phòng TN&MT') -> the agency.

        Case and diacritics are ignored; a bare abbreviation or a name without its head word is
        decided by ``level`` (a district user means Phòng, a province user means Sở)."""
        query = nfc(query).strip()
        if not query:
            return None
        found = self.lookup(query, level, on)
        if found is not None:
            return found
        keys = _strip_qualifier(_keys(query))
        if keys and keys[0] == "cac":
            keys = keys[1:]
        candidates: list[Agency] = []
        for head in _HEADS:
            candidates.extend(s.agency for s in self._surfaces.get(_keys(head) + keys, []))
        if candidates:
            return self._choose(candidates, level, on)
        # 'Sở CT', 'SCT', 'bo xd': a short form derived by rule from a canonical name
        derived = self._derived.candidates(query)
        if derived:
            return self._choose(derived, level, on)
        refs = [r for r in self._scan(query, 0, len(query), level, on, case_rules=False) if r.canonical]
        if len(refs) == 1:
            return self.by_name(refs[0].canonical or "", refs[0].level)
        # 'Sở TC Quảng Ngãi', 'P.KT xã Tân Lam': a short form followed by a place
        for reading in agency_forms.readings(self, query):
            hint = level if reading.place is None or reading.place.level is None else reading.place.level
            return self._choose(list(reading.candidates), hint, on)
        return None

    def candidates(self, label: str) -> list[Agency]:
        """Every agency that ``label`` names as a whole, case and diacritics ignored: a form of
        the gazetteer ('Phòng TN&MT', 'UBND xã'), a bare short name ('Văn phòng'), a short form
        derived by rule from a canonical name ('Sở CT', 'SCT', 'P.KT', 'TT PVHCC'), else the name
        without its head word ('tai chinh ke hoach'). Unlike ``lookup`` no place qualifier is
        stripped, and nothing is chosen: the caller decides between levels."""
        keys = _keys(nfc(label).strip())
        if not keys:
            return []
        found = [s.agency for s in self._surfaces.get(keys, [])] + self._short.get(keys, [])
        found += self._derived.candidates(label)
        if not found and keys[0] != "cac":
            for head in _HEADS:
                found.extend(s.agency for s in self._surfaces.get(_keys(head) + keys, []))
        return list({a.id: a for a in found}.values())

    def choose(self, candidates: list[Agency], level: Level | None = None, on: date | None = None) -> Agency | None:
        """The one of ``candidates`` that ``resolve`` would pick: the level hint, then the
        agency valid on ``on``, then the gazetteer's order."""
        return self._choose(candidates, level, on)

    def find_mentions(
        self,
        text: str,
        start: int = 0,
        end: int | None = None,
        level: Level | None = None,
        on: date | None = None,
    ) -> list[AgencyRef]:
        """Every agency mention in ``text[start:end]``, offsets into ``text``; unknown bodies
        ('Ban Quản lý khu Di tích …') are kept as written with ``canonical=None``."""
        end = len(text) if end is None else end
        return self._scan(text, start, end, level, on, case_rules=True)

    def match_at(
        self,
        text: str,
        pos: int,
        end: int | None = None,
        level: Level | None = None,
        on: date | None = None,
        lenient: bool = False,
    ) -> AgencyRef | None:
        """The mention that starts at the first word at or after ``pos`` (only spaces between),
        or None. ``lenient`` accepts unknown bodies written in lowercase ('Giao Ban quản lý khu
        di tích …'), for positions where grammar already says an agency must follow."""
        end = len(text) if end is None else end
        toks = _tokens(text, pos, end)
        if not toks or text[pos : toks[0].start].strip():
            return None
        known = self._known_at(text, toks, 0, level, on, case_rules=True)
        if known is not None:
            return known[0]
        short = self._short_at(text, toks, level, on)
        if short is not None:
            return short
        unknown = self._unknown_at(text, toks, 0, level, on, lenient=lenient)
        return unknown[0] if unknown is not None else None

    def _short_at(
        self, text: str, toks: list[_Tok], level: Level | None, on: date | None
    ) -> AgencyRef | None:
        # 'Giao Văn phòng tiếp thu …': a bare short name counts when a lowercase word follows
        for n in range(min(3, len(toks)), 0, -1):
            found = self._short.get(tuple(t.key for t in toks[:n]))
            if not found or any(t.hard_before for t in toks[1:n]):
                continue
            written = text[toks[0].start : toks[n - 1].end]
            if not _is_capitalized(written):
                continue
            if n < len(toks) and _is_capitalized(text[toks[n].start : toks[n].end]):
                continue
            agency = self._choose(found, level, on)
            if agency is None:
                continue
            # a heading 'Quân sự thị xã;' names the unit with its place
            j = _extend_qualifier(text, toks, n, ends_with_place=False)
            return AgencyRef(
                text=text[toks[0].start : toks[j - 1].end],
                canonical=agency.name,
                level=agency.level,
                is_group=agency.is_group,
                start=toks[0].start,
                end=toks[j - 1].end,
            )
        return None

    def same_agency(self, a: AgencyRef | Agency | str, b: AgencyRef | Agency | str) -> bool:
        ida, idb = self._identity(a), self._identity(b)
        return ida == idb

    def _identity(self, item: AgencyRef | Agency | str) -> str:
        if isinstance(item, Agency):
            return "id:" + item.id
        if isinstance(item, AgencyRef):
            if item.canonical:
                agency = self.by_name(item.canonical, item.level)
                if agency is not None:
                    return "id:" + agency.id
            return "text:" + match_key(item.text)
        agency = self.resolve(item)
        return "id:" + agency.id if agency is not None else "text:" + match_key(item)

    # -- scanning -----------------------------------------------------------------------

    def _scan(
        self,
        text: str,
        start: int,
        end: int,
        level: Level | None,
        on: date | None,
        case_rules: bool,
    ) -> list[AgencyRef]:
        toks = _tokens(text, start, end)
        refs: list[AgencyRef] = []
        i = 0
        while i < len(toks):
            known = self._known_at(text, toks, i, level, on, case_rules)
            if known is not None:
                refs.append(known[0])
                i = known[1]
                continue
            unknown = self._unknown_at(text, toks, i, level, on, lenient=False)
            if unknown is not None:
                refs.append(unknown[0])
                i = unknown[1]
                continue
            i += 1
        return refs

    def _known_at(
        self,
        text: str,
        toks: list[_Tok],
        i: int,
        level: Level | None,
        on: date | None,
        case_rules: bool,
    ) -> tuple[AgencyRef, int] | None:
        for n in range(min(self._max_len, len(toks) - i), 0, -1):
            window = toks[i : i + n]
            if any(t.hard_before for t in window[1:]):
                continue
            surfaces = self._surfaces.get(tuple(t.key for t in window))
            if not surfaces:
                continue
            written = text[window[0].start : window[-1].end]
            allowed: list[Agency] = []
            for surface in surfaces:
                if case_rules:
                    if surface.strict_case and not (written == written.upper() and _has_upper(written)):
                        continue
                    if not surface.agency.is_group and not _has_upper(written):
                        continue
                allowed.append(surface.agency)
            agency = self._choose(allowed, level, on)
            if agency is not None and tuple(t.key for t in window) in _SUBORDINATE_SURFACES:
                agency = self.subordinate(level, on) or agency
            if agency is None:
                continue
            j = i + n
            if not agency.is_group:
                other = _names_other_body(text, toks, i, j)
                if other is not None:
                    # 'Ban Quản lý dự án đầu tư xây dựng số 1' is another body, kept as written
                    end = _extend_qualifier(text, toks, other, ends_with_place=True)
                    unknown = AgencyRef(
                        text=text[toks[i].start : toks[end - 1].end],
                        start=toks[i].start,
                        end=toks[end - 1].end,
                    )
                    return unknown, end
                j = _extend_qualifier(text, toks, j, ends_with_place=window[-1].key in _PLACE_KEYS)
                if agency.level is Level.DISTRICT and "tp" in (t.key for t in window):
                    agency = self._city_twin(agency, window, toks[i + n : j], level, on)
                stated = _QUALIFIER_LEVEL.get(toks[i + n].key) if j > i + n else None
                if stated is not None and stated is not agency.level:
                    twins = [a for a in allowed if a.level is stated]
                    if twins:
                        agency = self._choose(twins, stated, on) or agency
                    else:
                        # 'Trung tâm Phục vụ hành chính công tỉnh': the place says another level
                        # than the one known body of that name; keep it as written
                        return AgencyRef(
                            text=text[toks[i].start : toks[j - 1].end], level=stated,
                            place=_place_name(text, toks[i + n : j]),
                            start=toks[i].start, end=toks[j - 1].end,
                        ), j
            ref = AgencyRef(
                text=text[toks[i].start : toks[j - 1].end],
                canonical=agency.name,
                level=agency.level,
                is_group=agency.is_group,
                place=None if agency.is_group else _place_name(text, toks[i + n : j]),
                start=toks[i].start,
                end=toks[j - 1].end,
            )
            return ref, j
        return None

    def subordinate(self, level: Level | None, on: date | None) -> Agency | None:
        """'các địa phương' names the localities one tier below the issuer: the provinces in a
        central notice, the districts (until 1/7/2025) or communes in a province's, the communes
        in a district's."""
        if level is Level.CENTRAL:
            return self.get("ubnd-tinh")
        if level is Level.PROVINCE and on is not None and on < _TWO_TIERS_FROM:
            return self.get("nhom-ubnd-huyen")
        if level in (Level.PROVINCE, Level.DISTRICT):
            return self.get("nhom-ubnd-xa")
        return None

    def _city_twin(
        self, agency: Agency, window: list[_Tok], names: list[_Tok], level: Level | None, on: date | None
    ) -> Agency:
        """'UBND thành phố Đà Nẵng' is a province-level body: a centrally-run city, or any city a
        central-government notice addresses; the same words name a district-level one elsewhere."""
        city = " ".join(t.key for t in names if t.key not in _PLACE_KEYS)
        if city not in _CENTRAL_CITIES and level is not Level.CENTRAL:
            return agency
        keys = tuple("tinh" if t.key == "tp" else t.key for t in window)
        twins = [s.agency for s in self._surfaces.get(keys, []) if s.agency.level is Level.PROVINCE]
        return self._choose(twins, Level.PROVINCE, on) or agency

    def _unknown_at(
        self,
        text: str,
        toks: list[_Tok],
        i: int,
        level: Level | None,
        on: date | None,
        lenient: bool,
    ) -> tuple[AgencyRef, int] | None:
        head_len = 0
        specific = False
        for head in _UNKNOWN_MULTI_HEADS:
            n = len(head)
            window = toks[i : i + n]
            if len(window) == n and tuple(t.key for t in window) == head and not any(
                t.hard_before for t in window[1:]
            ):
                head_len = n
                specific = head in _SPECIFIC_HEADS
                break
        if head_len == 0 and i < len(toks) and toks[i].key in _UNKNOWN_SINGLE_HEADS:
            head_len = 1
        if head_len == 0:
            return None
        first = text[toks[i].start : toks[i].end]
        j = i + head_len
        if j >= len(toks) or toks[j].hard_before:
            return None
        nxt = text[toks[j].start : toks[j].end]
        if not lenient and not _is_capitalized(first):
            return None
        if not specific and not _is_capitalized(nxt) and toks[j].key not in _PLACE_KEYS:
            return None  # 'Đảng bộ xã Tân Phú' names its place; 'ban hành …' is no body
        proper_run = 0  # capitalized words in a row: a place or proper name ('Lam Giang')
        closed = False  # a number, an all-caps code or a place qualifier with its name ends it
        while j < len(toks) and j - i < _MAX_UNKNOWN_TOKENS:
            tok = toks[j]
            gap = text[toks[j - 1].end : tok.start]
            word = text[tok.start : tok.end]
            if tok.hard_before:
                break
            if "," in gap and not (
                # 'Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch': a list of capitalized fields
                # inside the name; another body ('…, Sở Xây dựng') ends it
                _is_capitalized(word)
                and j > i + head_len
                and self._known_at(text, toks, j, level, on, case_rules=True) is None
                and not _starts_head(toks, j)
            ):
                break
            if not _is_capitalized(word) and _and_between(text, toks[j - 1], tok):
                break  # 'Nhà đầu tư và các đơn vị liên quan': 'và' joins two bodies
            if self._known_at(text, toks, j, level, on, case_rules=True) is not None and j > i + head_len:
                break
            if not _is_capitalized(word) and not word.isdigit():
                bigram = tok.key + " " + toks[j + 1].key if j + 1 < len(toks) else ""
                of_body = (
                    tok.key == "cua"
                    and j + 1 < len(toks)
                    and _is_capitalized(text[toks[j + 1].start : toks[j + 1].end])
                )
                if of_body:
                    # 'Ủy ban Kinh tế của Quốc hội', 'Ban Pháp chế của HĐND tỉnh'
                    j += 1
                    continue
                if is_stop_word(word, tok.key) or bigram in _STOP_BIGRAMS:
                    break
                if (closed or proper_run >= 2) and tok.key not in _PLACE_KEYS:
                    # 'Công ty … Lam Giang bảo đảm …', 'Kho bạc … khu vực XV rà soát …': after a
                    # proper name or a code, a lowercase word is the verb that follows
                    break
                proper_run = 0
            elif word.isdigit():
                # 'Ban Quản lý dự án … số 1', 'xã Bảo Lâm 2' name a body; 'Nhà đầu tư 02 dự án'
                # counts projects
                if toks[j - 1].key != "so" and proper_run == 0:
                    break
                closed = True
                proper_run = 0
            elif len(word) > 1 and word.isupper() and j > i + head_len:
                closed = True
                proper_run = 0
            else:
                proper_run += 1
            j += 1
        if j == i + head_len and tuple(t.key for t in toks[i:j]) not in _BARE_HEADS:
            return None
        ref = AgencyRef(
            text=text[toks[i].start : toks[j - 1].end],
            canonical=None,
            level=Level.UNKNOWN,
            start=toks[i].start,
            end=toks[j - 1].end,
        )
        return ref, j


_QUALIFIER_KEYS: tuple[tuple[str, ...], ...] = tuple(
    sorted({_keys(q) for q in _QUALIFIERS}, key=len, reverse=True)
)
_QUALIFIER_FOLDED = frozenset(fold(q) for q in _QUALIFIERS) | {"thành phố"}
_PLACE_KEYS = frozenset({"tinh", "huyen", "xa", "phuong", "quan", "tp", "tran"})
# The level a place qualifier states ('… tỉnh', '… xã'); 'thành phố' and 'thị xã' are left out:
# a city can be either level and 'thị' starts both 'thị xã' and 'thị trấn'.
_QUALIFIER_LEVEL = {"tinh": Level.PROVINCE, "huyen": Level.DISTRICT, "xa": Level.COMMUNE,
                    "phuong": Level.COMMUNE}


def _names_other_body(text: str, toks: list[_Tok], i: int, j: int) -> int | None:
    """Whether the words after a known name ('Ban Quản lý dự án đầu tư xây dựng') continue it
    into the name of another body of the same kind: a number ('… số 1') or a few lowercase
    words ending with a place ('… công trình giao thông tỉnh', '… cấp xã')."""
    head = tuple(t.key for t in toks[i : i + 3])
    if not any(head[: len(h)] == h for h in _UNKNOWN_MULTI_HEADS if h in _SPECIFIC_HEADS):
        return None
    if j >= len(toks) or toks[j].hard_before or text[toks[j - 1].end : toks[j].start].strip():
        return None
    if toks[j].key == "so" and j + 1 < len(toks) and toks[j + 1].key.isdigit():
        return j + 2
    for k in range(j, min(j + 6, len(toks))):
        tok = toks[k]
        gap = text[toks[k - 1].end : tok.start]
        if tok.hard_before or gap.strip() or _is_capitalized(text[tok.start : tok.end]):
            return None
        if tok.key in _PLACE_KEYS:
            # a bare place right after the name is only its qualifier ('… tỉnh')
            return k + 1 if k > j else None
        nxt = toks[k + 1].key if k + 1 < len(toks) else ""
        if f"{tok.key} {nxt}" in _STOP_BIGRAMS or (
            tok.key in _STOP_WORDS and f"{tok.key} {nxt}" != "giao thong"
        ):
            return None
    return None


def _starts_head(toks: list[_Tok], j: int) -> bool:
    """Whether a body's head word starts at token ``j`` ('Sở', 'Trung tâm', 'Ban Quản lý')."""
    if toks[j].key in _UNKNOWN_SINGLE_HEADS:
        return True
    keys = tuple(t.key for t in toks[j : j + 3])
    return any(keys[: len(h)] == h for h in _UNKNOWN_MULTI_HEADS)


def _and_between(text: str, left: _Tok, right: _Tok) -> bool:
    """'và' written between two tokens (the tokenizer drops it)."""
    return bool(re.search(r"(?<!\w)(?:và|va)(?!\w)", text[left.end : right.start], re.IGNORECASE))


def _place_name(text: str, toks: list[_Tok]) -> str | None:
    """The proper name among the words that follow a known name ('tỉnh Nam Định' -> 'Nam
    Định', 'Tân Phú' after 'UBND xã')."""
    names = [t for t in toks if _is_capitalized(text[t.start : t.end]) and t.key not in _PLACE_KEYS]
    if not names:
        return None
    return " ".join(text[names[0].start : names[-1].end].split())


def _strip_qualifier(keys: tuple[str, ...]) -> tuple[str, ...]:
    for qual in _QUALIFIER_KEYS:
        if len(keys) > len(qual) and keys[-len(qual) :] == qual:
            return keys[: -len(qual)]
    return keys


def _extend_qualifier(text: str, toks: list[_Tok], j: int, ends_with_place: bool) -> int:
    """Take a place qualifier after a name ('… thị xã', '… tỉnh Nam Định') into the mention."""
    took = ends_with_place
    for qual in _QUALIFIER_KEYS:
        n = len(qual)
        window = toks[j : j + n]
        if len(window) != n or tuple(t.key for t in window) != qual:
            continue
        if any(t.hard_before for t in window) or text[toks[j - 1].end : window[0].start].strip():
            continue
        # accent-free keys confuse 'quận' with 'quản'; compare the folded original
        if fold(text[window[0].start : window[-1].end]) not in _QUALIFIER_FOLDED:
            continue
        j += n
        took = True
        break
    if took:
        names = 0
        while j < len(toks) and names < 4:
            tok = toks[j]
            if tok.hard_before or text[toks[j - 1].end : tok.start].strip():
                break
            word = text[tok.start : tok.end]
            # 'UBND Phường 2 Bảo Lộc', 'UBND xã Bảo Lâm 2': numbered localities
            if not _is_capitalized(word) and not (word.isdigit() and len(word) <= 3):
                break
            j += 1
            names += 1
    return j


@lru_cache(maxsize=8)
def _cached(extra_file: str | None) -> Gazetteer:
    return Gazetteer.load(Path(extra_file) if extra_file is not None else None)


def get_gazetteer(extra_file: Path | None = None) -> Gazetteer:
    """The gazetteer (bundled + office extension), loaded once per extension file."""
    return _cached(str(Path(extra_file).resolve()) if extra_file is not None else None)
