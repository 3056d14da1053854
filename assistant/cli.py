"""Command line: `assistant ingest|notices|show|assignments|deadlines|…` (Vietnamese output)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from assistant.agencies import Agency, Gazetteer, get_gazetteer
from assistant.agency_lookup import lookup_rows
from assistant.deadlines import parse_user_date
from assistant.errors import AssistantError, ConfigError, as_disk_full
from assistant.ingest import STATUS_LABELS, FileResult, FileStatus
from assistant.model import KIND_LABELS, Section, ocr_label
from assistant.ocr import ocr_status
from assistant.office import INSTALL_HINT, converter_status
from assistant.records_json import agency_json, items_with_quotes, lookup_assignments, notice_json
from assistant.settings import Settings
from assistant.store import Store
from assistant.text import strip_controls

app = typer.Typer(
    help="Trợ lý Thông báo kết luận: nạp, tra cứu nhiệm vụ được giao, hỏi đáp và soạn thảo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class State:
    index: Path | None = None

    def settings(self) -> Settings:
        try:
            settings = Settings()
        except ValidationError as exc:
            # a misspelt or invalid ASSISTANT_* variable: say which, never a traceback
            fields = ", ".join(
                "ASSISTANT_" + "_".join(str(part) for part in error["loc"]).upper() for error in exc.errors()
            )
            raise ConfigError(
                f"Cấu hình không hợp lệ ({fields}): kiểm tra các biến môi trường ASSISTANT_* "
                "(tên và giá trị; xem README, mục Configuration)."
            ) from exc
        if self.index is not None:
            settings = settings.model_copy(update={"index": self.index})
        return settings


state = State()


@app.callback()
def main(
    index: Annotated[
        Path | None,
        typer.Option(
            "--index",
            help="Thư mục dữ liệu (mặc định: biến ASSISTANT_INDEX, nếu không có thì ./index).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="In nhật ký chi tiết.")] = False,
) -> None:
    state.index = index
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map our exceptions to a Vietnamese message and an exit code; never show a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            err.print(f"[red]Lỗi:[/red] {safe(exc)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            err.print("Đã dừng theo yêu cầu.")
            raise typer.Exit(130) from None
        except Exception as exc:
            if (full := as_disk_full(exc)) is not None:
                logging.getLogger(__name__).debug("disk full", exc_info=True)
                err.print(f"[red]Lỗi:[/red] {safe(full)}", highlight=False)
                raise typer.Exit(full.exit_code) from None
            logging.getLogger(__name__).debug("unexpected error", exc_info=True)
            err.print(
                "[red]Lỗi không mong đợi.[/red] Chạy lại với --verbose để xem chi tiết kỹ thuật.",
                highlight=False,
            )
            if logging.getLogger().isEnabledFor(logging.INFO):
                logging.getLogger(__name__).exception("unexpected error")
            raise typer.Exit(1) from None

    return wrapper


def safe(value: object) -> str:
    """Data (file names, titles, tasks, messages) as it must reach a Rich console: control
    characters and terminal escapes dropped, ``[…]`` shown as typed instead of read as markup
    (a title with ``[/]`` made ``show`` and ``assignments`` fail, a path with ``[/b]`` a whole
    ingest)."""
    return escape(strip_controls(str(value)))


def _open_store(settings: Settings) -> Store:
    return Store(settings.db_path)


def _gazetteer(settings: Settings) -> Gazetteer:
    return get_gazetteer(settings.agencies.extra_file)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# --- ingest ---------------------------------------------------------------------------------


@app.command()
@user_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục (.txt .md .docx .pdf .doc .rtf .odt; bản quét và ảnh .png .jpg .tif đọc bằng OCR).")],
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Nạp thông báo vào kho: mỗi tệp một dòng kết quả; lỗi ở một tệp không chặn các tệp khác."""
    settings = state.settings()
    from assistant.indexing import open_search_index
    from assistant.ingest import ParsedBatch, read_paths, store_batch
    from assistant.locks import write_lock

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json or not err.is_terminal,
        transient=True,
    )
    task = progress.add_task("Đang đọc tệp", total=None)
    # A second bar, pages of the file being read by OCR (a scan takes seconds a page).
    pages_task = progress.add_task("", total=None, visible=False)

    def started(total: int) -> None:
        progress.update(task, total=total)

    def pages(source: str, done: int, total: int) -> None:
        progress.update(pages_task, description=f"  OCR {Path(source).name} (trang)",
                        completed=done, total=total, visible=done < total)

    def report(result: FileResult) -> None:
        if not as_json:
            _print_result(result)

    def on_stored(result: FileResult) -> None:
        progress.advance(task)
        report(result)

    with ParsedBatch() as batch, progress:
        # Reading (converting, OCR, parsing) needs no lock: a server's uploads and other
        # ingests go on meanwhile; the lock is held only while the batch is stored and indexed.
        read_paths(paths, settings, _gazetteer(settings), batch, on_failed=report,
                   on_start=started, on_read=lambda _source: progress.advance(task), on_pages=pages)
        progress.update(task, description="Đang chờ quyền ghi dữ liệu", total=None, completed=0)
        with write_lock(settings.index), _open_store(settings) as store:
            search = open_search_index(settings, store)
            try:
                progress.update(task, description="Đang lưu", total=batch.notices, completed=0)
                results = store_batch(batch, store, search, on_stored=on_stored)
                progress.update(task, description="Cập nhật chỉ mục tìm kiếm")
                search.finish()
            finally:
                search.close()
    __import__("assistant.cli_users").cli_users.audit_ingest(settings, results)
    failed = [r for r in results if r.status is FileStatus.FAILED]
    if as_json:
        _print_json([r.to_json() for r in results])
    else:
        stored = sum(r.status in (FileStatus.ADDED, FileStatus.REPLACED, FileStatus.UNCHANGED) for r in results)
        out.print(
            f"Tổng cộng: {stored} tệp trong kho, {len(failed)} tệp lỗi, "
            f"{sum(r.status is FileStatus.SKIPPED for r in results)} tệp bỏ qua.",
            highlight=False,
        )
        from assistant.cli_tasks import print_carry_notice

        print_carry_notice(settings)
    if failed:
        raise typer.Exit(1)


