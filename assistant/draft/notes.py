"""Meeting notes -> ``ParsedNotes``: header facts, results, shortcomings and task lines.

Notes are read line by line and every line keeps its number in the file as given, so each
assignment of the draft can point back at the note line(s) it came from. The loader's reflow
is *not* applied: it would glue terse task lines together (``TNMT: … 15/5/2024 TNMT: …``).
A line that fits nowhere is kept in ``ParsedNotes.unplaced`` and reported, never dropped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from assistant.agencies import Agency, Gazetteer
from assistant.deadlines import find_deadlines
from assistant.errors import AssistantError, LoadError
from assistant.load import check_text_length, decode_text, load_bytes
from assistant.model import AgencyRef, Level, Role
from assistant.settings import LoadSettings
from assistant.text import nfc, search_view

# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteLine:
    number: int  # 1-based line number in the notes (paragraph number for .docx)
    text: str  # the line as written, stripped


def notes_text_from_bytes(data: bytes, name: str, settings: LoadSettings | None = None) -> str:
    """Notes file -> text with its original line breaks (.txt, .md, .docx).

    ``.docx`` notes come back as their non-empty paragraphs, one per line."""
    suffix = Path(name).suffix.lower()
    if suffix in (".txt", ".md"):
        if not data.strip():
            raise LoadError("Tệp ghi chép rỗng, không có nội dung.", source=name)
        text = decode_text(data, name)
        check_text_length(text, name, settings or LoadSettings())
        return text
    if suffix == ".docx":
        return load_bytes(data, name, settings).text
    raise LoadError(
        f"Ghi chép phải là tệp .txt, .md hoặc .docx (nhận được '{suffix or 'không rõ'}').",
        source=name,
    )


def read_notes_file(path: Path, settings: LoadSettings | None = None) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LoadError(f"Không đọc được tệp ghi chép: {exc.strerror or exc}.", source=str(path)) from exc
    return notes_text_from_bytes(data, str(path), settings)


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def split_lines(text: str) -> list[NoteLine]:
    out: list[NoteLine] = []
    for number, raw in enumerate(nfc(text).replace("\r\n", "\n").split("\n"), start=1):
        line = _MD_EMPHASIS.sub(r"\2", _MD_HEADING.sub("", raw)).strip()
        if line and line not in ("---", "***", "___"):
            out.append(NoteLine(number, line))
    return out


# --- the issuing body -----------------------------------------------------------------------


class UnitKind(StrEnum):
    PROVINCE = "tỉnh"
    CITY = "thành phố"
    TOWN = "thị xã"
    DISTRICT = "huyện"
    URBAN_DISTRICT = "quận"
    COMMUNE = "xã"
    WARD = "phường"
    TOWNLET = "thị trấn"


_UNIT_LEVEL = {
    UnitKind.PROVINCE: Level.PROVINCE,
    UnitKind.CITY: Level.DISTRICT,
    UnitKind.TOWN: Level.DISTRICT,
    UnitKind.DISTRICT: Level.DISTRICT,
    UnitKind.URBAN_DISTRICT: Level.DISTRICT,
    UnitKind.COMMUNE: Level.COMMUNE,
    UnitKind.WARD: Level.COMMUNE,
    UnitKind.TOWNLET: Level.COMMUNE,
}
# The party committee whose standing committee receives the notice "để báo cáo".
PARTY_COMMITTEE = {
    UnitKind.PROVINCE: "Tỉnh ủy",
    UnitKind.CITY: "Thành ủy",
    UnitKind.TOWN: "Thị ủy",
    UnitKind.DISTRICT: "Huyện ủy",
    UnitKind.URBAN_DISTRICT: "Quận ủy",
    UnitKind.COMMUNE: "Đảng ủy xã",
    UnitKind.WARD: "Đảng ủy phường",
    UnitKind.TOWNLET: "Đảng ủy thị trấn",
}


BLANK = "……"  # what the clerk fills in when neither the notes nor the profile say it


@dataclass(frozen=True)
class Issuer:
    kind: UnitKind | None  # None: not known (the header is left blank to fill)
    name: str  # "Bến Vân"; "" when not known

    @property
    def known(self) -> bool:
        return self.kind is not None and bool(self.name)

    @property
    def level(self) -> Level:
        return _UNIT_LEVEL[self.kind] if self.kind is not None else Level.UNKNOWN

    @property
    def kind_word(self) -> str:
        return self.kind.value if self.kind is not None else BLANK

    @property
    def place(self) -> str:
        return self.name or BLANK

    @property
    def short(self) -> str:
        """'UBND thị xã Bến Vân' ('UBND xã ……' when the name is not known)."""
        if self.kind is None:
            return f"UBND {BLANK}"
        return f"UBND {self.kind.value} {self.place}"

    @property
    def unit(self) -> str:
        """'UBND thị xã' — how notices name their own committee."""
        return f"UBND {self.kind.value}" if self.kind is not None else "UBND"

    @property
    def header(self) -> str:
        kind = f"{self.kind.value.upper()} " if self.kind is not None else ""
        return f"ỦY BAN NHÂN DÂN {kind}{self.name.upper() or BLANK}"

    @property
    def party_committee(self) -> str:
        return PARTY_COMMITTEE[self.kind] if self.kind is not None else f"Đảng ủy {BLANK}"


_UNIT_WORDS = (
    ("thanh pho", UnitKind.CITY),
    ("thi xa", UnitKind.TOWN),
    ("thi tran", UnitKind.TOWNLET),
    ("tinh", UnitKind.PROVINCE),
    ("huyen", UnitKind.DISTRICT),
    ("quan", UnitKind.URBAN_DISTRICT),
    ("phuong", UnitKind.WARD),
    ("xa", UnitKind.COMMUNE),
    ("tp", UnitKind.CITY),
)
_NAME_WORD = r"[A-ZĐÀ-Ỹ][\wÀ-ỹ]*"
_ISSUER_RE = re.compile(
    r"(?:(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN)\s+)?"
    r"(?P<kind>thành phố|Thành phố|THÀNH PHỐ|thị xã|Thị xã|THỊ XÃ|thị trấn|tỉnh|Tỉnh|TỈNH|huyện|"
    r"Huyện|HUYỆN|quận|Quận|phường|Phường|xã|Xã|XÃ|tp\.?|TP\.?)\s+"
    r"(?P<name>" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,3})"
)


_EXPLICIT_UBND = re.compile(r"^(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN)\s", re.IGNORECASE)


def parse_issuer(text: str, title_line: bool = False) -> Issuer | None:
    """'UBND thị xã Bến Vân', 'tp Lam Thuy', 'Ủy ban nhân dân tỉnh Lam Giang' -> Issuer.

    A name in capitals ('UBND HUYỆN ĐÔNG SƠN') counts only after 'UBND' and at the end of the
    line: in a title in capitals the words after 'TỈNH' are usually the subject ('… TỈNH ĐÁNH
    GIÁ TÌNH HÌNH …'). On the title line (``title_line``) only an explicit 'UBND …' counts."""
    text = nfc(text)
    for m in _ISSUER_RE.finditer(text):
        explicit = bool(_EXPLICIT_UBND.match(m.group(0)))
        if title_line and not explicit and not re.search(r"\s[-–]\s*$", text[: m.start()]):
            continue  # only '… - tp Lam Thuy' at the end of a quick title names the unit
        if re.search(r"(?:^|\s)(?:CT|PCT|Chủ tịch|Phó Chủ tịch|đ/c|đồng chí)\s*$", text[: m.start()]):
            continue  # 'CT xã Lê Văn Tám': a person's title, not the issuer
        key = search_view(m.group("kind")).rstrip(".")
        for word, kind in _UNIT_WORDS:
            if key == word:
                words = m.group("name").split()
                while words and not words[-1][:1].isupper():
                    words.pop()  # the class of capitals also holds lowercase accented letters
                if not words or not all(w[:1].isupper() for w in words):
                    break
                name = " ".join(words)
                if search_view(name.split()[0]) in ("thang", "nam", "quy", "lan", "ky", "ngay"):
                    break
                if name.isupper() and len(name) > 3:
                    rest = text[m.end():].strip(" .,;:!")
                    if not explicit or rest:
                        break
                    name = " ".join(w.capitalize() for w in name.split())
                return Issuer(kind, name)
    return None


_BARE_UNIT = re.compile(
    r"(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+(?P<kind>thành phố|thị xã|thị trấn|tỉnh|huyện|quận|phường|xã)"
    r"(?!\s+[A-ZĐÀ-Ỹ])",
)


def parse_unit_kind(text: str) -> UnitKind | None:
    """'trụ sở UBND xã', 'CT UBND phường' -> the kind of unit, its name not given."""
    m = _BARE_UNIT.search(nfc(text))
    if m is None:
        return None
    key = search_view(m.group("kind"))
    return next((kind for word, kind in _UNIT_WORDS if word == key), None)


def has_diacritics(text: str) -> bool:
    return search_view(text) != text.lower()


# --- formal wording -------------------------------------------------------------------------

# Shorthand of notes that the gazetteer does not spell; rewritten before agencies are matched.
_AGENCY_SHORTHAND: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bSở XD\b"), "Sở Xây dựng"),
    (re.compile(r"\bTTPVHCC\b"), "Trung tâm Phục vụ hành chính công"),
    (re.compile(r"\bTrung tâm PTQĐ\b"), "Trung tâm Phát triển quỹ đất"),
)
_OFFICE_SHORTHAND = re.compile(r"\bVP\b(?!\s*(?:HĐND|UBND))")
_OFFICE_FULL_SHORTHAND = re.compile(r"\bVP\s*HĐND\s*(?:-|–|và|&)?\s*UBND\b(?:\s+(?:xã|phường|huyện|thị xã|thị trấn))?")
# A head word and a short form written in capitals ('Sở TC', 'P.KT', 'P. KT-HT-ĐT', 'Phòng VH-XH'):
# read by the gazetteer's derived short forms, written back as the canonical name.
_HEAD_SHORT = re.compile(
    r"(?<!\w)(?P<head>Sở|Phòng|P\.|Trung tâm|Ban|BQL)\s*(?P<abbr>[A-ZĐ][A-ZĐ0-9]+(?:\s*[&,\-]\s*[A-ZĐ][A-ZĐ0-9]*)*)(?![\w&-])"
)

