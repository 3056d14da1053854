"""The optional LLM path: passages in, an answer with ``[n] "quote"`` citations out, every one
verified against the notice text before it is shown.

Any OpenAI-compatible endpoint works (vLLM, Ollama, llama.cpp server, a hosted API) through
LangChain's ``ChatOpenAI``. Passages are given as escaped data inside tags; the verification
below is what makes the answer trustworthy, not the prompt: a citation whose number was not
given, or whose quote is not in the notice, is removed, and a claim left without a verified
citation is dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.agencies import Gazetteer, get_gazetteer
from assistant.answer.citations import (
    Citation,
    Passage,
    issuer_label,
    locate_quote,
    make_citation,
    notice_date,
    notice_title,
    sentence_spans,
    verify_citation,
    words,
)
from assistant.answer.claims import (
    CLAIM_SUPPORT,
    claim_problem,
    instruction_spans,
    lead_in_allowed,
    overlaps,
    reads_as_instruction,
    sentence_around,
)
from assistant.errors import BackendError
from assistant.prompts import (
    CITATION_FORMAT,
    CITATION_RE,
    PASSAGE_TAG,
    REFUSAL,
    SUSPECT_TAG,
    escape,
    system_prompt,
    unescape,
    user_prompt,
)
from assistant.settings import LLMSettings
from assistant.text import collapse_spaces

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)

_DROPPED_NOTE = "(Đã lược bỏ {k} ý không kiểm chứng được trong các thông báo.)"
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")


def make_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """``ChatOpenAI`` for the configured endpoint, or None when no endpoint is set."""
    if not settings.base_url:
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        base_url=settings.base_url,
        model=settings.model,
        api_key=SecretStr(settings.api_key),
        timeout=settings.timeout_s,
        temperature=settings.temperature,
        max_retries=1,
    )


def render_passages(passages: Sequence[Passage]) -> str:
    """``<tai_lieu so="1" …>escaped text</tai_lieu>`` per passage, numbered from 1."""
    blocks = []
    for n, passage in enumerate(passages, start=1):
        notice = passage.notice
        attrs = {
            "so": str(n),
            "co_quan": issuer_label(notice),
            "thong_bao": notice_title(notice) or notice.source,
            "ngay": notice_date(notice) or "",
            "muc": passage.section,
        }
        rendered = " ".join(f'{k}="{escape(collapse_spaces(v))}"' for k, v in attrs.items() if v)
        blocks.append(f"<{PASSAGE_TAG} {rendered}>\n{_spotlighted(passage)}\n</{PASSAGE_TAG}>")
    return "\n".join(blocks)


def _spotlighted(passage: Passage) -> str:
    """The passage, escaped, with every sentence that reads as an instruction to the model
    inside ``<nghi_la_chi_dan>`` tags: the system prompt says such text is never obeyed nor
    cited, and ``verify_answer`` refuses any citation of it whatever the model does."""
    text = passage.notice.text
    out: list[str] = []
    cursor = passage.start
    for start, end in instruction_spans(text, passage.start, passage.end):
        out.append(escape(text[cursor:start]))
        out.append(f"<{SUSPECT_TAG}>{escape(text[start:end])}</{SUSPECT_TAG}>")
        cursor = end
    out.append(escape(text[cursor : passage.end]))
    return "".join(out)


def build_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [
        SystemMessage(content=system_prompt()),
        HumanMessage(content=user_prompt(question, render_passages(passages))),
    ]


def generate(chat_model: BaseChatModel, messages: list[BaseMessage]) -> str:
    try:
        reply = chat_model.invoke(messages)
    except Exception as exc:  # the client raises many types; the user sees one message
        raise backend_error(exc) from None
    return _content_text(reply.content)


def stream(chat_model: BaseChatModel, messages: list[BaseMessage]) -> Iterator[str]:
    try:
        for chunk in chat_model.stream(messages):
            text = _content_text(chunk.content)
            if text:
                yield text
    except Exception as exc:
        raise backend_error(exc) from None


def backend_error(exc: Exception) -> BackendError:
    """A clean Vietnamese error for a failed call. The upstream's own text never reaches the
    user nor the log: an endpoint may echo the request, API key included, in its error body."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        message = "Mô hình ngôn ngữ không trả lời trong thời gian chờ (llm.timeout_s)."
    elif isinstance(exc, openai.APIConnectionError):
        message = "Không kết nối được tới mô hình ngôn ngữ; kiểm tra địa chỉ llm.base_url."
    elif isinstance(exc, openai.APIStatusError):
        message = (
            f"Lỗi từ mô hình ngôn ngữ (mã {exc.status_code}); kiểm tra địa chỉ, tên mô hình và "
            "khóa truy cập trong cấu hình."
        )
    else:
        message = "Không gọi được mô hình ngôn ngữ."
    log.warning("LLM call failed: %s (%s)", type(exc).__name__, getattr(exc, "status_code", "-"))
    return BackendError(message)


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content if isinstance(p, str | dict))
    return str(content)


