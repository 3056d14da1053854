"""Review before download: the draft's form edited in the page and re-validated
(``PUT /api/draft/{id}``), agency names for the form's autocomplete, and the office profile
(``/api/office-profile``) that drafts without a named issuer use."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter

from assistant.api.auth import Audit
from assistant.api.deps import Context, GazetteerDep, StoreDep
from assistant.api.routes.draft import _folder, _json, _load
from assistant.draft import DraftForm, DraftResult, draft_from_form
from assistant.profile import OfficeProfile, load_profile, save_profile

router = APIRouter(tags=["Soạn thảo"])


def _replace(context: Context, draft_id: str, result: DraftResult) -> None:
    folder = _folder(context.settings.index)
    tmp = folder / f".{draft_id}.part"
    tmp.write_text(result.model_dump_json(), encoding="utf-8")
    os.replace(tmp, folder / f"{draft_id}.json")


@router.put("/api/draft/{draft_id}", summary="Sửa bản dự thảo bằng biểu mẫu (kiểm tra lại, xem trước, tải về)")
def edit_draft(draft_id: str, form: DraftForm, context: Context, audit: Audit) -> dict[str, Any]:
    """The edited form replaces the draft: composed again, validated again (agencies by level
    and date, numbers and dates against the notes), and the ``.docx`` of this id is the edit."""
    previous = _load(context.settings.index, draft_id)
    result = draft_from_form(form, previous, context.settings, gazetteer=context.gazetteer)
    _replace(context, draft_id, result)
    audit.record("draft_edit", target=draft_id)
    return _json(draft_id, result)


@router.get("/api/draft-agencies", summary="Tên cơ quan gợi ý khi sửa dự thảo (danh mục và kho)")
def agency_names(gazetteer: GazetteerDep, store: StoreDep) -> dict[str, list[str]]:
    names = {a.name for a in gazetteer.agencies}
    names.update(store.agency_names())
    return {"names": sorted(names)}


@router.get("/api/office-profile", summary="Hồ sơ cơ quan (cơ quan ban hành, người ký, nơi nhận thường dùng)")
def get_profile(context: Context) -> dict[str, Any]:
    profile = load_profile(context.settings)
    return {**profile.model_dump(), "configured": bool(profile.issuer)}


@router.put("/api/office-profile", summary="Lưu hồ sơ cơ quan (dùng khi ghi chép không nêu cơ quan)")
def put_profile(profile: OfficeProfile, context: Context, audit: Audit) -> dict[str, Any]:
    saved = save_profile(context.settings, profile)
    audit.record("office_profile", target=saved.issuer)
    return {**saved.model_dump(), "configured": bool(saved.issuer)}
