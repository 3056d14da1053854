"""Task ids stored once per notice (issue #14, scale): computed when a notice is first seen,
kept across trackers and processes, recomputed only for a notice whose rows change, dropped with
a deleted notice; and the views that SQLite now selects, counts and sorts give the rows, order
and counts of the reference definitions (``row_key``, ``upcoming_first``, ``due_state``)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from assistant.agencies import get_gazetteer
from assistant.agency_lookup import find_agency
from assistant.ingest import ingest_paths
from assistant.settings import Settings
from assistant.store import Store
from assistant.text import search_view
from assistant.tracking import (
    CLOSED,
    TRACKED_KINDS,
    DueState,
    TaskFilters,
    TaskRef,
    TaskState,
    TaskStatus,
    TaskTracker,
    due_state,
    row_key,
    task_text_key,
    upcoming_first,
)

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    folder = tmp_path / "thong-bao"
    shutil.copytree(SAMPLES / "notices", folder)
    settings = Settings(index=tmp_path / "index", embedding={"backend": "fake"})
    opened = Store(settings.db_path)
    ingest_paths([folder], opened, settings, get_gazetteer())
    return opened


def _computed_keys(path: Path) -> dict[tuple[str, int], str]:
    """The row keys by their definition, from the stored rows (what the old code hashed on
    every read)."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT notice_id, ord, agency_key, task FROM assignments ORDER BY notice_id, ord"
    ).fetchall()
    conn.close()
    seen: dict[tuple[str, str, str], int] = {}
    out: dict[tuple[str, int], str] = {}
    for notice_id, ord_, agency_key, task in rows:
        text = task_text_key(task)
        occurrence = seen.get((notice_id, agency_key, text), 0)
        seen[(notice_id, agency_key, text)] = occurrence + 1
        out[(notice_id, ord_)] = row_key(notice_id, agency_key, task, occurrence)
    return out


def _stored_keys(path: Path) -> dict[tuple[str, int], str]:
    conn = sqlite3.connect(path)
    out = {(n, o): k for n, o, k in conn.execute("SELECT notice_id, ord, row_key FROM task_keys")}
    conn.close()
    return out


def test_keys_are_computed_once_and_follow_every_change_of_a_notice(store: Store) -> None:
    tracker = TaskTracker(store)
    notices = store.count()["notices"]
    assert tracker.sync_keys() == notices  # first read: every notice keyed
    assert tracker.sync_keys() == 0
    assert _stored_keys(store.path) == _computed_keys(store.path)
    tracker.close()
    with TaskTracker(store) as again:  # another process: nothing to compute
        assert again.sync_keys() == 0
        assert {r.row_key for r in again.task_refs()} <= set(_computed_keys(store.path).values())

    # a parser re-read: the same notice stored again with other rows, in the same second
    refs = TaskTracker(store).task_refs()
    notice_id = refs[0].notice_id
    notice = store.get(notice_id)
    reread = notice.model_copy(deep=True)
    reread.assignments = list(reversed(reread.assignments[1:]))
    store.delete(notice_id)
    store.put(reread)
    with TaskTracker(store) as tracker:
        assert tracker.sync_keys() == 1  # only the re-read notice
        assert _stored_keys(store.path) == _computed_keys(store.path)

    # a deleted notice takes its keys with it
    store.delete(notice_id)
    assert not any(n == notice_id for n, _ in _stored_keys(store.path))
    with TaskTracker(store) as tracker:
        assert tracker.sync_keys() == 0
        assert all(r.notice_id != notice_id for r in tracker.task_refs())
        assert tracker.ref_by_key(refs[0].row_key) is None
    store.close()


def test_a_store_written_before_the_keys_table_is_keyed_on_first_read(store: Store) -> None:
    """A store from before this table (or written by a process without the triggers): the
    notices without a marker are keyed, whatever stale keys were there are replaced."""
    TaskTracker(store).close()
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("DELETE FROM task_key_notices")
        conn.execute("UPDATE task_keys SET row_key = 'stale'")
    conn.close()
    with TaskTracker(store) as tracker:
        assert tracker.sync_keys() == store.count()["notices"]
    assert _stored_keys(store.path) == _computed_keys(store.path)
    store.close()


