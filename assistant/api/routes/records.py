"""Exhaustive record views: ``/api/assignments``, ``/api/deadlines``, ``/api/agencies``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from assistant.agencies import Agency, Gazetteer
from assistant.api.deps import GazetteerDep, StoreDep
from assistant.cli import agency_json, assignment_item, lookup_assignments
from assistant.deadlines import parse_user_date
from assistant.store import AssignmentRow, Store
from assistant.text import match_key

router = APIRouter(prefix="/api", tags=["Nhiệm vụ"])

DateText = Annotated[
    str | None,
    Query(max_length=20, description="Ngày: 2024-01-31, 31/01/2024 hoặc 31/01 (năm nay)."),
]


def _date(value: str | None) -> dt.date | None:
    return parse_user_date(value) if value else None


def _items(store: Store, rows: list[AssignmentRow], today: dt.date) -> list[dict[str, Any]]:
    """``assistant assignments --json`` items, plus ``overdue``: a dated deadline already past."""
    # The quotes need only the texts, read once per notice without decoding its record.
    texts = store.texts({row.notice_id for row in rows})
    items = []
    for row in rows:
        item = assignment_item(row, texts.get(row.notice_id))
        deadline = row.assignment.deadline
        item["overdue"] = bool(
            deadline is not None and deadline.date is not None and not deadline.recurring
            and deadline.date < today
        )
        items.append(item)
    return items


@router.get("/assignments", summary="Mọi nhiệm vụ giao cho một cơ quan")
def assignments(
    store: StoreDep,
    gazetteer: GazetteerDep,
    agency: Annotated[str, Query(min_length=1, max_length=200,
                                 description="Tên cơ quan, viết tắt hoặc không dấu: 'phòng TNMT', 'TC-KH'.")],
    since: DateText = None,
    until: DateText = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Số nhiệm vụ mỗi trang (mặc định: tất cả).")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Bỏ qua bấy nhiêu nhiệm vụ đầu (mới nhất trước).")] = 0,
    only: Annotated[Literal["deadline", "overdue"] | None, Query(
        description="Chỉ nhiệm vụ có thời hạn ('deadline') hoặc đã quá hạn ('overdue')."
    )] = None,
) -> dict[str, Any]:
    """Every assignment of the agency, newest notice first; ``limit``/``offset`` page through
    them and ``total`` counts them all. ``only`` filters in SQL so that pages and ``total``
    agree with the filter (a page filtered afterwards in the browser would not)."""
    today = dt.date.today()
    found = gazetteer.resolve(agency)
    where: dict[str, Any] = {"agency": found.name} if found is not None else {"agency_key": match_key(agency)}
    where.update(since=_date(since), until=_date(until))
    if only is not None:
        where["with_deadline"] = True
    if only == "overdue":
        # ``overdue`` below is a dated deadline before today; recurring duties carry no date
        # (assistant.deadlines), so the date bound alone selects exactly those rows.
        where["due_before"] = today - dt.timedelta(days=1)
    rows = store.assignments(**where, limit=limit, offset=offset)
    total = store.count_assignments(**where) if limit is not None or offset else len(rows)
    return {"query": agency, "agency": agency_json(found), "today": today.isoformat(),
            "total": total, "offset": offset, "limit": limit, "items": _items(store, rows, today)}


@router.get("/deadlines", summary="Nhiệm vụ có thời hạn, sắp theo hạn")
def deadlines(
    store: StoreDep,
    gazetteer: GazetteerDep,
    agency: Annotated[str | None, Query(max_length=200, description="Chỉ của một cơ quan.")] = None,
    after: DateText = None,
    before: DateText = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Số nhiệm vụ mỗi trang (mặc định: tất cả).")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Bỏ qua bấy nhiêu nhiệm vụ đầu (hạn sớm nhất trước).")] = 0,
) -> dict[str, Any]:
    """Assignments with a deadline, earliest first; ``limit``/``offset`` page through them and
    ``total`` counts them all."""
    if limit is not None or offset:
        return _deadline_page(store, gazetteer, agency, _date(after), _date(before), limit, offset)
    rows = store.assignments(with_deadline=True, due_after=_date(after), due_before=_date(before))
    found: Agency | None = None
    if agency:
        found, agency_rows = lookup_assignments(store, gazetteer, agency)
        keep = {(r.notice_id, r.assignment.start, r.assignment.agency.text) for r in agency_rows}
        rows = [r for r in rows if (r.notice_id, r.assignment.start, r.assignment.agency.text) in keep]

    def due(row: AssignmentRow) -> tuple[bool, dt.date]:
        deadline = row.assignment.deadline
        date = deadline.date if deadline is not None else None
        return (date is None, date or dt.date.max)

    rows.sort(key=due)
    return {"agency": agency_json(found), "today": dt.date.today().isoformat(),
            "total": len(rows), "offset": 0, "limit": None, "items": _items(store, rows, dt.date.today())}


def _deadline_page(
    store: Store, gazetteer: Gazetteer, agency: str | None, after: dt.date | None,
    before: dt.date | None, limit: int | None, offset: int,
) -> dict[str, Any]:
    """One page of ``deadlines``, same order: sorted on the row keys, and only the page's rows
    decoded (at 10k notices the whole list is ~96k rows, ~100 MB of JSON, seconds to build)."""
    found = gazetteer.resolve(agency) if agency else None
    where: dict[str, Any] = {}
    if found is not None:
        where["agency"] = found.name
    elif agency:
        where["agency_key"] = match_key(agency)
    refs = store.assignment_refs(with_deadline=True, due_after=after, due_before=before, **where)
    # Same order as the whole list: stable sort of the newest-first rows, undated last.
    refs.sort(key=lambda ref: (ref.deadline_date is None, ref.deadline_date or ""))
    end = None if limit is None else offset + limit
    today = dt.date.today()
    return {"agency": agency_json(found), "today": today.isoformat(), "total": len(refs),
            "offset": offset, "limit": limit, "items": _items(store, store.assignment_rows(refs[offset:end]), today)}


@router.get("/agencies", summary="Tên các cơ quan có nhiệm vụ trong kho (gợi ý khi gõ)")
def agencies(store: StoreDep) -> dict[str, list[str]]:
    return {"names": store.agency_names()}