@dataclass
class Verified:
    answer: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    dropped: int = 0
    rejected: list[str] = field(default_factory=list)  # why citations were removed (logs)


def verify_answer(raw: str, passages: Sequence[Passage], gazetteer: Gazetteer | None = None) -> Verified:
    """Check every claim of a generated answer and its citations; renumber the good ones.

    A quoted citation must name a given passage and its quote must occur in that notice; an
    unquoted ``[n]`` cites the passage sentence that carries the claim's words. Either way the
    claim's own words must be supported by the cited passage (assistant/answer/claims.py:
    numbers, dates, agencies, negation, wording), and a sentence of a notice that reads as an
    instruction to the model is never a source. A line without a citation is dropped unless
    it is a short lead-in that states no fact."""
    gazetteer = gazetteer or get_gazetteer()
    text = unescape(raw).strip()
    if not text or _is_refusal(text):
        return Verified(answer=REFUSAL, refused=True)
    citations: list[Citation] = []
    by_span: dict[tuple[str, int, int], int] = {}
    kept_claims: list[str] = []
    dropped = 0
    rejected: list[str] = []
    for claim in _claims(text):
        markers = list(CITATION_RE.finditer(claim))
        if not markers:
            if not words(claim) or lead_in_allowed(claim, gazetteer):
                kept_claims.append(claim)
            else:
                dropped += 1
                rejected.append(f"không có trích dẫn: {claim[:80]}")
            continue
        bare_claim = CITATION_RE.sub("", claim)
        if reads_as_instruction(bare_claim):
            dropped += 1
            rejected.append(f"có dạng chỉ dẫn: {claim[:80]}")
            continue
        rebuilt = claim
        good = 0
        for marker in reversed(markers):
            n = int(marker.group(1))
            citation, problem = _check(n, marker.group("after"), bare_claim, passages, gazetteer)
            if citation is None:
                rejected.append(f"[{n}] {problem}")
                rebuilt = rebuilt[: marker.start()] + rebuilt[marker.end() :]
                continue
            key = (citation.notice_id, citation.start, citation.end)
            if key not in by_span:
                citation = citation.model_copy(update={"n": len(citations) + 1})
                citations.append(citation)
                by_span[key] = citation.n
            number = by_span[key]
            replacement = CITATION_FORMAT.format(n=number, quote=collapse_spaces(citation.quote))
            rebuilt = rebuilt[: marker.start()] + replacement + rebuilt[marker.end() :]
            good += 1
        if good:
            kept_claims.append(re.sub(r"[ \t]+([.,;])", r"\1", rebuilt))
        else:
            dropped += 1
    if not citations:
        return Verified(answer=REFUSAL, refused=True, dropped=dropped, rejected=rejected)
    # Numbers were assigned while walking markers backwards inside a claim; renumber by the
    # order a reader meets them.
    answer, citations = _renumber("\n".join(c.rstrip() for c in kept_claims).strip(), citations)
    if dropped:
        answer += "\n\n" + _DROPPED_NOTE.format(k=dropped)
    return Verified(answer=answer, citations=citations, dropped=dropped, rejected=rejected)


