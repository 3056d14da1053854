"""``/api/notices``: list, read (text, structure, spans), upload, delete."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.auth import Audit, Auditor
from assistant.api.deps import ApiContext, Context, StoreDep
from assistant.api.routes import upload_progress
from assistant.api.security import InvalidUploadName, safe_upload_name
from assistant.errors import AssistantError, as_disk_full
from assistant.ingest import FileResult, FileStatus, parse_upload, store_parsed
from assistant.load import SUPPORTED_SUFFIXES
from assistant.model import Notice
from assistant.records_json import assignment_item, notice_json
from assistant.store import AssignmentRow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/notices", tags=["Thông báo"])

MAX_FILES = 20
UPLOAD_DIR = "uploads"


class PayloadTooLarge(AssistantError):
    http_status = 413


class TooManyFiles(AssistantError):
    http_status = 400


@router.get("", summary="Các thông báo đã nạp (mới nhất trước)")
def list_notices(store: StoreDep) -> dict[str, Any]:
    summaries = store.summaries()
    # Counted in SQL: decoding every assignment record only to count them took seconds at
    # 10k notices (≈130k records).
    counts = {summary.id: count for summary, count in store.assignment_notices()}
    ocr = store.ocr_marks()
    items = [{**asdict(s), "assignments": counts.get(s.id, 0), "ocr": ocr.get(s.id)} for s in summaries]
    return {"items": items, "count": len(items)}


@router.get("/{notice_id}", summary="Một thông báo: văn bản, cấu trúc, nhiệm vụ (kèm vị trí ký tự)",
            response_model=dict[str, Any])
def get_notice(notice_id: str, store: StoreDep) -> JSONResponse:
    notice = store.get(notice_id)
    rows = [
        AssignmentRow(notice.id, notice.source, notice.title.text if notice.title else None,
                      None, None, item)
        for item in notice.assignments
    ]
    structure = json.loads(notice.model_dump_json(include={"sections"}))["sections"]
    # Written by the standard json module: pydantic's serializer stops at 255 levels, which
    # 128 levels of nested numbering (a dict and a list per level) exceed.
    return JSONResponse({
        **notice_json(notice),
        "outline": notice_json(notice)["sections"],
        "sections": structure,
        "text": notice.text,
        "assignments": [assignment_item(r, notice.text) for r in rows],
    })


@router.delete("/{notice_id}", summary="Xóa một thông báo (kho và chỉ mục tìm kiếm)")
def delete_notice(notice_id: str, context: Context, audit: Audit) -> dict[str, Any]:
    with context.writing() as session:
        notice = session.store.get(notice_id)  # resolves a unique prefix, 404 otherwise
        session.store.delete(notice.id)
        if notice.source.startswith(f"{UPLOAD_DIR}/"):
            _original(context.settings.index, notice.source.removeprefix(f"{UPLOAD_DIR}/")).unlink(
                missing_ok=True)
        # The notice is gone from the store whatever happens next: the answer says so.
        warning = _index_update(session.search.notice_deleted, notice.id)
    # What it takes to find the notice again and ingest it back.
    audit.record("delete", target=notice.id, source=notice.source,
                 title=notice.title.text if notice.title else None,
                 sha256=hashlib.sha256(notice.text.encode("utf-8")).hexdigest())
    return {"deleted": notice.id, "source": notice.source,
            **({"index_warning": warning} if warning else {})}


def _index_update(update: Callable[..., None], *args: Any) -> str | None:
    """Run a search-index update after the store was written; a failure becomes a warning in
    the answer (the index stays marked stale and is completed by the next reader or
    ``assistant reindex``), never a 500 for records that are stored."""
    try:
        update(*args)
    except Exception as exc:
        full = as_disk_full(exc)
        if full is None and not isinstance(exc, AssistantError):
            log.exception("search index not updated after a write")
        reason = full.message if full else (exc.message if isinstance(exc, AssistantError)
                                            else "lỗi khi cập nhật chỉ mục")
        return f"Đã lưu vào kho nhưng chưa cập nhật được chỉ mục tìm kiếm ({reason})."
    return None


def _original(index: Path, name: str) -> Path:
    folder = (index / UPLOAD_DIR).resolve()
    target = (folder / name).resolve()
    if target.parent != folder:  # safe_upload_name already forbids this; belt and braces
        raise AssistantError(f"Tên tệp không hợp lệ: '{name}'.")
    return target


def _save_original(index: Path, name: str, data: bytes) -> Path:
    """Write the uploaded original beside its final place in ``<index>/uploads`` (by its
    sanitized name only); ``_keep_original`` puts it there once the notice is stored."""
    target = _original(index, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    return tmp


def _keep_original(index: Path, name: str, tmp: Path, result: FileResult) -> None:
    """A stored notice keeps its original; a refused file leaves nothing behind (and an older
    original of the same name, of a notice still stored, stays)."""
    if result.status is FileStatus.FAILED:
        tmp.unlink(missing_ok=True)
    else:
        os.replace(tmp, _original(index, name))


@router.post("", summary="Tải lên và nạp một hoặc nhiều tệp (.txt .md .docx .pdf .doc .rtf .odt; ảnh "
             ".png .jpg .tif và bản quét đọc bằng OCR)")
async def upload_notices(
    context: Context,
    audit: Audit,
    files: Annotated[list[UploadFile], File(description="Một hoặc nhiều tệp thông báo.")],
    progress_id: Annotated[str | None, Form(
        description="Mã ngẫu nhiên (8-64 ký tự chữ, số, '-', '_') để xem tiến độ ở "
                    "GET /api/uploads/{progress_id} trong khi tải lên.")] = None,
) -> dict[str, Any]:
    """A result per file, in the order sent: a file of the wrong type, over the size limit, with
    an unusable name or that cannot be read is reported as failed and the others still land."""
    if len(files) > MAX_FILES:
        raise TooManyFiles(f"Mỗi lần chỉ tải lên tối đa {MAX_FILES} tệp (đã gửi {len(files)}).")
    limit = context.settings.server.max_upload_bytes
    batch: list[tuple[str, bytes] | FileResult] = []
    for upload in files:
        batch.append(await _accept(upload, limit))
    tracked = upload_progress.valid_id(progress_id)
    if tracked:
        upload_progress.start(tracked, len(batch))
    # Conversion, parsing and embedding are blocking work: off the event loop.
    return await run_in_threadpool(_ingest, context, batch, audit, tracked)


async def _accept(upload: UploadFile, limit: int) -> tuple[str, bytes] | FileResult:
    """The file's safe name and bytes, or its failed result (type, size, name) before any work."""
    try:
        name = safe_upload_name(upload.filename)
    except InvalidUploadName as exc:
        return FileResult(f"{UPLOAD_DIR}/{_label(upload.filename)}", FileStatus.FAILED,
                          message=exc.message)
    source = f"{UPLOAD_DIR}/{name}"
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return FileResult(source, FileStatus.FAILED, message=(
            f"Định dạng '{suffix or '(không có phần mở rộng)'}' không được hỗ trợ "
            f"(chỉ nhận {', '.join(SUPPORTED_SUFFIXES)}); tệp này không được nạp."
        ))
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return FileResult(source, FileStatus.FAILED, message=(
            f"Tệp vượt quá giới hạn {_size(limit)} mỗi tệp; tệp này không được nạp."
        ))
    return name, data


