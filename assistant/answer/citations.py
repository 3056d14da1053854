"""Citations and their verification: every quote shown to a user is a verbatim slice of the
notice it names, ``notice.text[start:end] == quote``, checked here before anything is shown.

Quotes written by an LLM are located in the passage it was given (then in the whole notice) on
``fold(text)``, which has the length of ``text``: case, tone placement (``hoá``/``hóa``),
dashes, curly quotes and runs of whitespace may differ, the words and their order may not. The
citation then carries the notice's own characters, never the model's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from assistant.model import Notice
from assistant.text import fold, search_view

_SENTENCE_END = re.compile(r"[.!?…][\"”’)]*(?=[ \t]+[\"“(]?(\w|[-+*•]))|\s*\n\s*")
# A period after these is not a sentence end: 'TP. Lam Thủy', '2.2. Phòng …', 'II. NHIỆM VỤ'.
_NOT_END_BEFORE = re.compile(r"(?:^|\s)(?:[\dIVXivx]+(?:\.\d+)*|TP|Tp|TT|ThS|TS|PGS|GS|St)$")
_WORD = re.compile(r"\w+")
# A line break inside a sentence (text extracted from PDF wraps every line): the line before
# ends mid-phrase and the next one goes on in lowercase or with a figure ('đạt \n\n7,24%;').
_WRAPPED_BEFORE = re.compile(r"[\w,%)]$")
_WRAPPED_AFTER = re.compile(r"(?:[^\W\d_]|\d)(?![.)]\s)(?!\d*(?:\.\d+)*[.)]\s)")


class Citation(BaseModel):
    n: int = Field(description="The number shown in the answer as [n].")
    notice_id: str
    source: str
    notice_title: str | None = None
    meeting_date: str | None = Field(default=None, description="ISO date of the meeting.")
    section: str = Field(default="", description="Heading path, outermost first.")
    quote: str = Field(description="Exactly notice.text[start:end].")
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return self.model_dump()


@dataclass
class Passage:
    """A span of a notice given to the answerer (a retrieved chunk, an assignment record)."""

    notice: Notice
    start: int
    end: int
    section: str = ""
    score: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.notice.text[self.start : self.end]


def notice_title(notice: Notice) -> str | None:
    return " ".join(notice.title.text.split()) if notice.title else None


def notice_date(notice: Notice) -> str | None:
    when = notice.meeting_date or notice.issue_date
    if when is None or when.value is None:
        return None
    return when.value.isoformat()


def issuer_label(notice: Notice) -> str:
    return " ".join(notice.issuer.text.split()) if notice.issuer else notice.source


def make_citation(n: int, notice: Notice, start: int, end: int, section: str = "") -> Citation:
    return Citation(
        n=n,
        notice_id=notice.id,
        source=notice.source,
        notice_title=notice_title(notice),
        meeting_date=notice_date(notice),
        section=section,
        quote=notice.text[start:end],
        start=start,
        end=end,
    )


def verify_citation(citation: Citation, notice: Notice) -> bool:
    """The quote is non-empty and is exactly the notice text at its offsets."""
    if citation.notice_id != notice.id or not citation.quote.strip():
        return False
    if not 0 <= citation.start < citation.end <= len(notice.text):
        return False
    return notice.text[citation.start : citation.end] == citation.quote


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` (trimmed), split at sentence ends and line breaks.

    A sentence ends at ``.``/``!``/``?`` followed by a capital or a digit, so ``38,6 tỷ`` and
    ``20/4/2024`` stay whole and ``…; hoàn thành trong tháng 5/2024.`` stays with its task."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    cur = start
    for match in _SENTENCE_END.finditer(text, start, end):
        following = match.group(1)
        if following is None and _wrapped(text, cur, match.start(), match.end(), end):
            continue
        if following is not None:
            if not (following.isupper() or following.isdigit() or following in "-+*•"):
                continue
            if _NOT_END_BEFORE.search(text[cur : match.start()]):
                continue
        _push(text, cur, match.end(), out)
        cur = match.end()
    _push(text, cur, end, out)
    return out


def _wrapped(text: str, cur: int, at: int, after: int, end: int) -> bool:
    """Whether the line break at ``text[at:after]`` only wraps a sentence."""
    before = text[cur:at].rstrip()
    if not before or not _WRAPPED_BEFORE.search(before) or after >= end:
        return False
    nxt = text[after]
    if nxt.isalpha() and not nxt.islower():
        return False
    return bool(_WRAPPED_AFTER.match(text, after))


def _push(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    out.append((start + lead, start + lead + len(stripped)))


def _quote_pattern(quote: str) -> re.Pattern[str] | None:
    words = _WORD.findall(fold(quote))
    if not words:
        return None
    # Words in order, anything non-word (spaces, punctuation) between them may differ only in
    # whitespace; punctuation inside the quote must match.
    pieces = re.split(r"\s+", fold(quote).strip())
    return re.compile(r"\s+".join(re.escape(p) for p in pieces if p))


def locate_quote(text: str, quote: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text[start:end]`` (folded comparison), or None."""
    end = len(text) if end is None else end
    quote = quote.strip().strip("\"“”'‘’").strip()
    if not quote:
        return None
    exact = text.find(quote, start, end)
    if exact != -1:
        return exact, exact + len(quote)
    pattern = _quote_pattern(quote)
    if pattern is None:
        return None
    match = pattern.search(fold(text), start, end)
    if match is None:
        return None
    return match.start(), match.end()


def words(text: str) -> list[str]:
    """Accent-free lowercase syllables: what the word-overlap checks compare."""
    return _WORD.findall(search_view(text))


class AnswerResult(BaseModel):
    """One answer: ``to_json()`` is the shape the CLI and the API print."""

    question: str
    answer: str
    refused: bool
    route: str
    citations: list[Citation] = Field(default_factory=list)
    conversation_id: str | None = None
    closest: list[dict[str, Any]] = Field(
        default_factory=list, description="On refusal: the notices that came closest."
    )
    dropped_claims: int = Field(default=0, description="LLM claims removed as unverifiable.")
    related_citations: list[int] = Field(
        default_factory=list,
        description="Numbers of the citations under 'Đoạn có thể liên quan': passages naming the "
        "agency that no extracted assignment quotes.",
    )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "route": self.route,
            "citations": [c.to_json() for c in self.citations],
        }
        if self.conversation_id is not None:
            data["conversation_id"] = self.conversation_id
        if self.closest:
            data["closest"] = self.closest
        if self.dropped_claims:
            data["dropped_claims"] = self.dropped_claims
        if self.related_citations:
            data["related_citations"] = self.related_citations
        return data


class StreamEvent(BaseModel):
    """``delta`` events carry text as it is produced (unverified); the one ``final`` event
    carries the verified answer, which is what a client must keep."""

    type: str = Field(description="'delta' or 'final'.")
    text: str = ""
    result: AnswerResult | None = None


class CitationBook:
    """Numbers citations [1], [2], … in order of first use; one number per distinct span."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._seen: dict[tuple[str, int, int], int] = {}

    def cite(self, notice: Notice, start: int, end: int, section: str = "") -> int:
        key = (notice.id, start, end)
        if key not in self._seen:
            citation = make_citation(len(self.citations) + 1, notice, start, end, section)
            if not verify_citation(citation, notice):
                raise ValueError(f"span {start}:{end} is not a quotable passage of {notice.id}")
            self.citations.append(citation)
            self._seen[key] = citation.n
        return self._seen[key]