# Words clerks shorten in notes; expanded in the draft (never agencies, dates or numbers).
WORDS: dict[str, str] = {
    "GPMB": "giải phóng mặt bằng",
    "XDCB": "xây dựng cơ bản",
    "GCN": "giấy chứng nhận quyền sử dụng đất",
    "NSNN": "ngân sách nhà nước",
    "NS": "ngân sách",
    "ĐTC": "đầu tư công",
    "TTHC": "thủ tục hành chính",
    "ATTP": "an toàn thực phẩm",
    "ĐBQH": "đại biểu Quốc hội",
    "CHT": "Chỉ huy trưởng",
    "PCTT": "phòng, chống thiên tai",
    "BCH": "Ban Chỉ huy",
    "MB": "mặt bằng",
    "KL": "khối lượng",
    "KN": "khiếu nại",
    "bc": "báo cáo",
    "KQ": "kết quả",
    "NV": "nhiệm vụ",
    "PCT": "Phó Chủ tịch",
    "CT": "Chủ tịch",
    "GĐ": "Giám đốc",
    "VP": "Văn phòng",
    "PTQĐ": "Phát triển quỹ đất",
    "KT-XH": "kinh tế - xã hội",
    "ATGT": "an toàn giao thông",
    "ANTT": "an ninh trật tự",
    "TDP": "tổ dân phố",
    "tp": "thành phố",
    "TP": "thành phố",
    "BQL": "Ban Quản lý",
}
_WORDS = WORDS
WORD_RE = re.compile(r"(?<![\w&-])(" + "|".join(re.escape(w) for w in sorted(_WORDS, key=len, reverse=True)) + r")(?![\w&-])")
_WORD_RE = WORD_RE
_COMRADE_RE = re.compile(r"(?<!\w)đ/c(?!\w)")
_WARD_RE = re.compile(r"(?<!\w)p\.\s*(?=[A-ZĐ])")
_COMMUNE_RE = re.compile(r"(?<!\w)x\.\s*(?=[A-ZĐ])")
MONTH_SHORT_RE = re.compile(r"(?<![\w/])T(\d{1,2})(?=/\d{4}(?!\d)|(?![\w/]))")

# District-level units named "… huyện" in the gazetteer take the issuer's own unit word.
_DISTRICT_SUFFIX = re.compile(r"\s+huyện$")
_PLACE_END = re.compile(r"\s(?:xã|phường|thị trấn|huyện|quận|thị xã|thành phố|tỉnh)$")
_EXPLICIT_DISTRICT = re.compile(r"(?<!\w)(?:huyện|quận|HUYỆN|QUẬN)(?!\w)")

TWO_TIERS_FROM = dt.date(2025, 7, 1)  # districts abolished; communes have their own units
# A district unit named short in the notes of a commune or ward after 1/7/2025 (no district
# exists any more): the commune's own unit that took over its field (xã, phường).
_COMMUNE_COUNTERPART: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("phong-tnmt", "phong-nnmt", "phong-nnptnt", "phong-tckh", "phong-kinh-te"),
        ("phong-kinh-te-xa", "phong-ktht-dt-xa"),
    ),
    **dict.fromkeys(("phong-ktht", "phong-qldt"), ("phong-kinh-te-xa", "phong-ktht-dt-xa")),
    **dict.fromkeys(
        ("phong-vhtt", "phong-gddt", "phong-ldtbxh", "phong-y-te"), ("phong-vhxh-xa", "phong-vhxh-xa")
    ),
    **dict.fromkeys(
        ("phong-noi-vu", "phong-tu-phap", "vp-hdnd-ubnd-huyen"), ("vp-hdnd-ubnd-xa", "vp-hdnd-ubnd-xa")
    ),
    "cong-an-huyen": ("cong-an-xa", "cong-an-xa"),
    "bchqs-huyen": ("bchqs-xa", "bchqs-xa"),
}
_LEVEL_RANK = {Level.COMMUNE: 0, Level.DISTRICT: 1, Level.PROVINCE: 2, Level.CENTRAL: 3}


def expand_words(text: str) -> str:
    text = _COMRADE_RE.sub("đồng chí", text)
    text = _WARD_RE.sub("phường ", text)
    text = _COMMUNE_RE.sub("xã ", text)
    text = MONTH_SHORT_RE.sub(r"tháng \1", text)
    return _WORD_RE.sub(lambda m: _WORDS[m.group(1)], text)


@dataclass(frozen=True)
class LevelReading:
    """A unit named short whose level did not exist at the meeting date, read as the
    issuer's own unit ('TNMT' at a commune in 2026 -> Phòng Kinh tế)."""

    written: str
    agency: str


