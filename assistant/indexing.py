"""The search indexes (Chroma vectors + BM25 + chunk table) kept in step with the canonical store.

They are caches: everything here can be rebuilt from the SQLite records. A small state file
records the identity the caches were built for (embedder + chunker + chunk parameters) and the
canonical store's fingerprint, so a stale cache is detected at start-up and rebuilt instead of
silently answering from a different set of notices or from incompatible vectors.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.chunk import Chunk, chunk_notice
from assistant.embed import make_embedder
from assistant.embed.base import Embedder, Vectors, return_freed_heap
from assistant.errors import AssistantError, IndexStateError
from assistant.model import Notice
from assistant.retrieve.bm25 import BM25Index, bm25_identity
from assistant.retrieve.hybrid import HybridRetriever
from assistant.retrieve.vectors import VectorStore, discard_store, probe_chroma, vector_identity
from assistant.settings import Settings
from assistant.store import Store

log = logging.getLogger(__name__)

MAX_CHUNK_CHARS = 1200
FLUSH_CHUNKS = 512
# A batch that embedded at least this many chunks releases the passage model before its
# vectors go into Chroma and BM25 is built: the model's memory (≈1.5 GiB with torch) and
# Chroma's in-memory HNSW index of the whole archive (≈0.6 GiB at 10k notices, 384
# dimensions) are then never held at the same time. Smaller batches (an upload to the
# server) keep the model for the next one.
RELEASE_MODEL_AFTER_CHUNKS = 20_000
_STATE_FILE = "search_state.json"
# Chunk ids looked up in Chroma after every batch, on top of comparing the counts.
_VECTOR_SAMPLE = 256


@dataclass(frozen=True)
class IndexStatus:
    identity: str
    vectors_current: bool
    bm25_current: bool
    in_step_with_store: bool
    notices: int
    chunks: int
    vectors: int
    bm25_documents: int = 0
    # What comparing the caches with the chunk table found (counts; ids when checked deeply).
    mismatches: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return (self.vectors_current and self.bm25_current and self.in_step_with_store
                and not self.mismatches)

    def problems(self) -> list[str]:
        found = list(self.mismatches)
        if not self.vectors_current:
            found.append("chỉ mục vector được tạo bằng mô hình/cách chia đoạn khác hoặc chưa có")
        if not self.bm25_current:
            found.append("chỉ mục BM25 cũ, hỏng hoặc chưa có")
        if not self.in_step_with_store:
            found.append("chỉ mục tìm kiếm không khớp với kho thông báo (có tệp được thêm/xóa dở)")
        return found


class ChunkTable:
    """Chunk records by id (SQLite), so a retriever hit becomes a citable passage."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, notice_id TEXT NOT NULL,"
            " data TEXT NOT NULL)"
        )
        self._conn.execute("CREATE INDEX IF NOT EXISTS chunks_notice ON chunks(notice_id)")

    def replace_notice(self, notice_ids: Iterable[str], chunks: Sequence[Chunk]) -> None:
        with self._conn:
            for notice_id in notice_ids:
                self._conn.execute("DELETE FROM chunks WHERE notice_id=?", (notice_id,))
            self._conn.executemany(
                "INSERT OR REPLACE INTO chunks(id, notice_id, data) VALUES (?,?,?)",
                [(c.id, c.notice_id, c.model_dump_json()) for c in chunks],
            )

    def clear(self) -> None:
        with self._conn:
            self._conn.execute("DELETE FROM chunks")

    def get_many(self, ids: Sequence[str]) -> Mapping[str, Chunk]:
        found: dict[str, Chunk] = {}
        for at in range(0, len(ids), 500):
            part = list(ids[at : at + 500])
            marks = ",".join("?" * len(part))
            for cid, data in self._conn.execute(
                f"SELECT id, data FROM chunks WHERE id IN ({marks})", part
            ):
                found[cid] = Chunk.model_validate_json(data)
        return found

    def stream(self, batch: int = 1000) -> Iterator[Chunk]:
        """Every chunk, notice by notice, read in batches: an archive's chunks never sit in
        memory together (≈340k at 10k notices)."""
        cursor = self._conn.execute("SELECT data FROM chunks ORDER BY notice_id, rowid")
        while rows := cursor.fetchmany(batch):
            for (data,) in rows:
                yield Chunk.model_validate_json(data)

    def notice_ids(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT DISTINCT notice_id FROM chunks")}

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def ids(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT id FROM chunks")}

    def sample_ids(self, count: int) -> list[str]:
        return [row[0] for row in self._conn.execute(
            "SELECT id FROM chunks ORDER BY random() LIMIT ?", (count,))]

    def close(self) -> None:
        self._conn.close()


class _VectorSpill:
    """Vectors embedded during the current batch, kept on disk until the batch ends."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._dir: Path | None = None
        self._parts: list[Path] = []
        self.count = 0

    def add(self, ids: Sequence[str], vectors: Vectors) -> None:
        if self._dir is None:
            self._root.mkdir(parents=True, exist_ok=True)
            # Only the one writer (see locks.py) spills, so any other spill is what a killed
            # batch left behind.
            for leftover in self._root.glob(".vectors-*"):
                shutil.rmtree(leftover, ignore_errors=True)
            self._dir = Path(tempfile.mkdtemp(prefix=".vectors-", dir=self._root))
        path = self._dir / f"{len(self._parts):06d}.npz"
        np.savez(path, ids=np.array(ids), vectors=np.asarray(vectors, dtype=np.float32))
        self._parts.append(path)
        self.count += len(ids)

    def read(self) -> Iterator[tuple[list[str], np.ndarray]]:
        for path in self._parts:
            with np.load(path) as part:
                yield [str(i) for i in part["ids"]], part["vectors"]

    def discard(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None
        self._parts = []
        self.count = 0


class SearchIndex:
    """Owns the caches for one data directory; implements ``ingest.NoticeIndexer``."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder or make_embedder(settings.embedding, settings.index, lazy=True)
        self.identity = _combined_identity(self.embedder.identity)
        self.root = settings.index
        self.chunks = ChunkTable(self.root / "chunks.sqlite3")
        self.vectors = VectorStore.from_settings(settings, self.embedder)
        self._bm25: BM25Index | None = None
        self._bm25_dirty = False
        self._pending: list[Chunk] = []
        self._spill = _VectorSpill(self.root)

    # --- status -------------------------------------------------------------------------

    def status(self, deep: bool = False) -> IndexStatus:
        """The caches' state. Always compared by counts (vectors and BM25 documents against the
        chunk table); ``deep`` also compares every id and the chunk table's notices with the
        store (what ``doctor`` runs)."""
        if deep and (broken := self.broken_vectors()) is not None:
            # Never opened here: it would crash this process too.
            return IndexStatus(
                identity=self.identity, vectors_current=False, bm25_current=False,
                in_step_with_store=False, notices=self.store.count()["notices"],
                chunks=self.chunks.count(), vectors=-1,
                mismatches=(f"kho vector bị hỏng: {broken}",),
            )
        state = self._read_state()
        bm25 = self._load_bm25()
        vectors_current = self.vectors.is_current(vector_identity(self.embedder.identity, MAX_CHUNK_CHARS))
        bm25_current = bm25 is not None and bm25.is_current(bm25_identity(MAX_CHUNK_CHARS))
        chunks = self.chunks.count()
        vectors = self.vectors.count()
        bm25_documents = len(bm25) if bm25 is not None else 0
        mismatches = self._count_mismatches(chunks, vectors if vectors_current else None,
                                            bm25_documents if bm25_current else None)
        if deep and not mismatches:
            mismatches += self._id_mismatches(bm25 if bm25_current else None, full=True,
                                              vectors_current=vectors_current)
        return IndexStatus(
            identity=self.identity,
            vectors_current=vectors_current,
            bm25_current=bm25_current,
            in_step_with_store=state.get("identity") == self.identity
            and state.get("store") == self.store.fingerprint(),
            notices=self.store.count()["notices"],
            chunks=chunks,
            vectors=vectors,
            bm25_documents=bm25_documents,
            mismatches=tuple(mismatches),
        )

    @staticmethod
    def _count_mismatches(chunks: int, vectors: int | None, bm25_documents: int | None) -> list[str]:
        found = []
        if vectors is not None and vectors != chunks:
            found.append(f"chỉ mục vector có {vectors} vector nhưng bảng đoạn có {chunks} đoạn")
        if bm25_documents is not None and bm25_documents != chunks:
            found.append(f"chỉ mục BM25 có {bm25_documents} đoạn nhưng bảng đoạn có {chunks} đoạn")
        return found

    def _id_mismatches(self, bm25: BM25Index | None, *, full: bool, vectors_current: bool = True) -> list[str]:
        """Ids compared with the chunk table: BM25's in full (they are in memory already), the
        vectors' in full or, on every write, a random sample (a Chroma look-up by id)."""
        found = []
        chunk_ids = self.chunks.ids()
        if bm25 is not None and set(bm25.ids) != chunk_ids:
            found.append("mã đoạn trong chỉ mục BM25 khác bảng đoạn")
        if vectors_current:
            if full:
                differ = self.vectors.ids() != chunk_ids
            else:
                differ = bool(self.vectors.missing(self.chunks.sample_ids(_VECTOR_SAMPLE)))
            if differ:
                found.append("mã đoạn trong chỉ mục vector khác bảng đoạn")
        if full and self.chunks.notice_ids() != set(self.store.ids()):
            found.append("bảng đoạn không khớp với các thông báo trong kho")
        return found

    def _verified(self) -> list[str]:
        """What still differs between the caches and the chunk table (empty when complete):
        counts, BM25 ids, a sample of vector ids."""
        bm25 = self._load_bm25()
        found = self._count_mismatches(self.chunks.count(), self.vectors.count(),
                                       len(bm25) if bm25 is not None else None)
        return found or self._id_mismatches(bm25, full=False)

    def broken_vectors(self) -> str | None:
        """What went wrong opening the local vector store in a child process, or None."""
        if self.settings.chroma_url:
            return None
        return probe_chroma(self.root / "chroma")

    def ensure_current(self, on_progress: Callable[[int, int], None] | None = None) -> bool:
        """Rebuild when stale; returns True if a rebuild happened."""
        if self.status().healthy:
            return False
        log.warning("search indexes are stale; rebuilding from the canonical store")
        self.rebuild(on_progress)
        return True

    # --- writes -------------------------------------------------------------------------

    def notice_stored(self, notice: Notice, replaced: Sequence[str]) -> None:
        identity = vector_identity(self.embedder.identity, MAX_CHUNK_CHARS)
        if not self.vectors.is_current(identity) and self.vectors.count() == 0 and self.chunks.count() == 0:
            # A brand-new index: stamp it and fill it as notices arrive, instead of deferring
            # everything to a rebuild that would read every notice back from the store.
            self.vectors.reset(identity)
        if not self.vectors.is_current(identity):
            # Incompatible vectors: adding to them would mix models; rebuild everything at finish.
            self._bm25_dirty = True
            self._write_state(stale=True)
            return
        self._write_state(stale=True)  # until finish() the caches lag behind the store
        chunks = chunk_notice(notice, MAX_CHUNK_CHARS)
        for old_id in replaced:
            self.vectors.delete_notice(old_id)
            self._pending = [c for c in self._pending if c.notice_id != old_id]
        self.chunks.replace_notice([*replaced, notice.id], chunks)
        self._pending.extend(chunks)
        self._bm25_dirty = True
        if len(self._pending) >= FLUSH_CHUNKS:
            self._flush()

    def _flush(self) -> None:
        """Embed and store buffered chunks: one model call and one Chroma upsert per batch of
        hundreds of chunks, instead of one per notice (Chroma costs ~5x less per chunk so)."""
        pending, self._pending = self._pending, []
        if pending:
            vectors = self.embedder.embed_passages([c.embed_text or c.index_text for c in pending])
            self._spill.add([c.id for c in pending], vectors)

    def _store_vectors(self) -> None:
        """Write the batch's spilled vectors to Chroma, after releasing the passage model when
        the batch was large. Chunks no longer in the chunk table (their notice was replaced
        later in the batch) are skipped."""
        if self._spill.count >= RELEASE_MODEL_AFTER_CHUNKS:
            release = getattr(self.embedder, "release", None)
            if callable(release):
                release()
                _return_freed_memory()
        try:
            for ids, vectors in self._spill.read():
                found = self.chunks.get_many(ids)
                keep = [i for i, cid in enumerate(ids) if cid in found]
                self.vectors.add([found[ids[i]] for i in keep], vectors[keep])
        finally:
            self._spill.discard()

    def notice_deleted(self, notice_id: str) -> None:
        self._write_state(stale=True)
        self.vectors.delete_notice(notice_id)
        self.chunks.replace_notice([notice_id], [])
        self._bm25_dirty = True
        self.finish()

    def finish(self) -> None:
        """After a batch: rebuild BM25 over all chunks and record that caches match the store."""
        self._flush()
        if not self.vectors.is_current(vector_identity(self.embedder.identity, MAX_CHUNK_CHARS)) or (
            self.chunks.notice_ids() != set(self.store.ids())
        ):
            self.rebuild()
            return
        self._store_vectors()
        if self._bm25_dirty or self._load_bm25() is None:
            self._save_bm25()
        self._bm25_dirty = False
        # A batch killed after its chunks were stored leaves vectors and BM25 behind the chunk
        # table, and the next run finds its files unchanged: so the caches are compared with
        # the chunk table before they are marked current, and completed where they lag.
        if self._verified():
            self.repair()
        self._mark_current()

    def repair(self) -> None:
        """Bring vectors and BM25 level with the chunk table: embed the chunks Chroma lacks,
        drop the vectors of chunks no longer there, rebuild BM25 if its ids differ. A rebuild
        instead when the chunk table itself does not cover the store."""
        self._write_state(stale=True)
        if not self.vectors.is_current(vector_identity(self.embedder.identity, MAX_CHUNK_CHARS)) or (
            self.chunks.notice_ids() != set(self.store.ids())
        ):
            self.rebuild()
            return
        chunk_ids = self.chunks.ids()
        held = self.vectors.ids()
        if extra := sorted(held - chunk_ids):
            self.vectors.delete_ids(extra)
        missing = sorted(chunk_ids - held)
        log.info("search index: %d vectors missing, %d extra; repairing", len(missing), len(extra))
        for at in range(0, len(missing), FLUSH_CHUNKS):
            found = self.chunks.get_many(missing[at : at + FLUSH_CHUNKS])
            self._pending.extend(found.values())
            self._flush()
        self._store_vectors()
        bm25 = self._load_bm25()
        if bm25 is None or set(bm25.ids) != chunk_ids:
            self._save_bm25()
        self._bm25_dirty = False
        self._mark_current()

    def _mark_current(self) -> None:
        if problems := self._verified():
            raise IndexStateError(
                "Chỉ mục tìm kiếm chưa khớp với bảng đoạn sau khi cập nhật ("
                + "; ".join(problems) + "). Hãy chạy 'assistant reindex'."
            )
        self._write_state(stale=False)

    def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Re-chunk and re-embed every stored notice; returns the number of chunks."""
        self._write_state(stale=True)
        self.vectors.reset(vector_identity(self.embedder.identity, MAX_CHUNK_CHARS))
        self.chunks.clear()
        self._pending = []
        self._spill.discard()
        ids = self.store.ids()
        total = 0
        for done, notice_id in enumerate(ids, start=1):
            # One notice at a time: a 10k-notice archive never sits in memory whole.
            chunks = chunk_notice(self.store.get(notice_id), MAX_CHUNK_CHARS)
            self.chunks.replace_notice([notice_id], chunks)
            self._pending.extend(chunks)
            total += len(chunks)
            if len(self._pending) >= FLUSH_CHUNKS:
                self._flush()
            if on_progress:
                on_progress(done, len(ids))
        self._flush()
        self._store_vectors()
        self._save_bm25()
        self._bm25_dirty = False
        self._mark_current()
        return total

    # --- reads --------------------------------------------------------------------------

    def retriever(self) -> HybridRetriever:
        bm25 = self._load_bm25()
        if bm25 is None:
            raise IndexStateError("Chưa có chỉ mục BM25; hãy chạy 'assistant reindex'.")
        return HybridRetriever(
            bm25,
            self.vectors,
            self.embedder,
            self.chunks.get_many,
            rrf_k=self.settings.retrieval.rrf_k,
            candidates=self.settings.retrieval.candidates,
        )

    def close(self) -> None:
        self.chunks.close()

    # --- internals ----------------------------------------------------------------------

    def _bm25_dir(self) -> Path:
        return self.root / "bm25"

    def _load_bm25(self) -> BM25Index | None:
        if self._bm25 is not None and not self._bm25_dirty:
            return self._bm25
        try:
            self._bm25 = BM25Index.load(self._bm25_dir())
        except AssistantError:
            self._bm25 = None
        return self._bm25

    def _save_bm25(self) -> None:
        self._bm25 = BM25Index.write(
            self._bm25_dir(), self.chunks.stream(), bm25_identity(MAX_CHUNK_CHARS)
        )

    def _state_path(self) -> Path:
        return self.root / _STATE_FILE

    def _read_state(self) -> dict[str, str]:
        try:
            data = json.loads(self._state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, *, stale: bool) -> None:
        state = {"identity": self.identity, "store": "" if stale else self.store.fingerprint()}
        path = self._state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, path)


def _return_freed_memory() -> None:
    """Collect garbage and give freed heap pages back, so the next phase of a large batch
    starts from a smaller resident set."""
    gc.collect()
    return_freed_heap()


def _combined_identity(embedder_identity: str) -> str:
    key = f"{vector_identity(embedder_identity, MAX_CHUNK_CHARS)}|{bm25_identity(MAX_CHUNK_CHARS)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def open_search_index(settings: Settings, store: Store) -> SearchIndex:
    return SearchIndex(settings, store)


def discard_crashing_vectors(settings: Settings) -> str | None:
    """Probe the local vector store in a child process; when opening it fails there (a store
    left broken makes every process that opens it crash), remove it so that the next rebuild
    starts from an empty one. Returns what the probe found, None when the store is fine.
    The caller holds the write lock."""
    if settings.chroma_url:
        return None
    folder = settings.index / "chroma"
    broken = probe_chroma(folder)
    if broken is not None:
        log.warning("vector store at %s cannot be opened (%s); removing it for a rebuild", folder, broken)
        discard_store(folder)
    return broken


def open_retriever(settings: Settings, store: Store) -> HybridRetriever:
    """A retriever over current indexes, rebuilding them first if they are stale (under the
    data directory's write lock, so a rebuild never races an ingest)."""
    index = open_search_index(settings, store)
    if not index.status().healthy:
        from assistant.locks import write_lock

        with write_lock(settings.index):
            index.ensure_current()
    return index.retriever()
