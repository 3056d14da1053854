"""Canonical records in SQLite: notices, sections, assignments.

This is the source of truth; Chroma and BM25 are caches rebuilt from it. Every write happens in
one transaction, so a notice is either fully stored in its old or its new version.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypedDict, TypeVar, Unpack

from assistant.errors import IndexStateError, NotFound
from assistant.model import Assignment, Notice, Section
from assistant.text import match_key

SCHEMA_VERSION = "1"
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    kind TEXT NOT NULL,
    issuer TEXT,
    level TEXT NOT NULL,
    number TEXT,
    issue_date TEXT,
    meeting_date TEXT,
    chair TEXT,
    signer TEXT,
    title TEXT,
    text TEXT NOT NULL,
    data TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_source ON notices(source);
CREATE INDEX IF NOT EXISTS notices_meeting_date ON notices(meeting_date);
CREATE INDEX IF NOT EXISTS notices_issue_date ON notices(issue_date);
CREATE TABLE IF NOT EXISTS sections (
    notice_id TEXT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    depth INTEGER NOT NULL,
    number TEXT,
    marker TEXT NOT NULL,
    heading TEXT,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    PRIMARY KEY (notice_id, ord)
);
CREATE TABLE IF NOT EXISTS assignments (
    notice_id TEXT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    agency TEXT,
    agency_text TEXT NOT NULL,
    agency_key TEXT NOT NULL,
    agency_level TEXT NOT NULL,
    role TEXT NOT NULL,
    task TEXT NOT NULL,
    deadline_text TEXT,
    deadline_date TEXT,
    deadline_recurring INTEGER NOT NULL DEFAULT 0,
    section TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (notice_id, ord)
);
CREATE INDEX IF NOT EXISTS assignments_agency ON assignments(agency);
CREATE INDEX IF NOT EXISTS assignments_key ON assignments(agency_key);
CREATE INDEX IF NOT EXISTS assignments_deadline ON assignments(deadline_date);
"""