@dataclass
class Context:
    """What wording depends on: the issuer (its level) and the meeting date."""

    issuer: Issuer
    meeting_date: dt.date
    gazetteer: Gazetteer
    readings: list[LevelReading] = field(default_factory=list)
    named: set[str] = field(default_factory=set)  # agencies read from short forms ('Sở: TC, XD')

    @property
    def level(self) -> Level:
        return self.issuer.level

    @property
    def hint(self) -> Level | None:
        return None if self.level is Level.UNKNOWN else self.level

    def office(self) -> str:
        if self.level is Level.PROVINCE:
            return "Văn phòng UBND tỉnh"
        if self.issuer.kind is None:
            return "Văn phòng"
        return f"Văn phòng HĐND và UBND {self.issuer.kind.value}"

    def prepare(self, text: str) -> str:
        """Rewrite shorthand the gazetteer cannot read into names it knows."""
        for pattern, full in _AGENCY_SHORTHAND:
            text = pattern.sub(full, text)
        text = _OFFICE_FULL_SHORTHAND.sub(self.office(), text)
        text = _OFFICE_SHORTHAND.sub(self.office(), text)
        return _HEAD_SHORT.sub(self._head_short, text)

    def _head_short(self, m: re.Match[str]) -> str:
        head = "Phòng" if m.group("head") == "P." else m.group("head")
        written = f"{head} {m.group('abbr')}"
        if self.gazetteer.lookup(written, self.hint, self.meeting_date) is not None:
            return m.group(0) if m.group("head") != "P." else written
        agency = self.gazetteer.resolve(written, self.hint, self.meeting_date)
        if agency is None or agency.is_group:
            return m.group(0)
        return self.settle(agency, written).name

    def resolve(self, written: str) -> Agency | None:
        """What the notes or the clerk wrote -> the agency at the issuer's level and date."""
        agency = self.gazetteer.resolve(self.prepare(written), self.hint, self.meeting_date)
        return self.settle(agency, written) if agency is not None else None

    def current(self, agency: Agency) -> Agency:
        return self.gazetteer.successor(agency, self.meeting_date)

    def settle(self, agency: Agency, written: str) -> Agency:
        """The agency that exists at the meeting date: the 2025 successor, or for a commune
        after 1/7/2025 its own unit in place of a district unit named without 'huyện'."""
        current = self.current(agency)
        if (
            self.level is Level.COMMUNE
            and self.meeting_date >= TWO_TIERS_FROM
            and current.level is Level.DISTRICT
            and not current.valid_on(self.meeting_date)
            and not _EXPLICIT_DISTRICT.search(written)
        ):
            pair = _COMMUNE_COUNTERPART.get(current.id)
            mapped = self.gazetteer.get(pair[1 if self.issuer.kind is UnitKind.WARD else 0]) if pair else None
            if mapped is not None:
                reading = LevelReading(written.strip(), self.formal_name(mapped, mapped.name))
                if reading not in self.readings:
                    self.readings.append(reading)
                return mapped
        return current

    def issuer_agency_ids(self) -> set[str]:
        """The issuer itself and its office: named in a task line without being assigned."""
        out: set[str] = set()
        for name in (self.issuer.unit, self.office()):
            agency = self.gazetteer.resolve(name, self.hint, self.meeting_date)
            if agency is not None:
                out.add(agency.id)
        return out

    def above(self, agency: Agency | None) -> bool:
        """Whether ``agency`` is a body of a higher level than the issuer (a Sở for a commune)."""
        if agency is None or agency.is_group or self.level not in _LEVEL_RANK:
            return False
        return _LEVEL_RANK.get(agency.level, -1) > _LEVEL_RANK[self.level]

    def misplaced(self, agency: Agency) -> str | None:
        """Why ``agency`` cannot be named in this notice (None: it can)."""
        if not agency.valid_on(self.meeting_date):
            return (
                f"'{agency.name}' ({_LEVEL_WORD.get(agency.level, '')}) không còn tồn tại vào ngày họp "
                f"{self.meeting_date.day}/{self.meeting_date.month}/{self.meeting_date.year}"
                + (" (từ 01/7/2025 không còn cấp huyện)" if agency.level is Level.DISTRICT else "")
            )
        if (
            not agency.is_group
            and self.level in _LEVEL_RANK
            and agency.level in _LEVEL_RANK
            and _LEVEL_RANK[agency.level] < _LEVEL_RANK[self.level]
            and not agency.id.startswith("ubnd-")
        ):
            return f"'{agency.name}' là đơn vị {_LEVEL_WORD[agency.level]}, không thuộc {self.issuer.unit}"
        return None

    def formal_name(self, agency: Agency, written: str) -> str:
        """The full name at the issuer's level, after the 2025 reorganization when it applies."""
        if agency.is_group or agency.id.startswith("ubnd-"):
            text = expand_words(written)
            if not search_view(text).startswith("ubnd") and agency.id.startswith("nhom-ubnd"):
                text = "UBND " + text
            return text
        current = self.settle(agency, written)
        name = current.name
        kind = self.issuer.kind.value if self.issuer.kind is not None else None
        if current.level is Level.DISTRICT and self.level is Level.DISTRICT and kind:
            name = _DISTRICT_SUFFIX.sub(" " + kind, name)
            if current.id == "vp-hdnd-ubnd-huyen":
                name = f"{name} {kind}"
        elif current.level is Level.COMMUNE and kind and name.endswith((" xã", " phường", " thị trấn")):
            name = re.sub(r"\s+(?:xã|phường|thị trấn)$", " " + kind, name)
        elif current.level is Level.DISTRICT and self.level is Level.COMMUNE and not _PLACE_END.search(name):
            # a commune names the district's room with its place ('Phòng … huyện')
            place = re.search(r"(?<!\w)(thị xã|thành phố|quận|huyện)(?!\w)", written)
            name = f"{name} {place.group(1) if place else 'huyện'}"
        return name

    def formalize(self, text: str) -> str:
        """Agency shorthand -> full names, clerk abbreviations -> words; nothing else changes."""
        text = self.prepare(text)
        mentions = self.gazetteer.find_mentions(text, level=self.hint, on=self.meeting_date)
        out: list[str] = []
        pos = 0
        for ref in mentions:
            out.append(expand_words(text[pos : ref.start]))
            agency = (
                self.gazetteer.by_name(ref.canonical, ref.level) if ref.canonical else None
            )
            if agency is None:
                out.append(ref.text)  # unknown bodies keep the name as written
            else:
                out.append(self.formal_name(agency, ref.text))
            pos = ref.end
        out.append(expand_words(text[pos:]))
        return "".join(out)


_LEVEL_WORD = {
    Level.CENTRAL: "cấp trung ương",
    Level.PROVINCE: "cấp tỉnh",
    Level.DISTRICT: "cấp huyện",
    Level.COMMUNE: "cấp xã",
}


# --- parsed notes ---------------------------------------------------------------------------


@dataclass
class TaskAgency:
    written: str
    agency: Agency | None  # None: not in the gazetteer (kept as written, warned)
    role: Role
    formal: str


@dataclass
class NoteDeadline:
    written: str  # as in the notes: "xong trước 15/5/2024"
    official: str  # "hoàn thành trước ngày 15/5/2024"
    date: dt.date | None
    period_start: dt.date | None
    recurring: bool
    year_inferred: bool  # the notes gave no year; it was taken from the meeting date


@dataclass
class NoteTask:
    lines: list[NoteLine]
    verb: str | None  # "Giao", "Yêu cầu", "Đề nghị" when the notes say so
    agencies: list[TaskAgency]  # assigned (lead/joint first), then coordinators
    body: str  # the task, formal wording, without the agency, deadline rewritten
    deadline: NoteDeadline | None
    report_item: bool = False  # belongs to part III (opinions on specific reports)

    @property
    def assigned(self) -> list[TaskAgency]:
        return [a for a in self.agencies if a.role is not Role.COORDINATE]

    @property
    def coordinators(self) -> list[TaskAgency]:
        return [a for a in self.agencies if a.role is Role.COORDINATE]


@dataclass
class NoteItem:
    line: NoteLine
    text: str  # formal wording


@dataclass
class ParsedNotes:
    lines: list[NoteLine]
    issuer: Issuer
    meeting_date: dt.date
    meeting_name: str  # "phiên họp UBND thị xã tháng 4/2024"
    time: str | None = None
    place: str | None = None
    chair_name: str | None = None
    chair_position: str | None = None
    attendees: str | None = None
    heard: list[NoteItem] = field(default_factory=list)
    results: list[NoteItem] = field(default_factory=list)
    shortcomings: list[NoteItem] = field(default_factory=list)
    reports: list[NoteItem] = field(default_factory=list)
    tasks: list[NoteTask] = field(default_factory=list)
    unplaced: list[NoteLine] = field(default_factory=list)
    header_lines: list[NoteLine] = field(default_factory=list)
    notes_warnings: list[tuple[str, str, list[int]]] = field(default_factory=list)
    skipped: list[NoteLine] = field(default_factory=list)  # greetings, 'Cuộc họp kết thúc …'
    section_headings: list[NoteLine] = field(default_factory=list)  # 'I. NÂNG CAO …' of a speech
    named: set[str] = field(default_factory=set)  # ids of agencies read from short forms (attendees)
    issuer_source: str = "notes"  # notes | option | profile | blank
    date_known: bool = True  # False: the notes give no meeting date; the opening leaves it blank


# --- line classification --------------------------------------------------------------------


class Part(StrEnum):
    HEADER = "header"
    HEARD = "heard"
    RESULTS = "results"
    SHORTCOMINGS = "shortcomings"
    TASKS = "tasks"
    REPORTS = "reports"


