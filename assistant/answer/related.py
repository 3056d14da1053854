"""Passages retrieved for an agency that none of its records quotes: ``Đoạn có thể liên quan``.

Records are as complete as extraction is: a task written in a way the parser does not read as
an assignment is in no record, and an answer built from records alone would hide it, where a
plain top-k retrieval might have shown it. So every assignment answer (chat, ``/api/assignments``,
the agency view) adds, set apart from the records and cited like them, the passages the hybrid
retriever finds for the agency that

1. lie in the body of a notice (not its header block or its ``Nơi nhận`` list, where every
   agency is named) which meets the question's place and period;
2. name the agency, in the passage or in the headings it sits under: the name as typed, the
   canonical name, a stored spelling or a gazetteer alias (accent-free words in a row), or one
   of its abbreviations in capitals ('Phòng TN&MT' for 'phòng TNMT');
3. are not the notice's opening paragraph (which names every agency that attended or
   reported: who came, not who was assigned) nor its closing formula ('… để các phòng, ban,
   UBND các xã biết, thực hiện');
4. are not covered by the agency's records: at least ``COVERED_SHARE`` of the passage lies
   inside the quote spans of its records or the mentions those records were read from, or the
   passage is a heading that one of its records sits under ('2.3. Phòng TNMT, HĐGPMB' above
   a record of Phòng TNMT).

The query is the agency as typed plus its canonical name. Retrieval starts at eight times the
passages wanted and doubles (up to ``related_candidates``) while too few candidates survive.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from assistant.agencies import Gazetteer
from assistant.agency_lookup import AgencyLookup
from assistant.answer.citations import Passage, notice_date, notice_title
from assistant.answer.extractive import text_mentions_locality
from assistant.chunk import Chunk, ChunkPart
from assistant.errors import AssistantError
from assistant.model import Level, Notice
from assistant.retrieve.filters import Filters
from assistant.store import AssignmentRef, Store
from assistant.text import collapse_spaces, match_key, nfc, search_view

if TYPE_CHECKING:
    from assistant.retrieve.hybrid import ScoredChunk

COVERED_SHARE = 0.5
"""A passage this much inside its agency's record spans (quotes and mentions) is covered."""
_FIRST_ROUND = 8  # candidates retrieved at first, per passage wanted
_WORD = re.compile(r"\w+")
_AROUND = 40  # characters read on each side of an abbreviation to tell whose it is


class Retriever(Protocol):
    def search(self, query: str, k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]: ...


def related_query(lookup: AgencyLookup) -> str:
    """What is searched: the agency as typed, then its canonical name (or the spellings stored
    for a body the gazetteer does not know), each once."""
    parts = [lookup.query]
    if lookup.agency is not None:
        parts.append(lookup.agency.name)
    parts.extend(lookup.stored)
    seen: set[str] = set()
    out: list[str] = []
    for part in parts:
        key = match_key(part)
        if key and key not in seen:
            seen.add(key)
            out.append(collapse_spaces(part))
    return " ".join(out)


