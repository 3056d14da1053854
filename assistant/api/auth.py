"""Who is asking: the principal of a request, the access check, and the audit hook.

Modes (issue 17):
- no account yet: as before accounts existed; anyone who reaches the service (loopback only,
  unless a machine token is set) reads, and writes too unless ``api_token`` is set, in which
  case writes need it;
- any account exists: every route but the public ones needs a signed-in user (session cookie)
  or a token: a personal API token (its owner's role) or the machine token (quản trị).

The session cookie is HttpOnly, SameSite=Strict, and Secure over HTTPS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Response

from assistant.accounts import Role, User
from assistant.api.access import PUBLIC, rule_for
from assistant.api.security import Forbidden, Unauthorized
from assistant.audit import IN_API_REQUEST, task_change_details

if TYPE_CHECKING:
    from assistant.api.deps import ApiContext
    from assistant.tracking import StatusChange

log = logging.getLogger(__name__)

SESSION_COOKIE = "assistant_session"
MACHINE_NAME = "mã máy"
ANONYMOUS_NAME = "(không đăng nhập)"


@dataclass(frozen=True)
class Principal:
    """The one making a request; ``role`` None: nobody signed in where accounts exist."""

    name: str
    role: Role | None
    kind: str  # "user", "token" (personal API token), "machine", "anonymous"
    user: User | None = None
    session: str | None = None  # the session cookie's value, to close it on sign-out

    @property
    def signed_in(self) -> bool:
        return self.kind != "anonymous"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name if self.signed_in else None, "kind": self.kind,
                "role": self.role.value if self.role else None,
                "role_label": self.role.label if self.role else None}


def is_loopback_client(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def accounts_exist(context: ApiContext) -> bool:
    return context.accounts.has_users()


def resolve(context: ApiContext, request: Request) -> Principal:
    """The request's principal (cached on the request). Invalid credentials are a 401 here, even
    on a public route: a script with a revoked token should hear so, not get a public answer."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = _resolve(context, request)
    request.state.principal = principal
    return principal


def _resolve(context: ApiContext, request: Request) -> Principal:
    with_accounts = accounts_exist(context)
    authorization = request.headers.get("authorization")
    # With neither accounts nor a machine token there is nothing to check a token against: a
    # token left in a browser from another setup is ignored, as before accounts existed.
    if authorization and (with_accounts or context.guard.required):
        scheme, _, given = authorization.partition(" ")
        given = given.strip()
        if scheme.lower() == "bearer" and given:
            if context.guard.matches(given):
                return Principal(MACHINE_NAME, Role.ADMIN, "machine")
            owner = context.accounts.token_user(given) if with_accounts else None
            if owner is not None:
                return Principal(owner.name, owner.role, "token", owner)
        raise Unauthorized("Mã truy cập không đúng hoặc đã bị thu hồi.")
    session = request.cookies.get(SESSION_COOKIE)
    if session and with_accounts:
        user = context.accounts.session_user(session)
        if user is not None:
            return Principal(user.name, user.role, "user", user, session)
    if with_accounts:
        return Principal(ANONYMOUS_NAME, None, "anonymous")
    # No account: everything as before, writes behind the machine token when one is set.
    return Principal(ANONYMOUS_NAME, Role.VIEWER if context.guard.required else Role.ADMIN,
                     "anonymous")


def authorize(request: Request) -> None:
    """App-wide dependency: the access table's rule for the matched route, enforced."""
    context: ApiContext = request.app.state.context
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    rule = rule_for(request.method, path) if path else None
    if rule is None:
        log.error("no access rule for %s %s: refused (add it to assistant/api/access.py)",
                  request.method, path)
        raise Forbidden("Địa chỉ này chưa có quy tắc phân quyền nên bị từ chối.")
    principal = resolve(context, request)
    if rule == PUBLIC:
        return
    if principal.role is None or (principal.kind == "anonymous" and not principal.role.allows(rule)):
        raise Unauthorized(
            "Cần đăng nhập (hoặc gửi mã truy cập: 'Authorization: Bearer <mã>') để dùng chức năng này."
        )
    if not principal.role.allows(rule):
        raise Forbidden(
            f"Tài khoản '{principal.name}' (vai trò {principal.role.label}) không được phép làm "
            f"việc này: cần vai trò {rule.label} trở lên."
        )


def current_principal(request: Request) -> Principal:
    return resolve(request.app.state.context, request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class Auditor:
    """``record(action, target=…, details=…)`` for the request's principal and address."""

    def __init__(self, context: ApiContext, principal: Principal, address: str | None) -> None:
        self._context = context
        self.principal = principal
        self.address = address

    def record(self, action: str, target: str | None = None, **details: Any) -> None:
        self._context.audit.record(
            action, user=self.principal.name,
            role=self.principal.role.value if self.principal.role else None,
            target=target, address=self.address, details=details,
        )


def get_auditor(request: Request, principal: CurrentPrincipal) -> Auditor:
    return Auditor(request.app.state.context, principal,
                   request.client.host if request.client else None)


Audit = Annotated[Auditor, Depends(get_auditor)]


def set_session_cookie(response: Response, request: Request, token: str,
                       lifetime: dt.timedelta, secure: bool | None) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), path="/", httponly=True,
        samesite="strict", secure=request.url.scheme == "https" if secure is None else secure,
    )


def clear_session_cookie(response: Response, request: Request, secure: bool | None) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict",
        secure=request.url.scheme == "https" if secure is None else secure,
    )


# --- changes made deep inside a request (task status) -----------------------------------------

_REQUEST: ContextVar[Request | None] = ContextVar("assistant_api_request", default=None)


async def bind_request(request: Request) -> None:
    """App-wide dependency, async so that it runs in the request's own context: what it sets is
    seen by the route, also when the route runs in a worker thread (the context is copied)."""
    _REQUEST.set(request)
    IN_API_REQUEST.set(True)


def record_task_change(change: StatusChange) -> None:
    """``tracking.STATUS_CHANGE_HOOKS`` entry: a status changed by an API request is audited
    under the request's user and address, whichever route made it."""
    request = _REQUEST.get()
    if request is None:
        return
    context: ApiContext = request.app.state.context
    principal = resolve(context, request)
    Auditor(context, principal, request.client.host if request.client else None).record(
        "task_status", target=change.task_id, **task_change_details(change)
    )
