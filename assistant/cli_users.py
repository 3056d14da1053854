"""``assistant users add|list|disable|enable|reset-password`` and ``assistant audit``.

Account changes made here are audited like those made in the page, under the name
``dòng lệnh (<OS user>)``: whoever runs the CLI on the server already owns its data folder.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assistant.accounts import ACCOUNTS_FILE, AccountError, AccountStore, Role
from assistant.audit import (
    ACTION_LABELS,
    AUDIT_FILE,
    IN_API_REQUEST,
    AuditLog,
    task_change_details,
)
from assistant.deadlines import parse_user_date
from assistant.ingest import FileResult, FileStatus
from assistant.settings import Settings
from assistant.tracking import STATUS_CHANGE_HOOKS, StatusChange

out = Console(soft_wrap=True)

users_app = typer.Typer(help="Quản lý tài khoản: thêm, liệt kê, khóa, đặt lại mật khẩu.",
                        no_args_is_help=True)


def _settings() -> Settings:
    from assistant.cli import state

    return state.settings()


def _accounts(settings: Settings) -> AccountStore:
    return AccountStore(settings.index / ACCOUNTS_FILE, password_rounds=settings.auth.password_rounds)


def _cli_task_change(change: StatusChange) -> None:
    """``assistant tasks set``: audited under the OS user (the API audits its own changes)."""
    if not IN_API_REQUEST.get():
        _audit(_settings(), "task_status", change.task_id, **task_change_details(change))


def audit_ingest(settings: Settings, results: list[FileResult]) -> None:
    """``assistant ingest``: one row per notice added or replaced."""
    for result in results:
        if result.status in (FileStatus.ADDED, FileStatus.REPLACED) and result.notice_id:
            _audit(settings, "ingest", result.notice_id, source=result.source,
                   status=result.status.value)


def _audit(settings: Settings, action: str, target: str, **details: Any) -> None:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        who = "?"
    AuditLog(settings.index / AUDIT_FILE).record(
        action, user=f"dòng lệnh ({who})", target=target, address="cli", details=details
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise AccountError("Không đọc được mật khẩu từ stdin (dòng đầu tiên trống).")
        return password
    typed: str = typer.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu")
    return typed


def add(
    name: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    role: Annotated[Role, typer.Option("--role", help="nguoi-xem, chuyen-vien hoặc quan-tri.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Đọc mật khẩu từ dòng đầu của stdin.")] = False,
) -> None:
    """Thêm tài khoản."""
    settings = _settings()
    user = _accounts(settings).add(name, role, _read_password(password_stdin))
    _audit(settings, "user_add", user.name, role_given=user.role.value)
    out.print(f"Đã tạo tài khoản [bold]{escape(user.name)}[/bold] ({user.role.label}).",
              highlight=False)


def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Liệt kê tài khoản."""
    users = _accounts(_settings()).users()
    if as_json:
        sys.stdout.write(json.dumps({"items": [u.to_json() for u in users]}, ensure_ascii=False,
                                    indent=2) + "\n")
        return
    if not users:
        out.print("Chưa có tài khoản nào (máy chủ chạy không cần đăng nhập trên 127.0.0.1).")
        return
    table = Table("Tên", "Vai trò", "Trạng thái", "Tạo lúc")
    for user in users:
        table.add_row(escape(user.name), user.role.label,
                      "đang dùng" if user.active else "đã khóa", user.created_at)
    out.print(table)


def disable(name: Annotated[str, typer.Argument(help="Tên đăng nhập.")]) -> None:
    """Khóa tài khoản (đăng xuất mọi phiên; mã truy cập của nó ngừng hoạt động)."""
    settings = _settings()
    user = _accounts(settings).set_active(name, False)
    _audit(settings, "user_disable", user.name)
    out.print(f"Đã khóa tài khoản {escape(user.name)}.", highlight=False)


def enable(name: Annotated[str, typer.Argument(help="Tên đăng nhập.")]) -> None:
    """Mở lại tài khoản đã khóa."""
    settings = _settings()
    user = _accounts(settings).set_active(name, True)
    _audit(settings, "user_enable", user.name)
    out.print(f"Đã mở lại tài khoản {escape(user.name)}.", highlight=False)


def reset_password(
    name: Annotated[str, typer.Argument(help="Tên đăng nhập.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Đọc mật khẩu từ dòng đầu của stdin.")] = False,
) -> None:
    """Đặt lại mật khẩu (mở khóa nếu đang tạm khóa, đăng xuất mọi phiên)."""
    settings = _settings()
    user = _accounts(settings).reset_password(name, _read_password(password_stdin))
    _audit(settings, "password_reset", user.name)
    out.print(f"Đã đặt lại mật khẩu cho {escape(user.name)}.", highlight=False)


def audit(
    since: Annotated[str | None, typer.Option("--since", help="Từ ngày (31/01/2024, 2024-01-31).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Số dòng tối đa.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Nhật ký thao tác: ai đã nạp, xóa, soạn, đăng nhập… (mới nhất trước)."""
    settings = _settings()
    start = parse_user_date(since) if since else None
    moment = dt.datetime.combine(start, dt.time(), dt.UTC) if start else None
    entries = AuditLog(settings.index / AUDIT_FILE).entries(since=moment, limit=limit)
    if as_json:
        sys.stdout.write(json.dumps({"items": [e.to_json() for e in entries]},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    if not entries:
        out.print("Nhật ký trống.")
        return
    table = Table("Lúc", "Ai", "Việc", "Đối tượng", "Từ", "Chi tiết")
    for entry in entries:
        details = ", ".join(f"{k}={v}" for k, v in entry.details.items() if v is not None)
        table.add_row(entry.at, escape(entry.user), ACTION_LABELS.get(entry.action, entry.action),
                      escape(entry.target or ""), escape(entry.address or ""), escape(details))
    out.print(table)


def register(app: typer.Typer, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Add ``users`` and ``audit`` to the CLI, each command behind ``wrap`` (``user_errors``)."""
    users_app.command(name="add")(wrap(add))
    users_app.command(name="list")(wrap(list_users))
    users_app.command(name="disable")(wrap(disable))
    users_app.command(name="enable")(wrap(enable))
    users_app.command(name="reset-password")(wrap(reset_password))
    app.add_typer(users_app, name="users")
    app.command(name="audit")(wrap(audit))
    if _cli_task_change not in STATUS_CHANGE_HOOKS:
        STATUS_CHANGE_HOOKS.append(_cli_task_change)