def _reference_view(tracker: TaskTracker, store: Store, filters: TaskFilters,
                    today: dt.date) -> list[tuple[TaskRef, TaskState]]:
    """The view as the definitions say, in Python over every row (the pre-SQL code path)."""
    states = tracker.states_by_row_key()
    summaries = store.summaries()
    rank = {n.id: i for i, n in enumerate(summaries)}
    kinds = {n.id: n.kind for n in summaries}
    held = {n.id: n.meeting_date or n.issue_date for n in summaries}
    wanted = None
    if filters.agency:
        wanted = {(r.notice_id, r.ord) for r in find_agency(store, get_gazetteer(), filters.agency).refs}
    places = store.notice_localities(set(rank))
    out = []
    for ref in tracker.task_refs():
        assert kinds[ref.notice_id] in TRACKED_KINDS
        if wanted is not None and (ref.notice_id, ref.ord) not in wanted:
            continue
        if filters.role and ref.role != filters.role:
            continue
        day = held[ref.notice_id]
        if filters.since and (day is None or day < filters.since.isoformat()):
            continue
        if filters.until and (day is None or day > filters.until.isoformat()):
            continue
        if filters.issuer and search_view(filters.issuer) not in search_view(places[ref.notice_id]):
            continue
        state = states.get(ref.row_key) or TaskState(ref.row_key)
        if filters.status is not None and state.status is not filters.status:
            continue
        due, _, _ = due_state(ref.deadline_date, ref.recurring, state.status, today, tracker.due_soon_days)
        if filters.overdue and due is not DueState.OVERDUE:
            continue
        if filters.due_within is not None:
            horizon = today + dt.timedelta(days=filters.due_within)
            if (ref.deadline_date is None or ref.recurring or state.status in CLOSED
                    or not today <= ref.deadline_date <= horizon):
                continue
        out.append((ref, state))
    out.sort(key=lambda pair: (rank[pair[0].notice_id], pair[0].ord))
    order = upcoming_first(today)
    out.sort(key=lambda pair: order(pair[0]))
    return out


@pytest.mark.parametrize("today", [dt.date(2024, 4, 10), dt.date(2024, 7, 5), dt.date(2026, 1, 1)])
def test_sql_views_match_the_definitions(store: Store, today: dt.date) -> None:
    tracker = TaskTracker(store)
    refs = tracker.task_refs()
    dated = [r for r in refs if r.deadline_date is not None and not r.recurring]
    tracker.set_status(dated[0].row_key, TaskStatus.DONE, by="A", today=dt.date(2026, 1, 1))
    tracker.set_status(dated[3].row_key, TaskStatus.IN_PROGRESS, by="B")
    tracker.set_status(dated[5].row_key, TaskStatus.ADJUSTED, by="C", reason="Điều chỉnh kế hoạch")
    views = [TaskFilters(), TaskFilters(overdue=True), TaskFilters(due_within=30),
             TaskFilters(status=TaskStatus.IN_PROGRESS), TaskFilters(status=TaskStatus.NOT_STARTED, overdue=True),
             TaskFilters(agency="Phòng Tài nguyên và Môi trường"), TaskFilters(agency="phong tai chinh", overdue=True),
             TaskFilters(issuer="Bến Vân"), TaskFilters(role="chu_tri"),
             TaskFilters(since=dt.date(2024, 6, 1), until=dt.date(2024, 12, 31)),
             TaskFilters(agency="Sở Tài chính", issuer="Lam Giang")]
    for filters in views:
        expected = _reference_view(tracker, store, filters, today)
        if not (filters.overdue or filters.status or filters.due_within is not None):
            assert expected, filters  # a filter that selects nothing would prove nothing
        selected, _ = tracker.select(filters, get_gazetteer(), today=today)
        assert [(r.notice_id, r.ord, s) for r, s in selected] == [
            (r.notice_id, r.ord, s) for r, s in expected], filters
        page = tracker.page(filters, get_gazetteer(), today=today, offset=2, limit=5)
        assert [(i.ref.notice_id, i.ref.ord) for i in page.items] == [
            (r.notice_id, r.ord) for r, _ in expected[2:7]]
        assert page.total == len(expected)
        counts = {status.value: 0 for status in TaskStatus} | {d.value: 0 for d in DueState}
        for ref, state in expected:
            counts[state.status.value] += 1
            due, _, _ = due_state(ref.deadline_date, ref.recurring, state.status, today, tracker.due_soon_days)
            if due is not None:
                counts[due.value] += 1
        assert page.counts == counts, filters
    if today.year == 2026:  # every dated sample task is past by then: the overdue view is not empty
        assert tracker.page(TaskFilters(overdue=True), today=today).total >= len(dated) - 2
    tracker.close()
    store.close()


def test_ingest_from_the_command_line_keys_its_notices(tmp_path: Path) -> None:
    """`assistant ingest` leaves the new notices keyed: the first task view computes nothing."""
    from typer.testing import CliRunner

    from assistant.cli import app

    folder = tmp_path / "thong-bao"
    shutil.copytree(SAMPLES / "notices", folder)
    env = {"ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(tmp_path / "index")}
    done = CliRunner().invoke(app, ["ingest", str(folder)], env=env)
    assert done.exit_code == 0, done.stdout
    settings = Settings(index=tmp_path / "index")
    with Store(settings.db_path) as store, TaskTracker(store) as tracker:
        assert store.count()["notices"] > 0
        assert tracker.sync_keys() == 0
        assert _stored_keys(store.path) == _computed_keys(store.path)
