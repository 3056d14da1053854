"""Where a whole `assistant ingest` spends its time and its memory, stage by stage.

    .venv/bin/python scripts/profile_ingest.py [--corpus ../shared/corpus] [--json OUT]

Runs `assistant --index NEW ingest CORPUS --json` in this process (the CLI's own code path,
the machine's default embedder) while a thread samples, every ``--interval`` seconds, the
resident set (``/proc/self/status``) and the main thread's stack. Each sample is given to the
innermost stage recognised on the stack (imports, file loading, parsing, tokenization, the
passage runtime's load and its forward passes, Chroma, BM25, SQLite…), so the table says how
many seconds and how many MiB of peak each stage accounts for. The stage at the moment of the
process's highest resident set is the one to work on for memory; the stage with most samples
is the one to work on for time. The start-up before this script's first line (the Python
interpreter itself) is measured apart by timing ``python -c pass``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, loadavg, machine

# Innermost match wins: (stage, predicate on (function name, file name)).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("import", ("<frozen importlib._bootstrap>", "_find_and_load")),
    ("load files", ("load_path", "load_bytes")),
    ("parse", ("parse_document",)),
    ("chunk", ("chunk_notice",)),
    ("store (SQLite records)", ("store.py",)),
    ("chunk table", ("replace_notice", "get_many")),
    ("embedder load", ("load_runtime", "ensure_default_model", "PassageEncoder.__init__",
                       "query_encoder_for", "make_embedder")),
    ("tokenize", ("encode_batch", "token_windows")),
    ("forward passes", ("pooled",)),
    ("embed (other)", ("embed_passages", "encode")),
    ("chroma", ("vectors.py", "chromadb")),
    ("bm25", ("bm25.py", "bm25s")),
    ("verify", ("_verified", "_id_mismatches")),
]


def _rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _stage(frame: FrameType | None) -> str:
    names: list[str] = []
    while frame is not None:
        code = frame.f_code
        names.append(f"{code.co_qualname}|{code.co_filename}")
        frame = frame.f_back
    # names[0] is innermost; walk from the innermost outwards and take the first stage found.
    for entry in names:
        qual, _, filename = entry.partition("|")
        for stage, keys in STAGES:
            for key in keys:
                if key.endswith(".py") or key.startswith("<") or key == "chromadb" or key == "bm25s":
                    if key in filename:
                        return stage
                elif qual == key or qual.endswith("." + key) or qual.split(".")[-1] == key:
                    return stage
    return "other"


class Sampler(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.main_id = threading.main_thread().ident
        self.samples: list[tuple[float, float, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        while not self.stop.wait(self.interval):
            frame = sys._current_frames().get(self.main_id or 0)
            self.samples.append((time.perf_counter() - start, _rss_mib(), _stage(frame)))


def _runtime_used() -> str | None:
    """The passage runtime the ingest ran on, as `assistant doctor` reports it."""
    from assistant.embed.shared import embedder_status
    from assistant.settings import Settings

    return embedder_status(Settings().embedding).runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    interpreter = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interpreter = time.perf_counter() - interpreter
    load_start = loadavg()
    sampler = Sampler(args.interval)
    index = Path(tempfile.mkdtemp(prefix="profile-ingest-"))
    start = time.perf_counter()
    cpu_start = time.process_time()
    sampler.start()
    try:
        from assistant.cli import app

        with contextlib.suppress(SystemExit):
            app(["--index", str(index), "ingest", str(args.corpus), "--json"], standalone_mode=False)
    finally:
        sampler.stop.set()
        sampler.join()
        shutil.rmtree(index, ignore_errors=True)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    by_stage: dict[str, list[float]] = collections.defaultdict(list)
    for _, rss, stage in sampler.samples:
        by_stage[stage].append(rss)
    peak_t, peak_rss, peak_stage = max(sampler.samples, key=lambda s: s[1])
    total = len(sampler.samples) or 1
    stages = {
        stage: {
            "seconds": round(wall * len(values) / total, 2),
            "share": round(len(values) / total, 3),
            "max_rss_mib": round(max(values), 1),
        }
        for stage, values in sorted(by_stage.items(), key=lambda kv: -len(kv[1]))
    }
    result = {
        "machine": machine(),
        "corpus": str(args.corpus),
        "runtime_env": os.environ.get("ASSISTANT_EMBEDDING_RUNTIME", "auto"),
        "runtime": _runtime_used(),
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "python_start_s": round(interpreter, 3),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sampled_peak": {"t": round(peak_t, 2), "rss_mib": round(peak_rss, 1), "stage": peak_stage},
        "stages": stages,
        "rss_timeline": [
            (round(t, 1), round(r), s) for t, r, s in sampler.samples[:: max(1, total // 60)]
        ],
    }
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text, file=sys.stderr)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
