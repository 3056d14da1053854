"""The team's trust question set (eval/trust_questions.jsonl, issue #12) is well-formed: at least
40 answerable and 40 unanswerable questions, half typed without diacritics, every anchor verbatim
in its file (seed corpus or the team's samples)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from assistant.load import load_path
from assistant.text import search_view
from tests.conftest import REPO

QUESTIONS = REPO / "eval" / "trust_questions.jsonl"
KEYS = {
    "id", "category", "question", "accented", "expected_files", "expected_anchors", "expected_answer",
    "must_refuse", "constraint_files",
}


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


@cache
def _text(root: Path, name: str) -> str:
    return load_path((REPO if name.startswith("samples/") else root) / name).text


def test_question_set_is_large_enough_and_half_unaccented() -> None:
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows)
    answerable = [r for r in rows if not r["must_refuse"]]
    unanswerable = [r for r in rows if r["must_refuse"]]
    assert len(answerable) >= 40 and len(unanswerable) >= 40
    for group in (answerable, unanswerable):
        plain = [r for r in group if not r["accented"]]
        assert len(plain) * 2 == len(group)
        for r in plain:
            assert search_view(r["question"]) == r["question"].lower(), r["id"]
    for r in rows:
        assert set(r) == KEYS, r["id"]
        if r["must_refuse"]:
            assert r["expected_anchors"] == [] and r["expected_answer"] is None, r["id"]
        else:
            assert r["expected_files"] and r["expected_anchors"], r["id"]


def test_anchors_occur_in_their_files(corpus_dir: Path) -> None:
    for r in _rows():
        texts = [_text(corpus_dir, name) for name in r["expected_files"]]
        for anchor in r["expected_anchors"]:
            assert any(anchor in t for t in texts), (r["id"], anchor)
        for name in r["constraint_files"] or []:
            assert _text(corpus_dir, name), (r["id"], name)
