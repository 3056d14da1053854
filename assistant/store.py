"""Canonical records in SQLite: notices, sections, assignments.

This is the source of truth; Chroma and BM25 are caches rebuilt from it. Every write happens in
one transaction, so a notice is either fully stored in its old or its new version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, TypedDict, TypeVar, Unpack

from assistant.errors import IndexStateError, NotFound
from assistant.model import Assignment, Notice, Section
from assistant.text import match_key, search_view

SCHEMA_VERSION = "1"
_T = TypeVar("_T")
# A row as sqlite3 returns it: a tuple of columns, the notice id first.
_Row = TypeVar("_Row", bound=tuple[Any, ...])

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
-- Covering indexes: an agency's or a period's rows are read from the index alone (their
-- rows in the table are spread over every notice), and the notices' column facts without
-- touching the large text and record columns. They replace the single-column indexes.
CREATE INDEX IF NOT EXISTS assignments_agency_refs
    ON assignments(agency, notice_id, ord, deadline_text, deadline_date);
CREATE INDEX IF NOT EXISTS assignments_key_refs
    ON assignments(agency_key, agency, notice_id, ord, deadline_text, deadline_date);
CREATE INDEX IF NOT EXISTS assignments_deadline_refs
    ON assignments(deadline_date, notice_id, ord, deadline_text, agency, agency_key);
CREATE INDEX IF NOT EXISTS notices_summary
    ON notices(id, meeting_date, issue_date, source, kind, issuer, level, number, chair, signer, title);
DROP INDEX IF EXISTS assignments_agency;
DROP INDEX IF EXISTS assignments_key;
DROP INDEX IF EXISTS assignments_deadline;
CREATE TABLE IF NOT EXISTS notice_words_ids (
    num INTEGER PRIMARY KEY,
    notice_id TEXT NOT NULL UNIQUE REFERENCES notices(id) ON DELETE CASCADE
);
"""
# The accent-free words of every notice (``notice_words``), for finding a place named in any
# notice without reading the texts. A derived cache: filled for notices stored before it
# existed, and rows vanish with their notice (the cascade above, then this trigger). Kept
# apart from ``_SCHEMA``: an SQLite built without FTS5 still opens the store (and answers
# by reading the texts).
_WORDS_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS notice_words USING fts5(words, tokenize = 'unicode61 remove_diacritics 0');
CREATE TRIGGER IF NOT EXISTS notice_words_drop AFTER DELETE ON notice_words_ids
BEGIN
    DELETE FROM notice_words WHERE rowid = old.num;
