"""Accounts, sign-in, modes, tokens, the audit log, CSRF and the Host allow-list, through the
real HTTP server (uvicorn on loopback) and the real CLI."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.accounts import ACCOUNTS_FILE, AccountStore, Role
from assistant.api.testing import running_server
from assistant.audit import AUDIT_FILE, AuditLog
from assistant.settings import Settings
from tests._auth_helpers import (
    MACHINE_TOKEN,
    NAMES,
    PASSWORDS,
    Site,
    auth_settings,
    fictional_notice,
    served_site,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_site(tmp_path_factory.mktemp("accounts")) as site:
        yield site


def _cookie_header(response: httpx.Response) -> str:
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie")


def _audit(site: Site) -> list[dict[str, object]]:
    response = httpx.get(f"{site.url}/api/audit", headers=site.as_machine())
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


# --- sign-in ------------------------------------------------------------------------------


def test_login_sets_an_httponly_samesite_cookie_and_returns_the_role(site: Site) -> None:
    response = httpx.post(f"{site.url}/api/login",
                          json={"username": NAMES[Role.OFFICER], "password": PASSWORDS[Role.OFFICER]})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == NAMES[Role.OFFICER] and body["role"] == "chuyen-vien"
    assert body["user"]["role_label"] == "chuyên viên"
    cookie = _cookie_header(response).lower()
    assert cookie.startswith("assistant_session=") and "httponly" in cookie
    assert "samesite=strict" in cookie and "secure" not in cookie  # plain http on loopback
    session = response.cookies["assistant_session"]
    me = httpx.get(f"{site.url}/api/session", cookies={"assistant_session": session}).json()
    assert me["user"]["name"] == NAMES[Role.OFFICER] and me["login_required"] is False


def test_cookie_is_secure_when_configured_for_https(tmp_path: Path) -> None:
    settings = auth_settings(tmp_path, auth={"password_rounds": 4, "cookie_secure": True})
    AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4).add("an", Role.VIEWER, "mat-khau-an-1")
    with running_server(settings) as url:
        response = httpx.post(f"{url}/api/login", json={"username": "an", "password": "mat-khau-an-1"})
    assert response.status_code == 200 and "secure" in _cookie_header(response).lower()


def test_logout_ends_the_session(site: Site) -> None:
    session = site.login(Role.VIEWER)
    cookies = {"assistant_session": session}
    assert httpx.get(f"{site.url}/api/notices", cookies=cookies).status_code == 200
    out = httpx.post(f"{site.url}/api/logout", cookies=cookies)
    assert out.status_code == 200 and out.json() == {"signed_out": True}
    assert "assistant_session=\"\"" in _cookie_header(out) or "max-age=0" in _cookie_header(out).lower()
    assert httpx.get(f"{site.url}/api/notices", cookies=cookies).status_code == 401
    assert any(e["action"] == "logout" and e["user"] == NAMES[Role.VIEWER] for e in _audit(site))


def test_wrong_password_is_401_in_vietnamese_and_audited(site: Site) -> None:
    response = httpx.post(f"{site.url}/api/login",
                          json={"username": NAMES[Role.VIEWER], "password": "sai-mat-khau"})
    assert response.status_code == 401
    assert "không đúng" in response.json()["error"]["message"]
    unknown = httpx.post(f"{site.url}/api/login", json={"username": "khong-co-ai", "password": "x" * 9})
    assert unknown.status_code == 401 and unknown.json() == response.json()  # same answer
    failed = [e for e in _audit(site) if e["action"] == "login_failed"]
    assert {e["target"] for e in failed} >= {NAMES[Role.VIEWER], "khong-co-ai"}
    assert all(e["address"] == "127.0.0.1" for e in failed)


def test_lockout_after_repeated_failures_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = auth_settings(tmp_path, auth={"password_rounds": 4, "max_failed_logins": 3,
                                             "lockout_minutes": 5})
    AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4).add("binh", Role.OFFICER, "dung-mat-khau")
    caplog.set_level(logging.WARNING)
    with running_server(settings) as url:
        wrong = [httpx.post(f"{url}/api/login", json={"username": "binh", "password": f"sai-{n}"})
                 for n in range(3)]
        right = httpx.post(f"{url}/api/login", json={"username": "binh", "password": "dung-mat-khau"})
    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert right.status_code == 423 and "tạm khóa" in right.json()["error"]["message"]
    assert any("locked" in r.getMessage() and "binh" in r.getMessage() for r in caplog.records)
    actions = [e.action for e in AuditLog(tmp_path / AUDIT_FILE).entries()]
    assert actions.count("login_locked") == 1 and actions.count("login_failed") == 4
    # an administrator's new password unlocks it
    AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4).reset_password("binh", "mat-khau-moi-9")
    with running_server(settings) as url:
        assert httpx.post(f"{url}/api/login", json={"username": "binh", "password": "mat-khau-moi-9"}).status_code == 200


def test_lock_expires(tmp_path: Path) -> None:
    now = [dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)]
    accounts = AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4, clock=lambda: now[0])
    accounts.add("chi", Role.VIEWER, "mat-khau-chi-1")
    lockout = dt.timedelta(minutes=10)
    for _ in range(2):
        assert accounts.check_login("chi", "sai", 2, lockout).failed
    from assistant.accounts import AccountLocked

    with pytest.raises(AccountLocked):
        accounts.check_login("chi", "mat-khau-chi-1", 2, lockout)
    now[0] += dt.timedelta(minutes=11)
    assert accounts.check_login("chi", "mat-khau-chi-1", 2, lockout).user is not None


def test_disabled_account_cannot_sign_in_and_loses_its_sessions(site: Site) -> None:
    site.accounts.add("tam-khoa", Role.VIEWER, "mat-khau-tam-1")
    login = httpx.post(f"{site.url}/api/login", json={"username": "tam-khoa", "password": "mat-khau-tam-1"})
    cookies = {"assistant_session": login.cookies["assistant_session"]}
    admin = {"assistant_session": site.sessions[Role.ADMIN]}
    assert httpx.post(f"{site.url}/api/users/tam-khoa/disable", cookies=admin).status_code == 200
    assert httpx.get(f"{site.url}/api/notices", cookies=cookies).status_code == 401
    again = httpx.post(f"{site.url}/api/login", json={"username": "tam-khoa", "password": "mat-khau-tam-1"})
    assert again.status_code == 401


# --- modes ----------------------------------------------------------------------------------


def test_without_accounts_loopback_needs_no_login_and_the_first_account_locks_it(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path, embedding={"backend": "fake"},
                        server={"rate_limit_per_minute": 0}, auth={"password_rounds": 4})
    with running_server(settings) as url:
        session = httpx.get(f"{url}/api/session").json()
        assert session["accounts"] is False and session["setup_available"] is True
        assert session["role"] == "quan-tri"  # as before accounts: the local clerk does everything
        upload = httpx.post(f"{url}/api/notices", files=[
            ("files", ("mot.txt", fictional_notice("m1").encode(), "text/plain"))])
        assert upload.status_code == 200 and upload.json()["stored"] == 1
        first = httpx.post(f"{url}/api/setup", json={"username": "an", "password": "mat-khau-an-1"})
        assert first.status_code == 200 and first.json()["role"] == "quan-tri"
        assert "httponly" in _cookie_header(first).lower()
        # from now on every request needs a user or a token, on loopback too
        assert httpx.get(f"{url}/api/notices").status_code == 401
        assert httpx.get(f"{url}/health").status_code == 401
        assert httpx.get(f"{url}/").status_code == 200  # the page, to sign in
        assert httpx.get(f"{url}/api/session").json()["login_required"] is True
        second = httpx.post(f"{url}/api/setup", json={"username": "binh", "password": "mat-khau-binh"})
        assert second.status_code == 400
        cookies = {"assistant_session": first.cookies["assistant_session"]}
        assert httpx.get(f"{url}/api/notices", cookies=cookies).json()["count"] == 1
    entries = AuditLog(tmp_path / AUDIT_FILE).entries()
    assert [e.action for e in entries] == ["user_add", "upload"]
    assert entries[0].details["first_run"] is True


def test_first_run_form_refuses_a_client_that_is_not_loopback(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    settings = Settings(index=tmp_path, embedding={"backend": "fake"}, auth={"password_rounds": 4})
    # TestClient's client address is 'testclient': not a loopback address.
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/session").json()["setup_available"] is False
        refused = client.post("/api/setup", json={"username": "an", "password": "mat-khau-an-1"})
    assert refused.status_code == 403 and "127.0.0.1" in refused.json()["error"]["message"]
    assert not AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4).has_users()


def test_serve_on_a_network_address_needs_an_admin_or_the_machine_token(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import typer
    import uvicorn
    from typer.testing import CliRunner

    from assistant.cli_serve import serve

    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "fake")
    monkeypatch.delenv("ASSISTANT_API_TOKEN", raising=False)
    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: started.append(host))
    app = typer.Typer()
    app.command()(serve)
    accounts = AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4)
    accounts.add("xem", Role.VIEWER, "mat-khau-xem-1")
    refused = CliRunner().invoke(app, ["--host", "0.0.0.0"])
    assert refused.exit_code == 3 and "quản trị" in refused.output and not started
    accounts.add("quantri", Role.ADMIN, "mat-khau-qt-1")
    assert CliRunner().invoke(app, ["--host", "0.0.0.0"]).exit_code == 0
    accounts.set_active("quantri", False)  # a disabled admin does not count
    assert CliRunner().invoke(app, ["--host", "0.0.0.0"]).exit_code == 3
    monkeypatch.setenv("ASSISTANT_API_TOKEN", "mot-ma-may")
    assert CliRunner().invoke(app, ["--host", "0.0.0.0"]).exit_code == 0
    assert started == ["0.0.0.0", "0.0.0.0"]


# --- personal tokens ------------------------------------------------------------------------


def test_personal_token_has_its_owners_role_is_stored_hashed_and_can_be_revoked(site: Site) -> None:
    cookies = {"assistant_session": site.sessions[Role.VIEWER]}
    created = httpx.post(f"{site.url}/api/tokens", json={"name": "bảng tin"}, cookies=cookies)
    assert created.status_code == 200
    secret = created.json()["token"]
    auth = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{site.url}/api/notices", headers=auth).status_code == 200
    upload = httpx.post(f"{site.url}/api/notices", headers=auth, files=[
        ("files", ("x.txt", fictional_notice("tok").encode(), "text/plain"))])
    assert upload.status_code == 403  # a người xem's token reads only
    listed = httpx.get(f"{site.url}/api/tokens", cookies=cookies).json()["items"]
    assert [t["name"] for t in listed] == ["bảng tin"] and "token" not in listed[0]
    assert secret.encode() not in (site.settings.index / ACCOUNTS_FILE).read_bytes()
    revoked = httpx.delete(f"{site.url}/api/tokens/{created.json()['id']}", cookies=cookies)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert httpx.get(f"{site.url}/api/notices", headers=auth).status_code == 401


def test_a_user_cannot_revoke_anothers_token(site: Site) -> None:
    officer = site.accounts.get(NAMES[Role.OFFICER])
    token, _ = site.accounts.create_token(officer, "của chuyên viên")
    viewer = {"assistant_session": site.sessions[Role.VIEWER]}
    assert httpx.delete(f"{site.url}/api/tokens/{token.id}", cookies=viewer).status_code == 404


# --- audit ----------------------------------------------------------------------------------


def test_delete_is_audited_with_id_source_and_hash(site: Site) -> None:
    notice_id = site.upload(fictional_notice("xoa-1"), name="se-bi-xoa.txt")
    admin = {"assistant_session": site.sessions[Role.ADMIN]}
    assert httpx.delete(f"{site.url}/api/notices/{notice_id}", cookies=admin).status_code == 200
    entry = next(e for e in _audit(site) if e["action"] == "delete" and e["target"] == notice_id)
    assert entry["user"] == NAMES[Role.ADMIN] and entry["role"] == "quan-tri"
    details = entry["details"]
    assert isinstance(details, dict)
    assert details["source"] == "uploads/se-bi-xoa.txt" and len(details["sha256"]) == 64
    upload = next(e for e in _audit(site) if e["action"] == "upload" and e["target"] == notice_id)
    assert upload["user"] == "mã máy"


def test_audit_log_is_append_only(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / AUDIT_FILE)
    log.record("delete", user="an", target="abc", details={"source": "a.txt"})
    db = sqlite3.connect(tmp_path / AUDIT_FILE)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET user = 'khac'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()
    assert [e.user for e in log.entries()] == ["an"]


def test_audit_since_filters_by_day(site: Site) -> None:
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    response = httpx.get(f"{site.url}/api/audit", params={"since": tomorrow}, headers=site.as_machine())
    assert response.status_code == 200 and response.json()["items"] == []
    bad = httpx.get(f"{site.url}/api/audit", params={"since": "hôm qua"}, headers=site.as_machine())
    assert bad.status_code == 400 and "Không hiểu ngày" in bad.json()["error"]["message"]


def _cli(index: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_INDEX": str(index),
           "ASSISTANT_EMBEDDING_BACKEND": "fake",
           "ASSISTANT_AUTH_PASSWORD_ROUNDS": "4", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_users_and_audit(tmp_path: Path) -> None:
    added = _cli(tmp_path, "users", "add", "Lan", "--role", "chuyen-vien", "--password-stdin",
                 stdin="mat-khau-lan-1\n")
    assert added.returncode == 0 and "Lan" in added.stdout and "chuyên viên" in added.stdout
    short = _cli(tmp_path, "users", "add", "ngan", "--role", "nguoi-xem", "--password-stdin", stdin="abc\n")
    assert short.returncode == 1 and "ít nhất 8 ký tự" in short.stderr
    twice = _cli(tmp_path, "users", "add", "lan", "--role", "nguoi-xem", "--password-stdin",
                 stdin="mat-khau-lan-2\n")
    assert twice.returncode == 1 and "đã có" in twice.stderr  # names are case-insensitive
    listed = _cli(tmp_path, "users", "list", "--json")
    assert '"role": "chuyen-vien"' in listed.stdout
    assert _cli(tmp_path, "users", "disable", "Lan").returncode == 0
    assert _cli(tmp_path, "users", "reset-password", "Lan", "--password-stdin",
                stdin="mat-khau-moi-lan\n").returncode == 0
    missing = _cli(tmp_path, "users", "disable", "khong-co")
    assert missing.returncode == 2 and "Không có tài khoản" in missing.stderr
    accounts = AccountStore(tmp_path / ACCOUNTS_FILE, password_rounds=4)
    assert accounts.get("lan").active is False
    assert accounts.check_login("Lan", "mat-khau-moi-lan", 5, dt.timedelta(minutes=1)).failed  # disabled
    audit = _cli(tmp_path, "audit", "--json")
    assert audit.returncode == 0
    import json

    actions = [item["action"] for item in json.loads(audit.stdout)["items"]]
    assert actions == ["password_reset", "user_disable", "user_add"]
    for secret in ("mat-khau-lan-1", "mat-khau-moi-lan", "$2b$"):
        assert secret not in audit.stdout and secret not in listed.stdout
    table = _cli(tmp_path, "audit", "--since", "2000-01-01")
    assert table.returncode == 0 and "tạo tài khoản" in table.stdout


# --- secrets never leak ---------------------------------------------------------------------


def test_no_password_hash_or_token_in_logs_or_error_bodies(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    with served_site(tmp_path, auth={"password_rounds": 4, "max_failed_logins": 2}) as site:
        admin = {"assistant_session": site.sessions[Role.ADMIN]}
        requests = [
            # two wrong passwords lock the account: a warning is logged
            ("POST", "/api/login", {"json": {"username": NAMES[Role.OFFICER], "password": PASSWORDS[Role.ADMIN]}}),
            ("POST", "/api/login", {"json": {"username": NAMES[Role.OFFICER], "password": PASSWORDS[Role.VIEWER]}}),
            ("POST", "/api/login", {"json": {"username": NAMES[Role.OFFICER], "password": PASSWORDS[Role.OFFICER]}}),
            ("POST", "/api/login", {"json": {"username": NAMES[Role.ADMIN], "password": "sai-" + PASSWORDS[Role.ADMIN]}}),
            ("POST", "/api/login", {"json": {"username": NAMES[Role.ADMIN], "password": PASSWORDS[Role.ADMIN] * 20}}),
            ("POST", "/api/users", {"json": {"username": "moi", "password": "ngan", "role": "nguoi-xem"}, "cookies": admin}),
            ("POST", "/api/users", {"json": {"username": "moi", "password": "x" * 300, "role": "nguoi-xem"}, "cookies": admin}),
            ("POST", "/api/users/khong-co/password", {"json": {"password": "mat-khau-bi-mat"}, "cookies": admin}),
            ("GET", "/api/notices", {"headers": {"Authorization": f"Bearer {MACHINE_TOKEN}x"}}),
            ("GET", "/api/notices", {"headers": {"Authorization": f"Bearer {site.personal_token}x"}}),
            ("GET", "/api/notices", {"cookies": {"assistant_session": site.sessions[Role.VIEWER] + "x"}}),
            ("POST", "/api/notices", {"headers": {"Authorization": f"Bearer {site.personal_token}"},
                                      "files": [("files", ("../..", b"", "text/plain"))]}),
        ]
        for method, path, kwargs in requests:
            response = httpx.request(method, f"{site.url}{path}", **kwargs)  # type: ignore[arg-type]
            assert response.status_code < 500, (path, response.text)
            bodies.append(response.text)
        audit_text = httpx.get(f"{site.url}/api/audit", cookies=admin).text
        db_hashes = [row[0] for row in sqlite3.connect(site.settings.index / ACCOUNTS_FILE)
                     .execute("SELECT password_hash FROM users")]
        secrets = [*PASSWORDS.values(), MACHINE_TOKEN, site.personal_token, "mat-khau-bi-mat",
                   *site.sessions.values(), *db_hashes]
    # The service's own records (the test's HTTP client logs the cookies it receives at DEBUG).
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records
                       if not r.name.startswith(("httpx", "httpcore")))
    assert logged, "nothing was logged: the check would prove nothing"
    for secret in secrets:
        for where, text in (("log", logged), ("audit", audit_text), *(("body", b) for b in bodies)):
            assert secret not in text, f"a secret appears in {where}"
    assert "$2b$" not in logged + audit_text + "".join(bodies)


# --- CSRF and DNS rebinding (issue 18 §5) ---------------------------------------------------


def test_a_write_from_another_site_is_refused_even_without_accounts(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path, embedding={"backend": "fake"}, server={"rate_limit_per_minute": 0})
    files = [("files", ("gia-mao.txt", fictional_notice("csrf").encode(), "text/plain"))]
    with running_server(settings) as url:
        # What a browser sends for a no-cors multipart fetch from another page.
        for headers in ({"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
                        {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},
                        {"Origin": "http://evil.example"},
                        {"Origin": "null"},
                        {"Referer": "http://evil.example/page.html"}):
            forged = httpx.post(f"{url}/api/notices", files=files, headers=headers)
            assert forged.status_code == 403, headers
            assert forged.json()["error"]["code"] == "cross_origin"
        assert httpx.get(f"{url}/api/notices").json()["count"] == 0
        # the page itself, and scripts (no browser headers), still write
        own = httpx.post(f"{url}/api/notices", files=files,
                         headers={"Origin": url, "Sec-Fetch-Site": "same-origin"})
        assert own.status_code == 200 and own.json()["stored"] == 1
        assert httpx.post(f"{url}/api/ask", json={"question": "Phòng Kinh tế làm gì?"},
                          headers={"Referer": f"{url}/#chat"}).status_code == 200
        notice_id = own.json()["results"][0]["notice_id"]
        forged_delete = httpx.delete(f"{url}/api/notices/{notice_id}",
                                     headers={"Origin": "http://evil.example"})
        assert forged_delete.status_code == 403
        assert httpx.delete(f"{url}/api/notices/{notice_id}").status_code == 200


def test_only_allowed_host_names_are_answered(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path, embedding={"backend": "fake"},
                        server={"allowed_hosts": ["localhost", "127.0.0.1", "::1"]})
    with running_server(settings) as url:
        port = url.rsplit(":", 1)[1]
        rebound = httpx.get(f"{url}/api/notices", headers={"Host": f"evil.example:{port}"})
        assert rebound.status_code == 400
        assert rebound.json()["error"]["code"] == "host_not_allowed"
        assert httpx.get(f"{url}/", headers={"Host": "attacker.test"}).status_code == 400
        assert httpx.get(f"{url}/api/notices", headers={"Host": f"localhost:{port}"}).status_code == 200
        assert httpx.get(f"{url}/api/notices").status_code == 200  # 127.0.0.1


def test_default_allowed_hosts_are_loopback_names() -> None:
    assert Settings.model_fields["server"].default_factory is not None
    from assistant.settings import ServerSettings

    assert ServerSettings().allowed_hosts == ["localhost", "127.0.0.1", "::1"]


# --- task status changes (issue 14's tracking) ------------------------------------------------


def test_task_status_changes_are_audited_from_the_cli_and_from_an_api_route(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.api.access import ACCESS
    from assistant.store import Store
    from assistant.tracking import TaskStatus, TaskTracker

    index = tmp_path / "index"
    notice = tmp_path / "thong-bao.txt"
    notice.write_text(fictional_notice("nv"), encoding="utf-8")
    assert _cli(index, "ingest", str(notice)).returncode == 0
    [ingested] = AuditLog(index / AUDIT_FILE).entries(action="ingest")
    assert ingested.details["source"].endswith("thong-bao.txt") and ingested.address == "cli"
    task_id = json.loads(_cli(index, "tasks", "list", "--json").stdout)["items"][0]["task_id"]
    changed = _cli(index, "tasks", "set", task_id, "đang thực hiện", "--by", "Nguyễn Thị Lan")
    assert changed.returncode == 0, changed.stderr
    [by_cli] = AuditLog(index / AUDIT_FILE).entries(action="task_status")
    assert by_cli.target == task_id and by_cli.user.startswith("dòng lệnh")
    assert by_cli.details["from"] == "chua_thuc_hien" and by_cli.details["to"] == "dang_thuc_hien"
    assert by_cli.details["by"] == "Nguyễn Thị Lan"

    # Any route that changes a status is audited under the signed-in user, with no code of its own.
    monkeypatch.setitem(ACCESS, ("POST", "/api/test-task/{task_id}"), Role.OFFICER)
    settings = auth_settings(index)
    AccountStore(index / ACCOUNTS_FILE, password_rounds=4).add("lan", Role.OFFICER, "mat-khau-lan-1")
    app = create_app(settings)

    @app.post("/api/test-task/{task_id}")
    def finish(task_id: str) -> dict[str, str]:
        with Store(settings.db_path) as store, TaskTracker(store) as tracker:
            tracker.set_status(task_id, TaskStatus.DONE, by="Lan")
        return {"ok": task_id}

    with TestClient(app) as client:
        assert client.post(f"/api/test-task/{task_id}").status_code == 401
        client.post("/api/login", json={"username": "lan", "password": "mat-khau-lan-1"})
        assert client.post(f"/api/test-task/{task_id}").status_code == 200
    by_api = AuditLog(index / AUDIT_FILE).entries(action="task_status")[0]
    assert by_api.user == "lan" and by_api.role == "chuyen-vien" and by_api.target == task_id
    assert by_api.details["to"] == "da_hoan_thanh" and by_api.address == "testclient"