def _size(limit: int) -> str:
    return f"{limit / 1_048_576:.0f} MB" if limit >= 1_048_576 else f"{limit / 1024:.0f} KB"


def _label(filename: str | None) -> str:
    """A printable last path part of a refused name, for its result row only (never a path)."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable())[:120]
    return base or "(không có tên)"


def _ingest(
    context: ApiContext, batch: list[tuple[str, bytes] | FileResult], audit: Auditor,
    progress_id: str | None = None,
) -> dict[str, Any]:
    # Reading and parsing happen first, each file in a worker process with its own time and
    # memory limit, and without the write lock: LibreOffice, OCR or a hostile file take seconds
    # to minutes, and other writers (uploads, deletes, the CLI) should not wait on them. A file
    # that does not load is reported and nothing of it is kept, not even its original.
    parsed: list[tuple[str, bytes, Notice] | FileResult] = []
    for item in batch:
        if isinstance(item, FileResult):
            parsed.append(item)
            if progress_id:
                upload_progress.file_done(progress_id)
            continue
        name, data = item
        pages = upload_progress.file_started(progress_id, name) if progress_id else None
        notice = parse_upload(data, f"{UPLOAD_DIR}/{name}", context.settings, context.gazetteer, pages)
        if progress_id:
            upload_progress.file_done(progress_id)
        parsed.append(notice if isinstance(notice, FileResult) else (name, data, notice))
    results: list[FileResult] = []
    warning: str | None = None
    if all(isinstance(item, FileResult) for item in parsed):  # nothing to store: no write lock
        results = [item for item in parsed if isinstance(item, FileResult)]
    else:
        with context.writing() as session:
            for ready in parsed:
                if isinstance(ready, FileResult):
                    results.append(ready)
                    continue
                name, data, notice = ready
                try:
                    tmp = _save_original(context.settings.index, name, data)
                except OSError as exc:
                    full = as_disk_full(exc)
                    if full is None:
                        raise
                    results.append(FileResult(f"{UPLOAD_DIR}/{name}", FileStatus.FAILED,
                                              message=full.message))
                    continue
                result = store_parsed(notice, session.store, indexer=session.search)
                _keep_original(context.settings.index, name, tmp, result)
                results.append(result)
            warning = _index_update(session.search.finish)
    for result in results:
        if result.status in (FileStatus.ADDED, FileStatus.REPLACED):
            audit.record("upload" if result.status is FileStatus.ADDED else "reingest",
                         target=result.notice_id, source=result.source,
                         status=result.status.value)
    stored = sum(r.status is not FileStatus.FAILED for r in results)
    return {"results": [r.to_json() for r in results], "stored": stored,
            "failed": len(results) - stored, **({"index_warning": warning} if warning else {})}
