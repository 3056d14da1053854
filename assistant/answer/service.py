"""``AnswerService``: route a question, let its route's module answer it, check every citation.

Records answer what records hold (``assignments``: every assignment of an agency;
``deadlines``: every deadline in a range; ``notice_facts``: who chaired / signed / when);
``open_questions`` answers the rest by retrieval, extractively by default or through an LLM when
one is configured. Whatever the path, each citation is checked against the notice text before
it is returned, a question the notices do not answer is refused, and the turn is kept for the
follow-ups of its conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from assistant.agencies import Gazetteer
from assistant.answer import assignments, constraints, deadlines, llm, notice_facts, open_questions
from assistant.answer.citations import AnswerResult, StreamEvent, verify_citation
from assistant.answer.context import AnswerContext
from assistant.answer.conversation import ConversationStore
from assistant.answer.open_questions import Plan
from assistant.answer.related import Retriever
from assistant.answer.route import Route, route_question
from assistant.errors import NotFound, SourcesChanged
from assistant.retrieve.filters import Filters
from assistant.settings import Settings
from assistant.store import Store

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["CONVERSATIONS_FILE", "AnswerService", "Retriever"]

CONVERSATIONS_FILE = "conversations.sqlite3"
_ATTEMPTS = 3
T = TypeVar("T")
_SOURCES_CHANGED = (
    "Thông báo đang được trích dẫn vừa bị xóa hoặc thay thế trong lúc soạn câu trả lời. "
    "Hãy hỏi lại để trả lời theo dữ liệu mới."
)

_RECORD_ROUTES = {
    Route.ASSIGNMENTS: assignments.answer,
    Route.DEADLINES: deadlines.answer,
    Route.METADATA: notice_facts.answer,
}


def _retrying(step: Callable[[], T]) -> T:
    """``step`` again while a notice it reads vanishes under it (deleted or replaced by an
    upload or a CLI ingest between retrieval and quoting): the only records an answer reads are
    notices. ``SourcesChanged`` after ``_ATTEMPTS`` tries."""
    for attempt in range(_ATTEMPTS):
        try:
            return step()
        except NotFound:
            if attempt + 1 == _ATTEMPTS:
                raise SourcesChanged(_SOURCES_CHANGED) from None
    raise AssertionError("unreachable")


class AnswerService:
    def __init__(
        self,
        store: Store,
        gazetteer: Gazetteer,
        retriever: Retriever | None,
        settings: Settings,
        chat_model: BaseChatModel | None = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        self.context = AnswerContext(store, gazetteer, retriever, settings)
        self.store = store
        self.gazetteer = gazetteer
        self.retriever = retriever
        self.settings = settings
        self.chat_model = chat_model
        self.conversations = conversations or ConversationStore(settings.index / CONVERSATIONS_FILE)

    def ask(
        self, question: str, conversation_id: str | None = None, filters: Filters | None = None
    ) -> AnswerResult:
        def whole() -> AnswerResult:
            plan, result = self._attempt(question, conversation_id, filters)
            if result is None:
                assert self.chat_model is not None
                plan.result = open_questions.verified(plan, llm.generate(self.chat_model, plan.messages))
                result = self._finish(plan, conversation_id)
            return result

        return _retrying(whole)

    def ask_stream(
        self, question: str, conversation_id: str | None = None, filters: Filters | None = None
    ) -> Iterator[StreamEvent]:
        """Verified text as the model's lines complete, then one ``final`` event with the
        verified answer (its deltas never show a claim that verification removes)."""
        plan, result = _retrying(lambda: self._attempt(question, conversation_id, filters))
        if result is not None:
            yield StreamEvent(type="delta", text=result.answer)
            yield StreamEvent(type="final", text=result.answer, result=result)
            return
        assert self.chat_model is not None
        parts: list[str] = []
        shown = llm.VerifiedStream(plan.passages)  # only verified sentences are streamed
        for delta in llm.stream(self.chat_model, plan.messages):
            parts.append(delta)
            if verified := shown.feed(delta):
                yield StreamEvent(type="delta", text=verified)
        if verified := shown.close():
            yield StreamEvent(type="delta", text=verified)
        plan.result = open_questions.verified(plan, "".join(parts))
        try:
            result = self._finish(plan, conversation_id)
        except NotFound:
            # Text already shown cannot be taken back by a silent retry: say so instead.
            raise SourcesChanged(_SOURCES_CHANGED) from None
        yield StreamEvent(type="final", text=result.answer, result=result)

    def _attempt(
        self, question: str, conversation_id: str | None, filters: Filters | None
    ) -> tuple[Plan, AnswerResult | None]:
        """The plan, and the checked answer unless a chat model must still write it. Raises
        ``NotFound`` when a notice it reads vanished meanwhile (nothing kept then)."""
        plan = self._plan(question, conversation_id, filters)
        if plan.result is None:
            return plan, None
        return plan, self._finish(plan, conversation_id)

    def _plan(self, question: str, conversation_id: str | None, filters: Filters | None) -> Plan:
        previous = None
        if conversation_id:
            turn = self.conversations.last_turn(conversation_id)
            previous = turn.routed if turn else None
        routed = route_question(question, self.gazetteer, previous, self.context.places())
        answer = _RECORD_ROUTES.get(routed.route)
        if answer is not None:
            plan = Plan(routed=routed, result=answer(self.context, routed, filters))
        else:
            plan = open_questions.plan(self.context, routed, filters, with_model=self.chat_model is not None)
        if plan.result is not None and plan.result.refused:
            # Every route keeps to the question's place, period and number; a refusal because no
            # notice meets them says so, with what is stored (checked only then: it reads every
            # notice's columns).
            named = constraints.unmet(self.context, routed, filters)
            if named is not None:
                plan.result = named
        return plan

    def _finish(self, plan: Plan, conversation_id: str | None) -> AnswerResult:
        result = plan.result
        assert result is not None
        for citation in result.citations:
            # A citation that fails here is a bug upstream; never show it as cited.
            if not verify_citation(citation, self.context.notice(citation.notice_id)):
                raise AssertionError(f"unverifiable citation {citation.n} in {citation.notice_id}")
        result = result.model_copy(update={"question": plan.routed.question, "conversation_id": conversation_id})
        if conversation_id:
            self.conversations.append(conversation_id, plan.routed, result.to_json())
        return result
