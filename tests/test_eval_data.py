"""The evaluation data (eval/*.jsonl) is well-formed and every anchor is verbatim in its notice."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from assistant.load import load_path
from tests.conftest import seed_corpus_files

EVAL = Path(__file__).resolve().parents[1] / "eval"
CATEGORIES = {"assignment", "fact", "deadline", "unanswerable", "unaccented"}
ROLES = {"chu_tri", "phoi_hop", "thuc_hien", "de_nghi"}
LEVELS = {"trung_uong", "tinh", "huyen", "xa", "khong_ro"}
QUESTION_KEYS = {
    "id", "category", "question", "expected_files", "expected_anchors", "expected_answer", "must_refuse",
}
GOLD_KEYS = {"file", "agency", "level", "role", "anchor", "deadline"}


def _rows(name: str) -> list[dict[str, Any]]:
    lines = (EVAL / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def _text(corpus: Path, name: str) -> str:
    return load_path(corpus / name).text


def test_questions_are_valid_json_lines() -> None:
    rows = _rows("questions.jsonl")
    assert len(rows) >= 50
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == QUESTION_KEYS, r["id"]
        assert r["category"] in CATEGORIES, r["id"]
        assert isinstance(r["must_refuse"], bool)
        if r["must_refuse"]:
            assert r["expected_anchors"] == [] and r["expected_answer"] is None, r["id"]
        else:
            assert r["expected_files"] and r["expected_anchors"], r["id"]
    assert set(Counter(r["category"] for r in rows)) == CATEGORIES


def test_gold_is_valid_json_lines() -> None:
    rows = _rows("assignments_gold.jsonl")
    assert len(rows) >= 300
    for r in rows:
        assert set(r) == GOLD_KEYS
        assert r["role"] in ROLES and r["level"] in LEVELS
        assert 3 <= len(r["anchor"].split()) <= 12, r["anchor"]  # short anchors, never long copies
    keys = [(r["file"], r["agency"], r["anchor"]) for r in rows]
    assert len(set(keys)) == len(keys), "duplicate (file, agency, anchor)"


def test_gold_anchors_occur_once_in_their_file(corpus_dir: Path) -> None:
    for r in _rows("assignments_gold.jsonl"):
        text = _text(corpus_dir, r["file"])
        assert text.count(r["anchor"]) == 1, (r["file"], r["anchor"])
        if r["deadline"] is not None:
            assert r["deadline"] in text, (r["file"], r["deadline"])


def test_gold_covers_every_seed_corpus_file(corpus_dir: Path) -> None:
    assert {r["file"] for r in _rows("assignments_gold.jsonl")} == seed_corpus_files(corpus_dir)


# -- the dev corpus and the team's samples: same shape, plus structure fields ---------------

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
STRUCTURE_KEYS = {
    "file", "kind", "issuer", "number", "meeting_date", "chair", "signer", "top_sections",
    "assignments_total", "anchors",
}


def _check_gold_set(folder: str, root: Path) -> None:
    rows = _rows(f"{folder}/assignments_gold.jsonl")
    structure = _rows(f"{folder}/structure_gold.jsonl")
    assert rows and structure
    keys = [(r["file"], r["agency"], r["anchor"], r["role"]) for r in rows]
    assert len(set(keys)) == len(keys), "duplicate (file, agency, anchor, role)"
    for r in rows:
        assert set(r) == GOLD_KEYS, r
        assert r["role"] in ROLES and r["level"] in LEVELS, r
        assert 3 <= len(r["anchor"].split()) <= 12, r["anchor"]
        text = _text(root, r["file"])
        assert text.count(r["anchor"]) == 1, (r["file"], r["anchor"])
        if r["deadline"] is not None:
            assert r["deadline"] in text, (r["file"], r["deadline"])
    for s in structure:
        assert set(s) <= STRUCTURE_KEYS and {"file", "kind"} <= set(s), s["file"]
        text = _text(root, s["file"])
        for anchor in s.get("anchors", []):
            assert anchor in text, (s["file"], anchor)


def test_dev_gold_is_well_formed(corpus_dir: Path) -> None:
    _check_gold_set("dev", corpus_dir)
    files = {r["file"] for r in _rows("dev/structure_gold.jsonl")}
    loadable = {
        p.relative_to(corpus_dir).as_posix()
        for p in (corpus_dir / "dev").iterdir()
        if p.suffix in (".docx", ".md", ".txt") and "-ocr" not in p.name
    }
    assert loadable <= files, sorted(loadable - files)


def test_samples_gold_is_well_formed() -> None:
    _check_gold_set("samples", SAMPLES)


def test_question_anchors_and_answers_occur_in_expected_files(corpus_dir: Path) -> None:
    for r in _rows("questions.jsonl"):
        texts = [_text(corpus_dir, name) for name in r["expected_files"]]
        for anchor in r["expected_anchors"]:
            assert any(anchor in t for t in texts), (r["id"], anchor)
        if r["expected_answer"] is not None:
            assert any(r["expected_answer"] in t for t in texts), (r["id"], r["expected_answer"])


def test_assignment_questions_expect_gold_anchors() -> None:
    gold = {(r["file"], r["anchor"]) for r in _rows("assignments_gold.jsonl")}
    for r in _rows("questions.jsonl"):
        if r["category"] == "assignment":
            for anchor in r["expected_anchors"]:
                assert any((f, anchor) in gold for f in r["expected_files"]), (r["id"], anchor)