_BULLET = re.compile(r"^(?:[-+*•–]|\d{1,2}[.)]|[a-zđ]\))\s+")
_HEADINGS: tuple[tuple[re.Pattern[str], Part], ...] = (
    (re.compile(r"^(?:y kien|cho y kien|ve cac bao cao|doi voi cac bao cao|cac bao cao)"), Part.REPORTS),
    (re.compile(r"^(?:nhung )?(?:ton tai|han che|kho khan|vuong mac|chua dat|chua lam duoc)"), Part.SHORTCOMINGS),
    (re.compile(r"^(?:nhung )?(?:ket qua|danh gia|kq|ghi nhan|da lam duoc)"), Part.RESULTS),
    (
        re.compile(r"^(?:(?:dong chi |d/c )?(?:chu tich|pct|ct|pho chu tich)\s+)?(?:ket luan|giao viec|"
                   r"giao nhiem vu|nhiem vu|phan cong|chi dao)"),
        Part.TASKS,
    ),
    (re.compile(r"^(?:noi dung|nghe bao cao)$"), Part.HEARD),
)
_KEYS = (
    ("thoi gian", "time"),
    ("dia diem", "place"),
    ("chu tri", "chair"),
    ("thanh phan", "attendees"),
    ("tham du", "attendees"),
    ("du hop", "attendees"),
    ("du", "attendees"),
    ("noi dung", "heard"),
)
_KEY_RE = re.compile(
    r"(?:^|(?<=[.;]\s))(?P<key>" + "|".join(k for k, _ in _KEYS) + r")\s*:\s*", re.IGNORECASE
)
_CHAIR_INLINE = re.compile(r"^(?P<who>.{3,80}?)\s+chủ trì\.?$")
_HEARD_INLINE = re.compile(r"^(?:hội nghị |cuộc họp |phiên họp )?nghe\s", re.IGNORECASE)
_CLERK_COMMENT = re.compile(r"^\(?\s*(?:ghi chú|gc|lưu ý|nb)\s*[:.]", re.IGNORECASE)
_TASK_VERB = re.compile(r"^(?P<verb>Giao|Yêu cầu|Đề nghị)\s+", re.IGNORECASE)
_WHO_SPLIT = re.compile(r"\s*(?:\+|;|\s&\s)\s*")
_ROLE_WORDS = re.compile(r"\s+(?P<role>chủ trì|phối hợp|thực hiện)\s*$", re.IGNORECASE)
_LEAD_THEN_COORD = re.compile(
    r"^(?P<lead>.+?)\s+(?:chủ trì\s*,?\s*)?phối hợp(?:\s+với)?\s+(?P<coord>.+)$", re.IGNORECASE
)
# Minutes number the agreed conclusions in words: 'Một là, …', 'Sáu là …'.
_ORDINAL = re.compile(
    r"^(?:Một|Hai|Ba|Bốn|Năm|Sáu|Bảy|Tám|Chín|Mười|Thứ nhất|Thứ hai|Thứ ba|Thứ tư|Thứ năm|Thứ sáu)"
    r"\s+là\s*[,:]?\s*",
    re.IGNORECASE,
)
# Spoken words around the content of a closing speech, and the closing lines of minutes.
_CEREMONY = re.compile(
    r"^(?:kính thưa|thưa các|xin (?:chân thành )?cảm ơn|xin trân trọng cảm ơn|chúc các đồng chí|"
    r"cuộc họp kết thúc|hội nghị kết thúc|buổi làm việc kết thúc|biên bản (?:này )?(?:được|kết thúc|lập)|"
    r"chúng tôi gồm)",
    re.IGNORECASE,
)
_SPEAKER = re.compile(
    r"^(?:(?:qua|sau khi nghe|trên cơ sở)[^:]{0,120}?,\s*)?(?:tôi|chúng tôi|hội nghị|cuộc họp)\s+(?:cũng\s+)?"
    r"(?:ghi nhận|đánh giá cao|nhận thấy|thống nhất đánh giá)\s*(?:là|rằng)?\s*:?\s*",
    re.IGNORECASE,
)
_SPEAKER_ASKS = re.compile(r"^(?:tôi|chúng tôi)\s+(?:cũng\s+|đề nghị\s+và\s+)?(?:đề nghị|yêu cầu|giao)\s+", re.IGNORECASE)
_BUT = re.compile(r"^(?:tuy nhiên|bên cạnh đó|mặt khác|song)\s*,?\s*", re.IGNORECASE)
# A line that opens the conclusions ('… tôi đề nghị:', '… các thành viên thống nhất:').
_OPENS_TASKS = re.compile(
    r"(?:đề nghị|yêu cầu|kết luận|thống nhất|giao nhiệm vụ|chỉ đạo)(?:[^:]{0,160})?\s*:$",
    re.IGNORECASE,
)
# Section headings of a speech or minutes ('I. NÂNG CAO TRÁCH NHIỆM …'): what follows is grouped
# by agency in the draft, the heading itself is reported.
_ROMAN_HEADING = re.compile(r"^(?:[IVX]{1,4}|[A-Đ])[.)]\s+\S")
_ALSO = re.compile(r"^(?:đồng thời|ngoài ra|bên cạnh đó)\s*,\s*", re.IGNORECASE)
_WHEN_LEAD = re.compile(
    r"^(?:ngay sau (?:cuộc họp|hội nghị)(?: này)?|sau (?:cuộc họp|hội nghị)(?: này)?|từ nay|"
    r"trong thời gian tới|thời gian tới)\s*,\s*",
    re.IGNORECASE,
)
_HEARD_LEAD = re.compile(r"^sau khi nghe\s+(?P<heard>.+?),\s*[^,]*$", re.IGNORECASE)
# What a line says when it names no agency: a shortcoming or a result, by its words.
_SHORTCOMING_WORDS = re.compile(
    r"^(?:còn|vẫn còn|chưa|hạn chế|tồn tại|khó khăn)|(?<!\w)(?:chưa|còn chậm|chậm|còn thấp|"
    r"thấp so với|vướng|khó khăn|hạn chế|tồn tại|trễ hạn|không đạt)(?!\w)",
    re.IGNORECASE,
)
_RESULT_WORDS = re.compile(
    r"^(?:đã|ghi nhận|đạt|hoàn thành|tăng)|(?<!\w)(?:đã|đạt|tăng|vượt|hoàn thành)(?!\w)", re.IGNORECASE
)
_SUBJECT_LINE = re.compile(r"^(?:V/v|về việc|nội dung họp|chủ đề)\s*[:.]?\s*", re.IGNORECASE)
_LABEL_TITLE = re.compile(
    r"^(?:bai )?(?:phat bieu|y kien)(?: ket luan)?|^(?:ghi chep|bien ban)(?: (?:hop|cuoc hop|hoi nghi|"
    r"nhanh))?$|^ket luan cua"
)
_MEETING_WORDS = re.compile(r"(?<!\w)(?:họp|hội nghị|giao ban|phiên|làm việc|hội thảo)(?!\w)", re.IGNORECASE)


def _heading(content: str) -> tuple[Part, str] | None:
    """'Kết quả:' / 'Tồn tại' / 'Chủ tịch kết luận, giao nhiệm vụ tháng 10:' -> part."""
    label, sep, rest = content.partition(":")
    if len(label) > 70:
        return None
    key = search_view(label).strip()
    for pattern, part in _HEADINGS:
        if pattern.match(key):
            if not sep and len(content.split()) > 8:
                return None
            if part is Part.RESULTS and key.startswith("kq") and rest.strip() == "" and len(key.split()) > 3:
                return None
            return part, rest.strip()
    return None


def parse_notes(
    text: str,
    gazetteer: Gazetteer,
    issuer: Issuer | None = None,
    chair: str | None = None,
    profile_issuer: Issuer | None = None,
    meeting_date: dt.date | None = None,
) -> ParsedNotes:
    """Notes -> ParsedNotes. The issuer: ``issuer`` (given by the user), else the notes, else
    ``profile_issuer`` (the office profile), else left blank to fill — never a refusal."""
    lines = split_lines(text)
    if not lines:
        raise AssistantError("Ghi chép trống: không có dòng nào để soạn thông báo.")
    header_end = _header_end(lines)
    header = lines[:header_end]
    date_known = True
    if meeting_date is not None:
        year_from_notes, date_line = True, None
    else:
        try:
            meeting_date, year_from_notes, date_line = _meeting_date(lines, header)
        except AssistantError:
            # a closing speech often gives no date: left blank to fill, never a refusal; today
            # only decides which agencies exist
            meeting_date, year_from_notes, date_line, date_known = dt.date.today(), True, None, False
    issuer_line = _issuer_line(header) or _issuer_line(lines)
    from_notes = parse_issuer(_without_attendees(issuer_line.text), issuer_line is lines[0]) if issuer_line else None
    source = "option" if issuer else "notes" if from_notes else "profile" if profile_issuer else "blank"
    found_issuer = issuer or from_notes or profile_issuer
    warnings: list[tuple[str, str, list[int]]] = []
    if found_issuer is None:
        kind = next((k for line in header + lines for k in [parse_unit_kind(line.text)] if k), None)
        found_issuer = Issuer(kind, "")
        warnings.append((
            "issuer_blank",
            "Ghi chép không nêu cơ quan ban hành và chưa khai báo hồ sơ cơ quan: dự thảo để trống "
            f"tên cơ quan ('{found_issuer.header}') để điền. Khai báo hồ sơ cơ quan một lần "
            "(mục Hồ sơ cơ quan trên trang, hoặc ASSISTANT_OFFICE_ISSUER) để không phải điền lại.",
            [],
        ))
    ctx = Context(found_issuer, meeting_date, gazetteer)
    notes = ParsedNotes(lines=lines, issuer=found_issuer, meeting_date=meeting_date, meeting_name="",
                        issuer_source=source)
    notes.notes_warnings.extend(warnings)
    notes.date_known = date_known
    if not date_known:
        notes.notes_warnings.append((
            "meeting_date_blank",
            "Ghi chép không nêu ngày họp: dự thảo để trống ngày họp để điền (ví dụ ghi "
            "'Hôm nay, ngày 26/5/2026' hoặc chọn ngày họp trên trang). Cơ quan được đọc theo ngày hôm nay.",
            [],
        ))
    if not year_from_notes:
        notes.notes_warnings.append((
            "meeting_year_inferred",
            f"Ngày họp trong ghi chép không có năm; đã lấy năm {meeting_date.year} theo các ngày "
            "khác trong ghi chép. Hãy kiểm tra lại.",
            [date_line.number] if date_line else [],
        ))
    if found_issuer.level is Level.DISTRICT and meeting_date >= TWO_TIERS_FROM:
        notes.notes_warnings.append((
            "issuer_abolished",
            f"{found_issuer.short} là cấp huyện, đã kết thúc hoạt động từ ngày 01/7/2025 nhưng "
            f"cuộc họp diễn ra ngày {meeting_date:%d/%m/%Y}. Hãy kiểm tra cơ quan ban hành.",
            [],
        ))
    if source == "notes" and issuer_line is not None and not has_diacritics(issuer_line.text):
        notes.notes_warnings.append((
            "issuer_no_diacritics",
            f"Tên địa phương '{found_issuer.name}' trong ghi chép không có dấu; hãy sửa lại "
            'hoặc dùng --issuer "UBND … tên có dấu".',
            [issuer_line.number],
        ))
    _parse_header(notes, header, ctx)
    if chair:
        notes.chair_name, notes.chair_position = _split_person(chair, ctx)
    _parse_body(notes, lines[header_end:], ctx)
    notes.named = set(ctx.named)
    for reading in ctx.readings:
        notes.notes_warnings.append((
            "agency_by_level",
            f"'{reading.written}': từ 01/7/2025 không còn cấp huyện; dự thảo hiểu là "
            f"{reading.agency} của {found_issuer.unit}. Hãy kiểm tra.",
            [line.number for line in lines if reading.written in line.text][:5],
        ))
    return notes


