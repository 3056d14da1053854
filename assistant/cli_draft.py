"""`assistant draft NOTES [-o FILE.docx|FILE.md]`: meeting notes -> draft notice (registered in cli.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated

import typer

from assistant.draft import DraftOptions, GroupBy, draft_from_notes, read_notes_file
from assistant.errors import AssistantError
from assistant.render import render_docx
from assistant.settings import Settings
from assistant.store import Store


def draft(
    notes: Annotated[Path, typer.Argument(help="Tệp ghi chép cuộc họp (.txt, .md, .docx).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Ghi dự thảo ra FILE.docx hoặc FILE.md (mặc định: in ra màn hình)."),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option("--issuer", help='Cơ quan ban hành, ví dụ "UBND thị xã Bến Vân" (mặc định: lấy từ ghi chép).'),
    ] = None,
    chair: Annotated[
        str | None,
        typer.Option("--chair", help='Người chủ trì, ví dụ "Trần Quốc Khải - Chủ tịch UBND thị xã".'),
    ] = None,
    group_by: Annotated[
        GroupBy | None,
        typer.Option("--group-by", help="Nhóm nhiệm vụ theo lĩnh vực (sector) hoặc cơ quan (agency)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="In thông báo, truy vết và cảnh báo dạng JSON.")
    ] = False,
    meeting_date: Annotated[
        str | None,
        typer.Option("--date", help="Ngày họp (dd/mm/yyyy), khi ghi chép không nêu (ví dụ bài phát biểu kết luận)."),
    ] = None,
) -> None:
    """Soạn dự thảo Thông báo kết luận từ ghi chép cuộc họp; mọi nhiệm vụ đều truy vết về dòng ghi chép."""
    settings = Settings()
    try:
        day = _date(meeting_date) if meeting_date else None
        text = read_notes_file(notes, settings.load)
        store = Store(settings.db_path) if settings.db_path.exists() else None
        try:
            result = draft_from_notes(
                text, settings, store,
                DraftOptions(issuer=issuer, chair=chair, group_by=group_by, meeting_date=day),
            )
        finally:
            if store is not None:
                store.close()
        if output is not None:
            suffix = output.suffix.lower()
            if suffix == ".docx":
                render_docx(result.document, output)
            elif suffix == ".md":
                output.parent.mkdir(parents=True, exist_ok=True)
                output.write_text(result.markdown, "utf-8")
            else:
                raise AssistantError("Tệp ra phải có đuôi .docx hoặc .md.")
    except AssistantError as exc:
        typer.echo(f"Lỗi: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    if as_json:
        typer.echo(json.dumps({
            "document": result.document.model_dump(mode="json"),
            "trace": [t.model_dump(mode="json") for t in result.trace],
            "warnings": [w.model_dump(mode="json") for w in result.warnings],
            "group_by": result.group_by.value,
            "expansions": [e.model_dump(mode="json") for e in result.expansions],
            "form": result.form.model_dump(mode="json") if result.form else None,
        }, ensure_ascii=False, indent=2))
    elif output is None:
        typer.echo(result.markdown)
    else:
        typer.echo(f"Đã ghi dự thảo: {output} ({len(result.trace)} nhiệm vụ).")
    if not as_json:
        for warning in result.warnings:
            label = {"error": "Lỗi", "info": "Ghi chú"}.get(warning.severity, "Cảnh báo")
            typer.echo(f"{label} [{warning.code}]: {warning.message}", err=True)
        for expansion in result.expansions:
            typer.echo(f"Viết tắt đã viết đầy đủ: {expansion.short} → {expansion.full} "
                       f"(dòng {', '.join(map(str, expansion.lines))})", err=True)


def _date(text: str) -> dt.date:
    m = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*|\s*(\d{4})-(\d{2})-(\d{2})\s*", text)
    try:
        if m and m.group(1):
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if m:
            return dt.date(int(m.group(4)), int(m.group(5)), int(m.group(6)))
    except ValueError:
        pass
    raise AssistantError(f"Ngày họp '{text}' không hợp lệ; hãy ghi dạng dd/mm/yyyy, ví dụ 22/01/2026.")
