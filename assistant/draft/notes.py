"""Meeting notes -> ``ParsedNotes``: header facts, results, shortcomings and task lines.

Notes are read line by line and every line keeps its number in the file as given, so each
assignment of the draft can point back at the note line(s) it came from. The loader's reflow
is *not* applied: it would glue terse task lines together (``TNMT: … 15/5/2024 TNMT: …``).
A line that fits nowhere is kept in ``ParsedNotes.unplaced`` and reported, never dropped.
"""

from __future__ import annotations

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
from assistant.model import Level, Role
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


@dataclass(frozen=True)
class Issuer:
    kind: UnitKind
    name: str  # "Bến Vân"

    @property
    def level(self) -> Level:
        return _UNIT_LEVEL[self.kind]

    @property
    def short(self) -> str:
        """'UBND thị xã Bến Vân'."""
        return f"UBND {self.kind.value} {self.name}"

    @property
    def unit(self) -> str:
        """'UBND thị xã' — how notices name their own committee."""
        return f"UBND {self.kind.value}"

    @property
    def header(self) -> str:
        return f"ỦY BAN NHÂN DÂN {self.kind.value.upper()} {self.name.upper()}"


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


def parse_issuer(text: str) -> Issuer | None:
    """'UBND thị xã Bến Vân', 'tp Lam Thuy', 'Ủy ban nhân dân tỉnh Lam Giang' -> Issuer."""
    for m in _ISSUER_RE.finditer(nfc(text)):
        key = search_view(m.group("kind")).rstrip(".")
        for word, kind in _UNIT_WORDS:
            if key == word:
                name = m.group("name")
                if search_view(name.split()[0]) in ("thang", "nam", "quy", "lan", "ky", "ngay"):
                    break
                if name.isupper() and len(name) > 3:
                    name = " ".join(w.capitalize() for w in name.split())
                return Issuer(kind, name)
    return None


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

# Words clerks shorten in notes; expanded in the draft (never agencies, dates or numbers).
_WORDS: dict[str, str] = {
    "GPMB": "giải phóng mặt bằng",
    "XDCB": "xây dựng cơ bản",
    "GCN": "giấy chứng nhận quyền sử dụng đất",
    "NS": "ngân sách",
    "ĐTC": "đầu tư công",
    "MB": "mặt bằng",
    "KL": "khối lượng",
    "KN": "khiếu nại",
    "bc": "báo cáo",
    "KQ": "kết quả",
    "NV": "nhiệm vụ",
    "PCT": "Phó Chủ tịch",
    "CT": "Chủ tịch",
    "GĐ": "Giám đốc",
    "PTQĐ": "Phát triển quỹ đất",
    "KT-XH": "kinh tế - xã hội",
    "ATGT": "an toàn giao thông",
    "ANTT": "an ninh trật tự",
    "TDP": "tổ dân phố",
    "tp": "thành phố",
    "TP": "thành phố",
    "BQL": "Ban Quản lý",
}
_WORD_RE = re.compile(r"(?<![\w&-])(" + "|".join(re.escape(w) for w in sorted(_WORDS, key=len, reverse=True)) + r")(?![\w&-])")
_COMRADE_RE = re.compile(r"(?<!\w)đ/c(?!\w)")
_WARD_RE = re.compile(r"(?<!\w)p\.\s*(?=[A-ZĐ])")
_COMMUNE_RE = re.compile(r"(?<!\w)x\.\s*(?=[A-ZĐ])")

# District-level units named "… huyện" in the gazetteer take the issuer's own unit word.
_DISTRICT_SUFFIX = re.compile(r"\s+huyện$")


def expand_words(text: str) -> str:
    text = _COMRADE_RE.sub("đồng chí", text)
    text = _WARD_RE.sub("phường ", text)
    text = _COMMUNE_RE.sub("xã ", text)
    return _WORD_RE.sub(lambda m: _WORDS[m.group(1)], text)


