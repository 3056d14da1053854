"""The FastAPI application: JSON API under ``/api``, the web page at ``/``, ``/health``.

Everything the page needs ships in ``static/`` (no CDN), so it works on an office network with
no internet. ``/docs`` is a small page of our own over ``/openapi.json``: FastAPI's Swagger UI
would load its scripts from a CDN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from assistant.api.auth import authorize, bind_request, record_task_change
from assistant.api.deps import ApiContext, Context
from assistant.api.errors import install_error_handlers
from assistant.api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from assistant.api.origin import SameOriginWriteMiddleware, TrustedHostMiddleware
from assistant.api.ratelimit import RateLimitMiddleware
from assistant.api.routes import (
    account,
    ask,
    draft,
    draft_review,
    notices,
    records,
    tasks,
    upload_progress,
)
from assistant.errors import AssistantError
from assistant.settings import Settings

STATIC = Path(__file__).parent / "static"
# Several files of the per-file limit in one request, plus multipart overhead.
FILES_PER_REQUEST_BUDGET = 4


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    max_body = settings.server.max_upload_bytes * FILES_PER_REQUEST_BUDGET + 1024 * 1024

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.context.close()

    app = FastAPI(
        title="Trợ lý Thông báo kết luận",
        description="Hỏi đáp có trích dẫn, tra cứu nhiệm vụ theo cơ quan, quản lý thông báo và "
        "soạn dự thảo. Lỗi trả về dạng {\"error\": {\"code\", \"message\"}}.",
        version="1",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Every route is checked against the access table (assistant/api/access.py).
        dependencies=[Depends(bind_request), Depends(authorize)],
    )
    app.state.context = ApiContext(settings)
    _audit_task_changes()
    install_error_handlers(app)
    # Added before the security headers, so they run inside them: a 413 or 429 carries them too.
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body)
    app.add_middleware(
        RateLimitMiddleware,
        rate_per_minute=settings.server.rate_limit_per_minute,
        burst=settings.server.rate_limit_burst,
    )
    # CORS stays off: the page is served by this same app, other origins have no business here.
    app.add_middleware(SameOriginWriteMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=_allowed_hosts(settings))
    app.add_middleware(SecurityHeadersMiddleware)
    for module in (ask, records, notices, draft, draft_review, tasks, upload_progress, account):
        app.include_router(module.router)

    @app.get("/health", tags=["Hệ thống"], summary="Tình trạng kho, chỉ mục, bộ nhúng, LLM")
    def health(context: Context) -> dict[str, Any]:
        counts = context.store.count()
        data: dict[str, Any] = {
            "counts": counts,
            "llm_configured": bool(context.settings.llm.base_url),
            "auth_required": context.guard.required or context.accounts.has_users(),
        }
        try:
            status = context.index_status()
            data["embedder"] = context.embedder().identity
            data["index"] = {
                "healthy": status.healthy,
                "problems": status.problems(),
                "chunks": status.chunks,
                "vectors": status.vectors,
            }
        except AssistantError as exc:
            data["embedder"] = None
            data["index"] = {"healthy": False, "problems": [exc.message], "chunks": 0, "vectors": 0}
        data["status"] = "ok" if data["index"]["healthy"] or counts["notices"] == 0 else "degraded"
        return data

    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> FileResponse:
        return FileResponse(STATIC / "docs.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _allowed_hosts(settings: Settings) -> list[str]:
    """The configured names, plus the address the service is bound to when it is one address."""
    hosts = list(settings.server.allowed_hosts)
    if settings.server.host not in ("0.0.0.0", "::", ""):
        hosts.append(settings.server.host)
    return hosts


def _audit_task_changes() -> None:
    from assistant.tracking import STATUS_CHANGE_HOOKS

    if record_task_change not in STATUS_CHANGE_HOOKS:
        STATUS_CHANGE_HOOKS.append(record_task_change)
