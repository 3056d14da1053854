"""Security headers on every response and the request body size cap (pure ASGI, so streamed
answers are not buffered)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Only our own files: no CDN, no inline script, so document text can never run as code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    # Nothing leaves for other sites; our own writes carry their real Origin, which
                    # browsers without Sec-Fetch-Site need to pass the CSRF check (api/origin.py).
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ):
                    if name not in names:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimitMiddleware:
    """Caps the size of a request body, with the service's JSON error (413).

    A declared ``Content-Length`` over the limit is refused before any of the body is read; a
    body sent without one (chunked) is counted as it arrives. FastAPI's own ``max_body_size``
    is not used: it answers in plain English text, and replaces any other answer to a request
    whose declared length is over it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        return f"Dữ liệu gửi lên quá lớn (giới hạn {self.max_bytes / (1024 * 1024):.0f} MB mỗi yêu cầu)."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), b"")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            # The unread body is still on its way: the connection cannot be reused.
            await send_json_error(send, 413, "payload_too_large", self._message(),
                                  [(b"connection", b"close")])
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes FastAPI's body parsing unchanged, to our handler.
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting, send)


async def send_json_error(
    send: Send, status: int, code: str, message: str,
    headers: list[tuple[bytes, bytes]] | None = None, **extra: Any,
) -> None:
    """Answer with ``{"error": {"code", "message", ...}}`` from a pure ASGI middleware."""
    body = json.dumps(
        {"error": {"code": code, "message": message, **extra}}, ensure_ascii=False
    ).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *(headers or [])],
    })
    await send({"type": "http.response.body", "body": body})
