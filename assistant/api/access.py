"""Who may call what: THE access table of the service, one row per route.

Every API route is looked up here on every request (``assistant.api.auth.authorize``); a route
with no row is refused (fail closed) and fails ``tests/test_access.py``, which generates its
role × endpoint checks from this table. Adding a route therefore means adding its row.

A row names the least role allowed (roles are ordered: người xem < chuyên viên < quản trị), or
``PUBLIC`` for what must work before signing in (the page shell, sign-in itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal

from fastapi.routing import APIRoute

from assistant.accounts import Role

PUBLIC: Final = "public"
Rule = Role | Literal["public"]

VIEWER, OFFICER, ADMIN = Role.VIEWER, Role.OFFICER, Role.ADMIN

ACCESS: dict[tuple[str, str], Rule] = {
    # the page shell and sign-in
    ("GET", "/"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/api/session"): PUBLIC,
    ("POST", "/api/login"): PUBLIC,
    ("POST", "/api/logout"): PUBLIC,
    ("POST", "/api/setup"): PUBLIC,  # first account only, from loopback only (checked there)
    # reading and asking
    ("GET", "/health"): VIEWER,
    ("POST", "/api/ask"): VIEWER,
    ("POST", "/api/ask/stream"): VIEWER,
    ("GET", "/api/ask/{conversation_id}"): VIEWER,
    ("GET", "/api/assignments"): VIEWER,
    ("GET", "/api/deadlines"): VIEWER,
    ("GET", "/api/agencies"): VIEWER,
    ("GET", "/api/notices"): VIEWER,
    ("GET", "/api/notices/{notice_id}"): VIEWER,
    ("GET", "/api/tasks"): VIEWER,
    ("GET", "/api/tasks/carry-report"): VIEWER,
    ("GET", "/api/tasks/export"): VIEWER,
    ("GET", "/api/tasks/report"): VIEWER,
    ("GET", "/api/tasks/{task_id}"): VIEWER,
    ("GET", "/api/tasks/{task_id}/history"): VIEWER,
    # one's own API tokens (a signed-in account of any role)
    ("GET", "/api/tokens"): VIEWER,
    ("POST", "/api/tokens"): VIEWER,
    ("DELETE", "/api/tokens/{token_id}"): VIEWER,
    # uploading and drafting
    ("POST", "/api/notices"): OFFICER,
    ("GET", "/api/uploads/{progress_id}"): OFFICER,
    ("POST", "/api/tasks/{task_id}/status"): OFFICER,  # audited (tracking.STATUS_CHANGE_HOOKS)
    ("POST", "/api/draft"): OFFICER,
    ("GET", "/api/draft/{draft_id}"): OFFICER,
    ("GET", "/api/draft/{draft_id}/docx"): OFFICER,
    ("PUT", "/api/draft/{draft_id}"): OFFICER,
    ("GET", "/api/draft-agencies"): OFFICER,
    ("GET", "/api/office-profile"): OFFICER,
    # deleting, accounts, the audit log
    ("DELETE", "/api/notices/{notice_id}"): ADMIN,
    ("PUT", "/api/office-profile"): ADMIN,  # the office's settings
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("POST", "/api/users/{name}/disable"): ADMIN,
    ("POST", "/api/users/{name}/enable"): ADMIN,
    ("POST", "/api/users/{name}/password"): ADMIN,
    ("GET", "/api/audit"): ADMIN,
}

# Served outside the API routes, never behind a sign-in: the page's own script and style files,
# and the OpenAPI schema (a description of the API, no data).
PUBLIC_MOUNTS: Final = ("/static", "/openapi.json")


def rule_for(method: str, path: str) -> Rule | None:
    return ACCESS.get(("GET" if method == "HEAD" else method, path))


def api_routes(routes: Iterable[Any]) -> set[tuple[str, str]]:
    """(method, path) of every API route, routers included (HEAD goes with GET).

    Routers carry their prefix themselves (``APIRouter(prefix=...)``) and are included without
    one, so that a route's path here is the one ``authorize`` sees on the request."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            if prefix:
                raise ValueError(f"router included with prefix {prefix!r}: give it to the router")
            found |= api_routes(included.routes)
        elif isinstance(route, APIRoute):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found
