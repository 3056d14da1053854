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
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache

from assistant.answer.citations import (
    CitationBook,
    Passage,
    issuer_label,
    notice_date,
    notice_title,
    sentence_spans,
    words,
)
from assistant.answer.route import periods_named
from assistant.model import Notice
from assistant.text import collapse_spaces, fold, nfc, search_view

# Question words, function words and words every notice is made of: they say nothing about
# which sentence answers.
STOPWORDS = frozenset(
    ["ai", "gi", "nao", "bao", "nhieu", "khi", "sao", "the", "thi", "la", "co", "khong", "chua", "duoc", "cua", "va", "cho", "voi", "trong", "tren", "ve", "den", "tu", "o", "tai", "nhu", "nhung", "cac", "mot", "hay", "hoac", "da", "se", "dang", "phai", "can", "nen", "ra", "vao", "lai", "con", "nua", "do", "nay", "kia", "ay", "bi", "boi", "theo", "de", "ma", "neu", "vay", "ha", "a", "nhe", "u", "oi", "xin", "hoi", "cho", "biet", "minh", "toi", "chung", "ta", "ban", "the", "nao", "bao", "gio", "luc", "dau", "gio", "lam", "viec", "nhiem", "vu", "giao", "cuoc", "hop", "phien", "thong", "bao", "ket", "luan", "noi", "dung", "van", "ban"]
)
# The same words as typed with diacritics: an accented question is matched accent-aware, so
# 'đền' is not 'đến' and 'vé' is not 'về'.
ACCENTED_STOPWORDS = frozenset(
    ["ai", "gì", "nào", "bao", "nhiêu", "khi", "sao", "thế", "thì", "là", "có", "không", "chưa", "được", "của", "và", "cho", "với", "trong", "trên", "về", "đến", "từ", "ở", "tại", "như", "những", "các", "một", "hay", "hoặc", "đã", "sẽ", "đang", "phải", "cần", "nên", "ra", "vào", "lại", "còn", "nữa", "do", "này", "kia", "ấy", "bị", "bởi", "theo", "để", "mà", "nếu", "vậy", "hả", "à", "nhé", "ừ", "ơi", "xin", "hỏi", "biết", "mình", "tôi", "chúng", "ta", "bạn", "giờ", "lúc", "đâu", "làm", "việc", "nhiệm", "vụ", "giao", "cuộc", "họp", "phiên", "thông", "báo", "kết", "luận", "nội", "dung", "văn", "bản"]
)
# Words any notice is made of: a sentence holding only these does not answer anything.
GENERIC_WORDS = frozenset(
    ["ubnd", "hđnd", "ủy", "uỷ", "ban", "nhân", "dân", "tỉnh", "huyện", "thị", "xã", "phường", "quận", "thành", "phố", "tp", "trấn", "đồng", "chí", "chủ", "tịch", "năm", "tháng", "ngày", "quý", "đạt", "ước", "tổng", "số", "kết", "quả", "tình", "hình", "thực", "hiện", "tác"]
)
# Folded like the words they are compared with ('uỷ' → 'ủy').
ACCENTED_STOPWORDS = frozenset(fold(w) for w in ACCENTED_STOPWORDS)
GENERIC_WORDS = frozenset(fold(w) for w in GENERIC_WORDS)
_GENERIC_FREE = frozenset(search_view(w) for w in GENERIC_WORDS)
MIN_COVERAGE = 0.5
MAX_SENTENCES = 4
MIN_SUPPORT = 0.56
"""Below this share of the question's own words (and word pairs), the best sentence is not
evidence: the question is refused. Calibrated on the must-refuse questions of eval/."""
_TOKEN = re.compile(r"\w+")


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def is_accented(text: str) -> bool:
    """Whether ``text`` was typed with diacritics (then its words are compared with them)."""
    return search_view(text) != fold(nfc(text))


def terms(text: str, accented: bool) -> list[str]:
    """Lowercase syllables, with their diacritics (``accented``) or without."""
    return _TOKEN.findall(fold(nfc(text))) if accented else words(text)


def _is_stop(word: str, accented: bool) -> bool:
    return word in ACCENTED_STOPWORDS if accented else word in STOPWORDS


def query_terms(question: str) -> tuple[bool, list[str | None]]:
    """(accented, the question's syllables with stopwords as None): pairs need the positions."""
    accented = is_accented(question)
    return accented, [None if _is_stop(w, accented) else w for w in terms(question, accented)]


class AnswerKind(StrEnum):
    NUMBER = "number"
    PERCENT = "percent"
    DATE = "date"


