"""Every error leaves the service as ``{"error": {"code", "message"}}`` in Vietnamese.

``AssistantError`` subclasses carry their own status and message; validation errors say which
field is wrong; anything else is a bug, logged here and shown as a generic 500 without detail.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, as_disk_full

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần mã truy cập.",
    403: "Không được phép.",
    404: "Không tìm thấy địa chỉ này.",
    405: "Phương thức không được hỗ trợ cho địa chỉ này.",
    413: "Dữ liệu gửi lên quá lớn.",
    415: "Định dạng dữ liệu không được hỗ trợ.",
    422: "Dữ liệu gửi lên không hợp lệ.",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def error_code(exc: AssistantError) -> str:
    """``NotFound`` -> ``not_found``: stable codes a client can switch on."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "dữ liệu"


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors()[:5]:
        field = _field(err.get("loc", ()))
        kind = str(err.get("type", ""))
        if kind == "missing":
            problems.append(f"thiếu trường '{field}'")
        elif kind.startswith("string_too_long"):
            problems.append(f"trường '{field}' quá dài")
        elif kind.startswith("string_too_short"):
            problems.append(f"trường '{field}' không được để trống")
        elif kind == "json_invalid":
            problems.append("nội dung JSON không hợp lệ")
        else:
            problems.append(f"trường '{field}' có giá trị không hợp lệ")
    return "Dữ liệu gửi lên không hợp lệ: " + "; ".join(problems) + "."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    async def _assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        message = f"{exc.source}: {exc.message}" if exc.source else exc.message
        return JSONResponse(
            error_body(error_code(exc), message), status_code=exc.http_status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            error_body("validation_error", _validation_message(exc)), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_MESSAGES.get(exc.status_code, "Yêu cầu không thực hiện được.")
        return JSONResponse(
            error_body(f"http_{exc.status_code}", message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if (full := as_disk_full(exc)) is not None:
            log.warning("disk full on %s %s: %s", request.method, request.url.path, exc)
            return JSONResponse(error_body("disk_full", full.message), status_code=full.http_status)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(
                "internal_error",
                "Lỗi không mong đợi ở máy chủ. Chi tiết kỹ thuật đã được ghi vào nhật ký.",
            ),
            status_code=500,
        )