def _free_header_line(line: NoteLine, index: int) -> bool:
    """A header line without 'Key:': the date line, 'V/v …', 'Hôm nay, ngày …', a greeting."""
    content = _BULLET.sub("", line.text, count=1)
    if _SUBJECT_LINE.match(content) or _CEREMONY.match(content):
        return True
    if index <= 3 and content.isupper() and not _ROMAN_HEADING.match(content):
        return True  # a title in capitals running over several lines
    if index == 1 and re.match(r"^(?:họp|cuộc họp|hội nghị|phiên họp|buổi làm việc)\b", content, re.IGNORECASE):
        return len(content) <= 200  # the subject under a title such as PHÁT BIỂU KẾT LUẬN
    if index <= 3 and _has_date(content) and not _TASK_VERB.match(content):
        return len(content) <= 200
    return index == 1 and parse_issuer(content) is not None and len(content) <= 120


def _header_end(lines: list[NoteLine]) -> int:
    """Header: the title line and 'Key: value' lines until the first section or bullet."""
    for i, line in enumerate(lines):
        if i == 0:
            continue
        if _BULLET.match(line.text) and not _KEY_RE.search(search_view(_BULLET.sub("", line.text, count=1))):
            return i
        if _heading(line.text) is not None:
            return i
        content = _BULLET.sub("", line.text, count=1)
        if not (_KEY_RE.search(search_view(content)) or _CHAIR_INLINE.search(content.split(".")[-1] or content)
                or _CHAIR_INLINE.search(content.split(".")[0]) or _HEARD_INLINE.match(content)
                or _free_header_line(line, i)):
            return i
    return len(lines)


_DATE_IN_HEADER = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?(?![\d/])")
_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def _has_date(text: str) -> bool:
    """A day and month that can be a date ('9/3/2026'; not '15/18 xã', not 'T3/2026')."""
    return any(
        1 <= int(m.group(1)) <= 31 and 1 <= int(m.group(2)) <= 12
        and not re.search(r"[Tt]\s*$", text[: m.start()])
        for m in _DATE_IN_HEADER.finditer(text)
    )
_TIME = re.compile(r"(?<![\w/])(\d{1,2}\s*(?:h|giờ)\s*(?:\d{2}(?:\s*phút)?)?)(?!\w)", re.IGNORECASE)


_DEADLINE_BEFORE = re.compile(
    r"(?:trước|xong|hạn|đến|chậm nhất|hoàn thành|trong)\s*(?:ngày\s*)?$", re.IGNORECASE
)


def _meeting_date(lines: list[NoteLine], header: list[NoteLine]) -> tuple[dt.date, bool, NoteLine | None]:
    """The meeting date: the first date of the header ('Hôm nay, ngày 26/5/2026', 'sáng thứ
    Hai 9/3/2026', 'T3/2026' does not count), else of the first lines of the notes."""
    years = Counter(int(y) for line in lines for y in _YEAR.findall(line.text))
    for line in [*header, *lines[: max(len(header), 6)]]:
        for m in _DATE_IN_HEADER.finditer(line.text):
            day, month = int(m.group(1)), int(m.group(2))
            if not (1 <= day <= 31 and 1 <= month <= 12):
                continue
            if re.search(r"[Tt]háng\s*$|T\s*$", line.text[: m.start()]):
                continue
            if _DEADLINE_BEFORE.search(line.text[: m.start()]):
                continue  # 'xong trước 30/3/2026' is a deadline, not the meeting day
            if m.group(3):
                try:
                    return dt.date(int(m.group(3)), month, day), True, line
                except ValueError:
                    continue
            if years:
                try:
                    return dt.date(years.most_common(1)[0][0], month, day), False, line
                except ValueError:
                    continue
    raise AssistantError(
        "Không tìm thấy ngày họp trong phần đầu ghi chép (ví dụ 'Thời gian: 8h00 ngày 05/12/2024' "
        "hoặc 'Hôm nay, ngày 26/5/2026')."
    )


def _without_attendees(text: str) -> str:
    for m in _KEY_RE.finditer(search_view(text)):
        if dict(_KEYS)[m.group("key").lower()] == "attendees":
            return text[: m.start()]
    return text


def _issuer_line(lines: list[NoteLine]) -> NoteLine | None:
    """The line that names the issuer: 'UBND …' written out after the title wins, then the
    title's own unit, then a bare 'xã …'; an attendee list names guests, not the issuer."""
    ranked: list[tuple[int, int, NoteLine]] = []
    for i, line in enumerate(lines):
        title = i == 0
        content = _without_attendees(_BULLET.sub("", line.text, count=1))
        if parse_issuer(content, title) is None:
            continue
        explicit = any(_EXPLICIT_UBND.match(m.group(0)) for m in _ISSUER_RE.finditer(nfc(content)))
        ranked.append((1 if title else 0 if explicit else 2, i, line))
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None


_TITLE_PREFIX = re.compile(r"^(?:ghi chép|ghi chep|biên bản)\s*(?:nhanh\s*)?[:\-–]?\s*", re.IGNORECASE)
_UNACCENTED_MEETING = {"hop": "họp", "hoi nghi": "hội nghị", "giao ban": "giao ban", "phien hop": "phiên họp"}


def _meeting_name(title: str, ctx: Context) -> str:
    name = _TITLE_PREFIX.sub("", title).strip()
    name = _SUBJECT_LINE.sub("", name)
    # the unit or the date at the end of a quick title ("… 10/7 - tp Lam Thuy") is not the subject
    name = re.split(r"\s+[-–]\s+(?=(?:tp|TP|thị xã|huyện|tỉnh|xã|phường|UBND|ngày|Ngày)\b)", name)[0]
    name = re.split(r",\s*(?=(?:ngày|sáng|chiều|tối|hôm nay)\b)", name, flags=re.IGNORECASE)[0]
    name = _DATE_IN_HEADER.sub("", name).strip(" -–,.") if not _YEAR.search(name) else name
    if name.isupper():
        words = []
        for word in name.split():
            keep = word in ("UBND", "HĐND") or word in _WORDS or any(ch.isdigit() for ch in word)
            words.append(word if keep else word.lower())
        name = " ".join(words)
        name = re.sub(
            r"\b(tỉnh|thị xã|thành phố|huyện|xã|phường)\s+([a-zà-ỹđ]+(?:\s+[a-zà-ỹđ]+)?)\b",
            lambda m: m.group(1) + " " + " ".join(w.capitalize() for w in m.group(2).split())
            if m.group(2).split()[0] not in ("tháng", "năm", "quý") else m.group(0),
            name,
        )
    if not has_diacritics(name):
        for plain, accented in _UNACCENTED_MEETING.items():
            name = re.sub(rf"\b{plain}\b", accented, name)
    name = expand_words(name)
    name = name[0].lower() + name[1:] if name and not name[:4].isupper() else name
    if not re.match(r"^(?:phiên họp|cuộc họp|hội nghị|buổi|hội thảo|họp)", name):
        name = "cuộc " + name if name.startswith("họp") else "cuộc họp " + name
    elif name.startswith("họp"):
        name = "cuộc " + name
    return name


_PERSON_TITLE = re.compile(
    r"^(?P<pos>PCT|CT|Phó Chủ tịch|Chủ tịch)(?:\s+(?:UBND\s+)?(?:xã|phường|huyện|tỉnh|thị xã|thành phố|thị trấn))?"
    r"\s+(?P<name>(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\s*){2,5})$"
)
_UNIT_END = re.compile(r"\s+(?:UBND\s+)?(?:xã|phường|huyện|tỉnh|thị xã|thành phố|thị trấn)$")


def _split_person(text: str, ctx: Context) -> tuple[str | None, str | None]:
    """'đ/c Trần Quốc Khải - Chủ tịch UBND thị xã' / 'PCT Bùi Thanh Tùng' -> (name, position)."""
    text = re.sub(r"^(?:đ/c|đồng chí|Đ/c|Đồng chí|ông|bà|Ông|Bà)\s+", "", text.strip().rstrip("."))
    title_first = _PERSON_TITLE.match(text)
    if title_first:
        name, position = title_first.group("name").strip(), title_first.group("pos")
    else:
        parts = re.split(r"\s+[-–]\s+|,\s*", text, maxsplit=1)
        name = parts[0].strip()
        position = parts[1].strip() if len(parts) > 1 else None
    if position:
        position = expand_words(position)
        if "UBND" not in position and "Ủy ban" not in position:
            position = f"{_UNIT_END.sub('', position)} {ctx.issuer.unit}"
    return name or None, position


