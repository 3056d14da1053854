"""The assignments route: every task the records give the agency a question names (exhaustive,
not top-k), newest notices first, one line per quoted passage with the agencies sharing it, then
set apart the passages that name the agency but that no record quotes (``related``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant.agency_forms import words
from assistant.answer import context
from assistant.answer.citations import AnswerResult, locate_quote, sentence_spans
from assistant.answer.context import AnswerContext
from assistant.answer.extractive import Line
from assistant.answer.places import place_key
from assistant.answer.route import QuestionKind, RoutedQuestion, constraint_free
from assistant.model import Assignment, Notice, Role
from assistant.prompts import REFUSAL
from assistant.retrieve.filters import Filters
from assistant.store import AssignmentRef, AssignmentRow
from assistant.text import search_view

ROLE_LABEL = {
    Role.LEAD: "chủ trì", Role.COORDINATE: "phối hợp", Role.ASSIGNED: "thực hiện", Role.REQUEST: "đề nghị"
}


@dataclass
class _Lines:
    """Answer lines being gathered: by quoted passage (notice, start, end), in first-seen
    order, with the labels of the rows sharing each passage."""

    lines: dict[tuple[str, int, int], Line] = field(default_factory=dict)
    who: dict[tuple[str, int, int], list[str]] = field(default_factory=dict)
    notices: set[str] = field(default_factory=set)

    def done(self) -> list[Line]:
        for key, line in self.lines.items():
            line.prefix = f"[{'; '.join(self.who[key])}] "
        return list(self.lines.values())


def answer(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    if routed.kind is QuestionKind.NOTICE_TASKS:
        return notice_tasks(ctx, routed, filters)
    if routed.kind is QuestionKind.LEAD:
        return lead(ctx, routed, filters)
    return agency_tasks(ctx, routed, filters)


def agency_tasks(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    # The question's constraints are all on the notice, and only the newest notices'
    # rows are decoded and shown. After the records, set apart: the passages that name the
    # agency but that no record quotes, so that a task the extraction missed is still seen.
    lookup = ctx.lookup(routed)
    if lookup is None:
        return ctx.refuse(routed)
    if not lookup.matched:
        return ctx.not_found(routed, lookup, ctx.related(lookup, routed, filters))
    refs, _ = ctx.allowed_refs(lookup.refs, routed, filters)
    if not refs:
        related = ctx.related(lookup, routed, filters)
        if related:
            message = (lookup.message() if lookup.total == 0 else None) or REFUSAL
            return ctx.composed(routed, [], message, related=related, refused=True)
        return ctx.refuse(routed)
    by_notice: dict[str, list[AssignmentRef]] = {}
    for ref in refs:
        by_notice.setdefault(ref.notice_id, []).append(ref)
    name = lookup.label()
    intro = f"{name} được giao {len(refs)} nhiệm vụ trong {len(by_notice)} thông báo:"
    level_note = lookup.level_note()
    if level_note:
        intro = f"{level_note}\n\n{intro}"
    lines: list[Line] = []
    shown = 0
    for notice_refs in by_notice.values():
        if len(lines) >= context.CHAT_LINES:
            break
        # A notice's rows at a time: rows sharing a passage (chủ trì + phối hợp) stay on one line.
        lines.extend(assignment_lines(ctx, ctx.store.assignment_rows(notice_refs), with_agency=bool(lookup.stored)))
        shown += len(notice_refs)
    note = ""
    if shown < len(refs):
        note = (
            f"Trên đây là {len(lines)} đoạn trích mới nhất ({shown}/{len(refs)} nhiệm vụ). "
            f"Xem đủ {len(refs)} nhiệm vụ ở trang Nhiệm vụ, tra theo cơ quan."
        )
    return ctx.composed(routed, lines, intro, note, related=ctx.related(lookup, routed, filters, lines))


def notice_tasks(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    """What the notices the question names (number, place, period) assigned: every record of
    each, per notice, newest first."""
    if not (routed.number or routed.locality or routed.since or routed.until or routed.meeting_on):
        return ctx.refuse(routed)
    summaries = ctx.store.summaries()
    ids = ctx.allowed_ids(summaries, routed, filters)
    levels = issuer_levels(routed)
    if levels:
        # 'UBND thành phố Nam Định giao …': the notices that body issued, not its province's
        level_of = {s.id: s.level for s in summaries}
        ids = [i for i in ids if level_of.get(i) in levels]
    refs = ctx.store.assignment_refs_of(ids[:NOTICES_SHOWN])
    if not refs:
        return ctx.refuse(routed)
    by_notice: dict[str, list[AssignmentRef]] = {}
    for ref in refs:
        by_notice.setdefault(ref.notice_id, []).append(ref)
    lines, cut = first_lines(ctx, refs, with_agency=True, limit=context.CHAT_LINES)
    shown = len({line.notice.id for line in lines})
    intro = f"{len(refs)} lượt giao nhiệm vụ trong {len(by_notice)} thông báo:"
    note = ""
    if cut or len(ids) > NOTICES_SHOWN:
        note = f"Trên đây là {len(lines)} nhiệm vụ đầu tiên của {shown} thông báo; xem đủ ở trang Nhiệm vụ."
    return ctx.composed(routed, lines, intro, note)


def lead(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    """Who leads a task named by its words ('Mua sắm trang thiết bị trường … do ai chủ trì?'):
    the assignment records whose task holds those words (most of them), with their roles."""
    asked = _task_words(routed)
    if not asked:
        return ctx.refuse(routed)
    ids = set(ctx.allowed_ids(ctx.store.summaries(), routed, filters))
    rows = [r for r in ctx.store.assignments() if r.notice_id in ids]
    scored: list[tuple[float, AssignmentRow]] = []
    for row in rows:
        have = set(words_of(row.assignment.task))
        share = sum(1 for w in asked if w in have) / len(asked)
        if share >= LEAD_MIN_SHARE:
            scored.append((share, row))
    if not scored:
        return ctx.refuse(routed)
    best = max(score for score, _ in scored)
    chosen = [row for score, row in scored if score >= best - 0.1]
    lines = assignment_lines(ctx, chosen, with_agency=True)[: context.CHAT_LINES]
    leads = list(dict.fromkeys(
        row.assignment.agency.canonical or row.assignment.agency.text
        for row in chosen if row.assignment.role is Role.LEAD
    ))
    doers = leads or list(dict.fromkeys(row.assignment.agency.canonical or row.assignment.agency.text for row in chosen))
    verb = "chủ trì" if leads else "được giao"
    intro = f"{', '.join(doers)} {verb} việc này:"
    return ctx.composed(routed, lines, intro)


# Notices whose records a 'what did this notice assign' answer reads.
NOTICES_SHOWN = 3
# Share of the question's task words a record's task must hold to answer 'who leads it'.
LEAD_MIN_SHARE = 0.7
_LEAD_WORDS = frozenset(
    ["do", "ai", "chu", "tri", "la", "co", "quan", "nao", "don", "vi", "phong", "boi", "viec", "cong", "nhiem", "vu",
     "cua", "o", "tai", "trong", "thi", "xa", "tinh", "huyen", "phuong", "thanh", "pho", "tp", "ve", "cho", "nay", "the"]
)


def _task_words(routed: RoutedQuestion) -> list[str]:
    """The words naming the task: the question without its question words, place and period."""
    text = constraint_free(routed.effective, routed.locality)
    return [w for w in dict.fromkeys(words_of(text)) if w not in _LEAD_WORDS and not w.isdigit()]


_ISSUER_LEVEL = re.compile(
    r"\b(?:ubnd|uy ban nhan dan|chu tich(?: ubnd)?)\s+(tinh|thanh pho|tp|thi xa|huyen|quan|xa|phuong|thi tran)\b"
)
_LEVELS = {
    "tinh": {"tinh"}, "thanh pho": {"huyen"}, "tp": {"huyen"}, "thi xa": {"huyen"},
    "huyen": {"huyen"}, "quan": {"huyen"}, "xa": {"xa"}, "phuong": {"xa"}, "thi tran": {"xa"},
}


def issuer_levels(routed: RoutedQuestion) -> set[str]:
    """The levels of the issuer a question names ('UBND xã …' → {'xa'}); empty when none."""
    match = _ISSUER_LEVEL.search(search_view(routed.question))
    if match is None:
        return set()
    if match.group(1) in ("thanh pho", "tp") and routed.locality and place_key(routed.locality) in _CENTRAL_CITIES:
        return {"tinh"}
    return set(_LEVELS[match.group(1)])


# Cities run by the centre: a 'thành phố' at the level of a province.
_CENTRAL_CITIES = frozenset(["ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue"])


def words_of(text: str) -> list[str]:
    return [w.key for w in words(text)]


def assignment_lines(ctx: AnswerContext, rows: Sequence[AssignmentRow], with_agency: bool) -> list[Line]:
    """One line per quoted passage; agencies sharing it (chủ trì + phối hợp) on one line."""
    lines = _Lines()
    for row in rows:
        add_line(ctx, lines, row, with_agency)
    return lines.done()


def first_lines(ctx: AnswerContext, refs: Sequence[AssignmentRef], with_agency: bool, limit: int) -> tuple[list[Line], bool]:
    """``_assignment_lines`` of the rows of ``refs`` cut to the first ``limit`` lines, and
    whether any line was cut. A row of a notice that none of those lines quotes can only
    start another line, so its record and notice are never decoded."""
    lines = _Lines()
    cut = False
    for ref in refs:
        if len(lines.lines) >= limit and ref.notice_id not in lines.notices:
            cut = True
            continue
        for row in ctx.store.assignment_rows([ref]):
            cut = not add_line(ctx, lines, row, with_agency, room=len(lines.lines) < limit) or cut
    return lines.done(), cut


def add_line(ctx: AnswerContext, lines: _Lines, row: AssignmentRow, with_agency: bool, room: bool = True) -> bool:
    """Adds ``row`` to the line quoting its passage, or as a new line if there is
    ``room``; False when the row needed a new line and there was none."""
    item: Assignment = row.assignment
    notice = ctx.notice(row.notice_id)
    start, end = task_span(notice, item)
    key = (notice.id, start, end)
    role = ROLE_LABEL.get(item.role, "thực hiện")
    label = f"{item.agency.canonical or item.agency.text} {role}" if with_agency else role
    if key not in lines.lines:
        if not room:
            return False
        suffix = deadline_words(item)
        lines.lines[key] = Line(notice, start, end, " › ".join(item.section_path), "", suffix)
        lines.who[key] = []
        lines.notices.add(notice.id)
    if label not in lines.who[key]:
        lines.who[key].append(label)
    return True


def task_span(notice: Notice, item: Assignment) -> tuple[int, int]:
    """The sentences of the assignment's passage that state its task: a heading with several
    bullets under it is cited by the bullet that concerns this task (the heading is in the
    citation's section)."""
    found = locate_quote(notice.text, item.task, item.start, item.end)
    if found is None:
        return item.start, item.end
    spans = [(s, e) for s, e in sentence_spans(notice.text, item.start, item.end) if s < found[1] and found[0] < e]
    if not spans:
        return item.start, item.end
    return spans[0][0], spans[-1][1]


def deadline_words(item: Assignment, today: date | None = None) -> str:
    """' — hạn: trước ngày 20/4/2024 (đã quá hạn 960 ngày)': the deadline as written and, when
    dated, whether it has passed (completion is not known here)."""
    if item.deadline is None:
        return ""
    text = f" — hạn: {item.deadline.text}"
    due = item.deadline.date
    if due is not None and not item.deadline.recurring:
        days = ((today or date.today()) - due).days
        if days > 0:
            text += f" (đã quá hạn {days} ngày)"
        elif days == 0:
            text += " (đến hạn hôm nay)"
        else:
            text += f" (còn {-days} ngày)"
    return text