def _print_result(result: FileResult) -> None:
    label = STATUS_LABELS[result.status]
    if result.status is FileStatus.FAILED:
        out.print(f"[red]✗ {label}[/red]  {safe(result.source)}: {safe(result.message)}", highlight=False)
    elif result.status is FileStatus.SKIPPED:
        out.print(f"[dim]- {label}[/dim]  {safe(result.source)} ({safe(result.message)})", highlight=False)
    else:
        kind = "" if result.kind == "notice" else f", loại: {KIND_LABELS.get(result.kind or '', result.kind)}"
        ocr = f", {ocr_label(result.ocr)}" if result.ocr else ""
        out.print(
            f"[green]✓ {label}[/green]  {safe(result.source)} — mã {result.notice_id}, "
            f"{result.assignments} nhiệm vụ{kind}{ocr}" + (f" ({safe(result.message)})" if result.message else ""),
            highlight=False,
        )


# --- notices / show -------------------------------------------------------------------------


@app.command()
@user_errors
def notices(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    """Liệt kê các thông báo đã nạp (mới nhất trước)."""
    settings = state.settings()
    with _open_store(settings) as store:
        items = store.notices()
    if as_json:
        _print_json([notice_json(n) for n in items])
        return
    if not items:
        out.print("Kho chưa có thông báo nào. Dùng: assistant ingest THƯ_MỤC")
        return
    table = Table(title=f"{len(items)} thông báo", show_lines=False)
    for column in ("Mã", "Ngày họp", "Cơ quan ban hành", "Số", "Trích yếu"):
        table.add_column(column)
    for notice in items:
        data = notice_json(notice)
        table.add_row(
            notice.id,
            data["meeting_date"] or "—",
            safe(data["issuer"] or "—"),
            safe(data["number"] or "—"),
            safe((data["title"] or notice.source)[:90])
            + (f" (OCR {notice.ocr.confidence:.0f}%)" if notice.ocr else ""),
        )
    out.print(table)


@app.command()
@user_errors
def show(
    notice_id: Annotated[str, typer.Argument(help="Mã thông báo (hoặc vài ký tự đầu).")],
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON (đầy đủ, kèm vị trí).")] = False,
) -> None:
    """Hiển thị cấu trúc đã phân tích của một thông báo."""
    settings = state.settings()
    with _open_store(settings) as store:
        notice = store.get(notice_id)
    if as_json:
        _print_json(json.loads(notice.model_dump_json()))
        return
    data = notice_json(notice)
    labels = {
        "id": "Mã",
        "source": "Tệp",
        "kind": "Loại",
        "issuer": "Cơ quan ban hành",
        "level": "Cấp",
        "number": "Số ký hiệu",
        "issue_date": "Ngày ban hành",
        "meeting_date": "Ngày họp",
        "chair": "Chủ trì",
        "signer": "Người ký",
        "title": "Trích yếu",
    }
    for key, label in labels.items():
        out.print(f"[bold]{label}:[/bold] {safe(data[key] or '—')}", highlight=False)
    if notice.signature and notice.signature.authority:
        out.print(f"[bold]Thẩm quyền ký:[/bold] {safe(notice.signature.authority)}", highlight=False)
    if notice.ocr:
        out.print(f"[bold]Đọc bằng:[/bold] {ocr_label(notice.ocr)}", highlight=False)
    tree = Tree("[bold]Cấu trúc[/bold]")
    _add_sections(tree, notice.sections)
    out.print(tree)
    if notice.recipients:
        out.print("[bold]Nơi nhận:[/bold] " + safe("; ".join(r.text.strip("-; ") for r in notice.recipients)),
                  highlight=False)
    out.print(f"[bold]Nhiệm vụ được giao:[/bold] {len(notice.assignments)}")
    for item in notice.assignments:
        deadline = f" — hạn: {item.deadline.text}" if item.deadline else ""
        out.print(f"  • {safe(item.agency.canonical or item.agency.text)} ({item.role.value}): "
                  f"{safe(item.task[:120])}{safe(deadline)}", highlight=False)


def _add_sections(tree: Tree, sections: list[Section]) -> None:
    for section in sections:
        label = f"{section.marker} {section.heading or section.body[:80]}".strip()
        branch = tree.add(safe(label), highlight=False)
        _add_sections(branch, section.children)


# --- assignments / deadlines ----------------------------------------------------------------


def _date_option(value: str | None) -> dt.date | None:
    if value is None:
        return None
    return parse_user_date(value)


@app.command()
@user_errors
def assignments(
    agency: Annotated[str, typer.Argument(help="Tên cơ quan, viết tắt hoặc không dấu: 'phòng TNMT', 'TC-KH'…")],
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Từ ngày họp (YYYY-MM-DD hoặc dd/mm/yyyy).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Đến ngày họp.")] = None,
) -> None:
    """Mọi nhiệm vụ giao cho một cơ quan, qua tất cả thông báo (mới nhất trước)."""
    settings = state.settings()
    with _open_store(settings) as store:
        gazetteer = _gazetteer(settings)
        found, rows = lookup_rows(store, gazetteer, agency, _date_option(since), _date_option(until))
        items = items_with_quotes(store, rows)
    if as_json:
        _print_json({"agency": agency_json(found.agency), "lookup": found.to_json(), "items": items})
        return
    for note in found.notes():
        out.print(f"[yellow]{safe(note)}[/yellow]", highlight=False)
    if not items:
        if found.matched and not found.notes():
            out.print(f"Không tìm thấy nhiệm vụ nào giao cho {safe(found.label())}.", highlight=False)
        return
    out.print(f"[bold]{len(items)} nhiệm vụ giao cho {safe(found.label())}[/bold]", highlight=False)
    _print_items(items)


def _print_items(items: list[dict[str, Any]]) -> None:
    current = None
    for item in items:
        if item["notice_id"] != current:
            current = item["notice_id"]
            out.print(
                f"\n[bold cyan]{safe(item['notice_title'] or item['source'])}[/bold cyan] "
                f"(họp {item['meeting_date'] or '—'}, mã {item['notice_id']})",
                highlight=False,
            )
        role = {"chu_tri": "chủ trì", "phoi_hop": "phối hợp", "de_nghi": "đề nghị"}.get(item["role"], "thực hiện")
        deadline = f" [magenta]— hạn: {safe(item['deadline']['text'])}[/magenta]" if item["deadline"] else ""
        out.print(f"  • \\[{role}] {safe(item['task'])}{deadline}", highlight=False)


@app.command()
@user_errors
def deadlines(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    agency: Annotated[str | None, typer.Option("--agency", help="Chỉ của một cơ quan.")] = None,
    after: Annotated[str | None, typer.Option("--after", help="Hạn từ ngày.")] = None,
    before: Annotated[str | None, typer.Option("--before", help="Hạn đến ngày.")] = None,
) -> None:
    """Các nhiệm vụ có thời hạn, sắp theo hạn (định kỳ ở cuối)."""
    settings = state.settings()
    with _open_store(settings) as store:
        gazetteer = _gazetteer(settings)
        rows = store.assignments(
            with_deadline=True, due_after=_date_option(after), due_before=_date_option(before)
        )
        found: Agency | None = None
        if agency:
            found, agency_rows = lookup_assignments(store, gazetteer, agency)
            keep = {(r.notice_id, r.assignment.start, r.assignment.agency.text) for r in agency_rows}
            rows = [r for r in rows if (r.notice_id, r.assignment.start, r.assignment.agency.text) in keep]
        rows.sort(key=lambda r: (r.assignment.deadline is None or r.assignment.deadline.date is None,
                                 r.assignment.deadline.date if r.assignment.deadline and r.assignment.deadline.date else dt.date.max))
        items = items_with_quotes(store, rows)
    if as_json:
        _print_json({"agency": agency_json(found), "items": items})
        return
    if not items:
        out.print("Không có nhiệm vụ nào có thời hạn phù hợp.")
        return
    table = Table(title=f"{len(items)} nhiệm vụ có thời hạn")
    for column in ("Hạn", "Cơ quan", "Nhiệm vụ", "Thông báo"):
        table.add_column(column)
    for item in items:
        table.add_row(
            safe(item["deadline"]["text"]),
            safe(item["agency"] or item["agency_text"]),
            safe(item["task"][:100]),
            f"{item['meeting_date'] or ''} {item['notice_id']}",
        )
    out.print(table)


# --- index maintenance ----------------------------------------------------------------------


@app.command()
@user_errors
def setup(
    measure: Annotated[bool, typer.Option("--measure", help="Đo lại tốc độ các bộ chạy nhúng.")] = False,
) -> None:
    """Chuẩn bị mô hình nhúng mặc định cho cả máy (chuyển đổi và đo tốc độ một lần, không cần mạng)."""
    from assistant.cli_embed import setup_command

    setup_command(state.settings(), measure)


@app.command()
@user_errors
def reindex() -> None:
    """Dựng lại chỉ mục tìm kiếm (vector + BM25) từ kho thông báo."""
    settings = state.settings()
    from assistant.indexing import discard_crashing_vectors, open_search_index
    from assistant.locks import write_lock

    with write_lock(settings.index), _open_store(settings) as store:
        if (broken := discard_crashing_vectors(settings)) is not None:
            out.print(f"Kho vector bị hỏng ({safe(broken)}): đã xóa, dựng lại từ đầu.", highlight=False)
        search = open_search_index(settings, store)
        with Progress(
            TextColumn("[bold]Đang dựng lại chỉ mục"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            disable=not err.is_terminal,
            transient=True,
        ) as progress:
            task = progress.add_task("reindex", total=None)
            chunks = search.rebuild(lambda done, total: progress.update(task, completed=done, total=total))
        search.close()
    out.print(f"Đã dựng lại chỉ mục: {chunks} đoạn.")


@app.command()
@user_errors
def doctor(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    """Kiểm tra tình trạng kho và chỉ mục tìm kiếm."""
    settings = state.settings()
    from assistant.indexing import open_search_index

    with _open_store(settings) as store:
        search = open_search_index(settings, store)
        status = search.status(deep=True)
        search.close()
    # Not an index problem (the exit code stays): without it only .doc/.rtf/.odt files fail.
    converter = converter_status(settings.load)
    ocr = ocr_status(settings.load)  # likewise: without it only scans and images fail
    from assistant.embed import embedder_status

    embedder = embedder_status(settings.embedding)
    if as_json:
        _print_json({**status.__dict__, "healthy": status.healthy, "problems": status.problems(),
                     "converter": {"program": converter.configured, "path": converter.path,
                                   "available": converter.available},
                     "ocr": {"language": settings.load.ocr_language, "tessdata": ocr.tessdata,
                             "available": ocr.available, "problem": ocr.problem},
                     "embedder": embedder.__dict__})
    else:
        for line in embedder.lines():
            out.print(escape(line) if embedder.ready else f"[yellow]{escape(line)}[/yellow]", highlight=False)
        if status.healthy:
            out.print(
                f"[green]Tốt:[/green] {status.notices} thông báo, {status.chunks} đoạn, "
                f"{status.vectors} vector; chỉ mục khớp với kho."
            )
        else:
            out.print("[yellow]Cần sửa:[/yellow] " + safe("; ".join(status.problems())) + ". Chạy: assistant reindex",
                      highlight=False)
        if converter.available:
            out.print(f"Chuyển đổi .doc/.rtf/.odt: LibreOffice có sẵn ({converter.path}).",
                      highlight=False)
        else:
            out.print(f"[yellow]Thiếu LibreOffice[/yellow] ('{converter.configured}'): không nạp được "
                      f"tệp .doc, .rtf, .odt. {INSTALL_HINT}.", highlight=False)
        if ocr.available:
            out.print(f"Nhận dạng chữ (OCR) bản quét và ảnh: Tesseract '{settings.load.ocr_language}' "
                      f"có sẵn ({ocr.tessdata}).", highlight=False)
        else:
            out.print(f"[yellow]Chưa nhận dạng chữ (OCR) được[/yellow]: {ocr.problem}; không nạp được "
                      "bản quét và ảnh (.png, .jpg, .tif).", highlight=False)
    if not status.healthy:
        raise typer.Exit(4)


@app.command()
@user_errors
def stats(as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
    """Số thông báo, đoạn, nhiệm vụ, bộ nhúng và dung lượng chỉ mục."""
    settings = state.settings()
    from assistant.indexing import open_search_index

    with _open_store(settings) as store:
        counts = store.count()
        search = open_search_index(settings, store)
        data = {
            "notices": counts["notices"],
            "chunks": search.chunks.count(),
            "assignments": counts["assignments"],
            "embedder": search.embedder.identity,
            "index_bytes": _dir_bytes(settings.index, exclude=settings.index / "models"),
        }
        search.close()
    if as_json:
        _print_json(data)
    else:
        for key, label in (("notices", "Thông báo"), ("chunks", "Đoạn"), ("assignments", "Nhiệm vụ"),
                           ("embedder", "Bộ nhúng"), ("index_bytes", "Dung lượng chỉ mục (byte)")):
            out.print(f"{label}: {data[key]}", highlight=False)


def _dir_bytes(root: Path, exclude: Path | None = None) -> int:
    total = 0
    for path in root.rglob("*"):
        if exclude is not None and exclude in path.parents:
            continue
        if path.is_file():
            total += path.stat().st_size
    return total


def _register_optional_commands() -> None:
    from assistant.cli_ask import ask
    from assistant.cli_draft import draft

    app.command(name="ask")(user_errors(ask))
    __import__("assistant.cli_users").cli_users.register(app, user_errors)
    app.command(name="draft")(user_errors(draft))
    from assistant.cli_tasks import tasks_app

    app.add_typer(tasks_app, name="tasks")
    try:
        from assistant.cli_serve import serve
    except ImportError:  # the service module is optional while it is being built
        return
    app.command(name="serve")(user_errors(serve))

    @app.command(name="check")
    @user_errors
    def check(path: Annotated[Path, typer.Argument(help="Tệp Word (.docx) cần kiểm tra thể thức.")],
              as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False) -> None:
        """Kiểm tra thể thức một tệp Word theo Nghị định 30/2020/NĐ-CP, Phụ lục I."""
        from assistant.check import check_docx

        report = check_docx(path)
        if as_json:
            _print_json(json.loads(report.model_dump_json()))
        else:
            if not report.findings:
                out.print(f"[green]Đạt:[/green] {safe(path)} đúng thể thức đã kiểm tra.", highlight=False)
            for finding in report.findings:
                color = "red" if finding.severity == "error" else "yellow"
                label = "Lỗi" if finding.severity == "error" else "Lưu ý"
                out.print(f"[{color}]{label}[/{color}] {safe(finding.where)}: {safe(finding.message)}", highlight=False)
        if not report.ok:
            raise typer.Exit(1)


_register_optional_commands()

if __name__ == "__main__":  # pragma: no cover
    app()
