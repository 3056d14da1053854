"""Which route answers a question, and what the question constrains.

* ``assignments`` — what an agency was assigned: every assignment record (not top-k);
* ``metadata`` — who chaired / signed, when the meeting was, which notices exist: notice fields;
* ``deadlines`` — which tasks are due by/within a date: deadline records;
* ``retrieval`` — anything else: hybrid retrieval over passages.

Matching runs on ``search_view`` (accent-free, lowercase), so ``ai chu tri cuoc hop`` routes like
``Ai chủ trì cuộc họp``. A short follow-up (``còn phòng Nội vụ thì sao?``) keeps the previous
turn's route and constraints and replaces only what it names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from assistant.agency_forms import words
from assistant.answer.places import find_place, place_key
from assistant.model import AgencyRef, Level
from assistant.text import collapse_spaces, nfc, search_view


class Route(StrEnum):
    ASSIGNMENTS = "assignments"
    METADATA = "metadata"
    DEADLINES = "deadlines"
    RETRIEVAL = "retrieval"


class MetaField(StrEnum):
    CHAIR = "chair"
    SIGNER = "signer"
    MEETING_DATE = "meeting_date"
    NUMBER = "number"
    NOTICES = "notices"


class TaskStatus(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    DONE = "done"  # from the follow-up records (assistant/tracking.py)


class QuestionKind(StrEnum):
    NOTICE_TASKS = "notice_tasks"  # what a notice (by number, place, period) assigned
    LEAD = "lead"  # who leads a task named by its words
    SUMMARY = "summary"  # a short summary of one notice


class AgencyLike(Protocol):
    name: str


class GazetteerLike(Protocol):
    def resolve(self, query: str, level: Level | None = None, on: date | None = None) -> AgencyLike | None: ...

    def find_mentions(
        self, text: str, start: int = 0, end: int | None = None, level: Level | None = None
    ) -> list[AgencyRef]: ...


class RoutedQuestion(BaseModel):
    """A question with its route and constraints; stored per turn to resolve follow-ups."""

    question: str = Field(description="As asked.")
    effective: str = Field(description="What is searched: the question after follow-up resolution.")
    route: Route
    follow_up: bool = False
    agency: str | None = Field(default=None, description="Canonical agency name.")
    agency_text: str | None = Field(default=None, description="The agency as typed.")
    meta_field: MetaField | None = None
    meeting_on: date | None = Field(default=None, description="A meeting day named (metadata).")
    since: date | None = Field(default=None, description="Period named: first day.")
    until: date | None = Field(default=None, description="Period named: last day.")
    due_after: date | None = None
    due_before: date | None = None
    due_day_month: tuple[int, int] | None = Field(
        default=None, description="'trước 31/1' without a year: (day, month), year per notice."
    )
    locality: str | None = Field(default=None, description="A place named: 'Bến Vân'.")
    number: str | None = Field(default=None, description="A notice number named: '45/TB-UBND' or '45'.")
    status: TaskStatus | None = Field(default=None, description="Tasks asked by their state (deadlines).")
    kind: QuestionKind | None = Field(default=None, description="What is asked of the records found.")

    def constraint_words(self) -> str:
        """How the constraints read in a refusal or heading (Vietnamese)."""
        parts = []
        if self.locality:
            parts.append(self.locality)
        if self.meeting_on:
            parts.append(f"ngày {self.meeting_on:%d/%m/%Y}")
        elif self.since and self.until:
            parts.append(f"{self.since:%d/%m/%Y}–{self.until:%d/%m/%Y}")
        return ", ".join(parts)


# --- patterns on search_view(question) ----------------------------------------------------------

_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:the|vay|con)\s+)?con\b|^\s*(?:the|vay)\s+(?:thi\s+)?\w+.*\bthi sao\b"
    r"|\bthi sao\s*\??\s*$|\bthi the nao\s*\??\s*$|^\s*(?:va|con)\s+\w+.*\??\s*$"
)
_META = [
    (MetaField.CHAIR, re.compile(r"\bai\s+(?:la\s+)?(?:nguoi\s+)?chu (?:tri|toa)|chu tri boi ai|do ai chu tri|nguoi chu tri|chu tri la ai")),
    (MetaField.SIGNER, re.compile(r"\bai\s+(?:da\s+)?ky\b|\bnguoi ky\b|\bky boi ai|do ai ky|\bky ten\b")),
    (MetaField.NUMBER, re.compile(r"\bso (?:ky hieu|hieu)\b|\bso may\b|\bso bao nhieu\b")),
    (
        MetaField.MEETING_DATE,
        re.compile(
            r"\bhop (?:vao )?(?:ngay nao|hom nao|khi nao|luc nao)|\b(?:khi nao|ngay nao|bao gio)\s+(?:\w+\s+){0,3}hop\b"
            r"|(?:dien ra|to chuc|ban hanh) (?:vao )?(?:ngay nao|khi nao|luc nao|bao gio)"
            r"|\bngay (?:hop|ban hanh)\b.*\b(?:nao|gi|bao gio)\b"
        ),
    ),
    (
        MetaField.NOTICES,
        re.compile(
            r"\b(?:nhung|cac) thong bao (?:nao|gi)|\bco (?:nhung|bao nhieu|cac) thong bao\b"
            r"|\bdanh sach (?:cac )?thong bao|\bbao nhieu thong bao|\bliet ke\b.*\bthong bao"
            r"|\bthong bao nao\b"
        ),
    ),
]
_ASSIGNMENT = re.compile(
    r"\bduoc giao\b|\bgiao cho\b|\bgiao (?:nhung|cac)?\s*(?:viec|nhiem vu)|\bnhiem vu (?:cua|gi|nao)\b"
    r"|\b(?:phai|can) lam (?:gi|nhung gi|nhung viec)|\blam (?:nhung )?(?:viec )?gi\b|\bviec (?:gi|nao)\b"
    r"|\b(?:nhung|cac) (?:viec|nhiem vu|cong viec)\b|\bchu tri (?:nhung|cac) |\bphu trach (?:gi|nhung)"
    r"|\bco nhiem vu\b|\btrach nhiem (?:gi|nao)"
)
_TASK_LIST = re.compile(
    r"\b(?:viec|nhiem vu|cong viec)\s+(?:gi|nao)\b|\b(?:nhung|cac)\s+(?:viec|nhiem vu|cong viec)\b"
    r"|\bnhung gi\b|\bgi (?:phai|can|den han|sap)\b"
)
_DEADLINE_WORDS = re.compile(
    r"\b(?:thoi han|han chot|den han|sap den han|qua han|tre han|phai xong|phai hoan thanh|can hoan thanh"
    r"|xong truoc|hoan thanh truoc|cham nhat|han)\b|\btruoc (?:ngay )?\d"
)
_DEADLINE_PHRASE_BEFORE_DATE = re.compile(
    r"(?:truoc|cham nhat|han|den|xong|hoan thanh|tu)\s+(?:ngay\s+)?$"
)

_FACT_DATE_BEFORE = re.compile(r"\b(?:den|het|truoc|sau|tu|tinh den)\s+(?:het\s+)?(?:ngay\s+)?$")
_FULL_DATE = re.compile(
    r"(?<![\d/])(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?![\d/])"
    r"|\bngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})\b"
)
_DAY_MONTH = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])|\bngay (\d{1,2}) thang (\d{1,2})\b(?! nam)")
_MONTH = re.compile(r"\bthang (\d{1,2})(?:\s*(?:/|nam)\s*(\d{4}))?\b(?!\s*/)")
_QUARTER = re.compile(r"\bquy (iv|i{1,3}|[1-4])(?:\s*(?:/|nam)\s*(\d{4}))?\b")
_YEAR = re.compile(r"(?<![\d/])(?:nam\s+)?((?:19|20)\d{2})(?![\d/])")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}

_PLACE_WORDS = r"tỉnh|thành phố|tp\.?|thị xã|huyện|xã|phường|thị trấn|quận"
_LOCALITY = re.compile(
    rf"(?<!\w)(?:{_PLACE_WORDS})\s+((?:[A-ZĐÀÁẢÃẠÂẦẤẨẪẬĂẰẮẲẴẶÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ]\w*\s*){{1,3}})",
    re.IGNORECASE,
)


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _month_end(y: int, m: int) -> date:
    return (date(y + (m == 12), m % 12 + 1, 1)) - timedelta(days=1)


def find_locality(question: str) -> str | None:
    """A capitalized place name after tỉnh/thị xã/xã/…: 'Bến Vân' in 'thị xã Bến Vân'."""
    for match in _LOCALITY.finditer(nfc(question)):
        name = match.group(1).strip()
        # IGNORECASE lets the class match lowercase too; a name must be written capitalized.
        words = [w for w in name.split() if w[:1].isupper()]
        kept: list[str] = []
        for w in name.split():
            if not w[:1].isupper():
                break
            kept.append(w)
        if kept and words:
            return " ".join(kept).rstrip(".,;:?!")
    return None


class _Dates(BaseModel):
    meeting_on: date | None = None
    since: date | None = None
    until: date | None = None
    due_after: date | None = None
    due_before: date | None = None
    due_day_month: tuple[int, int] | None = None


def _extract_dates(view: str, deadline_intent: bool) -> _Dates:
    out = _Dates()
    used: list[tuple[int, int]] = []

    def free(m: re.Match[str]) -> bool:
        return not any(m.start() < e and s < m.end() for s, e in used)

    for m in _FULL_DATE.finditer(view):
        d, mo, y = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        day = _date(int(y), int(mo), int(d))
        if day is None:
            continue
        used.append(m.span())
        if deadline_intent:
            before = _DEADLINE_PHRASE_BEFORE_DATE.search(view[: m.start()])
            if before and before.group().startswith("tu"):
                out.due_after = day
            else:
                out.due_before = day
        elif out.meeting_on is None and not _FACT_DATE_BEFORE.search(view[: m.start()]):
            # 'tính đến hết ngày 31/10/2025' dates a figure, not the meeting
            out.meeting_on = day
    for m in _DAY_MONTH.finditer(view):
        if not free(m):
            continue
        d, mo = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if not (1 <= int(d) <= 31 and 1 <= int(mo) <= 12):
            continue
        used.append(m.span())
        if deadline_intent and out.due_before is None:
            out.due_day_month = (int(d), int(mo))
    for m in _MONTH.finditer(view):
        if not free(m) or m.group(2) is None:
            continue
        mo, y = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            continue
        used.append(m.span())
        first, last = date(y, mo, 1), _month_end(y, mo)
        if deadline_intent:
            out.due_after, out.due_before = first, last
        else:
            out.since, out.until = first, last
    for m in _QUARTER.finditer(view):
        if not free(m) or m.group(2) is None:
            continue
        q, y = _ROMAN[m.group(1)], int(m.group(2))
        used.append(m.span())
        first, last = date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
        if deadline_intent:
            out.due_after, out.due_before = first, last
        else:
            out.since, out.until = first, last
    for m in _YEAR.finditer(view):
        if not free(m):
            continue
        y = int(m.group(1))
        used.append(m.span())
        if deadline_intent and out.due_before is None:
            out.due_after, out.due_before = date(y, 1, 1), date(y, 12, 31)
        elif out.since is None and out.meeting_on is None:
            out.since, out.until = date(y, 1, 1), date(y, 12, 31)
    return out


def periods_named(text: str, reference: date | None = None) -> list[tuple[date, date]]:
    """The quarters, months and years ``text`` names, as (first day, last day).

    A title often names its period without the year ('giao ban quý I, triển khai nhiệm vụ quý
    II'): the year is then the ``reference``'s (the notice's date), or the year before when the
    period would start more than half a year after it ('tháng 12' in a January notice)."""
    view = search_view(nfc(text))
    out: list[tuple[date, date]] = []
    used: list[tuple[int, int]] = []

    def year_of(written: str | None, first_month: int) -> int | None:
        if written is not None:
            return int(written)
        if reference is None:
            return None
        if date(reference.year, first_month, 1) > reference + timedelta(days=183):
            return reference.year - 1
        return reference.year

    for m in _QUARTER.finditer(view):
        q = _ROMAN[m.group(1)]
        y = year_of(m.group(2), 3 * q - 2)
        if y is not None:
            used.append(m.span())
            out.append((date(y, 3 * q - 2, 1), _month_end(y, 3 * q)))
    for m in _MONTH.finditer(view):
        mo = int(m.group(1))
        if not 1 <= mo <= 12:
            continue
        y = year_of(m.group(2), mo)
        if y is not None:
            used.append(m.span())
            out.append((date(y, mo, 1), _month_end(y, mo)))
    for m in _YEAR.finditer(view):
        if any(m.start() < e and s < m.end() for s, e in used):
            continue
        y = int(m.group(1))
        out.append((date(y, 1, 1), date(y, 12, 31)))
    return out


def _period_spans(question: str) -> list[tuple[int, int]]:
    """Where ``question`` (NFC, spaces collapsed) names a date or a period."""
    view = search_view(question)
    return [m.span() for pattern in (_FULL_DATE, _DAY_MONTH, _QUARTER, _MONTH, _YEAR) for m in pattern.finditer(view)]


def constraint_free(question: str, place: str | None = None) -> str:
    """``question`` without its dates, periods and place: what a passage must itself say.

    The router turns those into filters on the notice (its date, its title, its locality), so
    asking a sentence to repeat them ('… quý I/2022 của tỉnh Nam Định') only hides the one that
    holds the answer. Returns ``question`` unchanged when nothing else would be left."""
    question = collapse_spaces(nfc(question))
    spans = _period_spans(question)
    for m in _LOCALITY.finditer(question):
        name = find_locality(m.group(0))
        if name:
            at = question.find(name, m.start(1))
            spans.append((m.start(), at + len(name)))
    if place:
        # The place as the router read it (perhaps typed without diacritics or place word).
        found = find_place(question, [place])
        if found is not None and place_key(found.name) == place_key(place):
            spans.append((found.start, found.end))
    if not spans:
        return question
    keep = [True] * len(question)
    for s, e in spans:
        for i in range(s, e):
            keep[i] = False
    rest = collapse_spaces("".join(ch if k else " " for ch, k in zip(question, keep, strict=True)))
    return rest if re.search(r"\w", rest) else question


def _agency(question: str, gazetteer: GazetteerLike) -> tuple[str | None, str | None]:
    """(canonical name, text as typed) of the agency the question names, if any."""
    periods = _period_spans(question)
    # 'Quý I năm 2026' is capitalized like a name but is the period asked about.
    mentions = [
        m for m in gazetteer.find_mentions(question)
        if not m.is_group and not any(s <= m.start and m.end <= e + 1 for s, e in _merged(periods))
    ]
    for mention in mentions:
        if mention.canonical:
            return mention.canonical, mention.text
    # 'SCT được giao những việc gì?', 'so tai chinh quang ngai duoc giao viec gi': the words
    # around the question's intent, read as clerks type an agency
    phrase = agency_phrase(question)
    if phrase:
        found = gazetteer.resolve(phrase)
        if found is not None:
            return found.name, phrase
    found = gazetteer.resolve(question)
    if found is not None:
        return found.name, None
    if mentions:
        return None, mentions[0].text
    return None, None


# Words around an agency in an assignment question that are not its name (accent-free).
_PHRASE_LEAD = frozenset(
    ["nhiem", "vu", "cong", "viec", "nhung", "cac", "cua", "cho", "giao", "duoc", "gi", "nao", "la", "hay", "liet", "ke", "xem", "ma"]
)
_PHRASE_TAIL = frozenset(["la", "gi", "nao", "nhung", "cac", "duoc", "da", "se", "dang", "phai", "can", "co", "the", "vay"])
# A period or a condition after the agency ends its name.
_PHRASE_END = frozenset(["trong", "tu", "den", "truoc", "sau", "nam", "thang", "quy", "ngay", "hien", "hom", "tuan", "khi"])
_PHRASE_MAX_WORDS = 12


def agency_phrase(question: str) -> str | None:
    """The words of an assignment question that name its agency, as typed: 'SCT' in 'SCT được
    giao những việc gì?', 'Sở TC tỉnh Lam Giang' in 'Nhiệm vụ của Sở TC tỉnh Lam Giang là gì?',
    'P.KT' in 'những việc nào giao cho P.KT trong tháng 9/2025?'. None without such an intent."""
    question = collapse_spaces(nfc(question))
    match = _ASSIGNMENT.search(search_view(question))
    if match is None:
        return None
    for segment in (question[: match.start()], question[match.end() :]):
        ws = words(segment)
        while ws and ws[0].key in _PHRASE_LEAD:
            ws = ws[1:]
        for i, w in enumerate(ws):
            if w.key in _PHRASE_END or w.key.isdigit():
                ws = ws[:i]
                break
        while ws and ws[-1].key in _PHRASE_TAIL:
            ws = ws[:-1]
        if 0 < len(ws) <= _PHRASE_MAX_WORDS:
            return segment[ws[0].start : ws[-1].end]
    return None


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def is_follow_up(question: str) -> bool:
    view = search_view(nfc(question)).strip()
    return len(view.split()) <= 14 and bool(_FOLLOW_UP.search(view) or _SUBSET.search(view) or _REFERENCE.search(view))


# 'trong số đó việc nào của phòng TNMT?': a subset of the previous answer's records.
_SUBSET = re.compile(r"\b(?:trong|trong so|o trong|giua) (?:so |cac |nhung )?(?:do|viec do|viec tren|nhiem vu tren|nhiem vu do|cac viec tren)\b")
# 'việc đó', 'nhiệm vụ này', 'thông báo này': the previous answer's task or notice.
_REFERENCE = re.compile(r"\b(?:viec|nhiem vu|cong viec|thong bao|van ban|cuoc hop) (?:do|nay|tren|ay)\b")
_NOTICE_REFERENCE = re.compile(r"\b(?:thong bao|van ban|cuoc hop) (?:do|nay|tren|ay)\b")


def _resolve_reference(
    question: str, view: str, previous: RoutedQuestion, agency: str | None, agency_text: str | None
) -> RoutedQuestion | None:
    """A subset ('trong số đó …') or a reference ('việc đó', 'thông báo này') keeps the previous
    turn's constraints and result set; None when the question is neither."""
    update: dict[str, object] = {"question": question, "follow_up": True}
    if _SUBSET.search(view) and (agency or agency_text):
        # The same notices (number, place, period) and, for deadlines, the same bounds.
        route = Route.DEADLINES if previous.route is Route.DEADLINES else Route.ASSIGNMENTS
        update.update(route=route, agency=agency, agency_text=agency_text, kind=None, meta_field=None,
                      effective=question)
        return previous.model_copy(update=update)
    if _NOTICE_REFERENCE.search(view):
        meta_field = next((f for f, pattern in _META if pattern.search(view)), None)
        kind = QuestionKind.SUMMARY if re.search(r"\btom tat\b", view) else None
        if meta_field is not None or kind is not None:
            update.update(route=Route.METADATA, meta_field=meta_field, kind=kind, agency=None, agency_text=None,
                          status=None, due_after=None, due_before=None, due_day_month=None)
        elif re.search(r"\bgiao\b", view):
            update.update(route=Route.ASSIGNMENTS, kind=QuestionKind.NOTICE_TASKS, meta_field=None)
        else:
            return None
        return previous.model_copy(update=update)
    if _REFERENCE.search(view) and previous.route in (Route.ASSIGNMENTS, Route.DEADLINES):
        # 'hạn chót của việc đó là khi nào?': the same task(s), shown with their deadlines.
        return previous.model_copy(update=update)
    return None


def route_question(
    question: str, gazetteer: GazetteerLike, previous: RoutedQuestion | None = None, places: Sequence[str] = ()
) -> RoutedQuestion:
    """Route ``question``; a follow-up of ``previous`` inherits its route and constraints.
    ``places``: the places of the stored notices (``places.places_in_titles``), read in the
    question with or without diacritics beside the provinces."""
    question = collapse_spaces(nfc(question))
    view = search_view(question)
    agency, agency_text = _agency(question, gazetteer)
    deadline_intent = bool(_DEADLINE_WORDS.search(view)) and bool(
        _TASK_LIST.search(view)
        # 'nợ quá hạn … bao nhiêu' asks a figure, not which tasks are overdue
        or (re.search(r"\b(?:den han|sap den han|qua han)\b", view) and not re.search(r"\bbao nhieu\b", view))
    )
    dates = _extract_dates(view, deadline_intent)
    place = find_place(question, places)
    locality = place.name if place is not None else find_locality(question)

    if previous is not None and is_follow_up(question):
        referred = _resolve_reference(question, view, previous, agency, agency_text)
        if referred is not None:
            return referred
        return _resolve_follow_up(question, previous, agency, agency_text, dates, locality)

    number = find_number(view)
    meta_field = next((f for f, pattern in _META if pattern.search(view)), None)
    kind = _question_kind(view, meta_field, number, agency or agency_text, locality)
    status = _status(view) if deadline_intent or _TASK_LIST.search(view) else None
    if status is TaskStatus.DONE:
        deadline_intent = True  # answered from the tasks' follow-up, by the deadlines route
    if status is TaskStatus.OVERDUE and not (dates.due_before or dates.due_after):
        dates.due_before = date.today() - timedelta(days=1)
    elif status is TaskStatus.DUE_SOON and not (dates.due_before or dates.due_after):
        dates.due_after, dates.due_before = date.today(), date.today() + timedelta(days=DUE_SOON_DAYS)
    if deadline_intent:
        route = Route.DEADLINES
    elif kind is QuestionKind.SUMMARY:
        route = Route.METADATA
    elif kind in (QuestionKind.NOTICE_TASKS, QuestionKind.LEAD):
        route = Route.ASSIGNMENTS
    elif meta_field is not None and not (meta_field is MetaField.NOTICES and agency):
        route = Route.METADATA
    elif (agency or agency_text) and (_ASSIGNMENT.search(view) or _names_only(question, agency_text, locality)):
        route = Route.ASSIGNMENTS
    else:
        route = Route.RETRIEVAL
    return RoutedQuestion(
        question=question,
        effective=question,
        route=route,
        agency=agency,
        agency_text=agency_text,
        meta_field=meta_field if route is Route.METADATA and kind is None else None,
        locality=locality,
        number=number,
        status=status,
        kind=kind if route is not Route.DEADLINES else None,
        **dates.model_dump(),
    )


# Days ahead that 'sắp đến hạn' looks.
DUE_SOON_DAYS = 14
_NUMBER = re.compile(
    r"(?<![\d/,.])(\d{1,5})\s*/\s*((?:tb|kl|bb|ct|qd|cv|tb|bc)[a-z0-9]*(?:\s*-\s*[a-z0-9]+)*)"
    r"|\b(?:thong bao|van ban|tb)\s+(?:so\s+)?(\d{1,5})\b(?!\s*[/.,%])"
)
_MEETING_WORDS = re.compile(r"\b(?:cuoc hop|hoi nghi|buoi lam viec|phien hop|buoi hop|thong bao|giao ban)\b")
_LEAD = re.compile(r"\bdo ai chu tri\b|\b(?:ai|co quan nao|don vi nao|phong nao) chu tri\b|\bchu tri boi ai\b")
_NOTICE_GIVES = re.compile(
    r"\b(?:thong bao|ubnd|uy ban nhan dan|chu tich)\b(?:(?!\bduoc\b).)*\bgiao\s+(?:nhung|cac)?\s*(?:viec|nhiem vu|cong viec)"
)


def find_number(view: str) -> str | None:
    """A notice number the question names ('45/tb-ubnd', 'số 45'), as typed (accent-free)."""
    found = list(_NUMBER.finditer(view))
    m = next((m for m in found if m.group(1)), found[0] if found else None)
    if m is None:
        return None
    if m.group(1):
        return m.group(1) + "/" + re.sub(r"\s+", "", m.group(2))
    return m.group(3)


def number_matches(stored: str | None, asked: str) -> bool:
    """'45/TB-UBND' stored answers '45', '45/tb-ubnd' and '45/TB'; a blank number nothing."""
    if not stored:
        return False
    have = re.sub(r"\s+", "", search_view(stored))
    digits, _, suffix = asked.partition("/")
    have_digits, _, have_suffix = have.partition("/")
    return have_digits == digits and (not suffix or have_suffix.startswith(suffix))


def _question_kind(
    view: str, meta_field: MetaField | None, number: str | None, agency: str | None, locality: str | None
) -> QuestionKind | None:
    if re.search(r"\btom tat\b|\btom luoc\b|\bnoi dung chinh\b", view):
        return QuestionKind.SUMMARY
    lead = _LEAD.search(view)
    if lead and not _MEETING_WORDS.search(view[: lead.start()]) and len(content_free_words(view[: lead.start()])) >= 2:
        return QuestionKind.LEAD
    gives = re.search(r"\bgiao\b", view) and not re.search(r"\bduoc giao\b|\bgiao cho\b", view)
    if meta_field is None and gives and (number or _NOTICE_GIVES.search(view)):
        return QuestionKind.NOTICE_TASKS
    return None


_STATUS_WORDS = [
    (TaskStatus.OVERDUE, re.compile(r"\b(?:qua han|tre han|cham tien do)\b")),
    (TaskStatus.DUE_SOON, re.compile(r"\bsap (?:den|het) han\b|\bgan den han\b")),
    (TaskStatus.DONE, re.compile(r"\bda (?:hoan thanh|xong|thuc hien xong)\b|\bhoan thanh roi\b")),
]


def _status(view: str) -> TaskStatus | None:
    return next((s for s, pattern in _STATUS_WORDS if pattern.search(view)), None)


_FILLER = frozenset(["viec", "cong", "nhiem", "vu", "cua", "o", "tai", "cho", "la", "thi", "ve", "va", "nhung", "cac"])


def content_free_words(view: str) -> list[str]:
    """The words of ``view`` that are not fillers ('việc', 'của', …)."""
    return [w for w in view.split() if w not in _FILLER and re.fullmatch(r"\w+", w)]


def _names_only(question: str, agency_text: str | None, locality: str | None) -> bool:
    """'phong tc-kh thi xa ben van': an agency (and its place), nothing else asked. Without the
    agency as typed (the gazetteer read the whole question), a few words only."""
    rest = search_view(question)
    if agency_text:
        rest = rest.replace(search_view(agency_text), " ")
    if locality:
        rest = rest.replace(search_view(locality), " ")
    rest = re.sub(r"\b(?:tinh|thanh pho|tp|thi xa|huyen|xa|phuong|thi tran|quan)\b", " ", rest)
    if agency_text:
        return not re.search(r"\w", rest)
    return len(re.findall(r"[\w.-]+", rest)) <= 3


def _resolve_follow_up(
    question: str,
    previous: RoutedQuestion,
    agency: str | None,
    agency_text: str | None,
    dates: _Dates,
    locality: str | None,
) -> RoutedQuestion:
    update: dict[str, object] = {"question": question, "follow_up": True}
    effective = previous.effective
    if agency or agency_text:
        update["agency"], update["agency_text"] = agency, agency_text
        new_name = agency_text or agency or ""
        old_name = previous.agency_text or previous.agency
        if old_name and old_name in effective:
            effective = effective.replace(old_name, new_name)
        else:
            effective = f"{effective} {new_name}"
    named_dates = {k: v for k, v in dates.model_dump().items() if v is not None}
    if not named_dates:
        named_dates = _month_of_previous_year(question, previous)
    if named_dates and previous.route is Route.DEADLINES and "since" in named_dates:
        # 'còn tháng 8 thì sao?' after a deadline question bounds the deadlines
        named_dates = {"due_after": named_dates["since"], "due_before": named_dates["until"]}
    if named_dates:
        for key in _Dates.model_fields:
            update[key] = named_dates.get(key)
        effective = f"{effective} {_follow_up_rest(question)}"
    if locality:
        update["locality"] = locality
        if previous.locality and previous.locality in effective:
            effective = effective.replace(previous.locality, locality)
        else:
            effective = f"{effective} {locality}"
    if len(update) == 2:
        # Names nothing we recognise ('còn hạn thì sao?'): search with both turns' words.
        effective = f"{effective} {_follow_up_rest(question)}"
    update["effective"] = collapse_spaces(effective)
    return previous.model_copy(update=update)


def _month_of_previous_year(question: str, previous: RoutedQuestion) -> dict[str, date]:
    """'còn tháng 8 thì sao?': a month without its year, in the year the previous turn asked
    about (its period, else its deadlines, else this year)."""
    match = re.search(r"\bthang (\d{1,2})\b(?!\s*/)", search_view(nfc(question)))
    if match is None or not 1 <= int(match.group(1)) <= 12:
        return {}
    known = previous.since or previous.until or previous.due_after or previous.due_before or previous.meeting_on
    year = known.year if known else date.today().year
    month = int(match.group(1))
    return {"since": date(year, month, 1), "until": _month_end(year, month)}


_FOLLOW_UP_WORDS = re.compile(
    r"^\s*(?:(?:thế|vậy|còn|và)\s+)+|\s*(?:thì\s+sao|thì\s+thế\s+nào|thế\s+nào|nữa)?\s*\??\s*$",
    re.IGNORECASE,
)


def _follow_up_rest(question: str) -> str:
    return _FOLLOW_UP_WORDS.sub(" ", question).strip()
