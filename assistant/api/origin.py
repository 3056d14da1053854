"""Requests from other web pages: a Host allow-list (DNS rebinding) and a same-origin check on
every write (cross-site request forgery). Pure ASGI, before any route runs.

DNS rebinding: a page on ``evil.example`` whose name is re-pointed at 127.0.0.1 talks to this
service as "same origin" and can read everything; its requests still say ``Host: evil.example``,
so only the names in ``server.allowed_hosts`` (loopback names by default) are answered.

CSRF: a page from another origin can send a write without reading the answer (a form, or
``fetch`` with ``mode: "no-cors"`` and a multipart body) and the browser attaches the session
cookie (not with SameSite=Strict, which the session cookie has) or nothing is needed at all (no
account, no token: the default on a clerk's PC). Browsers say where a request comes from:
``Sec-Fetch-Site`` (every current browser), else ``Origin`` (every browser sends it on a
cross-origin write), else ``Referer``. A write is refused unless the first of them present says
this same origin. A request with none of them is not from a browser page (a script, curl) and a
request with an ``Authorization`` header cannot be forged by a page (the header is not sent
cross-origin without a CORS preflight, which this service never grants).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from assistant.api.middleware import ASGIApp, Receive, Scope, Send, send_json_error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
                return None
    return None


def host_name(host_header: str) -> str:
    """``'[::1]:8000'`` -> ``'::1'``, ``'Localhost.:8000'`` -> ``'localhost'``."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _host_port(scheme: str, netloc_url: str) -> tuple[str, int | None]:
    parts = urlsplit(netloc_url)
    port = parts.port
    if port is not None and str(port) == DEFAULT_PORTS.get(scheme):
        port = None  # browsers leave a default port out of Origin
    return (parts.hostname or "").rstrip("."), port


def same_origin(url: str, scheme: str, host_header: str) -> bool:
    """Whether ``url`` (an Origin or Referer) names this service as the request reached it.

    Host and port are compared, not the scheme: behind an HTTPS proxy the page is https while
    the request reaches the service as http."""
    try:
        their_scheme = urlsplit(url).scheme
        theirs = _host_port(their_scheme, url)
        ours = _host_port(scheme, f"//{host_header.strip()}")
    except ValueError:
        return False
    return bool(their_scheme) and bool(theirs[0]) and theirs == ours


class TrustedHostMiddleware:
    """Answers only requests whose ``Host`` is allowed; 400 with a Vietnamese JSON error."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.allowed = {host_name(h) for h in allowed_hosts if h != "*"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any_host:
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is None or host_name(host) not in self.allowed:
            await send_json_error(
                send, 400, "host_not_allowed",
                "Tên máy chủ trong yêu cầu không nằm trong danh sách được phép "
                "(ASSISTANT_SERVER_ALLOWED_HOSTS); yêu cầu bị từ chối.",
            )
            return
        await self.app(scope, receive, send)


class SameOriginWriteMiddleware:
    """Refuses a write (POST, PUT, PATCH, DELETE) that a browser says came from another page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        await send_json_error(
            send, 403, "cross_origin",
            "Yêu cầu ghi đến từ một trang web khác nên bị từ chối (chống giả mạo yêu cầu). "
            "Hãy thao tác trên chính trang của Trợ lý.",
        )

    @staticmethod
    def _allowed(scope: Scope) -> bool:
        if _header(scope, b"authorization"):
            return True
        site = _header(scope, b"sec-fetch-site")
        if site is not None:
            return site.strip().lower() in ("same-origin", "none")
        host = _header(scope, b"host") or ""
        scheme = str(scope.get("scheme", "http"))
        origin = _header(scope, b"origin")
        if origin is not None:
            return same_origin(origin.strip(), scheme, host)
        referer = _header(scope, b"referer")
        if referer is not None:
            return same_origin(referer.strip(), scheme, host)
        return True
