"""Answers without an LLM: the sentences that answer, quoted verbatim, each cited [n], grouped
by notice under its issuer and date.

For open questions a sentence is chosen by how much of the question's content words (accent-free
syllables, weighted by rarity among the candidates) it covers, counting the headings it sits
under (``2.3. Phòng TNMT`` gives the agency to its bullets). A question whose words no sentence
covers well is refused rather than answered with the nearest text.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from assistant.answer.citations import (
    CitationBook,
    Passage,
    issuer_label,
    notice_date,
    notice_title,
    sentence_spans,
    words,
)
from assistant.model import Notice
from assistant.text import search_view

# Question words, function words and words every notice is made of: they say nothing about
# which sentence answers.
STOPWORDS = frozenset(
    ["ai", "gi", "nao", "bao", "nhieu", "khi", "sao", "the", "thi", "la", "co", "khong", "chua", "duoc", "cua", "va", "cho", "voi", "trong", "tren", "ve", "den", "tu", "o", "tai", "nhu", "nhung", "cac", "mot", "hay", "hoac", "da", "se", "dang", "phai", "can", "nen", "ra", "vao", "lai", "con", "nua", "do", "nay", "kia", "ay", "bi", "boi", "theo", "de", "ma", "neu", "vay", "ha", "a", "nhe", "u", "oi", "xin", "hoi", "cho", "biet", "minh", "toi", "chung", "ta", "ban", "the", "nao", "bao", "gio", "luc", "dau", "gio", "lam", "viec", "nhiem", "vu", "giao", "cuoc", "hop", "phien", "thong", "bao", "ket", "luan", "noi", "dung", "van", "ban"]
)
MIN_COVERAGE = 0.5
MAX_SENTENCES = 4


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


@dataclass
class Picked:
    passage: Passage
    start: int
    end: int
    score: float


def pick_sentences(
    question: str, passages: Sequence[Passage], limit: int = MAX_SENTENCES
) -> list[Picked]:
    """The sentences of ``passages`` that answer ``question``, best first; [] if none does."""
    query = list(dict.fromkeys(content_words(question)))
    if not query or not passages:
        return []
    sentences: list[tuple[Passage, int, int, set[str], set[str]]] = []
    for passage in passages:
        context = set(words(passage.section))
        for start, end in sentence_spans(passage.notice.text, passage.start, passage.end):
            own = set(words(passage.notice.text[start:end]))
            sentences.append((passage, start, end, own, context))
    if not sentences:
        return []
    df: Counter[str] = Counter()
    for _, _, _, own, context in sentences:
        df.update(own | context)
    total = len(sentences)
    weight = {w: math.log(1.0 + (total + 1) / (df[w] + 0.5)) for w in query}
    query_weight = sum(weight.values())
    bigrams = list(itertools.pairwise(query))

    scored: list[Picked] = []
    for rank, (passage, start, end, own, context) in enumerate(sentences):
        own_hit = sum(weight[w] for w in query if w in own)
        if own_hit == 0:
            continue
        hit = sum(weight[w] for w in query if w in own or w in context)
        coverage = hit / query_weight
        if coverage < MIN_COVERAGE or own_hit / query_weight < 0.25:
            continue
        view = " ".join(words(passage.notice.text[start:end]))
        bonus = sum(1 for a, b in bigrams if f"{a} {b}" in view) / max(1, len(bigrams))
        # Earlier passages ranked better in retrieval; a small tie-breaker only.
        score = coverage + 0.3 * bonus - 0.001 * rank
        scored.append(Picked(passage, start, end, score))
    if not scored:
        return []
    scored.sort(key=lambda p: -p.score)
    best = scored[0].score
    chosen: list[Picked] = []
    for item in scored:
        if item.score < best - 0.15 or len(chosen) == limit:
            break
        if any(c.passage.notice.id == item.passage.notice.id and c.start == item.start for c in chosen):
            continue
        chosen.append(item)
    return chosen


def notice_heading(notice: Notice) -> str:
    """'UBND THỊ XÃ BẾN VÂN — Kết luận … (ngày 13/03/2024)': who issued it, and when."""
    parts = [issuer_label(notice)]
    title = notice_title(notice)
    if title:
        parts.append(title)
    line = " — ".join(parts)
    when = notice_date(notice)
    if when:
        line += f" (ngày {date.fromisoformat(when):%d/%m/%Y})"
    return line


@dataclass
class Line:
    """One quoted line of an answer: optional words before/after the quote."""

    notice: Notice
    start: int
    end: int
    section: str = ""
    prefix: str = ""
    suffix: str = ""


def compose(lines: Iterable[Line], book: CitationBook, intro: str = "") -> str:
    """Group ``lines`` by notice (first appearance order) and write each as ``- "quote" [n]``."""
    groups: dict[str, list[Line]] = {}
    notices: dict[str, Notice] = {}
    for line in lines:
        groups.setdefault(line.notice.id, []).append(line)
        notices[line.notice.id] = line.notice
    out: list[str] = [intro] if intro else []
    for notice_id, items in groups.items():
        notice = notices[notice_id]
        if out:
            out.append("")
        out.append(notice_heading(notice) + ":")
        for item in items:
            n = book.cite(notice, item.start, item.end, item.section)
            quote = notice.text[item.start : item.end]
            out.append(f'- {item.prefix}"{_one_line(quote)}" [{n}]{item.suffix}')
    return "\n".join(out)


def _one_line(quote: str) -> str:
    # Display only: the citation keeps the exact characters (and offsets) of the notice.
    return " ".join(quote.split())


def mentions_locality(notice: Notice, locality: str) -> bool:
    """Whether the notice is about / names the place (issuer or text), accent-insensitively."""
    key = " ".join(words(locality))
    if not key:
        return True
    haystack = " " + " ".join(words(notice.text)) + " "
    return f" {key} " in haystack


def in_period(notice: Notice, since: date | None, until: date | None) -> bool:
    days = [d.value for d in (notice.meeting_date, notice.issue_date) if d is not None and d.value]
    if not days:
        return False
    return any((since is None or d >= since) and (until is None or d <= until) for d in days)


def held_on(notice: Notice, day: date) -> bool:
    return any(d is not None and d.value == day for d in (notice.meeting_date, notice.issue_date))


def topic_score(notice: Notice, topic: Sequence[str]) -> float:
    """Share of ``topic`` words found in the notice's title and opening (which meeting)."""
    if not topic:
        return 0.0
    spans = [s for s in (notice.title, notice.opening) if s is not None]
    have = set(words(" ".join(notice.text[s.start : s.end] for s in spans)))
    return sum(1 for w in topic if w in have) / len(topic)


def unaccented(text: str) -> str:
    return search_view(text)
