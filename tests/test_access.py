"""Role × endpoint, through the real HTTP server: generated from THE access table
(``assistant/api/access.py``). Every route of the app must have a row there, and every row a
request example here, so a new endpoint without a rule (or without a check) fails this file.

Each caller (nobody, người xem, chuyên viên, quản trị, the machine token, a chuyên viên's
personal token) calls each endpoint with a valid request: allowed -> 2xx; refused -> 401 when
nobody is signed in, 403 when the role is too low, and then the write did not happen."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from assistant.accounts import Role
from assistant.api import create_app
from assistant.api.access import ACCESS, PUBLIC, PUBLIC_MOUNTS, api_routes
from tests._auth_helpers import CALLERS, NAMES, Caller, Site, auth_settings, served_site

_serial = itertools.count(1)
# Our own short meeting notes (a draft needs the meeting's date and chair).
NOTES = (
    "GHI CHÉP CUỘC HỌP UBND XÃ KIỂM THỬ QUYỀN\n"
    "Thời gian: 8h00 ngày 03/4/2024. Địa điểm: hội trường UBND xã.\n"
    "Chủ trì: đ/c Lê Văn Thử - Chủ tịch UBND xã.\n\n"
    "Kết luận, giao việc:\n"
    "- Phòng Kinh tế: rà soát sổ sách, báo cáo trước 30/4/2024.\n"
)

Request = dict[str, Any]  # method, path, and httpx keyword arguments
Example = Callable[[Site, Caller], Request]


def _plain(method: str, path: str, **kwargs: Any) -> Example:
    return lambda site, caller: {"method": method, "path": path, **kwargs}


def _draft_id(site: Site) -> str:
    if not hasattr(site, "draft_id"):
        response = httpx.post(f"{site.url}/api/draft", headers=site.as_machine(), timeout=60,
                              data={"notes": NOTES})
        assert response.status_code == 200, response.text
        site.draft_id = response.json()["draft_id"]  # type: ignore[attr-defined]
    draft_id: str = site.draft_id  # type: ignore[attr-defined]
    return draft_id


def _progress_id(site: Site) -> str:
    """An upload's progress id, the upload done (its progress is kept a while)."""
    if not hasattr(site, "progress_id"):
        from tests._auth_helpers import fictional_notice

        response = httpx.post(f"{site.url}/api/notices", headers=site.as_machine(), timeout=60,
                              data={"progress_id": "kiem-thu-tien-do-1"},
                              files=[("files", ("tien-do.txt", fictional_notice("td").encode(), "text/plain"))])
        assert response.status_code == 200, response.text
        site.progress_id = "kiem-thu-tien-do-1"  # type: ignore[attr-defined]
    progress_id: str = site.progress_id  # type: ignore[attr-defined]
    return progress_id


def _task_id(site: Site) -> str:
    response = httpx.get(f"{site.url}/api/tasks", headers=site.as_machine())
    assert response.status_code == 200 and response.json()["items"], response.text
    task_id: str = response.json()["items"][0]["task_id"]
    return task_id


def _throwaway_user(site: Site) -> str:
    name = f"tam-{next(_serial)}"
    site.accounts.add(name, Role.VIEWER, "mat-khau-tam-thoi")
    return name


def _own_token_id(site: Site, caller: Caller) -> int:
    """A token the caller may revoke: its own, or (quản trị, machine, nobody) a chuyên viên's."""
    owner = caller.user if caller.user and caller.role is not Role.ADMIN else NAMES[Role.OFFICER]
    token, _ = site.accounts.create_token(site.accounts.get(owner), "tạm")
    return token.id


def _logout(site: Site, caller: Caller) -> Request:
    # A session of its own: signing out must not end the session the other checks use.
    return {"method": "POST", "path": "/api/logout", "headers": caller.headers(site, fresh_session=True)}


def _upload(site: Site, caller: Caller) -> Request:
    from tests._auth_helpers import fictional_notice

    text = fictional_notice(f"u{next(_serial)}")
    return {"method": "POST", "path": "/api/notices",
            "files": [("files", (f"tai-len-{next(_serial)}.txt", text.encode(), "text/plain"))]}