@dataclass
class Context:
    """What wording depends on: the issuer (its level) and the meeting date."""

    issuer: Issuer
    meeting_date: dt.date
    gazetteer: Gazetteer

    @property
    def level(self) -> Level:
        return self.issuer.level

    def office(self) -> str:
        if self.level is Level.PROVINCE:
            return "Văn phòng UBND tỉnh"
        return f"Văn phòng HĐND và UBND {self.issuer.kind.value}"

    def prepare(self, text: str) -> str:
        """Rewrite shorthand the gazetteer cannot read into names it knows."""
        for pattern, full in _AGENCY_SHORTHAND:
            text = pattern.sub(full, text)
        return _OFFICE_SHORTHAND.sub(self.office(), text)

    def current(self, agency: Agency) -> Agency:
        return self.gazetteer.successor(agency, self.meeting_date)

    def formal_name(self, agency: Agency, written: str) -> str:
        """The full name at the issuer's level, after the 2025 reorganization when it applies."""
        if agency.is_group or agency.id.startswith("ubnd-"):
            text = expand_words(written)
            if not search_view(text).startswith("ubnd") and agency.id.startswith("nhom-ubnd"):
                text = "UBND " + text
            return text
        current = self.current(agency)
        name = current.name
        if current.level is Level.DISTRICT and self.level is Level.DISTRICT:
            name = _DISTRICT_SUFFIX.sub(" " + self.issuer.kind.value, name)
            if current.id == "vp-hdnd-ubnd-huyen":
                name = f"{name} {self.issuer.kind.value}"
        elif current.level is Level.COMMUNE and name.endswith((" xã", " phường", " thị trấn")):
            name = re.sub(r"\s+(?:xã|phường|thị trấn)$", " " + self.issuer.kind.value, name)
        return name

    def formalize(self, text: str) -> str:
        """Agency shorthand -> full names, clerk abbreviations -> words; nothing else changes."""
        text = self.prepare(text)
        mentions = self.gazetteer.find_mentions(text, level=self.level, on=self.meeting_date)
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
    (re.compile(r"^(?:nhung )?(?:ton tai|han che|kho khan|vuong mac)"), Part.SHORTCOMINGS),
    (re.compile(r"^(?:nhung )?(?:ket qua|danh gia)"), Part.RESULTS),
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
            return part, rest.strip()
    return None


def parse_notes(
    text: str,
    gazetteer: Gazetteer,
    issuer: Issuer | None = None,
    chair: str | None = None,
) -> ParsedNotes:
    lines = split_lines(text)
    if not lines:
        raise AssistantError("Ghi chép trống: không có dòng nào để soạn thông báo.")
    header_end = _header_end(lines)
    header = lines[:header_end]
    meeting_date, year_from_notes = _meeting_date(lines, header)
    issuer_line = _issuer_line(header) or _issuer_line(lines)
    found_issuer = issuer or (parse_issuer(issuer_line.text) if issuer_line else None)
    if found_issuer is None:
        raise AssistantError(
            "Không xác định được cơ quan ban hành (ghi chép không nêu UBND tỉnh/huyện/xã nào). "
            'Hãy ghi rõ trong ghi chép hoặc dùng --issuer "UBND thị xã …".'
        )
    ctx = Context(found_issuer, meeting_date, gazetteer)
    notes = ParsedNotes(lines=lines, issuer=found_issuer, meeting_date=meeting_date, meeting_name="")
    if not year_from_notes:
        notes.notes_warnings.append((
            "meeting_year_inferred",
            f"Ngày họp trong ghi chép không có năm; đã lấy năm {meeting_date.year} theo các ngày "
            "khác trong ghi chép. Hãy kiểm tra lại.",
            [header[0].number] if header else [],
        ))
    if found_issuer.level is Level.DISTRICT and meeting_date >= dt.date(2025, 7, 1):
        notes.notes_warnings.append((
            "issuer_abolished",
            f"{found_issuer.short} là cấp huyện, đã kết thúc hoạt động từ ngày 01/7/2025 nhưng "
            f"cuộc họp diễn ra ngày {meeting_date:%d/%m/%Y}. Hãy kiểm tra cơ quan ban hành.",
            [],
        ))
    if issuer is None and issuer_line is not None and not has_diacritics(issuer_line.text):
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
    return notes


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
        if not (_KEY_RE.search(search_view(content)) or _CHAIR_INLINE.search(content.split(".")[0])
                or _HEARD_INLINE.match(content)):
            return i
    return len(lines)


_DATE_IN_HEADER = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?(?![\d/])")
_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def _meeting_date(lines: list[NoteLine], header: list[NoteLine]) -> tuple[dt.date, bool]:
    years = Counter(int(y) for line in lines for y in _YEAR.findall(line.text))
    for line in header:
        for m in _DATE_IN_HEADER.finditer(line.text):
            day, month = int(m.group(1)), int(m.group(2))
            if not (1 <= day <= 31 and 1 <= month <= 12):
                continue
            if m.group(3):
                try:
                    return dt.date(int(m.group(3)), month, day), True
                except ValueError:
                    continue
            if years:
                try:
                    return dt.date(years.most_common(1)[0][0], month, day), False
                except ValueError:
                    continue
    raise AssistantError(
        "Không tìm thấy ngày họp trong phần đầu ghi chép (ví dụ 'Thời gian: 8h00 ngày 05/12/2024')."
    )


