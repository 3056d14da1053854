"""The periodic report on assigned tasks: ``Báo cáo kết quả thực hiện nhiệm vụ do Chủ tịch
UBND … giao`` for a period (notices whose meeting falls in it) and optionally one agency, laid
out in the NĐ 30/2020 format by the drafting renderer (``assistant.render``) and checked by
``assistant check``: counts by status, then the tasks done, in progress, overdue (with days
overdue) and adjusted, each citing its notice."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.agencies import Gazetteer
from assistant.draft.notes import parse_issuer
from assistant.errors import AssistantError
from assistant.model import FormalDocument, OutlineItem
from assistant.tracking import (
    STATUS_LABELS,
    DueState,
    TaskFilters,
    TaskItem,
    TaskPage,
    TaskStatus,
    TaskTracker,
)
from assistant.tracking_export import vn_date

_ROMAN = ("I", "II", "III", "IV", "V", "VI")


@dataclass(frozen=True)
class ReportScope:
    start: dt.date
    end: dt.date
    agency_label: str | None = None
    office: str | None = None  # 'UBND thị xã Bến Vân'; else the issuer most notices share
    office_parent: str | None = None


def office_of(items: Sequence[TaskItem]) -> str:
    """The issuer most of ``items``' notices share: the office, when no setting names it."""
    names = Counter(i.issuer_name or i.notice.issuer or "" for i in items)
    names.pop("", None)
    return names.most_common(1)[0][0] if names else "Ủy ban nhân dân"


def _office(items: Sequence[TaskItem], scope: ReportScope) -> str:
    return scope.office or office_of(items)


def _citation(item: TaskItem) -> str:
    return f"(Thông báo {item.notice_label()})"


def _line(item: TaskItem, extra: str = "") -> str:
    agency = item.assignment.agency.canonical or item.assignment.agency.text
    partners = f", phối hợp: {', '.join(item.partners)}" if item.partners and item.assignment.role.value != "phoi_hop" else ""
    deadline = f"; thời hạn: {item.assignment.deadline.text}" if item.assignment.deadline else ""
    task = item.assignment.task.rstrip(" .;")
    text = f"{agency}{partners}: {task}{deadline}"
    if extra:
        text += f" — {extra}"
    return f"{text} {_citation(item)}."


def _numbered(lines: list[str]) -> list[OutlineItem]:
    if not lines:
        return [OutlineItem(marker="-", text="Không có nhiệm vụ nào.")]
    return [OutlineItem(marker=f"{n}.", text=text) for n, text in enumerate(lines, 1)]


