"""Speed of the task follow-up views at scale (issue #14): the overdue view's first page and the
export of one agency's tasks, on a store built from ``scripts/make_scale_corpus.py``.

    .venv/bin/python scripts/make_scale_corpus.py --n 10000 --seed 7 --out /tmp/scale/10k
    .venv/bin/python scripts/bench_tasks.py --corpus /tmp/scale/10k --index /tmp/scale/idx-10k-tasks

The store is built once (canonical records only: the task views never read the search
indexes) and reused when ``--index`` already holds it. ``--multiply K`` copies every stored
notice and its records K-1 times under new ids and sources (same rows, same deadlines): a 10k
store from 1k parsed notices when parsing 10k would take too long on a shared machine; the
views read the same tables either way. Prints one JSON object; figures go to
docs/BENCHMARKS.md with the machine and the command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import loadavg, machine, peak_rss_mib, summary_ms

from assistant.agencies import get_gazetteer
from assistant.ingest import ingest_paths
from assistant.settings import Settings
from assistant.store import Store
from assistant.tracking import TaskFilters, TaskStatus, TaskTracker
from assistant.tracking_export import export_tasks


def multiply(path: Path, times: int) -> None:
    """Copy the originals (content-hash ids: hex, never containing 'x') ``times - 1`` times."""
    conn = sqlite3.connect(path)
    with conn:
        for k in range(1, times):
            tag = f"x{k:02d}"
            conn.execute(
                "INSERT INTO notices(id, source, format, kind, issuer, level, number, issue_date,"
                " meeting_date, chair, signer, title, text, data, ingested_at)"
                " SELECT id || ?, source || '#' || ?, format, kind, issuer, level, number, issue_date,"
                " meeting_date, chair, signer, title, text, data, ingested_at FROM notices"
                " WHERE instr(id, 'x') = 0", (tag, tag))
            conn.execute(
                "INSERT INTO assignments SELECT notice_id || ?, ord, agency, agency_text, agency_key,"
                " agency_level, role, task, deadline_text, deadline_date, deadline_recurring, section,"
                ' start, "end", data FROM assignments WHERE instr(notice_id, \'x\') = 0', (tag,))
    conn.close()


def _timed(func: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="make_scale_corpus.py output folder")
    parser.add_argument("--index", type=Path, required=True, help="data folder (built when empty)")
    parser.add_argument("--agency", default="Phòng Tài chính - Kế hoạch", help="agency whose tasks are exported")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--marked", type=int, default=1000, help="tasks given a status before measuring")
    parser.add_argument("--multiply", type=int, default=1, help="copy the stored notices this many times in all")
    args = parser.parse_args()

    settings = Settings(index=args.index, embedding={"backend": "fake"})
    report: dict[str, object] = {"machine": machine(), "load_before": loadavg()}
    gazetteer = get_gazetteer()
    with Store(settings.db_path) as store:
        if store.count()["notices"] == 0:
            start = time.perf_counter()
            folder = args.corpus / "notices" if (args.corpus / "notices").is_dir() else args.corpus
            ingest_paths([folder], store, settings, gazetteer)
            report["build_store_s"] = round(time.perf_counter() - start, 1)
        if args.multiply > 1 and not any("x" in notice_id for notice_id in store.ids()):
            multiply(settings.db_path, args.multiply)
            report["multiplied"] = args.multiply
        report["counts"] = store.count()

        start = time.perf_counter()
        tracker = TaskTracker(store)
        refs = tracker.task_refs()
        report["first_read_of_all_rows_s"] = round(time.perf_counter() - start, 3)
        report["task_rows"] = len(refs)

        # Some statuses, spread over the store, so that the views join real tracks.
        step = max(1, len(refs) // max(args.marked, 1))
        start = time.perf_counter()
        marked = 0
        for ref in refs[::step][: args.marked]:
            if tracker.status_of(ref.row_key).status is TaskStatus.NOT_STARTED:
                tracker.set_status(ref.row_key, TaskStatus.IN_PROGRESS, by="bench")
                marked += 1
        elapsed = time.perf_counter() - start
        report["set_status_ms_each"] = round(elapsed * 1000 / max(marked, 1), 2)
        report["marked"] = marked

        overdue = TaskFilters(overdue=True)
        first = tracker.page(overdue, gazetteer, limit=50)
        report["overdue_total"] = first.total
        report["overdue_first_page_ms"] = summary_ms(
            _timed(lambda: tracker.page(overdue, gazetteer, limit=50), args.repeat))
        report["overdue_first_page_new_tracker_ms"] = summary_ms(
            _timed(lambda: TaskTracker(store).page(overdue, gazetteer, limit=50), 3))

        agency = TaskFilters(agency=args.agency)
        rows = tracker.page(agency, gazetteer)
        report["agency"] = args.agency
        report["agency_tasks"] = rows.total
        with tempfile.TemporaryDirectory() as tmp:
            def export(suffix: str) -> None:
                page = tracker.page(agency, gazetteer)
                export_tasks(page.items, Path(tmp) / f"out{suffix}", "bench", dt.date.today())

            report["agency_export_xlsx_s"] = round(statistics.median(_timed(lambda: export(".xlsx"), 3)), 3)
            report["agency_export_csv_s"] = round(statistics.median(_timed(lambda: export(".csv"), 3)), 3)
            report["xlsx_bytes"] = (Path(tmp) / "out.xlsx").stat().st_size
        tracker.close()
    report["peak_rss_mib"] = round(peak_rss_mib())
    report["load_after"] = loadavg()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
