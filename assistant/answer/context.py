"""What every answer route shares: the stores it reads, the notices it decodes (cached), the
question's constraints checked on a notice, a passage or the notices' columns, and the composing
of cited lines into an ``AnswerResult``.

A route module (``assignments``, ``deadlines``, ``notice_facts``, ``open_questions``) gets one
``AnswerContext`` and returns an ``AnswerResult``; ``service.AnswerService`` only dispatches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Unpack

from assistant.agencies import Gazetteer
from assistant.agency_lookup import AgencyLookup, find_agency
from assistant.answer.citations import (
    AnswerResult,
    CitationBook,
    Passage,
    notice_date,
    notice_title,
    words,
)
from assistant.answer.extractive import (
    Line,
    compose,
    held_on,
    in_period,
    mentions_locality,
    text_mentions_locality,
    title_names_period,
)
from assistant.answer.places import places_in_titles
from assistant.answer.related import RelatedFinder, Retriever
from assistant.answer.route import RoutedQuestion, number_matches, periods_named
from assistant.chunk import date_int, notice_metadata
from assistant.model import Notice
from assistant.prompts import REFUSAL, RELATED_HEADING, RELATED_NOTE
from assistant.retrieve.filters import Filters
from assistant.settings import Settings
from assistant.store import AssignmentFilters, AssignmentRef, NoticeSummary, Store
from assistant.text import collapse_spaces, match_key
from assistant.tracking import TaskStatus as TrackedStatus
from assistant.tracking import TaskTracker

# Notices kept decoded between questions (without their sections and assignments): enough for
# the notices of a few answers, bounded so a long-running server does not end up holding the
# whole store.
NOTICE_CACHE_SIZE = 256
# Lines of a chat answer that lists records (assignments, deadlines, notices); the complete
# lists are the record views of the web page and the API.
CHAT_LINES = 30


class AnswerContext:
    """The stores and settings an answer reads, with the notice cache shared by all routes."""

    def __init__(
        self, store: Store, gazetteer: Gazetteer, retriever: Retriever | None, settings: Settings
    ) -> None:
        self.store = store
        self.gazetteer = gazetteer
        self.retriever = retriever
        self.settings = settings
        self._notice_cache: OrderedDict[str, Notice] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._places: tuple[str, list[str]] | None = None
        self._tracker: TaskTracker | None = None

    def task_statuses(self) -> dict[tuple[str, int], TrackedStatus]:
        """The follow-up status of every task someone has updated, by (notice id, ord)."""
        if self._tracker is None:
            self._tracker = TaskTracker(self.store)
        states = self._tracker.states_by_row_key()
        if not states:
            return {}
        return {(r.notice_id, r.ord): states[r.row_key].status for r in self._tracker.task_refs() if r.row_key in states}

    def places(self) -> list[str]:
        """The places of the stored notices (issuers and titles), kept per store version."""
        version = self.store.fingerprint()
        cached = self._places
        if cached is None or cached[0] != version:
            summaries = self.store.summaries()
            cached = (version, places_in_titles([t for s in summaries for t in (s.issuer, s.title)]))
            self._places = cached
        return cached[1]

    def notice(self, notice_id: str) -> Notice:
        with self._cache_lock:
            cached = self._notice_cache.get(notice_id)
            if cached is not None:
                self._notice_cache.move_to_end(notice_id)
                return cached
        # Answers quote and cite a notice's header and text, never its sections or
        # assignments (records come from the store's rows): a cached notice goes without them.
        notice = self.store.get(notice_id, with_records=False)
        self.remember(notice_id, notice)
        return notice

    def remember(self, notice_id: str, notice: Notice) -> None:
        with self._cache_lock:
            self._notice_cache[notice_id] = notice
            self._notice_cache.move_to_end(notice_id)
            while len(self._notice_cache) > NOTICE_CACHE_SIZE:
                self._notice_cache.popitem(last=False)

    def refuse(self, routed: RoutedQuestion, closest: Sequence[Notice] = ()) -> AnswerResult:
        return AnswerResult(
            question=routed.question,
            answer=REFUSAL,
            refused=True,
            route=routed.route.value,
            closest=[notice_ref(n) for n in closest[:3]],
        )

    def allowed(self, notice: Notice, routed: RoutedQuestion, filters: Filters | None) -> bool:
        """Whether a notice meets the question's constraints: the definition that
        ``_allowed_ids`` computes from the columns (tests hold them equal)."""
        if filters is not None and not filters.is_empty() and not filters.matches(notice_metadata(notice)):
            return False
        if routed.number and not number_matches(notice.number.text if notice.number else None, routed.number):
            return False
        if routed.locality and not mentions_locality(notice, routed.locality):
            return False
        if routed.meeting_on and not held_on(notice, routed.meeting_on):
            return False
        if routed.since or routed.until:
            return in_period(notice, routed.since, routed.until) or title_names_period(notice, routed.since, routed.until)
        return True

    def allowed_ids(
        self, summaries: Sequence[NoticeSummary], routed: RoutedQuestion, filters: Filters | None, dates: bool = True
    ) -> list[str]:
        """``_allowed`` decided on the notices' columns (and, for a place, their text alone),
        so that only the notices an answer shows are decoded. Keeps the order given."""
        kept = [s for s in summaries if summary_allowed(s, routed, filters, dates)]
        if routed.locality and kept:
            # The store's words index answers the place for every notice at once; without it
            # (older SQLite, notices stored by an older version) the texts are read.
            named = self.store.ids_naming(" ".join(words(routed.locality)))
            if named is not None:
                return [s.id for s in kept if s.id in named]
            near = self.store.ids_with_text_like([s.id for s in kept], locality_like(routed.locality))
            kept = [s for s in kept if s.id in near]
            texts = self.store.texts([s.id for s in kept])
            kept = [s for s in kept if text_mentions_locality(texts.get(s.id, ""), routed.locality)]
        return [s.id for s in kept]

    def lookup(self, routed: RoutedQuestion, **filters: Unpack[AssignmentFilters]) -> AgencyLookup | None:
        """The agency the question names, read by the one agency look-up (``find_agency``) from
        the words as typed; None when the question names no agency."""
        query = routed.agency_text or routed.agency
        if not query:
            return None
        return find_agency(self.store, self.gazetteer, query, **filters)

    def allowed_refs(
        self, refs: Sequence[AssignmentRef], routed: RoutedQuestion, filters: Filters | None, dates: bool = True
    ) -> tuple[list[AssignmentRef], dict[str, NoticeSummary]]:
        """Those of ``refs`` (newest first) whose notice meets the question's constraints."""
        summaries = self.store.summaries_of({r.notice_id for r in refs})
        order = [summaries[i] for i in dict.fromkeys(r.notice_id for r in refs) if i in summaries]
        kept = set(self.allowed_ids(order, routed, filters, dates))
        return [r for r in refs if r.notice_id in kept], {i: s for i, s in summaries.items() if i in kept}

    def not_found(
        self, routed: RoutedQuestion, lookup: AgencyLookup, related: Sequence[Passage] = ()
    ) -> AnswerResult:
        """No agency matched what was typed: say so, with the closest agencies in the store
        (and the passages that name what was typed, when there are any)."""
        message = lookup.message() or REFUSAL
        if related:
            return self.composed(routed, [], message, related=related, refused=True)
        return AnswerResult(question=routed.question, answer=message, refused=True, route=routed.route.value)

    def related(
        self, lookup: AgencyLookup, routed: RoutedQuestion, filters: Filters | None, lines: Sequence[Line] = ()
    ) -> list[Passage]:
        """Retrieved passages naming the agency that none of its records quotes, within the
        question's filters, place and period (``assistant.answer.related``). A record shown in
        ``lines`` covers what its line quotes (the sentences of its task), not its whole span."""
        finder = RelatedFinder(
            self.store, self.gazetteer, self.retriever, self.notice,
            self.settings.retrieval.related_passages, self.settings.retrieval.related_candidates,
        )
        quoted: dict[str, list[tuple[int, int]]] = {}
        for line in lines:
            quoted.setdefault(line.notice.id, []).append((line.start, line.end))
        return finder.find(lookup, filters, allowed=lambda p: self.passage_allowed(p, routed), quoted=quoted)

    def composed(
        self,
        routed: RoutedQuestion,
        lines: list[Line],
        intro: str = "",
        note: str = "",
        related: Sequence[Passage] = (),
        refused: bool = False,
    ) -> AnswerResult:
        book = CitationBook()
        text = compose(lines, book, intro)
        if note:
            text = f"{text}\n\n{note}"
        numbers: list[int] = []
        if related:
            before = len(book.citations)
            block = compose(
                [Line(p.notice, p.start, p.end, p.section) for p in related], book,
                f"{RELATED_HEADING} ({RELATED_NOTE}):",
            )
            numbers = [c.n for c in book.citations[before:]]
            text = f"{text}\n\n{block}" if text else block
        return AnswerResult(
            question=routed.question, answer=text, refused=refused, route=routed.route.value,
            citations=book.citations, related_citations=numbers,
        )

    def passage_allowed(self, passage: Passage, routed: RoutedQuestion) -> bool:
        notice = passage.notice
        if routed.number and not number_matches(notice.number.text if notice.number else None, routed.number):
            return False
        if routed.locality and not mentions_locality(notice, routed.locality):
            return False
        if routed.meeting_on and not held_on(notice, routed.meeting_on):
            return False
        if routed.since or routed.until:
            if in_period(notice, routed.since, routed.until) or title_names_period(notice, routed.since, routed.until):
                return True
            # 'nhiệm vụ năm 2024' may be set in a notice of December 2023: the passage itself
            # must then name the year.
            years = {d.year for d in (routed.since, routed.until) if d}
            return len(years) == 1 and str(years.pop()) in passage.text
        return True


