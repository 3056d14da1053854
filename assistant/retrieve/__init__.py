"""Retrieval over chunks: BM25 (bm25s), dense vectors (Chroma via LangChain), and their fusion.

Both indexes are caches of the canonical records; each is stamped with an identity and is
rebuilt, never patched, when the identity changes.

Names are imported lazily: Chroma and LangChain take about a second each to import; commands
that answer from the canonical records (assignments, deadlines, metadata) need neither, and
answering an open question never needs LangChain (its adapters live in ``langchain_adapter``).
"""

from __future__ import annotations

import importlib
from typing import Any

# Cheap, and the function ``tokenize`` shares its module's name: bind it eagerly so the
# package attribute is the function, not the submodule.
from assistant.retrieve.filters import Filters
from assistant.retrieve.tokenize import TOKENIZER_VERSION, tokenize

_EXPORTS = {
    "BM25Index": "bm25",
    "bm25_identity": "bm25",
    "HybridRetriever": "hybrid",
    "LangChainHybridRetriever": "langchain_adapter",
    "EmbedderEmbeddings": "langchain_adapter",
    "to_document": "langchain_adapter",
    "ScoredChunk": "hybrid",
    "is_unaccented": "hybrid",
    "reciprocal_rank_fusion": "hybrid",
    "VectorStore": "vectors",
    "chroma_client": "vectors",
    "vector_identity": "vectors",
}

__all__ = [
    "TOKENIZER_VERSION",
    "BM25Index",
    "EmbedderEmbeddings",
    "Filters",
    "HybridRetriever",
    "LangChainHybridRetriever",
    "ScoredChunk",
    "VectorStore",
    "bm25_identity",
    "chroma_client",
    "is_unaccented",
    "reciprocal_rank_fusion",
    "to_document",
    "tokenize",
    "vector_identity",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant.retrieve' has no attribute {name!r}")
    return getattr(importlib.import_module(f"assistant.retrieve.{module}"), name)