class _AgencyNames:
    """Whether a passage names the agency of a look-up (module docstring, point 2): one of its
    names — as typed, canonical, stored, the gazetteer's aliases — as accent-free words in a
    row ('và' aside, which '-' or '&' may replace), or one of its abbreviations ('TN&MT',
    'TNMT') that the gazetteer, reading the words around it, takes for this agency ('Sở TN&MT'
    is not 'Phòng TN&MT')."""

    def __init__(self, gazetteer: Gazetteer, lookup: AgencyLookup) -> None:
        self.gazetteer = gazetteer
        self._said: dict[tuple[str, Level | None], bool] = {}  # headings repeat over their chunks
        names = [lookup.typed or lookup.query, *lookup.stored]
        abbreviations: list[str] = []
        self.key = ""
        if lookup.agency is not None:
            names += [lookup.agency.name, *lookup.agency.aliases]
            abbreviations = [a.strip() for a in lookup.agency.abbreviations if a.strip()]
            self.key = match_key(lookup.agency.name)
        self.phrases = {p for p in (_phrase(n) for n in names) if p}
        self.abbreviation = (
            re.compile("|".join(rf"(?<![\w&-]){re.escape(nfc(a))}(?![\w&-])" for a in abbreviations))
            if abbreviations else None
        )

    def named_in(self, chunk: Chunk, level: Level | None) -> bool:
        return any(self._names(text, level) for text in (chunk.text, *chunk.heading_path))

    def _names(self, text: str, level: Level | None) -> bool:
        said = self._said.get((text, level))
        if said is None:
            view = f" {_phrase(text)} "
            said = any(f" {phrase} " in view for phrase in self.phrases) or self._abbreviated(nfc(text), level)
            self._said[(text, level)] = said
        return said

    def _abbreviated(self, text: str, level: Level | None) -> bool:
        if self.abbreviation is None:
            return False
        for hit in self.abbreviation.finditer(text):
            # the words around the abbreviation only: a whole passage takes milliseconds to scan
            low, high = max(0, hit.start() - _AROUND), min(len(text), hit.end() + _AROUND)
            for ref in self.gazetteer.find_mentions(text, low, high, level=level):
                if ref.start <= hit.start() < ref.end and match_key(ref.canonical or "") == self.key:
                    return True
        return False


def _phrase(text: str) -> str:
    """Accent-free words of ``text``, 'và' left out."""
    return " ".join(w for w in _WORD.findall(search_view(nfc(text))) if w != "va")


def _covered_share(start: int, end: int, spans: Sequence[tuple[int, int]]) -> float:
    """Share of ``[start, end)`` inside the union of ``spans``."""
    if end <= start:
        return 1.0
    covered = 0
    at = start
    for s, e in sorted(spans):
        s, e = max(s, at), min(e, end)
        if e > s:
            covered += e - s
            at = e
    return covered / (end - start)


