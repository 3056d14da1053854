"""Follow-up of assigned tasks: a status per assignment, its append-only history, and the
identity that keeps both attached to the task across re-ingests, parser changes and rebuilds.

Tables live in the canonical SQLite file (``Store.path``) but are the tracking module's own:
they have no foreign key to ``notices``/``assignments``, so rewriting a notice's records never
deletes a status or a history row.

Identity. Every assignment row has a *row key*: a hash of its notice id (the content hash),
the agency's match key, the task text (whitespace collapsed, case folded) and, for a task
written twice for the same agency, its occurrence. A task that nobody has touched has its row
key as ``task_id``. The first status change creates a *track*: the stable ``task_id`` plus the
row key it is attached to now. Whenever the notice under a track is stored again (its
``ingested_at`` differs) or is gone, ``reconcile`` looks for the task in the current records:
the same row key (same content: nothing to do), else in the notice's successor (the same source
path, else the same issuer and number) or its re-read records, the same agency with the same
text, then with nearly the same text (carried over and reported as changed), then the same text
under a re-read agency. What cannot be found is reported as not carried over; its status and
history stay, and it is attached again if the task comes back. The search indexes (Chroma,
BM25) hold no tracking data, so rebuilding them changes nothing here.

``quá hạn`` and ``sắp đến hạn`` are computed from the deadline and the day asked, never stored.
``set_status`` is the one place where a status changes; ``STATUS_CHANGE_HOOKS`` lets another
module (an audit log) observe every change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz

from assistant.agencies import Gazetteer
from assistant.deadlines import parse_user_date
from assistant.errors import AssistantError, NotFound
from assistant.model import Assignment
from assistant.store import AssignmentRow, NoticeSummary, Store
from assistant.text import collapse_spaces, match_key, nfc, search_view


class TaskStatus(StrEnum):
    NOT_STARTED = "chua_thuc_hien"
    IN_PROGRESS = "dang_thuc_hien"
    DONE = "da_hoan_thanh"
    ADJUSTED = "khong_thuc_hien"  # không thực hiện / điều chỉnh (with a reason)


STATUS_LABELS: dict[TaskStatus, str] = {
    TaskStatus.NOT_STARTED: "chưa thực hiện",
    TaskStatus.IN_PROGRESS: "đang thực hiện",
    TaskStatus.DONE: "đã hoàn thành",
    TaskStatus.ADJUSTED: "không thực hiện/điều chỉnh",
}


class DueState(StrEnum):
    """Computed from the deadline and the day asked; never stored."""

    OVERDUE = "qua_han"
    DUE_SOON = "sap_den_han"


DUE_LABELS: dict[DueState, str] = {DueState.OVERDUE: "quá hạn", DueState.DUE_SOON: "sắp đến hạn"}

ROLE_LABELS: dict[str, str] = {
    "chu_tri": "chủ trì",
    "phoi_hop": "phối hợp",
    "thuc_hien": "thực hiện",
    "de_nghi": "đề nghị",
}

# Closed statuses: a task done or adjusted is never overdue.
CLOSED = frozenset({TaskStatus.DONE, TaskStatus.ADJUSTED})
# Kinds of document whose assignments are followed up (a news article reports, a routing
# slip assigns nothing).
TRACKED_KINDS = frozenset({"notice", "minutes", "speech", "directive", "other"})
# A changed task text is still the same task at this similarity (rapidfuzz ratio, 0-100, on
# the accent-free text): a reworded phrase or a corrected figure, not a different task.
SAME_TASK_SIMILARITY = 90.0
# Longest free-text fields kept (a note is a note, not a document).
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 200

_STATUS_WORDS: dict[str, TaskStatus] = {
    **{status.value: status for status in TaskStatus},
    **{search_view(label): status for status, label in STATUS_LABELS.items()},
    "chua": TaskStatus.NOT_STARTED,
    "dang": TaskStatus.IN_PROGRESS,
    "hoan thanh": TaskStatus.DONE,
    "xong": TaskStatus.DONE,
    "khong thuc hien": TaskStatus.ADJUSTED,
    "dieu chinh": TaskStatus.ADJUSTED,
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS task_tracks (
    task_id TEXT PRIMARY KEY,
    row_key TEXT NOT NULL UNIQUE,
    notice_id TEXT NOT NULL,
    source TEXT NOT NULL,
    issuer TEXT,
    number TEXT,
    notice_stamp TEXT,
    agency_key TEXT NOT NULL,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    task TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    status TEXT NOT NULL,
    done_date TEXT,
    reason TEXT,
    note TEXT,
    report_ref TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT,
    carry TEXT NOT NULL DEFAULT 'ok',
    carry_note TEXT
);
CREATE INDEX IF NOT EXISTS task_tracks_notice ON task_tracks(notice_id);
CREATE TABLE IF NOT EXISTS task_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT,
    event TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    done_date TEXT,
    reason TEXT,
    note TEXT,
    report_ref TEXT
);
CREATE INDEX IF NOT EXISTS task_history_task ON task_history(task_id, id);
CREATE TRIGGER IF NOT EXISTS task_history_no_update BEFORE UPDATE ON task_history
BEGIN SELECT RAISE(ABORT, 'task_history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS task_history_no_delete BEFORE DELETE ON task_history
BEGIN SELECT RAISE(ABORT, 'task_history is append-only'); END;
CREATE TABLE IF NOT EXISTS task_keys (
    notice_id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    row_key TEXT NOT NULL,
    -- copied from the row: what the views filter and sort on, read without the rows
    role TEXT NOT NULL,
    deadline_date TEXT,
    recurring INTEGER NOT NULL,
    PRIMARY KEY (notice_id, ord)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_keys_row_key ON task_keys(row_key);
CREATE TABLE IF NOT EXISTS task_key_notices (
    notice_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    -- copied from the notice: its kind, and its place in Store.summaries() (newest first)
    kind TEXT NOT NULL,
    newest TEXT NOT NULL,
    source TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS task_keys_notice_gone AFTER DELETE ON notices
BEGIN
    DELETE FROM task_key_notices WHERE notice_id = OLD.id;
    DELETE FROM task_keys WHERE notice_id = OLD.id;
    UPDATE task_tracks SET notice_stamp = NULL WHERE notice_id = OLD.id;
END;
CREATE TRIGGER IF NOT EXISTS task_keys_notice_kind AFTER UPDATE ON notices
BEGIN DELETE FROM task_key_notices WHERE notice_id = OLD.id OR notice_id = NEW.id; END;
CREATE TRIGGER IF NOT EXISTS task_keys_row_added AFTER INSERT ON assignments
BEGIN
    DELETE FROM task_key_notices WHERE notice_id = NEW.notice_id;
    UPDATE task_tracks SET notice_stamp = NULL WHERE notice_id = NEW.notice_id;
END;
CREATE TRIGGER IF NOT EXISTS task_keys_row_changed AFTER UPDATE ON assignments
BEGIN
    DELETE FROM task_key_notices WHERE notice_id = OLD.notice_id OR notice_id = NEW.notice_id;
    UPDATE task_tracks SET notice_stamp = NULL WHERE notice_id = OLD.notice_id OR notice_id = NEW.notice_id;
END;
CREATE TRIGGER IF NOT EXISTS task_keys_row_removed AFTER DELETE ON assignments
BEGIN
    DELETE FROM task_key_notices WHERE notice_id = OLD.notice_id;
    UPDATE task_tracks SET notice_stamp = NULL WHERE notice_id = OLD.notice_id;
END;
"""


