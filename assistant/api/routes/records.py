"""Exhaustive record views: ``/api/assignments``, ``/api/deadlines``, ``/api/agencies``."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from assistant.agency_lookup import find_agency
from assistant.answer.related import RelatedFinder, in_period, passage_json
from assistant.api.deps import GazetteerDep, RetrieverDep, SettingsDep, StoreDep
from assistant.deadlines import parse_user_date
from assistant.records_json import agency_json, assignment_item
from assistant.store import AssignmentRef, AssignmentRow, Store
from assistant.tracking import notice_citation

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
    ids = {row.notice_id for row in rows}
    texts = store.texts(ids)
    summaries, names = store.summaries_of(ids), store.issuer_names(ids)
    items = []
    for row in rows:
        item = assignment_item(row, texts.get(row.notice_id))
        summary = summaries.get(row.notice_id)
        # Which notice a row comes from (issuer, number, date): lists that mix notices need it.
        item["notice"] = notice_citation(summary, names.get(row.notice_id)) if summary else None
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
    settings: SettingsDep,
    retriever: RetrieverDep,
    agency: Annotated[str, Query(min_length=1, max_length=200,
                                 description="Tên cơ quan như thường gõ: đủ tên, viết tắt ('Sở CT', 'SCT', 'P.KT'), không dấu, kèm địa danh ('phòng TC-KH thị xã Bến Vân').")],
    since: DateText = None,
    until: DateText = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Số nhiệm vụ mỗi trang (mặc định: tất cả).")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Bỏ qua bấy nhiêu nhiệm vụ đầu (mới nhất trước).")] = 0,
    only: Annotated[Literal["deadline", "overdue"] | None, Query(
        description="Chỉ nhiệm vụ có thời hạn ('deadline') hoặc đã quá hạn ('overdue')."
    )] = None,
) -> dict[str, Any]:
    """Every assignment of the agency, newest notice first; ``limit``/``offset`` page through
    them and ``total`` counts them all. ``only`` filters before paging so that pages and
    ``total`` agree with the filter (a page filtered afterwards in the browser would not).

    ``agency`` is read as clerks type it (``assistant.agency_lookup``): full names, short forms
    ('Sở CT', 'SCT', 'P.KT'), with or without diacritics, with a place ('phòng TC-KH thị xã
    Bến Vân'), or a body known only from the notices. ``lookup`` says how it was read: the
    level chosen among several, the place, and when nothing matched, the closest agencies.

    ``related`` (first page only, and not with ``only``): passages retrieved for the agency,
    within the place and period asked, that name it but that none of its records quotes
    ('Đoạn có thể liên quan'): where a task the extraction missed can still be seen. Each is
    an exact slice of its notice: ``quote == text[start:end]``."""
    today = dt.date.today()
    filters: dict[str, Any] = {"since": _date(since), "until": _date(until)}
    if only is not None:
        filters["with_deadline"] = True
    if only == "overdue":
        # ``overdue`` below is a dated deadline before today; recurring duties carry no date
        # (assistant.deadlines), so the date bound alone selects exactly those rows.
        filters["due_before"] = today - dt.timedelta(days=1)
    found = find_agency(store, gazetteer, agency, **filters)
    rows = found.rows(store, offset, limit)
    related: list[dict[str, Any]] = []
    if offset == 0 and only is None:
        finder = RelatedFinder(
            store, gazetteer, retriever, lambda notice_id: store.get(notice_id, with_records=False),
            settings.retrieval.related_passages, settings.retrieval.related_candidates,
        )
        period = in_period(filters["since"], filters["until"])
        related = [passage_json(p) for p in finder.find(found, allowed=period)]
    return {"query": agency, "agency": agency_json(found.agency), "lookup": found.to_json(),
            "today": today.isoformat(), "total": found.total, "offset": offset, "limit": limit,
            "items": _items(store, rows, today), "related": related}


@router.get("/deadlines", summary="Nhiệm vụ có thời hạn, hạn sắp tới trước")
def deadlines(
    store: StoreDep,
    gazetteer: GazetteerDep,
    agency: Annotated[str | None, Query(max_length=200, description="Chỉ của một cơ quan.")] = None,
    after: DateText = None,
    before: DateText = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Số nhiệm vụ mỗi trang (mặc định: tất cả).")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Bỏ qua bấy nhiêu nhiệm vụ đầu (hạn sớm nhất trước).")] = 0,
) -> dict[str, Any]:
    """Assignments with a deadline, upcoming first (then past deadlines, most recent first;
    recurring duties last), each with its notice (issuer, number, date); ``limit``/``offset`` page through them and
    ``total`` counts them all. ``agency`` is read as in ``/api/assignments``. Sorted on the
    row keys and only the page's rows decoded (at 10k notices the whole list is ~96k rows,
    ~100 MB of JSON, seconds to build)."""
    filters: dict[str, Any] = {"with_deadline": True, "due_after": _date(after), "due_before": _date(before)}
    found = find_agency(store, gazetteer, agency, **filters) if agency else None
    refs = found.refs if found is not None else store.assignment_refs(**filters)
    today = dt.date.today()
    # Upcoming deadlines first (nearest first), then past ones (most recent first), undated
    # last; the same order for every page (a stable sort of the newest-first rows).
    refs = sorted(refs, key=partial(_upcoming_first, today.isoformat()))
    end = None if limit is None else offset + limit
    return {"agency": agency_json(found.agency if found else None),
            "lookup": found.to_json() if found else None, "today": today.isoformat(),
            "total": len(refs), "offset": offset, "limit": limit,
            "items": _items(store, store.assignment_rows(refs[offset:end]), today)}


def _upcoming_first(today: str, ref: AssignmentRef) -> tuple[int, str]:
    if ref.deadline_date is None:
        return (2, "")
    if ref.deadline_date >= today:
        return (0, ref.deadline_date)
    # later past dates first: each ISO digit d sorts as 9 - d
    return (1, ref.deadline_date.translate(_REVERSED_DIGITS))


_REVERSED_DIGITS = str.maketrans("0123456789", "9876543210")


@router.get("/agencies", summary="Tên các cơ quan có nhiệm vụ trong kho (gợi ý khi gõ)")
def agencies(store: StoreDep) -> dict[str, list[str]]:
    return {"names": store.agency_names()}
