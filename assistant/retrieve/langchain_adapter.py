"""LangChain adapters: the hybrid retriever as a ``BaseRetriever`` and our ``Embedder`` as
LangChain ``Embeddings``.

Kept apart from ``hybrid`` and ``vectors`` because importing LangChain takes about a second,
and answering a question needs neither adapter; only callers that hand our pieces to LangChain
chains import this module.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.embed.base import Embedder
from assistant.retrieve.filters import Filters
from assistant.retrieve.hybrid import HybridRetriever, ScoredChunk


def to_document(scored: ScoredChunk) -> Document:
    """A LangChain ``Document`` whose content is the exact passage and whose metadata says
    where it sits (notice id, start/end offsets, heading path) and how it scored."""
    chunk = scored.chunk
    metadata: dict[str, Any] = {
        **chunk.metadata,
        "chunk_id": chunk.id,
        "notice_id": chunk.notice_id,
        "start": chunk.start,
        "end": chunk.end,
        "heading_path": list(chunk.heading_path),
        "score": scored.score,
        "bm25_rank": scored.bm25_rank,
        "vector_rank": scored.vector_rank,
    }
    return Document(id=chunk.id, page_content=chunk.text, metadata=metadata)


class LangChainHybridRetriever(BaseRetriever):
    """LangChain ``BaseRetriever`` over ``HybridRetriever`` (``invoke(query)`` -> Documents)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: HybridRetriever
    k: int = 8
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [to_document(s) for s in self.hybrid.search(query, self.k, self.filters)]


class EmbedderEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over our ``Embedder`` (passages vs. queries kept apart)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.embedder.embed_passages(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_queries([text])[0]]
