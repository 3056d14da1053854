"""Limits checked while a file is extracted, not after (issue 18, part 3): a small file that
expands into a huge text is refused after a bounded amount of work.

The work is counted, never timed: characters pypdf hands out before the refusal, and the peak
Python allocation (tracemalloc) while a .docx is refused.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import docx
import pytest
from pypdf import PageObject, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from assistant.errors import LoadError
from assistant.load import load_bytes
from assistant.settings import LoadSettings
from tests._docx_bytes import with_body_prefix

LINE = "(Cong viec giao cho So Noi vu thuc hien ngay) Tj T* "  # 44 characters of text


def _pdf(pages: int, lines_per_page: int, *, shared: bool) -> bytes:
    """Pages of one text stream each, or (``shared``) all pages pointing at the same stream: a
    few kilobytes of PDF that extract into ``pages × lines × 44`` characters."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject({
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        })
    )

    def stream() -> object:
        raw = DecodedStreamObject()
        raw.set_data(("BT /F1 10 Tf 12 TL 50 800 Td " + LINE * lines_per_page + "ET").encode())
        return writer._add_object(raw.flate_encode())

    one = stream()
    for _ in range(pages):
        page = writer.add_blank_page(595, 842)
        page[NameObject("/Contents")] = one if shared else stream()
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def extracted_chars(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Characters each ``extract_text`` call handed out (the real pypdf call, counted)."""
    counts: list[int] = []
    original = PageObject.extract_text

    def counting(self: PageObject, *args: object, **kwargs: object) -> str:
        count = [0]
        visitor = kwargs.get("visitor_text")

        def visit(text: str, *rest: object) -> None:
            count[0] += len(text)
            if callable(visitor):
                visitor(text, *rest)

        kwargs["visitor_text"] = visit
        try:
            return original(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            counts.append(count[0])

    monkeypatch.setattr(PageObject, "extract_text", counting)
    return counts


def test_a_tiny_pdf_of_pages_sharing_one_huge_stream_is_refused_on_its_first_page(
    extracted_chars: list[int],
) -> None:
    data = _pdf(12, 5_000, shared=True)  # 12 × 220 000 characters from a few kilobytes
    assert len(data) < 20_000
    settings = LoadSettings(max_page_chars=20_000)
    with pytest.raises(LoadError, match="trang 1") as caught:
        load_bytes(data, "chung-mot-luong.pdf", settings)
    assert caught.value.source == "chung-mot-luong.pdf"
    assert len(extracted_chars) == 1, extracted_chars  # the other 11 pages never extracted
    assert extracted_chars[0] < 30_000, extracted_chars  # and the first one cut short


def test_pdf_text_over_the_total_limit_stops_at_the_page_that_crosses_it(
    extracted_chars: list[int],
) -> None:
    data = _pdf(12, 500, shared=False)  # 12 pages × 22 000 characters
    settings = LoadSettings(max_text_chars=50_000)
    with pytest.raises(LoadError, match="quá dài"):
        load_bytes(data, "nhieu-trang.pdf", settings)
    assert len(extracted_chars) == 3, extracted_chars
    assert sum(extracted_chars) <= 50_000 + 1_000, extracted_chars


def test_a_pdf_within_the_limits_still_loads() -> None:
    document = load_bytes(_pdf(3, 20, shared=False), "binh-thuong.pdf")
    assert document.text.count("Cong viec giao cho So Noi vu") == 60


def _docx_with_big_body(paragraphs: int, words: int = 12) -> bytes:
    """A real .docx whose document.xml holds ``paragraphs`` paragraphs of varied text: it
    compresses at an ordinary ratio, so the zip-bomb checks let it through."""
    document = docx.Document()
    document.add_paragraph("THÔNG BÁO")
    buffer = io.BytesIO()
    document.save(buffer)
    vocabulary = ["giao", "Sở", "Nội", "vụ", "chủ", "trì", "phối", "hợp", "báo", "cáo", "trước", "ngày"]
    body = "".join(
        "<w:p><w:r><w:t>"
        + " ".join(vocabulary[(i * 7 + j * 3) % len(vocabulary)] for j in range(words))
        + f" {i}</w:t></w:r></w:p>"
        for i in range(paragraphs)
    )
    return with_body_prefix(buffer.getvalue(), body.encode())


def _peak_while_refused(data: bytes, name: str, settings: LoadSettings, match: str) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(LoadError, match=match) as caught:
            load_bytes(data, name, settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.source == name
    return peak


def _xml_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.getinfo("word/document.xml").file_size


def test_a_docx_part_over_the_part_limit_is_refused_before_it_is_read() -> None:
    data = _docx_with_big_body(30_000)  # ≈ 3 MB of XML
    xml = _xml_size(data)
    settings = LoadSettings(max_docx_part_bytes=1_000_000)
    peak = _peak_while_refused(data, "phan-xml-lon.docx", settings, "phần")
    # Parsing it would allocate many times its size; refusing from the zip directory takes
    # about the size of the (compressed) file itself.
    assert peak < xml / 2, (peak, xml)


def test_a_docx_whose_text_is_over_the_limit_is_refused_while_its_xml_is_streamed() -> None:
    data = _docx_with_big_body(30_000)  # ≈ 2.2 million characters of text
    xml = _xml_size(data)
    settings = LoadSettings(max_text_chars=200_000)
    peak = _peak_while_refused(data, "chu-qua-nhieu.docx", settings, "quá dài")
    assert peak < xml / 2, (peak, xml)


def test_a_docx_within_the_limits_still_loads() -> None:
    document = load_bytes(_docx_with_big_body(50), "binh-thuong.docx")
    assert document.text.endswith("THÔNG BÁO")
    assert document.text.count("\n") == 50
