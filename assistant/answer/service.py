"""``AnswerService``: route a question, gather what answers it, compose a cited answer.

Records answer what records hold (every assignment of an agency, every deadline in a range,
who chaired / signed / when); retrieval answers the rest, extractively by default or through an
LLM when one is configured. Whatever the path, each citation is checked against the notice text
before it is returned, and a question the notices do not answer gets ``REFUSAL``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Unpack

from assistant.agencies import Gazetteer
from assistant.agency_lookup import AgencyLookup, find_agency
from assistant.answer import llm
from assistant.answer.citations import (
    AnswerResult,
    CitationBook,
    Passage,
    StreamEvent,
    locate_quote,
    notice_date,
    notice_title,
    sentence_spans,
    verify_citation,
    words,
)
from assistant.answer.conversation import ConversationStore
from assistant.answer.extractive import (
    Line,
    compose,
    content_words,
    held_on,
    in_period,
    mentions_locality,
    pick_sentences,
    text_mentions_locality,
    title_names_period,
    topic_score,
    topic_upper_bound,
)
from assistant.answer.related import RelatedFinder, Retriever
from assistant.answer.route import (
    MetaField,
    Route,
    RoutedQuestion,
    constraint_free,
    periods_named,
    route_question,
)
from assistant.chunk import chunk_notice, date_int, notice_metadata
from assistant.model import Assignment, DocumentKind, Notice, Role
from assistant.prompts import REFUSAL, RELATED_HEADING, RELATED_NOTE
from assistant.retrieve.filters import Filters
from assistant.settings import Settings
from assistant.store import AssignmentFilters, AssignmentRef, AssignmentRow, NoticeSummary, Store
from assistant.text import collapse_spaces, match_key

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)

CONVERSATIONS_FILE = "conversations.sqlite3"
# Notices kept decoded between questions (without their sections and assignments): enough for
# the notices of a few answers, bounded so a long-running server does not end up holding the
# whole store.
NOTICE_CACHE_SIZE = 256
# Lines of a chat answer that lists records (assignments, deadlines, notices); the complete
# lists are `assistant assignments`, `assistant deadlines`, `assistant notices` and the API.
CHAT_LINES = 30
_ROLE_LABEL = {
    Role.LEAD: "chủ trì", Role.COORDINATE: "phối hợp", Role.ASSIGNED: "thực hiện", Role.REQUEST: "đề nghị"
}
# Words of metadata questions that do not say which meeting is meant.
_META_WORDS = frozenset(
    ["chu", "tri", "toa", "ky", "ten", "nguoi", "ngay", "thang", "nam", "so", "hieu", "ky", "hieu", "may", "nhung", "danh", "sach", "liet", "ke", "dien", "ra", "to", "chuc", "ban", "hanh", "bao", "gio", "hom"]
)


@dataclass
class _Lines:
    """Answer lines being gathered: by quoted passage (notice, start, end), in first-seen
    order, with the labels of the rows sharing each passage."""

    lines: dict[tuple[str, int, int], Line] = field(default_factory=dict)
    who: dict[tuple[str, int, int], list[str]] = field(default_factory=dict)
    notices: set[str] = field(default_factory=set)

    def done(self) -> list[Line]:
        for key, line in self.lines.items():
            line.prefix = f"[{'; '.join(self.who[key])}] "
        return list(self.lines.values())


@dataclass
class _Plan:
    """What answering needs: a finished result, or passages for the LLM."""

    routed: RoutedQuestion
    result: AnswerResult | None = None
    passages: list[Passage] = field(default_factory=list)
    messages: list[BaseMessage] = field(default_factory=list)
    closest: list[dict[str, object]] = field(default_factory=list)


class AnswerService:
    def __init__(
        self,
        store: Store,
        gazetteer: Gazetteer,
        retriever: Retriever | None,
        settings: Settings,
        chat_model: BaseChatModel | None = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        self.store = store
        self.gazetteer = gazetteer
        self.retriever = retriever
        self.settings = settings
        self.chat_model = chat_model
        self.conversations = conversations or ConversationStore(settings.index / CONVERSATIONS_FILE)
        self._notice_cache: OrderedDict[str, Notice] = OrderedDict()
        self._cache_lock = threading.Lock()

    # --- public ---------------------------------------------------------------------------

    def ask(
        self, question: str, conversation_id: str | None = None, filters: Filters | None = None
    ) -> AnswerResult:
        plan = self._plan(question, conversation_id, filters)
        if plan.result is None:
            assert self.chat_model is not None
            raw = llm.generate(self.chat_model, plan.messages)
            plan.result = self._verified(plan, raw)
        return self._finish(plan, conversation_id)

    def ask_stream(
        self, question: str, conversation_id: str | None = None, filters: Filters | None = None
    ) -> Iterator[StreamEvent]:
        """Verified text as the model's lines complete, then one ``final`` event with the
        verified answer (its deltas never show a claim that verification removes)."""
        plan = self._plan(question, conversation_id, filters)
        if plan.result is None:
            assert self.chat_model is not None
            parts: list[str] = []
            shown = llm.VerifiedStream(plan.passages)  # only verified sentences are streamed
            for delta in llm.stream(self.chat_model, plan.messages):
                parts.append(delta)
                if verified := shown.feed(delta):
                    yield StreamEvent(type="delta", text=verified)
            if verified := shown.close():
                yield StreamEvent(type="delta", text=verified)
            plan.result = self._verified(plan, "".join(parts))
        else:
            yield StreamEvent(type="delta", text=plan.result.answer)
        result = self._finish(plan, conversation_id)
        yield StreamEvent(type="final", text=result.answer, result=result)

    # --- planning -------------------------------------------------------------------------

    def _plan(self, question: str, conversation_id: str | None, filters: Filters | None) -> _Plan:
        previous = None
        if conversation_id:
            turn = self.conversations.last_turn(conversation_id)
            previous = turn.routed if turn else None
        routed = route_question(question, self.gazetteer, previous)
        plan = _Plan(routed=routed)
        if routed.route is Route.ASSIGNMENTS:
            plan.result = self._assignments(routed, filters)
        elif routed.route is Route.DEADLINES:
            plan.result = self._deadlines(routed, filters)
        elif routed.route is Route.METADATA:
            plan.result = self._metadata(routed, filters)
        else:
            self._retrieval(plan, filters)
        return plan

    def _finish(self, plan: _Plan, conversation_id: str | None) -> AnswerResult:
        result = plan.result
        assert result is not None
        for citation in result.citations:
            # A citation that fails here is a bug upstream; never show it as cited.
            if not verify_citation(citation, self._notice(citation.notice_id)):
                raise AssertionError(f"unverifiable citation {citation.n} in {citation.notice_id}")
        result = result.model_copy(update={"question": plan.routed.question, "conversation_id": conversation_id})
        if conversation_id:
            self.conversations.append(conversation_id, plan.routed, result.to_json())
        return result

    def _notice(self, notice_id: str) -> Notice:
        with self._cache_lock:
            cached = self._notice_cache.get(notice_id)
            if cached is not None:
                self._notice_cache.move_to_end(notice_id)
                return cached
        # Answers quote and cite a notice's header and text, never its sections or
        # assignments (records come from the store's rows): a cached notice goes without them.
        notice = self.store.get(notice_id, with_records=False)
        self._remember(notice_id, notice)
        return notice

    def _remember(self, notice_id: str, notice: Notice) -> None:
        with self._cache_lock:
            self._notice_cache[notice_id] = notice
            self._notice_cache.move_to_end(notice_id)
            while len(self._notice_cache) > NOTICE_CACHE_SIZE:
                self._notice_cache.popitem(last=False)

    def _refuse(self, routed: RoutedQuestion, closest: Sequence[Notice] = ()) -> AnswerResult:
        return AnswerResult(
            question=routed.question,
            answer=REFUSAL,
            refused=True,
            route=routed.route.value,
            closest=[_notice_ref(n) for n in closest[:3]],
        )

    def _allowed(self, notice: Notice, routed: RoutedQuestion, filters: Filters | None) -> bool:
        """Whether a notice meets the question's constraints: the definition that
        ``_allowed_ids`` computes from the columns (tests hold them equal)."""
        if filters is not None and not filters.is_empty() and not filters.matches(notice_metadata(notice)):
            return False
        if routed.locality and not mentions_locality(notice, routed.locality):
            return False
        if routed.meeting_on and not held_on(notice, routed.meeting_on):
            return False
        if routed.since or routed.until:
            return in_period(notice, routed.since, routed.until) or title_names_period(notice, routed.since, routed.until)
        return True

    def _allowed_ids(
        self, summaries: Sequence[NoticeSummary], routed: RoutedQuestion, filters: Filters | None, dates: bool = True
    ) -> list[str]:
        """``_allowed`` decided on the notices' columns (and, for a place, their text alone),
        so that only the notices an answer shows are decoded. Keeps the order given."""
        kept = [s for s in summaries if _summary_allowed(s, routed, filters, dates)]
        if routed.locality and kept:
            # The store's words index answers the place for every notice at once; without it
            # (older SQLite, notices stored by an older version) the texts are read.
            named = self.store.ids_naming(" ".join(words(routed.locality)))
            if named is not None:
                return [s.id for s in kept if s.id in named]
            near = self.store.ids_with_text_like([s.id for s in kept], _locality_like(routed.locality))
            kept = [s for s in kept if s.id in near]
            texts = self.store.texts([s.id for s in kept])
            kept = [s for s in kept if text_mentions_locality(texts.get(s.id, ""), routed.locality)]
        return [s.id for s in kept]

    # --- records ------------------------------------------------------------------------------

    def _lookup(self, routed: RoutedQuestion, **filters: Unpack[AssignmentFilters]) -> AgencyLookup | None:
        """The agency the question names, read by the one agency look-up (``find_agency``) from
        the words as typed; None when the question names no agency."""
        query = routed.agency_text or routed.agency
        if not query:
            return None
        return find_agency(self.store, self.gazetteer, query, **filters)

    def _allowed_refs(
        self, refs: Sequence[AssignmentRef], routed: RoutedQuestion, filters: Filters | None, dates: bool = True
    ) -> tuple[list[AssignmentRef], dict[str, NoticeSummary]]:
        """Those of ``refs`` (newest first) whose notice meets the question's constraints."""
        summaries = self.store.summaries_of({r.notice_id for r in refs})
        order = [summaries[i] for i in dict.fromkeys(r.notice_id for r in refs) if i in summaries]
        kept = set(self._allowed_ids(order, routed, filters, dates))
        return [r for r in refs if r.notice_id in kept], {i: s for i, s in summaries.items() if i in kept}

    def _not_found(
        self, routed: RoutedQuestion, lookup: AgencyLookup, related: Sequence[Passage] = ()
    ) -> AnswerResult:
        """No agency matched what was typed: say so, with the closest agencies in the store
        (and the passages that name what was typed, when there are any)."""
        message = lookup.message() or REFUSAL
        if related:
            return self._composed(routed, [], message, related=related, refused=True)
        return AnswerResult(question=routed.question, answer=message, refused=True, route=routed.route.value)

    def _related(
        self, lookup: AgencyLookup, routed: RoutedQuestion, filters: Filters | None, lines: Sequence[Line] = ()
    ) -> list[Passage]:
        """Retrieved passages naming the agency that none of its records quotes, within the
        question's filters, place and period (``assistant.answer.related``). A record shown in
        ``lines`` covers what its line quotes (the sentences of its task), not its whole span."""
        finder = RelatedFinder(
            self.store, self.gazetteer, self.retriever, self._notice,
            self.settings.retrieval.related_passages, self.settings.retrieval.related_candidates,
        )
        quoted: dict[str, list[tuple[int, int]]] = {}
        for line in lines:
            quoted.setdefault(line.notice.id, []).append((line.start, line.end))
        return finder.find(lookup, filters, allowed=lambda p: self._passage_allowed(p, routed), quoted=quoted)

    def _assignments(self, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
        # The question's constraints are all on the notice, and only the newest notices'
        # rows are decoded and shown. After the records, set apart: the passages that name the
        # agency but that no record quotes, so that a task the extraction missed is still seen.
        lookup = self._lookup(routed)
        if lookup is None:
            return self._refuse(routed)
        if not lookup.matched:
            return self._not_found(routed, lookup, self._related(lookup, routed, filters))
        refs, _ = self._allowed_refs(lookup.refs, routed, filters)
        if not refs:
            related = self._related(lookup, routed, filters)
            if related:
                message = (lookup.message() if lookup.total == 0 else None) or REFUSAL
                return self._composed(routed, [], message, related=related, refused=True)
            return self._refuse(routed)
        by_notice: dict[str, list[AssignmentRef]] = {}
        for ref in refs:
            by_notice.setdefault(ref.notice_id, []).append(ref)
        name = lookup.label()
        intro = f"{name} được giao {len(refs)} nhiệm vụ trong {len(by_notice)} thông báo:"
        level_note = lookup.level_note()
        if level_note:
            intro = f"{level_note}\n\n{intro}"
        lines: list[Line] = []
        shown = 0
        for notice_refs in by_notice.values():
            if len(lines) >= CHAT_LINES:
                break
            # A notice's rows at a time: rows sharing a passage (chủ trì + phối hợp) stay on one line.
            lines.extend(self._assignment_lines(self.store.assignment_rows(notice_refs), with_agency=bool(lookup.stored)))
            shown += len(notice_refs)
        note = ""
        if shown < len(refs):
            note = (
                f"Trên đây là {len(lines)} đoạn trích mới nhất ({shown}/{len(refs)} nhiệm vụ). "
                f'Xem đủ {len(refs)} nhiệm vụ: lệnh `assistant assignments "{lookup.query}"` hoặc trang cơ quan '
                "trên giao diện web."
            )
        return self._composed(routed, lines, intro, note, related=self._related(lookup, routed, filters, lines))

    def _assignment_lines(self, rows: Sequence[AssignmentRow], with_agency: bool) -> list[Line]:
        """One line per quoted passage; agencies sharing it (chủ trì + phối hợp) on one line."""
        lines = _Lines()
        for row in rows:
            self._add_line(lines, row, with_agency)
        return lines.done()

    def _first_lines(self, refs: Sequence[AssignmentRef], with_agency: bool, limit: int) -> tuple[list[Line], bool]:
        """``_assignment_lines`` of the rows of ``refs`` cut to the first ``limit`` lines, and
        whether any line was cut. A row of a notice that none of those lines quotes can only
        start another line, so its record and notice are never decoded."""
        lines = _Lines()
        cut = False
        for ref in refs:
            if len(lines.lines) >= limit and ref.notice_id not in lines.notices:
                cut = True
                continue
            for row in self.store.assignment_rows([ref]):
                cut = not self._add_line(lines, row, with_agency, room=len(lines.lines) < limit) or cut
        return lines.done(), cut

    def _add_line(self, lines: _Lines, row: AssignmentRow, with_agency: bool, room: bool = True) -> bool:
        """Adds ``row`` to the line quoting its passage, or as a new line if there is
        ``room``; False when the row needed a new line and there was none."""
        item: Assignment = row.assignment
        notice = self._notice(row.notice_id)
        start, end = _task_span(notice, item)
        key = (notice.id, start, end)
        role = _ROLE_LABEL.get(item.role, "thực hiện")
        label = f"{item.agency.canonical or item.agency.text} {role}" if with_agency else role
        if key not in lines.lines:
            if not room:
                return False
            suffix = f" — hạn: {item.deadline.text}" if item.deadline else ""
            lines.lines[key] = Line(notice, start, end, " › ".join(item.section_path), "", suffix)
            lines.who[key] = []
            lines.notices.add(notice.id)
        if label not in lines.who[key]:
            lines.who[key].append(label)
        return True

    def _deadlines(self, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
        bounds: AssignmentFilters = {
            "with_deadline": True, "due_after": routed.due_after, "due_before": routed.due_before
        }
        lookup = self._lookup(routed, **bounds)
        if lookup is not None and not lookup.matched:
            return self._not_found(routed, lookup)
        found = lookup.refs if lookup is not None else self.store.assignment_refs(**bounds)
        refs, summaries = self._allowed_refs(found, routed, filters, dates=False)
        if routed.due_after or routed.due_before or routed.due_day_month:
            refs = [r for r in refs if r.deadline_date is not None]
        if routed.due_day_month:
            day_month = routed.due_day_month
            # One bound per notice, compared as ISO text (the order of the dates).
            per_notice: dict[str, str] = {}

            def due_by_bound(ref: AssignmentRef) -> bool:
                bound = per_notice.get(ref.notice_id)
                if bound is None:
                    bound = per_notice[ref.notice_id] = _bound_after_meeting(summaries[ref.notice_id], day_month).isoformat()
                return ref.deadline_date is None or ref.deadline_date <= bound

            refs = [r for r in refs if due_by_bound(r)]
        if not refs:
            return self._refuse(routed)
        # Stable: newest notice first among equal deadlines, as the store returns them.
        refs.sort(key=lambda r: (r.deadline_date is None, r.deadline_date or ""))
        # Rows sharing a passage (chủ trì + phối hợp) make one line: a prefix of a few rows per
        # line holds the first lines; only those rows are decoded.
        head = refs[: CHAT_LINES * 4]
        lines, cut = self._first_lines(head, with_agency=True, limit=CHAT_LINES)
        if len(head) == len(refs) and not cut:
            return self._composed(routed, lines, f"Có {len(lines)} nhiệm vụ có thời hạn phù hợp:")
        intro = (
            f"Có {len(refs)} lượt giao nhiệm vụ có thời hạn phù hợp (mỗi cơ quan được giao tính một lượt);"
            f" dưới đây là {len(lines)} nhiệm vụ có hạn sớm nhất:"
        )
        note = (
            "Xem đủ danh sách: lệnh `assistant deadlines` hoặc trang thời hạn trên giao diện web."
        )
        return self._composed(routed, lines, intro, note)

    def _metadata(self, routed: RoutedQuestion, filters: Filters | None) -> AnswerResult:
        # Candidates from the notices' columns (a named day through its index); only the
        # notices that can be shown are decoded.
        summaries = (
            self.store.summaries_held_on(routed.meeting_on) if routed.meeting_on else self.store.summaries()
        )
        by_id = {s.id: s for s in summaries}
        ids = self._allowed_ids(summaries, routed, filters)
        if routed.since or routed.until:
            # A meeting is named by the period in its title more surely than by its date.
            named = [i for i in ids if _title_names_period(by_id[i], routed.since, routed.until)]
            ids = named or ids
        if routed.meta_field is not MetaField.NOTICES:
            ids = [i for i in ids if by_id[i].kind == DocumentKind.NOTICE.value] or ids
            topic = [w for w in content_words(routed.effective) if w not in _META_WORDS and not w.isdigit()]
            if routed.locality:
                topic = [w for w in topic if w not in content_words(routed.locality)]
            if topic and len(ids) > CHAT_LINES:
                best_ids = self._topic_best(ids, topic)
                # No notice is named well enough: every candidate stays, as below.
                ids, topic = (best_ids, topic) if best_ids is not None else (ids, [])
            if topic:
                notices = [self._notice(i) for i in ids]
                scores = {n.id: topic_score(n, topic) for n in notices}
                best = max(scores.values(), default=0.0)
                if best >= 0.5:
                    ids = [n.id for n in notices if scores[n.id] == best]
        total = len(ids)
        # Only the notices shown are decoded (a long list is cut, and says so).
        notices = [self._notice(i) for i in ids[:CHAT_LINES]]
        lines: list[Line] = []
        for notice in notices:
            line = _meta_line(notice, routed.meta_field or MetaField.NOTICES)
            if line is not None:
                lines.append(line)
        if not lines:
            return self._refuse(routed)
        intro = ""
        note = ""
        if routed.meta_field is MetaField.NOTICES:
            intro = f"Có {total if total > CHAT_LINES else len(lines)} thông báo đã lưu:"
        if total > CHAT_LINES:
            note = (
                f"Trên đây là {len(lines)} thông báo mới nhất trong {total}. Xem đủ danh sách: lệnh "
                "`assistant notices` hoặc trang thông báo trên giao diện web."
            )
        return self._composed(routed, lines, intro, note)

    def _topic_best(self, ids: list[str], topic: list[str]) -> list[str] | None:
        """The notices with the best ``topic_score`` (at least 0.5), in the order given, or
        ``None`` when none reaches it. Scores an upper bound on the raw title and opening of
        every notice, then decodes notices in decreasing bound only while they can still tie
        the best exact score."""
        heads = self.store.heads(ids)
        bounds = {i: topic_upper_bound(heads.get(i, ""), topic) for i in ids}
        best = 0.0
        exact: dict[str, float] = {}
        for notice_id in sorted(ids, key=lambda i: -bounds[i]):
            if bounds[notice_id] < max(best, 0.5):
                break
            score = topic_score(self._notice(notice_id), topic)
            exact[notice_id] = score
            best = max(best, score)
        if best < 0.5:
            return None
        return [i for i in ids if exact.get(i) == best]

    def _composed(
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

    # --- retrieval --------------------------------------------------------------------------------

    def _candidates(self, routed: RoutedQuestion, filters: Filters | None) -> list[Passage]:
        k = max(self.settings.retrieval.top_k * 2, 12)
        # A retriever may say it is unavailable (index could not be opened): scan instead.
        if self.retriever is not None and getattr(self.retriever, "available", True):
            scored = self.retriever.search(routed.effective, k=k, filters=filters)
            return [
                Passage(self._notice(s.chunk.notice_id), s.chunk.start, s.chunk.end, " › ".join(s.chunk.heading_path), s.score)
                for s in scored
            ]
        # No index (not built yet): scan the stored notices' passages; fine for a small store.
        passages: list[Passage] = []
        for notice in self.store.notices():
            if filters is not None and not filters.is_empty() and not filters.matches(notice_metadata(notice)):
                continue
            self._remember(notice.id, notice)
            for chunk in chunk_notice(notice):
                passages.append(Passage(notice, chunk.start, chunk.end, " › ".join(chunk.heading_path)))
        return passages

    def _retrieval(self, plan: _Plan, filters: Filters | None) -> None:
        routed = plan.routed
        candidates = self._candidates(routed, filters)
        closest = list({p.notice.id: p.notice for p in candidates}.values())
        passages = [p for p in candidates if self._passage_allowed(p, routed)]
        if routed.since or routed.until:
            # Notices whose title names the period first (stable: retrieval order otherwise).
            passages.sort(key=lambda p: not title_names_period(p.notice, routed.since, routed.until))
        if not passages:
            plan.result = self._refuse(routed, closest)
            return
        # The filters above already hold the question's dates and place.
        topic = constraint_free(routed.effective)
        if self.chat_model is not None:
            # The model gets the best passages in retrieval order (or, without a retriever,
            # the passages holding the best sentences) — and nothing at all when no sentence
            # supports the question: it is refused without asking the model.
            picked = pick_sentences(topic, passages, limit=self.settings.retrieval.top_k)
            if not picked:
                plan.result = self._refuse(routed, closest)
                return
            if self.retriever is None:
                passages = list({id(p.passage): p.passage for p in picked}.values())
            plan.passages = passages[: self.settings.retrieval.top_k]
            plan.messages = llm.build_messages(routed.effective, plan.passages)
            plan.closest = [_notice_ref(n) for n in closest[:3]]
            return
        picked = pick_sentences(topic, passages)
        if not picked:
            plan.result = self._refuse(routed, closest)
            return
        lines = [Line(p.passage.notice, p.start, p.end, p.passage.section) for p in picked]
        plan.result = self._composed(routed, lines)

    def _passage_allowed(self, passage: Passage, routed: RoutedQuestion) -> bool:
        notice = passage.notice
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

    def _verified(self, plan: _Plan, raw: str) -> AnswerResult:
        checked = llm.verify_answer(raw, plan.passages)
        if checked.rejected:
            log.info("removed from LLM answer: %s", "; ".join(checked.rejected))
        return AnswerResult(
            question=plan.routed.question,
            answer=checked.answer,
            refused=checked.refused,
            route=plan.routed.route.value,
            citations=checked.citations,
            closest=plan.closest if checked.refused else [],
            dropped_claims=checked.dropped,
        )


def _task_span(notice: Notice, item: Assignment) -> tuple[int, int]:
    """The sentences of the assignment's passage that state its task: a heading with several
    bullets under it is cited by the bullet that concerns this task (the heading is in the
    citation's section)."""
    found = locate_quote(notice.text, item.task, item.start, item.end)
    if found is None:
        return item.start, item.end
    spans = [(s, e) for s, e in sentence_spans(notice.text, item.start, item.end) if s < found[1] and found[0] < e]
    if not spans:
        return item.start, item.end
    return spans[0][0], spans[-1][1]


# Letters written the same with or without diacritics in Vietnamese (every consonant but d/đ).
_PLAIN_LETTERS = frozenset("bcfghjklmnpqrstvwxz0123456789")
# Characters between two syllables of a place name that the first cut allows (a space, '-',
# a line break, "\r\n", " - "); a name split by more is not found.
_MAX_GAP = 3


def _locality_like(locality: str) -> list[str]:
    """``LIKE`` patterns one of which every text naming ``locality`` matches: its plain
    consonants as typed and one character wherever a vowel or d (which may carry a diacritic)
    stands, syllables 1 to ``_MAX_GAP`` characters apart. A cheap first cut inside SQLite;
    the exact check follows."""
    syllables = words(locality)
    if not syllables:
        return []
    parts = ["".join(ch if ch in _PLAIN_LETTERS else "_" for ch in syllable) for syllable in syllables]
    return ["%" + ("_" * gap).join(parts) + "%" for gap in range(1, _MAX_GAP + 1)]


def _summary_date(summary: NoticeSummary) -> str | None:
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


def _title_names_period(summary: NoticeSummary, since: date | None, until: date | None) -> bool:
    """``title_names_period`` on the title column."""
    if summary.title is None or (since is None and until is None):
        return False
    return any(
        (until is None or first <= until) and (since is None or last >= since)
        for first, last in _title_periods(summary.title, _summary_date(summary))
    )


@lru_cache(maxsize=32768)
def _title_periods(title: str, when: str | None) -> tuple[tuple[date, date], ...]:
    """``periods_named`` of a title column, kept between questions: a question naming a
    period reads the title of every stored notice."""
    return tuple(periods_named(title, date.fromisoformat(when) if when else None))


def _summary_allowed(summary: NoticeSummary, routed: RoutedQuestion, filters: Filters | None, dates: bool) -> bool:
    """``AnswerService._allowed`` without the place (which needs the text)."""
    if filters is not None and not filters.is_empty() and not filters.matches(_summary_metadata(summary)):
        return False
    days = [d for d in (summary.meeting_date, summary.issue_date) if d is not None]
    if routed.meeting_on and routed.meeting_on.isoformat() not in days:
        return False
    if dates and (routed.since or routed.until):
        since = routed.since.isoformat() if routed.since else ""
        until = routed.until.isoformat() if routed.until else "9999"
        return any(since <= d <= until for d in days) or _title_names_period(summary, routed.since, routed.until)
    return True


def _bound_after_meeting(notice: Notice | NoticeSummary, day_month: tuple[int, int]) -> date:
    """'trước 31/1' read from a notice's meeting date: the first 31/1 on or after it."""
    when = notice_date(notice) if isinstance(notice, Notice) else _summary_date(notice)
    reference = date.fromisoformat(when) if when else date.today()
    day, month = day_month
    for year in (reference.year, reference.year + 1):
        try:
            bound = date(year, month, day)
        except ValueError:
            bound = date(year, month, 28)
        if bound >= reference:
            return bound
    return bound


def _notice_ref(notice: Notice) -> dict[str, object]:
    return {
        "notice_id": notice.id,
        "source": notice.source,
        "notice_title": notice_title(notice),
        "meeting_date": notice_date(notice),
    }


def _sentence_at(notice: Notice, position: int, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    for s, e in sentence_spans(notice.text, start, len(notice.text) if end is None else end):
        if s <= position < e:
            return s, e
    return None


def _meta_line(notice: Notice, meta: MetaField) -> Line | None:
    text = notice.text
    if meta is MetaField.CHAIR and notice.chair is not None and notice.chair.end > notice.chair.start:
        span = _sentence_at(notice, notice.chair.start) or (notice.chair.start, notice.chair.end)
        who = ", ".join(p for p in (notice.chair.name, notice.chair.position) if p)
        return Line(notice, *span, prefix=f"Chủ trì: {who} — " if who else "")
    if meta is MetaField.SIGNER and notice.signature is not None:
        sig = notice.signature
        who = ", ".join(p for p in (sig.signer, sig.authority, sig.position) if p)
        return Line(notice, sig.start, sig.end, prefix=f"Người ký: {who} — " if who else "")
    if meta is MetaField.NUMBER and notice.number is not None:
        return Line(notice, notice.number.start, notice.number.end)
    if meta is MetaField.MEETING_DATE:
        for value in (notice.meeting_date, notice.issue_date):
            if value is not None and value.end > value.start:
                span = _sentence_at(notice, value.start) or (value.start, value.end)
                label = f"Ngày {value.value:%d/%m/%Y} — " if value.value else ""
                return Line(notice, *span, prefix=label)
        return None
    if meta is MetaField.NOTICES:
        if notice.title is not None and text[notice.title.start : notice.title.end].strip():
            return Line(notice, notice.title.start, notice.title.end)
        first = sentence_spans(text)
        return Line(notice, *first[0]) if first else None
    return None
