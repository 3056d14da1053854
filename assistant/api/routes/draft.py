"""``/api/draft``: meeting notes -> draft notice (preview, warnings, trace) -> ``.docx``.

Drafts are kept as JSON in ``<index>/drafts`` under a random id, so the Word file downloaded
later is exactly the previewed draft (an LLM rewrite would not repeat itself)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Response, UploadFile

from assistant.api.auth import Audit
from assistant.api.deps import Context
from assistant.api.routes.notices import PayloadTooLarge
from assistant.api.security import safe_upload_name
from assistant.draft import (
    DraftOptions,
    DraftResult,
    GroupBy,
    draft_from_notes,
    notes_text_from_bytes,
)
from assistant.errors import AssistantError, NotFound
from assistant.isolation import run_isolated
from assistant.render.docx import render_docx

router = APIRouter(prefix="/api/draft", tags=["Soạn thảo"])

DRAFT_DIR = "drafts"
KEEP_DRAFTS = 200
MAX_NOTES_CHARS = 200_000
_DRAFT_ID = re.compile(r"^[0-9a-f]{32}$")

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class MissingNotes(AssistantError):
    http_status = 400


def _folder(index: Path) -> Path:
    folder = index / DRAFT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save(index: Path, result: DraftResult) -> str:
    draft_id = uuid.uuid4().hex
    folder = _folder(index)
    tmp = folder / f".{draft_id}.part"
    tmp.write_text(result.model_dump_json(), encoding="utf-8")
    os.replace(tmp, folder / f"{draft_id}.json")
    old = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP_DRAFTS:]
    for path in old:
        path.unlink(missing_ok=True)
    return draft_id


def _load(index: Path, draft_id: str) -> DraftResult:
    path = _folder(index) / f"{draft_id}.json"
    if not _DRAFT_ID.match(draft_id) or not path.is_file():
        raise NotFound("Không có bản dự thảo này (có thể đã quá cũ và bị xóa). Hãy soạn lại.")
    return DraftResult.model_validate_json(path.read_text(encoding="utf-8"))


def _json(draft_id: str, result: DraftResult) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.model_dump_json())
    data["draft_id"] = draft_id
    data["docx_url"] = f"/api/draft/{draft_id}/docx"
    return data


@router.post("", summary="Soạn dự thảo thông báo từ ghi chép cuộc họp (văn bản hoặc tệp)")
def create_draft(
    context: Context,
    audit: Audit,
    notes: Annotated[str | None, Form(max_length=MAX_NOTES_CHARS, description="Nội dung ghi chép.")] = None,
    file: Annotated[UploadFile | None, File(description="Hoặc tệp ghi chép .txt, .md, .docx.")] = None,
    issuer: Annotated[str | None, Form(max_length=200, description="'UBND thị xã Bến Vân'; mặc định lấy từ ghi chép.")] = None,
    chair: Annotated[str | None, Form(max_length=200, description="Người chủ trì, nếu ghi chép không nêu.")] = None,
    group_by: Annotated[GroupBy | None, Form(description="Nhóm phần II theo lĩnh vực hoặc theo cơ quan.")] = None,
    signer: Annotated[str | None, Form(max_length=120, description="Người ký.")] = None,
) -> dict[str, Any]:
    settings = context.settings
    if file is not None and file.filename:
        name = safe_upload_name(file.filename)
        data = file.file.read(settings.server.max_upload_bytes + 1)
        if len(data) > settings.server.max_upload_bytes:
            raise PayloadTooLarge(f"Tệp ghi chép '{name}' quá lớn.")
        # Read like an upload: in a worker process under the loader's time and memory limits.
        text = run_isolated(notes_text_from_bytes, data, name, settings.load, name=name,
                            settings=settings.load)
    elif notes and notes.strip():
        text = notes
    else:
        raise MissingNotes("Hãy dán nội dung ghi chép hoặc chọn một tệp ghi chép.")
    options = DraftOptions(
        issuer=issuer or None, chair=chair or None, group_by=group_by, signer=signer or None
    )
    result = draft_from_notes(text, settings, context.store, options, gazetteer=context.gazetteer)
    draft_id = _save(settings.index, result)
    audit.record("draft", target=draft_id)
    return _json(draft_id, result)


@router.get("/{draft_id}", summary="Một bản dự thảo đã soạn")
def get_draft(draft_id: str, context: Context) -> dict[str, Any]:
    return _json(draft_id, _load(context.settings.index, draft_id))


@router.get(
    "/{draft_id}/docx",
    summary="Tải bản dự thảo dạng Word (.docx, thể thức NĐ 30/2020)",
    response_class=Response,
    responses={200: {"content": {DOCX_TYPE: {}}}},
)
def draft_docx(draft_id: str, context: Context, audit: Audit) -> Response:
    result = _load(context.settings.index, draft_id)
    audit.record("draft_download", target=draft_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "draft.docx"
        render_docx(result.document, path)
        data = path.read_bytes()
    filename = f"du-thao-thong-bao-{dt.date.today():%Y%m%d}.docx"
    return Response(
        data,
        media_type=DOCX_TYPE,
        headers={"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"},
    )
