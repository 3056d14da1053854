"""Retrieval over chunks: BM25 (bm25s), dense vectors (Chroma via LangChain), and their fusion.

Both indexes are caches of the canonical records; each is stamped with an identity and is
rebuilt, never patched, when the identity changes.
"""

from __future__ import annotations

from assistant.retrieve.bm25 import BM25Index, bm25_identity
from assistant.retrieve.filters import Filters
from assistant.retrieve.hybrid import (
    HybridRetriever,
    LangChainHybridRetriever,
    ScoredChunk,
    is_unaccented,
    reciprocal_rank_fusion,
)
from assistant.retrieve.tokenize import TOKENIZER_VERSION, tokenize
from assistant.retrieve.vectors import VectorStore, chroma_client, vector_identity

__all__ = [
    "TOKENIZER_VERSION",
    "BM25Index",
    "Filters",
    "HybridRetriever",
    "LangChainHybridRetriever",
    "ScoredChunk",
    "VectorStore",
    "bm25_identity",
    "chroma_client",
    "is_unaccented",
    "reciprocal_rank_fusion",
    "tokenize",
    "vector_identity",
]
