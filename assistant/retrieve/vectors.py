"""Dense retrieval: chunk vectors in one Chroma collection.

Vectors are computed by our own ``Embedder`` and handed to Chroma ready-made; Chroma's default
embedding function is never bound (it would download a model). Searches go to the collection
directly; LangChain's ``Chroma`` store over the same collection (``langchain_store``, with an
adapter around the Embedder for the LangChain paths that embed text) is built only on request,
as importing LangChain costs about a second. The distance is cosine, set explicitly at
creation (Chroma's default is L2).

The collection is stamped with an identity (embedder + chunker version + chunk parameters).
A store whose stamp differs from the expected identity holds incompatible vectors: callers
check ``is_current`` and rebuild with ``reset`` instead of mixing them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import numpy as np

from assistant.chunk import CHUNKER_VERSION, Chunk
from assistant.embed.base import Embedder, Vectors
from assistant.errors import BackendError, ConfigError, IndexStateError
from assistant.retrieve.filters import Filters
from assistant.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma

COLLECTION = "chunks"
_SPACE: Literal["cosine"] = "cosine"
_IDENTITY_KEY = "identity"
# Beside Chroma's own files: what the collections held when Chroma's database last changed.
_MANIFEST = ".assistant-collections.json"
_SQLITE = "chroma.sqlite3"


def __getattr__(name: str) -> Any:
    # The LangChain adapter moved out (LangChain takes ~1 s to import); still reachable here.
    if name == "EmbedderEmbeddings":
        return importlib.import_module("assistant.retrieve.langchain_adapter").EmbedderEmbeddings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def vector_identity(embedder_identity: str, max_chars: int) -> str:
    """Identity of a vector collection: what must match for its vectors to be comparable."""
    key = f"embedder={embedder_identity}|chunker={CHUNKER_VERSION}|max_chars={max_chars}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def sqlite_witness(path: Path) -> list[int] | None:
    """Something that changes whenever the SQLite database at ``path`` is written, or None
    when no such thing can be read (file missing, WAL mode, a crashed write to roll back).

    In rollback-journal mode SQLite bumps the header's file change counter (offset 24) on
    every committed write; the inode, size and modification time come along for files that
    were replaced or copied. Chroma keeps its collections, their metadata and their records
    in this one database, so an unchanged witness means unchanged collections.
    """
    journal = path.with_name(path.name + "-journal")
    try:
        if journal.exists() and journal.stat().st_size > 0:
            return None
        with path.open("rb") as fh:
            stat = os.fstat(fh.fileno())
            header = fh.read(100)
    except OSError:
        return None
    # Bytes 18-19 are the file format write/read versions: 1 is rollback journal, 2 is WAL.
    if len(header) < 100 or header[:16] != b"SQLite format 3\x00" or header[18] != 1:
        return None
    counter = int.from_bytes(header[24:28], "big")
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns, counter]


def chroma_client(*, path: Path | None = None, url: str | None = None) -> ClientAPI:
    """An embedded persistent client at ``path``, or an HTTP client for a server at ``url``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

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


# Opens a store, counts it and runs one query: what every process using it will do.
_PROBE = """
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
if sys.argv[2] in names:
    collection = client.get_collection(sys.argv[2])
    if collection.count():
        first = collection.get(limit=1, include=["embeddings"])["embeddings"]
        collection.query(query_embeddings=first, n_results=min(5, collection.count()))
"""


def probe_chroma(path: Path, collection: str = COLLECTION, timeout_s: float = 300.0) -> str | None:
    """Open the store at ``path`` in a child process first: a store that crashes whatever
    opens it (a segfault in Chroma's native code, exit 139) must not take this process down.
    None when the child opened and queried it; otherwise what happened to the child."""
    if not (path / _SQLITE).exists():
        return None
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(path), collection],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"không mở xong trong {timeout_s:.0f} giây"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return f"tiến trình mở nó bị dừng đột ngột (tín hiệu {-done.returncode})"
    last = (done.stderr.strip().splitlines() or [""])[-1][:200]
    return f"tiến trình mở nó gặp lỗi (mã {done.returncode}: {last})"


