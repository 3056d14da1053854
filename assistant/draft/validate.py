"""What a draft may contain: only agencies, dates and numbers that the notes hold, and every
task of the notes. The same fact comparison decides whether an LLM rewrite is accepted."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from pydantic import BaseModel, Field

from assistant.draft.notes import Context, ParsedNotes
from assistant.model import FormalDocument, OutlineItem, Role
from assistant.render.markdown import one_line
from assistant.text import search_view


class DraftWarning(BaseModel):
    code: str = Field(description="Stable code: missing_task, invented_number, unknown_agency…")
    message: str = Field(description="Vietnamese message for the clerk")
    lines: list[int] = Field(default_factory=list, description="Note lines concerned")
    severity: str = Field(default="warning", description="'error': must be fixed before issuing")
    task: int | None = Field(default=None, description="Index of the task (in the trace) concerned")


class TraceEntry(BaseModel):
    item: str = Field(description="Where the assignment sits in the draft: 'II.3' + item index")
    text: str = Field(description="The draft sentence")
    agencies: list[str] = Field(default_factory=list, description="Full names, assigned first")
    roles: list[str] = Field(default_factory=list, description="Role of each agency")
    deadline: str | None = Field(default=None, description="Deadline as written in the draft")
    deadline_date: dt.date | None = None
    lines: list[int] = Field(description="Note line numbers the assignment came from")
    source: list[str] = Field(description="Those note lines as written")


_NUMBER = re.compile(r"(?<![\w])\d+(?:[.,]\d+)*")


def _norm_number(raw: str) -> str:
    raw = raw.rstrip(".,")
    if raw.isdigit():
        return raw.lstrip("0") or "0"
    return raw


def numbers(text: str) -> Counter[str]:
    """Numbers as written, without leading zeros ('09' == '9'); '61,2' and '1.200' kept whole."""
    out: Counter[str] = Counter()
    for m in _NUMBER.finditer(text):
        for part in re.split(r"[/]", m.group()):
            out[_norm_number(part)] += 1
    return out


_FULL_DATE = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})(?![\d/])")
_WORD_DATE = re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})")
_SHORT_DATE = re.compile(
    r"(?:ngay|truoc|dip|den|tu|han)\s+(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])"
)
_MONTH = re.compile(r"thang\s+(\d{1,2})\s*(?:/|\s+nam\s+)\s*(\d{4})")


def dates(text: str, reference: dt.date) -> set[tuple[int, int, int]]:
    """Dates and months named in ``text`` as (year, month, day-or-0); no-year dates take the
    reference year (rolled forward past the reference, as deadlines are)."""
    view = search_view(text)
    out: set[tuple[int, int, int]] = set()
    for m in (*_FULL_DATE.finditer(view), *_WORD_DATE.finditer(view)):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= month <= 12 and 1 <= day <= 31:
            out.add((year, month, day))
    for m in _SHORT_DATE.finditer(view):
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= 31:
            try:
                when = dt.date(reference.year, month, day)
            except ValueError:
                continue
            year = reference.year + (1 if when < reference else 0)
            out.add((year, month, day))
    for m in _MONTH.finditer(view):
        month, year = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12:
            out.add((year, month, 0))
    return out


def agencies(text: str, ctx: Context) -> set[str]:
    """Agencies named in ``text`` by identity: known ones by their current canonical name,
    unknown ones by their accent-free spelling."""
    out: set[str] = set()
    prepared = ctx.prepare(text)
    for ref in ctx.gazetteer.find_mentions(prepared, level=ctx.level, on=ctx.meeting_date):
        agency = ctx.gazetteer.by_name(ref.canonical, ref.level) if ref.canonical else None
        if agency is not None:
            out.add("id:" + ctx.settle(agency, ref.text).id)
        else:
            out.add("text:" + search_view(ref.text))
    return out


def rewrite_problems(template: str, candidate: str, ctx: Context) -> list[str]:
    """Why ``candidate`` may not replace ``template`` (empty: it keeps every fact)."""
    problems: list[str] = []
    if not candidate.strip() or "\n" in candidate.strip():
        return ["câu viết lại rỗng hoặc nhiều dòng"]
    if numbers(template) != numbers(candidate):
        lost = numbers(template) - numbers(candidate)
        added = numbers(candidate) - numbers(template)
        problems.append(f"con số khác bản mẫu (mất: {sorted(lost)}, thêm: {sorted(added)})")
    if dates(template, ctx.meeting_date) != dates(candidate, ctx.meeting_date):
        problems.append("ngày tháng, thời hạn khác bản mẫu")
    if agencies(template, ctx) != agencies(candidate, ctx):
        problems.append("cơ quan khác bản mẫu")
    return problems


def _walk(items: list[OutlineItem]) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(t for t in (item.heading, item.text) if t)
        out.extend(_walk(item.children))
    return out


def checked_text(doc: FormalDocument) -> str:
    """The parts of the draft written from the notes (not the fixed formulas around them)."""
    return "\n".join([doc.title, *doc.opening, *_walk(doc.body)])


def validate_draft(
    doc: FormalDocument,
    markdown: str,
    notes: ParsedNotes,
    trace: list[TraceEntry],
    ctx: Context,
    edited: bool = False,
) -> list[DraftWarning]:
    """``edited``: the draft comes from the clerk's edited form, where an agency of the notes
    replaced on purpose is reported as a change, not as an error."""
    warnings: list[DraftWarning] = []
    source_text = "\n".join(line.text for line in notes.lines)
    formal_notes = "\n".join(ctx.formalize(line.text) for line in notes.lines)
    draft = checked_text(doc)

    allowed_numbers = set(numbers(source_text))
    allowed_dates = dates(source_text, ctx.meeting_date)
    allowed_dates.add((ctx.meeting_date.year, ctx.meeting_date.month, ctx.meeting_date.day))
    for task in notes.tasks:
        d = task.deadline
        if d is not None and d.date is not None:
            if d.period_start is None:
                allowed_dates.add((d.date.year, d.date.month, d.date.day))
            else:
                allowed_dates.add((d.date.year, d.date.month, 0))
            allowed_numbers.add(str(d.date.year))
    for year, month, day in allowed_dates:
        allowed_numbers.update({str(year), str(month), str(day)})
    invented = sorted(set(numbers(draft)) - allowed_numbers)
    if invented:
        warnings.append(DraftWarning(
            code="invented_number",
            message="Dự thảo có con số không có trong ghi chép: " + ", ".join(invented) + ".",
        ))
    extra_dates = sorted(dates(draft, ctx.meeting_date) - allowed_dates)
    if extra_dates:
        shown = ", ".join(f"{d}/{m}/{y}" if d else f"tháng {m}/{y}" for y, m, d in extra_dates)
        warnings.append(DraftWarning(
            code="invented_date", message=f"Dự thảo có ngày tháng không có trong ghi chép: {shown}."
        ))

    allowed_agencies = agencies(source_text, ctx) | agencies(formal_notes, ctx)
    allowed_agencies |= {"id:" + agency_id for agency_id in notes.named}
    for task in notes.tasks:
        for a in task.agencies:
            if a.agency is not None:
                allowed_agencies.add("id:" + ctx.current(a.agency).id)
    own = ctx.gazetteer.resolve(ctx.issuer.unit, ctx.level, ctx.meeting_date)
    if own is not None:
        allowed_agencies.add("id:" + own.id)
    office = ctx.gazetteer.resolve(ctx.office(), ctx.level, ctx.meeting_date)
    if office is not None:
        allowed_agencies.add("id:" + office.id)
    folded_notes = search_view(source_text + "\n" + formal_notes)
    extra_agencies = []
    for key in sorted(agencies(draft, ctx) - allowed_agencies):
        kind, _, value = key.partition(":")
        if kind == "text" and value in folded_notes:
            continue
        agency = ctx.gazetteer.get(value) if kind == "id" else None
        extra_agencies.append(agency.name if agency else value)
    if extra_agencies:
        warnings.append(DraftWarning(
            code="invented_agency",
            message="Dự thảo nêu cơ quan không có trong ghi chép: " + "; ".join(extra_agencies) + ".",
        ))

    flat = one_line(markdown.replace("\n", " "))
    traced: dict[int, TraceEntry] = {}
    for entry in trace:
        for number in entry.lines:
            traced[number] = entry
    for task in notes.tasks:
        numbers_of_task = [line.number for line in task.lines]
        found = traced.get(numbers_of_task[-1])
        if found is None or one_line(found.text) not in flat:
            warnings.append(DraftWarning(
                code="missing_task",
                message=f"Nhiệm vụ ở dòng {numbers_of_task[-1]} của ghi chép không có trong dự thảo: "
                f"'{task.lines[-1].text}'.",
                lines=numbers_of_task,
            ))
        if not task.assigned:
            warnings.append(DraftWarning(
                code="task_without_agency",
                message=f"Dòng {numbers_of_task[-1]}: nhiệm vụ chưa nêu cơ quan thực hiện; dự thảo giữ "
                "nguyên nhiệm vụ ở mục riêng, cần bổ sung cơ quan trước khi ban hành.",
                lines=numbers_of_task,
            ))
        for a in task.agencies:
            if a.agency is None:
                warnings.append(DraftWarning(
                    code="unknown_agency",
                    message=f"Dòng {numbers_of_task[-1]}: '{a.written}' không có trong danh mục cơ quan; "
                    "dự thảo giữ nguyên tên như ghi chép, cần kiểm tra tên đầy đủ.",
                    lines=numbers_of_task,
                ))
        if task.deadline is not None and task.deadline.year_inferred and task.deadline.date:
            warnings.append(DraftWarning(
                code="deadline_year_inferred",
                message=f"Dòng {numbers_of_task[-1]}: thời hạn '{task.deadline.written}' không ghi năm; "
                f"dự thảo ghi năm {task.deadline.date.year} theo ngày họp, cần kiểm tra.",
                lines=numbers_of_task,
            ))
    warnings.extend(agency_problems(notes, trace, ctx, edited))
    for line in notes.skipped:
        warnings.append(DraftWarning(
            code="skipped_line",
            message=f"Dòng {line.number} là lời chào, cảm ơn hoặc câu kết thúc biên bản; không đưa vào "
            f"dự thảo: '{line.text}'.",
            lines=[line.number], severity="info",
        ))
    for line in notes.section_headings:
        warnings.append(DraftWarning(
            code="section_heading",
            message=f"Dòng {line.number} là đề mục của ghi chép ('{line.text}'); dự thảo xếp các nhiệm "
            "vụ dưới đề mục này theo cơ quan thực hiện.",
            lines=[line.number], severity="info",
        ))
    for line in notes.unplaced:
        warnings.append(DraftWarning(
            code="unplaced_line",
            message=f"Dòng {line.number} không xếp được vào phần nào của thông báo nên không đưa vào "
            f"dự thảo: '{line.text}'.",
            lines=[line.number],
        ))
    return warnings


def agency_problems(
    notes: ParsedNotes, trace: list[TraceEntry], ctx: Context, edited: bool = False
) -> list[DraftWarning]:
    """Agencies a notice cannot carry as they stand: a unit that does not exist at the meeting
    date or belongs to another level, a body above the issuer ordered instead of asked, and an
    agency of a task line that the draft dropped."""
    out: list[DraftWarning] = []
    by_line = {n: i for i, entry in enumerate(trace) for n in entry.lines}
    for task_number, task in enumerate(notes.tasks):
        numbers_of_task = [line.number for line in task.lines]
        where = f"Dòng {numbers_of_task[-1]}" if numbers_of_task[-1] > 0 else f"Nhiệm vụ {task_number + 1}"
        entry_index = by_line.get(numbers_of_task[-1])
        index = task_number
        for a in task.agencies:
            if a.agency is None:
                continue
            why = ctx.misplaced(a.agency)
            if why:
                out.append(DraftWarning(
                    code="agency_wrong_level",
                    message=f"{where}: {why}. Hãy sửa cơ quan trước khi ban hành.",
                    lines=numbers_of_task, severity="error", task=index,
                ))
            elif ctx.above(a.agency) and a.role is not Role.REQUEST and a.role is not Role.COORDINATE:
                out.append(DraftWarning(
                    code="agency_above_issuer",
                    message=f"{where}: {a.formal} là cơ quan cấp trên của {ctx.issuer.unit}; "
                    "thông báo phải ghi 'Đề nghị', không 'Giao'.",
                    lines=numbers_of_task, severity="error", task=index,
                ))
        entry = trace[entry_index] if entry_index is not None else None
        kept = {"id:" + a.agency.id for a in task.agencies if a.agency is not None}
        kept |= agencies(entry.text, ctx) if entry is not None else set()
        written = agencies(" ".join(line.text for line in task.lines), ctx)
        for key in sorted(written - kept):
            kind, _, value = key.partition(":")
            agency = ctx.gazetteer.get(value) if kind == "id" else None
            if agency is None or agency.id in (ctx.issuer_agency_ids()):
                continue
            out.append(DraftWarning(
                code="agency_dropped",
                message=f"{where}: ghi chép nêu {agency.name} nhưng dự thảo không giữ cơ quan này "
                + ("trong nhiệm vụ (đã sửa trên biểu mẫu); hãy kiểm tra." if edited else "trong nhiệm vụ; hãy bổ sung."),
                lines=numbers_of_task, severity="warning" if edited else "error", task=index,
            ))
    return out