class TrackingError(AssistantError):
    """A status change that cannot be made as asked (missing reason, bad date…)."""

    http_status = 422


class CarryState(StrEnum):
    OK = "ok"
    CHANGED = "changed"  # carried over to a task whose text or agency was re-read differently
    LOST = "lost"  # not found in the current records: status kept, not attached


class HistoryEvent(StrEnum):
    STATUS = "status"  # a person changed the status or its details
    CARRIED = "carried"  # attached to the task in a new version / re-read of its notice
    LOST = "lost"  # could not be attached to any current task


@dataclass(frozen=True, slots=True)
class TaskState:
    """What is stored about one task (the default for a task nobody has touched)."""

    task_id: str
    status: TaskStatus = TaskStatus.NOT_STARTED
    done_date: dt.date | None = None
    reason: str | None = None
    note: str | None = None
    report_ref: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    carry: CarryState = CarryState.OK
    carry_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "status": self.status.value,
            "status_label": STATUS_LABELS[self.status],
            "done_date": _iso(self.done_date),
            "reason": self.reason,
            "note": self.note,
            "report_ref": self.report_ref,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "carry": self.carry.value,
            "carry_note": self.carry_note,
        }


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    task_id: str
    at: str
    by: str | None
    event: HistoryEvent
    from_status: TaskStatus | None
    to_status: TaskStatus
    done_date: dt.date | None
    reason: str | None
    note: str | None
    report_ref: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "at": self.at,
            "by": self.by,
            "event": self.event.value,
            "from_status": self.from_status.value if self.from_status else None,
            "from_label": STATUS_LABELS[self.from_status] if self.from_status else None,
            "to_status": self.to_status.value,
            "to_label": STATUS_LABELS[self.to_status],
            "done_date": _iso(self.done_date),
            "reason": self.reason,
            "note": self.note,
            "report_ref": self.report_ref,
        }


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change, as ``set_status`` made it: what an audit hook receives."""

    task_id: str
    before: TaskState
    after: TaskState
    by: str | None
    at: str


# Called after every committed status change (engineer 17's audit log hooks in here).
STATUS_CHANGE_HOOKS: list[Callable[[StatusChange], None]] = []


@dataclass(frozen=True, slots=True)
class CarryIssue:
    """A task whose status could not be carried over as it was, for the user to check."""

    task_id: str
    state: CarryState
    status: TaskStatus
    source: str
    number: str | None
    agency: str
    task: str
    message: str
    current_task: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "carry": self.state.value,
            "status": self.status.value,
            "status_label": STATUS_LABELS[self.status],
            "source": self.source,
            "number": self.number,
            "agency": self.agency,
            "task": self.task,
            "current_task": self.current_task,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class TaskRef:
    """One current assignment row with what identity, filtering and sorting need."""

    notice_id: str
    ord: int
    row_key: str
    agency_key: str
    agency: str
    role: str
    task: str
    start: int
    end: int
    deadline_date: dt.date | None
    recurring: bool



@dataclass
class TaskFilters:
    """Filters of the task views. ``agency`` is read as clerks type it (agency_lookup);
    ``issuer`` is matched accent-free in the notice's issuer and place; ``since``/``until``
    bound the meeting date; ``status`` may also be a computed state (overdue, due soon)."""

    agency: str | None = None
    notice: str | None = None
    status: TaskStatus | None = None
    overdue: bool = False
    due_within: int | None = None
    issuer: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "notice": self.notice,
            "status": self.status.value if self.status else None,
            "overdue": self.overdue,
            "due_within": self.due_within,
            "issuer": self.issuer,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "role": self.role,
        }


@dataclass
class TaskItem:
    """One row of a task view: the assignment, its notice, its stored and computed status."""

    ref: TaskRef
    row: AssignmentRow
    notice: NoticeSummary
    issuer_name: str | None
    state: TaskState
    due: DueState | None
    days_overdue: int | None
    days_left: int | None
    quote: str
    leads: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.state.task_id

    @property
    def assignment(self) -> Assignment:
        return self.row.assignment

    def notice_label(self) -> str:
        """'UBND thị xã Bến Vân, số 45/TB-UBND ngày 15/03/2024'."""
        return notice_label(self.notice, self.issuer_name)

    def to_json(self) -> dict[str, Any]:
        item = self.assignment
        deadline = item.deadline
        return {
            "task_id": self.task_id,
            "status": self.state.status.value,
            "status_label": STATUS_LABELS[self.state.status],
            "due_state": self.due.value if self.due else None,
            "due_label": DUE_LABELS[self.due] if self.due else None,
            "overdue": self.due is DueState.OVERDUE,
            "days_overdue": self.days_overdue,
            "days_left": self.days_left,
            "done_date": _iso(self.state.done_date),
            "reason": self.state.reason,
            "note": self.state.note,
            "report_ref": self.state.report_ref,
            "updated_at": self.state.updated_at,
            "updated_by": self.state.updated_by,
            "carry": self.state.carry.value,
            "notice_id": self.row.notice_id,
            "source": self.row.source,
            "notice_title": self.row.notice_title,
            "meeting_date": self.row.meeting_date,
            "notice": notice_citation(self.notice, self.issuer_name),
            "section": " › ".join(item.section_path),
            "role": item.role.value,
            "role_label": ROLE_LABELS.get(item.role.value, item.role.value),
            "agency": item.agency.canonical,
            "agency_text": item.agency.text,
            "lead_agencies": self.leads,
            "partner_agencies": self.partners,
            "task": item.task,
            "deadline": (
                {"text": deadline.text, "date": _iso(deadline.date), "recurring": deadline.recurring}
                if deadline
                else None
            ),
            "quote": self.quote,
            "start": item.start,
            "end": item.end,
        }


@dataclass
class TaskPage:
    items: list[TaskItem]
    total: int
    today: dt.date
    counts: dict[str, int]
    lookup: dict[str, Any] | None = None


# --- pure helpers --------------------------------------------------------------------------


def notice_label(notice: NoticeSummary, issuer_name: str | None = None) -> str:
    """How a task row names its notice: 'UBND thị xã Bến Vân, số 45/TB-UBND ngày 15/03/2024'."""
    parts = [issuer_name or collapse_spaces(notice.issuer or "") or notice.source]
    number = _number(notice.number)
    if number:
        parts.append(f"số {number}")
    day = notice.issue_date or notice.meeting_date
    label = ", ".join(parts)
    return f"{label} ngày {_vn_date(day)}" if day else label


def notice_citation(notice: NoticeSummary, issuer_name: str | None = None) -> dict[str, Any]:
    """The notice of a task row as JSON: issuer, number, dates, title and the label."""
    return {
        "id": notice.id,
        "issuer": issuer_name or notice.issuer,
        "number": _number(notice.number),
        "issue_date": notice.issue_date,
        "meeting_date": notice.meeting_date,
        "title": notice.title,
        "label": notice_label(notice, issuer_name),
    }


def parse_status(text: str) -> TaskStatus:
    """A status as typed: its code (``da_hoan_thanh``), its label with or without diacritics
    (``đã hoàn thành``, ``da hoan thanh``) or a short word (``xong``, ``dang``)."""
    key = collapse_spaces(search_view(nfc(text)).replace("_", " ").replace("/", " ")).strip()
    for candidate in (key, key.replace(" ", "_")):
        if candidate in _STATUS_WORDS:
            return _STATUS_WORDS[candidate]
    if key.startswith("khong thuc hien"):
        return TaskStatus.ADJUSTED
    choices = "; ".join(f"'{label}' ({status.value})" for status, label in STATUS_LABELS.items())
    raise TrackingError(f"Không hiểu trạng thái '{text}'. Chọn một trong: {choices}.")


def task_text_key(task: str) -> str:
    """The task text as compared: NFC, whitespace collapsed, case folded (accents kept)."""
    return collapse_spaces(nfc(task)).strip().casefold()


def row_key(notice_id: str, agency_key: str, task: str, occurrence: int = 0) -> str:
    raw = "\x1f".join((notice_id, agency_key, task_text_key(task), str(occurrence)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def due_state(
    deadline: dt.date | None,
    recurring: bool,
    status: TaskStatus,
    today: dt.date,
    soon_days: int,
) -> tuple[DueState | None, int | None, int | None]:
    """(state, days overdue, days left) of a deadline on ``today``: a closed task and a
    recurring duty are neither overdue nor due soon."""
    if deadline is None or recurring or status in CLOSED:
        return None, None, None
    delta = (deadline - today).days
    if delta < 0:
        return DueState.OVERDUE, -delta, None
    if delta <= soon_days:
        return DueState.DUE_SOON, None, delta
    return None, None, delta


def upcoming_first(today: dt.date) -> Callable[[TaskRef], tuple[int, int]]:
    """Sort key: deadlines from today on, nearest first; then past deadlines, most recent
    first; then recurring duties; then tasks without a deadline."""
    def key(ref: TaskRef) -> tuple[int, int]:
        if ref.deadline_date is None:
            return (3 if not ref.recurring else 2, 0)
        days = (ref.deadline_date - today).days
        return (0, days) if days >= 0 else (1, -days)

    return key


def _typed_day(value: str | None) -> dt.date | None:
    return parse_user_date(value) if value else None


ROLE_WORDS = {"chu_tri": "chu_tri", "chu tri": "chu_tri", "phoi_hop": "phoi_hop", "phoi hop": "phoi_hop",
              "thuc_hien": "thuc_hien", "thuc hien": "thuc_hien", "de_nghi": "de_nghi", "de nghi": "de_nghi"}


def typed_filters(
    due_soon_days: int,
    *,
    agency: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    due_within: int | None = None,
    notice: str | None = None,
    issuer: str | None = None,
    since: str | None = None,
    until: str | None = None,
    role: str | None = None,
) -> TaskFilters:
    """The filters as typed (CLI and API): a status may also be 'quá hạn' or 'sắp đến hạn'."""
    filters = TaskFilters(agency=agency or None, notice=notice or None, overdue=overdue,
                          due_within=due_within, issuer=issuer or None, since=_typed_day(since),
                          until=_typed_day(until))
    if due_within is not None and due_within < 0:
        raise TrackingError("Số ngày đến hạn (--due-within) phải từ 0 trở lên.")
    if status:
        key = search_view(status).replace("_", " ").strip()
        if key in ("qua han", DueState.OVERDUE.value.replace("_", " ")):
            filters.overdue = True
        elif key in ("sap den han", DueState.DUE_SOON.value.replace("_", " ")):
            filters.due_within = due_soon_days if due_within is None else due_within
        else:
            filters.status = parse_status(status)
    if role:
        found = ROLE_WORDS.get(search_view(role).strip())
        if found is None:
            raise TrackingError(
                f"Không hiểu vai trò '{role}'. Chọn: chủ trì, phối hợp, thực hiện, đề nghị."
            )
        filters.role = found
    return filters


# --- the tracker ---------------------------------------------------------------------------

# The stored status of a view row (a task nobody has touched has no track).
_STATUS_SQL = "COALESCE(t.status, 'chua_thuc_hien')"
# What the first pass of a view reads (``_refs_of`` completes the rows it keeps).
_KEY_COLUMNS = "k.notice_id, k.ord, k.row_key, k.role, k.deadline_date, k.recurring"
# The columns of a view row: ``_ref_and_state`` reads them in this order.
_VIEW_COLUMNS = ("a.notice_id, a.ord, k.row_key, a.agency_key, COALESCE(a.agency, a.agency_text), a.role,"
                 ' a.task, a.start, a."end", a.deadline_date, a.deadline_recurring')
# The columns ``_with_keys`` reads, in its order.
_REF_COLUMNS = ('notice_id, ord, agency_key, COALESCE(agency, agency_text), role, task, start, "end",'
                " deadline_date, deadline_recurring")


class TaskTracker:
    """Statuses and history of the tasks in one store. Opens its own connection to the
    store's SQLite file (WAL: readers and the store's writer do not block each other)."""

    def __init__(self, store: Store, due_soon_days: int = 7) -> None:
        self.store = store
        self.due_soon_days = due_soon_days
        # Autocommit: transactions are begun and ended explicitly (BEGIN IMMEDIATE).
        self._conn = sqlite3.connect(store.path, timeout=30.0, check_same_thread=False,
                                     isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._lock = threading.RLock()
        self._rows_cache: tuple[tuple[int, int], list[TaskRef]] | None = None
        # (SQLite data_version, stored keys' version) when the keys were last checked
        self._keys_version: tuple[int, tuple[int, int]] | None = None
        self._by_key: dict[str, TaskRef] = {}
        with self._lock:
            self._conn.executescript(_SCHEMA)
            # the rows of the agency and the notices of the issuer a view asks for
            self._conn.executescript(
                "CREATE TEMP TABLE IF NOT EXISTS task_view_rows (notice_id TEXT NOT NULL,"
                " ord INTEGER NOT NULL, PRIMARY KEY (notice_id, ord)) WITHOUT ROWID;"
                "CREATE TEMP TABLE IF NOT EXISTS task_view_notices (notice_id TEXT PRIMARY KEY)"
                " WITHOUT ROWID;"
                "CREATE TEMP TABLE IF NOT EXISTS task_view_page (notice_id TEXT NOT NULL,"
                " ord INTEGER NOT NULL, PRIMARY KEY (notice_id, ord)) WITHOUT ROWID;"
            )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> TaskTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- current rows ------------------------------------------------------------------

    def _version(self) -> tuple[int, int]:
        """What the cached rows were read at: the stored keys' (count, newest generation).
        Cheap when nothing changed (SQLite's ``data_version`` says so without a query);
        otherwise the stale notices' keys are computed first (``sync_keys``)."""
        data_version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if self._keys_version is not None and self._keys_version[0] == data_version:
            return self._keys_version[1]
        self.sync_keys()
        count, newest = self._conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(generation), 0) FROM task_key_notices"
        ).fetchone()
        version = (int(count), int(newest))
        self._keys_version = (data_version, version)
        return version

    def sync_keys(self) -> int:
        """Compute and store the row keys of every notice whose keys are missing: stored
        since the last call, re-read (its rows rewritten), or from before this table. The
        store's own writes cannot leave stale keys behind: triggers on ``notices`` and
        ``assignments`` drop a notice's marker (and, when it is deleted, its keys) in the same
        transaction. Returns how many notices were keyed."""
        with self._lock:
            missing = "SELECT id FROM notices WHERE id NOT IN (SELECT notice_id FROM task_key_notices)"
            if self._conn.execute(missing + " LIMIT 1").fetchone() is None:
                return 0
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [r[0] for r in self._conn.execute(missing)]
                generation = 1 + int(self._conn.execute(
                    "SELECT COALESCE(MAX(generation), 0) FROM task_key_notices").fetchone()[0])
                for start in range(0, len(ids), 500):
                    part = ids[start:start + 500]
                    marks = ",".join("?" * len(part))
                    self._conn.execute(f"DELETE FROM task_keys WHERE notice_id IN ({marks})", part)
                    rows = self._conn.execute(
                        f"SELECT {_REF_COLUMNS} FROM assignments WHERE notice_id IN ({marks})"
                        " ORDER BY notice_id, ord", part,
                    ).fetchall()
                    self._conn.executemany(
                        "INSERT INTO task_keys(notice_id, ord, row_key, role, deadline_date, recurring)"
                        " VALUES (?,?,?,?,?,?)",
                        [(ref.notice_id, ref.ord, ref.row_key, ref.role, _iso(ref.deadline_date),
                          int(ref.recurring)) for ref in _with_keys(rows)],
                    )
                    self._conn.execute(
                        "INSERT INTO task_key_notices(notice_id, generation, kind, newest, source)"
                        " SELECT id, ?, kind, COALESCE(meeting_date, issue_date, ''), source"
                        f" FROM notices WHERE id IN ({marks})", [generation, *part],
                    )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return len(ids)

    def task_refs(self) -> list[TaskRef]:
        """Every current assignment of a followed-up kind of document, with its row key; the
        keys are stored (``task_keys``), computed once per notice; the rows are read once
        per change of the stored keys."""
        with self._lock:
            version = self._version()
            cached = self._rows_cache
            if cached is not None and cached[0] == version:
                return cached[1]
            rows = self._conn.execute(
                "SELECT a.notice_id, a.ord, k.row_key, a.agency_key, COALESCE(a.agency, a.agency_text),"
                ' a.role, a.task, a.start, a."end", a.deadline_date, a.deadline_recurring'
                " FROM assignments a JOIN notices n ON n.id = a.notice_id"
                " JOIN task_keys k ON k.notice_id = a.notice_id AND k.ord = a.ord"
                f" WHERE n.kind IN ({','.join('?' * len(TRACKED_KINDS))})"
                " ORDER BY a.notice_id, a.ord",
                sorted(TRACKED_KINDS),
            ).fetchall()
            refs = [
                TaskRef(notice_id, ord_, key, agency_key, agency, role, task, start, end,
                        _date(deadline), bool(recurring))
                for notice_id, ord_, key, agency_key, agency, role, task, start, end, deadline, recurring
                in rows
            ]
            self._rows_cache = (version, refs)
            self._by_key = {ref.row_key: ref for ref in refs}
            return refs

    def ref_by_key(self, key: str) -> TaskRef | None:
        """The current row with this row key (None: no such task now): one indexed look-up
        in the stored keys, or the rows already read."""
        with self._lock:
            version = self._version()
            if self._rows_cache is not None and self._rows_cache[0] == version:
                return self._by_key.get(key)
            rows = self._conn.execute(
                f"SELECT {_VIEW_COLUMNS} FROM task_keys k JOIN assignments a ON a.notice_id = k.notice_id"
                " AND a.ord = k.ord JOIN notices n ON n.id = a.notice_id"
                f" WHERE k.row_key = ? AND n.kind IN ({','.join('?' * len(TRACKED_KINDS))})"
                " ORDER BY a.notice_id, a.ord LIMIT 1",
                [key, *sorted(TRACKED_KINDS)],
            ).fetchall()
        return _ref_and_state(rows[0], {})[0] if rows else None

    def _keys_starting(self, prefix: str) -> list[str]:
        """The current row keys that start with ``prefix`` (an index range, not a scan)."""
        with self._lock:
            self._version()
            return [r[0] for r in self._conn.execute(
                "SELECT DISTINCT k.row_key FROM task_keys k JOIN notices n ON n.id = k.notice_id"
                f" WHERE k.row_key >= ? AND k.row_key < ? AND n.kind IN ({','.join('?' * len(TRACKED_KINDS))})"
                " LIMIT 50",
                [prefix, prefix + "\U0010ffff", *sorted(TRACKED_KINDS)],
            )]

    def _notice_refs(self, notice_id: str) -> list[TaskRef]:
        rows = self._conn.execute(
            f"SELECT {_REF_COLUMNS} FROM assignments WHERE notice_id = ? ORDER BY ord", (notice_id,)
        ).fetchall()
        return _with_keys(rows)

    # --- stored states -----------------------------------------------------------------

    def _tracks(self, where: str = "", params: Sequence[object] = ()) -> list[sqlite3.Row]:
        self._conn.row_factory = sqlite3.Row
        try:
            return list(self._conn.execute(f"SELECT * FROM task_tracks {where}", params))
        finally:
            self._conn.row_factory = None

    def states_by_row_key(self) -> dict[str, TaskState]:
        """The stored state of every attached track, by the row key it is attached to."""
        self.reconcile()
        return {r["row_key"]: _state(r) for r in self._tracks("WHERE carry != 'lost'")}

    def resolve(self, task_id: str) -> str:
        """The full task id for ``task_id`` or an unambiguous prefix (4 characters or more)."""
        task_id = task_id.strip().lower()
        if self._conn.execute("SELECT 1 FROM task_tracks WHERE task_id = ?", (task_id,)).fetchone():
            return task_id
        current = self.ref_by_key(task_id)
        if current is not None and not self._conn.execute(
            "SELECT 1 FROM task_tracks WHERE row_key = ?", (task_id,)
        ).fetchone():
            return task_id  # an untouched task: its id is its row key
        if len(task_id) < 4:
            raise NotFound(
                f"Không có nhiệm vụ mã '{task_id}'. Xem mã ở cột 'Mã' của 'assistant tasks list'."
            )
        tracked = {r[0]: r[1] for r in self._conn.execute("SELECT row_key, task_id FROM task_tracks")}
        ids = {tracked.get(key, key) for key in self._keys_starting(task_id)} | set(tracked.values())
        matches = [i for i in ids if i.startswith(task_id)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise TrackingError(f"Mã nhiệm vụ '{task_id}' khớp với {len(matches)} nhiệm vụ; hãy gõ đủ mã.")
        raise NotFound(
            f"Không có nhiệm vụ mã '{task_id}'. Xem mã ở cột 'Mã' của 'assistant tasks list'."
        )

    def _ref_of(self, task_id: str) -> TaskRef | None:
        track = self._tracks("WHERE task_id = ?", (task_id,))
        if track and track[0]["carry"] == CarryState.LOST.value:
            return None
        return self.ref_by_key(track[0]["row_key"] if track else task_id)

    def status_of(self, task_id: str) -> TaskState:
        """The stored state of a task (read API for chat answers); default when untouched."""
        self.reconcile()
        task_id = self.resolve(task_id)
        track = self._tracks("WHERE task_id = ?", (task_id,))
        return _state(track[0]) if track else TaskState(task_id)

    def states_for(self, rows: Sequence[AssignmentRow]) -> list[TaskState | None]:
        """The state of each assignment row as other views hold them (chat answers): None for
        a row of a document that is not followed up (a news article)."""
        states = self.states_by_row_key()
        keys = {(r.notice_id, r.start, r.end, task_text_key(r.task), r.agency_key): r.row_key
                for r in self.task_refs()}
        out: list[TaskState | None] = []
        for row in rows:
            item = row.assignment
            key = keys.get((row.notice_id, item.start, item.end, task_text_key(item.task),
                            match_key(item.agency.canonical or item.agency.text)))
            out.append(None if key is None else states.get(key) or TaskState(key))
        return out

    def history(self, task_id: str) -> list[HistoryEntry]:
        """Every recorded change of a task, oldest first."""
        task_id = self.resolve(task_id)
        rows = self._conn.execute(
            "SELECT id, task_id, at, by, event, from_status, to_status, done_date, reason, note,"
            " report_ref FROM task_history WHERE task_id = ? ORDER BY id",
            (task_id,),
        ).fetchall()
        return [
            HistoryEntry(
                r[0], r[1], r[2], r[3], HistoryEvent(r[4]),
                TaskStatus(r[5]) if r[5] else None, TaskStatus(r[6]),
                _date(r[7]), r[8], r[9], r[10],
            )
            for r in rows
        ]

    # --- the one place a status changes ------------------------------------------------------

    def set_status(
        self,
        task_id: str,
        status: TaskStatus,
        *,
        by: str | None = None,
        note: str | None = None,
        done_date: dt.date | None = None,
        reason: str | None = None,
        report_ref: str | None = None,
        today: dt.date | None = None,
    ) -> StatusChange:
        """Change a task's status (and its note, date done, reason, reporting document),
        appending one history row. ``done_date`` defaults to today for ``đã hoàn thành``; a
        reason is required for ``không thực hiện/điều chỉnh``. Every committed change is passed
        to ``STATUS_CHANGE_HOOKS``."""
        today = today or dt.date.today()
        by = _clean(by, MAX_NAME_CHARS, "Tên người cập nhật")
        note = _clean(note, MAX_NOTE_CHARS, "Ghi chú")
        reason = _clean(reason, MAX_NOTE_CHARS, "Lý do")
        report_ref = _clean(report_ref, MAX_NAME_CHARS, "Văn bản báo cáo")
        if status is TaskStatus.DONE:
            done_date = done_date or today
            if done_date > today:
                raise TrackingError(f"Ngày hoàn thành {_vn_date(done_date.isoformat())} chưa tới.")
        elif done_date is not None:
            raise TrackingError("Ngày hoàn thành chỉ ghi cho trạng thái 'đã hoàn thành'.")
        self.reconcile()
        with self._lock:
            task_id = self.resolve(task_id)
            before_rows = self._tracks("WHERE task_id = ?", (task_id,))
            before = _state(before_rows[0]) if before_rows else TaskState(task_id)
            if status is TaskStatus.ADJUSTED and not (reason or before.reason):
                raise TrackingError(
                    "Trạng thái 'không thực hiện/điều chỉnh' cần lý do (--reason hoặc --note)."
                )
            if status is TaskStatus.ADJUSTED:
                reason = reason or before.reason
            elif status is not before.status:
                reason = None
            if before.carry is CarryState.LOST:
                raise TrackingError(
                    "Nhiệm vụ này không còn trong các thông báo hiện có (xem 'assistant tasks "
                    "carry-report'); trạng thái và lịch sử vẫn được giữ nhưng không sửa được."
                )
            ref = self._ref_of(task_id)
            if ref is None:
                raise NotFound(f"Không có nhiệm vụ mã '{task_id}' trong các thông báo hiện có.")
            now = _now()
            after = TaskState(
                task_id,
                status,
                done_date if status is TaskStatus.DONE else None,
                reason,
                note if note is not None else before.note,
                report_ref if report_ref is not None else before.report_ref,
                now,
                by,
                CarryState.OK if before.carry is CarryState.CHANGED else before.carry,
                None if before.carry is CarryState.CHANGED else before.carry_note,
            )
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if before_rows:
                    self._conn.execute(
                        "UPDATE task_tracks SET status=?, done_date=?, reason=?, note=?, report_ref=?,"
                        " updated_at=?, updated_by=?, carry=?, carry_note=? WHERE task_id=?",
                        (after.status.value, _iso(after.done_date), after.reason, after.note,
                         after.report_ref, now, by, after.carry.value, after.carry_note, task_id),
                    )
                else:
                    self._insert_track(task_id, ref, after)
                self._conn.execute(
                    "INSERT INTO task_history(task_id, at, by, event, from_status, to_status,"
                    " done_date, reason, note, report_ref) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (task_id, now, by, HistoryEvent.STATUS.value, before.status.value,
                     after.status.value, _iso(after.done_date), after.reason, note, report_ref),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        change = StatusChange(task_id, before, after, by, now)
        for hook in list(STATUS_CHANGE_HOOKS):
            hook(change)
        return change

    def _insert_track(self, task_id: str, ref: TaskRef, state: TaskState) -> None:
        notice = self._conn.execute(
            "SELECT source, issuer, number, ingested_at FROM notices WHERE id = ?", (ref.notice_id,)
        ).fetchone()
        self._conn.execute(
            "INSERT INTO task_tracks(task_id, row_key, notice_id, source, issuer, number,"
            ' notice_stamp, agency_key, agency, role, task, start, "end", status, done_date,'
            " reason, note, report_ref, updated_at, updated_by, carry, carry_note)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (task_id, ref.row_key, ref.notice_id, notice[0], notice[1], notice[2], notice[3],
             ref.agency_key, ref.agency, ref.role, ref.task, ref.start, ref.end,
             state.status.value, _iso(state.done_date), state.reason, state.note,
             state.report_ref, state.updated_at, state.updated_by, state.carry.value,
             state.carry_note),
        )

    # --- identity across re-ingests -------------------------------------------------------------

    def reconcile(self) -> list[CarryIssue]:
        """Re-attach every track whose notice was stored again or is gone (module docstring);
        returns what changed now: tasks carried over with a changed text or agency, and tasks
        not found. Cheap when nothing changed: one join of the tracks with the notices."""
        with self._lock:
            pending = self._tracks(
                "WHERE NOT EXISTS (SELECT 1 FROM notices n WHERE n.id = task_tracks.notice_id"
                " AND n.ingested_at IS task_tracks.notice_stamp)"
            )
            if not pending:
                return []
            issues: list[CarryIssue] = []
            claimed = {r[0] for r in self._conn.execute("SELECT row_key FROM task_tracks")}
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for track in pending:
                    issue = self._reattach(track, claimed)
                    if issue is not None:
                        issues.append(issue)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return issues

    def _successor(self, track: sqlite3.Row) -> tuple[str, str | None] | None:
        """The notice now holding the track's task: the same notice (re-read), else the one
        stored from the same source path, else one with the same issuer and number."""
        row = self._conn.execute(
            "SELECT id, ingested_at FROM notices WHERE id = ?", (track["notice_id"],)
        ).fetchone()
        if row is None:
            row = self._conn.execute(
                "SELECT id, ingested_at FROM notices WHERE source = ? ORDER BY ingested_at DESC LIMIT 1",
                (track["source"],),
            ).fetchone()
        if row is None and track["number"] and track["issuer"] and "/" in track["number"]:
            number = track["number"].strip()
            if number.split("/")[0].strip():
                row = self._conn.execute(
                    "SELECT id, ingested_at FROM notices WHERE number = ? AND issuer = ?"
                    " ORDER BY ingested_at DESC LIMIT 1",
                    (track["number"], track["issuer"]),
                ).fetchone()
        return (row[0], row[1]) if row is not None else None

    def _reattach(self, track: sqlite3.Row, claimed: set[str]) -> CarryIssue | None:
        task_id, status = track["task_id"], TaskStatus(track["status"])
        found = self._successor(track)
        old_text = track["task"]
        if found is None:
            return self._mark_lost(track, "Thông báo chứa nhiệm vụ này không còn trong kho.")
        notice_id, stamp = found
        candidates = [r for r in self._notice_refs(notice_id)
                      if r.row_key == track["row_key"] or r.row_key not in claimed]
        match, changed = _best_match(track, candidates)
        if match is None:
            return self._mark_lost(
                track, "Không tìm thấy nhiệm vụ tương ứng trong bản hiện có của thông báo "
                "(nội dung hoặc cơ quan đã thay đổi); trạng thái chưa được chuyển."
            )
        claimed.discard(track["row_key"])
        claimed.add(match.row_key)
        carry, carry_note = CarryState.OK, None
        if changed:
            carry = CarryState.CHANGED
            carry_note = (f"Nội dung nhiệm vụ đã thay đổi khi nạp lại: «{_short(old_text)}» → "
                          f"«{_short(match.task)}» ({track['agency']} → {match.agency}); "
                          "trạng thái đã được chuyển, cần kiểm tra lại.")
        elif track["carry"] == CarryState.CHANGED.value:
            carry, carry_note = CarryState.CHANGED, track["carry_note"]
        source, issuer, number = self._conn.execute(
            "SELECT source, issuer, number FROM notices WHERE id = ?", (notice_id,)
        ).fetchone()
        moved = match.row_key != track["row_key"] or track["carry"] == CarryState.LOST.value
        self._conn.execute(
            "UPDATE task_tracks SET row_key=?, notice_id=?, source=?, issuer=?, number=?,"
            ' notice_stamp=?, agency_key=?, agency=?, role=?, task=?, start=?, "end"=?, carry=?,'
            " carry_note=? WHERE task_id=?",
            (match.row_key, notice_id, source, issuer, number, stamp, match.agency_key,
             match.agency, match.role, match.task, match.start, match.end, carry.value,
             carry_note, task_id),
        )
        if moved:
            self._history_event(track, HistoryEvent.CARRIED, carry_note or (
                f"Gắn vào nhiệm vụ trong bản hiện có của thông báo ({source})."))
        if changed:
            return CarryIssue(task_id, carry, status, source, number, track["agency"], old_text,
                              carry_note or "", match.task)
        return None

    def _mark_lost(self, track: sqlite3.Row, message: str) -> CarryIssue:
        if track["carry"] != CarryState.LOST.value:
            self._conn.execute(
                "UPDATE task_tracks SET carry='lost', carry_note=? WHERE task_id=?",
                (message, track["task_id"]),
            )
            self._history_event(track, HistoryEvent.LOST, message)
        return CarryIssue(track["task_id"], CarryState.LOST, TaskStatus(track["status"]),
                          track["source"], track["number"], track["agency"], track["task"], message)

    def _history_event(self, track: sqlite3.Row, event: HistoryEvent, note: str) -> None:
        self._conn.execute(
            "INSERT INTO task_history(task_id, at, by, event, from_status, to_status, done_date,"
            " reason, note, report_ref) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (track["task_id"], _now(), None, event.value, track["status"], track["status"],
             track["done_date"], track["reason"], note, track["report_ref"]),
        )

    def carry_report(self) -> list[CarryIssue]:
        """Tasks whose status could not be carried over (``lost``) or was carried over to a
        task read differently (``changed``, until someone sets its status again)."""
        self.reconcile()
        return [
            CarryIssue(r["task_id"], CarryState(r["carry"]), TaskStatus(r["status"]), r["source"],
                       r["number"], r["agency"], r["task"], r["carry_note"] or "",
                       r["task"] if r["carry"] == CarryState.CHANGED.value else None)
            for r in self._tracks("WHERE carry != 'ok' ORDER BY updated_at")
        ]

    # --- views ---------------------------------------------------------------------------

    def select(
        self,
        filters: TaskFilters,
        gazetteer: Gazetteer | None = None,
        today: dt.date | None = None,
    ) -> tuple[list[tuple[TaskRef, TaskState]], dict[str, Any] | None]:
        """The rows of a view, filtered and sorted upcoming first, not yet decoded; with how
        the agency was read (``AgencyLookup.to_json``) when one was asked."""
        today = today or dt.date.today()
        with self._lock:
            states = self.states_by_row_key()
            sql, params, lookup = self._view_sql(filters, gazetteer, today)
            keys = self._conn.execute(f"SELECT {_KEY_COLUMNS} {sql}", params).fetchall()
            return self._refs_of(keys, states), lookup

    def _refs_of(self, keys: Sequence[tuple[Any, ...]], states: dict[str, TaskState]
                 ) -> list[tuple[TaskRef, TaskState]]:
        """The view rows ``keys`` (``_KEY_COLUMNS``) completed from their assignment rows, in
        the same order; a row deleted in between is left out."""
        self._conn.execute("DELETE FROM temp.task_view_page")
        self._conn.executemany("INSERT OR IGNORE INTO temp.task_view_page VALUES (?, ?)",
                               [key[:2] for key in keys])
        texts: dict[tuple[str, int], tuple[Any, ...]] = {
            (r[0], r[1]): r[2:] for r in self._conn.execute(
                'SELECT a.notice_id, a.ord, a.agency_key, COALESCE(a.agency, a.agency_text), a.task,'
                ' a.start, a."end" FROM temp.task_view_page p'
                " JOIN assignments a ON a.notice_id = p.notice_id AND a.ord = p.ord"
            )
        }
        out: list[tuple[TaskRef, TaskState]] = []
        for notice_id, ord_, key, role, deadline, recurring in keys:
            found = texts.get((notice_id, ord_))
            if found is None:
                continue
            agency_key, agency, task, begin, end = found
            ref = TaskRef(notice_id, ord_, key, agency_key, agency, role, task, begin, end,
                          _date(deadline), bool(recurring))
            out.append((ref, states.get(key) or TaskState(key)))
        return out

    def _view_sql(
        self, filters: TaskFilters, gazetteer: Gazetteer | None, today: dt.date
    ) -> tuple[str, list[object], dict[str, Any] | None]:
        """``FROM … WHERE … ORDER BY …`` of a view over the stored keys and statuses (the
        lock held: the agency's and issuer's rows go into this connection's temp tables).
        The selection, the counts and the page are SQLite's work: at 10,000 notices a page
        reads its 50 rows, not all 150,000."""
        self._version()  # the keys of every stored notice
        self.reconcile()
        today_iso = today.isoformat()
        joins: list[str] = []
        where = [f"kn.kind IN ({','.join('?' * len(TRACKED_KINDS))})"]
        params: list[object] = [*sorted(TRACKED_KINDS)]
        lookup: dict[str, Any] | None = None
        if filters.agency:
            if gazetteer is None:
                raise ValueError("an agency filter needs the gazetteer")
            from assistant.agency_lookup import find_agency

            found = find_agency(self.store, gazetteer, filters.agency)
            lookup = found.to_json()
            self._conn.execute("DELETE FROM temp.task_view_rows")
            self._conn.executemany("INSERT OR IGNORE INTO temp.task_view_rows VALUES (?, ?)",
                                   [(r.notice_id, r.ord) for r in found.refs])
            joins.append("temp.task_view_rows v CROSS JOIN task_keys k ON k.notice_id = v.notice_id AND k.ord = v.ord")
        if filters.issuer:
            wanted = self._issuer_ids(set(self.store.ids()), filters.issuer)
            self._conn.execute("DELETE FROM temp.task_view_notices")
            self._conn.executemany("INSERT OR IGNORE INTO temp.task_view_notices VALUES (?)",
                                   [(i,) for i in wanted])
            joins.append("temp.task_view_notices w CROSS JOIN task_keys k ON k.notice_id = w.notice_id"
                         if not joins else "JOIN temp.task_view_notices w ON w.notice_id = k.notice_id")
        if filters.notice:
            prefix = filters.notice.strip().lower()
            where.append("substr(k.notice_id, 1, ?) = ?")
            params += [len(prefix), prefix]
        if filters.role:
            where.append("k.role = ?")
            params.append(filters.role)
        meeting = "NULLIF(kn.newest, '')"
        if filters.since:
            where.append(f"{meeting} >= ?")
            params.append(filters.since.isoformat())
        if filters.until:
            where.append(f"{meeting} <= ?")
            params.append(filters.until.isoformat())
        if filters.status is not None:
            where.append(f"{_STATUS_SQL} = ?")
            params.append(filters.status.value)
        # a deadline that can fall due: dated, not a recurring duty, the task not closed
        open_dated = (f"k.deadline_date IS NOT NULL AND k.recurring = 0"
                      f" AND {_STATUS_SQL} NOT IN ({','.join('?' * len(CLOSED))})")
        closed = sorted(status.value for status in CLOSED)
        if filters.overdue:
            where.append(f"{open_dated} AND k.deadline_date < ?")
            params += [*closed, today_iso]
        if filters.due_within is not None:
            horizon = today + dt.timedelta(days=filters.due_within)
            where.append(f"{open_dated} AND k.deadline_date >= ? AND k.deadline_date <= ?")
            params += [*closed, today_iso, horizon.isoformat()]
        # upcoming_first(), then the notices newest first (Store.summaries), then their order
        order = (
            "CASE WHEN k.deadline_date IS NULL THEN (CASE WHEN k.recurring THEN 2 ELSE 3 END)"
            " WHEN k.deadline_date >= ? THEN 0 ELSE 1 END,"
            " CASE WHEN k.deadline_date >= ? THEN k.deadline_date END,"
            " CASE WHEN k.deadline_date < ? THEN k.deadline_date END DESC,"
            " kn.newest DESC, kn.source, k.ord"
        )
        # A view of an agency or an issuer starts from its few rows (CROSS JOIN fixes the
        # order of the loops: left alone, SQLite scanned every key and probed the temp table).
        first = joins[0] if joins else "task_keys k"
        sql = (
            f"FROM {first} {' '.join(joins[1:])} JOIN task_key_notices kn ON kn.notice_id = k.notice_id"
            " LEFT JOIN task_tracks t ON t.row_key = k.row_key AND t.carry != 'lost'"
            f" WHERE {' AND '.join(where)} ORDER BY {order}"
        )
        return sql, [*params, today_iso, today_iso, today_iso], lookup

    def _issuer_ids(self, ids: set[str], issuer: str) -> set[str]:
        want = collapse_spaces(search_view(nfc(issuer))).strip()
        localities = self.store.notice_localities(ids)
        return {i for i, text in localities.items() if want in collapse_spaces(search_view(text))}

    def page(
        self,
        filters: TaskFilters,
        gazetteer: Gazetteer | None = None,
        today: dt.date | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> TaskPage:
        """One page of a view, decoded: each row with its notice, status and quote. The counts
        are over every row of the view; only the page's rows are read."""
        today = today or dt.date.today()
        counts: dict[str, int] = {status.value: 0 for status in TaskStatus}
        counts.update({state.value: 0 for state in DueState})
        closed = sorted(status.value for status in CLOSED)
        soon = (today + dt.timedelta(days=self.due_soon_days)).isoformat()
        due = (
            "CASE WHEN k.deadline_date IS NULL OR k.recurring != 0"
            f" OR {_STATUS_SQL} IN ({','.join('?' * len(closed))}) THEN NULL"
            " WHEN k.deadline_date < ? THEN ? WHEN k.deadline_date <= ? THEN ? END"
        )
        due_params: list[object] = [*closed, today.isoformat(), DueState.OVERDUE.value, soon,
                                    DueState.DUE_SOON.value]
        with self._lock:
            states = self.states_by_row_key()
            sql, params, lookup = self._view_sql(filters, gazetteer, today)
            unordered = sql[: sql.rindex(" ORDER BY ")]
            filter_params = params[:-3]  # less the ORDER BY's
            total = 0
            for status, due_value, count in self._conn.execute(
                f"SELECT {_STATUS_SQL}, {due}, COUNT(*) {unordered} GROUP BY 1, 2",
                [*due_params, *filter_params],
            ):
                total += count
                counts[status] += count
                if due_value is not None:
                    counts[due_value] += count
            window = "" if limit is None and not offset else " LIMIT ? OFFSET ?"
            keys = self._conn.execute(
                f"SELECT {_KEY_COLUMNS} {sql}{window}",
                [*params, *([-1 if limit is None else limit, offset] if window else [])],
            ).fetchall()
            selected = self._refs_of(keys, states)
        return TaskPage(self.items(selected, today), total, today, counts, lookup)

    def items(self, selected: Sequence[tuple[TaskRef, TaskState]], today: dt.date) -> list[TaskItem]:
        """Decode the rows of ``selected`` (only these records are read) into view items."""
        ids = {ref.notice_id for ref, _ in selected}
        summaries = self.store.summaries_of(ids)
        if len(summaries) < len(ids):  # stored by another process since the snapshot
            summaries = {n.id: n for n in self.store.summaries() if n.id in ids}
        records = self._records([ref for ref, _ in selected])
        texts = self.store.texts(ids)
        names = self.store.issuer_names(ids)
        groups = self._span_groups({(ref.notice_id, ref.start, ref.end) for ref, _ in selected})
        out: list[TaskItem] = []
        for ref, state in selected:
            item = records.get((ref.notice_id, ref.ord))
            summary = summaries.get(ref.notice_id)
            if item is None or summary is None:
                continue  # deleted in between
            row = AssignmentRow(summary.id, summary.source, summary.title,
                                summary.meeting_date or summary.issue_date, summary.issuer, item)
            due, late, left = due_state(ref.deadline_date, ref.recurring, state.status, today, self.due_soon_days)
            group = groups.get((ref.notice_id, ref.start, ref.end, task_text_key(ref.task)), [])
            leads = [name for role, name in group if role != "phoi_hop"]
            partners = [name for role, name in group if role == "phoi_hop"]
            text = texts.get(ref.notice_id, "")
            out.append(TaskItem(ref, row, summary, names.get(ref.notice_id), state, due, late, left,
                                text[item.start:item.end] if text else item.task,
                                list(dict.fromkeys(leads)), list(dict.fromkeys(partners))))
        return out

    def _records(self, refs: Sequence[TaskRef]) -> dict[tuple[str, int], Assignment]:
        with self._lock:
            self._conn.execute("DELETE FROM temp.task_view_page")
            self._conn.executemany("INSERT OR IGNORE INTO temp.task_view_page VALUES (?, ?)",
                                   [(ref.notice_id, ref.ord) for ref in refs])
            rows = self._conn.execute(
                "SELECT a.notice_id, a.ord, a.data FROM temp.task_view_page p"
                " JOIN assignments a ON a.notice_id = p.notice_id AND a.ord = p.ord"
            ).fetchall()
        return {(notice_id, ord_): Assignment.model_validate_json(data) for notice_id, ord_, data in rows}

    def _span_groups(self, spans: set[tuple[str, int, int]]
                     ) -> dict[tuple[str, int, int, str], list[tuple[str, str]]]:
        """The agencies of each task (same notice, quote span and text): who leads, who helps;
        for the quote spans asked (``(notice id, start, end)``) only."""
        groups: dict[tuple[str, int, int, str], list[tuple[str, str]]] = {}
        wanted = sorted({notice_id for notice_id, _, _ in spans})
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = self._conn.execute(
                'SELECT notice_id, start, "end", task, role, COALESCE(agency, agency_text)'
                f" FROM assignments WHERE notice_id IN ({','.join('?' * len(part))})"
                " ORDER BY notice_id, ord", part,
            ).fetchall()
            for notice_id, begin, end, task, role, agency in rows:
                if (notice_id, begin, end) in spans:
                    key = (notice_id, begin, end, task_text_key(task))
                    groups.setdefault(key, []).append((role, agency))
        return groups


# --- module helpers ------------------------------------------------------------------------------


def _with_keys(rows: Iterable[tuple[Any, ...]]) -> list[TaskRef]:
    """Rows (notice id, ord, agency key, agency, role, task, start, end, deadline date,
    recurring), in notice and ord order, with their row keys."""
    seen: dict[tuple[str, str, str], int] = {}
    out: list[TaskRef] = []
    for notice_id, ord_, agency_key, agency, role, task, start, end, deadline, recurring in rows:
        text_key = task_text_key(task)
        occurrence = seen.get((notice_id, agency_key, text_key), 0)
        seen[(notice_id, agency_key, text_key)] = occurrence + 1
        out.append(TaskRef(notice_id, ord_, row_key(notice_id, agency_key, task, occurrence), agency_key,
                           agency, role, task, start, end, _date(deadline), bool(recurring)))
    return out


def _ref_and_state(row: tuple[Any, ...], states: dict[str, TaskState]) -> tuple[TaskRef, TaskState]:
    notice_id, ord_, key, agency_key, agency, role, task, start, end, deadline, recurring = row
    ref = TaskRef(notice_id, ord_, key, agency_key, agency, role, task, start, end, _date(deadline),
                  bool(recurring))
    return ref, states.get(key) or TaskState(key)


def _best_match(track: sqlite3.Row, candidates: list[TaskRef]) -> tuple[TaskRef | None, bool]:
    """The current row that is the track's task, and whether it reads differently now."""
    for ref in candidates:
        if ref.row_key == track["row_key"]:
            return ref, False
    text = task_text_key(track["task"])
    same_agency = [r for r in candidates if r.agency_key == track["agency_key"]]
    for ref in same_agency:
        if task_text_key(ref.task) == text:
            return ref, False
    folded = search_view(text)
    best: tuple[float, TaskRef] | None = None
    for ref in same_agency:
        score = fuzz.ratio(folded, search_view(task_text_key(ref.task)))
        if score >= SAME_TASK_SIMILARITY and (best is None or score > best[0]):
            best = (score, ref)
    if best is not None:
        return best[1], True
    # The parser now reads the agency differently: the same task text, the same role.
    for ref in candidates:
        if task_text_key(ref.task) == text and ref.role == track["role"]:
            return ref, True
    return None, False


def _state(row: sqlite3.Row) -> TaskState:
    return TaskState(
        row["task_id"], TaskStatus(row["status"]), _date(row["done_date"]), row["reason"],
        row["note"], row["report_ref"], row["updated_at"], row["updated_by"],
        CarryState(row["carry"]), row["carry_note"],
    )


def _clean(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    value = collapse_spaces(nfc(value)).strip()
    if len(value) > limit:
        raise TrackingError(f"{what} dài quá {limit} ký tự.")
    return value or None


def _short(text: str, limit: int = 80) -> str:
    text = collapse_spaces(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(number: str | None) -> str | None:
    """A notice number worth showing: '45/TB-UBND' (not the blank '/TB-UBND' of a draft)."""
    if not number:
        return None
    number = collapse_spaces(number).strip()
    return number if number.split("/")[0].strip() else None


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _vn_date(iso: str | None) -> str:
    if not iso:
        return ""
    day = dt.date.fromisoformat(iso)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

