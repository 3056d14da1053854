"""Review before download through the API, on a real uvicorn server: the draft's form edited
(PUT /api/draft/{id}) is re-validated, and the .docx of that id has the edit; the office profile
is saved once and used by notes that name no issuer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest

from assistant.api.testing import running_server
from assistant.settings import Settings
from tests._draft_facts import FIXTURES

XA = (FIXTURES / "01_xa-hoa-thinh_2026_viet-tat.txt").read_text("utf-8")
PHUONG = (FIXTURES / "02_phuong_2025_khong-ten-co-quan.txt").read_text("utf-8")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(index=tmp_path_factory.mktemp("review-index"), embedding={"backend": "fake"})
    with running_server(settings) as url:
        yield url


def _draft(client: httpx.Client, notes: str) -> dict[str, Any]:
    response = client.post("/api/draft", data={"notes": notes})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _docx_text(client: httpx.Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.content))
    return "\n".join(p.text for p in document.paragraphs)


def test_edited_agency_and_deadline_reach_the_docx(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        draft = _draft(client, XA)
        form = draft["form"]
        assert form["issuer"] == "UBND xã Hòa Thịnh" and form["meeting_date"] == "2026-03-09"
        first = form["tasks"][0]
        assert first["agency"] == "Phòng Kinh tế" and first["lines"] == [4]
        first["agency"] = "Văn phòng HĐND và UBND xã"
        first["deadline"] = "trước ngày 27/3/2026"
        edited = client.put(f"/api/draft/{draft['draft_id']}", json=form)
        assert edited.status_code == 200, edited.text
        data = edited.json()
        assert data["draft_id"] == draft["draft_id"]
        entry = next(t for t in data["trace"] if t["lines"] == [4])
        assert entry["agencies"] == ["Văn phòng HĐND và UBND xã"] and "27/3/2026" in entry["text"]
        assert "20/3/2026" not in entry["text"]
        codes = {w["code"]: w for w in data["warnings"]}
        assert codes["edited_date"]["severity"] == "info"  # typed by the clerk, not in the notes
        text = _docx_text(client, data["docx_url"])
        assert "27/3/2026" in text and "Văn phòng HĐND và UBND xã" in text
        # the same edited draft is what GET returns
        assert client.get(f"/api/draft/{draft['draft_id']}").json()["form"]["tasks"][0]["deadline"] == "trước ngày 27/3/2026"


def test_wrong_level_agency_typed_in_the_form_is_flagged(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        draft = _draft(client, XA)
        form = draft["form"]
        form["tasks"][1]["agency"] = "Công an huyện"  # no district exists in 2026
        form["tasks"][2]["agency"] = "Sở Y tế"  # above a commune: asked, not ordered
        data = client.put(f"/api/draft/{draft['draft_id']}", json=form).json()
        errors = [w for w in data["warnings"] if w["severity"] == "error"]
        by_task = {w["task"]: w["code"] for w in errors}
        assert by_task.get(1) == "agency_wrong_level" and by_task.get(2) == "agency_above_issuer"


def test_unknown_draft_and_bad_form_are_clear_errors(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        missing = client.put("/api/draft/" + "0" * 32, json={"tasks": []})
        assert missing.status_code == 404 and "dự thảo" in missing.json()["error"]["message"]
        draft = _draft(client, XA)
        bad = client.put(f"/api/draft/{draft['draft_id']}", json={"tasks": [{"role": "x", "text": "a"}]})
        assert bad.status_code == 422


def test_office_profile_first_run_then_notes_without_issuer(base_url: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        assert client.get("/api/office-profile").json()["configured"] is False
        blank = _draft(client, PHUONG)
        assert blank["document"]["issuer"] == "ỦY BAN NHÂN DÂN PHƯỜNG ……"
        assert "issuer_blank" in [w["code"] for w in blank["warnings"]]
        refused = client.put("/api/office-profile", json={"issuer": "Hòa Bình"})
        assert refused.status_code == 422 and "UBND" in refused.json()["error"]["message"]
        saved = client.put("/api/office-profile", json={"issuer": "UBND phường Hòa Bình", "signer": "Nguyễn Minh Khoa",
                                                         "recipients": ["Công an phường"]})
        assert saved.status_code == 200 and saved.json()["configured"] is True
        draft = _draft(client, PHUONG)
        assert draft["document"]["issuer"] == "ỦY BAN NHÂN DÂN PHƯỜNG HÒA BÌNH"
        assert draft["document"]["signer"] == "Nguyễn Minh Khoa"
        assert draft["document"]["recipients"].count("- Công an phường;") == 1


def test_agency_names_for_autocomplete(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        names = client.get("/api/draft-agencies").json()["names"]
        assert "Phòng Kinh tế, Hạ tầng và Đô thị" in names and "Sở Nông nghiệp và Môi trường" in names
