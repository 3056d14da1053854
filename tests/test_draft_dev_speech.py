"""The dev corpus' closing speech -> draft, compared with the notice the office wrote from it
(facts, not wording): every agency the real notice assigns is in the draft; a deadline of the
real notice is in the draft when the speech states it, and never invented when it does not.

The pair is found through dev/SOURCES.tsv at test time; nothing of the corpus is copied."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from assistant.agencies import get_gazetteer
from assistant.draft import DraftOptions, draft_from_notes, notes_text_from_bytes
from assistant.load import load_bytes
from assistant.parse import parse_document
from assistant.profile import OfficeProfile
from assistant.settings import Settings
from assistant.text import search_view

pytestmark = pytest.mark.corpus


def _pair(dev: Path) -> tuple[dict[str, str], dict[str, str]]:
    sources = dev / "SOURCES.tsv"
    if not sources.is_file():
        pytest.skip(f"{sources} not found")
    with sources.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    speech = next((r for r in rows if "closing speech" in r["kind"]), None)
    if speech is None:
        pytest.skip("no closing speech listed in dev/SOURCES.tsv")
    day = speech["date"].split()[0]
    notice = next(r for r in rows if r["kind"].startswith("notice") and r["date"].split()[0] == day)
    return speech, notice


def test_speech_draft_has_every_agency_and_stated_deadline_of_the_real_notice(corpus_dir: Path) -> None:
    dev = corpus_dir / "dev"
    speech_row, notice_row = _pair(dev)
    speech_path, notice_path = dev / speech_row["file"], dev / notice_row["file"]
    notice = parse_document(load_bytes(notice_path.read_bytes(), notice_path.name))
    assert notice.assignments and notice.issuer_name
    speech = notes_text_from_bytes(speech_path.read_bytes(), speech_path.name)

    # the office's profile names the issuer; the clerk gives the meeting date the speech lacks
    meeting = dt.date.fromisoformat(speech_row["date"].split()[0])
    result = draft_from_notes(speech, Settings(), options=DraftOptions(
        profile=OfficeProfile(issuer=notice.issuer_name), meeting_date=meeting))
    assert search_view(notice.issuer_name.split()[-1]) in search_view(result.document.issuer)

    gazetteer = get_gazetteer()
    drafted = [name for entry in result.trace for name in entry.agencies]
    missing = [
        a.agency.canonical or a.agency.text for a in notice.assignments
        if not any(gazetteer.same_agency(a.agency, name) for name in drafted)
    ]
    assert missing == [], f"agencies of the real notice missing from the draft: {sorted(set(missing))}"

    said = search_view(speech)
    body = search_view(result.markdown)
    stated, not_stated = [], []
    for a in notice.assignments:
        if a.deadline is None:
            continue
        key = " ".join(search_view(a.deadline.text).split())
        (stated if key in said else not_stated).append(key)
    for key in stated:
        assert key in body, f"deadline '{key}' is in the speech but not in the draft"
    for key in not_stated:
        # added by the clerk when writing the real notice: the draft must not invent it
        assert key not in body, f"deadline {key!r} is not in the speech but the draft has it"
    assert not [w for w in result.warnings if w.code.startswith("invented_")]
