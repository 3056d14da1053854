from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fictional_notice import Item, ben_lau_notice, build_notice
from langchain_core.documents import Document

from assistant.chunk import Chunk, chunk_notice
from assistant.embed.base import Embedder, Vectors
from assistant.errors import IndexStateError
from assistant.model import Level, Notice
from assistant.retrieve import (
    BM25Index,
    Filters,
    HybridRetriever,
    VectorStore,
    bm25_identity,
    is_unaccented,
    reciprocal_rank_fusion,
    tokenize,
    vector_identity,
)
from assistant.settings import Settings
from assistant.text import search_view

# --- a tiny deterministic embedder: one axis per topic ---------------------------------------

_TOPICS = {
    "money": ["ngan sach", "von dau tu", "thu phi", "kinh phi", "tien"],
    "land": ["mat bang", "boi thuong", "kiem dem", "den bu", "dat"],
    "school": ["truong", "thiet bi", "hoc sinh", "giao duc"],
    "people": ["y kien", "ho dan", "nguoi dan", "kien nghi"],
}


class TopicEmbedder:
    """Counts topic keywords (accent-free) so that paraphrases without shared words still
    land near each other, as a real model would; queries and passages share the space."""

    identity = "topic-test-v1"
    dimension = len(_TOPICS) + 1

    def _one(self, text: str) -> np.ndarray:
        view = search_view(text)
        vector = np.array(
            [sum(view.count(k) for k in keys) for keys in _TOPICS.values()] + [0.1],
            dtype=np.float32,
        )
        return vector / np.linalg.norm(vector)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, 5), np.float32)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self.embed_passages(texts)


def test_topic_embedder_satisfies_the_protocol() -> None:
    assert isinstance(TopicEmbedder(), Embedder)


def _second_notice() -> Notice:
    return build_notice(
        header=["UBND TỈNH LAM SƠN"],
        title="Kết luận của Chủ tịch UBND tỉnh tại cuộc họp về đất đai",
        opening=["Ngày 02/03/2025, Chủ tịch UBND tỉnh chủ trì cuộc họp."],
        body=[
            Item(
                "1.",
                "Sở Tài chính thẩm định giá đất tái định cư, hoàn thành trước ngày 30/04/2025.",
                number="1",
            ),
        ],
        closing=None,
        recipients=["Nơi nhận:", "- Lưu: VT."],
        signature=["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"],
        issuer="UBND TỈNH LAM SƠN",
        level=Level.PROVINCE,
        meeting=date(2025, 3, 2),
        source="lam-son.txt",
    )


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return chunk_notice(ben_lau_notice()) + chunk_notice(_second_notice())


@pytest.fixture(scope="module")
def by_id(chunks: list[Chunk]) -> dict[str, Chunk]:
    return {c.id: c for c in chunks}


def _id_of(chunks: list[Chunk], needle: str) -> str:
    (found,) = [c.id for c in chunks if needle in c.text]
    return found


# --- tokenization ----------------------------------------------------------------------------


def test_tokens_keep_one_letter_syllables_and_add_bigrams_and_plain_copies() -> None:
    tokens = tokenize("Rà soát ở xã; Ý kiến của Uỷ ban")
    assert "ở" in tokens and "ý" in tokens and "o" in tokens and "y" in tokens
    assert "ý_kiến" in tokens and "y_kien" in tokens
    assert "xã_ý" not in tokens  # no bigram across the semicolon
    assert "ủy_ban" in tokens  # old tone placement unified


def test_plain_query_tokens_are_a_subset_of_accented_text_tokens() -> None:
    text = set(tokenize("Giao phòng Tài chính - Kế hoạch chủ trì"))
    assert set(tokenize("phong tai chinh ke hoach")) <= text
    assert set(tokenize("PHÒNG TÀI CHÍNH")) <= text


# --- BM25 ------------------------------------------------------------------------------------


def test_bm25_unaccented_query_hits_accented_text(chunks: list[Chunk]) -> None:
    index = BM25Index()
    index.build(chunks)
    hits = index.search("phong tai chinh ke hoach", 3)
    assert hits[0][0] == _id_of(chunks, "2.1. Phòng Tài chính - Kế hoạch")
    hits = index.search("y kien ho dan", 1)
    assert hits[0][0] == _id_of(chunks, "ý kiến của hộ dân")