def _free_line(notes: ParsedNotes, line: NoteLine, text: str, ctx: Context) -> None:
    """A header line without 'Key:' ('Hôm nay, ngày 20/11/2024, tại phòng họp UBND huyện …')."""
    if _CEREMONY.match(text):
        notes.skipped.append(line)
        return
    if _SUBJECT_LINE.match(text):
        notes.meeting_name = _meeting_name(text, ctx)
        return
    if not _has_date(text):
        return
    if notes.time is None:
        time = _TIME.search(text)
        if time:
            notes.time = time.group(1).replace(" ", "")
    if notes.place is None:
        for piece in re.split(r",\s*|\.\s+", text):
            piece = piece.strip().rstrip(".")
            m = re.match(r"^(?:tại\s+)?(?P<place>(?:hội trường|phòng họp|trụ sở|nhà văn hóa|nhà văn hoá|"
                         r"văn phòng|trung tâm hội nghị|hội trường)\b.*)$", piece, re.IGNORECASE)
            if m:
                notes.place = ctx.formalize(m.group("place"))
                break


def _parse_header(notes: ParsedNotes, header: list[NoteLine], ctx: Context) -> None:
    title = header[0].text if header else ""
    notes.header_lines = list(header)
    rest = header[1:]
    if header and _KEY_RE.match(search_view(_BULLET.sub("", title, count=1))):
        rest = header
        notes.meeting_name = "cuộc họp"
    elif header and _LABEL_TITLE.match(search_view(title).strip(" :")):
        # 'BIÊN BẢN HỌP', 'PHÁT BIỂU KẾT LUẬN CỦA CHỦ TỊCH …': the subject is on a later line
        notes.meeting_name = "cuộc họp"
        for k, line in enumerate(rest):
            content = _BULLET.sub("", line.text, count=1)
            if content.isupper() and _MEETING_WORDS.search(content):
                # a subject in capitals may run over several lines ('HỌP … NĂM 2025' / 'VÀ …')
                for more in rest[k + 1:]:
                    if not more.text.isupper() or _heading(more.text):
                        break
                    content += " " + more.text
                notes.meeting_name = _meeting_name(content, ctx)
                break
            if _SUBJECT_LINE.match(content) or (
                _MEETING_WORDS.search(content.split(",")[0]) and not _KEY_RE.match(search_view(content))
            ):
                notes.meeting_name = _meeting_name(content, ctx)
                break
    elif header:
        notes.meeting_name = _meeting_name(title, ctx)
    for line in rest:
        text = _BULLET.sub("", line.text, count=1)
        fields = list(_KEY_RE.finditer(search_view(text)))
        before = text[: fields[0].start()] if fields else text
        if not fields:
            _free_line(notes, line, text, ctx)
        for segment in filter(None, (s.strip() for s in re.split(r"\.\s+", before))):
            chair = _CHAIR_INLINE.match(segment.rstrip("."))
            if chair:
                notes.chair_name, notes.chair_position = _split_person(chair.group("who"), ctx)
            elif _HEARD_INLINE.match(segment):
                notes.heard.append(NoteItem(line, ctx.formalize(segment)))
        for i, m in enumerate(fields):
            end = fields[i + 1].start() if i + 1 < len(fields) else len(text)
            value = text[m.end() : end].strip().rstrip(".")
            key = dict(_KEYS)[m.group("key").lower()]
            if key == "time":
                notes.time = value
            elif key == "place":
                notes.place = ctx.formalize(value)
            elif key == "chair":
                notes.chair_name, notes.chair_position = _split_person(value, ctx)
            elif key == "attendees":
                heard = re.split(r"\s+(?=nghe\s)", value, maxsplit=1)
                notes.attendees = _attendees(heard[0], ctx)
                if len(heard) > 1:
                    notes.heard.append(NoteItem(line, ctx.formalize(heard[1])))
            elif key == "heard":
                notes.heard.append(NoteItem(line, ctx.formalize(value)))


_HEADED_LIST = re.compile(r"^(?P<pre>.*?)\b(?P<head>các Sở|các sở|các Phòng|các phòng|Sở|Phòng)\s*:\s*(?P<list>.+)$")


_PERSON_WORDS = re.compile(
    r"^(?:giám đốc|phó giám đốc|trưởng|phó trưởng|chủ tịch|phó chủ tịch|lãnh đạo|đại diện|GĐ|PGĐ|CT|PCT)\b",
    re.IGNORECASE,
)


def _attendee_part(part: str, ctx: Context, head: str | None = None) -> str:
    written = f"{head} {part}" if head else part
    agency = None if head is None and _PERSON_WORDS.match(part) else ctx.resolve(written)
    if agency is not None:
        ctx.named.add(agency.id)
        return ctx.formal_name(agency, written)
    return ctx.formalize(part)


def _attendees(value: str, ctx: Context) -> str:
    """'QLĐT, TNMT, CA tp' / 'GĐ các Sở: TC, XD, NN&MT; Kho bạc …' -> each unit by its full name."""
    chunks = [c.strip() for c in re.split(r";\s*", value) if c.strip()]
    out: list[str] = []
    for chunk in chunks:
        headed = _HEADED_LIST.match(chunk)
        if headed:
            head = "Sở" if "s" in search_view(headed.group("head"))[-3:] else "Phòng"
            names = [_attendee_part(p.strip(), ctx, head) for p in re.split(r",\s*", headed.group("list")) if p.strip()]
            pre = expand_words(headed.group("pre").strip())
            out.append((pre + " " if pre else "") + ", ".join(names))
            continue
        parts = [p.strip() for p in re.split(r",\s*", chunk) if p.strip()]
        if parts and all(len(p.split()) <= 4 for p in parts):
            # a bare list of units ("QLĐT, TNMT, CA tp"): name each one in full
            out.append(", ".join(_attendee_part(p, ctx) for p in parts))
        else:
            out.append(ctx.formalize(chunk))
    text = "; ".join(out)
    # 'Phó Chủ tịch xã' -> 'Phó Chủ tịch UBND xã'
    text = re.sub(r"((?:Phó )?Chủ tịch)\s+(?=(?:xã|phường|huyện|tỉnh|thị xã|thành phố|thị trấn)(?!\w))", r"\1 UBND ", text)
    if len(chunks) == 1 and not _HEADED_LIST.match(chunks[0]) and all(len(p.split()) <= 4 for p in chunks[0].split(",")):
        return "lãnh đạo " + text
    return text


def _by_meaning(content: str) -> Part | None:
    """A line naming no agency: a shortcoming ('Còn 2 tuyến kè …', 'Tuy nhiên, …') or a result
    ('Đã sơ tán 36 hộ …'), by its words rather than by where it stands."""
    if _BUT.match(content) or _SHORTCOMING_WORDS.search(content):
        return Part.SHORTCOMINGS
    if _RESULT_WORDS.search(content) or re.search(r"\d+\s*%", content):
        return Part.RESULTS
    return None


def _add_item(notes: ParsedNotes, part: Part, line: NoteLine, content: str, ctx: Context) -> None:
    content = _BUT.sub("", content)
    item = NoteItem(line, _sentence(ctx.formalize(content)))
    (notes.results if part is Part.RESULTS else notes.shortcomings).append(item)


