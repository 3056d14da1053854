"""Shared pieces of the access tests: a served app with one account per role, our own
fictional notices, and the principals a request can come from."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assistant.accounts import ACCOUNTS_FILE, AccountStore, Role
from assistant.api.testing import running_server
from assistant.settings import Settings

MACHINE_TOKEN = "machine-token-for-tests-7f3a"
PASSWORDS = {
    Role.VIEWER: "xem-mat-khau-1",
    Role.OFFICER: "chuyen-vien-mk-2",
    Role.ADMIN: "quan-tri-mk-3",
}
NAMES = {Role.VIEWER: "lanh-dao", Role.OFFICER: "chuyen-vien", Role.ADMIN: "quan-tri"}
_serial = itertools.count(1)


def fictional_notice(marker: str) -> str:
    """Our own short notice; ``marker`` makes its content (and so its id) unique."""
    return f"""UBND XÃ KIỂM THỬ QUYỀN

THÔNG BÁO
Kết luận của Chủ tịch UBND xã tại cuộc họp kiểm thử phân quyền số {marker}

Ngày 03/04/2024, UBND xã họp kiểm thử phân quyền lần {marker}.

II. NHIỆM VỤ
1. Phòng Kinh tế chủ trì rà soát sổ sách đợt {marker} trước ngày 30/04/2024.
"""


def auth_settings(index: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {"index": index, "embedding": {"backend": "fake"},
                              "api_token": MACHINE_TOKEN, "server": {"rate_limit_per_minute": 0},
                              "auth": {"password_rounds": 4}}
    values.update(extra)
    return Settings(**values)


@dataclass
class Site:
    url: str
    settings: Settings
    accounts: AccountStore
    sessions: dict[Role, str] = field(default_factory=dict)
    personal_token: str = ""  # a chuyên viên's personal API token

    def login(self, role: Role) -> str:
        """A new session cookie value for the role's account, through POST /api/login."""
        response = httpx.post(f"{self.url}/api/login",
                              json={"username": NAMES[role], "password": PASSWORDS[role]})
        assert response.status_code == 200, response.text
        return response.cookies["assistant_session"]

    def as_machine(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {MACHINE_TOKEN}"}

    def upload(self, text: str, name: str | None = None) -> str:
        name = name or f"kiem-thu-{next(_serial)}.txt"
        response = httpx.post(f"{self.url}/api/notices", headers=self.as_machine(),
                              files=[("files", (name, text.encode(), "text/plain"))], timeout=60)
        assert response.status_code == 200, response.text
        result = response.json()["results"][0]
        assert result["status"] in ("added", "replaced"), result
        notice_id: str = result["notice_id"]
        return notice_id

    def fresh_notice(self) -> str:
        return self.upload(fictional_notice(f"{next(_serial)}"))


@contextmanager
def served_site(index: Path, **extra: Any) -> Iterator[Site]:
    settings = auth_settings(index, **extra)
    accounts = AccountStore(index / ACCOUNTS_FILE, password_rounds=4)
    for role in Role:
        accounts.add(NAMES[role], role, PASSWORDS[role])
    with running_server(settings) as url:
        site = Site(url, settings, accounts)
        site.sessions = {role: site.login(role) for role in Role}
        officer = accounts.get(NAMES[Role.OFFICER])
        _, site.personal_token = accounts.create_token(officer, "máy kiểm thử")
        yield site


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: its name in test ids, its role (None: nobody signed in)."""

    name: str
    role: Role | None

    def headers(self, site: Site, fresh_session: bool = False) -> dict[str, str]:
        if self.name == "machine":
            return site.as_machine()
        if self.name == "token":
            return {"Authorization": f"Bearer {site.personal_token}"}
        if self.role is None:
            return {}
        session = site.login(self.role) if fresh_session else site.sessions[self.role]
        return {"Cookie": f"assistant_session={session}"}

    @property
    def user(self) -> str | None:
        if self.name == "token":
            return NAMES[Role.OFFICER]
        return NAMES[self.role] if self.role is not None and self.name != "machine" else None


CALLERS = (
    Caller("anonymous", None),
    Caller("nguoi-xem", Role.VIEWER),
    Caller("chuyen-vien", Role.OFFICER),
    Caller("quan-tri", Role.ADMIN),
    Caller("machine", Role.ADMIN),
    Caller("token", Role.OFFICER),  # a chuyên viên's personal API token
)
