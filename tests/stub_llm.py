"""A real OpenAI-compatible HTTP server for tests: ``POST /v1/chat/completions`` answered from a
script, plain JSON or SSE streaming, every request recorded. Runs on 127.0.0.1 on a free port in
a thread; ``stub_llm`` is the fixture that starts and stops it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class StubLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._script: list[str] = []
        self._failure: tuple[int, str] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *answers: str) -> None:
        with self._lock:
            self._script.extend(answers)

    def fail_next(self, status: int, body: str) -> None:
        """Answer the next request with an HTTP error; ``{authorization}`` in ``body`` becomes
        the request's Authorization header (some gateways echo the request in their errors)."""
        with self._lock:
            self._failure = (status, body)

    def start(self) -> StubLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self) -> str:
        with self._lock:
            if not self._script:
                return "(hết kịch bản)"
            return self._script.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # silence test output
                pass

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub._lock:
                    stub.requests.append(body)
                    failure, stub._failure = stub._failure, None
                if failure is not None:
                    status, text = failure
                    data = text.replace("{authorization}", self.headers.get("Authorization", "")).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                answer = stub._next()
                model = body.get("model", "stub")
                if body.get("stream"):
                    self._stream(answer, model)
                else:
                    self._json(answer, model)

            def _json(self, answer: str, model: str) -> None:
                payload = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, answer: str, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                pieces = [answer[i : i + 7] for i in range(0, len(answer), 7)]
                for i, piece in enumerate(["", *pieces]):
                    delta: dict[str, str] = {"content": piece}
                    if i == 0:
                        delta["role"] = "assistant"
                    chunk = {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                    }
                    self._event(json.dumps(chunk, ensure_ascii=False))
                last = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self._event(json.dumps(last))
                self._event("[DONE]")
                self.close_connection = True

            def _event(self, data: str) -> None:
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

        return Handler


@pytest.fixture
def stub_llm() -> Iterator[StubLLM]:
    server = StubLLM().start()
    try:
        yield server
    finally:
        server.stop()
