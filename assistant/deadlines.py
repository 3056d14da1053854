"""Deadline phrases -> ``Deadline`` (a due date, a period, or a recurring duty).

Only phrases that say *by when* count: a date needs a deadline word before it (``trước``,
``chậm nhất``, ``xong trước``, ``hạn``, ``đến hết``, ``trong`` for months/quarters/years), so
dates that identify documents (``Nghị quyết số 17-NQ/TU ngày 17/7/2012``) are never deadlines.
Matching runs on ``search_view(text)``, which has the length of ``text``, so offsets are exact.
A date written without its year (``trước 30/3``) takes the year of ``reference`` (the meeting
date), moved to the next year if that day would already be past.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from assistant.errors import AssistantError
from assistant.model import Deadline
from assistant.text import nfc, search_view

_DAY_MONTH_YEAR = (
    r"(?:(?P<d1>\d{1,2})\s*[/.-]\s*(?P<m1>\d{1,2})(?:\s*[/.-]\s*(?P<y1>\d{4}|\d{2}))?(?![\d/])"
    r"|(?P<d2>\d{1,2})\s+thang\s+(?P<m2>\d{1,2})(?:\s*(?:,\s*)?nam\s+(?P<y2>\d{4}))?)"
)
_BEFORE = (
    r"(?:(?:xong|hoan thanh|hoan thien|ket thuc)\s+)?"
    r"(?:truoc|cham nhat(?:\s+la)?(?:\s+(?:truoc|vao))?|han chot(?:\s+la)?|han|den het|"
    r"khong qua|trong han)"
    r"\s+(?:(?:het\s+)?ngay\s+)?"
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_PERIOD = (
    r"(?:(?:xong|hoan thanh|cham nhat|ngay)\s+)?(?:trong|truoc het|den het|cuoi)\s+"
    r"(?:(?:thang\s+(?P<pm>\d{1,2})(?:\s*(?:/|nam)\s*(?P<pmy>\d{4}))?)"
    r"|(?:quy\s+(?P<pq>iv|i{1,3}|[1-4])(?:\s*(?:/|nam)\s*(?P<pqy>\d{4}))?)"
    r"|(?:nam\s+(?P<py>\d{4})))"
)
_DATE_RE = re.compile(r"(?<!\w)" + _BEFORE + _DAY_MONTH_YEAR)
_PERIOD_RE = re.compile(r"(?<!\w)" + _PERIOD + r"(?![\w/])")
_RECURRING_RE = re.compile(
    r"(?<!\w)(?:dinh ky\s+)?(?:hang|hang)\s+(?:ngay|tuan|thang|quy|nam)(?!\w)"
    r"|(?<!\w)thuong xuyen(?!\w)"
)
# 'chi thường xuyên' is a budget line and 'nhiệm vụ thường xuyên' a kind of task, not a rhythm
_NOT_RECURRING_BEFORE = re.compile(r"(?:chi|nhiem vu|cac|hoat dong)\s+$")


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = int(raw)
    return value + 2000 if value < 100 else value


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _roll(due: date, period_start: date | None, reference: date) -> tuple[date, date | None]:
    """A date written without a year lies on or after the meeting."""
    if due >= reference:
        return due, period_start
    try:
        rolled = due.replace(year=due.year + 1)
    except ValueError:  # 29/2
        rolled = due + timedelta(days=365)
    start = period_start.replace(year=period_start.year + 1) if period_start else None
    if start is not None and rolled.month == 2 and start.month == 2:
        rolled = _last_day(rolled.year, 2)
    return rolled, start


def find_deadlines(
    text: str, start: int = 0, end: int | None = None, reference: date | None = None
) -> list[Deadline]:
    """Every deadline phrase in ``text[start:end]``, in order, offsets into ``text``."""
    end = len(text) if end is None else end
    view = search_view(text[start:end])
    found: list[Deadline] = []

    def add(s: int, e: int, due: date | None, period_start: date | None, recurring: bool) -> None:
        a, b = s + start, e + start
        if any(a < d.end and d.start < b for d in found):
            return
        found.append(
            Deadline(
                text=text[a:b], date=due, period_start=period_start, recurring=recurring,
                start=a, end=b,
            )
        )

    for m in _DATE_RE.finditer(view):
        day = int(m.group("d1") or m.group("d2"))
        month = int(m.group("m1") or m.group("m2"))
        year = _year(m.group("y1") or m.group("y2"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        due: date | None = None
        if year is not None:
            due = _safe_date(year, month, day)
            if due is None:
                continue
        elif reference is not None:
            candidate = _safe_date(reference.year, month, day)
            if candidate is None:
                continue
            due, _ = _roll(candidate, None, reference)
        add(m.start(), m.end(), due, None, False)

    for m in _PERIOD_RE.finditer(view):
        period_start: date | None
        due = None
        period_start = None
        explicit_year = True
        if m.group("pm") is not None:
            month = int(m.group("pm"))
            if not 1 <= month <= 12:
                continue
            year = _year(m.group("pmy"))
            if year is None:
                explicit_year = False
                year = reference.year if reference else None
            if year is not None:
                period_start, due = date(year, month, 1), _last_day(year, month)
        elif m.group("pq") is not None:
            quarter = _ROMAN[m.group("pq")]
            year = _year(m.group("pqy"))
            if year is None:
                explicit_year = False
                year = reference.year if reference else None
            if year is not None:
                period_start = date(year, 3 * quarter - 2, 1)
                due = _last_day(year, 3 * quarter)
        else:
            year = int(m.group("py"))
            period_start, due = date(year, 1, 1), date(year, 12, 31)
        if due is not None and not explicit_year and reference is not None:
            due, period_start = _roll(due, period_start, reference)
        add(m.start(), m.end(), due, period_start, False)

    for m in _RECURRING_RE.finditer(view):
        if m.group().startswith("thuong") and _NOT_RECURRING_BEFORE.search(view[: m.start()]):
            continue
        add(m.start(), m.end(), None, None, True)

    found.sort(key=lambda d: d.start)
    return found


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?$")


def parse_user_date(s: str, today: date | None = None) -> date:
    """A date typed on the command line: ``2024-01-31``, ``31/1/2024``, ``31/01`` (this year)."""
    raw = nfc(s).strip()
    iso = _ISO.match(raw)
    parsed: date | None = None
    if iso:
        parsed = _safe_date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    else:
        dmy = _DMY.match(raw)
        if dmy:
            year = _year(dmy.group(3))
            if year is None:
                year = (today or date.today()).year
            parsed = _safe_date(year, int(dmy.group(2)), int(dmy.group(1)))
    if parsed is None:
        raise AssistantError(
            f"Không hiểu ngày '{s}'. Hãy nhập theo dạng 31/01/2024, 31/01 hoặc 2024-01-31."
        )
    return parsed
