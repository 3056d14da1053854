"""The data every stage passes along: a loaded document and the Notice parsed from it.

Every extracted value that comes from the document carries ``start``/``end``: character
offsets into ``LoadedDocument.text`` (== ``Notice.text``), so that ``text[start:end]`` is
exactly the passage the value was read from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum

from pydantic import BaseModel, Field

from assistant.text import collapse_spaces, nfc


class DocumentKind(StrEnum):
    NOTICE = "notice"
    NEWS_ARTICLE = "news_article"
    MINUTES = "minutes"  # biên bản họp / làm việc / kiểm tra
    SPEECH = "speech"  # bài phát biểu kết luận of the chair
    DIRECTIVE = "directive"  # công văn 'Kính gửi: …' carrying out a notice
    ROUTING_SLIP = "routing_slip"  # phiếu trình: internal slip to sign a document
    OTHER = "other"


KIND_LABELS: dict[str, str] = {
    "notice": "thông báo",
    "news_article": "bài báo",
    "minutes": "biên bản",
    "speech": "bài phát biểu",
    "directive": "công văn",
    "routing_slip": "phiếu trình",
    "other": "văn bản khác",
}


class Level(StrEnum):
    """Administrative level of an issuing body or of an agency."""

    CENTRAL = "trung_uong"
    PROVINCE = "tinh"
    DISTRICT = "huyen"  # huyện, thành phố/thị xã thuộc tỉnh (abolished from 1/7/2025)
    COMMUNE = "xa"
    UNKNOWN = "khong_ro"


class Role(StrEnum):
    LEAD = "chu_tri"
    COORDINATE = "phoi_hop"
    ASSIGNED = "thuc_hien"  # named responsible without saying lead/coordinate
    REQUEST = "de_nghi"  # asked ('Đề nghị Bộ X …'): a body outside the issuer's hierarchy


class OcrReason(StrEnum):
    SCAN = "scan"  # a PDF without a text layer
    IMAGE = "image"  # a .png/.jpg/.tif file (or an image under a .pdf name)
    BROKEN_LAYER = "broken_layer"  # a PDF whose text layer is not Vietnamese (garbled OCR)


OCR_REASON_LABELS: dict[str, str] = {
    "scan": "bản quét không có lớp chữ",
    "image": "tệp ảnh",
    "broken_layer": "lớp chữ sẵn có bị lỗi (không phải tiếng Việt) nên đã nhận dạng lại",
}


class OcrInfo(BaseModel):
    """How a notice's text was read by OCR; absent when the file had usable text."""

    reason: OcrReason
    confidence: float = Field(description="Mean word confidence of Tesseract, 0-100")
    pages: int
    page_confidences: list[float] = Field(
        default_factory=list, description="Per page, in order; 0 for a page without text"
    )
    low_confidence_pages: list[int] = Field(
        default_factory=list, description="1-based numbers of pages below the confidence setting"
    )
    layer_syllable_share: float | None = Field(
        default=None, description="The replaced text layer's share of Vietnamese syllables"
    )


def ocr_label(info: OcrInfo) -> str:
    """'OCR (tệp ảnh), độ tin cậy 94%; trang có độ tin cậy thấp: 3, 5' for people to read."""
    label = f"OCR ({OCR_REASON_LABELS[info.reason.value]}), độ tin cậy {info.confidence:.0f}%"
    if info.low_confidence_pages:
        label += "; trang có độ tin cậy thấp: " + ", ".join(map(str, info.low_confidence_pages))
    return label


class LoadedDocument(BaseModel):
    source: str = Field(description="Path as given to ingest (or an upload name).")
    format: str = Field(description="txt, md, docx, pdf, doc, rtf, odt, png, jpg or tif.")
    text: str = Field(description="Decoded, NFC, reflowed text; all spans index into it.")
    ocr: OcrInfo | None = Field(default=None, description="Set when the text was read by OCR.")


class Spanned(BaseModel):
    text: str = Field(description="The value exactly as written in the document.")
    start: int
    end: int


class DateValue(Spanned):
    value: dt.date | None = None


class Person(BaseModel):
    name: str | None = None
    position: str | None = None
    start: int
    end: int


class Section(BaseModel):
    number: str | None = Field(default=None, description="'II', '2.3', 'a', or None for bullets")
    marker: str = Field(description="The marker as written: 'II.', '2.3.', '-', '+', '*', 'a)'")
    heading: str | None = Field(default=None, description="Heading line without the marker")
    body: str = Field(default="", description="Text of the section before its first child")
    start: int
    end: int
    heading_start: int | None = None
    heading_end: int | None = None
    children: list[Section] = Field(default_factory=list)

    def walk(self) -> list[Section]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


