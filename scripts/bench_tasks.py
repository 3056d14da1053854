"""Speed of the task follow-up views at scale (issue #14): the overdue view's first page and the
export of one agency's tasks (.xlsx and .csv), through the API and the command line, cold and
after a status write, on a store built from ``scripts/make_scale_corpus.py``.

    .venv/bin/python scripts/make_scale_corpus.py --n 1000 --seed 7 --out /tmp/scale/1k
    .venv/bin/python scripts/bench_tasks.py --corpus /tmp/scale/1k --index /tmp/scale/idx-1kx10 --multiply 10

The store is built once into ``--index`` (canonical records only: the task views never read
the search indexes, so no embedder runs at all) and reused when it already holds notices.
``--multiply K`` copies every stored notice and its records K-1 times under new ids and sources
(same rows, same deadlines): 10,000 stored notices from 1,000 parsed ones, since parsing 10,000
takes ~40 minutes on the shared 2-core machine; the views read the same tables either way.

Each run measures on a fresh copy of that store (no tracking tables yet), so runs of two
versions of the code start from the same state: run this file from each checkout.

* ``library``: ``TaskTracker.task_refs()`` in a new tracker (first ever: computes the task ids;
  again: what every later process pays), then ``--marked`` statuses set.
* ``api``: the real app in-process (``fastapi.testclient``): the first request after start-up
  (cold), the same request again (warm), and the request right after a status change posted
  through the API (``after_write``, median of ``--repeat``).
* ``cli``: ``assistant tasks list --overdue --limit 50 --json`` and ``assistant tasks export``
  as whole processes (every process is cold), then each again right after an ``assistant tasks
  set`` process.

Prints one JSON object; figures go to docs/BENCHMARKS.md with the machine and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, loadavg, machine, peak_rss_mib

from assistant.agencies import get_gazetteer
from assistant.ingest import ingest_paths
from assistant.settings import Settings
from assistant.store import Store
from assistant.tracking import TaskStatus, TaskTracker

TOKEN = "bench-tasks"
OVERDUE_PAGE = "/api/tasks?overdue=true&limit=50"


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


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The store in ``--index``, built once."""
    settings = Settings(index=args.index, embedding={"backend": "fake"})
    out: dict[str, Any] = {}
    with Store(settings.db_path) as store:
        if store.count()["notices"] == 0:
            start = time.perf_counter()
            folder = args.corpus / "notices" if (args.corpus / "notices").is_dir() else args.corpus
            ingest_paths([folder], store, settings, get_gazetteer())
            out["build_store_s"] = round(time.perf_counter() - start, 1)
        if args.multiply > 1 and not any("x" in notice_id for notice_id in store.ids()):
            multiply(settings.db_path, args.multiply)
    with sqlite3.connect(settings.db_path) as conn:  # one file to copy: fold the WAL in
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def library(settings: Settings, marked: int) -> tuple[dict[str, Any], list[str]]:
    out: dict[str, Any] = {}
    with Store(settings.db_path) as store:
        out["counts"] = store.count()
        tracker = TaskTracker(store)
        out["task_ids_first_ever_ms"] = _ms(_timed(tracker.task_refs))
        refs = tracker.task_refs()
        out["task_rows"] = len(refs)
        tracker.close()
        again = TaskTracker(store)
        out["task_ids_new_process_ms"] = _ms(_timed(again.task_refs))
        step = max(1, len(refs) // max(marked, 1))
        chosen = [ref.row_key for ref in refs[::step][:marked]]
        start = time.perf_counter()
        for key in chosen:
            again.set_status(key, TaskStatus.IN_PROGRESS, by="bench")
        out["set_status_ms_each"] = round((time.perf_counter() - start) * 1000 / max(len(chosen), 1), 2)
        out["marked"] = len(chosen)
        free = [ref.row_key for ref in refs[1::step][:50]]  # untouched tasks for the writes below
        again.close()
    return out, free


def api(settings: Settings, agency: str, repeat: int, free: list[str]) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    auth = {"Authorization": f"Bearer {TOKEN}"}
    writes = iter(free)

    def write() -> None:
        response = client.post(f"/api/tasks/{next(writes)}/status", headers=auth,
                               json={"status": "dang_thuc_hien", "by": "bench"})
        assert response.status_code == 200, response.text

    def get(url: str) -> None:
        response = client.get(url, headers=auth)
        assert response.status_code == 200, response.text[:300]

    out: dict[str, Any] = {}
    urls = {
        "overdue_first_page": OVERDUE_PAGE,
        "agency_export_xlsx": f"/api/tasks/export?format=xlsx&agency={agency}",
        "agency_export_csv": f"/api/tasks/export?format=csv&agency={agency}",
    }
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        page = client.get(OVERDUE_PAGE, headers=auth)  # not timed: the app's first request
        out["overdue_total"] = page.json()["total"]
    for name, url in urls.items():
        # cold: a new app (a new process's first request over the same store)
        with TestClient(create_app(settings), base_url="http://localhost") as client:
            cold = _timed(lambda url=url: get(url))  # type: ignore[misc]
            warm = [_timed(lambda url=url: get(url)) for _ in range(repeat)]  # type: ignore[misc]
            after = []
            for _ in range(repeat):
                write()
                after.append(_timed(lambda url=url: get(url)))  # type: ignore[misc]
        out[name] = {"cold_ms": _ms(cold), "warm_ms_median": _ms(statistics.median(warm)),
                     "after_write_ms_median": _ms(statistics.median(after))}
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        agency_page = client.get(f"/api/tasks?agency={agency}&limit=1", headers=auth).json()
        out["agency_tasks"] = agency_page["total"]
    return out


def cli(settings: Settings, agency: str, repeat: int, free: list[str], work: Path) -> dict[str, Any]:
    env = {**os.environ, "ASSISTANT_INDEX": str(settings.index), "ASSISTANT_EMBEDDING_BACKEND": "fake",
           "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-c", "from assistant.cli import app; app()"]

    def run(*args: str) -> float:
        start = time.perf_counter()
        done = subprocess.run([*base, *args], env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{args}: {done.stdout[-500:]} {done.stderr[-500:]}")
        return elapsed

    commands = {
        "overdue_first_page": ["tasks", "list", "--overdue", "--limit", "50", "--json"],
        "agency_export_xlsx": ["tasks", "export", str(work / "out.xlsx"), "--agency", agency],
        "agency_export_csv": ["tasks", "export", str(work / "out.csv"), "--agency", agency],
    }
    writes = iter(free[25:])
    out: dict[str, Any] = {"startup_help_s": round(statistics.median(run("tasks", "--help") for _ in range(2)), 2)}
    for name, args in commands.items():
        cold = [run(*args) for _ in range(repeat)]
        after = []
        for _ in range(repeat):
            run("tasks", "set", next(writes), "dang_thuc_hien", "--by", "bench")
            after.append(run(*args))
        out[name] = {"process_s_median": round(statistics.median(cold), 2),
                     "after_write_process_s_median": round(statistics.median(after), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="make_scale_corpus.py output folder")
    parser.add_argument("--index", type=Path, required=True, help="data folder of the built store (built when empty)")
    parser.add_argument("--agency", default="Phòng Tài chính - Kế hoạch", help="agency whose tasks are exported")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--marked", type=int, default=1000, help="tasks given a status before measuring")
    parser.add_argument("--multiply", type=int, default=1, help="copy the stored notices this many times in all")
    parser.add_argument("--skip-cli", action="store_true", help="leave out the command-line processes")
    args = parser.parse_args()

    report: dict[str, Any] = {"machine": machine(), "load_before": loadavg(), "code": str(REPO)}
    report.update(build(args))
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as tmp:
        work = Path(tmp)
        index = work / "index"
        index.mkdir()
        source = Settings(index=args.index).db_path
        shutil.copy2(source, index / source.name)
        settings = Settings(index=index, embedding={"backend": "fake"}, api_token=TOKEN)
        report["library"], free = library(settings, args.marked)
        report["api"] = api(settings, args.agency, args.repeat, free)
        if not args.skip_cli:
            report["cli"] = cli(settings, args.agency, args.repeat, free, work)
    report["peak_rss_mib"] = round(peak_rss_mib())
    report["load_after"] = loadavg()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
