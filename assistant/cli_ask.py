"""``assistant ask``: one question, or a file of questions (one per line, JSON lines out)."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from assistant.answer.citations import AnswerResult
from assistant.answer.llm import make_chat_model
from assistant.answer.service import AnswerService, Retriever
from assistant.errors import AssistantError
from assistant.retrieve.filters import Filters
from assistant.settings import Settings
from assistant.store import Store
from assistant.text import strip_controls

if TYPE_CHECKING:
    from assistant.retrieve.hybrid import ScoredChunk

log = logging.getLogger(__name__)
_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)


class _RetrieverOnDemand:
    """Opens the search indexes on the first open question only: the assignment, metadata and
    deadline routes answer from the canonical records, and opening Chroma plus the embedding
    model would dominate their start-up time."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        self._opened: Retriever | None = None
        self._failed = False

    @property
    def available(self) -> bool:
        return self._open() is not None

    def _open(self) -> Retriever | None:
        if self._opened is None and not self._failed:
            try:
                from assistant.indexing import open_retriever
            except ImportError:
                log.warning("assistant.indexing is unavailable; answering without an index")
                self._failed = True
                return None
            try:
                self._opened = open_retriever(self._settings, self._store)
            except AssistantError as exc:
                # Records still answer; open questions fall back to scanning the stored notices.
                self._failed = True
                _err.print(f"[yellow]Không mở được chỉ mục tìm kiếm:[/yellow] {exc}", highlight=False)
        return self._opened

    def search(self, query: str, k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]:
        opened = self._open()
        return [] if opened is None else opened.search(query, k=k, filters=filters)


def open_answer_service(settings: Settings) -> AnswerService:
    """Store, gazetteer, retriever (opened when first needed) and the LLM if set."""
    from assistant.agencies import get_gazetteer

    store = Store(settings.db_path)
    return AnswerService(
        store,
        get_gazetteer(settings.agencies.extra_file),
        _RetrieverOnDemand(settings, store),
        settings,
        make_chat_model(settings.llm),
    )


def _settings() -> Settings:
    try:
        from assistant.cli import state
    except ImportError:  # pragma: no cover - cli.py always defines it
        return Settings()
    return state.settings()


def ask(
    question: Annotated[str | None, typer.Argument(help="Câu hỏi (tiếng Việt, có dấu hoặc không dấu).")] = None,
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            help="Tệp câu hỏi, mỗi dòng một câu ('-' = đọc từ stdin); in mỗi câu trả lời một dòng JSON, đúng thứ tự.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In câu trả lời dạng JSON.")] = False,
    conversation: Annotated[
        str | None,
        typer.Option("--conversation", help="Mã hội thoại: câu hỏi nối tiếp dựa vào câu trước của cùng hội thoại."),
    ] = None,
) -> None:
    """Hỏi đáp trên các thông báo đã lưu; mọi trích dẫn được kiểm tra nguyên văn."""
    if (question is None) == (questions is None):
        _err.print("Hãy nhập một câu hỏi, hoặc dùng --questions TỆP.")
        raise typer.Exit(2)
    try:
        service = open_answer_service(_settings())
        if questions is not None:
            _ask_many(service, questions, conversation)
            return
        assert question is not None
        if as_json:
            result = service.ask(question, conversation_id=conversation)
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
            return
        final: AnswerResult | None = None
        streaming = service.chat_model is not None and sys.stdout.isatty()
        for event in service.ask_stream(question, conversation_id=conversation):
            if event.type == "delta" and streaming:
                _err.print(strip_controls(event.text), end="", highlight=False, markup=False)
            elif event.type == "final":
                final = event.result
        if streaming:
            _err.print()
        assert final is not None
        _print_answer(final)
    except AssistantError as exc:
        _err.print(f"[red]Lỗi:[/red] {escape(strip_controls(str(exc)))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None


def _ask_many(service: AnswerService, path: Path, conversation: str | None) -> None:
    stream: TextIO = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    try:
        for line in stream:
            text = line.strip()
            if not text:
                continue
            try:
                data = service.ask(text, conversation_id=conversation).to_json()
            except AssistantError as exc:
                data = {"question": text, "error": str(exc)}
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        if stream is not sys.stdin:
            stream.close()


def _print_answer(result: AnswerResult) -> None:
    _out.print(strip_controls(result.answer), highlight=False, markup=False)
    if result.closest:
        _out.print("\nThông báo gần nhất:", highlight=False)
        for item in result.closest:
            _out.print(strip_controls(f"  - {item.get('notice_title') or item.get('source')} ({item.get('meeting_date') or '—'})"),
                       highlight=False, markup=False)
    if result.citations:
        _out.print("\nNguồn:", highlight=False)
        for c in result.citations:
            where = f", mục {c.section}" if c.section else ""
            _out.print(strip_controls(f"  [{c.n}] {c.source}{where} (ký tự {c.start}–{c.end})"), highlight=False,
                       markup=False)


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:12]
