"""Shared state of the service and the typed dependencies the routes declare.

One ``ApiContext`` per app: settings, the gazetteer, a read-only ``Store``, the embedder (loaded
once: the slow part), a retriever rebuilt whenever the set of stored notices changes (this
process or the CLI may have written), and the conversation store. Writes open their own
``Store`` under the data directory's write lock, so readers never see a half-done batch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from assistant.accounts import ACCOUNTS_FILE, AccountStore
from assistant.agencies import Gazetteer, get_gazetteer
from assistant.answer.conversation import ConversationStore
from assistant.answer.related import Retriever
from assistant.answer.service import CONVERSATIONS_FILE, AnswerService
from assistant.api.auth import CurrentPrincipal, Principal
from assistant.api.security import TokenGuard
from assistant.audit import AUDIT_FILE, AuditLog
from assistant.errors import AssistantError
from assistant.locks import WriteBusy, write_lock
from assistant.retrieve.filters import Filters
from assistant.retrieve.hybrid import ScoredChunk
from assistant.settings import Settings
from assistant.store import Store

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.embed.base import Embedder
    from assistant.indexing import IndexStatus, SearchIndex


class _LockedRetriever:
    """Serializes searches: the embedder and BM25 arrays are not meant for concurrent use."""

    def __init__(self, inner: Any, lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock

    def search(self, query: str, k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]:
        with self._lock:
            result: list[ScoredChunk] = self._inner.search(query, k=k, filters=filters)
            return result


@dataclass
class WriteSession:
    store: Store
    search: SearchIndex


class ApiContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gazetteer: Gazetteer = get_gazetteer(settings.agencies.extra_file)
        self.store = Store(settings.db_path)
        self.guard = TokenGuard(settings.api_token)
        self.accounts = AccountStore(settings.index / ACCOUNTS_FILE,
                                     password_rounds=settings.auth.password_rounds)
        self.audit = AuditLog(settings.index / AUDIT_FILE)
        self.conversations = ConversationStore(settings.index / CONVERSATIONS_FILE)
        self._lock = threading.Lock()
        self._search_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._chat_model: BaseChatModel | None = None
        self._chat_model_made = False
        self._retriever: _LockedRetriever | None = None
        self._retriever_for: str | None = None
        self._read_search: SearchIndex | None = None

    def close(self) -> None:
        if self._read_search is not None:
            self._read_search.close()
        self.store.close()
        self.conversations.close()

    # --- lazily built pieces -------------------------------------------------------------

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from assistant.embed import make_embedder

                self._embedder = make_embedder(self.settings.embedding, self.settings.index)
            return self._embedder

    def chat_model(self) -> BaseChatModel | None:
        with self._lock:
            if not self._chat_model_made:
                from assistant.answer.llm import make_chat_model

                self._chat_model = make_chat_model(self.settings.llm)
                self._chat_model_made = True
            return self._chat_model

    def _search_index(self, store: Store) -> SearchIndex:
        from assistant.indexing import SearchIndex

        return SearchIndex(self.settings, store, embedder=self.embedder())

    def index_status(self) -> IndexStatus:
        search = self._search_index(self.store)
        try:
            return search.status()
        finally:
            search.close()

    def retriever(self) -> _LockedRetriever | None:
        """Current retriever, rebuilt when the stored notices changed; None for an empty store.

        While another writer is at work, the previous retriever (or ``WriteBusy``, which the
        callers answer without a retriever) rather than a wait for the write lock."""
        fingerprint = self.store.fingerprint()
        with self._lock:
            if self._retriever is not None and self._retriever_for == fingerprint:
                return self._retriever
        if not self.store.ids():
            return None
        search = self._search_index(self.store)
        try:
            if not search.status().healthy:
                # Repairing the caches is a write, but a reader must not wait for one: while a
                # writer holds the lock the caches are out of step because it is still at work,
                # and it brings them up to date itself before it lets go.
                with write_lock(self.settings.index, timeout_s=0):
                    search.ensure_current()
            inner = search.retriever()
        except WriteBusy:
            search.close()
            with self._lock:
                if self._retriever is not None:
                    return self._retriever  # the notices as they were before this write
            raise
        except BaseException:
            search.close()
            raise
        # The retriever reads chunks through this search index, so it stays open until replaced.
        # An older one is left to the garbage collector: a request may still be using it.
        self._read_search = search
        retriever = _LockedRetriever(inner, self._search_lock)
        with self._lock:
            self._retriever, self._retriever_for = retriever, fingerprint
        return retriever

    def answer_service(self) -> AnswerService:
        # Per request: the service keeps a notice cache and is cheap to build from shared parts.
        try:
            retriever = self.retriever()
        except AssistantError:
            retriever = None  # records still answer; open questions scan the stored notices
        return AnswerService(
            self.store, self.gazetteer, retriever, self.settings, self.chat_model(), self.conversations
        )

    @contextmanager
    def writing(self) -> Iterator[WriteSession]:
        """Write lock + a store and search index of its own; caches brought up to date after."""
        with write_lock(self.settings.index):
            store = Store(self.settings.db_path)
            try:
                search = self._search_index(store)
                try:
                    yield WriteSession(store, search)
                finally:
                    search.close()
            finally:
                store.close()


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


def get_settings(context: Context) -> Settings:
    return context.settings


def get_store(context: Context) -> Store:
    return context.store


def get_gazetteer_dep(context: Context) -> Gazetteer:
    return context.gazetteer


def get_answer_service(context: Context) -> AnswerService:
    return context.answer_service()


def get_retriever(context: Context) -> Retriever | None:
    """The search indexes' retriever, or None while they cannot be read (records still answer)."""
    try:
        return context.retriever()
    except AssistantError:
        return None


def require_writer(principal: CurrentPrincipal) -> Principal:
    """The writer's principal. The access table (``assistant.api.access``) has already allowed
    the request: this only hands the principal to the route."""
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
GazetteerDep = Annotated[Gazetteer, Depends(get_gazetteer_dep)]
AnswerServiceDep = Annotated[AnswerService, Depends(get_answer_service)]
RetrieverDep = Annotated[Retriever | None, Depends(get_retriever)]
WriteAccess = Annotated[Principal, Depends(require_writer)]