class VerifiedStream:
    """Streaming that shows only verified text: deltas are buffered until a line is complete,
    the lines so far are verified like a whole answer, and only what that verified answer
    adds is released. A claim that fails verification is never shown, not even briefly."""

    def __init__(self, passages: Sequence[Passage], gazetteer: Gazetteer | None = None) -> None:
        self.passages = passages
        self.gazetteer = gazetteer or get_gazetteer()
        self.buffer = ""
        self.shown = ""
        self._checked_upto = 0

    def feed(self, delta: str) -> str:
        """The verified text to show after ``delta`` arrived ('' while a line is unfinished)."""
        self.buffer += delta
        complete = self.buffer.rfind("\n") + 1
        if complete <= self._checked_upto:
            return ""
        self._checked_upto = complete
        return self._release(self.buffer[:complete])

    def close(self) -> str:
        """The verified text still to show once the model has finished."""
        return self._release(self.buffer)

    def _release(self, text: str) -> str:
        checked = verify_answer(text, self.passages, self.gazetteer)
        if checked.refused:
            return ""
        body = checked.answer.split("\n\n" + _DROPPED_NOTE.split("{", 1)[0], 1)[0]
        if not body.startswith(self.shown):
            return ""  # never take back what was shown; the final event carries the answer
        new, self.shown = body[len(self.shown) :], body
        return new


def _is_refusal(text: str) -> bool:
    return collapse_spaces(text).rstrip(".") == REFUSAL.rstrip(".") or (
        REFUSAL in text and not CITATION_RE.search(text)
    )


def _check(
    n: int, quote: str | None, claim: str, passages: Sequence[Passage], gazetteer: Gazetteer
) -> tuple[Citation | None, str]:
    """The verified citation ``[n]`` of ``claim``, or None and why not."""
    if not 1 <= n <= len(passages):
        return None, "không có đoạn trích này"
    passage = passages[n - 1]
    notice = passage.notice
    span: tuple[int, int] | None
    if quote:
        span = locate_quote(notice.text, quote, passage.start, passage.end) or locate_quote(notice.text, quote)
    else:
        span = _supporting_sentence(claim, passage)
    if span is None:
        return None, "trích dẫn không có trong thông báo"
    citation = make_citation(n, notice, span[0], span[1], passage.section)
    if not verify_citation(citation, notice):
        return None, "trích dẫn không khớp nguyên văn"
    sentence = sentence_around(notice, span[0], span[1])
    around = (max(0, span[0] - 400), min(len(notice.text), span[1] + 400))
    if overlaps(instruction_spans(notice.text, *around), span[0], span[1]):
        return None, "trích một câu có dạng chỉ dẫn cho mô hình"
    support = "\n".join((passage.section, passage.text, sentence))
    problem = claim_problem(claim, support, sentence, notice, gazetteer, span)
    if problem is not None:
        return None, problem
    return citation, ""


def _supporting_sentence(claim: str, passage: Passage) -> tuple[int, int] | None:
    claim_words = [w for w in words(claim) if len(w) > 1 or w.isdigit()]
    if not claim_words:
        return None
    have = set(words(passage.text)) | set(words(passage.section))
    numbers = _NUMBER.findall(claim)
    if any(num not in passage.text for num in numbers):
        return None
    if sum(w in have for w in claim_words) / len(claim_words) < CLAIM_SUPPORT:
        return None
    best: tuple[int, int] | None = None
    best_hits = 0
    for start, end in sentence_spans(passage.notice.text, passage.start, passage.end):
        sentence = set(words(passage.notice.text[start:end]))
        hits = sum(w in sentence for w in claim_words)
        if hits > best_hits:
            best, best_hits = (start, end), hits
    return best


def _claims(text: str) -> list[str]:
    """Lines, and sentences within a line, without cutting inside a quotation."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        current = ""
        inside = False
        i = 0
        while i < len(line):
            ch = line[i]
            current += ch
            if ch == "“" or (ch == '"' and not inside):
                inside = True
            elif ch == "”" or (ch == '"' and inside):
                inside = False
            elif not inside and ch in ".!?" and i + 1 < len(line) and line[i + 1] == " ":
                rest = line[i + 1 :].lstrip()
                if rest[:1].isupper():
                    out.append(current.strip())
                    current = ""
            i += 1
        if current.strip():
            out.append(current.strip())
    return out


def _renumber(answer: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    order: list[int] = []
    for marker in CITATION_RE.finditer(answer):
        n = int(marker.group(1))
        if n not in order:
            order.append(n)
    mapping = {old: new for new, old in enumerate(order, start=1)}
    by_old = {c.n: c for c in citations}
    renumbered = [by_old[old].model_copy(update={"n": mapping[old]}) for old in order if old in by_old]

    def sub(match: re.Match[str]) -> str:
        old = int(match.group(1))
        return match.group(0).replace(f"[{old}]", f"[{mapping.get(old, old)}]", 1)

    return CITATION_RE.sub(sub, answer), renumbered
