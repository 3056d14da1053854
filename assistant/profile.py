"""The office profile: who issues, signs and usually receives the drafts of this office.

Set once, in the settings (``ASSISTANT_OFFICE_ISSUER`` …) or from the page's first-run form,
which saves ``<index>/office_profile.json`` (that file wins over the settings). A draft whose
notes name no issuer is made for the profile's issuer; with neither, the issuer is left blank.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from assistant.errors import AssistantError, ConfigError
from assistant.settings import OfficeSettings, Settings

PROFILE_FILE = "office_profile.json"


class InvalidProfile(AssistantError):
    http_status = 422


class OfficeProfile(BaseModel):
    issuer: str | None = Field(default=None, max_length=200, description="'UBND phường Hòa Bình'")
    signer: str | None = Field(default=None, max_length=120)
    authority: str = Field(default="TL. CHỦ TỊCH", max_length=60)
    position: str = Field(default="CHÁNH VĂN PHÒNG", max_length=80)
    recipients: list[str] = Field(default_factory=list, max_length=30)

    @classmethod
    def from_settings(cls, office: OfficeSettings) -> OfficeProfile:
        return cls.model_validate(office.model_dump())


def profile_path(settings: Settings) -> Path:
    return settings.index / PROFILE_FILE


def load_profile(settings: Settings) -> OfficeProfile:
    """The saved profile, else the one in the settings."""
    path = profile_path(settings)
    if not path.is_file():
        return OfficeProfile.from_settings(settings.office)
    try:
        return OfficeProfile.model_validate_json(path.read_text("utf-8"))
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"Hồ sơ cơ quan đã lưu không đọc được: {exc}", source=str(path)) from exc


def save_profile(settings: Settings, profile: OfficeProfile) -> OfficeProfile:
    """Check the issuer can be read, then write the profile atomically."""
    from assistant.draft.notes import parse_issuer

    cleaned = profile.model_copy(update={
        "issuer": (profile.issuer or "").strip() or None,
        "signer": (profile.signer or "").strip() or None,
        "recipients": [r.strip() for r in profile.recipients if r.strip()],
    })
    if cleaned.issuer and parse_issuer(cleaned.issuer) is None:
        raise InvalidProfile(
            f"Không hiểu cơ quan ban hành '{cleaned.issuer}'. Hãy ghi như \"UBND phường Hòa Bình\", "
            '"UBND xã Tân Lam" hoặc "UBND tỉnh Lam Giang".'
        )
    path = profile_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(cleaned.model_dump(), ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, path)
    return cleaned