def _parse_body(notes: ParsedNotes, lines: list[NoteLine], ctx: Context) -> None:
    part: Part | None = None
    current_who: tuple[list[TaskAgency], str | None, NoteLine] | None = None
    for line in lines:
        if _CEREMONY.match(_BULLET.sub("", line.text, count=1)):
            notes.skipped.append(line)
            continue
        heard = _HEARD_LEAD.match(line.text)
        if heard and line.text.rstrip().endswith(":"):
            notes.heard.append(NoteItem(line, ctx.formalize(heard.group("heard"))))
            part = Part.TASKS
            continue
        if _ROMAN_HEADING.match(line.text) and line.text.split(" ", 1)[-1].isupper():
            notes.section_headings.append(line)
            current_who = None
            continue
        heading = _heading(line.text) if not _BULLET.match(line.text) else None
        if heading is not None:
            part, rest = heading
            current_who = None
            if not rest:
                continue
            content = rest
        else:
            content = _BULLET.sub("", line.text, count=1)
        content = _ORDINAL.sub("", content)
        bullet = line.text[:1]
        if _CLERK_COMMENT.match(content):
            notes.unplaced.append(line)
            continue
        spoken = _SPEAKER.match(content)
        if spoken and content[spoken.end():].strip():
            _add_item(notes, Part.RESULTS, line, content[spoken.end():], ctx)
            continue
        if _OPENS_TASKS.search(content) and not _split_task(content.rstrip(":"), ctx):
            part = Part.TASKS
            current_who = None
            continue
        content = _WHEN_LEAD.sub("", _SPEAKER_ASKS.sub("", content))
        also = _ALSO.match(content)
        if also and notes.tasks and notes.tasks[-1].assigned and part in (None, Part.TASKS):
            rest_of_line = content[also.end():]
            if _split_task(rest_of_line[:1].upper() + rest_of_line[1:], ctx) is None:
                # 'Đồng thời, chủ trì …': the same agencies as the task before
                previous = notes.tasks[-1]
                who_again = [TaskAgency(a.written, a.agency, Role.ASSIGNED if a.role is Role.LEAD else a.role,
                                        a.formal) for a in previous.assigned]
                notes.tasks.append(_task([line], previous.verb, who_again, rest_of_line, ctx, False))
                continue
        if content[:1].islower():
            content = content[:1].upper() + content[1:]
        if part in (Part.RESULTS, Part.SHORTCOMINGS):
            parsed = _split_task(content, ctx)
            if parsed is not None and parsed[2].strip() and (
                parsed[0] is not None or ":" in content.split(" ", 8)[-1] or find_deadlines(content)
            ) and not re.match(r"^(?:đã|đạt)\b", parsed[2].strip(), re.IGNORECASE):
                verb, who, what = parsed
                notes.tasks.append(_task([line], verb, who, what, ctx, False))
                continue
            _add_item(notes, part, line, content, ctx)
            continue
        if part in (None, Part.TASKS, Part.REPORTS):
            if current_who is not None and bullet == "+":
                who, verb, who_line = current_who
                notes.tasks.append(_task([who_line, line], verb, who, content, ctx, part is Part.REPORTS))
                continue
            parsed = _split_task(content, ctx)
            if parsed is not None:
                verb, who, what = parsed
                if not what.strip():
                    current_who = (who, verb, line)
                    continue
                current_who = None
                notes.tasks.append(_task([line], verb, who, what, ctx, part is Part.REPORTS))
                continue
            meaning = _by_meaning(content)
            if meaning is not None and part is not Part.REPORTS and not find_deadlines(content):
                _add_item(notes, meaning, line, content, ctx)
                continue
            if part is Part.TASKS or (part is None and bullet in "-*+•"):
                notes.tasks.append(_task([line], None, [], content, ctx, False))
                continue
            if part is Part.REPORTS:
                notes.reports.append(NoteItem(line, _sentence(ctx.formalize(content))))
                continue
            if part is None and _HEARD_INLINE.match(content):
                notes.heard.append(NoteItem(line, ctx.formalize(content)))
                continue
            notes.unplaced.append(line)
        elif part is Part.HEARD:
            notes.heard.append(NoteItem(line, ctx.formalize(content)))


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "./.", "!", "?")) else text + "."


def _resolve_who(part: str, ctx: Context) -> list[tuple[str, Agency | None]]:
    """'TC-KH' / 'UBND các huyện Vân Sơn, Hà Khê' / 'Phòng VH-XH' -> agencies (None: unknown)."""
    part = part.strip().strip(",.")
    if not part:
        return []
    prepared = ctx.prepare(part)
    agency = ctx.gazetteer.resolve(prepared, ctx.hint, ctx.meeting_date)
    if agency is None:
        agency = _resolve_group(prepared, ctx)
    if agency is not None:
        return [(part, ctx.settle(agency, part))]
    pieces = [p for p in re.split(r",\s*|\s+và\s+", part) if p.strip()]
    if len(pieces) > 1:
        resolved = [(p, ctx.resolve(p)) for p in pieces]
        if all(a is not None for _, a in resolved):
            return resolved
    return [(part, None)]


def _resolve_group(text: str, ctx: Context) -> Agency | None:
    """'các xã' / 'các huyện' written short in notes -> the group of local committees."""
    text = text.strip()
    if not search_view(text).startswith("cac "):
        return None
    for variant in ("UBND " + text, text + ", phường", text + ", thành phố"):
        agency = ctx.gazetteer.resolve(variant, ctx.hint, ctx.meeting_date)
        if agency is not None and agency.is_group:
            return agency
    return None


def _looks_like_agency(text: str, ctx: Context) -> bool:
    """A 'who' before a colon: a known agency, or a short capitalized name (unknown body)."""
    words = text.split()
    if not words or len(words) > 9:
        return False
    if ctx.gazetteer.resolve(ctx.prepare(text), ctx.hint, ctx.meeting_date) is not None:
        return True
    if _resolve_group(text, ctx) is not None:
        return True
    if ctx.gazetteer.find_mentions(ctx.prepare(text), level=ctx.hint, on=ctx.meeting_date):
        return True
    if _heading(text) is not None or search_view(words[0]) in ("kq", "nv"):
        return False
    return words[0][:1].isupper() and (words[0].isupper() or words[0] in ("Ban", "Trạm", "Trung", "Cục", "Chi", "Đội"))


def _pieces(clause: str, role: Role, ctx: Context, strict: bool = True) -> list[TaskAgency] | None:
    out: list[TaskAgency] = []
    for piece in _WHO_SPLIT.split(clause):
        piece = piece.strip()
        if not piece:
            continue
        subpieces = [piece]
        if "," in piece and _resolve_group(piece, ctx) is None:
            split = [p.strip() for p in piece.split(",") if p.strip()]
            if all(_looks_like_agency(p, ctx) for p in split) or ctx.resolve(piece) is None:
                subpieces = split
        for sub in subpieces:
            if not _looks_like_agency(sub, ctx):
                if strict:
                    return None
                out.append(TaskAgency(sub, None, role, sub))  # 'các thôn': kept as written
                continue
            for written, agency in _resolve_who(sub, ctx):
                formal = ctx.formal_name(agency, written) if agency else written
                out.append(TaskAgency(written, agency, role, formal))
    return out


def _who_list(who: str, ctx: Context) -> list[TaskAgency] | None:
    """'QLĐT chủ trì, CA thị xã phối hợp' / 'TC-KH + các xã' / 'Sở TC chủ trì, phối hợp Sở XD,
    Sở NN&MT' / 'Sở GD&ĐT phối hợp Sở NV' -> agencies with roles."""
    lead_coord = _LEAD_THEN_COORD.match(who.strip())
    if lead_coord and not _ROLE_WORDS.search(who):
        leads = _pieces(re.sub(r"\s+chủ trì\s*,?$", "", lead_coord.group("lead").strip(), flags=re.IGNORECASE),
                        Role.LEAD, ctx)
        if leads:
            coords = _pieces(lead_coord.group("coord"), Role.COORDINATE, ctx, strict=False) or []
            return leads + coords
        return None
    out: list[TaskAgency] = []
    clauses = [c for c in re.split(r",\s*(?=[^,]*\b(?:chủ trì|phối hợp)\b)", who) if c.strip()]
    for clause in clauses:
        role_match = _ROLE_WORDS.search(clause)
        role = Role.ASSIGNED
        if role_match:
            role = Role.LEAD if role_match.group("role").lower() == "chủ trì" else Role.COORDINATE
            clause = clause[: role_match.start()]
        pieces = _pieces(clause, role, ctx)
        if pieces is None:
            return None
        out.extend(pieces)
    return out or None


_GROUP_AT = re.compile(
    r"(?:UBND\s+)?các\s+(?:xã|phường|thị trấn|huyện|thị xã|thành phố|quận)"
    r"(?:\s*,\s*(?:xã|phường|thị trấn|huyện|thị xã|thành phố|quận|đặc khu))*(?!\w)"
    r"|[Cc]ác\s+[Ss]ở,\s*(?:ban,\s*)?ngành(?!\w)",
)


def _group_at(text: str, pos: int, ctx: Context) -> AgencyRef | None:
    """'UBND các xã' written without the rest of the group's name ('…, phường')."""
    m = _GROUP_AT.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
    if m is None:
        return None
    bare = re.sub(r"^UBND\s+", "", m.group(0))
    if search_view(bare).startswith("cac so"):
        agency = ctx.gazetteer.get("nhom-so-nganh")
    else:
        agency = _resolve_group(bare, ctx) or ctx.gazetteer.resolve(m.group(0), ctx.hint, ctx.meeting_date)
    if agency is None or not agency.is_group:
        return None
    return AgencyRef(text=m.group(0), canonical=agency.name, level=agency.level, is_group=True,
                     start=m.start(), end=m.end())


_PLACE_LIST = re.compile(r"^(?:\s*,\s*|\s+và\s+|\s+)(?P<name>[A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?:\s+[A-ZĐÀ-Ỹ0-9][\wÀ-ỹ]*){0,3})")


