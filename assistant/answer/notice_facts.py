"""The notice-facts route: who chaired or signed a meeting's notice, when it was held, its
number, which notices exist; read from the notices' header fields and cited where they stand."""

from __future__ import annotations

from collections import Counter

from assistant.answer import context
from assistant.answer.citations import AnswerResult, sentence_spans
from assistant.answer.context import AnswerContext, summary_names_period
from assistant.answer.extractive import Line, content_words, topic_score, topic_upper_bound
from assistant.answer.route import MetaField, QuestionKind, RoutedQuestion
from assistant.model import DocumentKind, Notice
from assistant.retrieve.filters import Filters
from assistant.text import collapse_spaces

# Words of metadata questions that do not say which meeting is meant.
_META_WORDS = frozenset(
    ["chu", "tri", "toa", "ky", "ten", "nguoi", "ngay", "thang", "nam", "so", "hieu", "ky", "hieu", "may", "nhung", "danh", "sach", "liet", "ke", "dien", "ra", "to", "chuc", "ban", "hanh", "bao", "gio", "hom"]
)


def answer(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    # Candidates from the notices' columns (a named day through its index); only the
    # notices that can be shown are decoded.
    summaries = (
        ctx.store.summaries_held_on(routed.meeting_on) if routed.meeting_on else ctx.store.summaries()
    )
    by_id = {s.id: s for s in summaries}
    ids = ctx.allowed_ids(summaries, routed, filters)
    if routed.since or routed.until:
        # A meeting is named by the period in its title more surely than by its date.
        named = [i for i in ids if summary_names_period(by_id[i], routed.since, routed.until)]
        ids = named or ids
    if routed.meta_field is not MetaField.NOTICES:
        ids = [i for i in ids if by_id[i].kind == DocumentKind.NOTICE.value] or ids
        topic = [w for w in content_words(routed.effective) if w not in _META_WORDS and not w.isdigit()]
        if routed.locality:
            topic = [w for w in topic if w not in content_words(routed.locality)]
        if topic and len(ids) > context.CHAT_LINES:
            best_ids = topic_best(ctx, ids, topic)
            # No notice is named well enough: every candidate stays, as below.
            ids, topic = (best_ids, topic) if best_ids is not None else (ids, [])
        if topic:
            notices = [ctx.notice(i) for i in ids]
            scores = {n.id: topic_score(n, topic) for n in notices}
            best = max(scores.values(), default=0.0)
            if best >= 0.5:
                ids = [n.id for n in notices if scores[n.id] == best]
    if routed.kind is QuestionKind.SUMMARY:
        return summary(ctx, routed, ids)
    total = len(ids)
    # Only the notices shown are decoded (a long list is cut, and says so).
    notices = [ctx.notice(i) for i in ids[:context.CHAT_LINES]]
    lines: list[Line] = []
    for notice in notices:
        line = _meta_line(notice, routed.meta_field or MetaField.NOTICES)
        if line is not None:
            lines.append(line)
    if not lines:
        return ctx.refuse(routed)
    intro = ""
    note = ""
    if routed.meta_field is MetaField.NOTICES:
        intro = f"Có {total if total > context.CHAT_LINES else len(lines)} thông báo đã lưu:"
    if total > context.CHAT_LINES:
        note = (
            f"Trên đây là {len(lines)} thông báo mới nhất trong {total}. Xem đủ danh sách ở trang Thông báo."
        )
    return ctx.composed(routed, lines, intro, note)


def topic_best(ctx: AnswerContext, ids: list[str], topic: list[str]) -> list[str] | None:
    """The notices with the best ``topic_score`` (at least 0.5), in the order given, or
    ``None`` when none reaches it. Scores an upper bound on the raw title and opening of
    every notice, then decodes notices in decreasing bound only while they can still tie
    the best exact score."""
    heads = ctx.store.heads(ids)
    bounds = {i: topic_upper_bound(heads.get(i, ""), topic) for i in ids}
    best = 0.0
    exact: dict[str, float] = {}
    for notice_id in sorted(ids, key=lambda i: -bounds[i]):
        if bounds[notice_id] < max(best, 0.5):
            break
        score = topic_score(ctx.notice(notice_id), topic)
        exact[notice_id] = score
        best = max(best, score)
    if best < 0.5:
        return None
    return [i for i in ids if exact.get(i) == best]


def _sentence_at(notice: Notice, position: int, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    for s, e in sentence_spans(notice.text, start, len(notice.text) if end is None else end):
        if s <= position < e:
            return s, e
    return None


def _meta_line(notice: Notice, meta: MetaField) -> Line | None:
    text = notice.text
    if meta is MetaField.CHAIR and notice.chair is not None and notice.chair.end > notice.chair.start:
        span = _sentence_at(notice, notice.chair.start) or (notice.chair.start, notice.chair.end)
        who = ", ".join(p for p in (notice.chair.name, notice.chair.position) if p)
        return Line(notice, *span, prefix=f"Chủ trì: {who} — " if who else "")
    if meta is MetaField.SIGNER and notice.signature is not None:
        sig = notice.signature
        who = ", ".join(p for p in (sig.signer, sig.authority, sig.position) if p)
        return Line(notice, sig.start, sig.end, prefix=f"Người ký: {who} — " if who else "")
    if meta is MetaField.NUMBER and notice.number is not None:
        return Line(notice, notice.number.start, notice.number.end)
    if meta is MetaField.MEETING_DATE:
        for value in (notice.meeting_date, notice.issue_date):
            if value is not None and value.end > value.start:
                span = _sentence_at(notice, value.start) or (value.start, value.end)
                label = f"Ngày {value.value:%d/%m/%Y} — " if value.value else ""
                return Line(notice, *span, prefix=label)
        return None
    if meta is MetaField.NOTICES:
        if notice.title is not None and text[notice.title.start : notice.title.end].strip():
            return Line(notice, notice.title.start, notice.title.end)
        first = sentence_spans(text)
        return Line(notice, *first[0]) if first else None
    return None


def summary(ctx: AnswerContext, routed: RoutedQuestion, ids: list[str]) -> AnswerResult:
    """A short summary of one notice: its header, its top-level parts, and how many tasks each
    agency was given (from the records). Needs the question to name one notice."""
    if not ids or (len(ids) > 1 and not (routed.number or routed.locality or routed.since or routed.until)):
        return ctx.refuse(routed)
    notice = ctx.store.get(ids[0])
    parts = [
        f"{section.marker} {collapse_spaces(section.heading)}" if section.heading else section.marker
        for section in notice.sections
        if section.number is not None
    ]
    counts = Counter(a.agency.canonical or collapse_spaces(a.agency.text) for a in notice.assignments)
    out = []
    if parts:
        out.append("Các phần: " + "; ".join(parts) + ".")
    if counts:
        per_agency = ", ".join(f"{name} ({n})" for name, n in counts.most_common(SUMMARY_AGENCIES))
        more = f" và {len(counts) - SUMMARY_AGENCIES} cơ quan khác" if len(counts) > SUMMARY_AGENCIES else ""
        out.append(f"Giao {sum(counts.values())} lượt nhiệm vụ cho {len(counts)} cơ quan, đơn vị: {per_agency}{more}.")
    else:
        out.append("Thông báo này không giao nhiệm vụ cho cơ quan nào có tên.")
    line = _meta_line(notice, MetaField.NOTICES)
    lines = [line] if line is not None else []
    return ctx.composed(routed, lines, "Tóm tắt thông báo:", "\n".join(out))


# Agencies named in a summary (the most tasks first).
SUMMARY_AGENCIES = 12
