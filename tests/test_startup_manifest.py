"""The vector store's manifest: ``count``/``is_current`` without opening Chroma, but only while
Chroma's database is exactly as the manifest saw it; any other write sends the question back
to Chroma, so stale vectors are still detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.chunk import Chunk, chunk_notice
from assistant.embed.fake import FakeEmbedder
from assistant.retrieve.vectors import VectorStore, sqlite_witness, vector_identity
from tests.fictional_notice import ben_lau_notice

MANIFEST = ".assistant-collections.json"


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return chunk_notice(ben_lau_notice())


def _filled(path: Path, chunks: list[Chunk], identity: str) -> None:
    store = VectorStore(FakeEmbedder(), path=path)
    store.reset(identity)
    embedder = FakeEmbedder()
    store.add(chunks, embedder.embed_passages([c.index_text for c in chunks]))


def _opened(store: VectorStore) -> bool:
    return store._collection is not None


def test_a_fresh_store_answers_from_the_manifest(tmp_path: Path, chunks: list[Chunk]) -> None:
    identity = vector_identity(FakeEmbedder().identity, 1200)
    _filled(tmp_path, chunks, identity)
    store = VectorStore(FakeEmbedder(), path=tmp_path)
    assert store.count() == len(chunks)
    assert store.is_current(identity) and not store.is_current("another")
    assert store.stored_identity == identity
    assert not _opened(store), "answered without opening Chroma"
    # Opening it agrees with what the manifest said.
    assert store.search(FakeEmbedder().embed_queries(["kiểm đếm"])[0], 3)
    assert _opened(store) and store.count() == len(chunks) and store.is_current(identity)


def test_a_write_elsewhere_sends_the_check_back_to_chroma(
    tmp_path: Path, chunks: list[Chunk]
) -> None:
    identity = vector_identity(FakeEmbedder().identity, 1200)
    _filled(tmp_path, chunks, identity)
    manifest = (tmp_path / MANIFEST).read_text("utf-8")
    # Another model re-stamps the collection; the manifest left behind still names the old one.
    _filled(tmp_path, chunks[:2], "another-identity")
    (tmp_path / MANIFEST).write_text(manifest, "utf-8")
    store = VectorStore(FakeEmbedder(), path=tmp_path)
    assert not store.is_current(identity), "a stale manifest must not vouch for old vectors"
    assert store.count() == 2
    assert _opened(store)


@pytest.mark.parametrize("junk", ["", "{", "[]", '{"chunks": {"count": "many"}}'])
def test_a_damaged_manifest_is_ignored(tmp_path: Path, chunks: list[Chunk], junk: str) -> None:
    identity = vector_identity(FakeEmbedder().identity, 1200)
    _filled(tmp_path, chunks, identity)
    (tmp_path / MANIFEST).write_text(junk, "utf-8")
    store = VectorStore(FakeEmbedder(), path=tmp_path)
    assert store.count() == len(chunks) and store.is_current(identity)
    assert _opened(store)


def test_the_manifest_follows_writes_made_through_it(tmp_path: Path, chunks: list[Chunk]) -> None:
    identity = vector_identity(FakeEmbedder().identity, 1200)
    _filled(tmp_path, chunks, identity)
    writer = VectorStore(FakeEmbedder(), path=tmp_path)
    writer.delete_notice(ben_lau_notice().id)
    reader = VectorStore(FakeEmbedder(), path=tmp_path)
    assert reader.count() == 0
    assert not _opened(reader)
    entry = json.loads((tmp_path / MANIFEST).read_text("utf-8"))["chunks"]
    assert entry["witness"] == sqlite_witness(tmp_path / "chroma.sqlite3")


def test_witness_refuses_what_it_cannot_vouch_for(tmp_path: Path) -> None:
    assert sqlite_witness(tmp_path / "missing.sqlite3") is None
    (tmp_path / "not.sqlite3").write_bytes(b"plain text, not a database" * 10)
    assert sqlite_witness(tmp_path / "not.sqlite3") is None
    import sqlite3

    db = tmp_path / "db.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    first = sqlite_witness(db)
    assert first is not None
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    assert sqlite_witness(db) not in (None, first), "every committed write changes it"
    (tmp_path / "db.sqlite3-journal").write_bytes(b"x")  # a crashed write awaiting rollback
    assert sqlite_witness(db) is None
    (tmp_path / "db.sqlite3-journal").unlink()
    wal = tmp_path / "wal.sqlite3"
    with sqlite3.connect(wal) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    assert sqlite_witness(wal) is None, "WAL writes do not touch the main file's header"
