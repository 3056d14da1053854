"""Compare a draft with the facts written down for a set of notes before the code ran
(tests/fixtures/drafting/*.expected.json): every agency with its role, every deadline and
number, nothing of the wrong level or date, shorthand expanded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from assistant.draft import DraftResult
from assistant.text import search_view

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "drafting"
NOTE_SETS = sorted(FIXTURES.glob("*.txt"))


def expected_for(notes: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(notes.with_suffix(".expected.json").read_text("utf-8"))
    return data


def _key(text: str) -> str:
    return " ".join(search_view(text).split())


def _has_number(text: str, number: str) -> bool:
    return re.search(rf"(?<![\w,.]){re.escape(number)}(?![\w]|[,.]\d)", text) is not None


def fact_failures(result: DraftResult, expected: dict[str, Any]) -> list[str]:
    """Every way the draft departs from the expected facts (empty: it has them all)."""
    doc = result.document
    md = result.markdown
    failures: list[str] = []
    if doc.issuer != expected["issuer_header"]:
        failures.append(f"issuer {doc.issuer!r} != {expected['issuer_header']!r}")
    year, month, day = (int(x) for x in expected["meeting_date"].split("-"))
    if f"{day}/{month}/{year}" not in " ".join(doc.opening):
        failures.append(f"meeting date {day}/{month}/{year} not in the opening")
    if expected.get("chair") and expected["chair"] not in doc.title:
        failures.append(f"chair {expected['chair']!r} not in the title {doc.title!r}")
    if expected.get("title_contains") and _key(expected["title_contains"]) not in _key(doc.title):
        failures.append(f"title {doc.title!r} lacks {expected['title_contains']!r}")
    recipients = _key(" ".join(doc.recipients))
    for task in expected["tasks"]:
        entries = [t for t in result.trace if task["line"] in t.lines]
        if not entries:
            failures.append(f"line {task['line']}: no task in the trace")
            continue
        entry = entries[0]
        found = list(zip((_key(a) for a in entry.agencies), entry.roles, strict=True))
        for name, role in task["agencies"]:
            if not any(_key(name) in a and r == role for a, r in found):
                failures.append(f"line {task['line']}: {name} ({role}) not among {list(zip(entry.agencies, entry.roles, strict=False))}")
            if _key(name) not in recipients:
                failures.append(f"line {task['line']}: {name} not in Nơi nhận")
            if role == "phoi_hop" and _key(name) not in _key(entry.text):
                failures.append(f"line {task['line']}: coordinator {name} not in the task text {entry.text!r}")
            if role == "chu_tri" and "chu tri" not in _key(entry.text):
                failures.append(f"line {task['line']}: role chủ trì lost in {entry.text!r}")
            if role == "de_nghi" and "de nghi" not in _key(entry.text) and "de nghi" not in _key(entry.item):
                failures.append(f"line {task['line']}: {name} is asked ('Đề nghị'), text {entry.text!r}")
        if task["deadline"] and _key(task["deadline"]) not in _key(entry.text):
            failures.append(f"line {task['line']}: deadline {task['deadline']!r} not in {entry.text!r}")
    body = _key(md)
    for name in expected.get("attendees", []):
        if _key(name) not in _key(" ".join(doc.opening)):
            failures.append(f"attendee {name} not in the opening")
    # what the notes led to, as written (the fixed 'Nơi nhận' formula names 'Chủ tịch, …' itself)
    written = "\n".join([doc.issuer, doc.title, *doc.opening, md.split("Nơi nhận")[0]])
    for bad in expected["forbidden"]:
        if re.search(rf"(?<!\w){re.escape(bad)}(?!\w)", written):
            failures.append(f"forbidden {bad!r} in the draft")
    for number in expected["numbers"]:
        if not _has_number(md, number):
            failures.append(f"number {number} missing")
    for short, full in expected.get("shorthand", {}).items():
        if re.search(rf"(?<![\w&-]){re.escape(short)}(?![\w&-])", "\n".join([doc.title, *doc.opening, md.split('Nơi nhận')[0]])):
            failures.append(f"shorthand {short} left in the draft")
        if _key(full) not in body:
            failures.append(f"shorthand {short} not expanded to {full!r}")
    if "Nhiệm vụ chưa xác định cơ quan" in md:
        failures.append("a section of tasks without agency")
    invented = [w.code for w in result.warnings if w.code.startswith("invented_")]
    if invented:
        failures.append(f"invented facts: {invented}")
    return failures
