"""``/api/tasks``: follow-up of assigned tasks (issue #14). Views with filters, one task's state
and history, the status change (a write: needs the API token when one is set, and records the
name given), the carry-over report, the .xlsx/.csv export and the periodic .docx report."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import Context, GazetteerDep, WriteAccess
from assistant.deadlines import parse_user_date
from assistant.locks import write_lock
from assistant.tracking import TaskFilters, TaskTracker, parse_status, typed_filters
from assistant.tracking_export import csv_text, xlsx_bytes
from assistant.tracking_report import office_of

router = APIRouter(prefix="/api/tasks", tags=["Theo dõi nhiệm vụ"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_tracker_lock = threading.Lock()

Text = Annotated[str | None, Query(max_length=200)]
DateText = Annotated[str | None, Query(max_length=20, description="Ngày: 2024-01-31, 31/01/2024 hoặc 31/01.")]


def tracker_of(request: Request, context: Context) -> TaskTracker:
    """One tracker per app over the app's store (its row cache is shared by the requests)."""
    with _tracker_lock:
        tracker: TaskTracker | None = getattr(request.app.state, "task_tracker", None)
        if tracker is None:
            tracker = TaskTracker(context.store, context.settings.tasks.due_soon_days)
            request.app.state.task_tracker = tracker
        return tracker


def _filters(
    context: Context,
    agency: str | None,
    status: str | None,
    overdue: bool,
    due_within: int | None,
    notice: str | None,
    issuer: str | None,
    since: str | None,
    until: str | None,
    role: str | None,
) -> TaskFilters:
    return typed_filters(context.settings.tasks.due_soon_days, agency=agency, status=status,
                         overdue=overdue, due_within=due_within, notice=notice, issuer=issuer,
                         since=since, until=until, role=role)


