"""Dense retrieval: chunk vectors in Chroma, reached through LangChain's ``Chroma`` store.

Vectors are computed by our own ``Embedder`` and handed to Chroma ready-made; Chroma's default
embedding function is never bound (it would download a model), and the LangChain store gets
an explicit adapter around the Embedder for the few LangChain paths that embed text. The
distance is cosine, set explicitly at creation (Chroma's default is L2).

The collection is stamped with an identity (embedder + chunker version + chunk parameters).
A store whose stamp differs from the expected identity holds incompatible vectors: callers
check ``is_current`` and rebuild with ``reset`` instead of mixing them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import (
    CreateCollectionConfiguration,
    CreateHNSWConfiguration,
)
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from assistant.chunk import CHUNKER_VERSION, Chunk
from assistant.embed.base import Embedder, Vectors
from assistant.errors import BackendError, ConfigError, IndexStateError
from assistant.retrieve.filters import Filters
from assistant.settings import Settings

COLLECTION = "chunks"
_SPACE: Literal["cosine"] = "cosine"
_IDENTITY_KEY = "identity"


def vector_identity(embedder_identity: str, max_chars: int) -> str:
    """Identity of a vector collection: what must match for its vectors to be comparable."""
    key = f"embedder={embedder_identity}|chunker={CHUNKER_VERSION}|max_chars={max_chars}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class EmbedderEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over our ``Embedder`` (passages vs. queries kept apart)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.embedder.embed_passages(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_queries([text])[0]]


def chroma_client(*, path: Path | None = None, url: str | None = None) -> ClientAPI:
    """An embedded persistent client at ``path``, or an HTTP client for a server at ``url``."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ConfigError(
                f"Địa chỉ máy chủ Chroma không hợp lệ: {url!r} (cần http://host:port)"
            )
        ssl = parsed.scheme == "https"
        try:
            return chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if ssl else 8000),
                ssl=ssl,
                settings=settings,
            )
        except Exception as exc:
            raise BackendError(f"Không kết nối được máy chủ Chroma tại {url}: {exc}") from exc
    if path is None:
        raise ConfigError("Cần đường dẫn thư mục Chroma hoặc địa chỉ máy chủ Chroma.")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class VectorStore:
    """Chunk vectors in one Chroma collection; ``search`` returns ``(chunk_id, cosine)``."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        path: Path | None = None,
        url: str | None = None,
        client: ClientAPI | None = None,
        collection_name: str = COLLECTION,
    ) -> None:
        self.embedder = embedder
        self.collection_name = collection_name
        self.client = client if client is not None else chroma_client(path=path, url=url)
        self._store, self._collection = self._open(None)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> VectorStore:
        if settings.chroma_url:
            return cls(embedder, url=settings.chroma_url)
        return cls(embedder, path=settings.index / "chroma")

    def _open(self, metadata: dict[str, Any] | None) -> tuple[Chroma, Collection]:
        try:
            store = Chroma(
                collection_name=self.collection_name,
                embedding_function=EmbedderEmbeddings(self.embedder),
                client=self.client,
                collection_metadata=metadata,
                collection_configuration=CreateCollectionConfiguration(
                    hnsw=CreateHNSWConfiguration(space=_SPACE)
                ),
            )
            # ``embedding_function=None``: a bare get_collection would bind Chroma's default.
            collection = self.client.get_collection(self.collection_name, embedding_function=None)
        except Exception as exc:
            raise BackendError(
                f"Không mở được bộ sưu tập Chroma '{self.collection_name}': {exc}"
            ) from exc
        return store, collection

    @property
    def langchain_store(self) -> Chroma:
        return self._store

    @property
    def stored_identity(self) -> str | None:
        value = (self._collection.metadata or {}).get(_IDENTITY_KEY)
        return value if isinstance(value, str) else None

    def is_current(self, identity: str) -> bool:
        """True when the collection was built for ``identity`` with cosine distance."""
        # ``configuration_json``: the parsed ``configuration`` warns about Chroma's legacy
        # embedding-function entry, which is what "no embedding function" is stored as.
        hnsw = (self._collection.configuration_json or {}).get("hnsw") or {}
        return self.stored_identity == identity and hnsw.get("space") == _SPACE

    def reset(self, identity: str) -> None:
        """Drop every vector and start an empty collection stamped with ``identity``."""
        with contextlib.suppress(chromadb.errors.NotFoundError, ValueError):
            self.client.delete_collection(self.collection_name)
        metadata = {
            _IDENTITY_KEY: identity,
            "embedder": self.embedder.identity,
            "chunker": CHUNKER_VERSION,
            "dimension": self.embedder.dimension,
        }
        self._store, self._collection = self._open(metadata)

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        """Insert or replace chunks with their precomputed (L2-normalized) vectors."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but vectors of shape {matrix.shape}")
        if not chunks:
            return
        if matrix.shape[1] != self.embedder.dimension:
            raise IndexStateError(
                f"Vector có {matrix.shape[1]} chiều, mô hình nhúng có {self.embedder.dimension}; "
                "hãy chạy 'assistant reindex'."
            )
        batch = max(1, min(1000, int(self.client.get_max_batch_size())))
        for at in range(0, len(chunks), batch):
            part = chunks[at : at + batch]
            self._collection.upsert(
                ids=[c.id for c in part],
                embeddings=matrix[at : at + batch],
                documents=[c.text for c in part],
                metadatas=[dict(c.metadata) for c in part],
            )

    def delete_notice(self, notice_id: str) -> None:
        self._collection.delete(where={"notice_id": notice_id})

    def search(
        self,
        query_vector: Sequence[float] | np.ndarray,
        k: int,
        where: Filters | Mapping[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest ``k`` chunks to ``query_vector``: ``(chunk_id, cosine similarity)``."""
        clause = (
            where.to_where() if isinstance(where, Filters) else (dict(where) if where else None)
        )
        size = self.count()
        if k <= 0 or size == 0:
            return []
        results = self._store.similarity_search_by_vector_with_relevance_scores(
            embedding=[float(x) for x in np.asarray(query_vector).ravel()],
            k=min(k, size),
            filter=clause,
        )
        # Cosine distance is 1 - cosine similarity.
        return [(doc.id, 1.0 - float(distance)) for doc, distance in results if doc.id]
