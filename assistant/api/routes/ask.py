"""``POST /api/ask`` and ``POST /api/ask/stream`` (server-sent events)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from assistant.api.deps import AnswerServiceDep
from assistant.api.errors import error_body, error_code
from assistant.errors import AssistantError
from assistant.retrieve.filters import Filters

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["Hỏi đáp"])


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000, description="Câu hỏi, có dấu hoặc không dấu.")
    conversation_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Mã hội thoại để hỏi tiếp; bỏ trống thì máy chủ tạo mã mới và trả về.",
    )
    filters: Filters | None = Field(default=None, description="Giới hạn theo cơ quan, cấp, ngày họp.")


def _conversation(request: AskRequest) -> str:
    return request.conversation_id or uuid.uuid4().hex[:12]


@router.post("/ask", summary="Hỏi đáp, trả lời có trích dẫn đã kiểm tra")
def ask(request: AskRequest, service: AnswerServiceDep) -> dict[str, Any]:
    """The JSON of ``assistant ask --json``, always with ``conversation_id`` (reuse it to follow up)."""
    conversation_id = _conversation(request)
    result = service.ask(request.question, conversation_id=conversation_id, filters=request.filters)
    data = result.to_json()
    data["conversation_id"] = conversation_id
    return data


@router.get("/ask/{conversation_id}", summary="Các lượt hỏi đáp của một hội thoại (để hiện lại khi tải lại trang)")
def conversation_turns(
    conversation_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")], service: AnswerServiceDep
) -> dict[str, Any]:
    """Every turn kept for ``conversation_id``, oldest first: the question and the answer's JSON
    as it was given (an unknown conversation has no turns)."""
    turns = service.conversations.turns(conversation_id)
    return {
        "conversation_id": conversation_id,
        "turns": [{"question": t.question, "answer": t.answer} for t in turns[-MAX_TURNS_SHOWN:]],
    }


# Turns a reloaded page shows again (the newest).
MAX_TURNS_SHOWN = 50


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/ask/stream",
    summary="Hỏi đáp dạng luồng (SSE)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "Sự kiện `delta` {text} khi câu trả lời đang được viết, "
                                    "rồi một sự kiện `final` (JSON như /api/ask, kèm trích dẫn), "
                                    "hoặc `error` {error: {code, message}}."}},
)
def ask_stream(request: AskRequest, service: AnswerServiceDep) -> StreamingResponse:
    conversation_id = _conversation(request)

    def events() -> Iterator[str]:
        yield _sse("start", {"conversation_id": conversation_id})
        try:
            for event in service.ask_stream(
                request.question, conversation_id=conversation_id, filters=request.filters
            ):
                if event.type == "delta":
                    yield _sse("delta", {"text": event.text})
                elif event.type == "final" and event.result is not None:
                    data = event.result.to_json()
                    data["conversation_id"] = conversation_id
                    yield _sse("final", data)
        except AssistantError as exc:
            yield _sse("error", error_body(error_code(exc), exc.message))
        except Exception:  # headers are sent already: the error travels as an event
            log.exception("unexpected error while streaming an answer")
            yield _sse("error", error_body("internal_error", "Lỗi không mong đợi khi trả lời câu hỏi."))

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