# One valid request per row of the access table.
EXAMPLES: dict[tuple[str, str], Example] = {
    ("GET", "/"): _plain("GET", "/"),
    ("GET", "/docs"): _plain("GET", "/docs"),
    ("GET", "/api/session"): _plain("GET", "/api/session"),
    ("POST", "/api/login"): _plain("POST", "/api/login", json={
        "username": NAMES[Role.VIEWER], "password": "xem-mat-khau-1"}),
    ("POST", "/api/logout"): _logout,
    ("POST", "/api/setup"): _plain("POST", "/api/setup", json={
        "username": "thu-tao-lan-dau", "password": "mat-khau-dau-tien"}),
    ("GET", "/health"): _plain("GET", "/health"),
    ("POST", "/api/ask"): _plain("POST", "/api/ask", json={"question": "Phòng Kinh tế được giao việc gì?"}),
    ("POST", "/api/ask/stream"): _plain("POST", "/api/ask/stream", json={"question": "Ai chủ trì cuộc họp?"}),
    ("GET", "/api/ask/{conversation_id}"): _plain("GET", "/api/ask/kiemthu01"),
    ("GET", "/api/assignments"): _plain("GET", "/api/assignments", params={"agency": "Phòng Kinh tế"}),
    ("GET", "/api/deadlines"): _plain("GET", "/api/deadlines"),
    ("GET", "/api/agencies"): _plain("GET", "/api/agencies"),
    ("GET", "/api/notices"): _plain("GET", "/api/notices"),
    ("GET", "/api/notices/{notice_id}"): lambda site, caller: {
        "method": "GET", "path": f"/api/notices/{site.notice_id}"},  # type: ignore[attr-defined]
    ("GET", "/api/tasks"): _plain("GET", "/api/tasks"),
    ("GET", "/api/tasks/carry-report"): _plain("GET", "/api/tasks/carry-report"),
    ("GET", "/api/tasks/export"): _plain("GET", "/api/tasks/export", params={"format": "csv"}),
    ("GET", "/api/tasks/report"): _plain("GET", "/api/tasks/report", params={"from": "2024-01-01", "to": "2024-12-31"}),
    ("GET", "/api/tasks/{task_id}"): lambda site, caller: {
        "method": "GET", "path": f"/api/tasks/{_task_id(site)}"},
    ("GET", "/api/tasks/{task_id}/history"): lambda site, caller: {
        "method": "GET", "path": f"/api/tasks/{_task_id(site)}/history"},
    ("POST", "/api/tasks/{task_id}/status"): lambda site, caller: {
        "method": "POST", "path": f"/api/tasks/{_task_id(site)}/status",
        "json": {"status": "đang thực hiện"}},
    ("GET", "/api/tokens"): _plain("GET", "/api/tokens"),
    ("POST", "/api/tokens"): _plain("POST", "/api/tokens", json={"name": "kịch bản"}),
    ("DELETE", "/api/tokens/{token_id}"): lambda site, caller: {
        "method": "DELETE", "path": f"/api/tokens/{_own_token_id(site, caller)}"},
    ("POST", "/api/notices"): _upload,
    ("GET", "/api/uploads/{progress_id}"): lambda site, caller: {
        "method": "GET", "path": f"/api/uploads/{_progress_id(site)}"},
    ("POST", "/api/draft"): _plain("POST", "/api/draft", data={"notes": NOTES}),
    ("GET", "/api/draft/{draft_id}"): lambda site, caller: {
        "method": "GET", "path": f"/api/draft/{_draft_id(site)}"},
    ("GET", "/api/draft/{draft_id}/docx"): lambda site, caller: {
        "method": "GET", "path": f"/api/draft/{_draft_id(site)}/docx"},
    ("PUT", "/api/draft/{draft_id}"): lambda site, caller: {
        "method": "PUT", "path": f"/api/draft/{_draft_id(site)}",
        "json": {"issuer": "UBND xã Kiểm Thử", "meeting_date": "2024-04-03"}},
    ("GET", "/api/draft-agencies"): _plain("GET", "/api/draft-agencies"),
    ("GET", "/api/office-profile"): _plain("GET", "/api/office-profile"),
    ("PUT", "/api/office-profile"): _plain("PUT", "/api/office-profile", json={"issuer": "UBND xã Kiểm Thử"}),
    ("DELETE", "/api/notices/{notice_id}"): lambda site, caller: {
        "method": "DELETE", "path": f"/api/notices/{site.fresh_notice()}"},
    ("GET", "/api/users"): _plain("GET", "/api/users"),
    ("POST", "/api/users"): lambda site, caller: {"method": "POST", "path": "/api/users", "json": {
        "username": f"moi-{next(_serial)}", "password": "mat-khau-moi-1", "role": "nguoi-xem"}},
    ("POST", "/api/users/{name}/disable"): lambda site, caller: {
        "method": "POST", "path": f"/api/users/{_throwaway_user(site)}/disable"},
    ("POST", "/api/users/{name}/enable"): lambda site, caller: {
        "method": "POST", "path": f"/api/users/{_throwaway_user(site)}/enable"},
    ("POST", "/api/users/{name}/password"): lambda site, caller: {
        "method": "POST", "path": f"/api/users/{_throwaway_user(site)}/password",
        "json": {"password": "mat-khau-dat-lai"}},
    ("GET", "/api/audit"): _plain("GET", "/api/audit"),
}

