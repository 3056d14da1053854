"""Query-side latency over an index built by ``bench_ingest.py --keep``.

    .venv/bin/python scripts/bench_query.py --index /tmp/idx-10k --corpus /tmp/scale-10k --embedder fake

Measures, with no LLM configured:
* ``AnswerService.ask`` per route: assignment questions (one agency across all notices, and
  one agency of one locality), metadata (who chaired the meeting of a date), deadlines (tasks
  due before a date), and open questions answered by hybrid retrieval;
* the assignment lookup behind ``assistant assignments`` (records only, and with quotes);
* start-up of ``assistant ask`` from the shell (wall time of the whole process);
* if ``assistant.api`` exists: ``assistant serve`` on loopback under N concurrent clients,
  bounded by a request count and a time limit.
Questions are built from ``CORPUS/manifest.jsonl`` so that each one has an answer in the index.
Prints Markdown tables; ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (
    REPO,
    free_port,
    http_status,
    loadavg,
    machine,
    mark,
    peak_rss_mib,
    percentile,
    summary_ms,
)

ASSISTANT = Path(sys.executable).parent / "assistant"
PAGE = 50  # rows per page of the paged lookup (what the web view asks for)
TARGET_P50_MS, TARGET_P95_MS, TARGET_LOOKUP_P50_MS, TARGET_STARTUP_S = 50.0, 150.0, 10.0, 2.0

# Agencies as users type them: abbreviations, full names, without diacritics.
AGENCY_QUERIES = [
    ("huyen", "Phòng TNMT"), ("huyen", "phong tai chinh ke hoach"), ("huyen", "Phòng GD&ĐT"),
    ("huyen", "Phòng Quản lý đô thị"), ("huyen", "HĐGPMB"), ("huyen", "Phòng LĐTB&XH"),
    ("tinh", "Sở Y tế"), ("tinh", "Sở TN&MT"), ("tinh", "so nong nghiep va moi truong"),
    ("tinh", "Sở Tài chính"), ("tinh", "Sở GTVT"), ("xa", "Phòng Văn hóa - Xã hội"),
    ("xa", "Công an xã"), ("huyen", "BCHQS"),
]
OPEN_QUESTIONS = [
    "Kết quả thu ngân sách trên địa bàn đạt bao nhiêu so với dự toán?",
    "Tình hình xử lý công trình xây dựng sai phép tại {place}?",
    "phong chong sot xuat huyet tai {place}",
    "Tiến độ cấp giấy chứng nhận quyền sử dụng đất cho các hồ sơ tồn đọng thế nào?",
    "Khai thác cát trái phép trên sông Lam Khê được xử lý ra sao?",
    "tuyen chon goi cong dan nhap ngu",
    "Kế hoạch tuyển sinh đầu cấp năm học mới",
    "Hỗ trợ nhà ở cho hộ nghèo có hoàn cảnh khó khăn",
    "Bố trí quỹ đất tái định cư tại {place} cho các hộ bị thu hồi đất",
    "tỷ lệ hồ sơ thủ tục hành chính trực tuyến toàn trình",
    "bảo đảm an ninh trật tự các lễ hội đầu năm",
    "Nạo vét kênh tưới tiêu nội đồng",
]


def _manifest(corpus: Path) -> list[dict[str, Any]]:
    path = corpus / "manifest.jsonl"
    if not path.exists():
        raise SystemExit(f"Không thấy {path}: cần thư mục do make_scale_corpus.py tạo ra.")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def questions(manifest: list[dict[str, Any]], notices: int, per_kind: int, seed: int) -> dict[str, list[str]]:
    """Questions whose answers exist among the first ``notices`` notices of the manifest."""
    rng = random.Random(seed)
    rows = manifest[:notices]
    places = [str(r["issuer"]).split(" ", 2)[-1] for r in rows]
    district = [r for r in rows if r["level"] == "huyen"]
    out: dict[str, list[str]] = defaultdict(list)
    for _ in range(per_kind):
        _, agency = rng.choice(AGENCY_QUERIES)
        out["assignments (all notices)"].append(f"{agency} được giao những việc gì?")
        row = rng.choice(district or rows)
        unit = rng.choice(sorted(row["tasks"]) or ["Phòng Tài chính - Kế hoạch"])
        out["assignments (one locality)"].append(f"{unit} {row['kind']} {str(row['issuer']).split(' ', 2)[-1]} được giao những việc gì?")
        row = rng.choice(rows)
        day = row["meeting_date"].split("-")
        out["metadata (chair)"].append(f"Ai chủ trì cuộc họp ngày {day[2]}/{day[1]}/{day[0]}?")
        row = rng.choice(rows)
        y, m, _d = row["meeting_date"].split("-")
        # A month, not "before a date": an open-ended bound lists every earlier deadline.
        out["deadlines (one month)"].append(f"Những nhiệm vụ nào có hạn trong tháng {int(m)}/{y}?")
        out["open (hybrid retrieval)"].append(rng.choice(OPEN_QUESTIONS).format(place=rng.choice(places)))
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _records_only_service(settings: Any) -> Any:
    """The service without a search index: routed questions only (records in SQLite)."""
    from assistant.agencies import get_gazetteer
    from assistant.answer.service import AnswerService
    from assistant.store import Store

    return AnswerService(Store(settings.db_path), get_gazetteer(), None, settings)


def bench_service(settings: Any, qs: dict[str, list[str]], repeat: int, records_only: bool = False) -> dict[str, Any]:
    from assistant.agencies import get_gazetteer
    from assistant.cli_ask import open_answer_service
    from assistant.records_json import assignment_item, lookup_assignments
    from assistant.text import match_key

    if records_only:
        qs = {k: v for k, v in qs.items() if not k.startswith("open")}
    t_open, service = timed(lambda: _records_only_service(settings) if records_only else open_answer_service(settings))
    result: dict[str, Any] = {"open_service_s": round(t_open, 2), "ask": {}, "routes_seen": {}}
    # The first question of each kind pays that route's lazy loads (the BM25 arrays, Chroma's
    # HNSW segment, SQLite pages): timed apart as the cold start, outside the percentiles.
    result["first_question_ms"] = {
        kind: round(timed(partial(service.ask, items[0]))[0] * 1000, 1) for kind, items in qs.items()
    }
    for kind, items in qs.items():
        times: list[float] = []
        routes: dict[str, int] = defaultdict(int)
        answered = 0
        for _ in range(repeat):
            for q in items:
                seconds, answer = timed(partial(service.ask, q))
                times.append(seconds)
                routes[str(answer.route)] += 1
                answered += 0 if answer.refused else 1
        result["ask"][kind] = {**summary_ms(times), "answered_share": round(answered / max(1, len(times)), 2)}
        result["routes_seen"][kind] = dict(routes)
    gazetteer = get_gazetteer()
    store = service.store
    lookups: list[float] = []
    with_quotes: list[float] = []
    pages: list[float] = []
    rows_found: list[int] = []
    for _ in range(repeat):
        for _level, agency in AGENCY_QUERIES:
            seconds, (_found, rows) = timed(partial(lookup_assignments, store, gazetteer, agency))
            lookups.append(seconds)
            rows_found.append(len(rows))

            def quoted(rows: list[Any] = rows) -> list[dict[str, Any]]:
                # As the API does: the texts read once per notice, records not decoded.
                texts = store.texts({row.notice_id for row in rows})
                return [assignment_item(row, texts[row.notice_id]) for row in rows]

            with_quotes.append(timed(quoted)[0] + seconds)

            def page(agency: str = agency) -> list[dict[str, Any]]:
                # One page of /api/assignments: the newest PAGE rows, their quotes and the total.
                found = gazetteer.resolve(agency)
                where: dict[str, Any] = {"agency": found.name} if found else {"agency_key": match_key(agency)}
                rows = store.assignments(**where, limit=PAGE)
                store.count_assignments(**where)
                texts = store.texts({row.notice_id for row in rows})
                return [assignment_item(row, texts[row.notice_id]) for row in rows]

            pages.append(timed(page)[0])
    result["lookup"] = {**summary_ms(lookups), "rows_median": int(percentile(rows_found, 50)), "rows_max": max(rows_found)}
    result["lookup_with_quotes"] = summary_ms(with_quotes)
    result["lookup_page"] = summary_ms(pages)
    return result


def _env(index: Path, embedder: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_INDEX": str(index), "ASSISTANT_EMBEDDING_BACKEND": embedder})
    return env


def bench_startup(index: Path, embedder: str, runs: int) -> dict[str, Any]:
    env = _env(index, embedder)
    commands = {
        "assistant --help (imports only)": [str(ASSISTANT), "--help"],
        "assistant ask <assignment question>": [str(ASSISTANT), "ask", "--json", "Phòng TNMT huyện Tùng Xuyên được giao những việc gì?"],
        "assistant ask <open question, unaccented: BM25 only>": [str(ASSISTANT), "ask", "--json", "tuyen chon goi cong dan nhap ngu"],
        "assistant ask <open question, accented: BM25 + vectors>": [
            str(ASSISTANT), "ask", "--json", "Việc tuyển chọn và gọi công dân nhập ngũ được chỉ đạo thế nào?"
        ],
    }
    out: dict[str, Any] = {}
    for name, command in commands.items():
        walls = []
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, cwd=REPO, check=False)
            walls.append(time.perf_counter() - start)
            if done.returncode != 0:
                out[name] = {"error": done.stderr.decode("utf-8", "replace")[-500:]}
                break
        else:
            out[name] = {"median_s": round(percentile(walls, 50), 2), "max_s": round(max(walls), 2), "runs": runs}
    return out


API_PAGE = 100


def _request(port: int, method: str, path: str, body: dict[str, Any] | None) -> int:
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload else {}
    return http_status(port, method, path, payload, headers, timeout=60)


def bench_api(index: Path, embedder: str, qs: dict[str, list[str]], clients: int, max_requests: int, max_seconds: float) -> dict[str, Any]:
    try:
        import assistant.api  # noqa: F401
    except ImportError:
        return {"skipped": "assistant.api chưa có"}
    from urllib.parse import quote

    port = free_port()
    started = time.perf_counter()
    # Every benchmark client comes from 127.0.0.1, which the per-client rate limit would treat
    # as one very busy user (half the requests got 429 in the first run); measure the service,
    # not the limiter.
    env = {**_env(index, embedder), "ASSISTANT_SERVER_RATE_LIMIT_PER_MINUTE": "0"}
    server = subprocess.Popen(
        [str(ASSISTANT), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO,
    )
    try:
        while True:
            try:
                if _request(port, "GET", "/health", None) == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.perf_counter() - started > 120:
                err = server.stderr.read().decode("utf-8", "replace")[-500:] if server.stderr else ""
                return {"error": f"máy chủ không khởi động được: {err}"}
            time.sleep(0.2)
        ready_s = time.perf_counter() - started
        jobs: list[tuple[str, str, str, dict[str, Any] | None]] = []
        for q in qs["assignments (one locality)"] + qs["metadata (chair)"]:
            jobs.append(("POST /api/ask (routed)", "POST", "/api/ask", {"question": q}))
        for q in qs["open (hybrid retrieval)"]:
            jobs.append(("POST /api/ask (open)", "POST", "/api/ask", {"question": q}))
        for _level, agency in AGENCY_QUERIES:
            # What the page's agency view asks: the first page with the total.
            jobs.append((f"GET /api/assignments (page of {API_PAGE})", "GET",
                         f"/api/assignments?agency={quote(agency)}&limit={API_PAGE}", None))
        random.Random(3).shuffle(jobs)
        # Warm the server's lazy state once, outside the timed window.
        for kind in {j[0]: j for j in jobs}.values():
            _request(port, kind[1], kind[2], kind[3])
        lock = threading.Lock()
        latencies: dict[str, list[float]] = defaultdict(list)
        statuses: dict[int, int] = defaultdict(int)
        counter = [0]
        deadline = time.perf_counter() + max_seconds

        def client() -> None:
            while True:
                with lock:
                    if counter[0] >= max_requests or time.perf_counter() > deadline:
                        return
                    job = jobs[counter[0] % len(jobs)]
                    counter[0] += 1
                start = time.perf_counter()
                try:
                    status = _request(port, job[1], job[2], job[3])
                except OSError:
                    status = 0
                elapsed = time.perf_counter() - start
                with lock:
                    latencies[job[0]].append(elapsed)
                    statuses[status] += 1

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        done = sum(len(v) for v in latencies.values())
        return {
            "clients": clients, "requests": done, "wall_s": round(wall, 2),
            "requests_per_s": round(done / wall, 2), "statuses": dict(statuses),
            "ready_s": round(ready_s, 2), "endpoints": {k: summary_ms(v) for k, v in latencies.items()},
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def report(r: dict[str, Any]) -> str:
    s = r["service"]
    lines = [
        f"Index `{r['index']}` ({r['notices']} notices, {r['chunks']} chunks, {r['assignments']} assignments; "
        f"embedder {r['embedder']}); load average {r['loadavg_before']} → {r['loadavg_after']}.",
        "",
        f"In-process `open_answer_service`: {s['open_service_s']:.2f} s. No LLM.",
        "",
        "First question of each kind in the process (cold: lazy loads), not in the percentiles: "
        + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in (s.get("first_question_ms") or {}).items())
        + ".",
        "",
        "| `ask` question kind | n | p50 ms | p95 ms | max ms | answered | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind, v in s["ask"].items():
        ok = v["p50_ms"] <= TARGET_P50_MS and v["p95_ms"] <= TARGET_P95_MS
        lines.append(f"| {kind} | {v['n']} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} | {v['max_ms']:.1f} | "
                     f"{v['answered_share']:.0%} | p50 ≤ 50, p95 ≤ 150 {mark(ok)} |")
    lk, lq = s["lookup"], s["lookup_with_quotes"]
    lines += [
        f"| assignment lookup (records) | {lk['n']} | {lk['p50_ms']:.1f} | {lk['p95_ms']:.1f} | {lk['max_ms']:.1f} | "
        f"rows: median {lk['rows_median']}, max {lk['rows_max']} | p50 ≤ 10 {mark(lk['p50_ms'] <= TARGET_LOOKUP_P50_MS)} |",
        f"| assignment lookup + quotes (CLI/API payload) | {lq['n']} | {lq['p50_ms']:.1f} | {lq['p95_ms']:.1f} | {lq['max_ms']:.1f} | | |",
        *(
            [f"| assignment page ({PAGE} newest + total + quotes, `/api/assignments?limit={PAGE}`) | {lp['n']} | "
             f"{lp['p50_ms']:.1f} | {lp['p95_ms']:.1f} | {lp['max_ms']:.1f} | | p50 ≤ 10 {mark(lp['p50_ms'] <= TARGET_LOOKUP_P50_MS)} |"]
            if (lp := s.get("lookup_page")) else []
        ),
        "",
        f"Peak RSS of the benchmark process: {r['peak_rss_mib']:.0f} MiB.",
        "",
        "| shell command (whole process) | median s | max s | target |",
        "|---|---:|---:|---|",
    ]
    for name, v in r["startup"].items():
        if "error" in v:
            lines.append(f"| {name} | error | | {v['error'][:120]!r} |")
            continue
        target = f"≤ 2 s {mark(v['median_s'] <= TARGET_STARTUP_S)}" if "ask" in name else ""
        lines.append(f"| `{name}` | {v['median_s']:.2f} | {v['max_s']:.2f} | {target} |")
    api = r.get("api") or {}
    if "endpoints" in api:
        lines += [
            "",
            f"API: `assistant serve` on loopback, {api['clients']} concurrent clients, {api['requests']} requests in "
            f"{api['wall_s']:.1f} s ({api['requests_per_s']:.1f} req/s), statuses {api['statuses']}, ready after {api['ready_s']:.1f} s.",
            "",
            "| endpoint | n | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, v in api["endpoints"].items():
            lines.append(f"| {name} | {v['n']} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} | {v['max_ms']:.1f} |")
    elif api:
        lines.append(f"\nAPI: {api}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="data directory built by bench_ingest.py --keep")
    parser.add_argument("--corpus", type=Path, required=True, help="the make_scale_corpus.py folder it was built from")
    parser.add_argument("--embedder", default="fake", help="the embedder the index was built with")
    parser.add_argument("--per-kind", type=int, default=30, help="questions per kind")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--api-requests", type=int, default=400)
    parser.add_argument("--api-seconds", type=float, default=60.0)
    parser.add_argument(
        "--records-only", action="store_true",
        help="no search index needed: routed questions and lookups from the SQLite records only",
    )
    parser.add_argument("--skip", default="", help="comma-separated: service,startup,api")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from assistant.settings import EmbeddingSettings, Settings
    from assistant.store import Store

    settings = Settings(index=args.index, embedding=EmbeddingSettings(backend=args.embedder))
    with Store(settings.db_path) as store:
        counts = store.count()
    from assistant.indexing import ChunkTable

    chunks = 0
    if (args.index / "chunks.sqlite3").exists():
        table = ChunkTable(args.index / "chunks.sqlite3")
        chunks = table.count()
        table.close()
    qs = questions(_manifest(args.corpus), counts["notices"], args.per_kind, seed=11)
    skip = set(filter(None, args.skip.split(",")))
    result: dict[str, Any] = {
        "machine": machine(), "index": str(args.index), "embedder": args.embedder,
        "notices": counts["notices"], "assignments": counts["assignments"], "chunks": chunks,
        "loadavg_before": loadavg(), "examples": {k: v[:2] for k, v in qs.items()},
    }
    if args.records_only:
        skip |= {"startup", "api"}
    result["service"] = bench_service(settings, qs, args.repeat, args.records_only) if "service" not in skip else None
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    result["startup"] = bench_startup(args.index, args.embedder, args.startup_runs) if "startup" not in skip else {}
    result["api"] = (
        bench_api(args.index, args.embedder, qs, args.clients, args.api_requests, args.api_seconds)
        if "api" not in skip else None
    )
    result["loadavg_after"] = loadavg()
    if result["service"] is not None:
        print(report(result))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