# Letters written the same with or without diacritics in Vietnamese (every consonant but d/đ).
_PLAIN_LETTERS = frozenset("bcfghjklmnpqrstvwxz0123456789")
# Characters between two syllables of a place name that the first cut allows (a space, '-',
# a line break, "\r\n", " - "); a name split by more is not found.
_MAX_GAP = 3


def locality_like(locality: str) -> list[str]:
    """``LIKE`` patterns one of which every text naming ``locality`` matches: its plain
    consonants as typed and one character wherever a vowel or d (which may carry a diacritic)
    stands, syllables 1 to ``_MAX_GAP`` characters apart. A cheap first cut inside SQLite;
    the exact check follows."""
    syllables = words(locality)
    if not syllables:
        return []
    parts = ["".join(ch if ch in _PLAIN_LETTERS else "_" for ch in syllable) for syllable in syllables]
    return ["%" + ("_" * gap).join(parts) + "%" for gap in range(1, _MAX_GAP + 1)]


def summary_date(summary: NoticeSummary) -> str | None:
    return summary.meeting_date or summary.issue_date


def _summary_metadata(summary: NoticeSummary) -> dict[str, str | int]:
    """``notice_metadata`` from the columns (what ``Filters.matches`` reads)."""
    meta: dict[str, str | int] = {
        "notice_id": summary.id, "source": summary.source, "kind": summary.kind, "level": summary.level,
    }
    if summary.issuer is not None:
        meta["issuer"] = collapse_spaces(summary.issuer)
        meta["issuer_key"] = match_key(summary.issuer)
    if summary.number is not None:
        meta["number"] = collapse_spaces(summary.number)
    for name, value in (("meeting_date", summary.meeting_date), ("issue_date", summary.issue_date)):
        if value is not None:
            meta[name] = value
            meta[f"{name}_int"] = date_int(date.fromisoformat(value))
    return meta