def test_bm25_one_letter_syllables_are_indexed(chunks: list[Chunk]) -> None:
    index = BM25Index()
    index.build(chunks)
    assert [cid for cid, _ in index.search("ở", 5)] == [_id_of(chunks, "chợ Đồng Xoan ở xã")]


def test_bm25_filters_and_unknown_words(chunks: list[Chunk]) -> None:
    index = BM25Index()
    index.build(chunks)
    assert index.search("zzzkhongco", 5) == []
    province = index.ids_where(Filters(level=Level.PROVINCE).matches)
    hits = index.search("tài chính", 10, where=Filters(level=Level.PROVINCE).matches)
    assert hits and all(cid in province for cid, _ in hits)
    assert _id_of(chunks, "Sở Tài chính thẩm định") == hits[0][0]


def test_bm25_where_filters_by_notice_facts(chunks: list[Chunk]) -> None:
    index = BM25Index()
    index.build(chunks)
    district = Filters(level=Level.DISTRICT).matches
    hits = index.search("tài chính", 10, where=district)
    allowed = index.ids_where(district)
    assert hits and allowed and all(cid in allowed for cid, _ in hits)
    assert len(index.mask_where(district)) == len(index)
    unfiltered = {cid for cid, _ in index.search("tài chính", 50)}
    assert unfiltered - allowed  # the filter removed something real


@pytest.mark.parametrize(("spill_tokens", "block_pairs"), [(4_000_000, 8_000_000), (97, 50), (500, 1)])
def test_bm25_scores_equal_bm25s_own_index(
    chunks: list[Chunk], monkeypatch: pytest.MonkeyPatch, spill_tokens: int, block_pairs: int
) -> None:
    """The streaming build (also split into many spill parts and many column blocks) scores
    exactly as bm25s does when it indexes the same token lists itself."""
    import bm25s

    from assistant.retrieve import bm25 as bm25_module

    monkeypatch.setattr(bm25_module, "_SPILL_TOKENS", spill_tokens)
    monkeypatch.setattr(bm25_module, "_BLOCK_PAIRS", block_pairs)
    index = BM25Index()
    index.build(chunks)
    reference = bm25s.BM25()
    reference.index([tokenize(c.index_text) for c in chunks], show_progress=False)
    for query in ("phòng tài chính kế hoạch", "ubnd xã", "y kien ho dan", "ở"):
        tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
        expected = reference.get_scores(tokens)
        assert index._retriever is not None
        token_ids = index._retriever.get_tokens_ids(tokenize(query))
        got = index._scores(token_ids, skip_common=False)
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-6), query
        assert got.max() > 0


def test_bm25_tokens_found_in_every_chunk_only_matter_alone(chunks: list[Chunk]) -> None:
    """A word in every chunk (here "ubnd" of the notice line) is skipped next to
    informative words, but a question made only of it still finds passages."""
    index = BM25Index()
    index.build(chunks)
    word = "ubnd"
    assert all(word in tokenize(c.index_text) for c in chunks)
    assert [cid for cid, _ in index.search(f"{word} kiểm đếm", 5)] == [
        cid for cid, _ in index.search("kiểm đếm", 5)
    ]
    assert len(index.search(word, 5)) == 5