class StoreOutcome(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class NoticeSummary:
    id: str
    source: str
    kind: str
    issuer: str | None
    level: str
    number: str | None
    issue_date: str | None
    meeting_date: str | None
    chair: str | None
    signer: str | None
    title: str | None


@dataclass(frozen=True)
class AssignmentRef:
    """One assignment row by its key, with the columns that filtering and sorting need."""

    notice_id: str
    ord: int
    deadline_text: str | None
    deadline_date: str | None


@dataclass(frozen=True)
class AssignmentRow:
    notice_id: str
    source: str
    notice_title: str | None
    meeting_date: str | None
    issuer: str | None
    assignment: Assignment


class AssignmentFilters(TypedDict, total=False):
    """Filters shared by every assignment query. ``agency`` is a canonical gazetteer name;
    ``agency_key`` a match_key for agencies the gazetteer does not know; ``since``/``until``
    bound the meeting date, ``due_after``/``due_before`` the deadline."""

    agency: str | None
    agency_key: str | None
    since: dt.date | None
    until: dt.date | None
    due_after: dt.date | None
    due_before: dt.date | None
    with_deadline: bool


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the API serves from a thread pool; SQLite serializes writers.
        self._conn = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.executescript(_SCHEMA)
        self._check_schema()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_schema(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            with self._conn:
                self._conn.execute("INSERT INTO meta(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif row[0] != SCHEMA_VERSION:
            raise IndexStateError(
                f"Cơ sở dữ liệu {self.path} có phiên bản lược đồ {row[0]}, chương trình cần "
                f"{SCHEMA_VERSION}. Hãy nạp lại các thông báo vào một thư mục chỉ mục mới."
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    # --- writes ---------------------------------------------------------------------------

    def put(self, notice: Notice) -> tuple[StoreOutcome, list[str]]:
        """Store a notice; returns the outcome and the ids of the notices it replaced.

        Same content (same id) is a no-op. A different content under the same source replaces
        the old records, all in one transaction.
        """
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM notices WHERE id=?", (notice.id,)).fetchone():
                return StoreOutcome.UNCHANGED, []
            old = [r[0] for r in conn.execute("SELECT id FROM notices WHERE source=?", (notice.source,))]
            for old_id in old:
                conn.execute("DELETE FROM notices WHERE id=?", (old_id,))
            self._insert(conn, notice)
        return (StoreOutcome.REPLACED if old else StoreOutcome.ADDED), old

    def delete(self, notice_id: str) -> None:
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM notices WHERE id=?", (notice_id,))
            if cur.rowcount == 0:
                raise NotFound(f"Không có thông báo mã '{notice_id}'.")

    def _insert(self, conn: sqlite3.Connection, notice: Notice) -> None:
        conn.execute(
            "INSERT INTO notices(id, source, format, kind, issuer, level, number, issue_date,"
            " meeting_date, chair, signer, title, text, data, ingested_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                notice.id,
                notice.source,
                notice.format,
                notice.kind.value,
                notice.issuer.text if notice.issuer else None,
                notice.level.value,
                notice.number.text if notice.number else None,
                _iso(notice.issue_date.value if notice.issue_date else None),
                _iso(notice.meeting_date.value if notice.meeting_date else None),
                _chair_text(notice),
                notice.signature.signer if notice.signature else None,
                notice.title.text if notice.title else None,
                notice.text,
                notice.model_dump_json(exclude={"text"}),
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            ),
        )
        for ord_, (depth, section) in enumerate(_flatten(notice.sections)):
            conn.execute(
                'INSERT INTO sections(notice_id, ord, depth, number, marker, heading, start, "end")'
                " VALUES (?,?,?,?,?,?,?,?)",
                (notice.id, ord_, depth, section.number, section.marker, section.heading,
                 section.start, section.end),
            )
        for ord_, item in enumerate(notice.assignments):
            conn.execute(
                "INSERT INTO assignments(notice_id, ord, agency, agency_text, agency_key, agency_level,"
                " role, task, deadline_text, deadline_date, deadline_recurring, section, start,"
                ' "end", data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
                (
                    notice.id,
                    ord_,
                    item.agency.canonical,
                    item.agency.text,
                    match_key(item.agency.canonical or item.agency.text),
                    item.agency.level.value,
                    item.role.value,
                    item.task,
                    item.deadline.text if item.deadline else None,
                    _iso(item.deadline.date if item.deadline else None),
                    int(bool(item.deadline and item.deadline.recurring)),
                    " › ".join(item.section_path),
                    item.start,
                    item.end,
                    item.model_dump_json(),
                ),
            )

    # --- reads ----------------------------------------------------------------------------

    def get(self, notice_id: str) -> Notice:
        row = self._conn.execute("SELECT data, text FROM notices WHERE id=?", (notice_id,)).fetchone()
        if row is None:
            matches = self._conn.execute(
                "SELECT data, text FROM notices WHERE id LIKE ? LIMIT 2", (notice_id + "%",)
            ).fetchall()
            if len(matches) != 1 or len(notice_id) < 4:
                raise NotFound(f"Không có thông báo mã '{notice_id}'.")
            row = matches[0]
        data = json.loads(row[0])
        data["text"] = row[1]
        return Notice.model_validate(data)

    def ids(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT id FROM notices ORDER BY id")]

    def notices(self) -> list[Notice]:
        return [self.get(notice_id) for notice_id in self._ordered_ids()]

    def _ordered_ids(self) -> list[str]:
        return [
            r[0]
            for r in self._conn.execute(
                "SELECT id FROM notices ORDER BY COALESCE(meeting_date, issue_date, '') DESC, source"
            )
        ]

    def summaries(self) -> list[NoticeSummary]:
        rows = self._conn.execute(
            "SELECT id, source, kind, issuer, level, number, issue_date, meeting_date, chair, signer,"
            " title FROM notices ORDER BY COALESCE(meeting_date, issue_date, '') DESC, source"
        ).fetchall()
        return [NoticeSummary(*row) for row in rows]

    def count(self) -> dict[str, int]:
        def one(sql: str) -> int:
            return int(self._conn.execute(sql).fetchone()[0])

        return {
            "notices": one("SELECT COUNT(*) FROM notices"),
            "sections": one("SELECT COUNT(*) FROM sections"),
            "assignments": one("SELECT COUNT(*) FROM assignments"),
        }

    def fingerprint(self) -> str:
        """Changes whenever the set of stored notices changes (staleness checks of the caches)."""
        ids = ",".join(self.ids())
        import hashlib

        return hashlib.sha256(ids.encode()).hexdigest()[:16]

    def summaries_of(self, ids: Collection[str]) -> dict[str, NoticeSummary]:
        """The column facts of some notices (no JSON decoding), by id."""
        out: dict[str, NoticeSummary] = {}
        for part in _batches(list(ids)):
            rows = self._conn.execute(
                "SELECT id, source, kind, issuer, level, number, issue_date, meeting_date, chair, signer,"
                f" title FROM notices WHERE id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            out.update((row[0], NoticeSummary(*row)) for row in rows)
        return out

    def summaries_held_on(self, day: dt.date) -> list[NoticeSummary]:
        """Notices whose meeting or issue date is ``day`` (uses the date indexes)."""
        rows = self._conn.execute(
            "SELECT id, source, kind, issuer, level, number, issue_date, meeting_date, chair, signer,"
            " title FROM notices WHERE meeting_date = ? OR issue_date = ?"
            " ORDER BY COALESCE(meeting_date, issue_date, '') DESC, source",
            (day.isoformat(), day.isoformat()),
        ).fetchall()
        return [NoticeSummary(*row) for row in rows]

    def ids_with_text_like(self, ids: Collection[str], patterns: Sequence[str]) -> set[str]:
        """Those of ``ids`` whose text matches one of the SQL ``LIKE`` patterns (ASCII
        case-insensitive), scanned inside SQLite without reading the texts out."""
        out: set[str] = set()
        if not patterns:
            return set(ids)
        any_like = " OR ".join(["text LIKE ?"] * len(patterns))
        for part in _batches(list(ids)):
            rows = self._conn.execute(
                f"SELECT id FROM notices WHERE id IN ({','.join('?' * len(part))}) AND ({any_like})",
                [*part, *patterns],
            ).fetchall()
            out.update(row[0] for row in rows)
        return out

    def texts(self, ids: Collection[str]) -> dict[str, str]:
        """The text of some notices, without decoding their records (quotes, text checks)."""
        out: dict[str, str] = {}
        for part in _batches(list(ids)):
            rows = self._conn.execute(
                f"SELECT id, text FROM notices WHERE id IN ({','.join('?' * len(part))})", part
            ).fetchall()
            out.update((row[0], row[1]) for row in rows)
        return out

    def heads(self, ids: Collection[str]) -> dict[str, str]:
        """Title and opening paragraph of some notices (which meeting a notice is about), cut
        from the text by their stored offsets without decoding the records in Python."""
        def cut(span: str) -> str:
            start, end = f"json_extract(data, '$.{span}.start')", f"json_extract(data, '$.{span}.end')"
            return f"COALESCE(substr(text, {start} + 1, {end} - {start}), '')"

        out: dict[str, str] = {}
        for part in _batches(list(ids)):
            rows = self._conn.execute(
                f"SELECT id, {cut('title')} || ' ' || {cut('opening')} FROM notices"
                f" WHERE id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            out.update((row[0], row[1]) for row in rows)
        return out

    def assignments(
        self,
        limit: int | None = None,
        offset: int = 0,
        **filters: Unpack[AssignmentFilters],
    ) -> list[AssignmentRow]:
        """Assignments, newest notice first. ``agency`` is a canonical gazetteer name;
        ``agency_key`` a match_key for agencies the gazetteer does not know. ``limit`` /
        ``offset`` page through the same order (``count_assignments`` gives the total)."""
        where, params = _assignment_where(filters)
        if limit is not None or offset:
            # Sort the small key columns, then decode only the page's records.
            keys = self._conn.execute(
                f"SELECT a.notice_id, a.ord, NULL, NULL FROM assignments a JOIN notices n ON n.id = a.notice_id"
                f" {where} ORDER BY {_MEETING} DESC, n.source, a.ord LIMIT ? OFFSET ?",
                [*params, -1 if limit is None else max(limit, 0), max(offset, 0)],
            ).fetchall()
            return self.assignment_rows([AssignmentRef(*k) for k in keys])
        rows = self._conn.execute(
            f"SELECT a.notice_id, n.source, n.title, {_MEETING}, n.issuer, a.data"
            f" FROM assignments a JOIN notices n ON n.id = a.notice_id {where}"
            f" ORDER BY {_MEETING} DESC, n.source, a.ord",
            params,
        ).fetchall()
        return [
            AssignmentRow(r[0], r[1], r[2], r[3], r[4], Assignment.model_validate_json(r[5]))
            for r in rows
        ]

    def count_assignments(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> int:
        """How many rows ``assignments`` returns with the same filters and no paging."""
        where, params = _assignment_where(filters)
        # The notice's dates are needed only for a meeting period (every row has its notice).
        period = filters.get("since") is not None or filters.get("until") is not None
        join = " JOIN notices n ON n.id = a.notice_id" if period else ""
        row = self._conn.execute(f"SELECT COUNT(*) FROM assignments a{join} {where}", params).fetchone()
        return int(row[0])

    def assignment_refs(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> list[AssignmentRef]:
        """The rows of ``assignments`` (same order) as plain columns, without decoding each
        record: for filtering and counting before only the rows shown are decoded."""
        where, params = _assignment_where(filters)
        rows = self._conn.execute(
            f"SELECT a.notice_id, a.ord, a.deadline_text, a.deadline_date"
            f" FROM assignments a JOIN notices n ON n.id = a.notice_id {where}"
            f" ORDER BY {_MEETING} DESC, n.source, a.ord",
            params,
        ).fetchall()
        return [AssignmentRef(*r) for r in rows]

    def assignment_refs_and_notices(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> tuple[list[AssignmentRef], dict[str, NoticeSummary]]:
        """``assignment_refs`` and the column facts of their notices, in one query (one
        join instead of two: the join is most of the cost with thousands of rows)."""
        where, params = _assignment_where(filters)
        rows = self._conn.execute(
            "SELECT a.notice_id, a.ord, a.deadline_text, a.deadline_date, n.source, n.kind, n.issuer,"
            " n.level, n.number, n.issue_date, n.meeting_date, n.chair, n.signer, n.title"
            f" FROM assignments a JOIN notices n ON n.id = a.notice_id {where}"
            f" ORDER BY {_MEETING} DESC, n.source, a.ord",
            params,
        ).fetchall()
        notices: dict[str, NoticeSummary] = {}
        refs: list[AssignmentRef] = []
        for r in rows:
            refs.append(AssignmentRef(r[0], r[1], r[2], r[3]))
            if r[0] not in notices:
                notices[r[0]] = NoticeSummary(r[0], *r[4:])
        return refs, notices

    def assignment_rows(self, refs: Sequence[AssignmentRef]) -> list[AssignmentRow]:
        """The full rows of ``refs``, in the order given."""
        found: dict[tuple[str, int], AssignmentRow] = {}
        by_notice: dict[str, list[int]] = {}
        for ref in refs:
            by_notice.setdefault(ref.notice_id, []).append(ref.ord)
        for notice_id, ords in by_notice.items():
            for part in _batches(ords):
                rows = self._conn.execute(
                    f"SELECT a.notice_id, a.ord, n.source, n.title, {_MEETING}, n.issuer, a.data"
                    " FROM assignments a JOIN notices n ON n.id = a.notice_id"
                    f" WHERE a.notice_id = ? AND a.ord IN ({','.join('?' * len(part))})",
                    [notice_id, *part],
                ).fetchall()
                for r in rows:
                    found[(r[0], r[1])] = AssignmentRow(
                        r[0], r[2], r[3], r[4], r[5], Assignment.model_validate_json(r[6])
                    )
        return [found[(ref.notice_id, ref.ord)] for ref in refs if (ref.notice_id, ref.ord) in found]

    def agency_names(self) -> list[str]:
        return [
            r[0]
            for r in self._conn.execute(
                "SELECT DISTINCT COALESCE(agency, agency_text) FROM assignments ORDER BY 1"
            )
        ]


_MEETING = "COALESCE(n.meeting_date, n.issue_date)"
# Well under SQLite's limit on bound parameters (999 in old builds).
_BATCH = 500


def _batches(values: list[_T]) -> Iterator[list[_T]]:
    for i in range(0, len(values), _BATCH):
        yield values[i : i + _BATCH]


def _assignment_where(filters: AssignmentFilters) -> tuple[str, list[object]]:
    agency, agency_key = filters.get("agency"), filters.get("agency_key")
    since, until = filters.get("since"), filters.get("until")
    due_after, due_before = filters.get("due_after"), filters.get("due_before")
    with_deadline = filters.get("with_deadline", False)
    clauses: list[str] = []
    params: list[object] = []
    if agency is not None:
        clauses.append("a.agency = ?")
        params.append(agency)
    if agency_key is not None:
        clauses.append("a.agency IS NULL AND a.agency_key = ?")
        params.append(agency_key)
    if since is not None:
        clauses.append(f"{_MEETING} >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append(f"{_MEETING} <= ?")
        params.append(until.isoformat())
    if with_deadline:
        clauses.append("(a.deadline_text IS NOT NULL)")
    if due_after is not None:
        clauses.append("a.deadline_date >= ?")
        params.append(due_after.isoformat())
    if due_before is not None:
        clauses.append("a.deadline_date <= ?")
        params.append(due_before.isoformat())
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _flatten(sections: list[Section], depth: int = 0) -> Iterator[tuple[int, Section]]:
    for section in sections:
        yield depth, section
        yield from _flatten(section.children, depth + 1)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _chair_text(notice: Notice) -> str | None:
    if notice.chair is None:
        return None
    parts = [p for p in (notice.chair.name, notice.chair.position) if p]
    return " - ".join(parts) or None
