"""The assignments route: every task the records give the agency a question names (exhaustive,
not top-k), newest notices first, one line per quoted passage with the agencies sharing it, then
set apart the passages that name the agency but that no record quotes (``related``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.answer import context
from assistant.answer.citations import AnswerResult, locate_quote, sentence_spans
from assistant.answer.context import AnswerContext
from assistant.answer.extractive import Line
from assistant.answer.route import RoutedQuestion
from assistant.model import Assignment, Notice, Role
from assistant.prompts import REFUSAL
from assistant.retrieve.filters import Filters
from assistant.store import AssignmentRef, AssignmentRow

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
            f'Xem đủ {len(refs)} nhiệm vụ: lệnh `assistant assignments "{lookup.query}"` hoặc trang cơ quan '
            "trên giao diện web."
        )
    return ctx.composed(routed, lines, intro, note, related=ctx.related(lookup, routed, filters, lines))


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
        suffix = f" — hạn: {item.deadline.text}" if item.deadline else ""
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