def discard_store(path: Path) -> None:
    """Remove a broken store's folder (this process's client of it closed first)."""
    close_shared_chroma(path)
    shutil.rmtree(path, ignore_errors=True)


class _SharedChroma:
    """The one embedded Chroma client of this process for one folder.

    Server threads that each opened their own client raced inside Chroma (``KeyError …/chroma``,
    ``'RustBindingsAPI' object has no attribute 'bindings'``); so the client is opened once,
    under ``lock``, and every call into it from this process holds the same lock. Chroma's
    embedded client also keeps the vector index of what it last saw in memory: after another
    process (a CLI ingest beside the server) wrote, writing through the old client would save
    that stale index over the other process's, leaving a store that crashed every process that
    opened it. So when Chroma's database changed since this process last saw it, the client
    is closed and opened again (``generation`` tells collections to be fetched anew).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.generation = 0
        self._client: ClientAPI | None = None
        self._seen: list[int] | None = None

    def client(self) -> ClientAPI:
        with self.lock:
            if self._client is not None:
                witness = sqlite_witness(self.path / _SQLITE)
                if witness is not None and witness != self._seen:
                    self.close()
            if self._client is None:
                self._client = chroma_client(path=self.path)
                self.generation += 1
                self._seen = sqlite_witness(self.path / _SQLITE)
            return self._client

    def wrote(self) -> None:
        """This process's own write: the database is as this client left it."""
        with self.lock:
            self._seen = sqlite_witness(self.path / _SQLITE)

    def collections_replaced(self) -> None:
        with self.lock:
            self.generation += 1

    def close(self) -> None:
        with self.lock:
            client, self._client = self._client, None
            close = getattr(client, "close", None)  # chromadb's Client, not its ClientAPI
            if callable(close):
                with contextlib.suppress(Exception):
                    close()


def _identity_of(collection: Collection) -> str | None:
    value = (collection.metadata or {}).get(_IDENTITY_KEY)
    return value if isinstance(value, str) else None


def _space_of(collection: Collection) -> str | None:
    # ``configuration_json``: the parsed ``configuration`` warns about Chroma's legacy
    # embedding-function entry, which is what "no embedding function" is stored as.
    hnsw = (collection.configuration_json or {}).get("hnsw") or {}
    space = hnsw.get("space")
    return space if isinstance(space, str) else None


_SHARED: dict[Path, _SharedChroma] = {}
_SHARED_LOCK = threading.Lock()


def shared_chroma(path: Path) -> _SharedChroma:
    key = path.resolve()
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = _SharedChroma(key)
        return _SHARED[key]


def close_shared_chroma(path: Path) -> None:
    """Close this process's client of the folder (before the folder is removed)."""
    with _SHARED_LOCK:
        shared = _SHARED.pop(path.resolve(), None)
    if shared is not None:
        shared.close()