def _split_task(content: str, ctx: Context) -> tuple[str | None, list[TaskAgency], str] | None:
    """A task line -> (verb, agencies, the rest); None when no agency is named."""
    verb_m = _TASK_VERB.match(content)
    verb = verb_m.group("verb").capitalize() if verb_m else None
    rest = content[verb_m.end() :] if verb_m else content
    who, sep, what = rest.partition(":")
    if sep and len(who) <= 90:
        named = _who_list(who, ctx)
        if named is not None:
            return verb, named, what.strip()
    # sentence form: "Sở XD hướng dẫn …", "Giao phòng Nội vụ tham mưu …"
    prepared = ctx.prepare(rest)
    agencies: list[TaskAgency] = []
    pos = last_end = 0
    while True:
        ref = _group_at(prepared, pos, ctx) or ctx.gazetteer.match_at(
            prepared, pos, level=ctx.hint, on=ctx.meeting_date, lenient=verb is not None
        )
        if ref is None:
            break
        agency = ctx.gazetteer.by_name(ref.canonical, ref.level) if ref.canonical else None
        written = ref.text
        end = ref.end
        if agency is not None and agency.is_group:
            # 'UBND các xã Tân Phú, Hòa Bắc': the places named after the group belong to it
            while agency.id.startswith("nhom-ubnd") and (more := _PLACE_LIST.match(prepared[end:])) and (
                all(w[:1].isupper() for w in more.group("name").split())
            ) and (
                (more.group(0)[:1].isspace() and end == ref.end) or not more.group(0)[:1].isspace()
            ) and not ctx.gazetteer.match_at(
                prepared, end + more.start("name"), level=ctx.hint, on=ctx.meeting_date
            ):
                end += more.end()
            written = prepared[ref.start:end]
        if agency is not None:
            agency = ctx.settle(agency, written)
        formal = ctx.formal_name(agency, written) if agency else written
        aside = re.match(r"\s*\(([^()]{3,120})\)", prepared[end:])
        if aside:
            # 'Văn phòng UBND tỉnh (Trung tâm Phục vụ hành chính công tỉnh) chủ trì …'
            formal += f" ({ctx.formalize(aside.group(1))})"
            end += aside.end()
        agencies.append(TaskAgency(written, agency, Role.ASSIGNED, formal))
        pos = last_end = end
        local = re.match(r"\s*(?:,|và)\s*(?:các\s+)?địa phương(?!\w)", prepared[pos:])
        if local and agency is not None and agency.is_group:
            below = ctx.gazetteer.subordinate(ctx.hint, ctx.meeting_date)
            if below is not None:
                agencies.append(TaskAgency("địa phương", below, Role.ASSIGNED, below.name))
                pos = last_end = pos + local.end()
        joiner = re.match(r"\s*(?:,|\+|và)\s*", prepared[pos:])
        if not joiner:
            break
        pos += joiner.end()
    if not agencies:
        return None
    return verb, agencies, prepared[last_end:].strip(" ,:")


_LEAD_COORD = re.compile(r"^chủ trì\s*,?\s*phối hợp(?:\s+với)?\s+", re.IGNORECASE)
_COORD = re.compile(r"^phối hợp(?:\s+với)?\s+", re.IGNORECASE)
_LEAD = re.compile(r"^chủ trì\s*[,:]?\s*", re.IGNORECASE)


def _coordinators(body: str, ctx: Context) -> list[TaskAgency]:
    """Agencies named right after 'chủ trì, phối hợp với' / 'phối hợp với' at the body start."""
    m = _LEAD_COORD.match(body) or _COORD.match(body)
    if not m:
        return []
    out: list[TaskAgency] = []
    pos = m.end()
    prepared = body
    while True:
        ref = ctx.gazetteer.match_at(prepared, pos, level=ctx.hint, on=ctx.meeting_date)
        if ref is None:
            break
        agency = ctx.gazetteer.by_name(ref.canonical, ref.level) if ref.canonical else None
        if agency is not None:
            agency = ctx.settle(agency, ref.text)
            out.append(TaskAgency(ref.text, agency, Role.COORDINATE, ctx.formal_name(agency, ref.text)))
        pos = ref.end
        joiner = re.match(r"\s*(?:,|và)\s*", prepared[pos:])
        if not joiner:
            break
        pos += joiner.end()
    return out


def _task(
    lines: list[NoteLine],
    verb: str | None,
    agencies: list[TaskAgency],
    what: str,
    ctx: Context,
    report_item: bool,
) -> NoteTask:
    agencies = list(agencies)
    what = what.strip().rstrip(".;")
    if agencies and _LEAD.match(what) and not _LEAD_COORD.match(what):
        for a in agencies:
            if a.role is Role.ASSIGNED:
                a.role = Role.LEAD
    coordinators = _coordinators(ctx.prepare(what), ctx)
    if coordinators or _LEAD_COORD.match(what):
        for a in agencies:
            if a.role is Role.ASSIGNED and _LEAD_COORD.match(what):
                a.role = Role.LEAD
        agencies.extend(coordinators)
    leads = [a for a in agencies if a.role is Role.LEAD]
    named_coords = [a for a in agencies if a.role is Role.COORDINATE and a not in coordinators]
    if leads and named_coords and not _LEAD_COORD.match(what):
        # "QLĐT chủ trì, CA thị xã phối hợp: …" -> "chủ trì, phối hợp với Công an thị xã …"
        what = "chủ trì, phối hợp với " + ", ".join(a.formal for a in named_coords) + " " + what
    elif not leads and named_coords and not _COORD.match(what):
        what = "phối hợp với " + ", ".join(a.formal for a in named_coords) + " " + what
    # a body above the issuer is asked, not ordered: 'Đề nghị Sở …' in a commune's notice
    main = [a for a in agencies if a.role is not Role.COORDINATE]
    if main and (verb == "Đề nghị" or all(ctx.above(a.agency) for a in main)):
        for a in main:
            if verb == "Đề nghị" or ctx.above(a.agency):
                a.role = Role.REQUEST
        verb = "Đề nghị"
    deadline, body = _deadline(what, ctx)
    body = ctx.formalize(body)
    return NoteTask(lines, verb, agencies, body, deadline, report_item)


_MONTH_RANGE = re.compile(
    r"(?:(?:trong|xong trong|hoàn thành trong)\s+)?tháng\s+(\d{1,2})\s*[-–]\s*(\d{1,2})\s*/\s*(\d{4})(?![\d/])",
    re.IGNORECASE,
)


def _month_range(what: str) -> tuple[NoteDeadline, str] | None:
    """'trong tháng 6-7/2026': one period of two months, kept as written (the deadline reader
    sees only 'tháng 6')."""
    m = _MONTH_RANGE.search(what)
    if m is None:
        return None
    first, last, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= first < last <= 12):
        return None
    written = m.group(0)
    official = re.sub(r"^xong\s+", "hoàn thành ", written, flags=re.IGNORECASE)
    before = what[: m.start()]
    if (not before.strip() or before.rstrip().endswith(",")) and not official.startswith("hoàn thành"):
        official = "hoàn thành " + official
    end = dt.date(year, last, calendar.monthrange(year, last)[1])
    deadline = NoteDeadline(written, official, end, dt.date(year, first, 1), False, False)
    return deadline, before + official + what[m.end():]


def _deadline(what: str, ctx: Context) -> tuple[NoteDeadline | None, str]:
    """Find the deadline phrase, write it the official way, return the rewritten body."""
    ranged = _month_range(what)
    if ranged is not None:
        return ranged
    found = [d for d in find_deadlines(what, reference=ctx.meeting_date)]
    if not found:
        return None, what
    d = found[-1]
    written = d.text
    official = _official(written, d.date, d.period_start, d.recurring)
    before = what[: d.start]
    after = what[d.end :]
    clause_start = not before.strip() or before.rstrip().endswith(",")
    if clause_start and not re.match(r"^(?:hoàn thành|báo cáo|trình|chi trả)", official) and not d.recurring:
        official = "hoàn thành " + official
    year_inferred = d.date is not None and not re.search(r"\d{4}|năm", written)
    nd = NoteDeadline(written, official, d.date, d.period_start, d.recurring, year_inferred)
    return nd, before + official + after


_NO_YEAR_DATE = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")


def _official(written: str, due: dt.date | None, period_start: dt.date | None, recurring: bool) -> str:
    text = written.strip()
    text = re.sub(r"^xong\s+", "hoàn thành ", text, flags=re.IGNORECASE)
    if recurring:
        return text
    # "trước 15/5/2024" -> "trước ngày 15/5/2024"
    text = re.sub(r"\btrước\s+(?=\d)", "trước ngày ", text)
    if due is not None and period_start is None:
        text = _NO_YEAR_DATE.sub(lambda m: f"{m.group(1)}/{m.group(2)}/{due.year}", text)
    elif due is not None and period_start is not None:
        # 'tháng 6-7/2026' is one period: the year is written once, after the last month
        text = re.sub(r"(tháng\s+\d{1,2})(?![\d/]|\s*[-–]\s*\d|\s+năm)", rf"\1/{due.year}", text)
        text = re.sub(r"([Qq]uý\s+[IV]+)(?![\w/]|\s+năm|\s*[-–])", rf"\1 năm {due.year}", text)
    return text
