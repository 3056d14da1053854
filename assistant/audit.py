"""The audit log: one append-only row per write (who, what, which notice or task, from where).

Kept in ``<index>/audit.sqlite3``. Triggers refuse UPDATE and DELETE, so no code path of the
product can rewrite history (someone with the file can, of course: copy it off the machine
for stronger guarantees). A deleted notice's row keeps its id, source and content hash, so it
can be found and ingested again.

``record`` is the one call every writer makes (API routes through ``assistant.api.auth``, the
CLI directly); ``details`` must never hold a password, a hash of one or a token.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.tracking import StatusChange

AUDIT_FILE = "audit.sqlite3"

# Every action the product records, with its Vietnamese label for the page and the CLI.
ACTION_LABELS = {
    "upload": "tải lên thông báo",
    "reingest": "nạp lại thông báo",
    "ingest": "nạp thông báo (dòng lệnh)",
    "delete": "xóa thông báo",
    "draft": "soạn dự thảo",
    "draft_edit": "sửa dự thảo",
    "draft_download": "tải dự thảo",
    "office_profile": "sửa hồ sơ cơ quan",
    "task_status": "đổi trạng thái nhiệm vụ",
    "login": "đăng nhập",
    "login_failed": "đăng nhập sai",
    "login_locked": "khóa tài khoản do đăng nhập sai",
    "logout": "đăng xuất",
    "user_add": "tạo tài khoản",
    "user_disable": "khóa tài khoản",
    "user_enable": "mở lại tài khoản",
    "user_role": "đổi vai trò",
    "password_reset": "đặt lại mật khẩu",
    "token_create": "tạo mã truy cập",
    "token_revoke": "thu hồi mã truy cập",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT,
    address TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


# True while the API serves a request: a task status change made inside one is recorded by the
# API's hook (with the signed-in user), not by the command line's (``assistant serve`` has both).
IN_API_REQUEST: ContextVar[bool] = ContextVar("assistant_audit_in_api_request", default=False)


def task_change_details(change: StatusChange) -> dict[str, Any]:
    """What a task status change row keeps: the statuses, the name typed, note and date."""
    after = change.after
    return {"from": change.before.status.value, "to": after.status.value, "by": change.by,
            "note": after.note, "done_date": after.done_date.isoformat() if after.done_date else None,
            "reason": after.reason}


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user: str
    action: str
    target: str | None = None
    role: str | None = None
    address: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "user": self.user, "role": self.role,
                "action": self.action, "action_label": ACTION_LABELS.get(self.action, self.action),
                "target": self.target, "address": self.address, "details": self.details}


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db
        finally:
            db.close()

    def record(self, action: str, *, user: str, role: str | None = None,
               target: str | None = None, address: str | None = None,
               details: Mapping[str, Any] | None = None) -> AuditEntry:
        if action not in ACTION_LABELS:
            raise ValueError(f"unknown audit action {action!r}: add it to ACTION_LABELS")
        at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        data = dict(details or {})
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO audit (at, user, role, action, target, address, details) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at, user, role, action, target, address, json.dumps(data, ensure_ascii=False)),
            )
            entry_id = cursor.lastrowid
        assert entry_id is not None
        return AuditEntry(entry_id, at, user, action, target, role, address, data)

    def entries(self, since: dt.datetime | None = None, limit: int | None = None,
                action: str | None = None) -> list[AuditEntry]:
        """Newest first; ``since`` is inclusive."""
        query, args = "SELECT * FROM audit WHERE 1 = 1", []
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            query += " AND at >= ?"
            args.append(since.astimezone(dt.UTC).isoformat(timespec="milliseconds"))
        if action is not None:
            query += " AND action = ?"
            args.append(action)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += " LIMIT ?"
            args.append(str(limit))
        with self._db() as db:
            rows = db.execute(query, args).fetchall()
        return [AuditEntry(r["id"], r["at"], r["user"], r["action"], r["target"], r["role"],
                           r["address"], json.loads(r["details"])) for r in rows]
