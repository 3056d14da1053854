"""Task lists as offices keep them: an .xlsx workbook (openpyxl) and a CSV file (UTF-8 with a
BOM, so that Excel reads the Vietnamese letters). Both are written to a temporary file beside
the target and moved into place, so a crash never leaves half a file under the asked name."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from assistant.errors import AssistantError
from assistant.tracking import DUE_LABELS, STATUS_LABELS, CarryState, DueState, TaskItem, TaskStatus

# The columns offices keep (issue #14, item 4); 'Văn bản giao' spans three sub-columns.
NOTICE_GROUP = "Văn bản giao"
NOTICE_PARTS = ("Số", "Ngày", "Trích yếu")
LEADING = ("STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn")
TRAILING = ("Tình trạng", "Ngày hoàn thành", "Ghi chú", "Mã nhiệm vụ")
# One header row for CSV: the sub-columns named with their group.
CSV_HEADER = (*LEADING, *(f"{NOTICE_GROUP} - {p}" for p in NOTICE_PARTS), *TRAILING)
# Column widths in characters (Excel's unit), in the order of CSV_HEADER.
WIDTHS = (6, 60, 28, 28, 22, 16, 12, 45, 24, 14, 40, 14)
SHEET_LIST = "Danh sách nhiệm vụ"
SHEET_SUMMARY = "Tổng hợp"


def row_values(number: int, item: TaskItem) -> list[str | int]:
    """One exported row, in the order of ``CSV_HEADER``."""
    data = item.to_json()
    notice = data["notice"]
    return [
        number,
        data["task"],
        "; ".join(item.leads),
        "; ".join(item.partners),
        data["deadline"]["text"] if data["deadline"] else "",
        notice["number"] or "",
        vn_date(notice["issue_date"] or notice["meeting_date"]),
        notice["title"] or "",
        status_text(item),
        vn_date(data["done_date"]),
        note_text(item),
        item.task_id,
    ]


def status_text(item: TaskItem) -> str:
    """'đang thực hiện (quá hạn 12 ngày)'."""
    text = STATUS_LABELS[item.state.status]
    if item.due is DueState.OVERDUE:
        text += f" ({DUE_LABELS[item.due]} {item.days_overdue} ngày)"
    elif item.due is DueState.DUE_SOON:
        text += f" ({DUE_LABELS[item.due]})"
    return text


def note_text(item: TaskItem) -> str:
    state = item.state
    parts: list[str] = []
    if state.status is TaskStatus.ADJUSTED and state.reason:
        parts.append(f"Lý do: {state.reason}")
    if state.note and state.note != state.reason:
        parts.append(state.note)
    if state.report_ref:
        parts.append(state.report_ref)
    if state.carry is CarryState.CHANGED:
        parts.append("Nội dung đã thay đổi khi nạp lại, cần kiểm tra")
    return "; ".join(parts)


def vn_date(iso: str | None) -> str:
    if not iso:
        return ""
    day = dt.date.fromisoformat(iso)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def export_tasks(items: Sequence[TaskItem], path: Path, title: str, today: dt.date) -> None:
    """Write ``items`` to ``path``: .xlsx or .csv by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data = xlsx_bytes(items, title, today)
    elif suffix == ".csv":
        data = csv_text(items).encode("utf-8-sig")
    else:
        raise AssistantError(f"Tệp xuất phải có đuôi .xlsx hoặc .csv: {path.name}")
    _write_atomically(path, data)


def csv_text(items: Sequence[TaskItem]) -> str:
    buffer = io.StringIO()
    # CRLF: what Excel writes and expects.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for number, item in enumerate(items, 1):
        writer.writerow(row_values(number, item))
    return buffer.getvalue()


def xlsx_bytes(items: Sequence[TaskItem], title: str, today: dt.date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = SHEET_LIST
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(name="Times New Roman", bold=True, size=12)
    body_font = Font(name="Times New Roman", size=12)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    wrap_top = Alignment(wrap_text=True, vertical="top")
    centered = Alignment(wrap_text=True, horizontal="center", vertical="center")

    # Two header rows: 'Văn bản giao' over its three parts, the other headers merged down.
    group_first = len(LEADING) + 1
    for column, name in enumerate(LEADING, 1):
        sheet.cell(row=1, column=column, value=name)
        sheet.merge_cells(start_row=1, start_column=column, end_row=2, end_column=column)
    sheet.cell(row=1, column=group_first, value=NOTICE_GROUP)
    sheet.merge_cells(start_row=1, start_column=group_first, end_row=1,
                      end_column=group_first + len(NOTICE_PARTS) - 1)
    for offset, name in enumerate(NOTICE_PARTS):
        sheet.cell(row=2, column=group_first + offset, value=name)
    after = group_first + len(NOTICE_PARTS)
    for offset, name in enumerate(TRAILING):
        column = after + offset
        sheet.cell(row=1, column=column, value=name)
        sheet.merge_cells(start_row=1, start_column=column, end_row=2, end_column=column)
    for row in sheet.iter_rows(min_row=1, max_row=2, max_col=len(CSV_HEADER)):
        for cell in row:
            cell.font, cell.fill, cell.alignment, cell.border = head_font, head_fill, centered, border

    # Named styles: each body cell refers to one registered style instead of registering its
    # font, alignment and border again (per-cell styling of a few thousand rows took a minute).
    body = NamedStyle("Nội dung", font=body_font, alignment=wrap_top, border=border)
    number_style = NamedStyle("Số thứ tự", font=body_font, border=border,
                              alignment=Alignment(horizontal="center", vertical="top"))
    book.add_named_style(body)
    book.add_named_style(number_style)
    for number, item in enumerate(items, 1):
        row = number + 2  # below the two header rows
        for column, value in enumerate(row_values(number, item), 1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.style = number_style.name if column == 1 else body.name
    for column, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "C3"  # the header rows and the number + task columns stay in view
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(CSV_HEADER))}{len(items) + 2}"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    summary = book.create_sheet(SHEET_SUMMARY)
    summary.append([title])
    summary.append([f"Tính đến ngày {today.day:02d}/{today.month:02d}/{today.year}"])
    summary.append([])
    summary.append(["Tình trạng", "Số nhiệm vụ"])
    for status, label in STATUS_LABELS.items():
        summary.append([label, sum(i.state.status is status for i in items)])
    summary.append([f"Trong đó {DUE_LABELS[DueState.OVERDUE]}", sum(i.due is DueState.OVERDUE for i in items)])
    summary.append([f"Trong đó {DUE_LABELS[DueState.DUE_SOON]}", sum(i.due is DueState.DUE_SOON for i in items)])
    summary.append(["Tổng số", len(items)])
    summary["A1"].font = Font(name="Times New Roman", bold=True, size=13)
    for cell in summary[4]:
        cell.font, cell.fill, cell.border = head_font, head_fill, border
    summary.column_dimensions["A"].width = 40
    summary.column_dimensions["B"].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