END;
"""
# A phrase the words index can look up exactly as ``instr`` then checks it: ASCII syllables
# are single tokens of the ``unicode61`` tokenizer.
_PHRASE = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
_WORD = re.compile(r"\w+")


class StoreOutcome(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


# slots: thousands of these live in the cached column facts, and fewer objects make the
# garbage collector's full passes shorter.
@dataclass(frozen=True, slots=True)
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


class AssignmentRef(NamedTuple):
    """One assignment row by its key, with the columns that filtering and sorting need. A
    named tuple: a question may hold a hundred thousand of them, and these are the cheapest
    to make."""

    notice_id: str
    ord: int
    deadline_text: str | None
    deadline_date: str | None


class AgencyRowRef(NamedTuple):
    """An ``AssignmentRef`` with the agency columns: what an agency look-up filters on (the
    level of a name several levels share, a place named in the mention) before any record is
    decoded."""

    notice_id: str
    ord: int
    deadline_text: str | None
    deadline_date: str | None
    agency: str | None
    agency_text: str
    agency_level: str

    @property
    def ref(self) -> AssignmentRef:
        return AssignmentRef(self.notice_id, self.ord, self.deadline_text, self.deadline_date)


@dataclass(frozen=True, slots=True)
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
        # The default 2 MiB page cache rereads the same index pages from the OS on every
        # question; 32 MiB holds the covering indexes of a 10k-notice store.
        self._conn.execute("PRAGMA cache_size=-32768")
        self._conn.executescript(_SCHEMA)
        self._check_schema()
        self._lock = threading.RLock()
        self._writes = 0  # commits on this connection (``PRAGMA data_version`` misses them)
        self._snapshot: _Snapshot | None = None
        self._fingerprint: tuple[tuple[int, int], str] | None = None
        self._words_checked: tuple[int, int] | None = None
        self._words_ok = False
        self._words = self._open_words()

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
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._writes += 1

    def _version(self) -> tuple[int, int]:
        """Changes whenever any connection (this one included) commits a change."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0]), self._writes

    # --- derived words index ----------------------------------------------------------------

    def _open_words(self) -> bool:
        """Create the words index if this SQLite has FTS5, and fill it for the notices
        stored before it existed (a store written by an older version). False without FTS5."""
        existed = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'notice_words'"
        ).fetchone() is not None
        try:
            self._conn.executescript(_WORDS_SCHEMA)
        except sqlite3.OperationalError:
            return False
        if not existed:
            # The ids say which notices have their words: none, in a new words table.
            with self.transaction() as conn:
                conn.execute("DELETE FROM notice_words_ids")
        self._fill_words()
        return True

    def _fill_words(self) -> None:
        missing = "SELECT id FROM notices WHERE id NOT IN (SELECT notice_id FROM notice_words_ids)"
        if self._conn.execute(missing + " LIMIT 1").fetchone() is None:
            return
        with self.transaction() as conn:
            ids = [r[0] for r in conn.execute(missing)]
            for part in _batches(ids):
                rows = conn.execute(
                    f"SELECT id, text FROM notices WHERE id IN ({','.join('?' * len(part))})", part
                ).fetchall()
                for notice_id, text in rows:
                    self._insert_words(conn, notice_id, text)

    @staticmethod
    def _insert_words(conn: sqlite3.Connection, notice_id: str, text: str) -> None:
        cur = conn.execute("INSERT INTO notice_words_ids(notice_id) VALUES (?)", (notice_id,))
        conn.execute(
            "INSERT INTO notice_words(rowid, words) VALUES (?, ?)", (cur.lastrowid, notice_words(text))
        )

    def _words_complete(self) -> bool:
        """Whether every notice has its words (another process running an older version may
        have stored notices without them)."""
        if not self._words:
            return False
        with self._lock:
            version = self._version()
            if self._words_checked != version:
                self._words_ok = self._conn.execute(
                    "SELECT 1 FROM notices WHERE id NOT IN (SELECT notice_id FROM notice_words_ids) LIMIT 1"
                ).fetchone() is None
                self._words_checked = version
            return self._words_ok

    def ids_naming(self, phrase: str) -> set[str] | None:
        """The notices whose words (``notice_words``) hold ``phrase`` (accent-free syllables
        joined by single spaces) as whole consecutive words: the definition of
        ``text_mentions_locality``, answered from the words index without reading the texts.
        ``None`` when the index cannot answer (no FTS5, a notice without its words, a phrase
        that is not plain ASCII syllables): then the caller checks the texts."""
        if not _PHRASE.fullmatch(phrase) or not self._words_complete():
            return None
        with self._lock:
            rows = self._conn.execute(
                "SELECT m.notice_id FROM notice_words w JOIN notice_words_ids m ON m.num = w.rowid"
                " WHERE notice_words MATCH ? AND instr(w.words, ?) > 0",
                (f'words : "{phrase}"', f" {phrase} "),
            ).fetchall()
        return {r[0] for r in rows}

    # --- notice column facts, cached per store version ---------------------------------------

    def _notices_snapshot(self, refresh: bool = False) -> _Snapshot:
        """Every notice's column facts, newest first, read once per change of the store: the
        ordering and filtering of thousands of assignment rows then needs no join."""
        with self._lock:
            version = self._version()
            snap = self._snapshot
            if snap is None or refresh or snap.version != version:
                rows = self._conn.execute(
                    "SELECT id, source, kind, issuer, level, number, issue_date, meeting_date, chair,"
                    " signer, title FROM notices INDEXED BY notices_summary"
                ).fetchall()
                summaries = [NoticeSummary(*row) for row in rows]
                # ORDER BY COALESCE(meeting_date, issue_date, '') DESC, source (a stable sort).
                summaries.sort(key=lambda n: n.source)
                summaries.sort(key=_newest_key, reverse=True)
                snap = _Snapshot(
                    version, summaries, {n.id: n for n in summaries}, {n.id: i for i, n in enumerate(summaries)}
                )
                self._snapshot = snap
            return snap

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
        if self._words:
            self._insert_words(conn, notice.id, notice.text)
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

    def get(self, notice_id: str, with_records: bool = True) -> Notice:
        """A stored notice by id (or an unambiguous prefix of at least 4 characters).
        ``with_records=False`` leaves its ``sections`` and ``assignments`` empty: what quoting
        and citing a notice read, decoded at a fraction of the cost (they are most of the
        record)."""
        data_sql = "data" if with_records else "json_remove(data, '$.sections', '$.assignments')"
        row = self._conn.execute(f"SELECT {data_sql}, text FROM notices WHERE id=?", (notice_id,)).fetchone()
        if row is None:
            # A prefix compared as text: with LIKE, '%' and '_' in what was typed were wildcards
            # (a DELETE of '%…' removed whichever notice matched).
            matches = self._conn.execute(
                f"SELECT {data_sql}, text FROM notices WHERE substr(id, 1, ?) = ? LIMIT 2",
                (len(notice_id), notice_id),
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
        return [n.id for n in self._notices_snapshot().summaries]

    def summaries(self) -> list[NoticeSummary]:
        """Every notice's column facts, newest first (meeting date, else issue date), then by
        source."""
        return list(self._notices_snapshot().summaries)

    def ocr_marks(self) -> dict[str, dict[str, Any]]:
        """How the notices read by OCR were read (``OcrInfo`` as JSON), by id. Only PDFs and
        images can have been: the filter on ``format`` keeps the JSON look-up off the rest."""
        rows = self._conn.execute(
            "SELECT id, json_extract(data, '$.ocr') FROM notices"
            " WHERE format IN ('pdf', 'png', 'jpg', 'jpeg', 'tif', 'tiff')"
            " AND json_extract(data, '$.ocr') IS NOT NULL"
        ).fetchall()
        return {notice_id: json.loads(info) for notice_id, info in rows}

    def count(self) -> dict[str, int]:
        def one(sql: str) -> int:
            return int(self._conn.execute(sql).fetchone()[0])

        return {
            "notices": one("SELECT COUNT(*) FROM notices"),
            "sections": one("SELECT COUNT(*) FROM sections"),
            "assignments": one("SELECT COUNT(*) FROM assignments"),
        }

    def fingerprint(self) -> str:
        """Changes whenever the set of stored notices changes (staleness checks of the caches).
        Computed once per version of the store: the API asks for it on every request."""
        with self._lock:
            version = self._version()
            if self._fingerprint is None or self._fingerprint[0] != version:
                ids = ",".join(self.ids())
                self._fingerprint = (version, hashlib.sha256(ids.encode()).hexdigest()[:16])
            return self._fingerprint[1]

    def summaries_of(self, ids: Collection[str]) -> dict[str, NoticeSummary]:
        """The column facts of some notices (no JSON decoding), by id."""
        by_id = self._notices_snapshot().by_id
        return {i: by_id[i] for i in ids if i in by_id}

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
        if limit is not None or offset:
            # Count the rows per notice (from the covering indexes), then read and decode only
            # the rows of the notices the page falls in.
            first = max(offset, 0)
            end = None if limit is None else first + max(limit, 0)
            page: list[str] = []
            skipped = seen = 0
            for notice, count in self.assignment_notices(**filters):
                if end is not None and seen >= end:
                    break
                if seen + count <= first:
                    skipped += count
                else:
                    page.append(notice.id)
                seen += count
            refs = self.assignment_refs_of(page, **filters)
            return self.assignment_rows(refs[first - skipped : None if end is None else end - skipped])
        where, params = _assignment_where(filters)
        rows = self._conn.execute(
            f"SELECT a.notice_id, a.ord, a.data FROM assignments a {where}", params
        ).fetchall()
        snap, rows = self._in_snapshot(rows, filters)
        return [_row(snap.by_id[r[0]], Assignment.model_validate_json(r[2])) for r in rows]

    def count_assignments(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> int:
        """How many rows ``assignments`` returns with the same filters and no paging."""
        if filters.get("since") is not None or filters.get("until") is not None:
            # The meeting period is read on the notices' columns.
            return len(self.assignment_refs(**filters))
        where, params = _assignment_where(filters)
        row = self._conn.execute(f"SELECT COUNT(*) FROM assignments a {where}", params).fetchone()
        return int(row[0])

    def assignment_refs(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> list[AssignmentRef]:
        """The rows of ``assignments`` (same order) as plain columns, without decoding each
        record: for filtering and counting before only the rows shown are decoded."""
        return self.assignment_refs_and_notices(**filters)[0]

    def assignment_refs_and_notices(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> tuple[list[AssignmentRef], dict[str, NoticeSummary]]:
        """``assignment_refs`` and the column facts of their notices. The rows come from a
        covering index alone; the notices' dates and order from the cached column facts."""
        where, params = _assignment_where(filters)
        rows = self._conn.execute(
            f"SELECT a.notice_id, a.ord, a.deadline_text, a.deadline_date FROM assignments a {where}",
            params,
        ).fetchall()
        snap, rows = self._in_snapshot(rows, filters)
        refs = list(map(AssignmentRef._make, rows))
        by_id = snap.by_id
        return refs, {notice_id: by_id[notice_id] for notice_id in dict.fromkeys(r.notice_id for r in refs)}

    def assignment_notices(
        self,
        **filters: Unpack[AssignmentFilters],
    ) -> list[tuple[NoticeSummary, int]]:
        """The notices holding rows of ``assignments`` (same filters), newest first, each with
        how many: totals and the newest notices' rows without a row-level pass in Python."""
        where, params = _assignment_where(filters)
        groups = self._conn.execute(
            f"SELECT a.notice_id, COUNT(*) FROM assignments a {where} GROUP BY a.notice_id", params
        ).fetchall()
        snap, groups = self._in_snapshot(groups, filters)
        return [(snap.by_id[g[0]], g[1]) for g in groups]

    def assignment_refs_of(
        self,
        notice_ids: Sequence[str],
        **filters: Unpack[AssignmentFilters],
    ) -> list[AssignmentRef]:
        """``assignment_refs`` restricted to some notices, in the order of ``notice_ids``."""
        where, params = _assignment_where(filters)
        found: dict[str, list[AssignmentRef]] = {}
        for part in _batches(list(notice_ids)):
            rows = self._conn.execute(
                "SELECT a.notice_id, a.ord, a.deadline_text, a.deadline_date FROM assignments a"
                f" {where or 'WHERE 1'} AND a.notice_id IN ({','.join('?' * len(part))}) ORDER BY a.notice_id, a.ord",
                [*params, *part],
            ).fetchall()
            for r in rows:
                found.setdefault(r[0], []).append(AssignmentRef(*r))
        return [ref for notice_id in notice_ids for ref in found.get(notice_id, [])]

    def _in_snapshot(self, rows: list[_Row], filters: AssignmentFilters) -> tuple[_Snapshot, list[_Row]]:
        """``rows`` (notice id first) whose notice exists and meets the meeting period of
        ``filters`` (what a join on the notices and ``COALESCE(meeting_date, issue_date)``
        kept), sorted newest notice first and by ``ord`` (the second column) within a notice,
        with the snapshot that holds their notices. Sorted here rather than in SQL: an ORDER BY
        turns a scan of the whole table into lookups in key order, several times slower."""
        snap = self._notices_snapshot()
        by_id = snap.by_id
        if not by_id.keys() >= {r[0] for r in rows}:
            # Stored by another process since the snapshot was read.
            snap = self._notices_snapshot(refresh=True)
            by_id = snap.by_id
            rows = [r for r in rows if r[0] in by_id]
        since, until = filters.get("since"), filters.get("until")
        if since is not None or until is not None:
            low = since.isoformat() if since is not None else None
            high = until.isoformat() if until is not None else None

            def in_period(when: str | None) -> bool:
                return when is not None and (low is None or when >= low) and (high is None or when <= high)

            rows = [r for r in rows if in_period(_meeting(by_id[r[0]]))]
        rank = snap.rank
        rows.sort(key=lambda r: (rank[r[0]], r[1]))
        return snap, rows

    def assignment_rows(self, refs: Sequence[AssignmentRef]) -> list[AssignmentRow]:
        """The full rows of ``refs``, in the order given."""
        found: dict[tuple[str, int], AssignmentRow] = {}
        by_notice: dict[str, list[int]] = {}
        for ref in refs:
            by_notice.setdefault(ref.notice_id, []).append(ref.ord)
        snap = self._notices_snapshot()
        if any(notice_id not in snap.by_id for notice_id in by_notice):
            snap = self._notices_snapshot(refresh=True)
        for notice_id, ords in by_notice.items():
            notice = snap.by_id.get(notice_id)
            if notice is None:
                continue
            for part in _batches(ords):
                rows = self._conn.execute(
                    f"SELECT ord, data FROM assignments WHERE notice_id = ? AND ord IN ({','.join('?' * len(part))})",
                    [notice_id, *part],
                ).fetchall()
                for ord_, data in rows:
                    found[(notice_id, ord_)] = _row(notice, Assignment.model_validate_json(data))
        return [found[(ref.notice_id, ref.ord)] for ref in refs if (ref.notice_id, ref.ord) in found]

    def agency_refs(
        self,
        names: Collection[str] = (),
        keys: Collection[str] = (),
        **filters: Unpack[AssignmentFilters],
    ) -> list[AgencyRowRef]:
        """The rows whose canonical agency is one of ``names`` or, for agencies the gazetteer
        did not know, whose ``agency_key`` is one of ``keys``; newest notice first, with their
        agency columns. ``filters`` as in ``assignments`` (its ``agency``/``agency_key`` unused)."""
        names, keys = list(dict.fromkeys(names)), list(dict.fromkeys(keys))
        if not names and not keys:
            return []
        rest = {k: v for k, v in filters.items() if k not in ("agency", "agency_key")}
        where, params = _assignment_where(rest)  # type: ignore[arg-type]
        ors: list[str] = []
        args: list[object] = []
        if names:
            ors.append(f"a.agency IN ({','.join('?' * len(names))})")
            args.extend(names)
        if keys:
            ors.append(f"(a.agency IS NULL AND a.agency_key IN ({','.join('?' * len(keys))}))")
            args.extend(keys)
        clause = f"({' OR '.join(ors)})"
        where = f"{where} AND {clause}" if where else f"WHERE {clause}"
        rows = self._conn.execute(
            "SELECT a.notice_id, a.ord, a.deadline_text, a.deadline_date, a.agency, a.agency_text,"
            f" a.agency_level FROM assignments a {where}",
            [*params, *args],
        ).fetchall()
        _, rows = self._in_snapshot(rows, filters)
        return list(map(AgencyRowRef._make, rows))

    def agency_level_counts(self, names: Collection[str]) -> dict[tuple[str, str], int]:
        """How many rows each of the canonical ``names`` has, per level of the agency
        (a name several levels share, 'Phòng Kinh tế', is counted per level)."""
        names = list(dict.fromkeys(names))
        if not names:
            return {}
        rows = self._conn.execute(
            "SELECT agency, agency_level, COUNT(*) FROM assignments"
            f" WHERE agency IN ({','.join('?' * len(names))}) GROUP BY agency, agency_level",
            names,
        ).fetchall()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def unknown_agencies(self) -> list[tuple[str, str, int]]:
        """The bodies the gazetteer did not know, as stored: (``agency_key``, one spelling as
        written, how many rows), most rows first."""
        rows = self._conn.execute(
            "SELECT agency_key, MIN(agency_text), COUNT(*) FROM assignments WHERE agency IS NULL"
            " GROUP BY agency_key ORDER BY 3 DESC, 1"
        ).fetchall()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def notice_localities(self, ids: Collection[str]) -> dict[str, str]:
        """Where each notice comes from, as written: its issuer, its full issuer name ('UBND
        thị xã Bến Vân') and its place of issue, joined by newlines (place look-ups)."""
        out: dict[str, str] = {}
        for part in _batches(list(ids)):
            rows = self._conn.execute(
                "SELECT id, COALESCE(issuer, ''), COALESCE(json_extract(data, '$.issuer_name'), ''),"
                " COALESCE(json_extract(data, '$.place.text'), '') FROM notices"
                f" WHERE id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            out.update((r[0], "\n".join(p for p in r[1:] if p)) for r in rows)
        return out

    def issuer_names(self, ids: Collection[str]) -> dict[str, str]:
        """The readable issuer of some notices ('UBND thị xã Bến Vân'), where the parser
        read one: how a task row names the notice that assigned it."""
        out: dict[str, str] = {}
        for part in _batches(list(ids)):
            rows = self._conn.execute(
                "SELECT id, json_extract(data, '$.issuer_name') FROM notices"
                f" WHERE id IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            out.update((r[0], r[1]) for r in rows if r[1])
        return out

    def agency_names(self) -> list[str]:
        return [
            r[0]
            for r in self._conn.execute(
                "SELECT DISTINCT COALESCE(agency, agency_text) FROM assignments ORDER BY 1"
            )
        ]


# Well under SQLite's limit on bound parameters (999 in old builds).
_BATCH = 500


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The notices' column facts at one version of the store."""

    version: tuple[int, int]
    summaries: list[NoticeSummary]  # newest first
    by_id: dict[str, NoticeSummary]
    rank: dict[str, int]  # position in ``summaries``


def notice_words(text: str) -> str:
    """A notice's accent-free words, space-separated and space-framed: ``citations.words``
    joined, so that a place is named in the text iff `` {its words} `` is a substring."""
    return " " + " ".join(_WORD.findall(search_view(text))) + " "


def _meeting(notice: NoticeSummary) -> str | None:
    return notice.meeting_date if notice.meeting_date is not None else notice.issue_date


def _newest_key(notice: NoticeSummary) -> str:
    return _meeting(notice) or ""


def _row(notice: NoticeSummary, assignment: Assignment) -> AssignmentRow:
    return AssignmentRow(notice.id, notice.source, notice.title, _meeting(notice), notice.issuer, assignment)


def _batches(values: list[_T]) -> Iterator[list[_T]]:
    for i in range(0, len(values), _BATCH):
        yield values[i : i + _BATCH]


def _assignment_where(filters: AssignmentFilters) -> tuple[str, list[object]]:
    """The filters on the assignment columns (the meeting period is checked on the notices)."""
    agency, agency_key = filters.get("agency"), filters.get("agency_key")
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