_KIND_OF_QUESTION = [
    (AnswerKind.PERCENT, re.compile(r"\bty le\b|\bphan tram\b|\btang truong\b.*\bbao nhieu\b")),
    (AnswerKind.NUMBER, re.compile(r"\bbao nhieu\b|\bso luong\b|\bmay\s+\w+\s*\??$|\bmay (?!moc)")),
    (AnswerKind.DATE, re.compile(r"\bkhi nao\b|\bngay nao\b|\bbao gio\b|\bluc nao\b|\bthoi han\b|\bhan\b|\bthang nao\b")),
]
_PERCENT = re.compile(r"\d(?:[.,]\d+)?\s*%|\bphan tram\b")
_DATE_IN_TEXT = re.compile(
    r"(?<![\d/])\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{4})?(?![\d/])|\bngay \d{1,2} thang \d{1,2}\b"
    r"|\bthang \d{1,2}\s*(?:/|nam)\s*\d{4}\b|\bquy (?:iv|i{1,3}|[1-4])\b|\bhang (?:ngay|tuan|thang|quy|nam)\b"
)
_NUMBER = re.compile(r"(?<![\w/])\d+(?:[.,]\d+)*(?![\w/])")
_YEARISH = re.compile(r"^(?:19|20)\d{2}$")


def answer_kind(question: str) -> AnswerKind | None:
    """What the answer is: a figure ('bao nhiêu'), a share ('tỷ lệ'), a date ('khi nào')."""
    view = search_view(nfc(question))
    return next((kind for kind, pattern in _KIND_OF_QUESTION if pattern.search(view)), None)


def holds_kind(sentence: str, kind: AnswerKind, asked: str = "") -> bool:
    """Whether ``sentence`` holds a figure/date of ``kind`` that the question did not itself name."""
    view = search_view(nfc(sentence))
    named = set(_NUMBER.findall(search_view(nfc(asked))))
    if kind is AnswerKind.PERCENT:
        return bool(_PERCENT.search(view))
    dates = list(_DATE_IN_TEXT.finditer(view))
    if kind is AnswerKind.DATE:
        return any(m.group() not in search_view(nfc(asked)) for m in dates)
    in_dates = [m.span() for m in dates]
    for m in _NUMBER.finditer(re.sub(r"^\s*[-+*•]?\s*[\dIVXivx]+(?:\.\d+)*[.)]\s", " ", view)):
        if any(s <= m.start() < e for s, e in in_dates) or m.group() in named or _YEARISH.match(m.group()):
            continue
        return True
    return False


def support(question: str, text: str) -> float:
    """How much of ``question`` the evidence ``text`` actually says: the mean of the share of its
    content words (generic notice words left out) and of its adjacent word pairs found in it."""
    accented, tokens = query_terms(question)
    generic = GENERIC_WORDS if accented else _GENERIC_FREE
    have = terms(text, accented)
    have_set, have_pairs = set(have), set(itertools.pairwise(have))
    own = [t for t in tokens if t is not None and t not in generic]
    if not own:
        return 1.0
    unigram = sum(1 for t in own if t in have_set) / len(own)
    pairs = [
        (a, b)
        for a, b in itertools.pairwise(t for t in terms(question, accented))
        if not ({a, b} <= (generic | (ACCENTED_STOPWORDS if accented else STOPWORDS)))
    ]
    if not pairs:
        return unigram
    bigram = sum(1 for p in pairs if p in have_pairs) / len(pairs)
    return (unigram + bigram) / 2


@dataclass
class Picked:
    passage: Passage
    start: int
    end: int
    score: float
    support: float = 0.0


def pick_sentences(
    question: str, passages: Sequence[Passage], limit: int = MAX_SENTENCES, min_support: float = MIN_SUPPORT
) -> list[Picked]:
    """The sentences of ``passages`` that answer ``question``, best first; [] if none does.

    ``question`` should be the question without the dates and place the caller already filters
    on (``route.constraint_free``). A question asking for a figure or a date prefers sentences
    that hold one; the best sentence must support the question (``support``) or nothing is
    returned."""
    accented, tokens = query_terms(question)
    query = list(dict.fromkeys(t for t in tokens if t is not None))
    if not query or not passages:
        return []
    kind = answer_kind(question)
    sentences: list[tuple[Passage, int, int, set[str], set[str]]] = []
    whole: dict[str, list[tuple[int, int]]] = {}
    seen: set[tuple[str, int]] = set()
    for passage in passages:
        context = set(terms(passage.section, accented))
        notice = passage.notice
        if notice.id not in whole:
            whole[notice.id] = sentence_spans(notice.text)
        # Whole sentences of the notice, even where a passage ends mid-sentence (a PDF line).
        for start, end in whole[notice.id]:
            if end <= passage.start or start >= passage.end or (notice.id, start) in seen:
                continue
            seen.add((notice.id, start))
            own = set(terms(notice.text[start:end], accented))
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
        sentence = passage.notice.text[start:end]
        view = " ".join(terms(sentence, accented))
        bonus = sum(1 for a, b in bigrams if f"{a} {b}" in view) / max(1, len(bigrams))
        # Earlier passages ranked better in retrieval; a small tie-breaker only.
        score = coverage + 0.3 * bonus - 0.001 * rank
        if kind is not None and holds_kind(sentence, kind, question):
            score += 0.3
        scored.append(Picked(passage, start, end, score, support(question, f"{passage.section}\n{sentence}")))
    if not scored:
        return []
    scored.sort(key=lambda p: -p.score)
    if max(p.support for p in scored[:MAX_SENTENCES]) < min_support:
        return []
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
    """'UBND THỊ XÃ BẾN VÂN — Thông báo số 45/TB-UBND ngày 13/03/2024 — Kết luận …': who issued
    it, its number and date, its title (never a file name)."""
    issuer = issuer_label(notice) if notice.issuer else KIND_HEADINGS.get(notice.kind.value, "Văn bản")
    number = notice.number.text if notice.number is not None else ""
    label = "Thông báo" if notice.kind.value == "notice" else KIND_HEADINGS.get(notice.kind.value, "Văn bản")
    number = re.sub(r"^\s*s[ốo]\s*:?\s*", "", collapse_spaces(number), flags=re.IGNORECASE)
    what = f"{label} số {number}" if any(ch.isdigit() for ch in number) else label
    when = notice_date(notice)
    if when:
        what += f" ngày {date.fromisoformat(when):%d/%m/%Y}"
    parts = [issuer, what]
    title = notice_title(notice)
    if title:
        parts.append(title)
    return " — ".join(parts)