def _issuer_line(lines: list[NoteLine]) -> NoteLine | None:
    for line in lines:
        if parse_issuer(line.text) is not None:
            return line
    return None


_TITLE_PREFIX = re.compile(r"^(?:ghi chép|ghi chep|biên bản)\s*(?:nhanh\s*)?[:\-–]?\s*", re.IGNORECASE)
_UNACCENTED_MEETING = {"hop": "họp", "hoi nghi": "hội nghị", "giao ban": "giao ban", "phien hop": "phiên họp"}


def _meeting_name(title: str, ctx: Context) -> str:
    name = _TITLE_PREFIX.sub("", title).strip()
    # the unit named at the end of a quick title ("… 10/7 - tp Lam Thuy") is the issuer
    name = re.split(r"\s+[-–]\s+(?=(?:tp|TP|thị xã|huyện|tỉnh|xã|UBND)\b)", name)[0]
    name = _DATE_IN_HEADER.sub("", name).strip(" -–,.") if not _YEAR.search(name) else name
    if name.isupper():
        words = []
        for word in name.split():
            keep = word in ("UBND", "HĐND") or any(ch.isdigit() for ch in word)
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


def _split_person(text: str, ctx: Context) -> tuple[str | None, str | None]:
    """'đ/c Trần Quốc Khải - Chủ tịch UBND thị xã' / 'PCT Bùi Thanh Tùng' -> (name, position)."""
    text = re.sub(r"^(?:đ/c|đồng chí|Đ/c|Đồng chí)\s+", "", text.strip().rstrip("."))
    title_first = re.match(r"^(?P<pos>PCT|CT|Phó Chủ tịch|Chủ tịch)\s+(?P<name>(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*\s*){2,5})$", text)
    if title_first:
        name, position = title_first.group("name").strip(), title_first.group("pos")
    else:
        parts = re.split(r"\s+[-–]\s+|,\s*", text, maxsplit=1)
        name = parts[0].strip()
        position = parts[1].strip() if len(parts) > 1 else None
    if position:
        position = expand_words(position)
        if "UBND" not in position and "Ủy ban" not in position:
            position = f"{position} {ctx.issuer.unit}"
    return name or None, position


def _parse_header(notes: ParsedNotes, header: list[NoteLine], ctx: Context) -> None:
    title = header[0].text if header else ""
    notes.header_lines = list(header)
    if header and not _KEY_RE.match(search_view(_BULLET.sub("", title, count=1))):
        notes.meeting_name = _meeting_name(title, ctx)
        rest = header[1:]
    else:
        notes.meeting_name = "cuộc họp"
        rest = header
    for line in rest:
        text = _BULLET.sub("", line.text, count=1)
        fields = list(_KEY_RE.finditer(search_view(text)))
        before = text[: fields[0].start()] if fields else text
        for segment in filter(None, (s.strip() for s in re.split(r"\.\s+", before))):
            chair = _CHAIR_INLINE.match(segment)
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


def _attendees(value: str, ctx: Context) -> str:
    parts = [p.strip() for p in re.split(r",\s*", value) if p.strip()]
    if parts and all(len(p.split()) <= 4 for p in parts):
        # a bare list of units ("QLĐT, TNMT, CA tp"): name each one in full
        named = []
        for part in parts:
            agency = ctx.gazetteer.resolve(ctx.prepare(part), ctx.level, ctx.meeting_date)
            named.append(ctx.formal_name(agency, part) if agency else ctx.formalize(part))
        return "lãnh đạo " + ", ".join(named)
    return ctx.formalize(value)