def summary_names_period(summary: NoticeSummary, since: date | None, until: date | None) -> bool:
    """``title_names_period`` on the title column."""
    if summary.title is None or (since is None and until is None):
        return False
    return any(
        (until is None or first <= until) and (since is None or last >= since)
        for first, last in _title_periods(summary.title, summary_date(summary))
    )


@lru_cache(maxsize=32768)
def _title_periods(title: str, when: str | None) -> tuple[tuple[date, date], ...]:
    """``periods_named`` of a title column, kept between questions: a question naming a
    period reads the title of every stored notice."""
    return tuple(periods_named(title, date.fromisoformat(when) if when else None))


def summary_allowed(summary: NoticeSummary, routed: RoutedQuestion, filters: Filters | None, dates: bool) -> bool:
    """``AnswerService._allowed`` without the place (which needs the text)."""
    if filters is not None and not filters.is_empty() and not filters.matches(_summary_metadata(summary)):
        return False
    if routed.number and not number_matches(summary.number, routed.number):
        return False
    days = [d for d in (summary.meeting_date, summary.issue_date) if d is not None]
    if routed.meeting_on and routed.meeting_on.isoformat() not in days:
        return False
    if dates and (routed.since or routed.until):
        since = routed.since.isoformat() if routed.since else ""
        until = routed.until.isoformat() if routed.until else "9999"
        return any(since <= d <= until for d in days) or summary_names_period(summary, routed.since, routed.until)
    return True


def notice_ref(notice: Notice) -> dict[str, object]:
    return {
        "notice_id": notice.id,
        "source": notice.source,
        "notice_title": notice_title(notice),
        "meeting_date": notice_date(notice),
    }
