"""Lexical retrieval over chunks with bm25s and the Vietnamese tokenizer.

bm25s cannot add or remove documents, so the index is rebuilt from all chunks (fast: it is a
sparse matrix over a few thousand passages). Each chunk's filter metadata is kept beside the
index, so filters apply here exactly as they do in Chroma without asking the canonical store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import bm25s
import numpy as np

from assistant.chunk import CHUNKER_VERSION, Chunk, MetadataValue
from assistant.errors import IndexStateError
from assistant.retrieve.tokenize import TOKENIZER_VERSION, tokenize

# bm25s sets its own logger to DEBUG when imported; its progress chatter is not for users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_META_FILE = "chunks.json"
_FORMAT = 1


def bm25_identity(max_chars: int) -> str:
    """Identity of a BM25 index: tokenizer + chunker version + chunk parameters."""
    key = f"tokenizer={TOKENIZER_VERSION}|chunker={CHUNKER_VERSION}|max_chars={max_chars}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class BM25Index:
    """BM25 over ``Chunk.index_text``; ``search`` returns ``(chunk_id, score)`` best first."""

    def __init__(self, identity: str = "") -> None:
        self.identity = identity
        self._ids: list[str] = []
        self._metadata: list[dict[str, MetadataValue]] = []
        self._position: dict[str, int] = {}
        self._retriever: bm25s.BM25 | None = None

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def is_current(self, identity: str) -> bool:
        return self.identity == identity

    def build(self, chunks: Sequence[Chunk], identity: str | None = None) -> None:
        """Replace the whole index with ``chunks`` (duplicate ids keep the first)."""
        if identity is not None:
            self.identity = identity
        unique = list({c.id: c for c in reversed(chunks)}.values())[::-1]
        self._ids = [c.id for c in unique]
        self._metadata = [dict(c.metadata) for c in unique]
        self._position = {cid: i for i, cid in enumerate(self._ids)}
        if not unique:
            self._retriever = None
            return
        retriever = bm25s.BM25()
        retriever.index([tokenize(c.index_text) for c in unique], show_progress=False)
        self._retriever = retriever

    def ids_where(self, predicate: Callable[[Mapping[str, MetadataValue]], bool]) -> set[str]:
        """Chunk ids whose metadata satisfies ``predicate`` (e.g. ``Filters.matches``)."""
        return {cid for cid, meta in zip(self._ids, self._metadata, strict=True) if predicate(meta)}

    def search(
        self, query: str, k: int, allowed_ids: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """Top ``k`` chunks sharing at least one token with ``query``, best first."""
        if self._retriever is None or k <= 0:
            return []
        token_ids = self._retriever.get_tokens_ids(tokenize(query))
        if not token_ids:
            return []
        scores = np.asarray(self._retriever.get_scores(token_ids), dtype=np.float64)
        if allowed_ids is not None:
            mask = np.zeros(len(self._ids), dtype=bool)
            for cid in allowed_ids:
                position = self._position.get(cid)
                if position is not None:
                    mask[position] = True
            scores = np.where(mask, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        # Stable order on ties (index order) keeps results reproducible.
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [(self._ids[i], float(scores[i])) for i in order]

    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` atomically: readers see the old or the new one."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            if self._retriever is not None:
                self._retriever.save(str(tmp))
            meta = {
                "format": _FORMAT,
                "identity": self.identity,
                "tokenizer": TOKENIZER_VERSION,
                "ids": self._ids,
                "metadata": self._metadata,
            }
            (tmp / _META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex}"
            if directory.exists():
                directory.rename(old)
            tmp.rename(directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        directory = Path(directory)
        meta_path = directory / _META_FILE
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexStateError(
                f"Chưa có chỉ mục BM25 tại {directory}; hãy chạy 'assistant reindex'."
            ) from exc
        except (OSError, ValueError) as exc:
            raise IndexStateError(
                f"Chỉ mục BM25 tại {directory} bị hỏng; hãy chạy 'assistant reindex'."
            ) from exc
        if meta.get("format") != _FORMAT or meta.get("tokenizer") != TOKENIZER_VERSION:
            raise IndexStateError(
                f"Chỉ mục BM25 tại {directory} thuộc phiên bản cũ; hãy chạy 'assistant reindex'."
            )
        index = cls(identity=str(meta.get("identity", "")))
        index._ids = list(meta["ids"])
        index._metadata = list(meta["metadata"])
        index._position = {cid: i for i, cid in enumerate(index._ids)}
        if index._ids:
            index._retriever = bm25s.BM25.load(str(directory))
        return index
