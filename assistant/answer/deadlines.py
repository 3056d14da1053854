"""The deadlines route: the tasks due by or within a date (or overdue), earliest deadline first,
from the deadline records of the notices that meet the question's constraints."""

from __future__ import annotations

from datetime import date

from assistant.answer import context
from assistant.answer.assignments import first_lines
from assistant.answer.citations import AnswerResult, notice_date
from assistant.answer.context import AnswerContext, summary_date
from assistant.answer.route import DUE_SOON_DAYS, RoutedQuestion, TaskStatus
from assistant.model import Notice
from assistant.retrieve.filters import Filters
from assistant.store import AssignmentFilters, AssignmentRef, NoticeSummary
from assistant.tracking import TaskStatus as TrackedStatus


def answer(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    if routed.status is TaskStatus.DONE:
        return done_tasks(ctx, routed, filters)
    return due_tasks(ctx, routed, filters)


def done_tasks(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    """The tasks the follow-up records mark done ('đã hoàn thành'), within the question's
    agency, place and notices."""
    statuses = ctx.task_statuses()
    lookup = ctx.lookup(routed)
    if lookup is not None and not lookup.matched:
        return ctx.not_found(routed, lookup)
    found = lookup.refs if lookup is not None else ctx.store.assignment_refs()
    refs, _ = ctx.allowed_refs(found, routed, filters, dates=False)
    refs = [r for r in refs if statuses.get((r.notice_id, r.ord)) is TrackedStatus.DONE]
    if not refs:
        return AnswerResult(
            question=routed.question, answer=NONE_DONE, refused=True, route=routed.route.value
        )
    lines, cut = first_lines(ctx, refs, with_agency=True, limit=context.CHAT_LINES)
    note = "Xem đủ danh sách ở trang Theo dõi nhiệm vụ." if cut else ""
    return ctx.composed(routed, lines, f"Có {len(refs)} lượt nhiệm vụ đã hoàn thành theo theo dõi thực hiện:", note)


NONE_DONE = "Chưa có nhiệm vụ nào phù hợp được ghi nhận đã hoàn thành trong theo dõi thực hiện."


def due_tasks(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
    bounds: AssignmentFilters = {
        "with_deadline": True, "due_after": routed.due_after, "due_before": routed.due_before
    }
    lookup = ctx.lookup(routed, **bounds)
    if lookup is not None and not lookup.matched:
        return ctx.not_found(routed, lookup)
    found = lookup.refs if lookup is not None else ctx.store.assignment_refs(**bounds)
    refs, summaries = ctx.allowed_refs(found, routed, filters, dates=False)
    if routed.due_after or routed.due_before or routed.due_day_month:
        refs = [r for r in refs if r.deadline_date is not None]
    if routed.due_day_month:
        day_month = routed.due_day_month
        # One bound per notice, compared as ISO text (the order of the dates).
        per_notice: dict[str, str] = {}

        def due_by_bound(ref: AssignmentRef) -> bool:
            bound = per_notice.get(ref.notice_id)
            if bound is None:
                bound = per_notice[ref.notice_id] = _bound_after_meeting(summaries[ref.notice_id], day_month).isoformat()
            return ref.deadline_date is None or ref.deadline_date <= bound

        refs = [r for r in refs if due_by_bound(r)]
    closed = 0
    if routed.status is not None:
        # A task marked done (or dropped) in the follow-up is neither overdue nor due soon.
        statuses = ctx.task_statuses()
        kept = [r for r in refs if statuses.get((r.notice_id, r.ord)) not in _CLOSED]
        closed, refs = len(refs) - len(kept), kept
    if not refs:
        return ctx.refuse(routed)
    # Stable: newest notice first among equal deadlines, as the store returns them.
    refs.sort(key=lambda r: (r.deadline_date is None, r.deadline_date or ""))
    # Rows sharing a passage (chủ trì + phối hợp) make one line: a prefix of a few rows per
    # line holds the first lines; only those rows are decoded.
    head = refs[: context.CHAT_LINES * 4]
    lines, cut = first_lines(ctx, head, with_agency=True, limit=context.CHAT_LINES)
    what = "có thời hạn phù hợp"
    if routed.status is TaskStatus.OVERDUE:
        what = f"đã quá hạn tính đến ngày {date.today():%d/%m/%Y}"
    elif routed.status is TaskStatus.DUE_SOON:
        what = f"sắp đến hạn (trong {DUE_SOON_DAYS} ngày tới)"
    if closed:
        what += f" (không kể {closed} lượt đã hoàn thành hoặc không thực hiện)"
    if len(head) == len(refs) and not cut:
        return ctx.composed(routed, lines, f"Có {len(lines)} nhiệm vụ {what}:", STATUS_NOTE if routed.status else "")
    intro = (
        f"Có {len(refs)} lượt giao nhiệm vụ {what} (mỗi cơ quan được giao tính một lượt);"
        f" dưới đây là {len(lines)} nhiệm vụ có hạn sớm nhất:"
    )
    note = "Xem đủ danh sách ở trang Thời hạn."
    if routed.status:
        note = f"{note} {STATUS_NOTE}"
    return ctx.composed(routed, lines, intro, note)


STATUS_NOTE = (
    "Tính theo thời hạn ghi trong thông báo, không kể các việc đã ghi nhận hoàn thành hoặc không thực hiện "
    "trong theo dõi thực hiện."
)
_CLOSED = (TrackedStatus.DONE, TrackedStatus.ADJUSTED)


def _bound_after_meeting(notice: Notice | NoticeSummary, day_month: tuple[int, int]) -> date:
    """'trước 31/1' read from a notice's meeting date: the first 31/1 on or after it."""
    when = notice_date(notice) if isinstance(notice, Notice) else summary_date(notice)
    reference = date.fromisoformat(when) if when else date.today()
    day, month = day_month
    for year in (reference.year, reference.year + 1):
        try:
            bound = date(year, month, day)
        except ValueError:
            bound = date(year, month, 28)
        if bound >= reference:
            return bound
    return bound
