"""A question's place, period and notice number checked against what is stored, before any route
answers it: a constraint no stored notice meets is refused by name, with what does exist
(``Chưa có thông báo nào của tỉnh Phú Thọ; đã lưu: …``), never answered from another place or
period."""

from __future__ import annotations

import re
from datetime import date, timedelta

from assistant.answer.citations import AnswerResult
from assistant.answer.context import AnswerContext, summary_date
from assistant.answer.route import Route, RoutedQuestion
from assistant.retrieve.filters import Filters
from assistant.store import NoticeSummary
from assistant.text import collapse_spaces

_NUMBER_WORD = re.compile(r"^\s*s[ốo]\s*:?\s*", re.IGNORECASE)
# Notices named in a refusal's list of what exists.
LISTED = 8


def unmet(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult | None:
    """The refusal when no stored notice meets the question's place, period and number; None
    when some does (or the question names none of them)."""
    dated = routed.route is not Route.DEADLINES  # a deadline question's dates bound the deadlines
    has_period = dated and bool(routed.since or routed.until or routed.meeting_on)
    if not (routed.locality or routed.number or has_period):
        return None
    summaries = ctx.store.summaries()
    if ctx.allowed_ids(summaries, routed, filters, dates=dated):
        return None
    asked = _asked_words(routed, has_period)
    # What exists: the notices meeting the other constraints when one alone fails, else the
    # places stored.
    exists: list[NoticeSummary] = []
    for relaxed in _relaxations(routed):
        ids = set(ctx.allowed_ids(summaries, relaxed, filters, dates=dated))
        if ids:
            exists = [s for s in summaries if s.id in ids]
            break
    if exists:
        listed = "; ".join(notice_label(s) for s in exists[:LISTED])
        more = f" (và {len(exists) - LISTED} thông báo khác)" if len(exists) > LISTED else ""
        stored = f"Đã lưu: {listed}{more}."
    else:
        places = ctx.places()
        stored = f"Đã lưu thông báo của: {', '.join(places[:20])}." if places else "Chưa lưu thông báo nào."
    answer = f"Chưa có thông báo nào {asked}. {stored}"
    return AnswerResult(question=routed.question, answer=answer, refused=True, route=routed.route.value)


def _relaxations(routed: RoutedQuestion) -> list[RoutedQuestion]:
    """The question without its period, then without its number, then with its place only."""
    no_period = {"since": None, "until": None, "meeting_on": None}
    out = []
    if routed.locality:
        out.append(routed.model_copy(update={**no_period, "number": None}))
    if routed.since or routed.until or routed.meeting_on:
        out.insert(0, routed.model_copy(update=no_period))
    if routed.number and routed.locality:
        out.insert(0, routed.model_copy(update={"locality": None}))
    return out


def _asked_words(routed: RoutedQuestion, has_period: bool) -> str:
    parts = []
    if routed.number:
        parts.append(f"số {routed.number.upper()}")
    if routed.locality:
        parts.append(f"về {routed.locality}")
    if has_period:
        period = period_words(routed)
        parts.append(period if period.startswith(("ngày", "từ", "đến")) else f"trong {period}")
    return " ".join(parts)


def period_words(routed: RoutedQuestion) -> str:
    """'ngày 13/03/2024', 'tháng 8/2025', 'quý III/2025', 'năm 2024' or 'từ … đến …'."""
    if routed.meeting_on:
        return f"ngày {routed.meeting_on:%d/%m/%Y}"
    since, until = routed.since, routed.until
    if since and until:
        last = until + timedelta(days=1)
        if since.day == 1 and last.day == 1:
            months = (last.year - since.year) * 12 + last.month - since.month
            if months == 1:
                return f"tháng {since.month}/{since.year}"
            if months == 3 and since.month % 3 == 1:
                return f"quý {('I', 'II', 'III', 'IV')[since.month // 3]}/{since.year}"
            if months == 12 and since.month == 1:
                return f"năm {since.year}"
        return f"từ {since:%d/%m/%Y} đến {until:%d/%m/%Y}"
    if since:
        return f"từ {since:%d/%m/%Y}"
    return f"đến {until:%d/%m/%Y}" if until else ""


def notice_label(summary: NoticeSummary) -> str:
    """'UBND THỊ XÃ BẾN VÂN, số 45/TB-UBND, ngày 13/03/2024' from a notice's columns."""
    parts = [collapse_spaces(summary.issuer) if summary.issuer else "Thông báo"]
    number = _NUMBER_WORD.sub("", collapse_spaces(summary.number or ""))
    if any(ch.isdigit() for ch in number):
        parts.append(f"số {number}")
    when = summary_date(summary)
    if when:
        parts.append(f"ngày {date.fromisoformat(when):%d/%m/%Y}")
    return ", ".join(parts)
