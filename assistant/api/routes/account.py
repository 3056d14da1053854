"""Sign-in, sign-out, the first-run account, personal API tokens, accounts and the audit log."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from assistant.accounts import AccountLocked, LoginRefused, Role
from assistant.api.auth import (
    Audit,
    CurrentPrincipal,
    Principal,
    accounts_exist,
    clear_session_cookie,
    is_loopback_client,
    set_session_cookie,
)
from assistant.api.deps import Context
from assistant.api.security import Forbidden
from assistant.deadlines import parse_user_date
from assistant.errors import AssistantError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["Tài khoản"])

Password = Annotated[str, Field(min_length=1, max_length=200, description="Mật khẩu.")]
UserName = Annotated[str, Field(min_length=1, max_length=64, description="Tên đăng nhập.")]


class Credentials(BaseModel):
    username: UserName
    password: Password


class NewUser(BaseModel):
    username: UserName
    password: Password
    role: Role = Field(description="nguoi-xem, chuyen-vien hoặc quan-tri.")


class NewPassword(BaseModel):
    password: Password


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=80, description="Tên gợi nhớ, vd: 'máy chấm công'.")


class NeedsAccount(AssistantError):
    http_status = 400


def _session_json(context: Context, request: Request, principal: Principal) -> dict[str, Any]:
    with_accounts = accounts_exist(context)
    return {
        "user": principal.to_json() if principal.signed_in else None,
        "role": principal.role.value if principal.role else None,
        "accounts": with_accounts,
        "login_required": with_accounts and not principal.signed_in,
        "token_required": not with_accounts and context.guard.required,
        "setup_available": not with_accounts and is_loopback_client(request),
    }


@router.get("/session", summary="Ai đang đăng nhập, vai trò và chế độ của máy chủ")
def session(context: Context, request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    return _session_json(context, request, principal)


@router.post("/login", summary="Đăng nhập: đặt cookie phiên (HttpOnly, SameSite)")
def login(credentials: Credentials, context: Context, request: Request, response: Response,
          audit: Audit) -> dict[str, Any]:
    settings = context.settings.auth
    try:
        result = context.accounts.check_login(
            credentials.username, credentials.password, settings.max_failed_logins,
            dt.timedelta(minutes=settings.lockout_minutes),
        )
    except AccountLocked:
        audit.record("login_failed", target=credentials.username, reason="locked")
        raise
    if result.failed or result.user is None:
        reason = "unknown_user" if result.user is None else (
            "disabled" if not result.user.active else "wrong_password")
        audit.record("login_failed", target=credentials.username, reason=reason)
        if result.locked_now:
            log.warning("account %r locked after %d failed sign-ins from %s",
                        credentials.username, settings.max_failed_logins, audit.address)
            audit.record("login_locked", target=credentials.username,
                         minutes=settings.lockout_minutes)
        raise LoginRefused("Tên đăng nhập hoặc mật khẩu không đúng (hoặc tài khoản đã bị khóa).")
    user = result.user
    lifetime = dt.timedelta(hours=settings.session_hours)
    token = context.accounts.open_session(user, lifetime)
    set_session_cookie(response, request, token, lifetime, settings.cookie_secure)
    principal = Principal(user.name, user.role, "user", user, token)
    request.state.principal = principal
    audit.principal = principal
    audit.record("login", target=user.name)
    return {**_session_json(context, request, principal), "username": user.name,
            "role": user.role.value}


@router.post("/logout", summary="Đăng xuất")
def logout(context: Context, request: Request, response: Response,
           principal: CurrentPrincipal, audit: Audit) -> dict[str, Any]:
    if principal.session:
        context.accounts.close_session(principal.session)
        audit.record("logout", target=principal.name)
    clear_session_cookie(response, request, context.settings.auth.cookie_secure)
    return {"signed_out": principal.session is not None}


@router.post("/setup", summary="Tạo tài khoản quản trị đầu tiên (chỉ từ chính máy này)")
def setup(credentials: Credentials, context: Context, request: Request, response: Response,
          audit: Audit) -> dict[str, Any]:
    if not is_loopback_client(request):
        raise Forbidden("Chỉ tạo tài khoản đầu tiên được từ chính máy chạy Trợ lý (127.0.0.1).")
    user = context.accounts.add_first_admin(credentials.username, credentials.password)
    audit.record("user_add", target=user.name, role_given=user.role.value, first_run=True)
    lifetime = dt.timedelta(hours=context.settings.auth.session_hours)
    token = context.accounts.open_session(user, lifetime)
    set_session_cookie(response, request, token, lifetime, context.settings.auth.cookie_secure)
    principal = Principal(user.name, user.role, "user", user, token)
    return {**_session_json(context, request, principal), "username": user.name,
            "role": user.role.value}


# --- personal API tokens --------------------------------------------------------------------


def _own_user(principal: Principal) -> Any:
    if principal.user is None:
        raise NeedsAccount("Mã truy cập cá nhân cần đăng nhập bằng một tài khoản.")
    return principal.user


@router.get("/tokens", summary="Mã truy cập cá nhân của tài khoản đang đăng nhập")
def list_tokens(context: Context, principal: CurrentPrincipal) -> dict[str, Any]:
    if principal.user is None:
        return {"items": []}
    return {"items": [t.to_json() for t in context.accounts.tokens(principal.user)]}


@router.post("/tokens", summary="Tạo mã truy cập cá nhân (chỉ hiện một lần)")
def create_token(body: NewToken, context: Context, principal: CurrentPrincipal,
                 audit: Audit) -> dict[str, Any]:
    token, secret = context.accounts.create_token(_own_user(principal), body.name)
    audit.record("token_create", target=token.prefix, name=token.name)
    return {**token.to_json(), "token": secret}


@router.delete("/tokens/{token_id}", summary="Thu hồi một mã truy cập cá nhân")
def revoke_token(token_id: int, context: Context, principal: CurrentPrincipal,
                 audit: Audit) -> dict[str, Any]:
    owner = None if principal.role is Role.ADMIN else _own_user(principal)
    token = context.accounts.revoke_token(token_id, owner)
    audit.record("token_revoke", target=token.prefix, owner=token.user)
    return token.to_json()


# --- accounts (quản trị) --------------------------------------------------------------------


@router.get("/users", summary="Các tài khoản")
def list_users(context: Context) -> dict[str, Any]:
    return {"items": [u.to_json() for u in context.accounts.users()]}


@router.post("/users", summary="Tạo tài khoản")
def add_user(body: NewUser, context: Context, audit: Audit) -> dict[str, Any]:
    user = context.accounts.add(body.username, body.role, body.password)
    audit.record("user_add", target=user.name, role_given=user.role.value)
    return user.to_json()


@router.post("/users/{name}/disable", summary="Khóa tài khoản (đăng xuất mọi phiên)")
def disable_user(name: str, context: Context, audit: Audit) -> dict[str, Any]:
    user = context.accounts.set_active(name, False)
    audit.record("user_disable", target=user.name)
    return user.to_json()


@router.post("/users/{name}/enable", summary="Mở lại tài khoản")
def enable_user(name: str, context: Context, audit: Audit) -> dict[str, Any]:
    user = context.accounts.set_active(name, True)
    audit.record("user_enable", target=user.name)
    return user.to_json()


@router.post("/users/{name}/password", summary="Đặt lại mật khẩu (đăng xuất mọi phiên)")
def reset_password(name: str, body: NewPassword, context: Context, audit: Audit) -> dict[str, Any]:
    user = context.accounts.reset_password(name, body.password)
    audit.record("password_reset", target=user.name)
    return user.to_json()


# --- audit log (quản trị) -------------------------------------------------------------------


@router.get("/audit", summary="Nhật ký thao tác (mới nhất trước)")
def audit_log(
    context: Context,
    since: Annotated[str | None, Query(max_length=20, description="Từ ngày: 2024-01-31 hoặc 31/01/2024.")] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="Số dòng tối đa.")] = 500,
) -> dict[str, Any]:
    start = parse_user_date(since) if since else None
    moment = dt.datetime.combine(start, dt.time(), dt.UTC) if start else None
    items = [e.to_json() for e in context.audit.entries(since=moment, limit=limit)]
    return {"items": items, "count": len(items)}