@router.get("", summary="Danh sách nhiệm vụ kèm trạng thái (hạn sắp tới trước)")
def list_tasks(
    request: Request,
    context: Context,
    gazetteer: GazetteerDep,
    agency: Text = None,
    status: Annotated[str | None, Query(max_length=60, description="chưa thực hiện, đang thực hiện, đã hoàn thành, không thực hiện/điều chỉnh, quá hạn, sắp đến hạn (có dấu hoặc không, hoặc mã).")] = None,
    overdue: bool = False,
    due_within: Annotated[int | None, Query(ge=0, le=3650, description="Đến hạn trong bấy nhiêu ngày tới.")] = None,
    notice: Annotated[str | None, Query(max_length=64)] = None,
    issuer: Text = None,
    since: DateText = None,
    until: DateText = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The rows of ``assistant tasks list --json``: each assignment with a stable ``task_id``,
    its ``status`` (stored) and ``due_state`` (computed for today), and its notice (issuer,
    number, date) for opening the cited passage. ``counts`` are over all the filtered rows."""
    filters = _filters(context, agency, status, overdue, due_within, notice, issuer, since, until, role)
    page = tracker_of(request, context).page(filters, gazetteer, offset=offset, limit=limit)
    office = context.settings.tasks.office or office_of(page.items)
    return {"today": page.today.isoformat(), "filters": filters.to_json(), "total": page.total,
            "offset": offset, "limit": limit, "counts": page.counts, "lookup": page.lookup,
            "office": office, "items": [item.to_json() for item in page.items]}


@router.get("/carry-report", summary="Trạng thái chưa chuyển được sau khi nạp lại thông báo")
def carry_report(request: Request, context: Context) -> dict[str, Any]:
    return {"items": [i.to_json() for i in tracker_of(request, context).carry_report()]}


@router.get("/export", summary="Xuất danh sách nhiệm vụ ra Excel (.xlsx) hoặc CSV", response_class=Response)
def export(
    request: Request,
    context: Context,
    gazetteer: GazetteerDep,
    format: Literal["xlsx", "csv"] = "xlsx",
    agency: Text = None,
    status: Annotated[str | None, Query(max_length=60)] = None,
    overdue: bool = False,
    due_within: Annotated[int | None, Query(ge=0, le=3650)] = None,
    notice: Annotated[str | None, Query(max_length=64)] = None,
    issuer: Text = None,
    since: DateText = None,
    until: DateText = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    filters = _filters(context, agency, status, overdue, due_within, notice, issuer, since, until, role)
    page = tracker_of(request, context).page(filters, gazetteer)
    title = "Danh sách nhiệm vụ được giao"
    if page.lookup and page.lookup.get("label"):
        title += f" — {page.lookup['label']}"
    name = f"nhiem-vu-{page.today.isoformat()}.{format}"
    if format == "xlsx":
        return _download(xlsx_bytes(page.items, title, page.today), XLSX_TYPE, name)
    return _download(csv_text(page.items).encode("utf-8-sig"), "text/csv; charset=utf-8", name)


@router.get("/report", summary="Báo cáo kết quả thực hiện nhiệm vụ (.docx, NĐ 30/2020)", response_class=Response)
def report(
    request: Request,
    context: Context,
    gazetteer: GazetteerDep,
    date_from: Annotated[str, Query(alias="from", max_length=20)],
    date_to: Annotated[str, Query(alias="to", max_length=20)],
    agency: Text = None,
    issuer: Text = None,
) -> Response:
    from assistant.render import render_docx
    from assistant.tracking_report import report_for

    settings = context.settings
    document, _ = report_for(tracker_of(request, context), gazetteer, parse_user_date(date_from),
                             parse_user_date(date_to), agency, issuer, settings.tasks.office,
                             settings.tasks.office_parent)
    with tempfile.TemporaryDirectory(prefix="assistant-report-") as tmp:
        path = Path(tmp) / "bao-cao.docx"
        render_docx(document, path)
        data = path.read_bytes()
    return _download(data, DOCX_TYPE, f"bao-cao-nhiem-vu-{dt.date.today().isoformat()}.docx")


@router.get("/{task_id}", summary="Một nhiệm vụ: trạng thái và lịch sử")
def get_task(task_id: str, request: Request, context: Context) -> dict[str, Any]:
    tracker = tracker_of(request, context)
    state = tracker.status_of(task_id)
    return {"task_id": state.task_id, "status": state.status.value, "state": state.to_json(),
            "history": [e.to_json() for e in tracker.history(state.task_id)]}


@router.get("/{task_id}/history", summary="Lịch sử thay đổi trạng thái (cũ trước)")
def history(task_id: str, request: Request, context: Context) -> dict[str, Any]:
    tracker = tracker_of(request, context)
    task_id = tracker.resolve(task_id)
    return {"task_id": task_id, "history": [e.to_json() for e in tracker.history(task_id)]}


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(max_length=60, description="'đã hoàn thành', 'đang thực hiện'… hoặc mã (da_hoan_thanh).")
    by: str | None = Field(default=None, max_length=200, description="Tên người cập nhật (ghi vào lịch sử).")
    note: str | None = Field(default=None, max_length=2000, description="Ghi chú tiến độ.")
    done_date: str | None = Field(default=None, max_length=20, description="Ngày hoàn thành (mặc định hôm nay).")
    reason: str | None = Field(default=None, max_length=2000, description="Lý do không thực hiện/điều chỉnh.")
    report_ref: str | None = Field(default=None, max_length=200, description="'Báo cáo số 12/BC-TNMT ngày 02/4/2024'.")


@router.post("/{task_id}/status", summary="Đổi trạng thái một nhiệm vụ (cần mã truy cập nếu có)")
def set_status(task_id: str, body: StatusBody, request: Request, context: Context,
               _: WriteAccess) -> dict[str, Any]:
    status = parse_status(body.status)
    reason = body.reason if body.reason is not None or status.value != "khong_thuc_hien" else body.note
    with write_lock(context.settings.index):
        change = tracker_of(request, context).set_status(
            task_id, status, by=body.by, note=body.note,
            done_date=parse_user_date(body.done_date) if body.done_date else None,
            reason=reason, report_ref=body.report_ref,
        )
    return {"task_id": change.task_id, "before": change.before.to_json(), "after": change.after.to_json(),
            "by": change.by, "at": change.at}


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content=data,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"},
    )
