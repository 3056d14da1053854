"""LoadedDocument -> Notice: header fields, section tree, then assignments."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from assistant.errors import ParseError
from assistant.model import Assignment, DocumentKind, LoadedDocument, Notice, content_id
from assistant.parse.header import HeaderFields, parse_header
from assistant.parse.structure import parse_sections

if TYPE_CHECKING:
    from assistant.agencies import Gazetteer

__all__ = ["HeaderFields", "parse_document", "parse_header", "parse_sections"]

log = logging.getLogger(__name__)


def parse_document(doc: LoadedDocument, gazetteer: Gazetteer | None = None) -> Notice:
    """Parse a loaded document into a Notice whose every span indexes ``doc.text``.

    Raises ParseError only for a text that cannot be a notice at all (nothing readable);
    a text without sections, a news article or a foreign-language text is returned with
    the kind it was recognized as.
    """
    text = doc.text
    if not any(ch.isalnum() for ch in text):
        raise ParseError(
            "Văn bản rỗng hoặc không có chữ, không thể phân tích thành thông báo.",
            source=doc.source,
        )
    header = parse_header(text)
    sections = (
        parse_sections(text, header.body_start, header.body_end)
        if header.kind != DocumentKind.NEWS_ARTICLE and header.body_end > header.body_start
        else []
    )
    notice = Notice(
        id=content_id(text),
        source=doc.source,
        format=doc.format,
        text=text,
        kind=header.kind,
        issuer=header.issuer,
        issuer_name=header.issuer_name,
        level=header.level,
        number=header.number,
        place=header.place,
        issue_date=header.issue_date,
        title=header.title,
        meeting_date=header.meeting_date,
        chair=header.chair,
        attendees=header.attendees,
        opening=header.opening,
        sections=sections,
        closing=header.closing,
        recipients=header.recipients,
        signature=header.signature,
        ocr=doc.ocr,
    )
    notice.assignments = _assignments(notice, gazetteer)
    return notice


def _assignments(notice: Notice, gazetteer: Gazetteer | None) -> list[Assignment]:
    """Run the assignment extractor when it is installed; a notice parses without it."""
    try:
        module: Any = importlib.import_module("assistant.parse.assignments")
    except ImportError:
        return []
    extract = getattr(module, "extract_assignments", None)
    if extract is None:
        return []
    if gazetteer is None:
        try:
            agencies: Any = importlib.import_module("assistant.agencies")
            gazetteer = agencies.get_gazetteer()
        except (ImportError, AttributeError):
            return []
    result: list[Assignment] = extract(notice, gazetteer)
    return result
