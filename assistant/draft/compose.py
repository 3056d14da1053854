"""ParsedNotes -> FormalDocument in the established structure, with a trace and warnings.

The template path alone writes a complete draft. An LLM, when configured, may only reword
task sentences; a rewrite that changes an agency, a date, a number or drops the task is
rejected and the template sentence stays (with a warning).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from assistant.agencies import Gazetteer, get_gazetteer
from assistant.draft.form import DraftForm, form_from_notes, notes_from_form
from assistant.draft.notes import (
    MONTH_SHORT_RE,
    WORD_RE,
    WORDS,
    Context,
    NoteTask,
    ParsedNotes,
    parse_issuer,
    parse_notes,
)
from assistant.draft.validate import (
    DraftWarning,
    TraceEntry,
    dates,
    rewrite_problems,
    validate_draft,
)
from assistant.errors import AssistantError
from assistant.model import FormalDocument, Level, LoadedDocument, Notice, OutlineItem, Role
from assistant.profile import OfficeProfile, load_profile
from assistant.render.markdown import render_markdown
from assistant.settings import Settings
from assistant.store import Store
from assistant.text import search_view

log = logging.getLogger(__name__)

_ROMAN = ("I", "II", "III", "IV", "V")


class GroupBy(StrEnum):
    SECTOR = "sector"
    AGENCY = "agency"


@dataclass
class DraftOptions:
    issuer: str | None = None  # "UBND thị xã Bến Vân"; else the notes', else the profile's
    chair: str | None = None  # "Trần Quốc Khải - Chủ tịch UBND thị xã"
    group_by: GroupBy | None = None  # None: as the issuer's past notices do, else by agency
    authority: str | None = None  # None: the profile's ("TL. CHỦ TỊCH")
    position: str | None = None  # None: the profile's ("CHÁNH VĂN PHÒNG")
    signer: str | None = None
    use_llm: bool = True
    profile: OfficeProfile | None = None  # None: the saved profile, else the settings'
    meeting_date: dt.date | None = None  # None: read from the notes (blank when they lack it)


class Expansion(BaseModel):
    short: str = Field(description="Shorthand as written in the notes ('GPMB')")
    full: str = Field(description="What the draft writes instead ('giải phóng mặt bằng')")
    lines: list[int] = Field(description="Note lines where it was written")


class DraftResult(BaseModel):
    document: FormalDocument
    trace: list[TraceEntry]
    warnings: list[DraftWarning]
    markdown: str
    group_by: GroupBy = Field(description="How part II was grouped")
    llm_used: bool = False
    expansions: list[Expansion] = Field(default_factory=list, description="Shorthand spelled out")
    notes_text: str = Field(default="", description="The notes the draft was made from")
    form: DraftForm | None = Field(default=None, description="The draft as an editable form")
    issuer_source: str = Field(default="notes", description="notes, option, profile or blank")


# Sectors, in the order notices list them; an agency's sector decides its group.
_SECTORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tài nguyên, môi trường và đất đai", ("phong-tnmt", "so-tnmt", "so-nnmt", "phong-nnmt",
                                           "hdgpmb", "ttptqd-huyen", "bo-tnmt")),
    ("Nông nghiệp, kinh tế", ("phong-nnptnt", "so-nnptnt", "phong-kinh-te", "phong-kinh-te-xa",
                              "so-cong-thuong")),
    ("Tài chính, ngân sách và đầu tư công", ("phong-tckh", "so-tai-chinh", "so-khdt",
                                              "bqlda-huyen", "bqlda-tinh")),
    ("Xây dựng, quản lý đô thị", ("phong-qldt", "phong-ktht", "so-xay-dung", "so-gtvt",
                                  "doi-qlttdt", "phong-ktht-dt-xa")),
    ("Văn hóa - xã hội", ("phong-gddt", "phong-ldtbxh", "phong-vhtt", "phong-y-te", "ttyt-huyen",
                          "phong-vhxh-xa", "so-y-te", "so-gddt", "so-ldtbxh", "so-vhttdl",
                          "ttvhtt-huyen", "dai-truyen-thanh", "so-tttt", "so-khcn")),
    ("Nội vụ, tư pháp, thanh tra", ("phong-noi-vu", "phong-tu-phap", "thanh-tra-huyen",
                                    "so-noi-vu", "so-tu-phap", "thanh-tra-tinh")),
    ("Quốc phòng, an ninh", ("bchqs-huyen", "cong-an-huyen", "bchqs-xa", "cong-an-xa",
                             "bchqs-tinh", "cong-an-tinh", "bdbp-tinh")),
    ("Công tác chỉ đạo, điều hành", ("vp-hdnd-ubnd-huyen", "vp-ubnd-tinh", "vp-hdnd-ubnd-xa",
                                     "tt-phvhcc-xa", "nhom-ubnd-xa", "nhom-ubnd-huyen",
                                     "nhom-so-nganh", "nhom-phong-ban")),
)
OTHER_SECTOR = "Các nhiệm vụ khác"
NO_AGENCY = "Nhiệm vụ chưa xác định cơ quan thực hiện (cần bổ sung trước khi ban hành)"

REWRITE_SYSTEM = (
    "Bạn là chuyên viên Văn phòng UBND. Hãy viết lại câu giao nhiệm vụ dưới đây theo văn phong "
    "hành chính của Thông báo kết luận. Giữ nguyên mọi cơ quan, ngày tháng, thời hạn và con số; "
    "không thêm, không bớt nhiệm vụ hay cơ quan nào. Chỉ trả lời đúng một câu đã viết lại."
)
REWRITE_EXAMPLES = "Ví dụ câu giao nhiệm vụ trong các thông báo đã ban hành:\n"
REWRITE_ASK = "Câu cần viết lại: "


def _sector(task: NoteTask) -> str:
    for a in task.assigned:
        if a.agency is not None:
            for label, ids in _SECTORS:
                if a.agency.id in ids:
                    return label
    return OTHER_SECTOR if task.assigned else NO_AGENCY


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _sentence(text: str) -> str:
    text = _cap(text.strip().rstrip(";,"))
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    if text[:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def issuer_notices(store: Store, notes: ParsedNotes) -> list[Notice]:
    key = search_view(notes.issuer.name)
    return [
        n for n in store.notices()
        if n.issuer is not None and key in search_view(n.issuer.text)
    ]


def detect_grouping(notices: list[Notice], gazetteer: Gazetteer, level: Level) -> GroupBy | None:
    """Whether past notices head their task groups with agencies or with sectors."""
    by_agency = by_sector = 0
    for notice in notices:
        for top in notice.sections:
            if top.heading is None or "nhiem vu" not in search_view(top.heading):
                continue
            for section in top.walk()[1:]:
                if section.number is None or not section.heading:
                    continue
                heading = section.heading.strip().rstrip(":")
                if "nhiem vu" in search_view(heading):
                    continue
                if gazetteer.lookup(heading, level) is not None or any(
                    gazetteer.lookup(part, level) is not None for part in heading.split(",")
                ):
                    by_agency += 1
                else:
                    by_sector += 1
    if by_agency == by_sector == 0:
        return None
    return GroupBy.AGENCY if by_agency >= by_sector else GroupBy.SECTOR


def _item_text(task: NoteTask, group_by: GroupBy) -> str:
    body = task.body.strip()
    if task.assigned and any(a.role is Role.REQUEST for a in task.assigned):
        # a body the issuer does not direct is asked by name, whatever the grouping
        names = ", ".join(a.formal for a in task.assigned)
        return _sentence(f"Đề nghị {names} {_lower_first(body)}")
    if not task.assigned or (group_by is GroupBy.AGENCY and len(task.assigned) == 1):
        return _sentence(body)
    if group_by is GroupBy.AGENCY:
        # several agencies share the heading: name them in the item too, as notices do
        return _sentence(", ".join(a.formal for a in task.assigned) + " " + _lower_first(body))
    names = ", ".join(a.formal for a in task.assigned)
    verb = task.verb or "Giao"
    return _sentence(f"{verb} {names} {_lower_first(body)}")


def _opening(notes: ParsedNotes) -> list[str]:
    issuer = notes.issuer
    when = f"ngày {notes.meeting_date.day}/{notes.meeting_date.month}/{notes.meeting_date.year}"
    if not notes.date_known:
        when = "ngày …/…/……"
    first = f"Vào hồi {notes.time}" if notes.time else _cap(when)
    if notes.time and "ngay" not in search_view(notes.time):
        first += f" {when}"
    host = issuer.short
    if notes.place:
        first += f", tại {notes.place}"
        if search_view(issuer.short) in search_view(notes.place):
            host = issuer.unit
    first += f", {host} tổ chức {notes.meeting_name}"
    if notes.chair_name:
        first += f" dưới sự chủ trì của đồng chí {notes.chair_name}"
        if notes.chair_position:
            first += f" - {notes.chair_position}"
    first += "."
    if notes.attendees:
        first += f" Dự họp có {_lower_first(notes.attendees.rstrip('.'))}."
    if notes.heard:
        heard = []
        for item in notes.heard:
            text = item.text.strip().rstrip(".")
            for prefix in ("Hội nghị nghe ", "Cuộc họp nghe ", "Phiên họp nghe ", "nghe ", "Nghe "):
                if text.startswith(prefix):
                    text = text[len(prefix):]
            heard.append(text)
        first += " Tại cuộc họp, đã nghe " + "; ".join(heard) + "."
    who = f"đồng chí {notes.chair_position}" if notes.chair_position else f"Chủ tịch {issuer.unit}"
    second = f"Sau khi nghe báo cáo và ý kiến của các đại biểu dự họp, {who} kết luận như sau:"
    return [first, second]


def _body(
    notes: ParsedNotes, group_by: GroupBy
) -> tuple[list[OutlineItem], list[tuple[NoteTask, str, OutlineItem]]]:
    parts: list[OutlineItem] = []
    placed: list[tuple[NoteTask, str, OutlineItem]] = []
    if notes.results or notes.shortcomings:
        children: list[OutlineItem] = []
        if notes.results:
            children.append(OutlineItem(marker=f"{len(children) + 1}.", heading="Những kết quả đạt được",
                                        children=[OutlineItem(marker="-", text=i.text) for i in notes.results]))
        if notes.shortcomings:
            children.append(OutlineItem(marker=f"{len(children) + 1}.", heading="Những tồn tại, hạn chế",
                                        children=[OutlineItem(marker="-", text=i.text)
                                                  for i in notes.shortcomings]))
        parts.append(OutlineItem(marker="", heading="KẾT QUẢ ĐẠT ĐƯỢC VÀ TỒN TẠI, HẠN CHẾ",
                                 children=children))
    tasks = [t for t in notes.tasks if not t.report_item]
    if tasks:
        groups: dict[str, list[NoteTask]] = {}
        for task in tasks:
            if group_by is GroupBy.AGENCY:
                key = ", ".join(a.formal for a in task.assigned) if task.assigned else NO_AGENCY
            else:
                key = _sector(task)
            groups.setdefault(key, []).append(task)
        order = list(groups)
        if group_by is GroupBy.SECTOR:
            labels = [label for label, _ in _SECTORS] + [OTHER_SECTOR, NO_AGENCY]
            order.sort(key=labels.index)
        elif NO_AGENCY in order:
            order.remove(NO_AGENCY)
            order.append(NO_AGENCY)
        group_items = []
        for number, key in enumerate(order, start=1):
            items = []
            for task in groups[key]:
                item = OutlineItem(marker="-", text=_item_text(task, group_by))
                items.append(item)
                placed.append((task, f"{number}", item))
            group_items.append(OutlineItem(marker=f"{number}.", heading=key, children=items))
        parts.append(OutlineItem(marker="", heading="NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI",
                                 children=group_items))
    reports = [t for t in notes.tasks if t.report_item]
    if notes.reports or reports:
        items = [OutlineItem(marker="-", text=i.text) for i in notes.reports]
        for task in reports:
            item = OutlineItem(marker="-", text=_item_text(task, GroupBy.SECTOR))
            items.append(item)
            placed.append((task, "", item))
        parts.append(OutlineItem(marker="", heading="Ý KIẾN ĐỐI VỚI CÁC BÁO CÁO, ĐỀ XUẤT",
                                 children=items))
    for i, part in enumerate(parts):
        part.marker = f"{_ROMAN[i]}."
    return parts, placed


def _recipients(notes: ParsedNotes, ctx: Context, usual: list[str] | None = None) -> list[str]:
    issuer = notes.issuer
    out = [
        f"- Thường trực {issuer.party_committee}, Thường trực HĐND {issuer.kind_word} (để báo cáo);",
        f"- Chủ tịch, các Phó Chủ tịch {issuer.unit};",
    ]
    seen: set[str] = set()
    for task in notes.tasks:
        for a in task.agencies:
            if a.formal not in seen:
                seen.add(a.formal)
                out.append(f"- {a.formal};")
    for name in usual or []:
        if name not in seen:
            seen.add(name)
            out.append(f"- {name.strip().rstrip(';')};")
    out.append("- Lưu: VT, TH.")
    return out


def compose(
    notes: ParsedNotes, ctx: Context, group_by: GroupBy, options: DraftOptions
) -> tuple[FormalDocument, list[TraceEntry]]:
    issuer = notes.issuer
    if notes.chair_name:
        title = f"Kết luận của đồng chí {notes.chair_name}"
        if notes.chair_position:
            title += f", {notes.chair_position}"
    else:
        title = f"Kết luận của Chủ tịch {issuer.unit}"
    title += f" tại {notes.meeting_name}"
    body, placed = _body(notes, group_by)
    signed_by_office = (options.authority or "TL").upper().startswith("TL")
    announcer = ctx.office() if signed_by_office else issuer.short
    doc = FormalDocument(
        issuer_parent=None,
        issuer=issuer.header,
        number="Số:      /TB-UBND",
        place_date=f"{issuer.place}, ngày      tháng      năm {notes.meeting_date.year}",
        title=title,
        opening=_opening(notes),
        body=body,
        closing=f"{announcer} thông báo để các cơ quan, đơn vị liên quan biết, thực hiện./.",
        recipients=_recipients(notes, ctx, options.profile.recipients if options.profile else None),
        authority=options.authority or "TL. CHỦ TỊCH",
        position=options.position or "CHÁNH VĂN PHÒNG",
        signer=options.signer,
    )
    trace: list[TraceEntry] = []
    part_of_tasks = next((p.marker.rstrip(".") for p in body if p.heading and "NHIỆM VỤ" in p.heading), "II")
    counters: dict[str, int] = {}
    for task, group, item in placed:
        counters[group] = counters.get(group, 0) + 1
        where = f"{part_of_tasks}.{group} (-{counters[group]})" if group else f"III (-{counters[group]})"
        trace.append(TraceEntry(
            item=where,
            text=item.text or "",
            agencies=[a.formal for a in task.agencies],
            roles=[a.role.value for a in task.agencies],
            deadline=task.deadline.official if task.deadline else None,
            deadline_date=task.deadline.date if task.deadline else None,
            lines=[line.number for line in task.lines],
            source=[line.text for line in task.lines],
        ))
    return doc, trace


# --- LLM rewriting --------------------------------------------------------------------------


def make_llm(settings: Settings) -> Any:
    """A LangChain chat model for the configured OpenAI-compatible endpoint, or None."""
    if not settings.llm.base_url:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm.base_url,
        api_key=settings.llm.api_key,
        model=settings.llm.model,
        temperature=settings.llm.temperature,
        timeout=settings.llm.timeout_s,
        max_retries=0,
    )


def _examples(notices: list[Notice], limit: int = 4) -> list[str]:
    out: list[str] = []
    for notice in notices:
        for a in notice.assignments:
            quote = " ".join(notice.text[a.start : a.end].split())
            if 30 <= len(quote) <= 300:
                out.append(quote)
            if len(out) >= limit:
                return out
    return out


def rewrite_with_llm(
    llm: Any,
    doc: FormalDocument,
    trace: list[TraceEntry],
    ctx: Context,
    examples: list[str],
) -> list[DraftWarning]:
    from langchain_core.messages import HumanMessage, SystemMessage

    warnings: list[DraftWarning] = []
    items = {id(i): i for i in _items(doc.body)}
    by_text: dict[str, OutlineItem] = {}
    for item in items.values():
        if item.text:
            by_text.setdefault(item.text, item)
    shown = (REWRITE_EXAMPLES + "\n".join(f"- {e}" for e in examples) + "\n\n") if examples else ""
    for entry in trace:
        target = by_text.get(entry.text)
        if target is None:
            continue
        try:
            reply = llm.invoke([SystemMessage(REWRITE_SYSTEM), HumanMessage(shown + REWRITE_ASK + entry.text)])
        except Exception as exc:  # the endpoint may fail in many ways; the template stays
            log.warning("LLM rewrite failed: %s", exc)
            warnings.append(DraftWarning(
                code="llm_failed",
                message=f"Không gọi được mô hình ngôn ngữ ({type(exc).__name__}); giữ câu theo mẫu.",
                lines=entry.lines,
            ))
            return warnings
        candidate = " ".join(str(reply.content).split()).strip().strip('"')
        problems = rewrite_problems(entry.text, candidate, ctx)
        if problems:
            warnings.append(DraftWarning(
                code="llm_rejected",
                message=f"Câu do mô hình viết lại cho dòng {', '.join(map(str, entry.lines))} bị loại "
                f"({'; '.join(problems)}); giữ câu theo mẫu.",
                lines=entry.lines,
            ))
            continue
        target.text = candidate
        entry.text = candidate
    return warnings


def _items(items: list[OutlineItem]) -> list[OutlineItem]:
    out: list[OutlineItem] = []
    for item in items:
        out.append(item)
        out.extend(_items(item.children))
    return out


# --- entry point ----------------------------------------------------------------------------


def draft_from_notes(
    text_or_doc: str | LoadedDocument,
    settings: Settings | None = None,
    store: Store | None = None,
    options: DraftOptions | None = None,
    *,
    llm: Any = None,
    gazetteer: Gazetteer | None = None,
) -> DraftResult:
    """Meeting notes (their text, line breaks kept) -> draft notice, trace and warnings.

    Pass text from ``notes_text_from_bytes``/``read_notes_file``: a ``LoadedDocument`` from
    the ingest loader has its short lines reflowed together, which can merge task lines.
    ``llm`` overrides the model built from ``settings.llm`` (tests pass a fake)."""
    settings = settings or Settings()
    options = dataclasses.replace(options or DraftOptions())
    profile = options.profile or load_profile(settings)
    options.profile = profile
    options.authority = options.authority or profile.authority
    options.position = options.position or profile.position
    options.signer = options.signer or profile.signer
    gazetteer = gazetteer or get_gazetteer(settings.agencies.extra_file)
    text = text_or_doc.text if isinstance(text_or_doc, LoadedDocument) else text_or_doc
    issuer = None
    if options.issuer:
        issuer = parse_issuer(options.issuer)
        if issuer is None:
            raise AssistantError(
                f"Không hiểu cơ quan ban hành '{options.issuer}'. Hãy ghi như "
                '"UBND thị xã Bến Vân", "UBND tỉnh Lam Giang" hoặc "UBND xã Tân Lam".'
            )
    profile_issuer = parse_issuer(profile.issuer) if profile.issuer else None
    notes = parse_notes(text, gazetteer, issuer=issuer, chair=options.chair, profile_issuer=profile_issuer,
                        meeting_date=options.meeting_date)
    ctx = Context(notes.issuer, notes.meeting_date, gazetteer)
    warnings = [DraftWarning(code=c, message=m, lines=ln) for c, m, ln in notes.notes_warnings]

    past = issuer_notices(store, notes) if store is not None else []
    group_by = options.group_by
    if group_by is None:
        group_by = detect_grouping(past, gazetteer, notes.issuer.level) or GroupBy.AGENCY
    if not notes.chair_name:
        warnings.append(DraftWarning(
            code="missing_chair",
            message="Ghi chép không nêu người chủ trì; trích yếu ghi 'Chủ tịch …', cần bổ sung.",
        ))

    doc, trace = compose(notes, ctx, group_by, options)
    llm_used = False
    if options.use_llm:
        model = llm if llm is not None else make_llm(settings)
        if model is not None:
            llm_used = True
            warnings.extend(rewrite_with_llm(model, doc, trace, ctx, _examples(past)))
    markdown = render_markdown(doc)
    warnings.extend(validate_draft(doc, markdown, notes, trace, ctx))
    return DraftResult(
        document=doc, trace=trace, warnings=warnings, markdown=markdown,
        group_by=group_by, llm_used=llm_used, expansions=expansions(notes, markdown),
        notes_text=text, issuer_source=notes.issuer_source, form=form_from_notes(notes),
    )


def draft_from_form(
    form: DraftForm,
    previous: DraftResult,
    settings: Settings | None = None,
    *,
    gazetteer: Gazetteer | None = None,
) -> DraftResult:
    """A draft re-made from its edited form: composed and validated as a draft from notes is
    (numbers and dates against the same notes, agencies by level and date), the trace still
    pointing at the note lines of each task. No LLM: the clerk's wording is kept as typed."""
    settings = settings or Settings()
    gazetteer = gazetteer or get_gazetteer(settings.agencies.extra_file)
    notes, ctx = notes_from_form(form, previous.notes_text, gazetteer)
    doc = previous.document
    options = DraftOptions(authority=doc.authority, position=doc.position,
                           signer=form.signer or doc.signer, use_llm=False)
    options.profile = load_profile(settings)
    new_doc, trace = compose(notes, ctx, previous.group_by, options)
    warnings = [DraftWarning(code=c, message=m, lines=ln) for c, m, ln in notes.notes_warnings]
    if not notes.chair_name:
        warnings.append(DraftWarning(code="missing_chair", message="Chưa có người chủ trì; trích yếu ghi 'Chủ tịch …'."))
    markdown = render_markdown(new_doc)
    warnings.extend(validate_draft(new_doc, markdown, notes, trace, ctx, edited=True))
    noted = dates(previous.notes_text, ctx.meeting_date)
    for number, task in enumerate(notes.tasks):
        due = task.deadline.date if task.deadline else None
        if due is not None and (due.year, due.month, due.day) not in noted and (due.year, due.month, 0) not in noted:
            warnings.append(DraftWarning(
                code="edited_date", severity="info", task=number,
                message=f"Nhiệm vụ {number + 1}: thời hạn '{task.deadline.official if task.deadline else ''}' "
                "do người soạn nhập trên biểu mẫu, không có trong ghi chép.",
            ))
    return DraftResult(
        document=new_doc, trace=trace, warnings=warnings, markdown=markdown, group_by=previous.group_by,
        llm_used=False, expansions=previous.expansions, notes_text=previous.notes_text,
        issuer_source=notes.issuer_source, form=form,
    )

def expansions(notes: ParsedNotes, markdown: str) -> list[Expansion]:
    """The shorthand of the notes that the draft spells out, with the lines it came from."""
    found: dict[str, Expansion] = {}
    for line in notes.lines:
        for m in WORD_RE.finditer(line.text):
            full = WORDS[m.group(1)]
            if full in markdown:
                entry = found.setdefault(m.group(1), Expansion(short=m.group(1), full=full, lines=[]))
                if line.number not in entry.lines:
                    entry.lines.append(line.number)
        for m in MONTH_SHORT_RE.finditer(line.text):
            short = m.group(0)
            entry = found.setdefault(short, Expansion(short=short, full=f"tháng {m.group(1)}", lines=[]))
            if line.number not in entry.lines:
                entry.lines.append(line.number)
    return list(found.values())
