"""Follow-up of assigned tasks (issue #14): statuses, append-only history, identity across
re-ingests, parser re-reads and index rebuilds, the computed overdue / due-soon states and the
``assistant tasks`` command line. Runs on the team's samples with the fake embedder."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.agencies import get_gazetteer
from assistant.cli import app
from assistant.ingest import ingest_paths
from assistant.model import Notice
from assistant.settings import Settings
from assistant.store import Store
from assistant.tracking import (
    STATUS_CHANGE_HOOKS,
    CarryState,
    DueState,
    StatusChange,
    TaskFilters,
    TaskStatus,
    TaskTracker,
    TrackingError,
    due_state,
    parse_status,
)

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
LAM_THUY = "2024-06-20_tp-lam-thuy_hop-chuyen-de.txt"
BEN_VAN = "2024-03-15_tx-ben-van_thang-03.txt"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(index: Path, *args: str) -> Ran:
    """The real command line, in this process (a subprocess per call would take seconds)."""
    env = {"ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)}
    result = CliRunner().invoke(app, list(args), env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


def cli_json(index: Path, *args: str) -> Any:
    done = cli(index, *args, "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


def _find(items: list[dict[str, Any]], agency: str, words: str) -> dict[str, Any]:
    found = [i for i in items if i["agency"] == agency and words in i["task"]]
    assert len(found) == 1, (agency, words, len(found))
    return found[0]


@pytest.fixture()
def sample_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "thong-bao"
    shutil.copytree(SAMPLES / "notices", folder)
    return folder


def _store(tmp_path: Path, folder: Path) -> Store:
    settings = Settings(index=tmp_path / "index", embedding={"backend": "fake"})
    store = Store(settings.db_path)
    ingest_paths([folder], store, settings, get_gazetteer())
    return store


# --- the 'Done when' scenario, through the command line -------------------------------------


def test_statuses_and_history_survive_reingest_changed_notice_and_reindex(
    tmp_path: Path, sample_dir: Path
) -> None:
    index = tmp_path / "index"
    assert cli(index, "ingest", str(sample_dir)).returncode == 0
    listed = cli_json(index, "tasks", "list")
    items = listed["items"]
    assert listed["total"] == len(items) > 40
    # every row carries a stable id, a status and its notice
    assert all(i["task_id"] and i["status"] == "chua_thuc_hien" and i["notice"]["label"] for i in items)
    assert len({i["task_id"] for i in items}) == len(items)
    done = _find(items, "Phòng Tài nguyên và Môi trường", "19 hộ còn lại")
    moving = _find(items, "Phòng Tài chính - Kế hoạch", "18,5 tỷ đồng")
    going = _find(items, "Phòng Lao động - Thương binh và Xã hội", "48 hộ nghèo")

    assert cli(index, "tasks", "set", done["task_id"], "đã hoàn thành", "--by", "Nguyễn Thị Lan",
               "--note", "Đã trình hồ sơ", "--date", "05/07/2024",
               "--report", "Báo cáo số 31/BC-TNMT ngày 06/7/2024").returncode == 0
    assert cli(index, "tasks", "set", moving["task_id"][:6], "dang thuc hien", "--by", "Lê Văn Hải",
               "--note", "Đã lập tờ trình").returncode == 0
    assert cli(index, "tasks", "set", going["task_id"], "đang thực hiện", "--by", "Trần Minh",
               "--note", "Đã rà soát 30 hộ").returncode == 0
    assert cli(index, "tasks", "set", going["task_id"], "không thực hiện", "--by", "Trần Minh",
               "--reason", "Chuyển sang chương trình hỗ trợ nhà ở của tỉnh").returncode == 0
    before = {i["task_id"]: i for i in cli_json(index, "tasks", "list")["items"]}
    history_before = {t: cli_json(index, "tasks", "history", t)["history"]
                      for t in (done["task_id"], moving["task_id"], going["task_id"])}
    assert [h["to_status"] for h in history_before[going["task_id"]]] == ["dang_thuc_hien", "khong_thuc_hien"]
    assert history_before[done["task_id"]][0]["by"] == "Nguyễn Thị Lan"

    # the same files again: nothing changes
    again = cli_json(index, "ingest", str(sample_dir))
    assert {r["status"] for r in again} == {"unchanged"}
    # a changed version of one notice: one task's text changes, the others stay word for word
    changed_file = sample_dir / LAM_THUY
    text = changed_file.read_text("utf-8")
    assert "18,5 tỷ đồng" in text
    changed_file.write_text(text.replace("18,5 tỷ đồng", "19,2 tỷ đồng"), "utf-8")
    replaced = cli(index, "ingest", str(sample_dir))
    assert replaced.stdout.count("đã cập nhật") == 1
    assert "1 nhiệm vụ đã ghi trạng thái cần kiểm tra lại" in replaced.stdout
    assert cli(index, "reindex").returncode == 0

    after = {i["task_id"]: i for i in cli_json(index, "tasks", "list")["items"]}
    for task_id in (done["task_id"], moving["task_id"], going["task_id"]):
        assert task_id in after, "the task keeps its id"
        for key in ("status", "done_date", "reason", "note", "report_ref", "updated_by"):
            assert after[task_id][key] == before[task_id][key], (task_id, key)
    assert after[done["task_id"]]["notice_id"] != done["notice_id"]  # now the new version's row
    assert after[done["task_id"]]["done_date"] == "2024-07-05"
    assert "19,2 tỷ đồng" in after[moving["task_id"]]["task"]
    assert after[going["task_id"]]["status"] == "khong_thuc_hien"
    # history: the rows written before are all still there, in order, unchanged
    for task_id, old in history_before.items():
        now = cli_json(index, "tasks", "history", task_id)["history"]
        assert now[: len(old)] == old
        assert all(h["event"] == "carried" for h in now[len(old):])
    # the task whose text changed is reported, and only that one
    report = cli_json(index, "tasks", "carry-report")["items"]
    assert [r["task_id"] for r in report] == [moving["task_id"]]
    assert report[0]["carry"] == "changed" and "19,2 tỷ" in report[0]["message"]
    plain = cli(index, "tasks", "carry-report")
    assert "Cần kiểm tra" in plain.stdout and moving["task_id"] in plain.stdout
    # the untouched tasks of the changed notice were not given made-up statuses
    assert sum(i["status"] != "chua_thuc_hien" for i in after.values()) == 3


def test_cli_filters_and_errors(tmp_path: Path, sample_dir: Path) -> None:
    index = tmp_path / "index"
    assert cli(index, "ingest", str(sample_dir)).returncode == 0
    everything = cli_json(index, "tasks", "list")["items"]
    tnmt = cli_json(index, "tasks", "list", "--agency", "phong tnmt")
    assert tnmt["lookup"]["agency"] == "Phòng Tài nguyên và Môi trường"
    assert tnmt["items"] and all(i["agency"] == "Phòng Tài nguyên và Môi trường" for i in tnmt["items"])
    overdue = cli_json(index, "tasks", "list", "--overdue")["items"]
    today = dt.date.today()
    assert overdue and all(
        i["deadline"]["date"] and dt.date.fromisoformat(i["deadline"]["date"]) < today for i in overdue
    )
    first = overdue[0]
    assert cli(index, "tasks", "set", first["task_id"], "xong", "--by", "Kiểm thử").returncode == 0
    overdue_after = cli_json(index, "tasks", "list", "--overdue")["items"]
    assert first["task_id"] not in {i["task_id"] for i in overdue_after}
    assert len(overdue_after) == len(overdue) - 1
    done = cli_json(index, "tasks", "list", "--status", "đã hoàn thành")["items"]
    assert [i["task_id"] for i in done] == [first["task_id"]]
    # upcoming first: past deadlines (all of the samples') most recent first, undated last
    dated = [i["deadline"]["date"] for i in everything if i["deadline"] and i["deadline"]["date"]]
    assert dated == sorted(dated, reverse=True)
    assert everything[-1]["deadline"] is None
    assert cli_json(index, "tasks", "list", "--due-within", "30")["items"] == []
    lead = cli_json(index, "tasks", "list", "--role", "phối hợp")["items"]
    assert lead and {i["role"] for i in lead} == {"phoi_hop"}
    ben_van = cli_json(index, "tasks", "list", "--issuer", "ben van")["items"]
    assert ben_van and {i["notice"]["number"] for i in ben_van} == {"45/TB-UBND"}
    # errors: Vietnamese, no traceback, non-zero exit
    for args in (("set", "zzzz", "xong"), ("set", first["task_id"], "hoàn tất rồi"),
                 ("set", everything[1]["task_id"], "không thực hiện"), ("history", "0"),
                 ("list", "--status", "lạ")):
        failed = cli(index, "tasks", *args)
        assert failed.returncode != 0, args
        assert "Traceback" not in failed.stderr and "Lỗi" in failed.stderr, (args, failed.stderr)
    plain = cli(index, "tasks", "list", "--overdue", "--limit", "2")
    assert plain.returncode == 0 and "quá hạn" in plain.stdout and "Thông báo" in plain.stdout


# --- identity, in the library -------------------------------------------------------------------


def test_parser_reread_keeps_statuses_and_reports_what_it_cannot_place(
    tmp_path: Path, sample_dir: Path
) -> None:
    """A better parser re-reads a stored notice: the rows come back in another order, one task
    read with another agency spelling, one task gone. Statuses follow the tasks."""
    store = _store(tmp_path, sample_dir)
    tracker = TaskTracker(store)
    refs = tracker.task_refs()
    notice_id = next(r.notice_id for r in refs if "48 hộ nghèo" in r.task)
    own = [r for r in refs if r.notice_id == notice_id]
    kept, dropped = own[4], own[13]
    tracker.set_status(kept.row_key, TaskStatus.IN_PROGRESS, by="A", note="n1")
    tracker.set_status(dropped.row_key, TaskStatus.DONE, by="B", done_date=dt.date(2024, 4, 1))

    notice: Notice = store.get(notice_id)
    reread = notice.model_copy(deep=True)
    reread.assignments = list(reversed([a for a in reread.assignments if a.task != dropped.task]))
    store.delete(notice_id)
    store.put(reread)

    assert tracker.status_of(kept.row_key).status is TaskStatus.IN_PROGRESS
    report = tracker.carry_report()
    assert [(i.task_id, i.state) for i in report] == [(dropped.row_key, CarryState.LOST)]
    assert tracker.status_of(dropped.row_key).status is TaskStatus.DONE  # kept, not attached
    with pytest.raises(TrackingError):
        tracker.set_status(dropped.row_key, TaskStatus.IN_PROGRESS)
    page = tracker.page(TaskFilters(notice=notice_id))
    assert {i.task_id for i in page.items if i.state.status is not TaskStatus.NOT_STARTED} == {kept.row_key}

    # the parser gets it right again: the task comes back with its status and history
    store.delete(notice_id)
    store.put(notice)
    assert tracker.carry_report() == []
    assert tracker.status_of(dropped.row_key).status is TaskStatus.DONE
    events = [h.event.value for h in tracker.history(dropped.row_key)]
    assert events == ["status", "lost", "carried"]
    tracker.close()
    store.close()


def test_task_rewritten_beyond_recognition_is_not_carried(tmp_path: Path, sample_dir: Path) -> None:
    store = _store(tmp_path, sample_dir)
    tracker = TaskTracker(store)
    target = next(r for r in tracker.task_refs() if "18,5 tỷ đồng" in r.task)
    tracker.set_status(target.row_key, TaskStatus.DONE, by="C")
    path = sample_dir / LAM_THUY
    text = path.read_text("utf-8")
    start = text.index("+ Tham mưu bố trí 18,5 tỷ")
    end = text.index("\n+", start + 1)
    path.write_text(text[:start] + "+ Thẩm định phương án giá đất cụ thể của dự án kè hồ, trình\n"
                    "UBND thành phố trước ngày 30/7/2024." + text[end:], "utf-8")
    settings = Settings(index=tmp_path / "index", embedding={"backend": "fake"})
    ingest_paths([path], store, settings, get_gazetteer())
    report = tracker.carry_report()
    assert len(report) == 1 and report[0].state is CarryState.LOST
    assert "18,5 tỷ" in report[0].task
    assert all(i.state.status is TaskStatus.NOT_STARTED for i in tracker.page(TaskFilters()).items)
    tracker.close()
    store.close()


def test_history_is_append_only_and_hooks_see_every_change(tmp_path: Path, sample_dir: Path) -> None:
    store = _store(tmp_path, sample_dir)
    tracker = TaskTracker(store)
    seen: list[StatusChange] = []
    STATUS_CHANGE_HOOKS.append(seen.append)
    try:
        task = tracker.task_refs()[0].row_key
        tracker.set_status(task, TaskStatus.IN_PROGRESS, by="Người A", note="bắt đầu")
        tracker.set_status(task, TaskStatus.DONE, by="Người B", report_ref="Báo cáo số 5/BC")
    finally:
        STATUS_CHANGE_HOOKS.remove(seen.append)
    assert [(c.before.status, c.after.status, c.by) for c in seen] == [
        (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, "Người A"),
        (TaskStatus.IN_PROGRESS, TaskStatus.DONE, "Người B"),
    ]
    state = tracker.status_of(task)
    assert state.done_date == dt.date.today() and state.note == "bắt đầu"
    assert state.report_ref == "Báo cáo số 5/BC"
    conn = sqlite3.connect(store.path)
    for sql in ("UPDATE task_history SET by = 'x'", "DELETE FROM task_history"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert len(tracker.history(task)) == 2
    with pytest.raises(TrackingError):
        tracker.set_status(task, TaskStatus.DONE, done_date=dt.date.today() + dt.timedelta(days=3))
    tracker.close()
    store.close()


def test_due_states_are_computed_never_stored() -> None:
    today = dt.date(2024, 6, 10)
    assert due_state(dt.date(2024, 6, 9), False, TaskStatus.IN_PROGRESS, today, 7) == (DueState.OVERDUE, 1, None)
    assert due_state(dt.date(2024, 6, 17), False, TaskStatus.NOT_STARTED, today, 7) == (DueState.DUE_SOON, None, 7)
    assert due_state(dt.date(2024, 6, 18), False, TaskStatus.NOT_STARTED, today, 7) == (None, None, 8)
    assert due_state(dt.date(2024, 6, 1), False, TaskStatus.DONE, today, 7) == (None, None, None)
    assert due_state(dt.date(2024, 6, 1), False, TaskStatus.ADJUSTED, today, 7) == (None, None, None)
    assert due_state(None, True, TaskStatus.NOT_STARTED, today, 7) == (None, None, None)


@pytest.mark.parametrize(("typed", "status"), [
    ("đã hoàn thành", TaskStatus.DONE), ("da hoan thanh", TaskStatus.DONE), ("da_hoan_thanh", TaskStatus.DONE),
    ("Đang thực hiện", TaskStatus.IN_PROGRESS), ("chưa thực hiện", TaskStatus.NOT_STARTED),
    ("không thực hiện/điều chỉnh", TaskStatus.ADJUSTED), ("điều chỉnh", TaskStatus.ADJUSTED),
])
def test_status_as_typed(typed: str, status: TaskStatus) -> None:
    assert parse_status(typed) is status


def test_status_not_understood_names_the_choices() -> None:
    with pytest.raises(TrackingError, match="đã hoàn thành"):
        parse_status("hoàn tất rồi")


def test_states_for_rows_as_chat_answers_hold_them(tmp_path: Path, sample_dir: Path) -> None:
    """The read API another view (the chat) uses: rows in, stored states out."""
    store = _store(tmp_path, sample_dir)
    tracker = TaskTracker(store)
    rows = store.assignments()
    target = next(r for r in rows if "18,5 tỷ đồng" in r.assignment.task)
    ref = next(r for r in tracker.task_refs() if r.notice_id == target.notice_id and "18,5 tỷ" in r.task)
    tracker.set_status(ref.row_key, TaskStatus.DONE, by="D")
    states = tracker.states_for(rows)
    assert len(states) == len(rows)
    done = [row for row, state in zip(rows, states, strict=True) if state and state.status is TaskStatus.DONE]
    assert done == [target]
    assert all(s is not None for s in states)  # the samples' notices are all followed up
    tracker.close()
    store.close()
