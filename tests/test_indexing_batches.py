"""Large ingest batches: vectors wait on disk until the batch ends, the passage model is
released before Chroma and BM25 take their memory, and nothing of a batch is left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import indexing
from assistant.agencies import get_gazetteer
from assistant.embed import LazyEmbedder
from assistant.embed.fake import FakeEmbedder
from assistant.ingest import ingest_paths
from assistant.settings import Settings
from assistant.store import Store

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "notices"
TEXT_SAMPLES = sorted(SAMPLES.glob("*.txt")) + sorted(SAMPLES.glob("*.md"))


def _index(tmp_path: Path) -> tuple[Store, indexing.SearchIndex, LazyEmbedder]:
    settings = Settings(index=tmp_path / "index", embedding={"backend": "fake"})
    store = Store(settings.db_path)
    fake = FakeEmbedder()
    lazy = LazyEmbedder(fake.identity, fake.dimension, lambda: FakeEmbedder())
    return store, indexing.SearchIndex(settings, store, embedder=lazy), lazy


def _ingest(paths: list[Path], store: Store, search: indexing.SearchIndex) -> None:
    """One batch, as ``assistant ingest`` runs it: every file, then ``finish``."""
    results = ingest_paths(paths, store, search.settings, get_gazetteer(None), indexer=search)
    assert all(r.status.value in ("added", "replaced", "unchanged") for r in results), results
    search.finish()


def _leftovers(search: indexing.SearchIndex) -> list[Path]:
    return sorted(search.root.glob(".vectors-*"))


def test_a_large_batch_releases_the_model_and_lands_every_vector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "RELEASE_MODEL_AFTER_CHUNKS", 1)
    store, search, lazy = _index(tmp_path)
    _ingest(TEXT_SAMPLES, store, search)
    assert not lazy.loaded  # released before the vectors went to Chroma
    status = search.status()
    assert status.healthy and status.chunks == status.vectors > 0
    assert _leftovers(search) == []
    # The released model comes back for the next question that needs it.
    hits = search.retriever().search("Ủy ban nhân dân", 3)
    assert hits and lazy.loaded


def test_a_small_batch_keeps_the_model_loaded(tmp_path: Path) -> None:
    store, search, lazy = _index(tmp_path)
    _ingest(TEXT_SAMPLES[:1], store, search)
    assert lazy.loaded
    assert search.status().healthy and _leftovers(search) == []


def test_a_notice_replaced_later_in_the_batch_leaves_no_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first version's chunks are embedded and spilled (flush after every notice), then
    the same file comes again with new content in the same batch: only the new version's
    vectors may reach Chroma."""
    monkeypatch.setattr(indexing, "FLUSH_CHUNKS", 1)
    store, search, _ = _index(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / TEXT_SAMPLES[0].name
    shutil.copy(TEXT_SAMPLES[0], target)
    ingest_paths([target], store, search.settings, get_gazetteer(None), indexer=search)
    search._flush()  # the first version's vectors are spilled; the batch goes on
    assert search._spill.count > 0
    target.write_text(target.read_text(encoding="utf-8") + "\nGhi chú bổ sung của phiên bản sau.\n", encoding="utf-8")
    _ingest([target], store, search)
    status = search.status()
    assert status.healthy and status.notices == 1
    assert status.vectors == status.chunks == search.chunks.count()


def test_a_spill_left_by_a_killed_batch_is_removed_by_the_next(tmp_path: Path) -> None:
    store, search, _ = _index(tmp_path)
    stale = search.root / ".vectors-killed"
    stale.mkdir(parents=True)
    np.savez(stale / "000000.npz", ids=np.array(["x"]), vectors=np.zeros((1, 4), dtype=np.float32))
    _ingest(TEXT_SAMPLES[:1], store, search)
    assert _leftovers(search) == []