KIND_HEADINGS = {"notice": "Thông báo", "news_article": "Bài báo", "minutes": "Biên bản", "speech": "Bài phát biểu",
                 "directive": "Công văn", "routing_slip": "Phiếu trình"}


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


_LIST_MARKER = re.compile(r"^(?:[-+*•–]\s*)+")


def _one_line(quote: str) -> str:
    # Display only: the citation keeps the exact characters (and offsets) of the notice; the
    # sentence reads without the list marker it had in the notice.
    return _LIST_MARKER.sub("", " ".join(quote.split()))


def mentions_locality(notice: Notice, locality: str) -> bool:
    """Whether the notice is about / names the place (issuer or text), accent-insensitively."""
    return text_mentions_locality(notice.text, locality)


def text_mentions_locality(text: str, locality: str) -> bool:
    """``mentions_locality`` on a notice's text alone. A regular expression over the raw text
    rules out most notices first: folding a whole notice to its accent-free view costs
    milliseconds, the expression microseconds."""
    key = " ".join(words(locality))
    if not key:
        return True
    pattern = _locality_pattern(key)
    if pattern is not None and pattern.search(text) is None:
        return False
    haystack = " " + " ".join(words(text)) + " "
    return f" {key} " in haystack


@lru_cache(maxsize=1)
def _letter_classes() -> dict[str, str]:
    """Each accent-free letter with every character that folds to it (``a`` → ``aAàÀáÁ…``)."""
    variants: dict[str, set[str]] = {}
    for code in range(0x20, 0x2000):
        ch = chr(code)
        base = search_view(ch)
        if len(base) == 1 and base.isascii() and base.isalnum():
            variants.setdefault(base, {base}).add(ch)
    return {base: "[" + "".join(re.escape(c) for c in sorted(chars)) + "]" for base, chars in variants.items()}


@lru_cache(maxsize=256)
def _locality_pattern(key: str) -> re.Pattern[str] | None:
    """Matches wherever the syllables of ``key`` could stand in the raw text (a necessary
    condition of ``text_mentions_locality``); ``None`` when a character has no class."""
    classes = _letter_classes()
    parts: list[str] = []
    for syllable in key.split():
        if any(ch not in classes for ch in syllable):
            return None
        parts.append("".join(classes[ch] for ch in syllable))
    return re.compile(r"(?<!\w)" + r"\W+".join(parts) + r"(?!\w)")


def in_period(notice: Notice, since: date | None, until: date | None) -> bool:
    days = [d.value for d in (notice.meeting_date, notice.issue_date) if d is not None and d.value]
    if not days:
        return False
    return any((since is None or d >= since) and (until is None or d <= until) for d in days)


def title_names_period(notice: Notice, since: date | None, until: date | None) -> bool:
    """Whether the notice's title (trích yếu) names a period overlapping [since, until]: the
    'Hội nghị … Quý I/2022' is held in April, after the quarter it is about."""
    if notice.title is None or (since is None and until is None):
        return False
    when = notice_date(notice)
    reference = date.fromisoformat(when) if when else None
    return any(
        (until is None or first <= until) and (since is None or last >= since)
        for first, last in periods_named(notice.text[notice.title.start : notice.title.end], reference)
    )


def held_on(notice: Notice, day: date) -> bool:
    return any(d is not None and d.value == day for d in (notice.meeting_date, notice.issue_date))


def topic_score(notice: Notice, topic: Sequence[str]) -> float:
    """Share of ``topic`` words found in the notice's title and opening (which meeting)."""
    if not topic:
        return 0.0
    spans = [s for s in (notice.title, notice.opening) if s is not None]
    have = set(words(" ".join(notice.text[s.start : s.end] for s in spans)))
    return sum(1 for w in topic if w in have) / len(topic)


def topic_upper_bound(text: str, topic: Sequence[str]) -> float:
    """``topic_score`` read on raw text (a notice's title and opening) with one expression per
    word instead of folding the text: never below the exact score."""
    if not topic:
        return 0.0
    found = 0
    for word in topic:
        pattern = _locality_pattern(word)
        if pattern is None or pattern.search(text) is not None:
            found += 1
    return found / len(topic)


def unaccented(text: str) -> str:
    return search_view(text)