def _parse_body(notes: ParsedNotes, lines: list[NoteLine], ctx: Context) -> None:
    part: Part | None = None
    current_who: tuple[list[TaskAgency], str | None, NoteLine] | None = None
    for line in lines:
        heading = _heading(line.text) if not _BULLET.match(line.text) else None
        if heading is not None:
            part, rest = heading
            current_who = None
            if not rest:
                continue
            content = rest
        else:
            content = _BULLET.sub("", line.text, count=1)
        bullet = line.text[:1]
        if _CLERK_COMMENT.match(content):
            notes.unplaced.append(line)
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
        elif part is Part.RESULTS:
            notes.results.append(NoteItem(line, _sentence(ctx.formalize(content))))
        elif part is Part.SHORTCOMINGS:
            notes.shortcomings.append(NoteItem(line, _sentence(ctx.formalize(content))))
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
    agency = ctx.gazetteer.resolve(prepared, ctx.level, ctx.meeting_date)
    if agency is None:
        agency = _resolve_group(prepared, ctx)
    if agency is not None:
        return [(part, agency)]
    pieces = [p for p in re.split(r",\s*|\s+và\s+", part) if p.strip()]
    if len(pieces) > 1:
        resolved = [(p, ctx.gazetteer.resolve(ctx.prepare(p), ctx.level, ctx.meeting_date)) for p in pieces]
        if all(a is not None for _, a in resolved):
            return resolved
    return [(part, None)]


def _resolve_group(text: str, ctx: Context) -> Agency | None:
    """'các xã' / 'các huyện' written short in notes -> the group of local committees."""
    text = text.strip()
    if not search_view(text).startswith("cac "):
        return None
    for variant in ("UBND " + text, text + ", phường", text + ", thành phố"):
        agency = ctx.gazetteer.resolve(variant, ctx.level, ctx.meeting_date)
        if agency is not None and agency.is_group:
            return agency
    return None


def _looks_like_agency(text: str, ctx: Context) -> bool:
    """A 'who' before a colon: a known agency, or a short capitalized name (unknown body)."""
    words = text.split()
    if not words or len(words) > 9:
        return False
    if ctx.gazetteer.resolve(ctx.prepare(text), ctx.level, ctx.meeting_date) is not None:
        return True
    if _resolve_group(text, ctx) is not None:
        return True
    if ctx.gazetteer.find_mentions(ctx.prepare(text), level=ctx.level, on=ctx.meeting_date):
        return True
    return words[0][:1].isupper() and (words[0].isupper() or words[0] in ("Ban", "Trạm", "Trung", "Cục", "Chi", "Đội"))


def _who_list(who: str, ctx: Context) -> list[TaskAgency] | None:
    """'QLĐT chủ trì, CA thị xã phối hợp' / 'TC-KH + các xã' -> agencies with roles."""
    out: list[TaskAgency] = []
    clauses = [c for c in re.split(r",\s*(?=[^,]*\b(?:chủ trì|phối hợp)\b)", who) if c.strip()]
    for clause in clauses:
        role_match = _ROLE_WORDS.search(clause)
        role = Role.ASSIGNED
        if role_match:
            role = Role.LEAD if role_match.group("role").lower() == "chủ trì" else Role.COORDINATE
            clause = clause[: role_match.start()]
        for piece in _WHO_SPLIT.split(clause):
            if not piece.strip():
                continue
            if not _looks_like_agency(piece.strip(), ctx):
                return None
            for written, agency in _resolve_who(piece, ctx):
                formal = ctx.formal_name(agency, written) if agency else written
                out.append(TaskAgency(written, agency, role, formal))
    return out or None


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
        ref = ctx.gazetteer.match_at(prepared, pos, level=ctx.level, on=ctx.meeting_date,
                                     lenient=verb is not None)
        if ref is None:
            break
        agency = ctx.gazetteer.by_name(ref.canonical, ref.level) if ref.canonical else None
        formal = ctx.formal_name(agency, ref.text) if agency else ref.text
        agencies.append(TaskAgency(ref.text, agency, Role.ASSIGNED, formal))
        pos = last_end = ref.end
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
        ref = ctx.gazetteer.match_at(prepared, pos, level=ctx.level, on=ctx.meeting_date)
        if ref is None:
            break
        agency = ctx.gazetteer.by_name(ref.canonical, ref.level) if ref.canonical else None
        if agency is not None:
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
    coordinators = _coordinators(what, ctx)
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
    deadline, body = _deadline(what, ctx)
    body = ctx.formalize(body)
    return NoteTask(lines, verb, agencies, body, deadline, report_item)


def _deadline(what: str, ctx: Context) -> tuple[NoteDeadline | None, str]:
    """Find the deadline phrase, write it the official way, return the rewritten body."""
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
        text = re.sub(r"(tháng\s+\d{1,2})(?![\d/]|\s+năm)", rf"\1/{due.year}", text)
        text = re.sub(r"([Qq]uý\s+[IV]+)(?![\w/]|\s+năm)", rf"\1 năm {due.year}", text)
    return text
