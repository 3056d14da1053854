"""The JSON shapes the API and the CLI share (a notice, an assignment item, an agency), so that
neither imports the other."""

from __future__ import annotations

import datetime as dt
from typing import Any

from assistant.agencies import Agency, Gazetteer
from assistant.agency_lookup import lookup_rows
from assistant.model import Notice, Section
from assistant.store import AssignmentRow, Store


def section_outline(sections: list[Section]) -> list[dict[str, Any]]:
    """Numbered parts only: list items (-, +) are content, not structure."""
    outline = []
    for section in sections:
        if section.number is None and section.marker not in ("*",):
            continue
        outline.append(
            {
                "number": section.number,
                "heading": section.heading,
                "children": section_outline(section.children),
            }
        )
    return outline


def notice_json(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "source": notice.source,
        "kind": notice.kind.value,
        "issuer": notice.issuer.text if notice.issuer else None,
        "level": notice.level.value,
        "number": notice.number.text if notice.number else None,
        "issue_date": _iso(notice.issue_date.value if notice.issue_date else None),
        "meeting_date": _iso(notice.meeting_date.value if notice.meeting_date else None),
        "chair": _chair(notice),
        "signer": notice.signature.signer if notice.signature else None,
        "title": notice.title.text if notice.title else None,
        "sections": section_outline(notice.sections),
        "ocr": notice.ocr.model_dump(mode="json") if notice.ocr else None,
    }


def _chair(notice: Notice) -> str | None:
    if notice.chair is None:
        return None
    return " - ".join(p for p in (notice.chair.name, notice.chair.position) if p) or None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def assignment_item(row: AssignmentRow, notice_text: str | None = None) -> dict[str, Any]:
    item = row.assignment
    return {
        "notice_id": row.notice_id,
        "source": row.source,
        "notice_title": row.notice_title,
        "meeting_date": row.meeting_date,
        "section": " › ".join(item.section_path),
        "role": item.role.value,
        "agency": item.agency.canonical,
        "agency_text": item.agency.text,
        "task": item.task,
        "deadline": (
            {
                "text": item.deadline.text,
                "date": _iso(item.deadline.date),
                "recurring": item.deadline.recurring,
            }
            if item.deadline
            else None
        ),
        "quote": notice_text[item.start : item.end] if notice_text is not None else item.task,
        "start": item.start,
        "end": item.end,
    }


def items_with_quotes(store: Store, rows: list[AssignmentRow]) -> list[dict[str, Any]]:
    # Only the texts are needed for the quotes: one query, no notice records decoded.
    texts = store.texts({row.notice_id for row in rows})
    return [assignment_item(row, texts[row.notice_id]) for row in rows]


def agency_json(agency: Agency | None) -> dict[str, Any] | None:
    if agency is None:
        return None
    return {"name": agency.name, "level": agency.level.value, "aliases": [*agency.abbreviations, *agency.aliases]}


def lookup_assignments(
    store: Store,
    gazetteer: Gazetteer,
    query: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[Agency | None, list[AssignmentRow]]:
    """The agency ``query`` names (None for a body known only from notices, or no match) and
    all its rows: ``assistant.agency_lookup.lookup_rows`` in its older shape."""
    found, rows = lookup_rows(store, gazetteer, query, since, until)
    return found.agency, rows