def test_bm25_write_streams_into_place_and_opens_mapped(tmp_path: Path, chunks: list[Chunk]) -> None:
    built = BM25Index("id-1")
    built.build(chunks)
    target = tmp_path / "bm25"
    written = BM25Index.write(target, iter(chunks), "id-1")
    assert written.is_current("id-1") and len(written) == len(built) == len(chunks)
    assert isinstance(written._ids, np.memmap)
    for query in ("tài chính", "hộ dân", "ubnd"):
        assert written.search(query, 5) == built.search(query, 5)
    BM25Index.write(target, iter(chunks[:2]), "id-2")  # replaces it
    assert len(BM25Index.load(target)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25"]


def test_bm25_index_of_an_older_format_asks_for_reindex(tmp_path: Path) -> None:
    old = tmp_path / "bm25"
    old.mkdir()
    (old / "chunks.json").write_text('{"format": 1, "ids": [], "metadata": []}', encoding="utf-8")
    with pytest.raises(IndexStateError, match="reindex"):
        BM25Index.load(old)


def test_bm25_save_load_round_trip_is_atomic(tmp_path: Path, chunks: list[Chunk]) -> None:
    identity = bm25_identity(1200)
    index = BM25Index(identity)
    index.build(chunks)
    target = tmp_path / "bm25"
    index.save(target)
    index.build(chunks[:3])
    index.save(target)  # replaces the previous one
    loaded = BM25Index.load(target)
    assert loaded.is_current(identity) and not loaded.is_current("other")
    assert len(loaded) == 3
    assert loaded.search("ubnd", 5) == index.search("ubnd", 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25"]  # no temp dirs left


def test_bm25_load_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(IndexStateError):
        BM25Index.load(tmp_path / "nothing")
    empty = BM25Index("x")
    empty.build([])
    empty.save(tmp_path / "empty")
    assert BM25Index.load(tmp_path / "empty").search("bất kỳ", 3) == []


# --- filters ---------------------------------------------------------------------------------


def test_filters_translate_to_where_and_agree_with_matches(chunks: list[Chunk]) -> None:
    assert Filters().to_where() is None
    assert Filters(level=Level.DISTRICT).to_where() == {"level": "huyen"}
    flt = Filters(
        issuer="ubnd thi xa ben lau", date_from=date(2024, 1, 1), date_to=date(2024, 12, 31)
    )
    where = flt.to_where()
    assert where is not None and len(where["$and"]) == 3
    matched = {c.notice_id for c in chunks if flt.matches(c.metadata)}
    assert matched == {ben_lau_notice().id}


# --- Chroma (embedded, persistent) -----------------------------------------------------------


def _store(path: Path) -> VectorStore:
    return VectorStore(TopicEmbedder(), path=path)


def test_chroma_persistent_round_trip(tmp_path: Path, chunks: list[Chunk]) -> None:
    embedder = TopicEmbedder()
    identity = vector_identity(embedder.identity, 1200)
    store = _store(tmp_path / "chroma")
    assert not store.is_current(identity)  # fresh, unstamped
    store.reset(identity)
    store.add(chunks, embedder.embed_passages([c.index_text for c in chunks]))
    assert store.count() == len(chunks)

    reopened = _store(tmp_path / "chroma")
    assert reopened.is_current(identity)
    assert not reopened.is_current(vector_identity("another-model", 1200))
    assert not reopened.is_current(vector_identity(embedder.identity, 800))
    query = embedder.embed_queries(["đền bù đất cho người dân"])[0]
    hits = reopened.search(query, 3)
    assert len(hits) == 3
    assert hits[0][0] == _id_of(chunks, "Đẩy nhanh kiểm đếm")
    assert 0.0 < hits[0][1] <= 1.0001 and hits[0][1] >= hits[1][1]

    district = reopened.search(query, 50, where=Filters(level=Level.PROVINCE))
    assert district and {cid for cid, _ in district} <= {
        c.id for c in chunks if c.metadata["level"] == "tinh"
    }
    dated = reopened.search(query, 50, where=Filters(date_to=date(2024, 12, 31)))
    assert {cid for cid, _ in dated} == {c.id for c in chunks if c.notice_id == ben_lau_notice().id}

    reopened.delete_notice(ben_lau_notice().id)
    left = reopened.search(query, 50)
    assert left and all(
        cid not in {c.id for c in chunk_notice(ben_lau_notice())} for cid, _ in left
    )
    assert _store(tmp_path / "chroma").count() == len(chunk_notice(_second_notice()))

    reopened.reset("new-identity")
    assert reopened.count() == 0 and reopened.is_current("new-identity")
    assert reopened.search(query, 5) == []  # an empty collection answers with nothing


def test_chroma_rejects_vectors_of_another_dimension(tmp_path: Path, chunks: list[Chunk]) -> None:
    store = _store(tmp_path / "chroma")
    with pytest.raises(IndexStateError):
        store.add(chunks[:2], np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        store.add(chunks[:2], np.ones((3, 5), dtype=np.float32))


def test_vector_store_from_settings_uses_index_dir(tmp_path: Path) -> None:
    store = VectorStore.from_settings(Settings(index=tmp_path), TopicEmbedder())
    assert store.count() == 0
    assert (tmp_path / "chroma").is_dir()


# --- hybrid fusion ---------------------------------------------------------------------------


def test_rrf_prefers_items_found_by_both() -> None:
    fused = reciprocal_rank_fusion([["a", "both", "c"], ["d", "both", "e"]], k=60)
    assert fused[0][0] == "both"
    assert fused[0][1] == pytest.approx(2 / 62)
    weighted = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], k=60, weights=[3.0, 1.0])
    assert weighted[0][0] == "a"


@pytest.fixture()
def hybrid(tmp_path: Path, chunks: list[Chunk], by_id: dict[str, Chunk]) -> HybridRetriever:
    embedder = TopicEmbedder()
    bm25 = BM25Index()
    bm25.build(chunks)
    store = _store(tmp_path / "chroma")
    store.reset(vector_identity(embedder.identity, 1200))
    store.add(chunks, embedder.embed_passages([c.index_text for c in chunks]))
    return HybridRetriever(bm25, store, embedder, by_id, candidates=3)


def test_hybrid_ranks_a_passage_found_by_both_first(
    hybrid: HybridRetriever, chunks: list[Chunk]
) -> None:
    # "kiểm đếm" is a literal match (BM25) and "đền bù" a paraphrase only the embedder knows.
    results = hybrid.search("đền bù, kiểm đếm cho hộ dân", k=5)
    top = results[0]
    assert top.chunk.id == _id_of(chunks, "Đẩy nhanh kiểm đếm")
    assert top.bm25_rank is not None and top.vector_rank is not None
    # BM25's own winner (the "hộ dân" item) is not among the dense candidates: it loses to
    # the passage both retrievers found, although BM25 ranked that one lower.
    lexical_winner = next(r for r in results if r.bm25_rank == 1)
    assert lexical_winner.chunk.id == _id_of(chunks, "ý kiến của hộ dân")
    assert lexical_winner.vector_rank is None
    assert top.bm25_rank > 1
    single = [r for r in results if (r.bm25_rank is None) != (r.vector_rank is None)]
    assert len(single) == len(results) - 1
    assert all(top.score > r.score for r in single)


def test_hybrid_filters_apply_to_both_sides(hybrid: HybridRetriever, chunks: list[Chunk]) -> None:
    results = hybrid.search("tài chính đất", k=10, filters=Filters(level=Level.PROVINCE))
    assert results
    assert {r.chunk.notice_id for r in results} == {_second_notice().id}
    assert hybrid.search("   ", k=5) == []


def test_hybrid_without_vectors_is_lexical(chunks: list[Chunk], by_id: dict[str, Chunk]) -> None:
    bm25 = BM25Index()
    bm25.build(chunks)
    lexical = HybridRetriever(bm25, None, None, by_id)
    results = lexical.search("phong giao duc", k=2)
    assert results[0].chunk.id == _id_of(chunks, "2.3. Phòng Giáo dục")
    assert results[0].vector_rank is None


def test_unaccented_queries_skip_the_dense_side(
    tmp_path: Path, chunks: list[Chunk], by_id: dict[str, Chunk]
) -> None:
    assert is_unaccented("phong tai chinh 2024") and not is_unaccented("phòng tài chính")
    calls: list[list[str]] = []

    class Spy(TopicEmbedder):
        def embed_queries(self, texts: list[str]) -> Vectors:
            calls.append(texts)
            return super().embed_queries(texts)

    embedder = Spy()
    bm25 = BM25Index()
    bm25.build(chunks)
    store = _store(tmp_path / "chroma")
    store.add(chunks, embedder.embed_passages([c.index_text for c in chunks]))
    plain = HybridRetriever(bm25, store, embedder, by_id).search("boi thuong kiem dem", k=3)
    assert plain[0].chunk.id == _id_of(chunks, "Đẩy nhanh kiểm đếm")
    assert calls == [] and all(r.vector_rank is None for r in plain)
    both = HybridRetriever(bm25, store, embedder, by_id, unaccented_dense_weight=1.0)
    assert any(r.vector_rank is not None for r in both.search("boi thuong kiem dem", k=3))
    assert calls == [["boi thuong kiem dem"]]


def test_langchain_retriever_returns_documents_with_spans(
    hybrid: HybridRetriever, chunks: list[Chunk]
) -> None:
    docs = hybrid.as_langchain_retriever(k=2).invoke("thiết bị trường Tiểu học Cửa Lau")
    assert docs and all(isinstance(d, Document) for d in docs)
    doc = docs[0]
    notice = ben_lau_notice()
    assert doc.page_content == notice.text[doc.metadata["start"] : doc.metadata["end"]]
    assert "Cửa Lau" in doc.page_content
    assert doc.metadata["notice_id"] == notice.id
    assert doc.metadata["heading_path"] == ["II. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI"]