class Signature(BaseModel):
    authority: str | None = Field(default=None, description="'TL. CHỦ TỊCH', 'KT. CHỦ TỊCH'…")
    position: str | None = None
    signer: str | None = None
    start: int
    end: int


class AgencyRef(BaseModel):
    text: str = Field(description="The mention as written")
    canonical: str | None = Field(default=None, description="Gazetteer name; None if unknown")
    level: Level = Level.UNKNOWN
    is_group: bool = Field(default=False, description="'UBND các xã, phường', 'các Sở, ngành'")
    place: str | None = Field(
        default=None,
        description="The locality named with the body ('Tân Phú' in 'UBND xã Tân Phú', in "
        "'UBND các xã: Tân Phú, Hòa Bình'); with ``canonical`` it identifies the body",
    )
    start: int
    end: int


class Deadline(BaseModel):
    text: str = Field(description="As written, e.g. 'trước ngày 20/01/2024'")
    date: dt.date | None = Field(default=None, description="Due date (end of period for periods)")
    period_start: dt.date | None = None
    recurring: bool = False
    start: int
    end: int


class Assignment(BaseModel):
    agency: AgencyRef
    role: Role
    task: str = Field(description="The task as written (one sentence or bullet)")
    deadline: Deadline | None = None
    section_path: list[str] = Field(default_factory=list, description="Headings from the root")
    start: int = Field(description="Quote span: the passage that assigns the task")
    end: int


class Notice(BaseModel):
    id: str
    source: str
    format: str
    text: str
    kind: DocumentKind = DocumentKind.NOTICE
    issuer: Spanned | None = None
    issuer_name: str | None = Field(
        default=None,
        description="Full readable issuer with its place ('UBND thành phố Nam Định'); not spanned",
    )
    level: Level = Level.UNKNOWN
    number: Spanned | None = None
    place: Spanned | None = None
    issue_date: DateValue | None = None
    title: Spanned | None = None
    meeting_date: DateValue | None = None
    chair: Person | None = None
    attendees: Spanned | None = None
    opening: Spanned | None = Field(default=None, description="Opening paragraph(s)")
    sections: list[Section] = Field(default_factory=list)
    closing: Spanned | None = None
    recipients: list[Spanned] = Field(default_factory=list)
    signature: Signature | None = None
    assignments: list[Assignment] = Field(default_factory=list)
    ocr: OcrInfo | None = Field(default=None, description="Set when the text was read by OCR.")

    def all_sections(self) -> list[Section]:
        out: list[Section] = []
        for section in self.sections:
            out.extend(section.walk())
        return out


def content_id(text: str) -> str:
    """Identity of a notice: the hash of its normalized content, independent of the file name."""
    normalized = collapse_spaces(nfc(text))
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:16]


class OutlineItem(BaseModel):
    """One numbered part or list item of a document to be written (a draft)."""

    marker: str = Field(description="'I.', '1.', '1.1.', '-', '+', 'a)'")
    heading: str | None = Field(default=None, description="Heading text (numbered parts)")
    text: str | None = Field(default=None, description="Paragraph text (list items, bodies)")
    children: list[OutlineItem] = Field(default_factory=list)


class FormalDocument(BaseModel):
    """A notice to be rendered (Markdown/DOCX), laid out as NĐ 30/2020 Phụ lục I expects."""

    issuer_parent: str | None = Field(default=None, description="'UBND TỈNH LAM SƠN'")
    issuer: str = Field(description="'ỦY BAN NHÂN DÂN THỊ XÃ …' or 'VĂN PHÒNG'")
    number: str = Field(default="Số:      /TB-UBND", description="Left blank for the office")
    place_date: str = Field(description="'Lam Sơn, ngày      tháng      năm 2025'")
    doc_type: str = Field(default="THÔNG BÁO")
    title: str = Field(description="Trích yếu")
    opening: list[str] = Field(default_factory=list, description="Opening paragraphs")
    body: list[OutlineItem] = Field(default_factory=list)
    closing: str | None = None
    recipients: list[str] = Field(default_factory=list, description="Lines under 'Nơi nhận:'")
    authority: str | None = Field(default=None, description="'TL. CHỦ TỊCH', 'KT. CHỦ TỊCH'")
    position: str | None = Field(default=None, description="'CHÁNH VĂN PHÒNG'")
    signer: str | None = None
