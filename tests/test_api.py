"""The HTTP API through FastAPI's TestClient, on the team's fictional sample notices."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.security import InvalidUploadName, TokenGuard, Unauthorized, safe_upload_name
from assistant.locks import WriteBusy, write_lock
from assistant.settings import Settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
NOTICES = sorted((SAMPLES / "notices").iterdir())
TOKEN = "s3cret-token"


def _settings(index: Path, **extra: Any) -> Settings:
    return Settings(index=index, embedding={"backend": "fake"}, **extra)


def _upload(client: TestClient, paths: list[Path], headers: dict[str, str] | None = None) -> Any:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    return client.post("/api/notices", files=files, headers=headers or {})


@pytest.fixture(scope="module")
def loaded_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index with the four sample notices, ingested once through the API."""
    index = tmp_path_factory.mktemp("api-index")
    with TestClient(create_app(_settings(index))) as client:
        response = _upload(client, NOTICES)
        assert response.status_code == 200, response.text
        assert [r["status"] for r in response.json()["results"]] == ["added"] * 4
    return index


@pytest.fixture
def client(loaded_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(loaded_index))) as c:
        yield c


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[TestClient]:
    """An empty index of its own, for tests that write."""
    with TestClient(create_app(_settings(tmp_path))) as c:
        yield c


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path, api_token=TOKEN))) as c:
        yield c


def _error(response: Any) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) >= {"code", "message"}
    assert "Traceback" not in response.text
    return dict(body["error"])


# --- health, docs, page -------------------------------------------------------------------------


def test_health_reports_counts_index_and_llm(client: TestClient) -> None:
    data = client.get("/health").json()
    assert data["counts"]["notices"] == 4
    assert data["counts"]["assignments"] > 40
    assert data["index"]["healthy"] is True
    assert data["index"]["chunks"] == data["index"]["vectors"] > 0
    assert data["embedder"].startswith("fake")
    assert data["llm_configured"] is False
    assert data["auth_required"] is False
    assert data["status"] == "ok"


def test_openapi_and_offline_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/ask", "/api/ask/stream", "/api/assignments", "/api/deadlines",
                 "/api/notices", "/api/notices/{notice_id}", "/api/draft",
                 "/api/draft/{draft_id}/docx", "/health"):
        assert path in spec["paths"], path
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Nothing loaded from another host: the page must work without internet.
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    assert client.get("/static/docs.js").status_code == 200


