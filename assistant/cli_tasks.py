"""``assistant tasks list|set|history|export|report|carry-report``: follow-up of assigned tasks
(registered in cli.py). The contract the checks use is in issue #14, item 6."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.deadlines import parse_user_date
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.store import Store
from assistant.tracking import (
    DUE_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    DueState,
    TaskItem,
    TaskStatus,
    TaskTracker,
    parse_status,
    typed_filters,
)

P = ParamSpec("P")
R = TypeVar("R")

tasks_app = typer.Typer(
    help="Theo dõi nhiệm vụ được giao: trạng thái, lịch sử, quá hạn, xuất Excel, báo cáo định kỳ.",
    no_args_is_help=True,
)
_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


def _guarded(func: Callable[P, R]) -> Callable[P, R]:
    """The CLI's own error mapping (``assistant.cli.user_errors``), looked up when the command
    runs: cli.py imports this module while it is still being loaded."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from assistant.cli import user_errors

        return user_errors(func)(*args, **kwargs)

    return wrapper


def _settings() -> Settings:
    from assistant.cli import state

    return state.settings()


def _open(settings: Settings) -> tuple[Store, TaskTracker]:
    if not settings.db_path.exists():
        raise AssistantError(
            f"Chưa có kho thông báo ở {settings.index}. Hãy nạp thông báo trước: assistant ingest TỆP…"
        )
    store = Store(settings.db_path)
    return store, TaskTracker(store, settings.tasks.due_soon_days)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _day(value: str | None) -> dt.date | None:
    return parse_user_date(value) if value else None


AgencyOpt = Annotated[str | None, typer.Option("--agency", help="Chỉ nhiệm vụ của một cơ quan (tên, viết tắt, không dấu).")]
StatusOpt = Annotated[str | None, typer.Option("--status", help="Trạng thái: 'chưa thực hiện', 'đang thực hiện', 'đã hoàn thành', 'không thực hiện/điều chỉnh', 'quá hạn', 'sắp đến hạn' (có dấu hoặc không).")]
OverdueOpt = Annotated[bool, typer.Option("--overdue", help="Chỉ nhiệm vụ quá hạn tính đến hôm nay (chưa hoàn thành).")]
DueWithinOpt = Annotated[int | None, typer.Option("--due-within", help="Chỉ nhiệm vụ đến hạn trong DAYS ngày tới.", metavar="DAYS")]
NoticeOpt = Annotated[str | None, typer.Option("--notice", help="Chỉ nhiệm vụ của một thông báo (mã hoặc phần đầu mã).")]
IssuerOpt = Annotated[str | None, typer.Option("--issuer", help="Cơ quan ban hành / địa phương, ví dụ 'Bến Vân'.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Thông báo họp từ ngày (dd/mm/yyyy).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Thông báo họp đến ngày.")]
RoleOpt = Annotated[str | None, typer.Option("--role", help="Vai trò: chủ trì, phối hợp, thực hiện, đề nghị.")]


