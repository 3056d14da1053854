"""What the heading path in each embedded chunk costs (tokens) and gives (retrieval quality).

    .venv/bin/python scripts/bench_heading_path.py [--corpus ../shared/corpus] [--json OUT]

Every chunk of the seed corpus (top level and extra/) and of the dev corpus (dev/) is embedded
in three forms, by the default embedder (the machine's converted model):
* ``full``: the heading path (outer number › inner headings) + passage (``embed_text`` until
  the fourth session);
* ``last``: only the innermost heading + passage (today's ``embed_text``);
* ``none``: the passage alone.
Tokens are counted with the model's tokenizer (``passage: `` prefix and specials included).
Quality is vector retrieval alone (no BM25, no routing), so it isolates what the embedded text
changes: for each question of ``eval/questions.jsonl`` with expected anchors (refusals left
out), the chunks are ranked by cosine, and a hit is a chunk of an expected file whose passage
holds an expected anchor; recall@5 and MRR (first hit within the top 10). Two pools: the seed
corpus alone, and seed + dev (the dev notices as distractors; the questions are about the seed).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, loadavg, machine

FORMS = ("full", "last", "none")
TOP = 5
DEPTH = 10


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def corpus_chunks(corpus: Path) -> list[dict[str, object]]:
    from assistant.chunk import _breadcrumb, chunk_notice
    from assistant.load import load_path, walk_paths
    from assistant.parse import parse_document

    rows: list[dict[str, object]] = []
    for path in walk_paths([corpus]).files:
        name = path.relative_to(corpus).as_posix()
        try:
            notice = parse_document(load_path(path, source=name))
        except Exception as exc:  # e.g. a .doc without LibreOffice: reported, left out
            print(f"bỏ qua {name}: {exc}", file=sys.stderr)
            continue
        for chunk in chunk_notice(notice):
            crumb = _breadcrumb(chunk.heading_path)
            passage = chunk.text
            last = _breadcrumb(chunk.heading_path[-1:])
            rows.append({
                "file": name,
                "dev": name.startswith("dev/"),
                "span": _squash(chunk.text),
                "full": "\n".join(x for x in (crumb, passage) if x),
                "last": "\n".join(x for x in (last, passage) if x),
                "none": passage,
            })
    return rows


def questions() -> list[dict[str, object]]:
    out = []
    for line in (REPO / "eval" / "questions.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        if q.get("must_refuse") or not q.get("expected_anchors") or not q.get("expected_files"):
            continue
        out.append(q)
    return out


def score(rows: list[dict[str, object]], vectors: np.ndarray, qs: list[dict[str, object]],
          qvecs: np.ndarray) -> dict[str, float]:
    recall, rr = [], []
    sims = qvecs @ vectors.T
    for q, row in zip(qs, sims, strict=True):
        files = set(q["expected_files"])  # type: ignore[arg-type]
        anchors = [_squash(a) for a in q["expected_anchors"]]  # type: ignore[union-attr]
        ranked = np.argsort(-row, kind="stable")[:DEPTH]
        hits = [
            rank for rank, i in enumerate(ranked)
            if rows[i]["file"] in files and any(a in str(rows[i]["span"]) for a in anchors)
        ]
        recall.append(1.0 if hits and hits[0] < TOP else 0.0)
        rr.append(1.0 / (hits[0] + 1) if hits else 0.0)
    return {"recall@5": round(float(np.mean(recall)), 4), "mrr": round(float(np.mean(rr)), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--tokens-only", action="store_true", help="count tokens, embed nothing")
    parser.add_argument("--forms", default=",".join(FORMS),
                        help=f"embedded forms to measure, comma-separated (default: {','.join(FORMS)})")
    args = parser.parse_args()
    from tokenizers import Tokenizer

    from assistant.embed import make_embedder
    from assistant.settings import Settings

    settings = Settings()
    embedder = make_embedder(settings.embedding, settings.index)
    rows = corpus_chunks(args.corpus)
    qs = questions()
    qvecs = embedder.embed_queries([str(q["question"]) for q in qs])
    folder = getattr(embedder, "folder", None)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json")) if folder else None
    result: dict[str, object] = {
        "machine": machine(), "chunks_seed": sum(not r["dev"] for r in rows),
        "chunks_dev": sum(bool(r["dev"]) for r in rows), "questions": len(qs),
        "embedder": embedder.identity,
    }
    seed = [i for i, r in enumerate(rows) if not r["dev"]]
    forms = [f for f in args.forms.split(",") if f]
    if unknown := set(forms) - set(FORMS):
        parser.error(f"unknown forms: {', '.join(sorted(unknown))}")
    for form in forms:
        texts = [str(r[form]) for r in rows]
        tokens = (
            sum(len(e.ids) for e in tokenizer.encode_batch(["passage: " + t for t in texts]))
            if tokenizer else None
        )
        result[form] = {
            "tokens": tokens,
            "tokens_per_chunk": round(tokens / len(texts), 1) if tokens else None,
        }
        if not args.tokens_only:
            start = time.perf_counter()
            vectors = embedder.embed_passages(texts)
            result[form].update({  # type: ignore[attr-defined]
                "embed_s": round(time.perf_counter() - start, 1),
                "seed": score([rows[i] for i in seed], vectors[seed], qs, qvecs),
                "seed+dev": score(rows, vectors, qs, qvecs),
            })
        print(form, json.dumps(result[form]), file=sys.stderr, flush=True)
    result["loadavg_end"] = loadavg()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
