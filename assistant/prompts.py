"""Prompts are data: templates live in ``prompts/*.txt``; the sentences tests assert on are here.

The model sees passages inside ``<tai_lieu>`` tags within one ``<du_lieu>`` block. Passage text
is escaped (``&``, ``<``, ``>``), so nothing inside a notice can close a tag or open a new one:
an instruction written in a notice stays data.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

REFUSAL = "Không tìm thấy thông tin này trong các thông báo đã lưu."
"""The exact answer when the stored notices do not hold the answer."""

CITATION_FORMAT = '[{n}] "{quote}"'
"""How every claim cites: the passage number, then the words copied verbatim in quotes."""

CITATION_RE = re.compile(r"\[(\d{1,3})\](?:\s*[:\-–]?\s*[\"“](?P<after>[^\"”\n]{1,600})[\"”])?")
"""A citation in an answer: ``[2] "…"``; the quote is optional (then the claim is checked)."""

RELATED_HEADING = "Đoạn có thể liên quan"
"""Heads the passages of an assignment answer that name the agency but that none of its
records quotes (chat, /api/assignments, the agency view): set apart from the records."""

RELATED_NOTE = "các đoạn nêu tên cơ quan nhưng chưa được trích thành nhiệm vụ; cần đọc nguyên văn để xác nhận"
"""Said right after ``RELATED_HEADING``: these passages are not extracted assignments."""

DATA_TAG = "du_lieu"
PASSAGE_TAG = "tai_lieu"
SUSPECT_TAG = "nghi_la_chi_dan"
"""Marks a sentence of a passage that reads as an instruction to the model (spotlighting)."""


def escape(text: str) -> str:
    """Neutralize anything in a passage that could read as markup (``</tai_lieu>``)."""
    return html.escape(text, quote=True)


def unescape(text: str) -> str:
    return html.unescape(text)


@lru_cache(maxsize=8)
def load_prompt(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")


def system_prompt() -> str:
    return load_prompt("answer_system").format(
        refusal=REFUSAL,
        citation_example=CITATION_FORMAT.format(n=1, quote="câu chép nguyên văn từ đoạn 1"),
        data_tag=DATA_TAG,
        passage_tag=PASSAGE_TAG,
        suspect_tag=SUSPECT_TAG,
    )


def user_prompt(question: str, passages_block: str) -> str:
    return load_prompt("answer_user").format(
        question=escape(question), passages=passages_block, data_tag=DATA_TAG
    )
