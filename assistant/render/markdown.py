"""FormalDocument -> plain text laid out like a real notice (readable back by the parser).

Every paragraph, heading and list item is one line, separated from the next by a blank line,
the way the corpus text files are laid out: a blank line is the one paragraph break every
reflow rule agrees on, so nothing here can be glued to its neighbour when the text is loaded
again. Markers stay at the line start, exactly as given; no Markdown decoration is added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.model import FormalDocument, OutlineItem

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
NOI_NHAN = "Nơi nhận:"

# Markers of numbered parts ("I.", "2.", "1.1.", "a)"); bullets ("-", "+", "*") are not numbered.
_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\v\f]+\s*")
_NUMBERED = re.compile(r"^(?:[IVXLCDM]+\.|\d+(?:\.\d+)*\.?|[a-zđ]\))$")


@dataclass(frozen=True)
class OutlineLine:
    """One rendered line of the outline: what both renderers lay out, in order."""

    text: str
    depth: int
    is_heading: bool
    numbered: bool


def one_line(text: str) -> str:
    """A value as one line: inner line breaks would split a paragraph in two when re-read.

    Runs of spaces are kept: ``Số:      /TB-UBND`` leaves room for the office to fill in.
    """
    return _BREAKS.sub(" ", text).strip()


def outline_lines(items: list[OutlineItem], depth: int = 0) -> list[OutlineLine]:
    out: list[OutlineLine] = []
    for item in items:
        marker = one_line(item.marker)
        numbered = bool(_NUMBERED.match(marker))
        heading = one_line(item.heading) if item.heading else ""
        text = one_line(item.text) if item.text else ""
        if heading:
            out.append(OutlineLine(_join(marker, heading), depth, True, numbered))
            if text:
                # The body of a heading is its own paragraph: a marker would make it a new item.
                out.append(OutlineLine(text, depth, False, False))
        else:
            out.append(OutlineLine(_join(marker, text), depth, False, numbered))
        out.extend(outline_lines(item.children, depth + 1))
    return out


def _join(marker: str, text: str) -> str:
    if not marker:
        return text
    return f"{marker} {text}" if text else marker


def render_markdown(doc: FormalDocument) -> str:
    lines: list[str] = []
    if doc.issuer_parent:
        lines.append(one_line(doc.issuer_parent))
    lines.append(one_line(doc.issuer))
    # Row by row, as the Word header table reads (issuer | Quốc hiệu, then number | date):
    # the same order text extraction of real notices gives, and that of render_docx.
    lines.append(QUOC_HIEU)
    lines.append(TIEU_NGU)
    lines.append(one_line(doc.number))
    lines.append(one_line(doc.place_date))
    lines.append(one_line(doc.doc_type))
    lines.append(one_line(doc.title))
    lines.extend(one_line(p) for p in doc.opening if p.strip())
    lines.extend(line.text for line in outline_lines(doc.body))
    if doc.closing:
        lines.append(one_line(doc.closing))
    if doc.recipients:
        lines.append(NOI_NHAN)
        lines.extend(one_line(r) for r in doc.recipients if r.strip())
    for value in (doc.authority, doc.position, doc.signer):
        if value:
            lines.append(one_line(value))
    return "\n\n".join(lines) + "\n"