class RelatedFinder:
    """Finds the related passages of one agency look-up; ``notice_of`` reads a stored notice
    (the answer service's cache, or the store)."""

    def __init__(
        self,
        store: Store,
        gazetteer: Gazetteer,
        retriever: Retriever | None,
        notice_of: Callable[[str], Notice],
        limit: int,
        max_candidates: int,
    ) -> None:
        self.store = store
        self.gazetteer = gazetteer
        self.retriever = retriever
        self.notice_of = notice_of
        self.limit = limit
        self.max_candidates = max_candidates

    def find(
        self,
        lookup: AgencyLookup,
        filters: Filters | None = None,
        allowed: Callable[[Passage], bool] | None = None,
        quoted: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    ) -> list[Passage]:
        """Up to ``limit`` passages (the best retrieved, in reading order) for the agency of
        ``lookup``, whose rows are the records that cover passages. ``filters`` go to the
        retriever; ``allowed`` judges each passage (the question's place and period).
        ``quoted``: per notice, the spans an answer shows for the records of that notice (the
        chat quotes a record by the sentences of its task); they cover in place of the records'
        own spans, so a sentence of a record that the answer does not show can still appear."""
        retriever = self.retriever
        if self.limit <= 0 or retriever is None or not getattr(retriever, "available", True):
            return []
        query = related_query(lookup)
        if not query:
            return []
        names = _AgencyNames(self.gazetteer, lookup)
        by_notice: dict[str, list[AssignmentRef]] = {}
        for ref in lookup.refs:
            by_notice.setdefault(ref.notice_id, []).append(ref)
        covered: dict[str, tuple[list[tuple[int, int]], set[str]]] = {}
        notices: dict[str, Notice | None] = {}
        seen: set[str] = set()
        found: list[Passage] = []
        k = min(max(self.limit * _FIRST_ROUND, 8), self.max_candidates)
        while True:
            scored = retriever.search(query, k=k, filters=filters)
            for item in scored:
                chunk = item.chunk
                if chunk.id in seen:
                    continue
                seen.add(chunk.id)
                if chunk.part is not ChunkPart.BODY:
                    continue
                if chunk.notice_id not in notices:
                    notices[chunk.notice_id] = self._notice(chunk.notice_id, lookup)
                notice = notices[chunk.notice_id]
                if notice is None or notice.text[chunk.start : chunk.end] != chunk.text:
                    continue  # not in the place asked, or an index out of step: never cite it
                passage = Passage(notice, chunk.start, chunk.end, " › ".join(chunk.heading_path), item.score)
                if allowed is not None and not allowed(passage):
                    continue
                # who attended / who is told to carry the notice out: every agency, no task
                frame = [(s.start, s.end) for s in (notice.opening, notice.closing) if s is not None]
                if _covered_share(chunk.start, chunk.end, frame) >= COVERED_SHARE:
                    continue
                if notice.id not in covered:
                    shown = quoted.get(notice.id) if quoted is not None else None
                    covered[notice.id] = self._covered_by(by_notice.get(notice.id, []), shown)
                spans, headings = covered[notice.id]
                if match_key(chunk.text) in headings or _covered_share(chunk.start, chunk.end, spans) >= COVERED_SHARE:
                    continue
                # last: the costliest test, on what is left
                if not names.named_in(chunk, notice.level):
                    continue
                found.append(passage)
                if len(found) >= self.limit:
                    return _reading_order(found)
            if len(scored) < k or k >= self.max_candidates:
                return _reading_order(found)
            k = min(k * 2, self.max_candidates)

    def _notice(self, notice_id: str, lookup: AgencyLookup) -> Notice | None:
        """The notice, or None when it is gone (deleted since the index was read) or not in
        the place typed after the agency."""
        try:
            notice = self.notice_of(notice_id)
        except AssistantError:
            return None
        return notice if self._in_place(notice, lookup) else None

    def _covered_by(
        self, refs: Sequence[AssignmentRef], shown: Sequence[tuple[int, int]] | None
    ) -> tuple[list[tuple[int, int]], set[str]]:
        """What the records ``refs`` (of one notice) cover: their quote spans (or the spans
        ``shown`` for them), their mention spans, and the headings they sit under (as
        ``match_key``)."""
        spans: list[tuple[int, int]] = list(shown or [])
        headings: set[str] = set()
        for row in self.store.assignment_rows(refs):
            item = row.assignment
            if shown is None:
                spans.append((item.start, item.end))
            if item.agency.end > item.agency.start:
                spans.append((item.agency.start, item.agency.end))
            headings.update(match_key(label) for label in item.section_path)
        headings.discard("")
        return spans, headings

    @staticmethod
    def _in_place(notice: Notice, lookup: AgencyLookup) -> bool:
        """The place typed after the agency ('phòng TC-KH thị xã Bến Vân'): the notice names
        it; a place word alone ('… tỉnh'): the notice is of that level."""
        place = lookup.place
        if place is None:
            return True
        if place.name:
            return text_mentions_locality(notice.text, place.name)
        return place.level is None or notice.level is place.level


def in_period(since: dt.date | None, until: dt.date | None) -> Callable[[Passage], bool] | None:
    """Keeps the passages of notices met (else issued) within [since, until], the period the
    records are read with; None when no period is asked."""
    if since is None and until is None:
        return None
    low = since.isoformat() if since is not None else ""
    high = until.isoformat() if until is not None else "9999"

    def allowed(passage: Passage) -> bool:
        when = notice_date(passage.notice)
        return when is not None and low <= when <= high

    return allowed


def _reading_order(passages: list[Passage]) -> list[Passage]:
    """Notices in the order retrieval first met them, passages in the order of the text."""
    rank: dict[str, int] = {}
    for passage in passages:
        rank.setdefault(passage.notice.id, len(rank))
    return sorted(passages, key=lambda p: (rank[p.notice.id], p.start))


def passage_json(passage: Passage) -> dict[str, Any]:
    """A related passage as the API gives it: where it is and its exact text."""
    notice = passage.notice
    return {
        "notice_id": notice.id,
        "source": notice.source,
        "notice_title": notice_title(notice),
        "meeting_date": notice_date(notice),
        "section": passage.section,
        "quote": passage.text,
        "start": passage.start,
        "end": passage.end,
    }
