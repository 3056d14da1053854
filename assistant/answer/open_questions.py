"""The open-questions route: hybrid retrieval over passages within the question's place and
period, then the sentences that answer quoted verbatim (no LLM), or the best passages handed to
the LLM and its answer verified claim by claim; refused when no sentence supports the question."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.answer import llm
from assistant.answer.citations import AnswerResult, Passage
from assistant.answer.context import AnswerContext, notice_ref
from assistant.answer.extractive import Line, pick_sentences, title_names_period
from assistant.answer.route import RoutedQuestion, constraint_free
from assistant.chunk import chunk_notice, notice_metadata
from assistant.retrieve.filters import Filters

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """What answering needs: a finished result, or passages and messages for the LLM."""

    routed: RoutedQuestion
    result: AnswerResult | None = None
    passages: list[Passage] = field(default_factory=list)
    messages: list[BaseMessage] = field(default_factory=list)
    closest: list[dict[str, object]] = field(default_factory=list)


def candidates(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None) -> list[Passage]:
    k = max(ctx.settings.retrieval.top_k * 2, 12)
    # A retriever may say it is unavailable (index could not be opened): scan instead.
    if ctx.retriever is not None and getattr(ctx.retriever, "available", True):
        scored = ctx.retriever.search(routed.effective, k=k, filters=filters)
        return [
            Passage(ctx.notice(s.chunk.notice_id), s.chunk.start, s.chunk.end, " › ".join(s.chunk.heading_path), s.score)
            for s in scored
        ]
    # No index (not built yet): scan the stored notices' passages; fine for a small store.
    passages: list[Passage] = []
    for notice in ctx.store.notices():
        if filters is not None and not filters.is_empty() and not filters.matches(notice_metadata(notice)):
            continue
        ctx.remember(notice.id, notice)
        for chunk in chunk_notice(notice):
            passages.append(Passage(notice, chunk.start, chunk.end, " › ".join(chunk.heading_path)))
    return passages


def plan(ctx: AnswerContext, routed: RoutedQuestion, filters: Filters | None, with_model: bool) -> Plan:
    """The answer when no model is asked (extractive or refused), else the passages and
    messages for the model."""
    out = Plan(routed=routed)
    found = candidates(ctx, routed, filters)
    closest = list({p.notice.id: p.notice for p in found}.values())
    passages = [p for p in found if ctx.passage_allowed(p, routed)]
    if routed.since or routed.until:
        # Notices whose title names the period first (stable: retrieval order otherwise).
        passages.sort(key=lambda p: not title_names_period(p.notice, routed.since, routed.until))
    if not passages:
        out.result = ctx.refuse(routed, closest)
        return out
    # The filters above already hold the question's dates and place.
    topic = constraint_free(routed.effective, routed.locality)
    if with_model:
        # The model gets the best passages in retrieval order (or, without a retriever,
        # the passages holding the best sentences) — and nothing at all when no sentence
        # supports the question: it is refused without asking the model.
        picked = pick_sentences(
            topic, passages, limit=ctx.settings.retrieval.top_k, min_support=ctx.settings.retrieval.min_support
        )
        if not picked:
            out.result = ctx.refuse(routed, closest)
            return out
        if ctx.retriever is None:
            passages = list({id(p.passage): p.passage for p in picked}.values())
        out.passages = passages[: ctx.settings.retrieval.top_k]
        out.messages = llm.build_messages(routed.effective, out.passages)
        out.closest = [notice_ref(n) for n in closest[:3]]
        return out
    picked = pick_sentences(topic, passages, min_support=ctx.settings.retrieval.min_support)
    if not picked:
        out.result = ctx.refuse(routed, closest)
        return out
    lines = [Line(p.passage.notice, p.start, p.end, p.passage.section) for p in picked]
    out.result = ctx.composed(routed, lines)
    return out


def verified(plan: Plan, raw: str) -> AnswerResult:
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