class VectorStore:
    """Chunk vectors in one Chroma collection; ``search`` returns ``(chunk_id, cosine)``.

    With a local folder (``path``), Chroma is imported and opened only when the vectors are
    actually read or written: ``count`` and ``is_current``, which every ``assistant ask``
    checks before answering, are then answered from a small manifest this class keeps beside
    Chroma's files, trusted only while Chroma's database is unchanged since the manifest was
    written (``sqlite_witness``); otherwise Chroma is opened and asked, as before. Importing
    Chroma takes 1-2 s, and a question typed without diacritics never reads the vectors.
    """

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
        self._collection: Collection | None = None
        self._open_client: ClientAPI | None = None
        self._generation = -1
        self._store: Chroma | None = None
        # Only a folder this class opens itself has files to watch; a server, or a client
        # handed in (its settings unknown), is opened now and asked every time, as before.
        self._path = path if client is None and not url else None
        self._client = client
        self._shared: _SharedChroma | None = None
        self._lock: threading.RLock | Any = threading.RLock()
        if self._path is not None:
            self._path.mkdir(parents=True, exist_ok=True)
            self._shared = shared_chroma(self._path)
            self._lock = self._shared.lock
        else:
            if self._client is None:
                self._client = chroma_client(path=path, url=url)
            self._ensure_open()

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> VectorStore:
        if settings.chroma_url:
            return cls(embedder, url=settings.chroma_url)
        return cls(embedder, path=settings.index / "chroma")

    @property
    def client(self) -> ClientAPI:
        with self._lock:
            if self._shared is not None:
                return self._shared.client()
            if self._client is None:
                self._client = chroma_client(path=self._path)
            return self._client

    # --- opening --------------------------------------------------------------------------

    def _ensure_open(self) -> Collection:
        with self._lock:
            client = self.client  # opening a persistent client writes to its database
            generation = self._shared.generation if self._shared is not None else 0
            if self._collection is None or generation != self._generation:
                before = self._witness()
                self._collection = self._get_or_create(client, None)
                self._open_client = client
                self._generation = generation
                self._store = None
                self._remember(before)
            return self._collection

    def _get_or_create(self, client: ClientAPI, metadata: dict[str, Any] | None) -> Collection:
        from chromadb.api.collection_configuration import (
            CreateCollectionConfiguration,
            CreateHNSWConfiguration,
        )

        try:
            # ``embedding_function=None``: omitting it would bind Chroma's default, which
            # downloads a model; vectors always come ready-made from our Embedder.
            return client.get_or_create_collection(
                name=self.collection_name,
                embedding_function=None,
                metadata=metadata,
                configuration=CreateCollectionConfiguration(
                    hnsw=CreateHNSWConfiguration(space=_SPACE)
                ),
            )
        except Exception as exc:
            raise BackendError(
                f"Không mở được bộ sưu tập Chroma '{self.collection_name}': {exc}"
            ) from exc

    @property
    def langchain_store(self) -> Chroma:
        """The collection as LangChain's ``Chroma`` store (LangChain is imported here)."""
        with self._lock:
            if self._store is None:
                from langchain_chroma import Chroma

                from assistant.retrieve.langchain_adapter import EmbedderEmbeddings

                self._ensure_open()
                self._store = Chroma(
                    collection_name=self.collection_name,
                    embedding_function=EmbedderEmbeddings(self.embedder),
                    client=self._open_client,  # the client of the open collection
                )
            return self._store

    # --- the manifest -----------------------------------------------------------------------

    def _witness(self) -> list[int] | None:
        return None if self._path is None else sqlite_witness(self._path / _SQLITE)

    def _read_manifest(self) -> dict[str, Any]:
        if self._path is None:
            return {}
        try:
            data = json.loads((self._path / _MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _cached(self) -> dict[str, Any] | None:
        """The manifest's entry for this collection, if Chroma's database has not changed
        since it was written; None means "ask Chroma"."""
        if self._path is None:
            return None
        entry = self._read_manifest().get(self.collection_name)
        if not isinstance(entry, dict):
            return None
        witness = self._witness()
        if witness is None or entry.get("witness") != witness:
            return None
        if not isinstance(entry.get("count"), int):
            return None
        return entry

    def _remember(self, before: list[int] | None) -> None:
        """Record identity, distance and count, read from the open collection, if nothing
        wrote to Chroma's database from ``before`` until after the reads."""
        if self._path is None or before is None or self._collection is None:
            return
        try:
            # The open collection itself, never ``_ensure_open``: that may reopen the client
            # (another process wrote) and so close the collection the caller still holds.
            entry = {
                "identity": _identity_of(self._collection),
                "space": _space_of(self._collection),
                "count": int(self._collection.count()),
                "witness": before,
            }
        except Exception:
            return  # the manifest is an optimization: Chroma stays the authority
        if self._witness() != before:
            return
        data = self._read_manifest()
        data[self.collection_name] = entry
        with contextlib.suppress(OSError):
            fd, tmp_name = tempfile.mkstemp(prefix=".manifest.", dir=self._path)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            try:
                os.replace(tmp_name, self._path / _MANIFEST)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def _after_write(self) -> None:
        if self._shared is not None:
            self._shared.wrote()
        if self._path is not None:
            self._remember(self._witness())

    # --- identity and size ----------------------------------------------------------------

    def _live_identity(self) -> str | None:
        return _identity_of(self._ensure_open())

    def _live_space(self) -> str | None:
        return _space_of(self._ensure_open())

    @property
    def stored_identity(self) -> str | None:
        with self._lock:
            if self._collection is None and (entry := self._cached()) is not None:
                value = entry.get("identity")
                return value if isinstance(value, str) else None
            return self._live_identity()

    def is_current(self, identity: str) -> bool:
        """True when the collection was built for ``identity`` with cosine distance."""
        with self._lock:
            if self._collection is None and (entry := self._cached()) is not None:
                return entry.get("identity") == identity and entry.get("space") == _SPACE
            return self._live_identity() == identity and self._live_space() == _SPACE

    def count(self) -> int:
        with self._lock:
            if self._collection is None and (entry := self._cached()) is not None:
                return int(entry["count"])
            return int(self._ensure_open().count())

    # --- writes -----------------------------------------------------------------------------

    def reset(self, identity: str) -> None:
        """Drop every vector and start an empty collection stamped with ``identity``."""
        import chromadb.errors

        with self._lock:
            client = self.client
            with contextlib.suppress(chromadb.errors.NotFoundError, ValueError):
                client.delete_collection(self.collection_name)
            metadata = {
                _IDENTITY_KEY: identity,
                "embedder": self.embedder.identity,
                "chunker": CHUNKER_VERSION,
                "dimension": self.embedder.dimension,
            }
            self._collection = self._get_or_create(client, metadata)
            self._open_client = client
            self._store = None
            if self._shared is not None:
                # Other stores of this process hold the dropped collection: fetch it anew.
                self._shared.collections_replaced()
                self._generation = self._shared.generation
            self._after_write()

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
        with self._lock:
            # The batch size first: asking for the client after the collection is open would
            # close that collection's client if another process wrote in between.
            batch = max(1, min(1000, int(self.client.get_max_batch_size())))
            collection = self._ensure_open()
            for at in range(0, len(chunks), batch):
                part = chunks[at : at + batch]
                collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=matrix[at : at + batch],
                    documents=[c.text for c in part],
                    metadatas=[dict(c.metadata) for c in part],
                )
            self._after_write()

    def delete_notice(self, notice_id: str) -> None:
        with self._lock:
            self._ensure_open().delete(where={"notice_id": notice_id})
            self._after_write()

    def delete_ids(self, ids: Sequence[str]) -> None:
        with self._lock:
            collection = self._ensure_open()
            for at in range(0, len(ids), 1000):
                collection.delete(ids=list(ids[at : at + 1000]))
            self._after_write()

    # --- verification -----------------------------------------------------------------------

    def ids(self, page: int = 10_000) -> set[str]:
        """Every chunk id the collection holds (paged: no documents or vectors read)."""
        found: set[str] = set()
        with self._lock:
            collection = self._ensure_open()
            offset = 0
            while True:
                part = collection.get(include=[], limit=page, offset=offset)["ids"]
                found.update(part)
                if len(part) < page:
                    return found
                offset += page

    def missing(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` the collection does not hold."""
        if not ids:
            return set()
        with self._lock:
            held = set(self._ensure_open().get(ids=list(ids), include=[])["ids"])
        return set(ids) - held

    # --- reads ------------------------------------------------------------------------------

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
        if k <= 0:
            return []
        # The collection's own query, as LangChain's similarity_search_by_vector_with_
        # relevance_scores makes it (records without a document are skipped there too).
        # No count() first: Chroma returns fewer than ``n_results`` when it holds fewer (and
        # empty lists when empty), and counting 340k vectors cost 20 ms a question.
        with self._lock:
            results = self._ensure_open().query(
                query_embeddings=np.asarray(query_vector, dtype=np.float32).reshape(1, -1),
                n_results=k,
                where=clause,
                include=["documents", "distances"],
            )
        ids = results["ids"][0]
        documents: Sequence[str | None] = (results.get("documents") or [[]])[0]
        distances: Sequence[float] = (results.get("distances") or [[]])[0]
        # Cosine distance is 1 - cosine similarity.
        return [
            (cid, 1.0 - float(distance))
            for cid, document, distance in zip(ids, documents, distances, strict=False)
            if cid and document is not None
        ]