def test_page_is_self_contained_and_locked_down(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/static/app.js").text
    # Document text goes into the page through textContent / text nodes only.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert sink not in script, sink
    assert client.get("/static/app.css").status_code == 200
    assert "access-control-allow-origin" not in page.headers


def test_cors_is_off(client: TestClient) -> None:
    response = client.options(
        "/api/ask",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


# --- ask ----------------------------------------------------------------------------------------


def test_ask_returns_cli_json_with_verified_citations(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "phòng TNMT được giao những việc gì?"})
    assert response.status_code == 200
    data = response.json()
    assert {"question", "answer", "refused", "route", "citations", "conversation_id"} <= set(data)
    assert data["route"] == "assignments" and not data["refused"]
    assert data["citations"]
    for citation in data["citations"]:
        assert f"[{citation['n']}]" in data["answer"]
        text = client.get(f"/api/notices/{citation['notice_id']}").json()["text"]
        assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_follow_up_keeps_the_conversation(client: TestClient) -> None:
    first = client.post("/api/ask", json={"question": "phòng TNMT được giao những việc gì?"}).json()
    conversation = first["conversation_id"]
    second = client.post(
        "/api/ask", json={"question": "còn phòng TC-KH thì sao?", "conversation_id": conversation}
    ).json()
    assert second["conversation_id"] == conversation
    assert second["route"] == "assignments"
    assert "Tài chính - Kế hoạch" in second["answer"] and not second["refused"]
    alone = client.post("/api/ask", json={"question": "còn phòng TC-KH thì sao?"}).json()
    assert alone["conversation_id"] != conversation


def _sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = block.split("\n")
        event = next(line[6:].strip() for line in lines if line.startswith("event:"))
        data = "\n".join(line[5:].lstrip() for line in lines if line.startswith("data:"))
        events.append((event, json.loads(data)))
    return events


def test_ask_stream_sends_deltas_then_the_final_answer(client: TestClient) -> None:
    with client.stream("POST", "/api/ask/stream", json={"question": "hạn hoàn thành cấp giấy chứng nhận 640 hồ sơ?"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = _sse_events(body)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "final" and "delta" in kinds
    final = events[-1][1]
    assert final["conversation_id"] == events[0][1]["conversation_id"]
    assert "answer" in final and isinstance(final["citations"], list)


def test_ask_validation_errors_are_json_in_vietnamese(client: TestClient) -> None:
    missing = client.post("/api/ask", json={})
    assert missing.status_code == 422
    error = _error(missing)
    assert error["code"] == "validation_error" and "question" in error["message"]
    too_long = client.post("/api/ask", json={"question": "x" * 5000})
    assert too_long.status_code == 422 and "quá dài" in _error(too_long)["message"]
    bad_conversation = client.post("/api/ask", json={"question": "a", "conversation_id": "../x"})
    assert bad_conversation.status_code == 422
    not_json = client.post("/api/ask", content=b"{oops", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    _error(not_json)


# --- assignments / deadlines --------------------------------------------------------------------


def test_assignments_for_an_agency_in_any_spelling(client: TestClient) -> None:
    spelled = [client.get("/api/assignments", params={"agency": q}).json()
               for q in ("phòng TNMT", "phong tai nguyen va moi truong", "Phòng TN&MT")]
    names = {d["agency"]["name"] for d in spelled}
    assert names == {"Phòng Tài nguyên và Môi trường"}
    counts = {len(d["items"]) for d in spelled}
    assert len(counts) == 1 and counts.pop() >= 3
    item = spelled[0]["items"][0]
    assert {"notice_id", "task", "deadline", "quote", "start", "end", "overdue", "role"} <= set(item)


def test_assignments_date_range_and_overdue(client: TestClient) -> None:
    everything = client.get("/api/assignments", params={"agency": "phòng TNMT"}).json()["items"]
    only_2024_q1 = client.get(
        "/api/assignments", params={"agency": "phòng TNMT", "since": "2024-01-01", "until": "31/03/2024"}
    ).json()["items"]
    assert 0 < len(only_2024_q1) < len(everything)
    assert all(i["meeting_date"] <= "2024-03-31" for i in only_2024_q1)
    # Every sample deadline lies before today, so a dated one-off deadline is overdue.
    dated = [i for i in everything if i["deadline"] and i["deadline"]["date"] and not i["deadline"]["recurring"]]
    assert dated and all(i["overdue"] for i in dated)
    assert not any(i["overdue"] for i in everything if not i["deadline"])


def test_assignments_pages_cover_the_whole_list(client: TestClient) -> None:
    whole = client.get("/api/assignments", params={"agency": "phòng TNMT"}).json()
    assert whole["total"] == len(whole["items"]) >= 3
    pages = [
        client.get("/api/assignments", params={"agency": "phòng TNMT", "limit": 2, "offset": offset}).json()
        for offset in range(0, whole["total"], 2)
    ]
    assert all(p["total"] == whole["total"] and len(p["items"]) <= 2 for p in pages)
    assert [i for p in pages for i in p["items"]] == whole["items"]
    past_end = client.get("/api/assignments", params={"agency": "phòng TNMT", "limit": 5, "offset": 10_000}).json()
    assert past_end["items"] == [] and past_end["total"] == whole["total"]
    assert client.get("/api/assignments", params={"agency": "phòng TNMT", "limit": 0}).status_code == 422


def test_assignments_only_deadline_or_overdue_filters_pages_and_total(client: TestClient) -> None:
    cases = [("UBND các huyện, thành phố", "deadline", lambda i: i["deadline"] is not None),
             ("phòng TNMT", "overdue", lambda i: i["overdue"])]  # one recurring deadline: not overdue
    for agency, only, keep in cases:
        whole = client.get("/api/assignments", params={"agency": agency}).json()["items"]
        expected = [i for i in whole if keep(i)]
        assert 0 < len(expected) < len(whole), only  # the filter must drop some rows to be tested
        filtered = client.get("/api/assignments", params={"agency": agency, "only": only}).json()
        assert filtered["items"] == expected and filtered["total"] == len(expected)
        pages = [
            client.get("/api/assignments",
                       params={"agency": agency, "only": only, "limit": 2, "offset": offset}).json()
            for offset in range(0, len(expected), 2)
        ]
        assert all(p["total"] == len(expected) for p in pages)
        assert [i for p in pages for i in p["items"]] == expected
    bad = client.get("/api/assignments", params={"agency": "phòng TNMT", "only": "late"})
    assert bad.status_code == 422


def test_assignments_errors(client: TestClient) -> None:
    assert client.get("/api/assignments").status_code == 422
    bad_date = client.get("/api/assignments", params={"agency": "phòng TNMT", "since": "hôm qua"})
    assert bad_date.status_code == 400
    assert "Không hiểu ngày" in _error(bad_date)["message"]


def test_deadlines_sorted_and_filtered(client: TestClient) -> None:
    data = client.get("/api/deadlines").json()
    dates = [i["deadline"]["date"] for i in data["items"] if i["deadline"]["date"]]
    # upcoming first (nearest first), then past deadlines, most recent first
    upcoming = [d for d in dates if d >= data["today"]]
    past = [d for d in dates if d < data["today"]]
    assert dates == sorted(upcoming) + sorted(past, reverse=True) and len(dates) > 5
    # every row names its notice: issuer, number, date
    assert all(i["notice"]["label"] and i["notice"]["issuer"] for i in data["items"])
    assert any(i["notice"]["label"] == "UBND thị xã Bến Vân, số 45/TB-UBND ngày 15/03/2024" for i in data["items"])
    window = client.get("/api/deadlines", params={"after": "2024-07-01", "before": "2024-07-31"}).json()
    assert window["items"] and all("2024-07-01" <= i["deadline"]["date"] <= "2024-07-31" for i in window["items"])
    tnmt = client.get("/api/deadlines", params={"agency": "phòng TNMT"}).json()
    assert tnmt["agency"]["name"] == "Phòng Tài nguyên và Môi trường"
    assert {i["agency"] for i in tnmt["items"]} == {"Phòng Tài nguyên và Môi trường"}


def test_deadlines_pages_cover_the_whole_list(client: TestClient) -> None:
    for params in ({}, {"agency": "phòng TNMT"}, {"agency": "Ban chưa có trong danh mục"},
                   {"before": "2024-07-31"}, {"agency": "TC-KH", "after": "2024-04-01"}):
        whole = client.get("/api/deadlines", params=params).json()
        assert whole["total"] == len(whole["items"])
        pages = [client.get("/api/deadlines", params={**params, "limit": 3, "offset": offset}).json()
                 for offset in range(0, whole["total"], 3)]
        assert all(p["total"] == whole["total"] and p["agency"] == whole["agency"] for p in pages), params
        assert [i for p in pages for i in p["items"]] == whole["items"], params
    assert len(client.get("/api/deadlines").json()["items"]) > 3  # more than one page above
    past_end = client.get("/api/deadlines", params={"limit": 5, "offset": 10_000}).json()
    assert past_end["items"] == [] and past_end["total"] > 0
    assert client.get("/api/deadlines", params={"limit": 0}).status_code == 422


def test_agency_names(client: TestClient) -> None:
    names = client.get("/api/agencies").json()["names"]
    assert "Phòng Tài nguyên và Môi trường" in names


# --- notices ------------------------------------------------------------------------------------


def test_list_and_get_notice_with_spans(client: TestClient) -> None:
    listing = client.get("/api/notices").json()
    assert listing["count"] == 4
    by_date = {n["meeting_date"]: n for n in listing["items"]}
    assert {"2024-03-13", "2024-06-18", "2024-10-04", "2025-09-03"} == set(by_date)
    ben_van = by_date["2024-03-13"]
    assert ben_van["number"] == "45/TB-UBND" and ben_van["assignments"] > 0
    full = client.get(f"/api/notices/{ben_van['id'][:8]}").json()  # a unique prefix works
    assert full["id"] == ben_van["id"]
    text = full["text"]
    assert [s["number"] for s in full["outline"]] == ["I", "II"]
    for section in full["sections"]:
        assert 0 <= section["start"] < section["end"] <= len(text)
    for item in full["assignments"]:
        assert text[item["start"] : item["end"]] == item["quote"]
    for listed in listing["items"]:  # the listing's counts are each notice's own records
        assert listed["assignments"] == len(client.get(f"/api/notices/{listed['id']}").json()["assignments"])
    missing = client.get("/api/notices/0000000000000000")
    assert missing.status_code == 404 and _error(missing)["code"] == "not_found"


def test_upload_replace_and_delete(fresh: TestClient, tmp_path: Path) -> None:
    first = _upload(fresh, [NOTICES[0]]).json()
    assert first["results"][0]["status"] == "added" and first["stored"] == 1
    notice_id = first["results"][0]["notice_id"]
    again = _upload(fresh, [NOTICES[0]]).json()
    assert again["results"][0]["status"] == "unchanged"
    changed = NOTICES[0].read_text(encoding="utf-8").replace("640 hồ sơ", "650 hồ sơ")
    replaced = fresh.post(
        "/api/notices", files=[("files", (NOTICES[0].name, changed.encode(), "text/plain"))]
    ).json()["results"][0]
    assert replaced["status"] == "replaced" and replaced["notice_id"] != notice_id
    assert fresh.get("/api/notices").json()["count"] == 1
    # the original is kept in the upload folder, under its own name
    assert (tmp_path / "uploads" / NOTICES[0].name).read_text(encoding="utf-8") == changed

    deleted = fresh.delete(f"/api/notices/{replaced['notice_id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] == replaced["notice_id"]
    assert fresh.get("/api/notices").json()["count"] == 0
    health = fresh.get("/health").json()
    assert health["counts"]["notices"] == 0 and health["index"]["chunks"] == 0
    again_missing = fresh.delete(f"/api/notices/{replaced['notice_id']}")
    assert again_missing.status_code == 404


def test_deleted_notice_is_no_longer_answered(fresh: TestClient) -> None:
    ids = [r["notice_id"] for r in _upload(fresh, NOTICES[:2]).json()["results"]]
    question = {"question": "phòng TNMT được giao những việc gì?"}
    before = {c["notice_id"] for c in fresh.post("/api/ask", json=question).json()["citations"]}
    assert before == set(ids)
    fresh.delete(f"/api/notices/{ids[0]}")
    after = {c["notice_id"] for c in fresh.post("/api/ask", json=question).json()["citations"]}
    assert after == {ids[1]}


def test_upload_reports_each_file(fresh: TestClient) -> None:
    files = [
        ("files", ("good.txt", NOTICES[0].read_bytes(), "text/plain")),
        ("files", ("empty.txt", b"   ", "text/plain")),
        ("files", ("broken.docx", b"PK not a zip", "application/octet-stream")),
    ]
    data = fresh.post("/api/notices", files=files).json()
    statuses = {r["source"]: r["status"] for r in data["results"]}
    assert statuses == {"uploads/good.txt": "added", "uploads/empty.txt": "failed",
                        "uploads/broken.docx": "failed"}
    assert data["stored"] == 1 and data["failed"] == 2
    assert all(r["message"] for r in data["results"] if r["status"] == "failed")


def test_upload_type_and_size_limits(tmp_path: Path) -> None:
    """A file of the wrong type or over the per-file limit fails alone, by name; the others of
    its request are still ingested. Only a request too large as a whole is refused (413)."""
    settings = _settings(tmp_path, server={"max_upload_bytes": 1000})
    with TestClient(create_app(settings)) as c:
        wrong_type = c.post("/api/notices", files=[
            ("files", ("virus.exe", b"MZ", "application/octet-stream")),
            ("files", ("ok.txt", NOTICES[0].read_bytes()[:900], "text/plain")),
            ("files", ("big.txt", b"a" * 1500, "text/plain")),
        ])
        assert wrong_type.status_code == 200, wrong_type.text
        rows = wrong_type.json()["results"]
        assert [(r["source"], r["status"]) for r in rows] == [
            ("uploads/virus.exe", "failed"), ("uploads/ok.txt", "added"), ("uploads/big.txt", "failed")]
        assert "'.exe'" in rows[0]["error"] and "giới hạn" in rows[2]["error"]
        assert c.get("/api/notices").json()["count"] == 1
        assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == ["ok.txt"]

        whole_request = c.post("/api/notices", files=[("files", ("huge.txt", b"a" * 1_100_000, "text/plain"))])
        assert whole_request.status_code == 413
        _error(whole_request)

        none = c.post("/api/notices", files=[])
        assert none.status_code == 422
        _error(none)


@pytest.mark.parametrize(
    "name",
    ["../../etc/evil.txt", "..\\..\\windows\\evil.txt", "/abs/path/evil.txt", "sub/dir/evil.txt"],
)
def test_upload_names_cannot_escape_the_upload_folder(fresh: TestClient, tmp_path: Path, name: str) -> None:
    data = NOTICES[0].read_bytes()
    response = fresh.post("/api/notices", files=[("files", (name, data, "text/plain"))])
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["source"] == "uploads/evil.txt"
    written = [p for p in tmp_path.rglob("evil.txt")]
    assert written == [tmp_path / "uploads" / "evil.txt"]


def test_safe_upload_name() -> None:
    assert safe_upload_name("C:\\Users\\a\\Thông báo 45.docx") == "Thông báo 45.docx"
    assert safe_upload_name("a\x00b\n.txt") == "ab.txt"
    assert safe_upload_name("x<y>|z.md") == "x_y_z.md"
    assert len(safe_upload_name("a" * 500 + ".txt")) <= 120
    assert safe_upload_name("a" * 500 + ".txt").endswith(".txt")
    for bad in ("", "..", "../", "...", None):
        with pytest.raises(InvalidUploadName):
            safe_upload_name(bad)


# --- token --------------------------------------------------------------------------------------


def test_token_guards_write_endpoints(guarded: TestClient) -> None:
    assert guarded.get("/health").json()["auth_required"] is True
    refused = _upload(guarded, [NOTICES[0]])
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert _error(refused)["code"] == "unauthorized"
    assert _upload(guarded, [NOTICES[0]], {"Authorization": "Bearer wrong"}).status_code == 401
    assert _upload(guarded, [NOTICES[0]], {"Authorization": TOKEN}).status_code == 401
    ok = _upload(guarded, [NOTICES[0]], {"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    notice_id = ok.json()["results"][0]["notice_id"]
    # reads stay open
    assert guarded.get("/api/notices").json()["count"] == 1
    assert guarded.post("/api/ask", json={"question": "phòng TNMT được giao những việc gì?"}).status_code == 200
    assert guarded.delete(f"/api/notices/{notice_id}").status_code == 401
    assert guarded.post("/api/draft", data={"notes": "x"}).status_code == 401
    assert guarded.delete(f"/api/notices/{notice_id}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_token_guard_keeps_only_a_digest() -> None:
    guard = TokenGuard("abc")
    assert "abc" not in repr(vars(guard))
    guard.check("Bearer abc")
    guard.check("bearer abc")
    for header in (None, "", "Bearer", "Bearer abcd", "Basic abc", "abc"):
        with pytest.raises(Unauthorized):
            guard.check(header)
    TokenGuard(None).check(None)


# --- errors -------------------------------------------------------------------------------------


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and _error(missing)["code"] == "http_404"
    wrong = client.put("/api/ask", json={})
    assert wrong.status_code == 405
    _error(wrong)


def test_unexpected_errors_are_500_without_traceback(loaded_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.store import Store

    def boom(self: Store) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(Store, "summaries", boom)
    with TestClient(create_app(_settings(loaded_index)), raise_server_exceptions=False) as c:
        response = c.get("/api/notices")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "secret" not in response.text and "RuntimeError" not in response.text


# --- draft --------------------------------------------------------------------------------------

NOTES = sorted(p for p in (SAMPLES / "notes").iterdir() if p.name != "README.md")


def test_draft_from_text_and_docx_download(client: TestClient) -> None:
    notes = next(p for p in NOTES if p.suffix == ".txt")
    response = client.post("/api/draft", data={"notes": notes.read_text(encoding="utf-8")})
    assert response.status_code == 200, response.text
    data = response.json()
    assert {"document", "trace", "warnings", "markdown", "draft_id", "docx_url"} <= set(data)
    assert data["trace"] and all(entry["lines"] for entry in data["trace"])
    assert data["document"]["doc_type"] == "THÔNG BÁO"

    again = client.get(f"/api/draft/{data['draft_id']}").json()
    assert again["document"] == data["document"]

    download = client.get(data["docx_url"])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "attachment" in download.headers["content-disposition"]
    word = docx.Document(io.BytesIO(download.content))
    text = "\n".join(p.text for p in word.paragraphs)
    assert data["document"]["title"].split()[0] in text
    first_task = data["trace"][0]["text"]
    assert first_task[:40] in text


def test_draft_from_uploaded_docx_notes(client: TestClient) -> None:
    notes = next(p for p in NOTES if p.suffix == ".docx")
    response = client.post(
        "/api/draft",
        files={"file": (notes.name, notes.read_bytes(), "application/octet-stream")},
        data={"group_by": "agency"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["group_by"] == "agency"
    assert response.json()["trace"]


def test_draft_errors(client: TestClient) -> None:
    empty = client.post("/api/draft", data={"notes": "   "})
    assert empty.status_code == 400 and "ghi chép" in _error(empty)["message"]
    wrong = client.post("/api/draft", files={"file": ("notes.exe", b"MZ", "application/octet-stream")})
    assert wrong.status_code in (415, 422)
    _error(wrong)
    bad_group = client.post("/api/draft", data={"notes": "a", "group_by": "nonsense"})
    assert bad_group.status_code == 422
    for draft_id in ("0" * 32, "../../etc/passwd", "not-an-id"):
        missing = client.get(f"/api/draft/{draft_id}/docx")
        assert missing.status_code == 404, draft_id


# --- write lock ---------------------------------------------------------------------------------


def test_write_lock_excludes_other_writers(tmp_path: Path) -> None:
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with write_lock(tmp_path):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(WriteBusy) as caught, write_lock(tmp_path, timeout_s=0.2):
            pass
        assert caught.value.http_status == 503
    finally:
        release.set()
        thread.join()
    with write_lock(tmp_path, timeout_s=0.2):
        assert (tmp_path / ".write.lock").exists()


def test_upload_while_locked_is_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.api.deps as deps

    real = deps.write_lock
    monkeypatch.setattr(deps, "write_lock", lambda index: real(index, timeout_s=0.2))
    with TestClient(create_app(_settings(tmp_path))) as c, write_lock(tmp_path):
        response = _upload(c, [NOTICES[0]])
    assert response.status_code == 503
    assert _error(response)["code"] == "write_busy"


# --- serve --------------------------------------------------------------------------------------


def test_serve_refuses_an_open_address_without_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import typer
    import uvicorn
    from typer.testing import CliRunner

    from assistant.cli_serve import _is_loopback, serve

    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.5")
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "fake")
    monkeypatch.delenv("ASSISTANT_API_TOKEN", raising=False)
    started: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: started.append((host, port)))
    app = typer.Typer()
    app.command()(serve)
    refused = CliRunner().invoke(app, ["--host", "0.0.0.0"])
    assert refused.exit_code == 3 and "mã truy cập" in refused.output and not started
    ok = CliRunner().invoke(app, ["--host", "127.0.0.1", "--port", "8123"])
    assert ok.exit_code == 0, ok.output
    assert started == [("127.0.0.1", 8123)]
