"""The passage vocabulary cut to Vietnamese pieces: same ids as the whole vocabulary for text
within its character set, on a small unigram vocabulary written here (the real folder is
checked in test_embed_query.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.embed import passage_vocabulary as pv
from assistant.embed.convert import MARKER_NAME

tokenizers = pytest.importorskip("tokenizers")

# (piece, score). "▁thông" is cheaper whole than in parts; "字" pieces are outside the set;
# the lowest score of all belongs to a piece outside the set and sets the unknown character's
# score (10 below it), which decides "zqr": "zq" + "r" (-30), or unknown "z" + "qr" (-51 with
# the whole vocabulary, -26 were the lowest score -15).
VOCAB: list[tuple[str, float]] = [
    ("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", -12.0),
    ("▁", -2.0), ("▁thông", -3.0), ("▁th", -4.0), ("ông", -4.0), ("▁báo", -3.5),
    ("b", -6.0), ("á", -6.0), ("o", -6.0), ("t", -6.0), ("h", -6.0), ("ô", -6.0), ("n", -6.0),
    ("g", -6.0), ("字", -5.0), ("▁字", -4.0), ("字字", -40.0),
    ("zq", -15.0), ("r", -15.0), ("qr", -1.0),
]


def _tokenizer_json(vocab: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": " "},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
            ],
        },
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "<s>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": "<s>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
            ],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]},
            },
        },
        "decoder": None,
        "model": {"type": "Unigram", "unk_id": 3, "vocab": [list(v) for v in vocab],
                  "byte_fallback": False},
    }


def _ids(tokenizer_json: str, texts: list[str]) -> list[list[int]]:
    tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json)
    return [list(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=True)]


def test_the_cut_vocabulary_gives_the_whole_vocabularys_ids_within_its_characters() -> None:
    data = _tokenizer_json(VOCAB)
    cut_json, full_ids = pv.cut_tokenizer_json(json.loads(json.dumps(data)))
    kept = [VOCAB[i][0] for i in full_ids]
    assert "▁字" not in kept and "字" not in kept
    assert "字字" in kept, "the lowest score sets the unknown character's score: kept"
    assert {"<s>", "</s>", "<unk>"} <= set(kept)
    vocabulary = pv.PassageVocabulary(cut_json, full_ids)
    texts = ["thông báo", "thông  báo thông", "zqr", "b zqr", "bông", "", "tháng"]
    assert not any(vocabulary.outside(t) for t in texts)
    whole = _ids(json.dumps(data), texts)
    cut = [full_ids[ids].tolist() for ids in _ids(cut_json, texts)]
    assert cut == whole
    assert vocabulary.outside("字 thông")
    assert not vocabulary.outside("Đề nghị Sở Tài chính – “khẩn”…")


def test_dropping_the_lowest_piece_would_change_ids() -> None:
    """The guard above is needed: the same cut without the lowest-scoring piece segments a
    text with an unknown character differently."""
    data = _tokenizer_json(VOCAB)
    text = ["zqr"]
    whole = _ids(json.dumps(data), text)
    lowest_removed = [v for v in VOCAB if v[0] != "字字"]
    other = _ids(json.dumps(_tokenizer_json(lowest_removed)), text)
    remap = {lowest_removed.index(v): VOCAB.index(v) for v in lowest_removed}
    assert [[remap[i] for i in ids] for ids in other] != whole


def test_the_file_is_tied_to_its_conversion_and_character_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "tokenizer.json").write_text(json.dumps(_tokenizer_json(VOCAB)), "utf-8")
    assert pv.write_passage_vocabulary(folder) is None, "no marker, nothing to tie it to"
    (folder / MARKER_NAME).write_text(json.dumps({"hash": "one"}), "utf-8")
    assert pv.write_passage_vocabulary(folder) == folder / pv.FILE_NAME
    loaded = pv.load_passage_vocabulary(folder)
    assert loaded is not None
    assert np.array_equal(loaded.full_ids, pv.cut_tokenizer_json(_tokenizer_json(VOCAB))[1])
    (folder / MARKER_NAME).write_text(json.dumps({"hash": "two"}), "utf-8")
    assert pv.load_passage_vocabulary(folder) is None, "a rebuilt folder makes it stale"
    assert pv.write_passage_vocabulary(folder) is not None
    monkeypatch.setattr(pv, "CHARSET", pv.CHARSET + "字")
    assert pv.load_passage_vocabulary(folder) is None, "another character set makes it stale"
    (folder / pv.FILE_NAME).write_bytes(b"not an npz")
    assert pv.load_passage_vocabulary(folder) is None