def build_report(items: Sequence[TaskItem], scope: ReportScope, today: dt.date) -> FormalDocument:
    office = _office(items, scope)
    issuer = parse_issuer(office)
    header = issuer.header if issuer else office.upper()
    unit = issuer.short if issuer else office
    place = issuer.name if issuer else office
    period = f"từ ngày {vn_date(scope.start.isoformat())} đến ngày {vn_date(scope.end.isoformat())}"
    title = f"Kết quả thực hiện nhiệm vụ do Chủ tịch, các Phó Chủ tịch {unit} giao {period}"
    if scope.agency_label:
        title += f" (đơn vị: {scope.agency_label})"

    done = [i for i in items if i.state.status is TaskStatus.DONE]
    adjusted = [i for i in items if i.state.status is TaskStatus.ADJUSTED]
    overdue = [i for i in items if i.due is DueState.OVERDUE]
    open_ = [i for i in items if i.state.status in (TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED)
             and i.due is not DueState.OVERDUE]
    counts = Counter(i.state.status for i in items)

    summary = [OutlineItem(marker="-", text=f"Tổng số nhiệm vụ được giao: {len(items)} nhiệm vụ.")]
    for status in (TaskStatus.DONE, TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED, TaskStatus.ADJUSTED):
        share = f" ({counts[status] * 100 / len(items):.1f}%)".replace(".", ",") if items else ""
        summary.append(OutlineItem(marker="-", text=f"Số nhiệm vụ {STATUS_LABELS[status]}: {counts[status]}{share}."))
    summary.append(OutlineItem(
        marker="-", text=f"Trong đó, số nhiệm vụ quá hạn chưa hoàn thành (tính đến ngày {vn_date(today.isoformat())}): {len(overdue)}."
    ))

    def done_extra(item: TaskItem) -> str:
        parts = [f"hoàn thành ngày {vn_date(item.state.done_date.isoformat())}" if item.state.done_date else "đã hoàn thành"]
        if item.state.report_ref:
            parts.append(item.state.report_ref)
        if item.state.note:
            parts.append(item.state.note)
        return "; ".join(parts)

    def open_extra(item: TaskItem) -> str:
        parts = [STATUS_LABELS[item.state.status]]
        if item.days_left is not None and item.due is DueState.DUE_SOON:
            parts.append(f"còn {item.days_left} ngày đến hạn")
        if item.state.note:
            parts.append(item.state.note)
        return "; ".join(parts)

    def overdue_extra(item: TaskItem) -> str:
        parts = [f"quá hạn {item.days_overdue} ngày", STATUS_LABELS[item.state.status]]
        if item.state.note:
            parts.append(item.state.note)
        return "; ".join(parts)

    def adjusted_extra(item: TaskItem) -> str:
        return f"lý do: {item.state.reason}" if item.state.reason else STATUS_LABELS[item.state.status]

    parts = [
        ("KẾT QUẢ CHUNG", summary),
        ("NHIỆM VỤ ĐÃ HOÀN THÀNH", _numbered([_line(i, done_extra(i)) for i in done])),
        ("NHIỆM VỤ ĐANG THỰC HIỆN, CHƯA ĐẾN HẠN", _numbered([_line(i, open_extra(i)) for i in open_])),
        ("NHIỆM VỤ QUÁ HẠN CHƯA HOÀN THÀNH", _numbered([_line(i, overdue_extra(i)) for i in overdue])),
        ("NHIỆM VỤ KHÔNG THỰC HIỆN HOẶC ĐIỀU CHỈNH", _numbered([_line(i, adjusted_extra(i)) for i in adjusted])),
    ]
    body = [OutlineItem(marker=f"{_ROMAN[n]}.", heading=heading, children=children)
            for n, (heading, children) in enumerate(parts)]
    opening = [
        f"Thực hiện chế độ báo cáo định kỳ, Văn phòng tổng hợp kết quả thực hiện các nhiệm vụ do "
        f"Chủ tịch, các Phó Chủ tịch {unit} giao tại các thông báo kết luận {period}"
        + (f" đối với {scope.agency_label}" if scope.agency_label else "")
        + f"; số liệu tính đến ngày {vn_date(today.isoformat())}, như sau:"
    ]
    return FormalDocument(
        issuer_parent=scope.office_parent,
        issuer=header,
        number="Số:      /BC-UBND",
        place_date=f"{place}, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}",
        doc_type="BÁO CÁO",
        title=title,
        opening=opening,
        body=body,
        closing=None,
        recipients=[f"- Chủ tịch, các Phó Chủ tịch {unit};", "- Các cơ quan, đơn vị có liên quan;", "- Lưu: VT."],
        authority="TL. CHỦ TỊCH",
        position="CHÁNH VĂN PHÒNG",
        signer=None,
    )


def report_for(
    tracker: TaskTracker,
    gazetteer: Gazetteer,
    start: dt.date,
    end: dt.date,
    agency: str | None = None,
    issuer: str | None = None,
    office: str | None = None,
    office_parent: str | None = None,
    today: dt.date | None = None,
) -> tuple[FormalDocument, TaskPage]:
    """The report on the tasks of the notices met in ``start``..``end`` (and of one agency,
    one issuer), with the page of tasks it was built from."""
    if start > end:
        raise AssistantError("Ngày bắt đầu kỳ báo cáo phải trước hoặc bằng ngày kết thúc.")
    page = tracker.page(TaskFilters(agency=agency, issuer=issuer, since=start, until=end), gazetteer, today)
    if page.lookup is not None and not page.lookup.get("matched"):
        raise AssistantError(page.lookup.get("message") or f"Không tìm thấy cơ quan '{agency}'.")
    label = page.lookup["label"] if page.lookup else None
    scope = ReportScope(start, end, label, office, office_parent)
    return build_report(page.items, scope, page.today), page