@tasks_app.command("list")
@_guarded
def list_tasks(
    agency: AgencyOpt = None,
    status: StatusOpt = None,
    overdue: OverdueOpt = False,
    due_within: DueWithinOpt = None,
    notice: NoticeOpt = None,
    issuer: IssuerOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    role: RoleOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="In tối đa bấy nhiêu nhiệm vụ.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Danh sách nhiệm vụ với trạng thái, hạn sắp tới trước; mỗi dòng ghi thông báo giao việc."""
    settings = _settings()
    filters = typed_filters(settings.tasks.due_soon_days, agency=agency, status=status, overdue=overdue,
                            due_within=due_within, notice=notice, issuer=issuer, since=since,
                            until=until, role=role)
    store, tracker = _open(settings)
    with store, tracker:
        from assistant.agencies import get_gazetteer

        page = tracker.page(filters, get_gazetteer(settings.agencies.extra_file), limit=limit)
    if as_json:
        _print_json({"today": page.today.isoformat(), "filters": filters.to_json(), "total": page.total,
                     "counts": page.counts, "lookup": page.lookup,
                     "items": [item.to_json() for item in page.items]})
        return
    if page.lookup is not None and page.lookup.get("message"):
        _out.print(f"[yellow]{escape(page.lookup['message'])}[/yellow]", highlight=False)
    if not page.items:
        _out.print("Không có nhiệm vụ nào phù hợp.")
        return
    _print_table(page.items, page.total, page.today)


def _print_table(items: list[TaskItem], total: int, today: dt.date) -> None:
    shown = f" (in {len(items)})" if len(items) < total else ""
    table = Table(title=f"{total} nhiệm vụ{shown}, tính đến {today:%d/%m/%Y}; hạn sắp tới trước",
                  show_lines=True)
    table.add_column("Mã", no_wrap=True)
    for column in ("Hạn", "Tình trạng", "Cơ quan", "Nhiệm vụ", "Thông báo"):
        table.add_column(column, overflow="fold")
    for item in items:
        data = item.to_json()
        status = data["status_label"]
        if item.due is DueState.OVERDUE:
            status += f"\n[red]{DUE_LABELS[item.due]} {item.days_overdue} ngày[/red]"
        elif item.due is DueState.DUE_SOON:
            status += f"\n[yellow]{DUE_LABELS[item.due]}[/yellow]"
        if data["done_date"]:
            status += f"\nngày {_vn(data['done_date'])}"
        deadline = data["deadline"]["text"] if data["deadline"] else "—"
        agency = f"{data['agency'] or data['agency_text']} ({ROLE_LABELS.get(data['role'], data['role'])})"
        table.add_row(item.task_id, escape(deadline), status, escape(agency), escape(data["task"]),
                      escape(item.notice_label()))
    _out.print(table)


@tasks_app.command("set")
@_guarded
def set_task(
    task_id: Annotated[str, typer.Argument(help="Mã nhiệm vụ (cột 'Mã' của 'assistant tasks list'; đủ 4 ký tự đầu là được).")],
    status: Annotated[str, typer.Argument(help="'chưa thực hiện', 'đang thực hiện', 'đã hoàn thành', 'không thực hiện/điều chỉnh' (có dấu hoặc không, hoặc mã: da_hoan_thanh…).")],
    note: Annotated[str | None, typer.Option("--note", help="Ghi chú tiến độ.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Tên người cập nhật (ghi vào lịch sử).")] = None,
    done_date: Annotated[str | None, typer.Option("--date", help="Ngày hoàn thành (mặc định: hôm nay).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Lý do không thực hiện/điều chỉnh.")] = None,
    report: Annotated[str | None, typer.Option("--report", help="Văn bản báo cáo, ví dụ 'Báo cáo số 12/BC-TNMT ngày 02/4/2024'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Đổi trạng thái một nhiệm vụ; mỗi lần đổi được ghi thành một dòng lịch sử (không ghi đè)."""
    settings = _settings()
    new_status = parse_status(status)
    if new_status is TaskStatus.ADJUSTED and reason is None:
        reason = note  # 'không thực hiện' with only a note: the note is the reason
    from assistant.locks import write_lock

    store, tracker = _open(settings)
    with write_lock(settings.index), store, tracker:
        change = tracker.set_status(task_id, new_status, by=by, note=note, done_date=_day(done_date),
                                    reason=reason, report_ref=report)
    if as_json:
        _print_json({"task_id": change.task_id, "before": change.before.to_json(),
                     "after": change.after.to_json(), "by": change.by, "at": change.at})
        return
    after = change.after
    line = (f"Đã cập nhật nhiệm vụ {change.task_id}: {STATUS_LABELS[change.before.status]} → "
            f"{STATUS_LABELS[after.status]}")
    if after.done_date:
        line += f" (ngày {after.done_date:%d/%m/%Y})"
    if change.by:
        line += f", người cập nhật: {change.by}"
    _out.print(escape(line) + ".", highlight=False)


@tasks_app.command("history")
@_guarded
def history(
    task_id: Annotated[str, typer.Argument(help="Mã nhiệm vụ.")],
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Lịch sử thay đổi trạng thái của một nhiệm vụ (cũ trước)."""
    settings = _settings()
    store, tracker = _open(settings)
    with store, tracker:
        state = tracker.status_of(task_id)
        entries = tracker.history(state.task_id)
    if as_json:
        _print_json({"task_id": state.task_id, "status": state.status.value, "state": state.to_json(),
                     "history": [e.to_json() for e in entries]})
        return
    _out.print(f"Nhiệm vụ {state.task_id}: {STATUS_LABELS[state.status]}", highlight=False)
    if not entries:
        _out.print("Chưa có thay đổi nào.")
        return
    table = Table()
    for column in ("Lúc", "Người", "Từ", "Sang", "Ghi chú"):
        table.add_column(column, overflow="fold")
    for e in entries:
        details = [e.note or ""]
        if e.done_date:
            details.append(f"hoàn thành ngày {e.done_date:%d/%m/%Y}")
        if e.reason and e.reason != e.note:
            details.append(f"lý do: {e.reason}")
        if e.report_ref:
            details.append(e.report_ref)
        table.add_row(e.at.replace("T", " ").replace("+00:00", " UTC"), escape(e.by or "—"),
                      STATUS_LABELS[e.from_status] if e.from_status else "—", STATUS_LABELS[e.to_status],
                      escape("; ".join(d for d in details if d)))
    _out.print(table)


@tasks_app.command("carry-report")
@_guarded
def carry_report(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    """Nhiệm vụ có trạng thái chưa chuyển được (hoặc đã chuyển nhưng nội dung đổi) sau khi nạp lại."""
    settings = _settings()
    store, tracker = _open(settings)
    with store, tracker:
        issues = tracker.carry_report()
    if as_json:
        _print_json({"items": [i.to_json() for i in issues]})
        return
    if not issues:
        _out.print("Mọi trạng thái đã ghi đều gắn đúng nhiệm vụ hiện có.")
        return
    for issue in issues:
        label = "Chưa chuyển được" if issue.state.value == "lost" else "Cần kiểm tra"
        _out.print(f"[yellow]{label}[/yellow] {issue.task_id} ({escape(issue.agency)}, "
                   f"{STATUS_LABELS[issue.status]}): {escape(issue.message)}", highlight=False)


def _vn(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day:%d/%m/%Y}"


@tasks_app.command("export")
@_guarded
def export(
    output: Annotated[Path, typer.Argument(help="Tệp ra: FILE.xlsx (Excel) hoặc FILE.csv (UTF-8, mở được bằng Excel).", metavar="FILE.xlsx|FILE.csv")],
    agency: AgencyOpt = None,
    status: StatusOpt = None,
    overdue: OverdueOpt = False,
    due_within: DueWithinOpt = None,
    notice: NoticeOpt = None,
    issuer: IssuerOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    role: RoleOpt = None,
) -> None:
    """Xuất danh sách nhiệm vụ (cùng bộ lọc như 'tasks list') ra Excel hoặc CSV."""
    from assistant.tracking_export import export_tasks

    settings = _settings()
    if output.suffix.lower() not in (".xlsx", ".csv"):
        raise AssistantError(f"Tệp xuất phải có đuôi .xlsx hoặc .csv: {output.name}")
    filters = typed_filters(settings.tasks.due_soon_days, agency=agency, status=status, overdue=overdue,
                            due_within=due_within, notice=notice, issuer=issuer, since=since,
                            until=until, role=role)
    store, tracker = _open(settings)
    with store, tracker:
        from assistant.agencies import get_gazetteer

        page = tracker.page(filters, get_gazetteer(settings.agencies.extra_file))
    title = "Danh sách nhiệm vụ được giao"
    if page.lookup and page.lookup.get("label"):
        title += f" — {page.lookup['label']}"
    export_tasks(page.items, output, title, page.today)
    _out.print(f"Đã xuất {len(page.items)} nhiệm vụ ra {output}.", highlight=False)


@tasks_app.command("report")
@_guarded
def report(
    date_from: Annotated[str, typer.Option("--from", help="Từ ngày họp (dd/mm/yyyy).")],
    date_to: Annotated[str, typer.Option("--to", help="Đến ngày họp (dd/mm/yyyy).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Tệp Word ra (FILE.docx).")],
    agency: AgencyOpt = None,
    issuer: IssuerOpt = None,
) -> None:
    """Báo cáo kết quả thực hiện nhiệm vụ (Word, thể thức NĐ 30/2020) cho một kỳ, một cơ quan."""
    from assistant.agencies import get_gazetteer
    from assistant.render import render_docx
    from assistant.tracking_report import report_for

    settings = _settings()
    if output.suffix.lower() != ".docx":
        raise AssistantError(f"Báo cáo được ghi ra tệp .docx: {output.name}")
    start, end = parse_user_date(date_from), parse_user_date(date_to)
    store, tracker = _open(settings)
    with store, tracker:
        document, page = report_for(tracker, get_gazetteer(settings.agencies.extra_file), start, end,
                                    agency, issuer, settings.tasks.office, settings.tasks.office_parent)
    render_docx(document, output)
    _out.print(f"Đã ghi báo cáo {output}: {page.total} nhiệm vụ "
               f"({page.counts['da_hoan_thanh']} đã hoàn thành, {page.counts['qua_han']} quá hạn).",
               highlight=False)


def print_carry_notice(settings: Settings) -> None:
    """After an ingest: say when followed-up tasks need checking (their notice changed)."""
    store = Store(settings.db_path)
    with store, TaskTracker(store, settings.tasks.due_soon_days) as tracker:
        issues = tracker.carry_report()
        tracker.sync_keys()  # the new notices' task ids now, not at the first task view
    if issues:
        lost = sum(i.state.value == "lost" for i in issues)
        _out.print(f"[yellow]Theo dõi nhiệm vụ:[/yellow] {len(issues)} nhiệm vụ đã ghi trạng thái cần "
                   f"kiểm tra lại ({lost} chưa chuyển được sang bản mới của thông báo). "
                   "Xem: assistant tasks carry-report", highlight=False)