# Allowed, yet not a 2xx, for a reason of its own (the status expected instead).
NOT_2XX = {
    # The first-run form works only while no account exists (tested in test_accounts.py).
    ("POST", "/api/setup"): 400,
}


def _allowed_status(key: tuple[str, str], caller: Caller) -> int | None:
    if key == ("POST", "/api/tokens") and caller.name == "machine":
        return 400  # personal tokens belong to an account; the machine token is none
    return NOT_2XX.get(key)


def test_every_route_has_exactly_one_rule_and_an_example(tmp_path: Path) -> None:
    app = create_app(auth_settings(tmp_path))
    routes = api_routes(app.routes)
    for route in app.routes:
        if isinstance(route, Mount | Route) and not isinstance(route, APIRoute):
            assert route.path in PUBLIC_MOUNTS, f"{route.path}: served outside the access table"
    missing = sorted(routes - set(ACCESS))
    assert not missing, f"routes without an access rule (add them to assistant/api/access.py): {missing}"
    stale = sorted(set(ACCESS) - routes)
    assert not stale, f"access rules for routes that do not exist: {stale}"
    assert not sorted(set(ACCESS) - set(EXAMPLES)), "add a request example for each new rule"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_site(tmp_path_factory.mktemp("access")) as site:
        site.notice_id = site.fresh_notice()  # type: ignore[attr-defined]
        yield site


def _notice_count(site: Site) -> int:
    count: int = httpx.get(f"{site.url}/api/notices", headers=site.as_machine()).json()["count"]
    return count


@pytest.mark.parametrize("key", sorted(ACCESS), ids=lambda key: f"{key[0]} {key[1]}")
def test_role_by_endpoint(site: Site, key: tuple[str, str]) -> None:
    rule = ACCESS[key]
    outcomes = {}
    for caller in CALLERS:
        request = EXAMPLES[key](site, caller)
        headers = {**request.pop("headers", caller.headers(site))}
        method, path = request.pop("method"), request.pop("path")
        before = _notice_count(site)
        response = httpx.request(method, f"{site.url}{path}", headers=headers, timeout=120,
                                 **request)
        allowed = rule == PUBLIC or (caller.role is not None and caller.role.allows(rule))
        outcomes[caller.name] = response.status_code
        if allowed:
            expected = _allowed_status(key, caller)
            if expected is None:
                assert 200 <= response.status_code < 300, (caller.name, response.text[:300])
            else:
                assert response.status_code == expected, (caller.name, response.text[:300])
        else:
            assert response.status_code == (401 if caller.role is None else 403), (
                caller.name, response.status_code, response.text[:300])
            assert response.json()["error"]["message"]
            assert _notice_count(site) == before, f"{caller.name}: a refused request wrote"
    print(key, outcomes)


def test_reliability_doc_lists_the_access_table() -> None:
    """docs/RELIABILITY.md's access table says what ``ACCESS`` says (docs that cannot drift)."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    labels = {PUBLIC: "public", **{role: role.label for role in Role}}
    documented: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[1] in labels.values():
            for endpoint in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) ([^`]+)`", cells[0]):
                documented[endpoint] = cells[1]
    assert documented == {key: labels[rule] for key, rule in ACCESS.items()}
