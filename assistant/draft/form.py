"""The draft as an editable form (issuer, meeting, chair, attendees, results, shortcomings and
a task table), and the draft composed back from an edited form, validated as the notes' draft
is: the same agency checks (level, date, 'Đề nghị' for bodies above), the same numbers and
dates against the notes, every task still traced to its note line(s)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, Field

from assistant.agencies import Gazetteer
from assistant.deadlines import find_deadlines
from assistant.draft.notes import (
    BLANK,
    Context,
    Issuer,
    NoteDeadline,
    NoteItem,
    NoteLine,
    NoteTask,
    ParsedNotes,
    TaskAgency,
    parse_issuer,
    split_lines,
)
from assistant.model import Role

FormRole = Literal["thuc_hien", "chu_tri", "de_nghi"]
_ROLE = {"thuc_hien": Role.ASSIGNED, "chu_tri": Role.LEAD, "de_nghi": Role.REQUEST}


class FormTask(BaseModel):
    agency: str = Field(default="", max_length=400, description="Assigned agencies, '; ' between")
    role: FormRole = "thuc_hien"
    coordinators: str = Field(default="", max_length=600, description="Coordinating agencies, '; ' between")
    text: str = Field(max_length=4000, description="The task as the draft writes it, without the agency")
    deadline: str = Field(default="", max_length=200, description="The deadline as written in the draft")
    deadline_in_text: str = Field(default="", max_length=200,
                                  description="The deadline phrase as it stands in text (replaced on edit)")
    lines: list[int] = Field(default_factory=list, description="Note lines the task came from")
    report_item: bool = False


class DraftForm(BaseModel):
    issuer: str = Field(default="", max_length=200, description="'UBND xã Hòa Thịnh'; blank: left to fill")
    meeting_date: dt.date | None = None
    meeting_name: str = Field(default="cuộc họp", max_length=400)
    time: str | None = Field(default=None, max_length=80)
    place: str | None = Field(default=None, max_length=300)
    chair_name: str | None = Field(default=None, max_length=120)
    chair_position: str | None = Field(default=None, max_length=200)
    attendees: str | None = Field(default=None, max_length=3000)
    heard: list[str] = Field(default_factory=list, max_length=50)
    results: list[str] = Field(default_factory=list, max_length=200)
    shortcomings: list[str] = Field(default_factory=list, max_length=200)
    reports: list[str] = Field(default_factory=list, max_length=100)
    tasks: list[FormTask] = Field(default_factory=list, max_length=300)
    signer: str | None = Field(default=None, max_length=120)


def _names(agencies: list[TaskAgency]) -> str:
    return "; ".join(a.formal for a in agencies)


def form_from_notes(notes: ParsedNotes) -> DraftForm:
    tasks = []
    for task in notes.tasks:
        main = task.assigned
        role: FormRole = "thuc_hien"
        if any(a.role is Role.REQUEST for a in main):
            role = "de_nghi"
        elif any(a.role is Role.LEAD for a in main):
            role = "chu_tri"
        tasks.append(FormTask(
            agency=_names(main), role=role, coordinators=_names(task.coordinators),
            text=task.body, deadline=task.deadline.official if task.deadline else "",
            deadline_in_text=task.deadline.official if task.deadline else "",
            lines=[line.number for line in task.lines], report_item=task.report_item,
        ))
    return DraftForm(
        issuer=notes.issuer.short if notes.issuer.known else "",
        meeting_date=notes.meeting_date if notes.date_known else None,
        meeting_name=notes.meeting_name, time=notes.time, place=notes.place,
        chair_name=notes.chair_name, chair_position=notes.chair_position, attendees=notes.attendees,
        heard=[i.text for i in notes.heard], results=[i.text for i in notes.results],
        shortcomings=[i.text for i in notes.shortcomings], reports=[i.text for i in notes.reports],
        tasks=tasks,
    )


def _agencies(names: str, role: Role, ctx: Context) -> list[TaskAgency]:
    out: list[TaskAgency] = []
    for name in (n.strip() for n in re.split(r"\s*;\s*", names)):
        if not name:
            continue
        agency = ctx.resolve(name)
        if agency is not None and agency.is_group:
            out.append(TaskAgency(name, agency, role, name))
            continue
        out.append(TaskAgency(name, agency, role, ctx.formal_name(agency, name) if agency else name))
    return out


def _deadline(task: FormTask, ctx: Context) -> NoteDeadline | None:
    phrase = task.deadline.strip()
    if not phrase:
        return None
    found = find_deadlines(phrase, reference=ctx.meeting_date)
    d = found[-1] if found else None
    return NoteDeadline(phrase, phrase, d.date if d else None, d.period_start if d else None,
                        d.recurring if d else False, False)


def _body(task: FormTask, coordinators: list[TaskAgency]) -> str:
    text = " ".join(task.text.split()).rstrip(".;")
    old, new = task.deadline_in_text.strip(), task.deadline.strip()
    if old and old in text:
        text = text.replace(old, new).replace(" ,", ",").strip(" ,")
    elif new and new not in text:
        text = f"{text}, {new}"
    missing = [a.formal for a in coordinators if a.formal not in text]
    if missing:
        text = f"phối hợp với {', '.join(missing)} {text[:1].lower() + text[1:]}"
        if task.role == "chu_tri":
            text = "chủ trì, " + text
    return text


def notes_from_form(form: DraftForm, notes_text: str, gazetteer: Gazetteer) -> tuple[ParsedNotes, Context]:
    """An edited form -> ParsedNotes (what ``compose`` writes), with the note lines of the
    original notes kept for the trace and for checking numbers and dates."""
    issuer = parse_issuer(form.issuer) if form.issuer.strip() else None
    issuer = issuer or Issuer(None, "")
    date_known = form.meeting_date is not None
    meeting_date = form.meeting_date or dt.date.today()
    ctx = Context(issuer, meeting_date, gazetteer)
    lines = split_lines(notes_text)
    by_number = {line.number: line for line in lines}
    notes = ParsedNotes(
        lines=lines, issuer=issuer, meeting_date=meeting_date, meeting_name=form.meeting_name.strip() or "cuộc họp",
        time=form.time or None, place=form.place or None, chair_name=form.chair_name or None,
        chair_position=form.chair_position or None, attendees=form.attendees or None,
        issuer_source="form" if issuer.known else "blank", date_known=date_known,
    )
    if not issuer.known:
        notes.notes_warnings.append((
            "issuer_blank",
            f"Chưa có cơ quan ban hành: dự thảo để trống ('{issuer.header}'). Hãy điền ô Cơ quan ban "
            f"hành (ví dụ 'UBND xã Hòa Thịnh'){'' if not form.issuer.strip() else ' theo đúng mẫu'}.",
            [],
        ))
    if not date_known:
        notes.notes_warnings.append(("meeting_date_blank", "Chưa có ngày họp: dự thảo để trống ngày họp.", []))
    placeholder = NoteLine(0, "")
    notes.heard = [NoteItem(placeholder, t) for t in form.heard if t.strip()]
    notes.results = [NoteItem(placeholder, t) for t in form.results if t.strip()]
    notes.shortcomings = [NoteItem(placeholder, t) for t in form.shortcomings if t.strip()]
    notes.reports = [NoteItem(placeholder, t) for t in form.reports if t.strip()]
    for number, task in enumerate(form.tasks, start=1):
        if not task.text.strip():
            continue
        main = _agencies(task.agency, _ROLE[task.role], ctx)
        coordinators = _agencies(task.coordinators, Role.COORDINATE, ctx)
        task_lines = [by_number[n] for n in task.lines if n in by_number] or [NoteLine(-number, task.text)]
        notes.tasks.append(NoteTask(
            lines=task_lines, verb="Đề nghị" if task.role == "de_nghi" else None,
            agencies=main + coordinators, body=_body(task, coordinators), deadline=_deadline(task, ctx),
            report_item=task.report_item,
        ))
    return notes, ctx


__all__ = ["BLANK", "DraftForm", "FormTask", "form_from_notes", "notes_from_form"]
