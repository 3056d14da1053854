"""Golden files of the parsed structure of the team's own sample notices.

A change in loading, parsing, agency matching or deadline extraction shows up here as a
readable diff. Regenerate after a reviewed, intended change: ``UPDATE_GOLDEN=1 make test``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from assistant.agencies import get_gazetteer
from assistant.load import load_path
from assistant.model import Notice, Section
from assistant.parse import parse_document
from tests.conftest import REPO, SAMPLES

GOLDEN = REPO / "tests" / "golden" / "parse"
FILES = sorted((SAMPLES / "notices").iterdir()) + sorted((SAMPLES / "other").iterdir())


def _spanned(value: Any) -> str | None:
    return None if value is None else value.text


def _sections(sections: list[Section]) -> list[dict[str, Any]]:
    return [
        {
            "marker": s.marker,
            "heading": s.heading,
            **({"children": _sections(s.children)} if s.children else {}),
        }
        for s in sections
    ]


def structure(notice: Notice) -> dict[str, Any]:
    return {
        "kind": notice.kind.value,
        "level": notice.level.value,
        "issuer": _spanned(notice.issuer),
        "number": _spanned(notice.number),
        "place": _spanned(notice.place),
        "issue_date": notice.issue_date.value.isoformat() if notice.issue_date and notice.issue_date.value else None,
        "title": _spanned(notice.title),
        "meeting_date": notice.meeting_date.value.isoformat() if notice.meeting_date and notice.meeting_date.value else None,
        "chair": notice.chair.model_dump(exclude={"start", "end"}) if notice.chair else None,
        "closing": _spanned(notice.closing),
        "recipients": [r.text for r in notice.recipients],
        "signature": notice.signature.model_dump(exclude={"start", "end"}) if notice.signature else None,
        "sections": _sections(notice.sections),
        "assignments": [
            {
                "agency": a.agency.canonical or a.agency.text,
                "level": a.agency.level.value,
                "role": a.role.value,
                "task": a.task[:90],
                "deadline": None
                if a.deadline is None
                else {
                    "text": a.deadline.text,
                    "date": a.deadline.date.isoformat() if a.deadline.date else None,
                    "recurring": a.deadline.recurring,
                },
                "section": " › ".join(a.section_path),
            }
            for a in notice.assignments
        ],
    }


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_sample_structure_matches_golden(path: Path) -> None:
    notice = parse_document(load_path(path), get_gazetteer())
    actual = json.dumps(structure(notice), ensure_ascii=False, indent=2) + "\n"
    golden = GOLDEN / (path.name + ".json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1 and review it"
    assert actual == golden.read_text(encoding="utf-8")
